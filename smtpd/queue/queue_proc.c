/*
 * queue_proc.c -- host of a queue backend for the queue process: linked
 * in (queue_fs.c, queue_ram.c) or a helper program (libexec/queue-*)
 * reached through api/api_host.c, behind queue_host_call().
 *
 * Runs in the queue process, on its libevent loop.  The meaning of each
 * request is api/'s (queue_backend_call for a backend linked in), its
 * bytes are api/queue_proto.c's for a helper: both hosts give the same
 * answers.  A helper's reply that does not decode, or does not fit the
 * request, is a temporary failure and restarts the helper; it never
 * reaches the caller as data and never ends the process.  Nothing here
 * blocks or calls fatal.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_host.h"
#include "log.h"
#include "queue_proc.h"

/* the largest request: ENVELOPE_UPDATE of the largest envelope */
#define QUEUE_HOST_REQUEST_MAX	(8 + QUEUE_API_ENVELOPE_MAX)

struct queue_host {
	/* embedded */
	const struct queue_backend	*b;
	void				*ctx;
	struct queue_walks		 walks;
	char				 env[QUEUE_API_ENVELOPE_MAX];
	int				 closed;	/* queue_host_close */
	/* helper */
	struct api_host			*helper;
	int				 extras;
};

/* a call to a helper, waiting for its reply */
struct queue_host_call {
	struct queue_host	*h;
	enum queue_op		 op;
	uint32_t		 msgid;		/* the request's */
	queue_host_done_fn	 done;
	void			*arg;
};

/* queue_host_fail - complete a call as a temporary failure */
static void
queue_host_fail(enum queue_op op, queue_host_done_fn done, void *arg)
{
	struct queue_msg	m;

	memset(&m, 0, sizeof m);
	m.op = op;
	m.fd = -1;
	m.status = QUEUE_TEMPFAIL;
	done(arg, &m);
}

struct queue_host *
queue_host_embedded(const struct queue_backend *b, const char *root)
{
	struct queue_host	*h;

	if (b->version != QUEUE_BACKEND_V1) {
		log_warnx("queue: backend %s has version %d", b->name,
		    b->version);
		return NULL;
	}
	if ((h = calloc(1, sizeof *h)) == NULL) {
		log_warn("queue: host %s", b->name);
		return NULL;
	}
	if ((h->ctx = b->open(root)) == NULL) {
		free(h);
		return NULL;
	}
	h->b = b;
	return h;
}

/* queue_host_hello_ok - INIT's reply: empty (section 5.2) */
static int
queue_host_hello_ok(struct imsg *reply)
{
	struct queue_msg	m;

	return queue_proto_decode_reply(QUEUE_OP_INIT, reply->data,
	    reply->datalen, &m);
}

/* the queue protocol's side of api_host: INIT, then CLOSE at the end */
static const struct api_host_proto queue_host_proto = {
	.kind = "queue",
	.ok_type = PROC_QUEUE_OK,
	.fd_replies = 1,		/* MESSAGE_FD_R's */
	.hello_type = PROC_QUEUE_INIT,
	.version = PROC_QUEUE_API_VERSION,
	.hello_ok = queue_host_hello_ok,
	.has_bye = 1,
	.bye_type = PROC_QUEUE_CLOSE,
	.bye_wait_ms = QUEUE_HOST_BYE_WAIT_MS,
	.timeout_ms = QUEUE_HOST_TIMEOUT_MS,
	.fifo_max = QUEUE_HOST_FIFO_MAX,
	.backoff_min_ms = 1000,
	.backoff_max_ms = 60 * 1000,
};

struct queue_host *
queue_host_helper(struct event_base *base, const char *name,
    const char *path, char *const argv[], int extras, int timeout_ms)
{
	struct queue_host	*h;

	if ((h = calloc(1, sizeof *h)) == NULL) {
		log_warn("queue: host %s", name);
		return NULL;
	}
	if ((h->helper = api_host_new_proc(base, &queue_host_proto, name,
	    path, argv, timeout_ms)) == NULL) {
		free(h);
		return NULL;
	}
	h->extras = extras;
	return h;
}

/*
 * queue_host_status - the QUEUE_* result of a helper's decoded reply M
 * to a call C (fd: the reply's) in *status; -1 when the reply cannot be
 * a right answer to that request.
 */
static int
queue_host_status(struct queue_host_call *c, struct queue_msg *m, int fd,
    int *status)
{
	/* "the daemon makes no distinction among failure values" (5.2) */
	*status = m->r == 1 ? QUEUE_OK : QUEUE_TEMPFAIL;
	switch (c->op) {
	case QUEUE_OP_INIT:
		*status = QUEUE_OK;
		break;
	case QUEUE_OP_MESSAGE_FD_R:
		*status = fd != -1 ? QUEUE_OK : QUEUE_TEMPFAIL;
		break;
	case QUEUE_OP_ENVELOPE_LOAD:
		*status = m->len > 0 ? QUEUE_OK : QUEUE_NOTFOUND;
		break;
	case QUEUE_OP_ENVELOPE_WALK:
	case QUEUE_OP_MESSAGE_WALK:
		if (m->r < -1)
			return -1;
		/* 0 is "call again"; -1 the end */
		*status = m->r > 0 ? QUEUE_OK : m->r == 0 ? QUEUE_TEMPFAIL :
		    QUEUE_NOTFOUND;
		break;
	case QUEUE_OP_MESSAGE_CREATE:
		if (m->r == 1 && m->msgid == 0)
			return -1;
		break;
	case QUEUE_OP_ENVELOPE_CREATE:
		if (m->r == 1 && ((m->evpid >> 32) != c->msgid ||
		    (uint32_t)m->evpid == 0))
			return -1;
		break;
	default:
		break;
	}
	return 0;
}

