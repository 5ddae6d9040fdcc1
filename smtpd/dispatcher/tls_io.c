/*
 * tls_io.c -- TLS for libevent bufferevents on libtls (see tls_io.h).
 *
 * Choice: libtls's socket API (tls_accept_socket, tls_connect_socket,
 * then tls_handshake / tls_read / tls_write on the nonblocking socket,
 * which answer TLS_WANT_POLLIN / TLS_WANT_POLLOUT) driven by two
 * one-shot events, rather than tls_accept_cbs over a socket
 * bufferevent: the socket API keeps the socket's own readiness as the
 * only source of truth (no second buffer to keep in step, no filter
 * that must be re-run when OpenSSL holds decrypted records the socket
 * no longer signals).  The user side is one end of a bufferevent pair
 * (deferred callbacks, so no user code runs inside a pump): what the
 * user writes arrives in our end's input and goes to tls_write; what
 * tls_read gives is written to our end and reaches the user as input.
 * Reading stops while TLS_IO_INPUT_MAX bytes wait for the user and
 * resumes when they are taken (our end's write callback).
 *
 * A handshake runs inside an OpenSSL ASYNC job (a fibre of its own), so
 * that a private-key operation whose answer comes later (ca, for the
 * dispatcher) can pause it: the operation takes the callback we put in
 * the job's wait context, calls ASYNC_pause_job() until its answer is
 * in, then calls the callback; we resume the job from the event loop.
 * A tls_io freed while its job is paused lingers, with no event but the
 * resume, until that answer (or its timeout) lets the job end.
 *
 * Runs in whatever process hosts it, on its event loop.  What it must
 * never do: block (every libtls call is on a nonblocking socket), run
 * user code from inside a pump other than the final done() call, or
 * keep a session alive past TLS_IO_LINGER_MS after tls_io_free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/async.h>
#include <openssl/err.h>
#include <tls.h>

#include "tls_io.h"

#define TLS_IO_CHUNK	16384
#define TLS_IO_PAUSED	(-100)	/* the handshake's job waits for an answer */

struct tls_io {
	struct event_base	*base;
	struct tls		*conn;
	int			 fd;
	struct event		*evr, *evw, *timer;
	struct event		*resume;	/* the job's answer is in */
	ASYNC_JOB		*job;		/* a paused handshake */
	ASYNC_WAIT_CTX		*wctx;
	int			 hs_ret;	/* tls_handshake's, in the job */
	int			 zombie;	/* freed while paused */
	int			 done_told;
	struct bufferevent	*pair[2];	/* [0] the user's, [1] ours */
	tls_io_done_fn		 done;
	void			*arg;
	int			 handshaken;
	int			 eof;		/* the peer closed */
	int			 eof_told;
	int			 failed;
	int			 failed_told;
	int			 detached;	/* tls_io_free was called */
	int			 need_r, need_w;
	char			 error[256];
};

static void	tls_io_pump(struct tls_io *);

/* tls_io_destroy - the last of IO (deferred while its job is paused) */
static void
tls_io_destroy(struct tls_io *io)
{
	if (io->job != NULL) {
		io->zombie = 1;
		event_del(io->evr);
		event_del(io->evw);
		event_del(io->timer);
		return;
	}
	if (io->resume != NULL)
		event_free(io->resume);
	if (io->wctx != NULL)
		ASYNC_WAIT_CTX_free(io->wctx);
	if (io->evr != NULL)
		event_free(io->evr);
	if (io->evw != NULL)
		event_free(io->evw);
	if (io->timer != NULL)
		event_free(io->timer);
	if (io->pair[0] != NULL)
		bufferevent_free(io->pair[0]);
	if (io->pair[1] != NULL)
		bufferevent_free(io->pair[1]);
	if (io->conn != NULL)
		tls_free(io->conn);
	if (io->fd != -1)
		close(io->fd);
	free(io);
}

static void
tls_io_on_socket(evutil_socket_t fd, short what, void *arg)
{
	tls_io_pump(arg);
}

/* tls_io_tell_done - the handshake's outcome, to the user, once; the
 * user's last call from a pump: it may free IO */
static void
tls_io_tell_done(struct tls_io *io)
{
	if (io->done_told || io->detached)
		return;
	io->done_told = 1;
	evtimer_del(io->timer);
	io->done(io->arg, io, !io->failed, io->error);
}

/* tls_io_on_timer - the handshake, or the linger, took too long */
static void
tls_io_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tls_io	*io = arg;

	if (io->detached) {
		tls_io_destroy(io);
		return;
	}
	if (io->handshaken)
		return;
	io->failed = 1;
	snprintf(io->error, sizeof io->error, "handshake timeout");
	event_del(io->evr);
	event_del(io->evw);
	tls_io_tell_done(io);
}

/* tls_io_step - one tls_handshake, in IO's job: its answer, or
 * TLS_IO_PAUSED while the job waits (a direct call when the platform
 * has no ASYNC jobs: then nothing can pause) */
static int
tls_io_job(void *arg)
{
	struct tls_io	*io = *(struct tls_io **)arg;

	io->hs_ret = (int)tls_handshake(io->conn);
	return 0;
}

