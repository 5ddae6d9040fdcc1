/*
 * api_host.c -- the daemon's side of one helper program (api_host.h).
 *
 * Runs inside daemon processes (lookup's table helpers, the queue's and
 * the scheduler's backends), on that process's libevent loop: the socket
 * is non-blocking, every request has a timer from its queuing (its
 * caller's patience) and the request in flight one more from its sending
 * (the helper's health), the FIFO is bounded, and a dead, hung or garbled
 * helper is logged with the host's name, killed by its PID, reaped on
 * SIGCHLD with its real end logged, and restarted after a growing delay.
 * It never waits: waitpid only with WNOHANG on the PIDs it started,
 * except in api_host_free after SIGKILL.  It never exits, never signals
 * a PID it did not start (never 0 or -1), and never trusts the helper's
 * bytes beyond imsg framing: the protocol's decoder, in the callback,
 * judges the payload.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_host.h"
#include "api_log.h"

#define API_HOST_DYING_MAX	8	/* killed helpers not reaped yet */
#define API_HOST_STOP_WAIT_MS	1000
#define API_HOST_LINE_MAX	16384	/* lines mode, when not given */

/* one request: queued, then in flight, then answered or timed out */
struct api_host_req {
	TAILQ_ENTRY(api_host_req)	 entry;
	struct api_host			*h;
	uint32_t			 type;
	int				 fd;
	void				*data;
	size_t				 len;
	api_host_done_fn		 done;	/* NULL once completed */
	void				*arg;
	struct event			*timer;
};
TAILQ_HEAD(api_host_fifo, api_host_req);

enum api_host_state {
	API_HOST_STOPPED,	/* never started: a request starts it */
	API_HOST_STARTING,	/* the handshake sent, not answered */
	API_HOST_READY,
	API_HOST_BACKOFF,	/* down: requests fail until the restart */
	API_HOST_CLOSED,	/* api_host_close: no more requests */
};

/* how far api_host_close has gone with the helpers left */
enum api_host_stop {
	API_HOST_STOP_BYE,	/* goodbye and EOF sent, no signal yet */
	API_HOST_STOP_TERM,	/* SIGTERM sent */
	API_HOST_STOP_KILL	/* SIGKILL sent */
};

struct api_host {
	struct event_base	*base;
	struct api_host_params	 p;
	enum api_host_state	 state;
	unsigned int		 gen;		/* bumped at start, stop */
	pid_t			 pid;		/* -1 when none runs */
	int			 sock;		/* our end, -1 when none */
	struct imsgbuf		 ib;
	/* lines mode: bytes read, the line handed on, bytes to write */
	char			*lbuf;
	size_t			 llen;
	char			*line;
	char			*wbuf;
	size_t			 wlen;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_reply;	/* the helper's answer is due */
	struct event		*ev_restart;
	struct event		*ev_child;	/* SIGCHLD */
	struct event		*ev_stop;	/* a grace of the stop is over */
	struct api_host_fifo	 fifo;		/* not sent yet */
	size_t			 nfifo;
	struct api_host_req	*inflight;	/* sent, not answered */
	size_t			 waiting;	/* callers not completed */
	int			 full_logged;
	unsigned int		 nexpired;	/* queued requests timed out */
	int			 delay_ms;	/* the next restart delay */
	unsigned int		 starts;
	pid_t			 dying[API_HOST_DYING_MAX];
	int			 dying_loud[API_HOST_DYING_MAX];
	size_t			 ndying;
	int			 stop_stage;	/* at close: API_HOST_STOP_* */
	api_host_stopped_fn	 stopped;
	void			*stopped_arg;
	/* the parameters' strings, owned */
	char			*name;
	char			*path;
	char			*hello_name;
	char			*hello_hint;
	int			 hinted;	/* hello_hint logged */
	char			**argv;
	void			*hello;
};

static void	api_host_kick(struct api_host *);
static void	api_host_spawn(struct api_host *);