/* queue_host_on_reply - a helper's reply (NULL: temporary failure) */
static int
queue_host_on_reply(void *arg, struct imsg *reply)
{
	struct queue_host_call	*c = arg;
	struct queue_msg	 m;
	int			 rc = 0;

	if (reply == NULL) {
		queue_host_fail(c->op, c->done, c->arg);
		free(c);
		return 0;
	}
	if (queue_proto_decode_reply(c->op, reply->data, reply->datalen,
	    &m) == -1 || queue_host_status(c, &m, reply->fd, &m.status) ==
	    -1) {
		log_warnx("%s: bad %s reply of %zu bytes",
		    api_host_name(c->h->helper),
		    queue_proto_name(c->op), reply->datalen);
		queue_host_fail(c->op, c->done, c->arg);
		rc = -1;
	} else {
		if (c->op == QUEUE_OP_MESSAGE_FD_R) {
			m.fd = reply->fd;	/* the caller's now */
			reply->fd = -1;
		}
		c->done(c->arg, &m);
	}
	free(c);
	return rc;
}

/* queue_host_call_helper - encode REQ and queue it on the helper */
static void
queue_host_call_helper(struct queue_host *h, const struct queue_msg *req,
    int fd, queue_host_done_fn done, void *arg)
{
	unsigned char		 buf[QUEUE_HOST_REQUEST_MAX];
	struct wire_writer	 w;
	struct queue_host_call	*c;
	int			 type;

	wire_writer_init(&w, buf, sizeof buf);
	if ((type = queue_proto_type(h->extras, req->op)) == -1 ||
	    queue_proto_encode_request(req, &w) == -1) {
		log_warnx("%s: %s cannot be sent (numbering or size)",
		    api_host_name(h->helper), queue_proto_name(req->op));
		goto fail;
	}
	if (queue_proto_request_fd(req->op) != (fd != -1)) {
		log_warnx("%s: %s %s a body", api_host_name(h->helper),
		    queue_proto_name(req->op), fd == -1 ? "without" : "with");
		goto fail;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("%s: call", api_host_name(h->helper));
		goto fail;
	}
	c->h = h;
	c->op = req->op;
	c->msgid = req->msgid;
	c->done = done;
	c->arg = arg;
	api_host_request(h->helper, (uint32_t)type, fd, w.buf, w.len,
	    queue_host_on_reply, c);
	return;
fail:
	if (fd != -1)
		close(fd);
	queue_host_fail(req->op, done, arg);
}

void
queue_host_call(struct queue_host *h, const struct queue_msg *req, int fd,
    queue_host_done_fn done, void *arg)
{
	struct queue_msg	out;

	if (req->op == QUEUE_OP_INIT) {
		/* the host's own handshake, never a caller's */
		log_warnx("queue: INIT is the host's to send");
		if (fd != -1)
			close(fd);
		queue_host_fail(req->op, done, arg);
		return;
	}
	if (h->helper != NULL) {
		queue_host_call_helper(h, req, fd, done, arg);
		return;
	}
	if (h->closed) {
		log_warnx("queue: %s after close", queue_proto_name(req->op));
		if (fd != -1)
			close(fd);
		queue_host_fail(req->op, done, arg);
		return;
	}
	queue_backend_call(h->b, h->ctx, &h->walks, req, fd, &out, h->env,
	    sizeof h->env);
	if (fd != -1)
		close(fd);
	done(arg, &out);
}

long
queue_host_pid(const struct queue_host *h)
{
	return h->helper != NULL ? api_host_pid(h->helper) : -1;
}

unsigned int
queue_host_starts(const struct queue_host *h)
{
	return h->helper != NULL ? api_host_starts(h->helper) : 0;
}

/* queue_host_close_embedded - the backend's end: walks, then close */
static void
queue_host_close_embedded(struct queue_host *h)
{
	if (h->closed)
		return;
	h->closed = 1;
	queue_backend_walks_close(h->b, h->ctx, &h->walks);
	h->b->close(h->ctx);
}

void
queue_host_close(struct queue_host *h, queue_host_stopped_fn stopped,
    void *arg)
{
	if (h->helper != NULL) {
		/* CLOSE, EOF, then signals if it stays (api_host_proto) */
		api_host_close(h->helper, stopped, arg);
		return;
	}
	queue_host_close_embedded(h);
	if (stopped != NULL)
		stopped(arg);
}

void
queue_host_free(struct queue_host **hp)
{
	struct queue_host	*h = *hp;

	if (h == NULL)
		return;
	if (h->helper != NULL)
		api_host_free(&h->helper);
	else
		queue_host_close_embedded(h);
	free(h);
	*hp = NULL;
}
