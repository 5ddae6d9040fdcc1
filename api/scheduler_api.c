/*
 * scheduler_api.c -- helper side of the proc scheduler protocol
 * (scheduler_api.h): scheduler_api_serve() serves any struct
 * scheduler_backend, and the callbacks of OpenSMTPD's extras glue
 * (scheduler_api_on_*) are one such backend.
 *
 * Runs inside a scheduler helper (libexec/scheduler-*), started as root
 * by the daemon's scheduler process with the socket on fd 0.  The
 * conversation is a synchronous RPC (libexec-protocols.md 1.3 and 6):
 * one request, one reply of type PROC_SCHEDULER_OK.  Requests are parsed
 * with the wire reader: a wrong size, leftover bytes, an unknown type or
 * an fd is a protocol violation that ends the loop with status 1 before
 * any callback runs; it is never a crash.  A driver's answer that would
 * not fit the reply is clamped or refused here and logged, so the daemon
 * only ever reads well-formed replies.  Nothing here calls exit.
 */
#include <stdint.h>
#include <string.h>

#include "smtpd-api.h"
#include "scheduler_api.h"
#include "scheduler_proto.h"
#include "api_proc.h"

#ifndef PATH_SMTPD_CHROOT
#define PATH_SMTPD_CHROOT	"/var/empty"
#endif
#ifndef SMTPD_USER
#define SMTPD_USER		"_smtpd"
#endif

/* the largest reply: a full MESSAGES or ENVELOPES array */
#define SCHEDULER_API_REPLY_MAX	IMSG_MAX_PAYLOAD

static struct {
	int	(*on_init)(void);
	int	(*on_insert)(struct scheduler_info *);
	size_t	(*on_commit)(uint32_t);
	size_t	(*on_rollback)(uint32_t);
	int	(*on_update)(struct scheduler_info *);
	int	(*on_delete)(uint64_t);
	int	(*on_hold)(uint64_t, uint64_t);
	int	(*on_release)(int, uint64_t, int);
	int	(*on_batch)(int, int *, size_t *, uint64_t *, int *);
	size_t	(*on_messages)(uint32_t, uint32_t *, size_t);
	size_t	(*on_envelopes)(uint64_t, struct evpstate *, size_t);
	int	(*on_schedule)(uint64_t);
	int	(*on_remove)(uint64_t);
	int	(*on_suspend)(uint64_t);
	int	(*on_resume)(uint64_t);
	struct api_proc	 proc;
	/* the backend being served */
	const struct scheduler_backend	*b;
	void				*ctx;
} scheduler_api = {
	.proc = {
		.name = "scheduler-api",
		.ok_type = PROC_SCHEDULER_OK,
		.privdrop = 1,
		.chroot = PATH_SMTPD_CHROOT,
		.user = SMTPD_USER,
	},
};


void
scheduler_api_on_init(int (*cb)(void))
{
	scheduler_api.on_init = cb;
}

void
scheduler_api_on_insert(int (*cb)(struct scheduler_info *))
{
	scheduler_api.on_insert = cb;
}

void
scheduler_api_on_commit(size_t (*cb)(uint32_t))
{
	scheduler_api.on_commit = cb;
}

void
scheduler_api_on_rollback(size_t (*cb)(uint32_t))
{
	scheduler_api.on_rollback = cb;
}

void
scheduler_api_on_update(int (*cb)(struct scheduler_info *))
{
	scheduler_api.on_update = cb;
}

void
scheduler_api_on_delete(int (*cb)(uint64_t))
{
	scheduler_api.on_delete = cb;
}

void
scheduler_api_on_hold(int (*cb)(uint64_t, uint64_t))
{
	scheduler_api.on_hold = cb;
}

void
scheduler_api_on_release(int (*cb)(int, uint64_t, int))
{
	scheduler_api.on_release = cb;
}

