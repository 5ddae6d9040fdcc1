/*
 * table_proc.c -- the host of a table served by a helper program
 * <libexec>/table-NAME, spoken to with the imsg protocol of OpenSMTPD
 * 6.x (libexec-protocols.md 1 and 4, PROC_TABLE_API_VERSION 2), so the
 * helpers of opensmtpd-extras run unmodified.
 *
 * Runs in the lookup process, on its libevent loop.  The helper's
 * executable is opened when the table is created, while the process may
 * still read it, and every start execs that descriptor.  Each helper has
 * its own channel, a bounded FIFO of requests (one in flight: the
 * protocol has no request ids) and a timer per request, so a slow or
 * hung helper costs its own callers a temporary failure (-1) and nobody
 * else anything.  A helper that dies, hangs or says anything but the
 * one well-formed reply it was asked for is logged with the table name,
 * killed by its PID and restarted after a delay doubling from
 * backoff_ms to backoff_max_ms; meanwhile its requests fail at once.
 * This file never waits: no poll, no sleep, and waitpid only with
 * WNOHANG on the PIDs it started (on EOF and on SIGCHLD), except after
 * SIGKILL in table_proc_free.  It never calls fatal.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsgbuf.h"
#include "log.h"
#include "table.h"
#include "table_api.h"
#include "wire.h"
#include "xmalloc.h"

#define TABLE_PROC_DYING_MAX	8	/* killed helpers not yet reaped */

enum table_proc_state {
	TABLE_PROC_DOWN,	/* no helper; restart timer may run */
	TABLE_PROC_STARTING,	/* OPEN sent, not answered */
	TABLE_PROC_READY,
	TABLE_PROC_CLOSED,	/* closing or closed: no more requests */
};

/* one request: queued, then in flight, then answered or timed out */
struct table_proc_req {
	TAILQ_ENTRY(table_proc_req)	 entry;
	struct table_proc		*h;
	uint32_t			 type;
	unsigned char			 payload[TABLE_KEY_MAX + 16];
	size_t				 len;
	struct event			*timer;
	table_done_fn			 done;	/* NULL once completed */
	void				*arg;
};

TAILQ_HEAD(table_proc_queue, table_proc_req);

struct table_proc {
	char			 name[TABLE_NAME_MAX];	/* the table's */
	char			 path[PATH_MAX];
	char			 config[PATH_MAX];
	int			 exec_fd;	/* pinned executable */
	struct event_base	*evb;
	enum table_proc_state	 state;
	pid_t			 pid;		/* -1 when no helper runs */
	int			 chan;		/* our end, -1 when none */
	struct imsgbuf		 ib;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_reply;	/* the helper's answer is due */
	struct event		*ev_restart;
	struct event		*ev_child;	/* SIGCHLD */
	struct event		*ev_stop;	/* SIGTERM's grace is over */
	struct table_proc_queue	 queue;		/* not yet sent */
	size_t			 nqueue;
	struct table_proc_req	*inflight;	/* sent, not answered */
	int			 full_logged;
	unsigned int		 nexpired;	/* queued requests timed out */
	int			 timeout_ms;
	int			 backoff_ms;
	int			 backoff_max_ms;
	int			 delay_ms;	/* the next restart delay */
	pid_t			 dying[TABLE_PROC_DYING_MAX];
	int			 dying_loud[TABLE_PROC_DYING_MAX];
	size_t			 ndying;
	int			 stop_killed;	/* SIGKILL sent at close */
	table_done_fn		 closed;	/* table_proc_close's */
	void			*closed_arg;
};

static void	table_proc_kick(struct table_proc *);
static void	table_proc_expired_log(struct table_proc *);
static void	table_proc_spawn(struct table_proc *);