/* api_host_ms - a timeval of MS milliseconds */
static struct timeval
api_host_ms(int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* api_host_kill - SIG to a helper's PID; never a group, never -1 */
static void
api_host_kill(struct api_host *h, pid_t pid, int sig)
{
	if (pid <= 1) {
		api_log_warnx("%s: refusing to signal pid %ld", h->p.name,
		    (long)pid);
		return;
	}
	(void)kill(pid, sig);
}

/* api_host_status - "exited 1", "killed by signal 9" */
static void
api_host_status(int status, char *buf, size_t bufsz)
{
	if (WIFEXITED(status))
		snprintf(buf, bufsz, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, bufsz, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, bufsz, "status 0x%x", status);
}

/* api_host_reap - reap PID if it has ended; never waits */
static int
api_host_reap(pid_t pid, int *status)
{
	pid_t	r;

	if (pid <= 0)
		return 1;
	do {
		r = waitpid(pid, status, WNOHANG);
	} while (r == -1 && errno == EINTR);
	/* ECHILD: someone else reaped it; it is gone all the same */
	return r == pid || (r == -1 && errno == ECHILD);
}

/* api_host_dying_drop - forget the Ith killed helper */
static void
api_host_dying_drop(struct api_host *h, size_t i)
{
	h->ndying--;
	h->dying[i] = h->dying[h->ndying];
	h->dying_loud[i] = h->dying_loud[h->ndying];
}

/* api_host_reap_dying - reap what was killed; 1 when none is left */
static int
api_host_reap_dying(struct api_host *h)
{
	char	st[64];
	size_t	i = 0;
	int	status = 0;

	while (i < h->ndying) {
		if (!api_host_reap(h->dying[i], &status)) {
			i++;
			continue;
		}
		api_host_status(status, st, sizeof st);
		/* a failed helper's end, not known when it was logged */
		if (h->dying_loud[i])
			api_log_warnx("%s: helper pid %ld %s", h->p.name,
			    (long)h->dying[i], st);
		else
			api_log_debug("%s: helper pid %ld reaped (%s)",
			    h->p.name, (long)h->dying[i], st);
		api_host_dying_drop(h, i);
	}
	return h->ndying == 0;
}

/* api_host_bury - PID was signalled: reap now or on SIGCHLD; LOUD logs
 * its end as a warning */
static void
api_host_bury(struct api_host *h, pid_t pid, int loud)
{
	int	status;

	if (api_host_reap(pid, &status))
		return;
	if (h->ndying == API_HOST_DYING_MAX) {
		/* SIGCHLD reaps between restarts: this takes a wild loop */
		api_host_kill(h, h->dying[0], SIGKILL);
		api_log_warnx("%s: %d helpers not reaped yet, pid %ld is left "
		    "to exit on its own", h->p.name, API_HOST_DYING_MAX,
		    (long)h->dying[0]);
		api_host_dying_drop(h, 0);
	}
	h->dying_loud[h->ndying] = loud;
	h->dying[h->ndying++] = pid;
}

/* api_host_req_free - release a request, its timer and its fd */
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

/* api_host_complete - answer a request's caller, once */
static int
api_host_complete(struct api_host_req *req, struct imsg *reply)
{
	struct api_host		*h = req->h;
	api_host_done_fn	 done = req->done;

	if (done == NULL)
		return 0;
	req->done = NULL;
	h->waiting--;
	if (h->waiting < h->p.fifo_max / 2)
		h->full_logged = 0;
	return done(req->arg, reply);
}

/* api_host_expired_log - the FIFO drained: how many timed out in it */
static void
api_host_expired_log(struct api_host *h)
{
	if (h->nexpired > 1)
		api_log_warnx("%s: %u requests in all timed out waiting for "
		    "the helper", h->p.name, h->nexpired);
	h->nexpired = 0;
}

/* api_host_fail_all - every request waiting on H fails (NULL) */
static void
api_host_fail_all(struct api_host *h)
{
	struct api_host_fifo	 q;
	struct api_host_req	*req;

	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &h->fifo, entry);
	h->nfifo = 0;
	api_host_expired_log(h);
	if (h->inflight != NULL) {
		TAILQ_INSERT_HEAD(&q, h->inflight, entry);
		h->inflight = NULL;
	}
	/* detached first: a completion may queue a new request on H */
	while ((req = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, req, entry);
		(void)api_host_complete(req, NULL);
		api_host_req_free(req);
	}
}

/* api_host_channel_close - drop our end of the helper's socket */
static void
api_host_channel_close(struct api_host *h)
{
	if (h->ev_read != NULL)
		event_free(h->ev_read);
	if (h->ev_write != NULL)
		event_free(h->ev_write);
	h->ev_read = h->ev_write = NULL;
	evtimer_del(h->ev_reply);
	if (h->sock != -1) {
		imsgbuf_clear(&h->ib);
		close(h->sock);
		h->sock = -1;
	}
	free(h->wbuf);
	h->wbuf = NULL;
	h->wlen = h->llen = 0;
}

/*
 * api_host_fail - the helper misbehaved or died: log WHY with the host's
 * name, kill and reap it, fail what waits on it and schedule a restart
 * after the current delay, which then doubles.
 */