void
scheduler_api_on_batch(int (*cb)(int, int *, size_t *, uint64_t *, int *))
{
	scheduler_api.on_batch = cb;
}

void
scheduler_api_on_messages(size_t (*cb)(uint32_t, uint32_t *, size_t))
{
	scheduler_api.on_messages = cb;
}

void
scheduler_api_on_envelopes(size_t (*cb)(uint64_t, struct evpstate *,
    size_t))
{
	scheduler_api.on_envelopes = cb;
}

void
scheduler_api_on_schedule(int (*cb)(uint64_t))
{
	scheduler_api.on_schedule = cb;
}

void
scheduler_api_on_remove(int (*cb)(uint64_t))
{
	scheduler_api.on_remove = cb;
}

void
scheduler_api_on_suspend(int (*cb)(uint64_t))
{
	scheduler_api.on_suspend = cb;
}

void
scheduler_api_on_resume(int (*cb)(uint64_t))
{
	scheduler_api.on_resume = cb;
}

void
scheduler_api_no_chroot(void)
{
	scheduler_api.proc.chroot = NULL;
}

void
scheduler_api_set_chroot(const char *path)
{
	scheduler_api.proc.chroot = path;
}

void
scheduler_api_set_user(const char *user)
{
	scheduler_api.proc.user = user;
}

int
scheduler_api_init(const char *progname, int argc, char *argv[])
{
	return api_proc_init(&scheduler_api.proc, progname, argc, argv,
	    "[-nv] [-c dir] [-u user]");
}

/*
 * The backend of the extras callbacks: each method calls the registered
 * callback, or answers what the glue always answered without one.
 */
static void *
scheduler_api_cb_open(void)
{
	return &scheduler_api;
}

static void
scheduler_api_cb_close(void *ctx)
{
}

static int
scheduler_api_cb_init(void *ctx)
{
	return scheduler_api.on_init ? scheduler_api.on_init() : 1;
}

static int
scheduler_api_cb_insert(void *ctx, struct scheduler_info *si)
{
	return scheduler_api.on_insert ? scheduler_api.on_insert(si) : 0;
}

static size_t
scheduler_api_cb_commit(void *ctx, uint32_t msgid)
{
	return scheduler_api.on_commit ? scheduler_api.on_commit(msgid) : 0;
}

static size_t
scheduler_api_cb_rollback(void *ctx, uint32_t msgid)
{
	return scheduler_api.on_rollback ? scheduler_api.on_rollback(msgid) :
	    0;
}

static int
scheduler_api_cb_update(void *ctx, struct scheduler_info *si)
{
	return scheduler_api.on_update ? scheduler_api.on_update(si) : 0;
}

static int
scheduler_api_cb_delete(void *ctx, uint64_t evpid)
{
	return scheduler_api.on_delete ? scheduler_api.on_delete(evpid) : 0;
}

static int
scheduler_api_cb_hold(void *ctx, uint64_t evpid, uint64_t holdq)
{
	return scheduler_api.on_hold ? scheduler_api.on_hold(evpid, holdq) :
	    0;
}

static int
scheduler_api_cb_release(void *ctx, int type, uint64_t holdq, int n)
{
	return scheduler_api.on_release ?
	    scheduler_api.on_release(type, holdq, n) : 0;
}

static int
scheduler_api_cb_batch(void *ctx, int typemask, int *delay, size_t *count,
    uint64_t *evpids, int *types)
{
	if (scheduler_api.on_batch == NULL) {
		*count = 0;
		return 0;
	}
	return scheduler_api.on_batch(typemask, delay, count, evpids, types);
}

static size_t
scheduler_api_cb_messages(void *ctx, uint32_t from, uint32_t *dst,
    size_t size)
{
	return scheduler_api.on_messages ?
	    scheduler_api.on_messages(from, dst, size) : 0;
}

static size_t
scheduler_api_cb_envelopes(void *ctx, uint64_t from, struct evpstate *dst,
    size_t size)
{
	return scheduler_api.on_envelopes ?
	    scheduler_api.on_envelopes(from, dst, size) : 0;
}

