/*
 * scheduler_proc.c -- host of a scheduler backend for the scheduler
 * process: linked in (scheduler_ramqueue.c) or a helper program
 * (libexec/scheduler-*) reached through api/api_host.c, behind
 * scheduler_host_call().
 *
 * Runs in the scheduler process, on its libevent loop.  The meaning of
 * each request is api/'s (scheduler_backend_call for a backend linked
 * in), its bytes are api/scheduler_proto.c's for a helper: both hosts
 * give the same answers.  A helper's reply that does not decode or does
 * not fit the request (a batch larger than asked, a delay below -1, an
 * error batch) is a temporary failure and restarts the helper; the
 * 6.8 daemon would have died of it.  Nothing here blocks or calls fatal.
 */
#include <stdlib.h>
#include <string.h>

#include "api_host.h"
#include "log.h"
#include "scheduler_proc.h"

struct scheduler_host {
	const struct scheduler_backend	*b;		/* embedded */
	void				*ctx;
	int				 closed;	/* embedded, closed */
	struct api_host			*helper;	/* or a helper */
	/* the arrays of one reply */
	uint64_t			 evpids[SCHEDULER_API_BATCH_MAX];
	int				 types[SCHEDULER_API_BATCH_MAX];
	uint32_t			 msgids[SCHEDULER_PROTO_MESSAGES_MAX];
	struct evpstate			 states[SCHEDULER_PROTO_ENVELOPES_MAX];
};

/* a call to a helper, waiting for its reply */
struct scheduler_host_call {
	struct scheduler_host	*h;
	uint32_t		 type;
	size_t			 want;		/* BATCH, MESSAGES, ENVELOPES */
	scheduler_host_done_fn	 done;
	void			*arg;
};

/* scheduler_host_reply - an empty reply of TYPE with the host's arrays */
static void
scheduler_host_reply(struct scheduler_host *h, uint32_t type,
    struct scheduler_msg *m)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	m->evpids = h->evpids;
	m->types = h->types;
	m->msgids = h->msgids;
	m->states = h->states;
}

/* scheduler_host_fail - complete a call as a temporary failure */
static void
scheduler_host_fail(struct scheduler_host *h, uint32_t type,
    scheduler_host_done_fn done, void *arg)
{
	struct scheduler_msg	m;

	scheduler_host_reply(h, type, &m);
	m.tempfail = 1;
	m.delay = -1;
	done(arg, &m);
}

struct scheduler_host *
scheduler_host_embedded(const struct scheduler_backend *b)
{
	struct scheduler_host	*h;

	if (b->version != SCHEDULER_BACKEND_V1) {
		log_warnx("scheduler: backend %s has version %d", b->name,
		    b->version);
		return NULL;
	}
	if ((h = calloc(1, sizeof *h)) == NULL) {
		log_warn("scheduler: host %s", b->name);
		return NULL;
	}
	if ((h->ctx = b->open()) == NULL) {
		free(h);
		return NULL;
	}
	h->b = b;
	/* the handshake a helper gets; its r is ignored, as the daemon does */
	if (b->init != NULL)
		(void)b->init(h->ctx);
	return h;
}

/* scheduler_host_hello_ok - INIT's reply: r, whose value is ignored */
static int
scheduler_host_hello_ok(struct imsg *reply)
{
	struct scheduler_msg	m;

	memset(&m, 0, sizeof m);
	return scheduler_proto_decode_reply(PROC_SCHEDULER_INIT, reply->data,
	    reply->datalen, &m);
}

/* the scheduler protocol's side of api_host: INIT; no CLOSE in this
 * protocol, EOF says it */
static const struct api_host_proto scheduler_host_proto = {
	.kind = "scheduler",
	.ok_type = PROC_SCHEDULER_OK,
	.hello_type = PROC_SCHEDULER_INIT,
	.version = PROC_SCHEDULER_API_VERSION,
	.hello_ok = scheduler_host_hello_ok,
	.bye_wait_ms = SCHEDULER_HOST_BYE_WAIT_MS,
	.timeout_ms = SCHEDULER_HOST_TIMEOUT_MS,
	.fifo_max = SCHEDULER_HOST_FIFO_MAX,
	.backoff_min_ms = 1000,
	.backoff_max_ms = 60 * 1000,
};