/* table_proc_tv - a timeval of MS milliseconds */
static struct timeval
table_proc_tv(int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* table_proc_status - "exited 1", "killed by signal 9" */
static void
table_proc_status(int status, char *buf, size_t bufsz)
{
	if (WIFEXITED(status))
		snprintf(buf, bufsz, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, bufsz, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, bufsz, "status 0x%x", status);
}

/* table_proc_reap - reap PID if it has ended; never waits */
static int
table_proc_reap(pid_t pid, int *status)
{
	pid_t	r;

	do {
		r = waitpid(pid, status, WNOHANG);
	} while (r == -1 && errno == EINTR);
	/* ECHILD: someone else reaped it; it is gone all the same */
	return r == pid || (r == -1 && errno == ECHILD);
}

/* table_proc_reap_dying - reap what was killed; 1 when none is left */
static int
table_proc_reap_dying(struct table_proc *h)
{
	char	st[64];
	size_t	i = 0;
	int	status = 0;

	while (i < h->ndying) {
		if (!table_proc_reap(h->dying[i], &status)) {
			i++;
			continue;
		}
		table_proc_status(status, st, sizeof st);
		/* a failed helper's end, not known when it was logged */
		if (h->dying_loud[i])
			log_warnx("table %s: helper pid %ld %s", h->name,
			    (long)h->dying[i], st);
		else
			log_debug("table %s: helper pid %ld reaped (%s)",
			    h->name, (long)h->dying[i], st);
		h->ndying--;
		h->dying[i] = h->dying[h->ndying];
		h->dying_loud[i] = h->dying_loud[h->ndying];
	}
	return h->ndying == 0;
}

/* table_proc_bury - PID was signalled: reap now or on SIGCHLD; LOUD
 * logs its end as a warning */
static void
table_proc_bury(struct table_proc *h, pid_t pid, int loud)
{
	int	status;

	if (table_proc_reap(pid, &status))
		return;
	if (h->ndying == TABLE_PROC_DYING_MAX) {
		/* SIGCHLD reaps between restarts: this takes a wild loop */
		(void)kill(h->dying[0], SIGKILL);
		log_warnx("table %s: %d helpers not reaped yet, pid %ld is "
		    "left to exit on its own", h->name, TABLE_PROC_DYING_MAX,
		    (long)h->dying[0]);
		h->ndying--;
		h->dying[0] = h->dying[h->ndying];
		h->dying_loud[0] = h->dying_loud[h->ndying];
	}
	h->dying_loud[h->ndying] = loud;
	h->dying[h->ndying++] = pid;
}

/* table_proc_req_free - release a request and its timer */
static void
table_proc_req_free(struct table_proc_req *req)
{
	if (req->timer != NULL)
		event_free(req->timer);
	free(req);
}

/* table_proc_complete - answer a request's caller, once */
static void
table_proc_complete(struct table_proc_req *req, int r, const char *value)
{
	table_done_fn	done = req->done;

	req->done = NULL;
	if (done != NULL)
		done(req->arg, r, value);
}

/* table_proc_fail_all - every request waiting on H fails with -1 */
static void
table_proc_fail_all(struct table_proc *h)
{
	struct table_proc_queue	 q;
	struct table_proc_req	*req;

	TAILQ_INIT(&q);
	TAILQ_CONCAT(&q, &h->queue, entry);
	h->nqueue = 0;
	h->full_logged = 0;
	table_proc_expired_log(h);
	if (h->inflight != NULL) {
		TAILQ_INSERT_HEAD(&q, h->inflight, entry);
		h->inflight = NULL;
	}
	/* detached first: a completion may queue a new request on H */
	while ((req = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, req, entry);
		table_proc_complete(req, -1, NULL);
		table_proc_req_free(req);
	}
}

/* table_proc_channel_close - drop our end of the helper's socket */
static void
table_proc_channel_close(struct table_proc *h)
{
	if (h->ev_read != NULL) {
		event_free(h->ev_read);
		h->ev_read = NULL;
	}
	if (h->ev_write != NULL) {
		event_free(h->ev_write);
		h->ev_write = NULL;
	}
	if (h->ev_reply != NULL)
		evtimer_del(h->ev_reply);
	if (h->chan != -1) {
		imsgbuf_clear(&h->ib);
		close(h->chan);
		h->chan = -1;
	}
}

/*
 * table_proc_fail - the helper misbehaved or died: log WHY with the
 * table's name, kill and reap it, fail what waits on it and schedule a
 * restart after the current delay, which then doubles.
 */
static void
table_proc_fail(struct table_proc *h, const char *why)
{
	char	st[64] = "killed";
	int	status;

	table_proc_channel_close(h);
	if (h->pid != -1) {
		if (table_proc_reap(h->pid, &status))
			table_proc_status(status, st, sizeof st);
		else {
			(void)kill(h->pid, SIGKILL);
			table_proc_bury(h, h->pid, 1);
		}
	}
	log_warnx("table %s: helper %s pid %ld: %s (%s); restart in %d ms",
	    h->name, h->path, (long)h->pid, why, st, h->delay_ms);
	h->pid = -1;
	h->state = TABLE_PROC_DOWN;
	if (h->ev_restart != NULL) {
		struct timeval	tv = table_proc_tv(h->delay_ms);

		evtimer_add(h->ev_restart, &tv);
	}
	h->delay_ms = h->delay_ms > h->backoff_max_ms / 2 ?
	    h->backoff_max_ms : h->delay_ms * 2;
	table_proc_fail_all(h);
}

/* table_proc_flush - write what the socket takes; the rest on EV_WRITE */
static int
table_proc_flush(struct table_proc *h)
{
	int	r;

	if ((r = imsgbuf_write(&h->ib)) == -1) {
		table_proc_fail(h, errno == EPIPE ? "closed its socket" :
		    "write failed");
		return -1;
	}
	if (r == 0)
		event_add(h->ev_write, NULL);
	return 0;
}

/* table_proc_send - queue one frame and arm the answer's timer */
static int
table_proc_send(struct table_proc *h, uint32_t type, const void *data,
    size_t len)
{
	struct timeval	tv = table_proc_tv(h->timeout_ms);

	if (imsg_compose(&h->ib, type, 0, -1, data, len) == -1) {
		table_proc_fail(h, "cannot queue a request");
		return -1;
	}
	evtimer_add(h->ev_reply, &tv);
	return table_proc_flush(h);
}

/* table_proc_on_write - the socket takes more output */
static void
table_proc_on_write(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)table_proc_flush(arg);
}