static ssize_t
tls_io_step(struct tls_io *io)
{
	int	ret;

	ERR_clear_error();	/* a finished call's leftovers */
	switch (ASYNC_start_job(&io->job, io->wctx, &ret, tls_io_job, &io,
	    sizeof io)) {
	case ASYNC_PAUSE:
		return TLS_IO_PAUSED;
	case ASYNC_FINISH:
		io->job = NULL;
		return io->hs_ret;
	default:
		io->job = NULL;
		return tls_handshake(io->conn);
	}
}

/* tls_io_on_answer - the job's wait context callback: called by the
 * operation that paused it once its answer is in; never reenters */
static int
tls_io_on_answer(void *arg)
{
	struct tls_io	*io = arg;

	event_active(io->resume, EV_TIMEOUT, 1);
	return 1;
}

/* tls_io_on_resume - go on with the paused handshake */
static void
tls_io_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct tls_io	*io = arg;

	if (io->job == NULL)
		return;
	if (!io->zombie && !io->failed) {
		tls_io_pump(io);
		return;
	}
	/* freed, or timed out: only let the job end */
	if (tls_io_step(io) != TLS_IO_PAUSED && io->zombie)
		tls_io_destroy(io);
}

static void
tls_io_on_user_data(struct bufferevent *bev, void *arg)
{
	tls_io_pump(arg);
}

static void
tls_io_on_pair_event(struct bufferevent *bev, short what, void *arg)
{
	tls_io_pump(arg);
}