static void
api_host_fail(struct api_host *h, const char *why)
{
	struct timeval	tv;
	char		st[64] = "killed";
	int		status;

	if (h->state == API_HOST_CLOSED || h->state == API_HOST_BACKOFF)
		return;
	api_host_channel_close(h);
	if (h->pid != -1) {
		if (api_host_reap(h->pid, &status))
			api_host_status(status, st, sizeof st);
		else {
			api_host_kill(h, h->pid, SIGKILL);
			api_host_bury(h, h->pid, 1);
		}
	}
	api_log_warnx("%s: helper %s pid %ld: %s (%s); restart in %d ms",
	    h->p.name, h->p.path, (long)h->pid, why, st, h->delay_ms);
	if (h->state == API_HOST_STARTING && h->pid != -1 &&
	    h->p.hello_hint != NULL && !h->hinted) {
		api_log_warnx("%s: %s", h->p.name, h->p.hello_hint);
		h->hinted = 1;
	}
	h->pid = -1;
	h->gen++;
	h->state = API_HOST_BACKOFF;
	tv = api_host_ms(h->delay_ms);
	evtimer_add(h->ev_restart, &tv);
	h->delay_ms = h->delay_ms > h->p.backoff_max_ms / 2 ?
	    h->p.backoff_max_ms : h->delay_ms * 2;
	api_host_fail_all(h);
}

/* api_host_lines_write - lines mode: 1 all written, 0 more to write,
 * -1 error (errno) */