/*
 * table_proc_decode_reply - the r and value of a helper's reply (DATA,
 * LEN) to a request of TYPE (libexec-protocols.md 4.4): 0, or -1 when
 * the payload is not that reply.  VALUE, when r is 1 for a lookup or a
 * fetch, points into DATA and is NUL-terminated at VALUELEN.
 */
int
table_proc_decode_reply(uint32_t type, const void *data, size_t len,
    int *r, const char **value, size_t *valuelen)
{
	struct wire_reader	 rd;
	const void		*rest;
	size_t			 restlen;
	int32_t			 v = 0;
	int			 with_value = type == PROC_TABLE_LOOKUP ||
				    type == PROC_TABLE_FETCH;

	wire_reader_init(&rd, data, len);
	(void)wire_get_i32(&rd, &v);
	(void)wire_get_rest(&rd, &rest, &restlen);
	if (wire_end(&rd) != 0 || v < -1 || v > 1)
		return -1;
	if (restlen != 0 && (!with_value || v != 1))
		return -1;
	if (with_value && v == 1 && (restlen == 0 ||
	    ((const char *)rest)[restlen - 1] != '\0' ||
	    memchr(rest, '\0', restlen - 1) != NULL))
		return -1;
	*r = v;
	*value = v == 1 && with_value ? rest : NULL;
	*valuelen = v == 1 && with_value ? restlen - 1 : 0;
	return 0;
}