static int
scheduler_api_cb_schedule(void *ctx, uint64_t id)
{
	return scheduler_api.on_schedule ? scheduler_api.on_schedule(id) : 0;
}

static int
scheduler_api_cb_remove(void *ctx, uint64_t id)
{
	return scheduler_api.on_remove ? scheduler_api.on_remove(id) : 0;
}

static int
scheduler_api_cb_suspend(void *ctx, uint64_t id)
{
	return scheduler_api.on_suspend ? scheduler_api.on_suspend(id) : 0;
}

static int
scheduler_api_cb_resume(void *ctx, uint64_t id)
{
	return scheduler_api.on_resume ? scheduler_api.on_resume(id) : 0;
}

static const struct scheduler_backend scheduler_api_callbacks = {
	.version = SCHEDULER_BACKEND_V1,
	.name = "callbacks",
	.open = scheduler_api_cb_open,
	.close = scheduler_api_cb_close,
	.init = scheduler_api_cb_init,
	.insert = scheduler_api_cb_insert,
	.commit = scheduler_api_cb_commit,
	.rollback = scheduler_api_cb_rollback,
	.update = scheduler_api_cb_update,
	.delete = scheduler_api_cb_delete,
	.hold = scheduler_api_cb_hold,
	.release = scheduler_api_cb_release,
	.batch = scheduler_api_cb_batch,
	.messages = scheduler_api_cb_messages,
	.envelopes = scheduler_api_cb_envelopes,
	.schedule = scheduler_api_cb_schedule,
	.remove = scheduler_api_cb_remove,
	.suspend = scheduler_api_cb_suspend,
	.resume = scheduler_api_cb_resume,
};

/* scheduler_backend_method - the backend's method m, or 0 for a NULL one */
#define scheduler_backend_method(b, ctx, m, ...) \
	((b)->m != NULL ? (b)->m((ctx), __VA_ARGS__) : 0)

/* scheduler_backend_batch - "give me work" (section 6.2), checked */
static void
scheduler_backend_batch(const struct scheduler_backend *b, void *ctx,
    const struct scheduler_msg *m, struct scheduler_msg *out)
{
	size_t	want = m->count;
	int	delay = -1;

	out->count = want > SCHEDULER_API_BATCH_MAX ? SCHEDULER_API_BATCH_MAX :
	    want;
	out->r = 0;
	if (b->batch != NULL && out->count > 0)
		out->r = b->batch(ctx, m->typemask, &delay, &out->count,
		    out->evpids, out->types);
	else
		out->count = 0;
	if (out->r > 0 && (out->count == 0 ||
	    out->count > SCHEDULER_API_BATCH_MAX || out->count > want)) {
		api_log_warnx("scheduler-api: batch callback gave %zu entries "
		    "for %zu, answering error", out->count, want);
		out->r = -1;
	}
	if (out->r == 0 && delay < -1) {
		api_log_warnx("scheduler-api: batch delay %d, answering -1",
		    delay);
		delay = -1;
	}
	if (out->r <= 0)
		out->count = 0;
	/* the delay means something only with r == 0 */
	out->delay = out->r == 0 ? delay : 0;
}

/* scheduler_backend_list - MESSAGES and ENVELOPES for show queue, clamped */
static void
scheduler_backend_list(const struct scheduler_backend *b, void *ctx,
    const struct scheduler_msg *m, struct scheduler_msg *out)
{
	size_t	size = m->count, max;

	max = m->type == PROC_SCHEDULER_MESSAGES ?
	    SCHEDULER_PROTO_MESSAGES_MAX : SCHEDULER_PROTO_ENVELOPES_MAX;
	if (size > max)
		size = max;
	out->count = 0;
	if (size == 0)
		return;
	if (m->type == PROC_SCHEDULER_MESSAGES)
		out->count = scheduler_backend_method(b, ctx, messages,
		    m->msgid, out->msgids, size);
	else
		out->count = scheduler_backend_method(b, ctx, envelopes, m->id,
		    out->states, size);
	if (out->count > size) {
		api_log_warnx("scheduler-api: %s callback gave %zu for %zu",
		    m->type == PROC_SCHEDULER_MESSAGES ? "messages" :
		    "envelopes", out->count, size);
		out->count = size;
	}
}

