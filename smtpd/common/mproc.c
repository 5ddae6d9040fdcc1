/*
 * mproc.c -- libevent-driven imsg channels (see mproc.h).
 *
 * Runs in every process.  Reads are drained frame by frame into the
 * handler table; writes are armed only while output is queued.  A channel
 * that is lost is closed exactly once and its owner told through on_lost;
 * only trusted channels may turn bad input into fatalx.  It reads no
 * program global: the event base and our own name come with the channel.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "mproc.h"
#include "xmalloc.h"

static void	mproc_on_event(evutil_socket_t, short, void *);
static void	mproc_on_write(evutil_socket_t, short, void *);

/* mproc_watch - the read event, armed for good, and the flush event */
static void
mproc_watch(struct mproc *p)
{
	p->ev = event_new(p->evb, p->ib.fd, EV_READ | EV_PERSIST,
	    mproc_on_event, p);
	p->evw = event_new(p->evb, p->ib.fd, EV_WRITE, mproc_on_write, p);
	if (p->ev == NULL || p->evw == NULL || event_add(p->ev, NULL) == -1)
		fatalx("mproc: cannot watch channel to %s", proc_name(p->peer));
}

/*
 * mproc_flush_soon - what is queued goes at the end of this turn of the
 * loop, in one write with whatever else is composed meanwhile; the
 * socket's writability is waited for only when it is full
 */
static void
mproc_flush_soon(struct mproc *p)
{
	if (p->closed || p->flushing || !imsgbuf_queued(&p->ib))
		return;
	p->flushing = 1;
	event_active(p->evw, EV_WRITE, 1);
}

struct mproc *
mproc_new(struct event_base *evb, enum proc_id self, int fd,
    enum proc_id peer, int trusted,
    const struct imsg_handler *handlers, size_t nhandlers,
    void (*on_lost)(struct mproc *, const char *))
{
	struct mproc	*p;

	p = xcalloc(1, sizeof *p);
	if (imsgbuf_init(&p->ib, fd) == -1)
		fatal("mproc: imsgbuf_init");
	p->evb = evb;
	p->self = self;
	p->peer = peer;
	p->trusted = trusted;
	p->handlers = handlers;
	p->nhandlers = nhandlers;
	p->on_lost = on_lost;
	mproc_watch(p);
	return p;
}

void
mproc_close(struct mproc *p, const char *why)
{
	if (p->closed)
		return;
	p->closed = 1;
	if (p->ev) {
		event_del(p->ev);
		event_free(p->ev);
		p->ev = NULL;
	}
	if (p->evw) {
		event_del(p->evw);
		event_free(p->evw);
		p->evw = NULL;
	}
	close(p->ib.fd);
	imsgbuf_clear(&p->ib);
	p->why = why;
}

void
mproc_free(struct mproc **pp)
{
	if (*pp == NULL)
		return;
	mproc_close(*pp, "freed");
	free(*pp);
	*pp = NULL;
}

/* mproc_fault - bad input on a channel: fatal if ours, else drop it */
static void
mproc_fault(struct mproc *p, const char *what, uint32_t type)
{
	if (p->trusted)
		fatalx("%s: %s %s from %s", proc_name(p->self), what,
		    imsg_name(type), proc_name(p->peer));
	log_warnx("%s: dropping %s: %s %s", proc_name(p->self),
	    proc_name(p->peer), what, imsg_name(type));
	mproc_close(p, what);
}

void
mproc_bad_payload(struct mproc *p, struct imsg *imsg)
{
	mproc_fault(p, "malformed payload in", imsg->hdr.type);
}

/* mproc_dispatch - run one message through the handler table */
static void
mproc_dispatch(struct mproc *p, struct imsg *imsg)
{
	const struct imsg_handler	*h;
	size_t				 i;
	int				 known = 0;

	log_trace(TRACE_IMSG, "imsg: %s <- %s: %s len=%zu fd=%d",
	    proc_name(p->self), proc_name(p->peer),
	    imsg_name(imsg->hdr.type), imsg->datalen, imsg->fd);
	for (i = 0; i < p->nhandlers; i++) {
		h = &p->handlers[i];
		if (h->type != imsg->hdr.type)
			continue;
		known = 1;
		if (h->from != p->peer &&
		    !(h->from == PROC_ANY && p->peer != PROC_CLIENT))
			continue;
		if (!imsg_route_ok(imsg->hdr.type, p->peer, p->self))
			break;
		h->fn(p, imsg);
		return;
	}
	mproc_fault(p, known ? "misrouted" : "unexpected", imsg->hdr.type);
}

static void
mproc_on_read(struct mproc *p)
{
	struct imsg	imsg;
	ssize_t		n;
	int		r;

	n = imsgbuf_read(&p->ib);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0) {
		mproc_close(p, "connection closed");
		return;
	}
	if (n == -1) {
		log_warn("%s: read from %s", proc_name(p->self),
		    proc_name(p->peer));
		mproc_close(p, "read error");
		return;
	}
	while (!p->closed && (r = imsg_get(&p->ib, &imsg)) != 0) {
		if (r == -1) {
			mproc_fault(p, "malformed frame", 0);
			return;
		}
		mproc_dispatch(p, &imsg);
		imsg_free(&imsg);
	}
}

/* mproc_lost - the end of an event that closed P: tell its owner */
static void
mproc_lost(struct mproc *p)
{
	/* last use of p: on_lost may free it */
	if (p->on_lost)
		p->on_lost(p, p->why);
}

static void
mproc_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct mproc	*p = arg;

	mproc_on_read(p);
	if (p->closed)
		mproc_lost(p);
}

static void
mproc_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct mproc	*p = arg;

	p->flushing = 0;
	if (imsgbuf_write(&p->ib) == -1)
		mproc_close(p, "write error");
	if (p->closed) {
		mproc_lost(p);
		return;
	}
	if (imsgbuf_queued(&p->ib)) {
		/* the socket is full: wait until it drains */
		p->flushing = 1;
		if (event_add(p->evw, NULL) == -1)
			fatalx("mproc: cannot watch channel to %s",
			    proc_name(p->peer));
	}
}

int
mproc_compose(struct mproc *p, uint32_t type, int fd, const void *data,
    size_t len)
{
	if (p->closed) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	log_trace(TRACE_IMSG, "imsg: %s -> %s: %s len=%zu fd=%d",
	    proc_name(p->self), proc_name(p->peer), imsg_name(type), len,
	    fd);
	if (imsg_compose(&p->ib, type, 0, fd, data, len) == -1)
		return -1;
	mproc_flush_soon(p);
	return 0;
}

void
mproc_send(struct mproc *p, uint32_t type, int fd, const void *data,
    size_t len)
{
	if (mproc_compose(p, type, fd, data, len) == -1 && p->trusted)
		fatal("%s: cannot send %s to %s", proc_name(p->self),
		    imsg_name(type), proc_name(p->peer));
}

size_t
mproc_queued_bytes(const struct mproc *p)
{
	return p->ib.out_bytes;
}