/* table_proc_on_open - the answer to OPEN: the helper is ready */
static void
table_proc_on_open(struct table_proc *h, struct imsg *imsg)
{
	if (imsg->datalen != 0) {
		table_proc_fail(h, "bad answer to OPEN");
		return;
	}
	if (h->ib.rlen != h->ib.rpos) {
		table_proc_fail(h, "sent data nobody asked for");
		return;
	}
	evtimer_del(h->ev_reply);
	h->state = TABLE_PROC_READY;
	log_debug("table %s: helper pid %ld ready", h->name, (long)h->pid);
	table_proc_kick(h);
}

/* table_proc_on_reply - the answer to the request in flight */
static void
table_proc_on_reply(struct table_proc *h, struct imsg *imsg)
{
	struct table_proc_req	*req = h->inflight;
	const char		*value = NULL;
	char			*copy = NULL;
	size_t			 valuelen = 0;
	int			 r, extra;

	if (table_proc_decode_reply(req->type, imsg->data, imsg->datalen, &r,
	    &value, &valuelen) == -1) {
		table_proc_fail(h, "answered garbage");
		return;
	}
	if (value != NULL && valuelen >= TABLE_VALUE_MAX) {
		log_warnx("table %s: helper answered a value of %zu bytes, "
		    "over the limit of %d: temporary failure", h->name,
		    valuelen, TABLE_VALUE_MAX - 1);
		r = -1;
		value = NULL;
	}
	if (value != NULL)
		copy = xstrdup(value);
	h->inflight = NULL;
	evtimer_del(h->ev_reply);
	/* a good answer: the helper is healthy again */
	h->delay_ms = h->backoff_ms;
	/* one request, one reply: anything more is a protocol error */
	extra = h->ib.rlen != h->ib.rpos;
	if (extra)
		table_proc_fail(h, "sent data nobody asked for");
	table_proc_complete(req, r, copy);
	table_proc_req_free(req);
	free(copy);
	if (!extra)
		table_proc_kick(h);
}

/* table_proc_on_frame - one whole frame from the helper */
static void
table_proc_on_frame(struct table_proc *h, struct imsg *imsg)
{
	if (imsg->hdr.type != PROC_TABLE_OK || imsg->fd != -1 ||
	    (imsg->hdr.flags & IMSGF_HASFD)) {
		table_proc_fail(h, "answered with a bad message type");
		return;
	}
	if (h->state == TABLE_PROC_STARTING)
		table_proc_on_open(h, imsg);
	else if (h->inflight == NULL)
		table_proc_fail(h, "sent a reply to a request never sent");
	else
		table_proc_on_reply(h, imsg);
}

/* table_proc_on_read - bytes, EOF or an error on the helper's socket */
static void
table_proc_on_read(evutil_socket_t fd, short ev, void *arg)
{
	struct table_proc	*h = arg;
	struct imsg		 imsg;
	ssize_t			 n;
	int			 r;

	(void)fd;
	(void)ev;
	n = imsgbuf_read(&h->ib);
	if (n == 0) {
		table_proc_fail(h, "closed its socket");
		return;
	}
	if (n == -1) {
		if (errno == ECONNRESET)
			table_proc_fail(h, "closed its socket");
		else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			table_proc_fail(h, errno == ENOBUFS ? "sent too much" :
			    "read failed");
		return;
	}
	if (h->state == TABLE_PROC_READY && h->inflight == NULL) {
		table_proc_fail(h, "sent a reply to a request never sent");
		return;
	}
	if ((r = imsg_get(&h->ib, &imsg)) == -1) {
		table_proc_fail(h, "sent a malformed frame");
		return;
	}
	if (r == 0)
		return;		/* half a frame: the reply timer runs */
	table_proc_on_frame(h, &imsg);
	imsg_free(&imsg);
}