/* tls_io_new - IO on FD with its events; NULL (FD closed) on failure */
static struct tls_io *
tls_io_new(struct event_base *base, int fd, unsigned int timeout_ms,
    tls_io_done_fn done, void *arg)
{
	struct tls_io	*io;
	struct timeval	 tv;

	if ((io = calloc(1, sizeof *io)) == NULL) {
		close(fd);
		return NULL;
	}
	io->base = base;
	io->fd = fd;
	io->done = done;
	io->arg = arg;
	io->evr = event_new(base, fd, EV_READ, tls_io_on_socket, io);
	io->evw = event_new(base, fd, EV_WRITE, tls_io_on_socket, io);
	io->timer = evtimer_new(base, tls_io_on_timer, io);
	io->resume = event_new(base, -1, 0, tls_io_on_resume, io);
	if ((io->wctx = ASYNC_WAIT_CTX_new()) != NULL &&
	    ASYNC_WAIT_CTX_set_callback(io->wctx, tls_io_on_answer, io) != 1) {
		ASYNC_WAIT_CTX_free(io->wctx);
		io->wctx = NULL;
	}
	if (io->evr == NULL || io->evw == NULL || io->timer == NULL ||
	    io->resume == NULL || io->wctx == NULL) {
		tls_io_destroy(io);
		return NULL;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(io->timer, &tv);
	event_active(io->evw, EV_WRITE, 1);	/* first pump on the loop */
	return io;
}

struct tls_io *
tls_io_server(struct event_base *base, struct tls *ctx, int fd,
    unsigned int timeout_ms, tls_io_done_fn done, void *arg)
{
	struct tls_io	*io;

	if ((io = tls_io_new(base, fd, timeout_ms, done, arg)) == NULL)
		return NULL;
	if (tls_accept_socket(ctx, &io->conn, fd) == -1) {
		io->failed = 1;
		snprintf(io->error, sizeof io->error, "%s", tls_error(ctx));
	}
	return io;
}

struct tls_io *
tls_io_client(struct event_base *base, struct tls *ctx, int fd,
    const char *servername, unsigned int timeout_ms, tls_io_done_fn done,
    void *arg)
{
	struct tls_io	*io;

	if ((io = tls_io_new(base, fd, timeout_ms, done, arg)) == NULL) {
		tls_free(ctx);
		return NULL;
	}
	io->conn = ctx;
	if (tls_connect_socket(ctx, fd, servername) == -1) {
		io->failed = 1;
		snprintf(io->error, sizeof io->error, "%s", tls_error(ctx));
	}
	return io;
}

/* tls_io_want - R, a libtls answer, asks for an event: note it; 1 */
static int
tls_io_want(struct tls_io *io, ssize_t r)
{
	if (r == TLS_WANT_POLLIN)
		io->need_r = 1;
	else if (r == TLS_WANT_POLLOUT)
		io->need_w = 1;
	else
		return 0;
	return 1;
}

const char *
tls_io_error(const struct tls_io *io)
{
	return io->failed && io->error[0] != '\0' ? io->error : NULL;
}

/* tls_io_fail - a TLS or socket error */
static void
tls_io_fail(struct tls_io *io)
{
	const char	*e = tls_error(io->conn);

	io->failed = 1;
	snprintf(io->error, sizeof io->error, "%s", e ? e : "I/O error");
}

/* tls_io_handshake - 1 when over (either way), 0 while going on */
static int
tls_io_handshake(struct tls_io *io)
{
	ssize_t	r;

	if (!io->failed) {
		if ((r = tls_io_step(io)) == TLS_IO_PAUSED)
			return 0;	/* no event: the answer resumes us */
		if (tls_io_want(io, r))
			return 0;
		if (r == -1)
			tls_io_fail(io);
	}
	evtimer_del(io->timer);
	if (io->failed)
		return 1;
	if (bufferevent_pair_new(io->base, BEV_OPT_DEFER_CALLBACKS,
	    io->pair) == -1) {
		io->failed = 1;
		snprintf(io->error, sizeof io->error, "out of memory");
		return 1;
	}
	bufferevent_setcb(io->pair[1], tls_io_on_user_data,
	    tls_io_on_user_data, tls_io_on_pair_event, io);
	bufferevent_setwatermark(io->pair[1], EV_WRITE, TLS_IO_INPUT_MAX / 2,
	    0);
	bufferevent_enable(io->pair[1], EV_READ | EV_WRITE);
	io->handshaken = 1;
	event_active(io->evr, EV_READ, 1);	/* records already decrypted */
	return 1;
}

/* tls_io_send - what the user wrote, to the peer */
static void
tls_io_send(struct tls_io *io)
{
	struct evbuffer	*in = bufferevent_get_input(io->pair[1]);
	unsigned char	*p;
	size_t		 n;
	ssize_t		 r;

	while (!io->failed && (n = evbuffer_get_length(in)) > 0) {
		if (n > TLS_IO_CHUNK)
			n = TLS_IO_CHUNK;
		if ((p = evbuffer_pullup(in, n)) == NULL)
			return;
		r = tls_write(io->conn, p, n);
		if (tls_io_want(io, r))
			return;
		if (r == -1)
			tls_io_fail(io);
		else
			evbuffer_drain(in, (size_t)r);
	}
}

/* tls_io_receive - what the peer sent, to the user */
static void
tls_io_receive(struct tls_io *io)
{
	unsigned char	buf[TLS_IO_CHUNK];
	ssize_t		r;

	while (!io->failed && !io->eof && evbuffer_get_length(
	    bufferevent_get_output(io->pair[1])) < TLS_IO_INPUT_MAX) {
		r = tls_read(io->conn, buf, sizeof buf);
		if (tls_io_want(io, r))
			break;
		if (r == -1)
			tls_io_fail(io);
		else if (r == 0)
			io->eof = 1;
		else if (bufferevent_write(io->pair[1], buf, (size_t)r) == -1)
			io->failed = 1;
	}
	explicit_bzero(buf, sizeof buf);
}

/* tls_io_tell - EOF (once its data is taken) or an error, to the user */
static void
tls_io_tell(struct tls_io *io)
{
	if (io->failed && !io->failed_told) {
		io->failed_told = 1;
		bufferevent_trigger_event(io->pair[0], BEV_EVENT_ERROR |
		    BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
	} else if (io->eof && !io->eof_told && evbuffer_get_length(
	    bufferevent_get_output(io->pair[1])) == 0) {
		io->eof_told = 1;
		bufferevent_trigger_event(io->pair[0], BEV_EVENT_EOF |
		    BEV_EVENT_READING, BEV_TRIG_DEFER_CALLBACKS);
	}
}

/* tls_io_linger - after tls_io_free: flush, close_notify, destroy;
 * 1 when IO is gone */
static int
tls_io_linger(struct tls_io *io)
{
	ssize_t	r;

	if (!io->failed && evbuffer_get_length(
	    bufferevent_get_input(io->pair[1])) > 0)
		return 0;
	if (!io->failed) {
		r = tls_close(io->conn);
		if (tls_io_want(io, r))
			return 0;
	}
	tls_io_destroy(io);
	return 1;
}

/* tls_io_pump - move what can move; arm the events still needed */
static void
tls_io_pump(struct tls_io *io)
{
	io->need_r = io->need_w = 0;
	if (!io->handshaken) {
		if (io->failed) {
			tls_io_tell_done(io);
			return;
		}
		if (!tls_io_handshake(io))
			goto arm;
		tls_io_tell_done(io);
		return;
	}
	tls_io_send(io);
	if (io->detached) {
		if (tls_io_linger(io))
			return;
		goto arm;
	}
	tls_io_receive(io);
	tls_io_tell(io);
	if (io->failed)
		return;
arm:
	if (io->need_r)
		event_add(io->evr, NULL);
	if (io->need_w)
		event_add(io->evw, NULL);
}

struct bufferevent *
tls_io_bufferevent(struct tls_io *io)
{
	return io->handshaken ? io->pair[0] : NULL;
}

struct tls *
tls_io_conn(struct tls_io *io)
{
	return io->conn;
}

void
tls_io_free(struct tls_io **iop)
{
	struct tls_io	*io = *iop;
	struct timeval	 tv = { TLS_IO_LINGER_MS / 1000,
			    (TLS_IO_LINGER_MS % 1000) * 1000 };

	if (io == NULL)
		return;
	*iop = NULL;
	if (!io->handshaken || io->failed) {
		tls_io_destroy(io);
		return;
	}
	io->detached = 1;
	bufferevent_free(io->pair[0]);
	io->pair[0] = NULL;
	evtimer_add(io->timer, &tv);
	event_active(io->evw, EV_WRITE, 1);
}
