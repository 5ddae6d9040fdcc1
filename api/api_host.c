/*
 * api_host.c -- the daemon's side of one helper program (api_host.h).
 *
 * Runs inside a daemon process (smtpd's queue and scheduler hosts), on
 * that process's libevent loop: the socket is non-blocking, every
 * request has a timer, the FIFO is bounded, a dead or garbled helper is
 * a temporary failure of what was pending, then a restart after a
 * growing delay.  The only blocking call is the final waitpid of
 * api_host_free, after SIGKILL.  It must never exit, never trust the
 * helper's bytes beyond imsg framing (the protocol's decoder, in the
 * callback, judges the payload), and never wait for the helper.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_host.h"
#include "api_log.h"

#define API_HOST_REAP_MS	10	/* between reaping tries */
#define API_HOST_REAP_TRIES	500	/* then the PID is let go, logged */

struct api_host;

struct api_host_req {
	TAILQ_ENTRY(api_host_req)	 entry;
	struct api_host			*h;
	uint32_t			 type;
	int				 fd;
	void				*data;
	size_t				 len;
	api_host_done_fn		 done;
	void				*arg;
	struct event			*timer;
	int				 hello;		/* the handshake */
};
TAILQ_HEAD(api_host_fifo, api_host_req);

/* a killed helper not reaped yet */
struct api_host_reap {
	LIST_ENTRY(api_host_reap)	 entry;
	struct api_host			*h;
	pid_t				 pid;
	int				 tries;
	struct event			*timer;
};
LIST_HEAD(api_host_reaps, api_host_reap);

enum api_host_state {
	API_HOST_STOPPED,	/* no helper; the next request starts one */
	API_HOST_RUNNING,
	API_HOST_BACKOFF,	/* broken: requests fail until the timer */
	API_HOST_CLOSING,	/* api_host_free in progress */
};

struct api_host {
	struct event_base	*base;
	struct api_host_params	 p;
	enum api_host_state	 state;
	unsigned int		 gen;		/* bumped at start, stop */
	pid_t			 pid;
	int			 sock;
	struct imsgbuf		 ib;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_backoff;
	struct api_host_fifo	 fifo;
	size_t			 nqueued;	/* requests, not the hello */
	int			 inflight;	/* the head was sent */
	int			 backoff_ms;
	unsigned int		 starts;
	struct api_host_reaps	 reaps;
	/* the parameters' strings, owned */
	char			*name;
	char			*path;
	char			**argv;
	void			*hello;
};

static void	api_host_fail(struct api_host *, const char *);
static void	api_host_send_next(struct api_host *);