/* table_proc_on_reply_timeout - the helper did not answer in time */
static void
table_proc_on_reply_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct table_proc	*h = arg;
	char			 why[64];

	(void)fd;
	(void)ev;
	snprintf(why, sizeof why, "%s not answered within %d ms",
	    h->state == TABLE_PROC_STARTING ? "OPEN" : "request",
	    h->timeout_ms);
	table_proc_fail(h, why);
}

/* table_proc_on_req_timeout - a request's own time is over: -1 */
static void
table_proc_on_req_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct table_proc_req	*req = arg;
	struct table_proc	*h = req->h;

	(void)fd;
	(void)ev;
	if (req == h->inflight) {
		/* its answer, if it comes, is read and dropped */
		log_warnx("table %s: no answer within %d ms: temporary "
		    "failure", h->name, h->timeout_ms);
		table_proc_complete(req, -1, NULL);
		return;
	}
	/* one line for a burst: the first, then the count once drained */
	if (h->nexpired++ == 0)
		log_warnx("table %s: request waited %d ms behind the helper's "
		    "other requests: temporary failure", h->name,
		    h->timeout_ms);
	TAILQ_REMOVE(&h->queue, req, entry);
	if (--h->nqueue == 0)
		table_proc_expired_log(h);
	table_proc_complete(req, -1, NULL);
	table_proc_req_free(req);
}

/* table_proc_expired_log - the queue drained: how many timed out in it */
static void
table_proc_expired_log(struct table_proc *h)
{
	if (h->nexpired > 1)
		log_warnx("table %s: %u requests in all timed out waiting "
		    "for the helper", h->name, h->nexpired);
	h->nexpired = 0;
}

/* table_proc_kick - send the next request if the helper is free */
static void
table_proc_kick(struct table_proc *h)
{
	struct table_proc_req	*req;

	if (h->state != TABLE_PROC_READY || h->inflight != NULL ||
	    (req = TAILQ_FIRST(&h->queue)) == NULL)
		return;
	TAILQ_REMOVE(&h->queue, req, entry);
	if (--h->nqueue == 0)
		table_proc_expired_log(h);
	if (h->nqueue < TABLE_PROC_QUEUE_MAX / 2)
		h->full_logged = 0;
	h->inflight = req;
	(void)table_proc_send(h, req->type, req->payload, req->len);
}