/* one request on its way through scheduler_backend_call */
struct scheduler_call {
	const struct scheduler_backend	*b;
	void				*ctx;
	const struct scheduler_msg	*m;
	struct scheduler_msg		*out;
	struct scheduler_info		 si;	/* the backend may change it */
};

static void
scheduler_call_init(struct scheduler_call *c)
{
	c->out->r = c->b->init != NULL ? c->b->init(c->ctx) : 1;
}

static void
scheduler_call_insert(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, insert, &c->si);
}

static void
scheduler_call_commit(struct scheduler_call *c)
{
	c->out->count = scheduler_backend_method(c->b, c->ctx, commit,
	    c->m->msgid);
}

static void
scheduler_call_rollback(struct scheduler_call *c)
{
	c->out->count = scheduler_backend_method(c->b, c->ctx, rollback,
	    c->m->msgid);
}

static void
scheduler_call_update(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, update, &c->si);
	c->out->si = c->si;
}

static void
scheduler_call_delete(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, delete, c->m->id);
}

static void
scheduler_call_hold(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, hold, c->m->id,
	    c->m->holdq);
}

static void
scheduler_call_release(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, release,
	    c->m->dtype, c->m->holdq, c->m->n);
}

static void
scheduler_call_batch(struct scheduler_call *c)
{
	scheduler_backend_batch(c->b, c->ctx, c->m, c->out);
}

static void
scheduler_call_list(struct scheduler_call *c)
{
	scheduler_backend_list(c->b, c->ctx, c->m, c->out);
}

static void
scheduler_call_schedule(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, schedule,
	    c->m->id);
}

static void
scheduler_call_remove(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, remove, c->m->id);
}

static void
scheduler_call_suspend(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, suspend,
	    c->m->id);
}

static void
scheduler_call_resume(struct scheduler_call *c)
{
	c->out->r = scheduler_backend_method(c->b, c->ctx, resume, c->m->id);
}

/* what each request means, by type */
static void (*const scheduler_calls[])(struct scheduler_call *) = {
	[PROC_SCHEDULER_INIT] = scheduler_call_init,
	[PROC_SCHEDULER_INSERT] = scheduler_call_insert,
	[PROC_SCHEDULER_COMMIT] = scheduler_call_commit,
	[PROC_SCHEDULER_ROLLBACK] = scheduler_call_rollback,
	[PROC_SCHEDULER_UPDATE] = scheduler_call_update,
	[PROC_SCHEDULER_DELETE] = scheduler_call_delete,
	[PROC_SCHEDULER_HOLD] = scheduler_call_hold,
	[PROC_SCHEDULER_RELEASE] = scheduler_call_release,
	[PROC_SCHEDULER_BATCH] = scheduler_call_batch,
	[PROC_SCHEDULER_MESSAGES] = scheduler_call_list,
	[PROC_SCHEDULER_ENVELOPES] = scheduler_call_list,
	[PROC_SCHEDULER_SCHEDULE] = scheduler_call_schedule,
	[PROC_SCHEDULER_REMOVE] = scheduler_call_remove,
	[PROC_SCHEDULER_SUSPEND] = scheduler_call_suspend,
	[PROC_SCHEDULER_RESUME] = scheduler_call_resume,
};