static int
api_host_lines_write(struct api_host *h)
{
	ssize_t	n;

	while (h->wlen > 0) {
		n = send(h->sock, h->wbuf, h->wlen, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		memmove(h->wbuf, h->wbuf + n, h->wlen - (size_t)n);
		h->wlen -= (size_t)n;
	}
	return 1;
}

/* api_host_pending - bytes of the helper's read and not handed on */
static int
api_host_pending(const struct api_host *h)
{
	return h->p.lines ? h->llen > 0 : h->ib.rlen != h->ib.rpos;
}

/* api_host_flush - write what the socket takes, the rest on EV_WRITE */
static void
api_host_flush(struct api_host *h)
{
	switch (h->p.lines ? api_host_lines_write(h) :
	    imsgbuf_write(&h->ib)) {
	case 1:
		event_del(h->ev_write);
		break;
	case 0:
		event_add(h->ev_write, NULL);
		break;
	default:
		api_host_fail(h, errno == EPIPE ? "closed its socket" :
		    "write failed");
		break;
	}
}

/* api_host_on_write - the socket takes more output */
static void
api_host_on_write(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	api_host_flush(arg);
}

/* api_host_send - one frame out, and the timer of its answer */
static int
api_host_send(struct api_host *h, uint32_t type, int fd, const void *data,
    size_t len)
{
	struct timeval	tv = api_host_ms(h->p.timeout_ms);
	char		*nw;

	if (h->p.lines) {
		if (fd != -1) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if ((nw = realloc(h->wbuf, h->wlen + len)) == NULL)
			return -1;
		h->wbuf = nw;
		memcpy(h->wbuf + h->wlen, data, len);
		h->wlen += len;
	} else if (imsg_compose(&h->ib, type, 0, fd, data, len) == -1)
		return -1;
	evtimer_add(h->ev_reply, &tv);
	api_host_flush(h);
	return 0;
}

/* api_host_kick - send the head of the FIFO if the helper is free */
static void
api_host_kick(struct api_host *h)
{
	struct api_host_req	*req;
	unsigned int		 gen = h->gen;
	int			 fd;

	while (h->state == API_HOST_READY && h->inflight == NULL &&
	    (req = TAILQ_FIRST(&h->fifo)) != NULL) {
		TAILQ_REMOVE(&h->fifo, req, entry);
		if (--h->nfifo == 0)
			api_host_expired_log(h);
		h->inflight = req;
		/*
		 * The fd is the frame's from here on, sent or not.  A send
		 * may flush, fail the helper and free req: never touch req
		 * after a successful send.
		 */
		fd = req->fd;
		req->fd = -1;
		if (api_host_send(h, req->type, fd, req->data, req->len) == 0)
			return;
		/* ours, not the helper's: only this one fails */
		h->inflight = NULL;
		api_log_warn("%s: request of type %u not sent", h->p.name,
		    req->type);
		(void)api_host_complete(req, NULL);
		api_host_req_free(req);
		if (h->gen != gen)
			return;
	}
}

/* api_host_on_hello - the handshake's answer: the helper is ready */
static void
api_host_on_hello(struct api_host *h, struct imsg *imsg)
{
	char	why[64];
	int	r = 0;

	if (h->p.hello_more != NULL)
		r = h->p.hello_more(h->p.hello_arg, imsg);
	else if (h->p.hello_ok != NULL)
		r = h->p.hello_ok(imsg) == -1 ? -1 : 0;
	if (r == 1)
		return;		/* more to come, within the same timer */
	evtimer_del(h->ev_reply);
	if (r == -1) {
		snprintf(why, sizeof why, "bad answer to %s", h->p.hello_name);
		api_host_fail(h, why);
		return;
	}
	if (api_host_pending(h)) {
		api_host_fail(h, "sent data nobody asked for");
		return;
	}
	h->state = API_HOST_READY;
	api_log_debug("%s: helper pid %ld ready", h->p.name, (long)h->pid);
	api_host_kick(h);
}

/* api_host_on_reply - the answer to the request in flight */
static void
api_host_on_reply(struct api_host *h, struct imsg *imsg)
{
	struct api_host_req	*req = h->inflight;
	unsigned int		 gen;
	int			 extra, asked = req->done != NULL, r;

	h->inflight = NULL;
	evtimer_del(h->ev_reply);
	/* one request, one reply: anything more is a protocol error */
	if ((extra = api_host_pending(h)))
		api_host_fail(h, "sent data nobody asked for");
	gen = h->gen;
	if (!asked)
		api_log_debug("%s: a reply after its timeout, dropped",
		    h->p.name);
	r = api_host_complete(req, imsg);
	api_host_req_free(req);
	if (extra || h->gen != gen)
		return;		/* failed, or the callback closed it */
	if (r == -1) {
		api_host_fail(h, "answered garbage");
		return;
	}
	if (asked)
		h->delay_ms = h->p.backoff_min_ms;	/* healthy again */
	api_host_kick(h);
}

/* api_host_on_frame - one whole frame from the helper */
static void
api_host_on_frame(struct api_host *h, struct imsg *imsg)
{
	if (imsg->hdr.type != h->p.ok_type || (!h->p.fd_replies &&
	    (imsg->fd != -1 || (imsg->hdr.flags & IMSGF_HASFD)))) {
		api_host_fail(h, "answered with a bad message type");
		return;
	}
	if (h->state == API_HOST_STARTING)
		api_host_on_hello(h, imsg);
	else if (h->inflight == NULL)
		api_host_fail(h, "sent a reply to a request never sent");
	else
		api_host_on_reply(h, imsg);
}

/*
 * api_host_on_lines - lines mode: each whole line read, taken out of
 * the buffer and handed on as a reply, until one is missing or the
 * helper failed
 */
static void
api_host_on_lines(struct api_host *h)
{
	struct imsg	 imsg;
	unsigned int	 gen = h->gen;
	char		*nl;
	size_t		 n;

	while (h->gen == gen && h->llen > 0) {
		if ((nl = memchr(h->lbuf, '\n', h->llen)) == NULL) {
			if (h->llen > h->p.line_max)
				api_host_fail(h, "sent a line too long");
			return;		/* half a line: the timer runs */
		}
		n = (size_t)(nl - h->lbuf);
		if (n > h->p.line_max || memchr(h->lbuf, '\0', n) != NULL) {
			api_host_fail(h, n > h->p.line_max ?
			    "sent a line too long" : "sent a NUL byte");
			return;
		}
		memcpy(h->line, h->lbuf, n);
		h->line[n] = '\0';
		memmove(h->lbuf, nl + 1, h->llen - n - 1);
		h->llen -= n + 1;
		memset(&imsg, 0, sizeof imsg);
		imsg.hdr.type = h->p.ok_type;
		imsg.fd = -1;
		imsg.data = h->line;
		imsg.datalen = n;
		api_host_on_frame(h, &imsg);
	}
}

/* api_host_read_lines - lines mode: read what fits in the buffer */
static ssize_t
api_host_read_lines(struct api_host *h)
{
	ssize_t	n;

	do
		n = read(h->sock, h->lbuf + h->llen, h->p.line_max + 1 -
		    h->llen);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		h->llen += (size_t)n;
	return n;
}

/* api_host_on_read - bytes, EOF or an error on the helper's socket */
static void
api_host_on_read(int fd, short ev, void *arg)
{
	struct api_host	*h = arg;
	struct imsg	 imsg;
	ssize_t		 n;
	int		 r;

	(void)fd;
	(void)ev;
	n = h->p.lines ? api_host_read_lines(h) : imsgbuf_read(&h->ib);
	if (n == 0) {
		api_host_fail(h, "closed its socket");
		return;
	}
	if (n == -1) {
		if (errno == ECONNRESET)
			api_host_fail(h, "closed its socket");
		else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			api_host_fail(h, errno == ENOBUFS ? "sent too much" :
			    "read failed");
		return;
	}
	if (h->state == API_HOST_READY && h->inflight == NULL) {
		api_host_fail(h, "sent a reply to a request never sent");
		return;
	}
	if (h->p.lines) {
		api_host_on_lines(h);
		return;
	}
	if ((r = imsg_get(&h->ib, &imsg)) == -1) {
		api_host_fail(h, "sent a malformed frame");
		return;
	}
	if (r == 0)
		return;		/* half a frame: the reply timer runs */
	api_host_on_frame(h, &imsg);
	imsg_free(&imsg);
}

/* api_host_on_reply_timeout - the helper did not answer in time */
static void
api_host_on_reply_timeout(int fd, short ev, void *arg)
{
	struct api_host	*h = arg;
	char		 why[64];

	(void)fd;
	(void)ev;
	snprintf(why, sizeof why, "%s not answered within %d ms",
	    h->state == API_HOST_STARTING ? h->p.hello_name : "request",
	    h->p.timeout_ms);
	api_host_fail(h, why);
}

/* api_host_on_req_timeout - a request's own time is over: NULL */
static void
api_host_on_req_timeout(int fd, short ev, void *arg)
{
	struct api_host_req	*req = arg;
	struct api_host		*h = req->h;

	(void)fd;
	(void)ev;
	if (req == h->inflight) {
		/* its answer, if it comes, is read and dropped */
		api_log_warnx("%s: no answer within %d ms: temporary failure",
		    h->p.name, h->p.timeout_ms);
		(void)api_host_complete(req, NULL);
		return;
	}
	/* one line for a burst: the first, then the count once drained */
	if (h->nexpired++ == 0)
		api_log_warnx("%s: request waited %d ms behind the helper's "
		    "other requests: temporary failure", h->p.name,
		    h->p.timeout_ms);
	TAILQ_REMOVE(&h->fifo, req, entry);
	if (--h->nfifo == 0)
		api_host_expired_log(h);
	(void)api_host_complete(req, NULL);
	api_host_req_free(req);
}

/* api_host_child - in the forked child: fd 0, signals, exec; never
 * returns */
static _Noreturn void
api_host_child(struct api_host *h, int sock, pid_t parent)
{
	extern char	**environ;
	sigset_t	  mask;
	int		  fd = h->p.exec_fd, sig;

	/* keep the executable out of the way of fd 0 */
	if (h->p.pinned && fd < 3 &&
	    (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(127);
	if (sock == 0) {
		if (fcntl(0, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(sock, 0) == -1)
		_exit(127);
	/* a line protocol reads fd 0 and writes fd 1, both the socket */
	if (h->p.lines && dup2(0, 1) == -1)
		_exit(127);
	if (h->p.pinned && fd != 3 && (dup2(fd, 3) == -1 ||
	    fcntl(3, F_SETFD, FD_CLOEXEC) == -1))
		_exit(127);
	/* nothing of the daemon's but the channel: no peer's socket kept
	 * open by a helper that outlives its host */
	closefrom(h->p.pinned ? 4 : 3);
	/* dispositions the daemon set (ignored TERM, HUP, INT) go */
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&mask);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
#ifdef __linux__
	/* a helper never outlives the process that hosts it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
#else
	(void)parent;
#endif
	if (!h->p.pinned) {
		execv(h->p.path, h->p.argv);
		_exit(127);
	}
	fexecve(3, h->p.argv, environ);
	/* a #! script is read by its interpreter through /dev/fd/3 */
	if (errno == ENOENT && fcntl(3, F_SETFD, 0) == 0)
		fexecve(3, h->p.argv, environ);
	_exit(127);
}

/* api_host_spawn - socketpair, fork, exec; then the handshake, answered
 * later */
static void
api_host_spawn(struct api_host *h)
{
	pid_t	pid, self = getpid();
	int	sv[2];

	/* as if it had started and failed: the same delay, the same log */
	h->state = API_HOST_STARTING;
	if (h->p.pinned && h->p.exec_fd == -1) {
		api_host_fail(h, "no executable");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		api_log_warn("%s: socketpair", h->p.name);
		api_host_fail(h, "cannot start");
		return;
	}
	if ((pid = fork()) == -1) {
		api_log_warn("%s: fork", h->p.name);
		close(sv[0]);
		close(sv[1]);
		api_host_fail(h, "cannot start");
		return;
	}
	if (pid == 0)
		api_host_child(h, sv[1], self);
	close(sv[1]);
	h->pid = pid;
	h->sock = sv[0];
	h->gen++;
	h->starts++;
	if (fcntl(h->sock, F_SETFL, fcntl(h->sock, F_GETFL) | O_NONBLOCK) ==
	    -1 || imsgbuf_init(&h->ib, h->sock) == -1 || (h->p.lines &&
	    ((h->lbuf == NULL && (h->lbuf = malloc(h->p.line_max + 1)) ==
	    NULL) || (h->line == NULL && (h->line = malloc(h->p.line_max +
	    1)) == NULL)))) {
		api_log_warn("%s: helper channel", h->p.name);
		close(h->sock);
		h->sock = -1;
		api_host_fail(h, "cannot start");
		return;
	}
	if ((h->ev_read = event_new(h->base, h->sock, EV_READ | EV_PERSIST,
	    api_host_on_read, h)) == NULL || (h->ev_write = event_new(h->base,
	    h->sock, EV_WRITE, api_host_on_write, h)) == NULL ||
	    event_add(h->ev_read, NULL) == -1) {
		api_host_fail(h, "cannot watch its socket");
		return;
	}
	api_log_debug("%s: started helper %s pid %ld", h->p.name, h->p.path,
	    (long)pid);
	if (api_host_send(h, h->p.hello_type, -1, h->p.hello,
	    h->p.hellolen) == -1)
		api_host_fail(h, "cannot queue the handshake");
}

/* api_host_on_restart - the restart delay is over */
static void
api_host_on_restart(int fd, short ev, void *arg)
{
	struct api_host	*h = arg;

	(void)fd;
	(void)ev;
	if (h->state == API_HOST_BACKOFF)
		api_host_spawn(h);
}

/* api_host_stopped - the helper is gone after a close: tell the caller */
static void
api_host_stopped(struct api_host *h)
{
	api_host_stopped_fn	stopped = h->stopped;

	evtimer_del(h->ev_stop);
	h->stopped = NULL;
	if (stopped != NULL)
		stopped(h->stopped_arg);
}

/* api_host_on_child - SIGCHLD: reap our own PIDs, by PID */
static void
api_host_on_child(int sig, short ev, void *arg)
{
	struct api_host	*h = arg;

	(void)sig;
	(void)ev;
	if (h->ndying > 0 && api_host_reap_dying(h) &&
	    h->state == API_HOST_CLOSED && h->stopped != NULL)
		api_host_stopped(h);
}

/* api_host_stop_signal - SIG to every helper left, each named in the
 * log with how long it has had since the last step */
static void
api_host_stop_signal(struct api_host *h, int sig, int after_ms,
    const char *after)
{
	size_t	i;

	for (i = 0; i < h->ndying; i++) {
		api_log_warnx("%s: helper pid %ld still running %d ms "
		    "after %s, %s it", h->p.name, (long)h->dying[i],
		    after_ms, after, sig == SIGKILL ? "killing" :
		    "terminating");
		api_host_kill(h, h->dying[i], sig);
	}
}

/*
 * api_host_on_stop_timeout - a grace of the stop is over with helpers
 * left: after the goodbye SIGTERM, after SIGTERM SIGKILL, each with a
 * last wait for SIGCHLD; the loop never blocks in waitpid.
 */
static void
api_host_on_stop_timeout(int fd, short ev, void *arg)
{
	struct api_host	*h = arg;
	struct timeval	 tv = api_host_ms(h->p.stop_wait_ms);
	size_t		 i;

	(void)fd;
	(void)ev;
	if (h->stop_stage != API_HOST_STOP_KILL) {
		if (h->stop_stage == API_HOST_STOP_BYE)
			api_host_stop_signal(h, SIGTERM, h->p.bye_wait_ms,
			    h->p.has_bye ? "CLOSE" : "EOF");
		else
			api_host_stop_signal(h, SIGKILL, h->p.stop_wait_ms,
			    "SIGTERM");
		h->stop_stage++;
		if (!api_host_reap_dying(h)) {
			evtimer_add(h->ev_stop, &tv);
			return;
		}
	} else if (!api_host_reap_dying(h)) {
		for (i = 0; i < h->ndying; i++)
			api_log_warnx("%s: helper pid %ld not reaped %d ms "
			    "after SIGKILL", h->p.name, (long)h->dying[i],
			    h->p.stop_wait_ms);
		h->ndying = 0;
	}
	api_host_stopped(h);
}

/*
 * api_host_kill_dying - SIGKILL and reap what is left: for
 * api_host_free, outside any event loop (a test, the parser, an exit)
 */
static void
api_host_kill_dying(struct api_host *h)
{
	char	st[64];
	size_t	i;
	int	status = 0;

	for (i = 0; i < h->ndying; i++) {
		api_host_kill(h, h->dying[i], SIGKILL);
		/* bounded: nothing survives SIGKILL */
		while (h->dying[i] > 0 && waitpid(h->dying[i], &status,
		    0) == -1 && errno == EINTR)
			;
		api_host_status(status, st, sizeof st);
		if (h->dying_loud[i])
			api_log_warnx("%s: helper pid %ld %s", h->p.name,
			    (long)h->dying[i], st);
	}
	h->ndying = 0;
}

int
api_host_pin(const char *path, const char **why)
{
	struct stat	st;
	int		fd, flags = O_CLOEXEC;

#ifdef O_PATH
	flags |= O_PATH;	/* exec needs no read permission */
#else
	flags |= O_RDONLY;
#endif
	if ((fd = open(path, flags)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		close(fd);
		return -1;
	}
	return fd;
}

/* api_host_copy_params - own copies of the strings and the hello */
static int
api_host_copy_params(struct api_host *h, const struct api_host_params *p)
{
	size_t	n, i;

	for (n = 0; p->argv[n] != NULL; n++)
		;
	if ((h->name = strdup(p->name)) == NULL ||
	    (h->path = strdup(p->path)) == NULL ||
	    (h->hello_name = strdup(p->hello_name != NULL ? p->hello_name :
	    "handshake")) == NULL ||
	    (p->hello_hint != NULL && (h->hello_hint =
	    strdup(p->hello_hint)) == NULL) ||
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
	h->p.hello_name = h->hello_name;
	h->p.hello_hint = h->hello_hint;
	h->p.argv = h->argv;
	h->p.hello = h->hello;
	return 0;
}

/* api_host_release - what api_host_new made; the pinned executable */
static void
api_host_release(struct api_host *h)
{
	size_t	i;

	if (h->ev_reply != NULL)
		event_free(h->ev_reply);
	if (h->ev_restart != NULL)
		event_free(h->ev_restart);
	if (h->ev_stop != NULL)
		event_free(h->ev_stop);
	if (h->ev_child != NULL)
		event_free(h->ev_child);
	if (h->p.pinned && h->p.exec_fd != -1)
		close(h->p.exec_fd);
	for (i = 0; h->argv != NULL && h->argv[i] != NULL; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h->name);
	free(h->path);
	free(h->hello_name);
	free(h->hello_hint);
	free(h->hello);
	free(h->lbuf);
	free(h->line);
	free(h->wbuf);
	free(h);
}

struct api_host *
api_host_new(struct event_base *base, const struct api_host_params *p)
{
	struct api_host	*h;

	if ((h = calloc(1, sizeof *h)) == NULL) {
		api_log_warn("%s: host", p->name);
		if (p->pinned && p->exec_fd != -1)
			close(p->exec_fd);
		return NULL;
	}
	h->base = base;
	h->p = *p;
	h->pid = -1;
	h->sock = -1;
	TAILQ_INIT(&h->fifo);
	api_host_set_limits(h, p->timeout_ms, p->backoff_min_ms,
	    p->backoff_max_ms);
	if (h->p.stop_wait_ms <= 0)
		h->p.stop_wait_ms = API_HOST_STOP_WAIT_MS;
	if (h->p.lines && h->p.line_max == 0)
		h->p.line_max = API_HOST_LINE_MAX;
	/* the caller's strings need not outlive this call */
	if (api_host_copy_params(h, p) == -1 ||
	    (h->ev_reply = evtimer_new(base, api_host_on_reply_timeout,
	    h)) == NULL ||
	    (h->ev_restart = evtimer_new(base, api_host_on_restart, h)) ==
	    NULL ||
	    (h->ev_stop = evtimer_new(base, api_host_on_stop_timeout, h)) ==
	    NULL ||
	    (h->ev_child = evsignal_new(base, SIGCHLD, api_host_on_child,
	    h)) == NULL || evsignal_add(h->ev_child, NULL) == -1) {
		api_log_warn("%s: host", p->name);
		api_host_release(h);
		return NULL;
	}
	return h;
}

struct api_host *
api_host_new_proc(struct event_base *base, const struct api_host_proto *proto,
    const char *name, const char *path, char *const argv[], int timeout_ms)
{
	struct api_host_params	p;
	char			label[256];

	/* api_host_new copies the label, the strings and the hello */
	(void)snprintf(label, sizeof label, "%s helper %s", proto->kind, name);
	memset(&p, 0, sizeof p);
	p.name = label;
	p.path = path;
	p.argv = argv;
	p.exec_fd = -1;
	p.ok_type = proto->ok_type;
	p.fd_replies = proto->fd_replies;
	p.hello_name = "INIT";
	p.hello_type = proto->hello_type;
	p.hello = &proto->version;
	p.hellolen = sizeof proto->version;
	p.hello_ok = proto->hello_ok;
	p.timeout_ms = timeout_ms > 0 ? timeout_ms : proto->timeout_ms;
	p.fifo_max = proto->fifo_max;
	p.backoff_min_ms = proto->backoff_min_ms;
	p.backoff_max_ms = proto->backoff_max_ms;
	p.has_bye = proto->has_bye;
	p.bye_type = proto->bye_type;
	p.bye_wait_ms = proto->bye_wait_ms;
	return api_host_new(base, &p);
}

const char *
api_host_name(const struct api_host *h)
{
	return h->p.name;
}

void
api_host_start(struct api_host *h)
{
	if (h->state == API_HOST_STOPPED)
		api_host_spawn(h);
}

void
api_host_set_limits(struct api_host *h, int timeout_ms, int backoff_min_ms,
    int backoff_max_ms)
{
	h->p.timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	h->p.backoff_min_ms = backoff_min_ms > 0 ? backoff_min_ms : 1000;
	h->p.backoff_max_ms = backoff_max_ms > h->p.backoff_min_ms ?
	    backoff_max_ms : h->p.backoff_min_ms;
	h->delay_ms = h->p.backoff_min_ms;
}

void
api_host_request(struct api_host *h, uint32_t type, int fd,
    const void *data, size_t len, api_host_done_fn done, void *arg)
{
	struct api_host_req	*req = NULL;
	struct timeval		 tv = api_host_ms(h->p.timeout_ms);

	if (h->state == API_HOST_BACKOFF || h->state == API_HOST_CLOSED) {
		api_log_debug("%s: helper down: temporary failure",
		    h->p.name);
		goto fail;
	}
	if (h->waiting >= h->p.fifo_max) {
		if (!h->full_logged)
			api_log_warnx("%s: %zu requests already wait for the "
			    "helper: temporary failure for more", h->p.name,
			    h->waiting);
		h->full_logged = 1;
		goto fail;
	}
	if ((req = calloc(1, sizeof *req)) == NULL ||
	    (len > 0 && (req->data = malloc(len)) == NULL) ||
	    (req->timer = evtimer_new(h->base, api_host_on_req_timeout,
	    req)) == NULL || evtimer_add(req->timer, &tv) == -1) {
		api_log_warn("%s: request", h->p.name);
		goto fail;
	}
	if (len > 0)
		memcpy(req->data, data, len);
	req->h = h;
	req->type = type;
	req->fd = fd;
	req->len = len;
	req->done = done;
	req->arg = arg;
	TAILQ_INSERT_TAIL(&h->fifo, req, entry);
	h->nfifo++;
	h->waiting++;
	if (h->state == API_HOST_STOPPED)
		api_host_spawn(h);
	else
		api_host_kick(h);
	return;
fail:
	if (req != NULL) {
		req->fd = -1;
		api_host_req_free(req);
	}
	if (fd != -1)
		close(fd);
	(void)done(arg, NULL);
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

/* api_host_bye - the protocol's goodbye, if the helper can take it: one
 * try, never a wait (EOF follows anyway) */
static void
api_host_bye(struct api_host *h)
{
	if (!h->p.has_bye || h->sock == -1 || h->pid == -1)
		return;
	if (imsg_compose(&h->ib, h->p.bye_type, 0, -1, NULL, 0) == -1 ||
	    imsgbuf_write(&h->ib) != 1)
		api_log_debug("%s: goodbye not sent whole; EOF says it",
		    h->p.name);
}

void
api_host_close(struct api_host *h, api_host_stopped_fn stopped, void *arg)
{
	int		polite = h->p.bye_wait_ms > 0;
	struct timeval	tv = api_host_ms(polite ? h->p.bye_wait_ms :
			    h->p.stop_wait_ms);

	h->state = API_HOST_CLOSED;
	h->stop_stage = polite ? API_HOST_STOP_BYE : API_HOST_STOP_TERM;
	evtimer_del(h->ev_restart);
	if (polite)
		api_host_bye(h);
	api_host_channel_close(h);
	if (h->pid != -1) {
		if (!polite)
			api_host_kill(h, h->pid, SIGTERM);
		api_host_bury(h, h->pid, 0);
		h->pid = -1;
	}
	h->gen++;
	api_host_fail_all(h);
	h->stopped = stopped;
	h->stopped_arg = arg;
	if (api_host_reap_dying(h))
		api_host_stopped(h);
	else
		evtimer_add(h->ev_stop, &tv);
}

void
api_host_free(struct api_host **hp)
{
	struct api_host	*h = *hp;

	if (h == NULL)
		return;
	if (h->state != API_HOST_CLOSED)
		api_host_close(h, NULL, NULL);
	h->stopped = NULL;
	api_host_kill_dying(h);		/* what SIGTERM did not end yet */
	api_host_release(h);
	*hp = NULL;
}