/* table_proc_child - in the forked child: fd 0, signals, exec by fd */
static _Noreturn void
table_proc_child(struct table_proc *h, int sock, pid_t lookup)
{
	sigset_t	mask;
	char		*argv[3];
	int		 fd = h->exec_fd, sig;
	extern char	**environ;

	/* keep the executable out of the way of fd 0 */
	if (fd < 3 && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		_exit(127);
	if (sock == 0) {
		if (fcntl(0, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(sock, 0) == -1)
		_exit(127);
	if (fd != 3 && (dup2(fd, 3) == -1 || fcntl(3, F_SETFD,
	    FD_CLOEXEC) == -1))
		_exit(127);
	closefrom(4);
	/* not what lookup ignores or blocks: the helper's own defaults */
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
#ifdef __linux__
	/* a helper never outlives the process that hosts it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != lookup)
		_exit(127);
#else
	(void)lookup;
#endif
	argv[0] = h->name;
	argv[1] = h->config[0] != '\0' ? h->config : NULL;
	argv[2] = NULL;
	fexecve(3, argv, environ);
	/* a #! script is read by its interpreter through /dev/fd/3 */
	if (errno == ENOENT && fcntl(3, F_SETFD, 0) == 0)
		fexecve(3, argv, environ);
	_exit(127);
}

/* table_proc_spawn - socketpair, fork, exec; then OPEN, answered later */
static void
table_proc_spawn(struct table_proc *h)
{
	unsigned char	 params[TABLE_OPEN_PARAMS_SIZE];
	uint32_t	 version = PROC_TABLE_API_VERSION;
	pid_t		 pid, self = getpid();
	int		 sp[2];

	if (h->exec_fd == -1) {
		table_proc_fail(h, "no executable");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("table %s: socketpair", h->name);
		table_proc_fail(h, "cannot start");
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("table %s: fork", h->name);
		close(sp[0]);
		close(sp[1]);
		table_proc_fail(h, "cannot start");
		return;
	}
	if (pid == 0)
		table_proc_child(h, sp[1], self);
	close(sp[1]);
	h->pid = pid;
	h->chan = sp[0];
	if (fcntl(h->chan, F_SETFL, O_NONBLOCK) == -1 ||
	    imsgbuf_init(&h->ib, h->chan) == -1) {
		log_warn("table %s: helper channel", h->name);
		close(h->chan);
		h->chan = -1;
		table_proc_fail(h, "cannot start");
		return;
	}
	h->ev_read = event_new(h->evb, h->chan, EV_READ | EV_PERSIST,
	    table_proc_on_read, h);
	h->ev_write = event_new(h->evb, h->chan, EV_WRITE, table_proc_on_write,
	    h);
	if (h->ev_read == NULL || h->ev_write == NULL ||
	    event_add(h->ev_read, NULL) == -1) {
		table_proc_fail(h, "cannot watch its socket");
		return;
	}
	h->state = TABLE_PROC_STARTING;
	log_debug("table %s: started helper %s pid %ld", h->name, h->path,
	    (long)pid);
	memset(params, 0, sizeof params);
	memcpy(params, &version, sizeof version);
	(void)strlcpy((char *)params + sizeof version, h->name,
	    sizeof params - sizeof version);
	(void)table_proc_send(h, PROC_TABLE_OPEN, params, sizeof params);
}

/* table_proc_on_restart - the restart delay is over */
static void
table_proc_on_restart(evutil_socket_t fd, short ev, void *arg)
{
	struct table_proc	*h = arg;

	(void)fd;
	(void)ev;
	if (h->state == TABLE_PROC_DOWN)
		table_proc_spawn(h);
}

/* table_proc_stopped - the helper is gone after a close: tell the caller */
static void
table_proc_stopped(struct table_proc *h)
{
	table_done_fn	done = h->closed;

	if (h->ev_stop != NULL)
		evtimer_del(h->ev_stop);
	h->closed = NULL;
	if (done != NULL)
		done(h->closed_arg, 1, NULL);
}

/* table_proc_on_child - SIGCHLD: reap our own PIDs, by PID */
static void
table_proc_on_child(evutil_socket_t sig, short ev, void *arg)
{
	struct table_proc	*h = arg;

	(void)sig;
	(void)ev;
	if (table_proc_reap_dying(h) && h->state == TABLE_PROC_CLOSED &&
	    h->closed != NULL)
		table_proc_stopped(h);
}

/*
 * table_proc_kill_dying - SIGKILL and reap what is left: for
 * table_proc_free, outside any event loop (a test, the parser, an exit)
 */
static void
table_proc_kill_dying(struct table_proc *h)
{
	char	st[64];
	size_t	i;
	int	status = 0;

	for (i = 0; i < h->ndying; i++) {
		(void)kill(h->dying[i], SIGKILL);
		/* bounded: nothing survives SIGKILL */
		while (waitpid(h->dying[i], &status, 0) == -1 &&
		    errno == EINTR)
			;
		table_proc_status(status, st, sizeof st);
		if (h->dying_loud[i])
			log_warnx("table %s: helper pid %ld %s", h->name,
			    (long)h->dying[i], st);
	}
	h->ndying = 0;
}

/*
 * table_proc_on_stop_timeout - SIGTERM was not enough: SIGKILL, and a
 * last short wait for SIGCHLD; the loop never blocks in waitpid.
 */
static void
table_proc_on_stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct table_proc	*h = arg;
	struct timeval		 tv = table_proc_tv(TABLE_PROC_STOP_WAIT_MS);
	size_t			 i;

	(void)fd;
	(void)ev;
	if (!h->stop_killed) {
		for (i = 0; i < h->ndying; i++) {
			log_warnx("table %s: helper pid %ld still running %d "
			    "ms after SIGTERM, killing it", h->name,
			    (long)h->dying[i], TABLE_PROC_STOP_WAIT_MS);
			(void)kill(h->dying[i], SIGKILL);
		}
		h->stop_killed = 1;
		if (!table_proc_reap_dying(h)) {
			evtimer_add(h->ev_stop, &tv);
			return;
		}
	} else if (!table_proc_reap_dying(h)) {
		for (i = 0; i < h->ndying; i++)
			log_warnx("table %s: helper pid %ld not reaped %d ms "
			    "after SIGKILL", h->name, (long)h->dying[i],
			    TABLE_PROC_STOP_WAIT_MS);
		h->ndying = 0;
	}
	table_proc_stopped(h);
}

/* table_proc_new - the host of helper PATH for table TNAME, its
 * executable opened now; NULL with ERR when it cannot be */
struct table_proc *
table_proc_new(const char *tname, const char *path, const char *config,
    char *err, size_t errsz)
{
	struct table_proc	*h;
	struct stat		 st;
	int			 flags = O_CLOEXEC;

#ifdef O_PATH
	flags |= O_PATH;	/* exec needs no read permission */
#else
	flags |= O_RDONLY;
#endif
	h = xcalloc(1, sizeof *h);
	h->pid = -1;
	h->chan = -1;
	h->state = TABLE_PROC_DOWN;
	TAILQ_INIT(&h->queue);
	(void)strlcpy(h->name, tname, sizeof h->name);
	(void)strlcpy(h->path, path, sizeof h->path);
	(void)strlcpy(h->config, config, sizeof h->config);
	table_proc_set_limits(h, TABLE_PROC_TIMEOUT_MS, TABLE_PROC_BACKOFF_MS,
	    TABLE_PROC_BACKOFF_MAX_MS);
	if ((h->exec_fd = open(path, flags)) == -1 ||
	    fstat(h->exec_fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "table \"%s\": helper %s: %s", tname,
		    path, h->exec_fd == -1 ? strerror(errno) :
		    "not a regular file");
		if (h->exec_fd != -1)
			close(h->exec_fd);
		free(h);
		return NULL;
	}
	return h;
}

/* table_proc_set_limits - request timeout and restart delays */
void
table_proc_set_limits(struct table_proc *h, int timeout_ms, int backoff_ms,
    int backoff_max_ms)
{
	h->timeout_ms = timeout_ms;
	h->backoff_ms = backoff_ms;
	h->backoff_max_ms = backoff_max_ms;
	h->delay_ms = backoff_ms;
}

/* table_proc_start - events on EVB and the first start; never waits */
int
table_proc_start(struct table_proc *h, struct event_base *evb)
{
	if (evb == NULL)
		return -1;
	h->evb = evb;
	h->ev_reply = evtimer_new(evb, table_proc_on_reply_timeout, h);
	h->ev_restart = evtimer_new(evb, table_proc_on_restart, h);
	h->ev_stop = evtimer_new(evb, table_proc_on_stop_timeout, h);
	h->ev_child = evsignal_new(evb, SIGCHLD, table_proc_on_child, h);
	if (h->ev_reply == NULL || h->ev_restart == NULL ||
	    h->ev_stop == NULL || h->ev_child == NULL ||
	    evsignal_add(h->ev_child, NULL) == -1)
		return -1;
	table_proc_spawn(h);
	return 0;
}

/* table_proc_request - queue one request; DONE gets r and the value */
void
table_proc_request(struct table_proc *h, uint32_t type,
    enum table_service service, const char *key, table_done_fn done,
    void *arg)
{
	struct table_proc_req	*req;
	struct wire_writer	 w;
	struct timeval		 tv;

	if (h->state == TABLE_PROC_DOWN || h->state == TABLE_PROC_CLOSED) {
		log_debug("table %s: helper down: temporary failure",
		    h->name);
		done(arg, -1, NULL);
		return;
	}
	if (h->nqueue >= TABLE_PROC_QUEUE_MAX) {
		if (!h->full_logged)
			log_warnx("table %s: %d requests already wait for the "
			    "helper: temporary failure for more", h->name,
			    TABLE_PROC_QUEUE_MAX);
		h->full_logged = 1;
		done(arg, -1, NULL);
		return;
	}
	req = xcalloc(1, sizeof *req);
	req->h = h;
	req->type = type;
	req->done = done;
	req->arg = arg;
	if (type != PROC_TABLE_UPDATE) {
		wire_writer_init(&w, req->payload, sizeof req->payload);
		(void)wire_put_i32(&w, (int32_t)service);
		(void)wire_put_sz(&w, 0);
		if (key != NULL)
			(void)wire_put_cstr(&w, key);
		if (wire_writer_error(&w) != 0) {
			free(req);
			log_warnx("table %s: key does not fit a request",
			    h->name);
			done(arg, -1, NULL);
			return;
		}
		req->len = w.len;
	}
	tv = table_proc_tv(h->timeout_ms);
	if ((req->timer = evtimer_new(h->evb, table_proc_on_req_timeout,
	    req)) == NULL || evtimer_add(req->timer, &tv) == -1) {
		table_proc_req_free(req);
		log_warnx("table %s: no timer for a request", h->name);
		done(arg, -1, NULL);
		return;
	}
	TAILQ_INSERT_TAIL(&h->queue, req, entry);
	h->nqueue++;
	table_proc_kick(h);
}

/*
 * table_proc_close - stop the helper: pending requests fail, the channel
 * closes (a helper leaves on EOF), SIGTERM, and SIGKILL if it is still
 * there after TABLE_PROC_STOP_WAIT_MS.  DONE once it is reaped.
 */
void
table_proc_close(struct table_proc *h, table_done_fn done, void *arg)
{
	struct timeval	tv = table_proc_tv(TABLE_PROC_STOP_WAIT_MS);

	h->state = TABLE_PROC_CLOSED;
	h->stop_killed = 0;
	if (h->ev_restart != NULL)
		evtimer_del(h->ev_restart);
	table_proc_channel_close(h);
	if (h->pid != -1) {
		(void)kill(h->pid, SIGTERM);
		table_proc_bury(h, h->pid, 0);
		h->pid = -1;
	}
	table_proc_fail_all(h);
	h->closed = done;
	h->closed_arg = arg;
	if (table_proc_reap_dying(h) || h->ev_stop == NULL) {
		table_proc_kill_dying(h);
		table_proc_stopped(h);
	} else
		evtimer_add(h->ev_stop, &tv);
}

/* table_proc_free - release the host; kills and reaps what still runs */
void
table_proc_free(struct table_proc **hp)
{
	struct table_proc	*h = *hp;

	if (h == NULL)
		return;
	if (h->state != TABLE_PROC_CLOSED)
		table_proc_close(h, NULL, NULL);
	h->closed = NULL;
	table_proc_kill_dying(h);	/* what SIGTERM did not end yet */
	if (h->ev_child != NULL)
		event_free(h->ev_child);
	if (h->ev_reply != NULL)
		event_free(h->ev_reply);
	if (h->ev_restart != NULL)
		event_free(h->ev_restart);
	if (h->ev_stop != NULL)
		event_free(h->ev_stop);
	if (h->exec_fd != -1)
		close(h->exec_fd);
	free(h);
	*hp = NULL;
}