/* api_host_ms - a timeval of MS milliseconds */
static struct timeval
api_host_ms(int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* api_host_req_free - a request out of the FIFO, released */
static void
api_host_req_free(struct api_host_req *req)
{
	if (req->timer != NULL)
		event_free(req->timer);
	if (req->fd != -1)
		close(req->fd);
	free(req->data);
	free(req);
}

/* api_host_complete - take REQ off the FIFO and call its completion */
static int
api_host_complete(struct api_host *h, struct api_host_req *req,
    struct imsg *reply)
{
	int	rc = 0;

	if (req == TAILQ_FIRST(&h->fifo))
		h->inflight = 0;
	TAILQ_REMOVE(&h->fifo, req, entry);
	if (!req->hello)
		h->nqueued--;
	if (req->done != NULL)
		rc = req->done(req->arg, reply);
	api_host_req_free(req);
	return rc;
}

/* api_host_on_reap - try to reap a killed helper, again later if need be */
static void
api_host_on_reap(int fd, short ev, void *arg)
{
	struct api_host_reap	*r = arg;
	struct timeval		 tv = api_host_ms(API_HOST_REAP_MS);
	pid_t			 got;
	int			 status;

	got = waitpid(r->pid, &status, WNOHANG);
	if (got == 0 && ++r->tries < API_HOST_REAP_TRIES) {
		evtimer_add(r->timer, &tv);
		return;
	}
	if (got == 0)
		api_log_warnx("%s: pid %ld not reaped", r->h->p.name,
		    (long)r->pid);
	LIST_REMOVE(r, entry);
	event_free(r->timer);
	free(r);
}

/* api_host_stop - close the channel, kill the helper, reap it later */
static void
api_host_stop(struct api_host *h)
{
	struct api_host_reap	*r;
	struct timeval		 tv = api_host_ms(0);

	h->gen++;
	if (h->ev_read != NULL)
		event_free(h->ev_read);
	if (h->ev_write != NULL)
		event_free(h->ev_write);
	h->ev_read = h->ev_write = NULL;
	if (h->sock != -1) {
		imsgbuf_clear(&h->ib);
		close(h->sock);
		h->sock = -1;
	}
	h->inflight = 0;
	if (h->pid <= 0) {		/* never a group, never -1 */
		h->pid = -1;
		return;
	}
	(void)kill(h->pid, SIGKILL);
	if ((r = calloc(1, sizeof *r)) == NULL ||
	    (r->timer = evtimer_new(h->base, api_host_on_reap, r)) == NULL) {
		/* SIGKILL was sent: this wait is short */
		api_log_warn("%s: reaping pid %ld now", h->p.name,
		    (long)h->pid);
		free(r);
		(void)waitpid(h->pid, NULL, 0);
	} else {
		r->h = h;
		r->pid = h->pid;
		LIST_INSERT_HEAD(&h->reaps, r, entry);
		evtimer_add(r->timer, &tv);
	}
	h->pid = -1;
}

/* api_host_fail_all - complete every pending request as a failure */
static void
api_host_fail_all(struct api_host *h)
{
	struct api_host_req	*req;

	while ((req = TAILQ_FIRST(&h->fifo)) != NULL)
		(void)api_host_complete(h, req, NULL);
}

/* api_host_on_backoff - the delay is over: the next request starts it */
static void
api_host_on_backoff(int fd, short ev, void *arg)
{
	struct api_host	*h = arg;

	if (h->state == API_HOST_BACKOFF)
		h->state = API_HOST_STOPPED;
}

/* api_host_fail - the helper misbehaved: stop it, fail what is pending,
 * refuse requests for a growing delay */
static void
api_host_fail(struct api_host *h, const char *why)
{
	struct timeval	tv;

	if (h->state != API_HOST_RUNNING)
		return;
	h->backoff_ms = h->backoff_ms == 0 ? h->p.backoff_min_ms :
	    h->backoff_ms * 2;
	if (h->backoff_ms > h->p.backoff_max_ms)
		h->backoff_ms = h->p.backoff_max_ms;
	api_log_warnx("%s: pid %ld %s: temporary failure of %zu request(s), "
	    "restart in %d ms", h->p.name, (long)h->pid, why, h->nqueued,
	    h->backoff_ms);
	api_host_stop(h);
	h->state = API_HOST_BACKOFF;
	tv = api_host_ms(h->backoff_ms);
	evtimer_add(h->ev_backoff, &tv);
	api_host_fail_all(h);
}

/* api_host_flush - write what the socket takes, the rest on EV_WRITE */
static void
api_host_flush(struct api_host *h)
{
	switch (imsgbuf_write(&h->ib)) {
	case 1:
		event_del(h->ev_write);
		break;
	case 0:
		event_add(h->ev_write, NULL);
		break;
	default:
		api_host_fail(h, errno == EPIPE ? "is gone" : "write failed");
		break;
	}
}

static void
api_host_on_write(int fd, short ev, void *arg)
{
	api_host_flush(arg);
}

/* api_host_send_next - the head of the FIFO to the helper, if idle */
static void
api_host_send_next(struct api_host *h)
{
	struct api_host_req	*req;

	while (h->state == API_HOST_RUNNING && !h->inflight &&
	    (req = TAILQ_FIRST(&h->fifo)) != NULL) {
		if (imsg_compose(&h->ib, req->type, 0, req->fd, req->data,
		    req->len) == -1) {
			/* ours, not the helper's: only this one fails */
			req->fd = -1;	/* closed by imsg_compose */
			api_log_warn("%s: request of type %u not sent",
			    h->p.name, req->type);
			(void)api_host_complete(h, req, NULL);
			continue;
		}
		req->fd = -1;		/* the buffer's now */
		h->inflight = 1;
		api_host_flush(h);
	}
}

/* api_host_on_read - replies, each to the request in flight */
static void
api_host_on_read(int fd, short ev, void *arg)
{
	struct api_host		*h = arg;
	struct api_host_req	*req;
	struct imsg		 imsg;
	ssize_t			 n;
	unsigned int		 gen = h->gen;
	int			 r, hello;

	if ((n = imsgbuf_read(&h->ib)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		api_host_fail(h, "read failed");
		return;
	}
	if (n == 0) {
		api_host_fail(h, "closed its channel");
		return;
	}
	for (;;) {
		if ((r = imsg_get(&h->ib, &imsg)) == 0)
			break;
		if (r == -1) {
			api_host_fail(h, "sent a bad frame");
			return;
		}
		req = TAILQ_FIRST(&h->fifo);
		if (req == NULL || !h->inflight ||
		    imsg.hdr.type != h->p.ok_type) {
			imsg_free(&imsg);
			api_host_fail(h, req == NULL || !h->inflight ?
			    "answered a request never sent" :
			    "answered with a wrong type");
			return;
		}
		hello = req->hello;
		r = api_host_complete(h, req, &imsg);
		imsg_free(&imsg);
		if (h->gen != gen)
			return;		/* the callback's request broke it */
		if (r == -1) {
			api_host_fail(h, "sent a reply that does not decode");
			return;
		}
		if (!hello)
			h->backoff_ms = 0;	/* it works */
	}
	api_host_send_next(h);
}

/* api_host_on_timeout - a request waited too long */
static void
api_host_on_timeout(int fd, short ev, void *arg)
{
	struct api_host_req	*req = arg;
	struct api_host		*h = req->h;

	if (req == TAILQ_FIRST(&h->fifo) && h->inflight) {
		api_host_fail(h, req->hello ? "did not answer the handshake" :
		    "did not answer in time");
		return;
	}
	api_log_warnx("%s: request of type %u waited %d ms: temporary "
	    "failure", h->p.name, req->type, h->p.timeout_ms);
	(void)api_host_complete(h, req, NULL);
}

/* api_host_on_hello - the handshake's reply */
static int
api_host_on_hello(void *arg, struct imsg *reply)
{
	struct api_host	*h = arg;

	if (reply == NULL || h->p.hello_ok == NULL)
		return 0;
	return h->p.hello_ok(reply);
}

/* api_host_new_req - a request with its timer; NULL (logged) */
static struct api_host_req *
api_host_new_req(struct api_host *h, uint32_t type, int fd,
    const void *data, size_t len, api_host_done_fn done, void *arg)
{
	struct api_host_req	*req;
	struct timeval		 tv = api_host_ms(h->p.timeout_ms);

	if ((req = calloc(1, sizeof *req)) == NULL)
		goto fail;
	req->h = h;
	req->type = type;
	req->fd = fd;
	req->done = done;
	req->arg = arg;
	if (len > 0 && ((req->data = malloc(len)) == NULL))
		goto fail;
	if (len > 0)
		memcpy(req->data, data, len);
	req->len = len;
	if ((req->timer = evtimer_new(h->base, api_host_on_timeout, req)) ==
	    NULL)
		goto fail;
	evtimer_add(req->timer, &tv);
	return req;
fail:
	api_log_warn("%s: request", h->p.name);
	if (req != NULL) {
		req->fd = -1;
		api_host_req_free(req);
	}
	return NULL;
}

/* api_host_exec - in the child: fd 0 the channel, signals as new, exec */
static void
api_host_exec(struct api_host *h, int sock)
{
	sigset_t	set;
	int		sig;

	if (dup2(sock, 0) == -1)
		_exit(127);
	/* nothing of the daemon's but the channel: no peer's socket kept
	 * open by a helper that outlives its host */
	closefrom(3);
	/* dispositions the daemon set (ignored TERM, HUP, INT) go */
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	execv(h->p.path, h->p.argv);
	_exit(127);
}

/* api_host_start - the helper, its channel and its handshake */
static void
api_host_start(struct api_host *h)
{
	struct api_host_req	*hello;
	int			 sv[2];
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		api_log_warn("%s: socketpair", h->p.name);
		goto fail;
	}
	if ((pid = fork()) == -1) {
		api_log_warn("%s: fork", h->p.name);
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (pid == 0)
		api_host_exec(h, sv[1]);
	close(sv[1]);
	h->pid = pid;
	h->sock = sv[0];
	h->state = API_HOST_RUNNING;
	h->gen++;
	h->starts++;
	if (fcntl(h->sock, F_SETFL, fcntl(h->sock, F_GETFL) | O_NONBLOCK) ==
	    -1 || imsgbuf_init(&h->ib, h->sock) == -1) {
		api_log_warn("%s: channel", h->p.name);
		close(h->sock);
		h->sock = -1;
		api_host_fail(h, "has no channel");
		return;
	}
	if ((h->ev_read = event_new(h->base, h->sock, EV_READ | EV_PERSIST,
	    api_host_on_read, h)) == NULL || (h->ev_write = event_new(h->base,
	    h->sock, EV_WRITE, api_host_on_write, h)) == NULL) {
		api_log_warn("%s: events", h->p.name);
		api_host_fail(h, "has no events");
		return;
	}
	event_add(h->ev_read, NULL);
	api_log_debug("%s: started pid %ld", h->p.name, (long)pid);
	if ((hello = api_host_new_req(h, h->p.hello_type, -1, h->p.hello,
	    h->p.hellolen, api_host_on_hello, h)) == NULL) {
		api_host_fail(h, "has no handshake");
		return;
	}
	hello->hello = 1;
	TAILQ_INSERT_HEAD(&h->fifo, hello, entry);
	api_host_send_next(h);
	return;
fail:
	/* as if it had started and failed: the same delay, the same log */
	h->state = API_HOST_RUNNING;
	api_host_fail(h, "cannot start");
}

/* api_host_copy_params - own copies of the name, path, argv, hello */
static int
api_host_copy_params(struct api_host *h, const struct api_host_params *p)
{
	size_t	n, i;

	for (n = 0; p->argv[n] != NULL; n++)
		;
	h->p.name = NULL;
	h->p.path = NULL;
	h->p.argv = NULL;
	h->p.hello = NULL;
	if ((h->name = strdup(p->name)) == NULL ||
	    (h->path = strdup(p->path)) == NULL ||
	    (h->argv = calloc(n + 1, sizeof *h->argv)) == NULL ||
	    (p->hellolen > 0 && (h->hello = malloc(p->hellolen)) == NULL))
		return -1;
	for (i = 0; i < n; i++)
		if ((h->argv[i] = strdup(p->argv[i])) == NULL)
			return -1;
	if (p->hellolen > 0)
		memcpy(h->hello, p->hello, p->hellolen);
	h->p.name = h->name;
	h->p.path = h->path;
	h->p.argv = h->argv;
	h->p.hello = h->hello;
	return 0;
}

/* api_host_free_params - the copies of api_host_copy_params */
static void
api_host_free_params(struct api_host *h)
{
	size_t	i;

	for (i = 0; h->argv != NULL && h->argv[i] != NULL; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h->name);
	free(h->path);
	free(h->hello);
}

struct api_host *
api_host_new(struct event_base *base, const struct api_host_params *p)
{
	struct api_host	*h;

	if ((h = calloc(1, sizeof *h)) == NULL) {
		api_log_warn("%s: host", p->name);
		return NULL;
	}
	h->base = base;
	h->p = *p;
	/* the caller's strings need not outlive this call */
	if (api_host_copy_params(h, p) == -1) {
		api_log_warn("%s: host", p->name);
		api_host_free_params(h);
		free(h);
		return NULL;
	}
	if (h->p.backoff_min_ms <= 0)
		h->p.backoff_min_ms = 1000;
	if (h->p.backoff_max_ms < h->p.backoff_min_ms)
		h->p.backoff_max_ms = h->p.backoff_min_ms;
	h->pid = -1;
	h->sock = -1;
	TAILQ_INIT(&h->fifo);
	LIST_INIT(&h->reaps);
	/* the channel's events are made at each start */
	if ((h->ev_backoff = evtimer_new(base, api_host_on_backoff, h)) ==
	    NULL) {
		api_log_warn("%s: host", p->name);
		api_host_free_params(h);
		free(h);
		return NULL;
	}
	return h;
}

void
api_host_request(struct api_host *h, uint32_t type, int fd,
    const void *data, size_t len, api_host_done_fn done, void *arg)
{
	struct api_host_req	*req;

	if (h->state == API_HOST_BACKOFF || h->state == API_HOST_CLOSING ||
	    h->nqueued >= h->p.fifo_max) {
		if (h->nqueued >= h->p.fifo_max)
			api_log_warnx("%s: %zu requests waiting: temporary "
			    "failure", h->p.name, h->nqueued);
		if (fd != -1)
			close(fd);
		(void)done(arg, NULL);
		return;
	}
	if ((req = api_host_new_req(h, type, fd, data, len, done, arg)) ==
	    NULL) {
		if (fd != -1)
			close(fd);
		(void)done(arg, NULL);
		return;
	}
	TAILQ_INSERT_TAIL(&h->fifo, req, entry);
	h->nqueued++;
	if (h->state == API_HOST_STOPPED)
		api_host_start(h);
	else
		api_host_send_next(h);
}

long
api_host_pid(const struct api_host *h)
{
	return h->pid;
}

unsigned int
api_host_starts(const struct api_host *h)
{
	return h->starts;
}

void
api_host_free(struct api_host **hp)
{
	struct api_host		*h = *hp;
	struct api_host_reap	*r;

	if (h == NULL)
		return;
	h->state = API_HOST_CLOSING;
	api_host_fail_all(h);
	api_host_stop(h);
	/* the stop is final: wait for what was killed, by PID */
	while ((r = LIST_FIRST(&h->reaps)) != NULL) {
		if (waitpid(r->pid, NULL, 0) == -1 && errno != ECHILD)
			api_log_warn("%s: waitpid %ld", h->p.name,
			    (long)r->pid);
		LIST_REMOVE(r, entry);
		event_free(r->timer);
		free(r);
	}
	event_free(h->ev_backoff);
	api_host_free_params(h);
	free(h);
	*hp = NULL;
}