struct scheduler_host *
scheduler_host_helper(struct event_base *base, const char *name,
    const char *path, char *const argv[], int timeout_ms)
{
	struct scheduler_host	*h;

	if ((h = calloc(1, sizeof *h)) == NULL) {
		log_warn("scheduler: host %s", name);
		return NULL;
	}
	if ((h->helper = api_host_new_proc(base, &scheduler_host_proto, name,
	    path, argv, timeout_ms)) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

/* scheduler_host_cap - the most entries a reply to TYPE may carry */
static size_t
scheduler_host_cap(uint32_t type, size_t want)
{
	size_t	max;

	switch (type) {
	case PROC_SCHEDULER_BATCH:
		max = SCHEDULER_API_BATCH_MAX;
		break;
	case PROC_SCHEDULER_MESSAGES:
		max = SCHEDULER_PROTO_MESSAGES_MAX;
		break;
	case PROC_SCHEDULER_ENVELOPES:
		max = SCHEDULER_PROTO_ENVELOPES_MAX;
		break;
	default:
		return 0;
	}
	return want < max ? want : max;
}

/* scheduler_host_on_reply - a helper's reply (NULL: temporary failure) */
static int
scheduler_host_on_reply(void *arg, struct imsg *reply)
{
	struct scheduler_host_call	*c = arg;
	struct scheduler_host		*h = c->h;
	struct scheduler_msg		 m;

	if (reply == NULL) {
		scheduler_host_fail(h, c->type, c->done, c->arg);
		free(c);
		return 0;
	}
	scheduler_host_reply(h, c->type, &m);
	m.cap = scheduler_host_cap(c->type, c->want);
	if (scheduler_proto_decode_reply(c->type, reply->data,
	    reply->datalen, &m) == -1 || (c->type == PROC_SCHEDULER_BATCH &&
	    (m.r < 0 || (m.r == 0 && m.delay < -1)))) {
		log_warnx("%s: bad %s reply of %zu bytes",
		    api_host_name(h->helper),
		    scheduler_proto_name(c->type), reply->datalen);
		scheduler_host_fail(h, c->type, c->done, c->arg);
		free(c);
		return -1;
	}
	c->done(c->arg, &m);
	free(c);
	return 0;
}

void
scheduler_host_call(struct scheduler_host *h, const struct scheduler_msg *req,
    scheduler_host_done_fn done, void *arg)
{
	unsigned char			 buf[128];	/* INSERT: 56 */
	struct scheduler_host_call	*c;
	struct scheduler_msg		 out;
	struct wire_writer		 w;

	if (req->type == PROC_SCHEDULER_INIT) {
		/* the host's own handshake, never a caller's */
		log_warnx("scheduler: INIT is the host's to send");
		scheduler_host_fail(h, req->type, done, arg);
		return;
	}
	if (h->helper == NULL && h->closed) {
		log_warnx("scheduler: %s after close",
		    scheduler_proto_name(req->type));
		scheduler_host_fail(h, req->type, done, arg);
		return;
	}
	if (h->helper == NULL) {
		scheduler_host_reply(h, req->type, &out);
		scheduler_backend_call(h->b, h->ctx, req, &out);
		/* what restarts a helper: the same answer from a backend */
		if (out.type == PROC_SCHEDULER_BATCH && out.r < 0) {
			log_warnx("scheduler: %s: batch error", h->b->name);
			scheduler_host_fail(h, req->type, done, arg);
			return;
		}
		done(arg, &out);
		return;
	}
	wire_writer_init(&w, buf, sizeof buf);
	if (scheduler_proto_encode_request(req, &w) == -1) {
		log_warnx("%s: %s cannot be sent", api_host_name(h->helper),
		    scheduler_proto_name(req->type));
		scheduler_host_fail(h, req->type, done, arg);
		return;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("%s: call", api_host_name(h->helper));
		scheduler_host_fail(h, req->type, done, arg);
		return;
	}
	c->h = h;
	c->type = req->type;
	c->want = req->count;
	c->done = done;
	c->arg = arg;
	api_host_request(h->helper, req->type, -1, w.buf, w.len,
	    scheduler_host_on_reply, c);
}

long
scheduler_host_pid(const struct scheduler_host *h)
{
	return h->helper != NULL ? api_host_pid(h->helper) : -1;
}

void
scheduler_host_close(struct scheduler_host *h,
    scheduler_host_stopped_fn stopped, void *arg)
{
	if (h->helper != NULL) {
		/* EOF, then signals if it stays (api_host_proto) */
		api_host_close(h->helper, stopped, arg);
		return;
	}
	if (!h->closed) {
		h->closed = 1;
		h->b->close(h->ctx);
	}
	if (stopped != NULL)
		stopped(arg);
}

void
scheduler_host_free(struct scheduler_host **hp)
{
	struct scheduler_host	*h = *hp;

	if (h == NULL)
		return;
	if (h->helper != NULL)
		api_host_free(&h->helper);
	else if (!h->closed)
		h->b->close(h->ctx);
	free(h);
	*hp = NULL;
}