void
scheduler_backend_call(const struct scheduler_backend *b, void *ctx,
    const struct scheduler_msg *m, struct scheduler_msg *out)
{
	struct scheduler_call	c = { b, ctx, m, out, m->si };

	out->type = m->type;
	out->r = 0;
	out->count = 0;
	out->delay = 0;
	if (m->type < sizeof scheduler_calls / sizeof scheduler_calls[0] &&
	    scheduler_calls[m->type] != NULL)
		scheduler_calls[m->type](&c);
}

/* scheduler_api_on_request - the handler of every request type */
static int
scheduler_api_on_request(struct api_proc *p, struct imsg *imsg)
{
	uint64_t		evpids[SCHEDULER_API_BATCH_MAX];
	int			types[SCHEDULER_API_BATCH_MAX];
	uint32_t		msgids[SCHEDULER_PROTO_MESSAGES_MAX];
	struct evpstate		states[SCHEDULER_PROTO_ENVELOPES_MAX];
	unsigned char		buf[SCHEDULER_API_REPLY_MAX];
	struct scheduler_msg	m, out;
	struct wire_writer	w;

	if (scheduler_proto_decode_request(imsg->hdr.type, imsg->data,
	    imsg->datalen, &m) == -1)
		return api_proc_bad_len(p, imsg,
		    scheduler_proto_name(imsg->hdr.type));
	memset(&out, 0, sizeof out);
	out.type = m.type;
	out.evpids = evpids;
	out.types = types;
	out.msgids = msgids;
	/* the padding travels as zeros */
	memset(states, 0, sizeof states);
	out.states = states;
	if (m.type == PROC_SCHEDULER_INIT &&
	    m.version != PROC_SCHEDULER_API_VERSION) {
		api_log_warnx("scheduler-api: bad API version %u (want %d)",
		    m.version, PROC_SCHEDULER_API_VERSION);
		return -1;
	}
	scheduler_backend_call(scheduler_api.b, scheduler_api.ctx, &m, &out);
	api_log_debug("scheduler-api: %s msgid=%08x id=%016llx count=%zu -> "
	    "r=%d count=%zu delay=%d", scheduler_proto_name(m.type), m.msgid,
	    (unsigned long long)(m.id ? m.id : m.si.evpid), m.count, out.r,
	    out.count, out.delay);
	wire_writer_init(&w, buf, sizeof buf);
	if (scheduler_proto_encode_reply(&out, &w) == -1) {
		api_log_warnx("%s: %s reply does not fit", p->prefix,
		    scheduler_proto_name(m.type));
		return -1;
	}
	return api_proc_reply(p, -1, w.buf, w.len);
}

int
scheduler_api_serve_fd(const struct scheduler_backend *b, void *ctx, int fd)
{
	struct api_proc_handler	handlers[PROC_SCHEDULER_RESUME];
	size_t			n = 0;
	uint32_t		type;

	if (b == NULL || b->version != SCHEDULER_BACKEND_V1) {
		api_log_warnx("scheduler-api: backend %s has version %d",
		    b != NULL ? b->name : "-", b != NULL ? b->version : 0);
		return 1;
	}
	for (type = PROC_SCHEDULER_INIT; type <= PROC_SCHEDULER_RESUME;
	    type++) {
		handlers[n].type = type;
		handlers[n].name = scheduler_proto_name(type);
		handlers[n].flags = type == PROC_SCHEDULER_INIT ?
		    API_PROC_HANDSHAKE : 0;
		handlers[n++].fn = scheduler_api_on_request;
	}
	scheduler_api.b = b;
	scheduler_api.ctx = ctx;
	return api_proc_dispatch(&scheduler_api.proc, fd, handlers, n);
}

int
scheduler_api_serve(const struct scheduler_backend *b, void *ctx)
{
	return scheduler_api_serve_fd(b, ctx, 0);
}

int
scheduler_api_dispatch_fd(int fd)
{
	return scheduler_api_serve_fd(&scheduler_api_callbacks,
	    &scheduler_api, fd);
}

int
scheduler_api_dispatch(void)
{
	return scheduler_api_dispatch_fd(0);
}
