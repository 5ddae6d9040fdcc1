/*
 * scheduler_api.c -- helper side of the proc scheduler protocol
 * (scheduler_api.h).
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
#include "api_proc.h"

#ifndef PATH_SMTPD_CHROOT
#define PATH_SMTPD_CHROOT	"/var/empty"
#endif
#ifndef SMTPD_USER
#define SMTPD_USER		"_smtpd"
#endif

#define SCHEDULER_API_MESSAGES_MAX	(IMSG_MAX_PAYLOAD / sizeof(uint32_t))
#define SCHEDULER_API_ENVELOPES_MAX	(IMSG_MAX_PAYLOAD / \
					    sizeof(struct evpstate))

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

/* scheduler_api_reply_n - COMMIT and ROLLBACK: a native size_t count */
static int
scheduler_api_reply_n(struct api_proc *p, size_t n)
{
	return api_proc_reply(p, -1, &n, sizeof n);
}

/* scheduler_api_get_info - a request that is exactly a scheduler_info */
static int
scheduler_api_get_info(struct api_proc *p, struct imsg *imsg,
    const char *what, struct scheduler_info *si)
{
	memset(si, 0, sizeof *si);
	return api_proc_get_exact(p, imsg, what, si, sizeof *si);
}

/* scheduler_api_on_init_msg - the handshake: version 2, reply r */
static int
scheduler_api_on_init_msg(struct api_proc *p, struct imsg *imsg)
{
	uint32_t	version;
	int32_t		r = 1;

	if (api_proc_get_u32(p, imsg, "INIT", &version) == -1)
		return -1;
	if (version != PROC_SCHEDULER_API_VERSION) {
		api_log_warnx("scheduler-api: bad API version %u (want %d)",
		    version, PROC_SCHEDULER_API_VERSION);
		return -1;
	}
	if (scheduler_api.on_init)
		r = scheduler_api.on_init();
	api_log_debug("scheduler-api: init -> %d", r);
	return api_proc_reply_r(p, r);
}

/* scheduler_api_on_insert_msg - a new incoming envelope */
static int
scheduler_api_on_insert_msg(struct api_proc *p, struct imsg *imsg)
{
	struct scheduler_info	si;
	int32_t			r = 0;

	if (scheduler_api_get_info(p, imsg, "INSERT", &si) == -1)
		return -1;
	if (scheduler_api.on_insert)
		r = scheduler_api.on_insert(&si);
	api_log_debug("scheduler-api: insert evpid=%016llx -> %d",
	    (unsigned long long)si.evpid, r);
	return api_proc_reply_r(p, r);
}

/* scheduler_api_on_commit_msg - incoming envelopes become schedulable */
static int
scheduler_api_on_commit_msg(struct api_proc *p, struct imsg *imsg)
{
	uint32_t	msgid;
	size_t		n = 0;

	if (api_proc_get_u32(p, imsg, "COMMIT", &msgid) == -1)
		return -1;
	if (scheduler_api.on_commit)
		n = scheduler_api.on_commit(msgid);
	api_log_debug("scheduler-api: commit msgid=%08x -> %zu", msgid, n);
	return scheduler_api_reply_n(p, n);
}

/* scheduler_api_on_rollback_msg - incoming envelopes are dropped */
static int
scheduler_api_on_rollback_msg(struct api_proc *p, struct imsg *imsg)
{
	uint32_t	msgid;
	size_t		n = 0;

	if (api_proc_get_u32(p, imsg, "ROLLBACK", &msgid) == -1)
		return -1;
	if (scheduler_api.on_rollback)
		n = scheduler_api.on_rollback(msgid);
	api_log_debug("scheduler-api: rollback msgid=%08x -> %zu", msgid, n);
	return scheduler_api_reply_n(p, n);
}

/* scheduler_api_on_update_msg - a temporary failure: r, then the info */
static int
scheduler_api_on_update_msg(struct api_proc *p, struct imsg *imsg)
{
	unsigned char		buf[4 + sizeof(struct scheduler_info)];
	struct scheduler_info	si, out;
	struct wire_writer	w;
	int32_t			r = 0;

	if (scheduler_api_get_info(p, imsg, "UPDATE", &si) == -1)
		return -1;
	if (scheduler_api.on_update)
		r = scheduler_api.on_update(&si);
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	if (r == 1) {
		/* field by field: the padding travels as zeros */
		memset(&out, 0, sizeof out);
		out.evpid = si.evpid;
		out.type = si.type;
		out.retry = si.retry;
		out.creation = si.creation;
		out.ttl = si.ttl;
		out.lasttry = si.lasttry;
		out.lastbounce = si.lastbounce;
		out.nexttry = si.nexttry;
		wire_put_raw(&w, &out, sizeof out);
	}
	api_log_debug("scheduler-api: update evpid=%016llx -> %d nexttry=%lld",
	    (unsigned long long)si.evpid, r, (long long)si.nexttry);
	return api_proc_reply_wire(p, &w);
}

/* scheduler_api_on_id_op - DELETE, SCHEDULE, REMOVE, SUSPEND, RESUME */
static int
scheduler_api_on_id_op(struct api_proc *p, struct imsg *imsg,
    const char *what, int (*cb)(uint64_t))
{
	uint64_t	id;
	int32_t		r = 0;

	if (api_proc_get_u64(p, imsg, what, &id) == -1)
		return -1;
	if (cb)
		r = cb(id);
	api_log_debug("scheduler-api: %s id=%016llx -> %d", what,
	    (unsigned long long)id, r);
	return api_proc_reply_r(p, r);
}

static int
scheduler_api_on_delete_msg(struct api_proc *p, struct imsg *imsg)
{
	return scheduler_api_on_id_op(p, imsg, "delete",
	    scheduler_api.on_delete);
}

static int
scheduler_api_on_schedule_msg(struct api_proc *p, struct imsg *imsg)
{
	return scheduler_api_on_id_op(p, imsg, "schedule",
	    scheduler_api.on_schedule);
}

static int
scheduler_api_on_remove_msg(struct api_proc *p, struct imsg *imsg)
{
	return scheduler_api_on_id_op(p, imsg, "remove",
	    scheduler_api.on_remove);
}

static int
scheduler_api_on_suspend_msg(struct api_proc *p, struct imsg *imsg)
{
	return scheduler_api_on_id_op(p, imsg, "suspend",
	    scheduler_api.on_suspend);
}

static int
scheduler_api_on_resume_msg(struct api_proc *p, struct imsg *imsg)
{
	return scheduler_api_on_id_op(p, imsg, "resume",
	    scheduler_api.on_resume);
}

/* scheduler_api_on_hold_msg - park an in-flight envelope on holdq */
static int
scheduler_api_on_hold_msg(struct api_proc *p, struct imsg *imsg)
{
	struct wire_reader	rd;
	uint64_t		evpid, holdq;
	int32_t			r = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u64(&rd, &evpid);
	wire_get_u64(&rd, &holdq);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "HOLD");
	if (scheduler_api.on_hold)
		r = scheduler_api.on_hold(evpid, holdq);
	api_log_debug("scheduler-api: hold evpid=%016llx holdq=%016llx -> %d",
	    (unsigned long long)evpid, (unsigned long long)holdq, r);
	return api_proc_reply_r(p, r);
}

/* scheduler_api_on_release_msg - free up to n envelopes of holdq */
static int
scheduler_api_on_release_msg(struct api_proc *p, struct imsg *imsg)
{
	struct wire_reader	rd;
	uint64_t		holdq;
	int32_t			type, n, r = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_i32(&rd, &type);
	wire_get_u64(&rd, &holdq);
	wire_get_i32(&rd, &n);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "RELEASE");
	if (scheduler_api.on_release)
		r = scheduler_api.on_release(type, holdq, n);
	api_log_debug("scheduler-api: release type=%d holdq=%016llx n=%d -> "
	    "%d", type, (unsigned long long)holdq, n, r);
	return api_proc_reply_r(p, r);
}

/* scheduler_api_on_batch_msg - "give me work" (section 6.2) */
static int
scheduler_api_on_batch_msg(struct api_proc *p, struct imsg *imsg)
{
	unsigned char		buf[4 + 4 + 8 + SCHEDULER_API_BATCH_MAX * 12];
	uint64_t		evpids[SCHEDULER_API_BATCH_MAX];
	int			types[SCHEDULER_API_BATCH_MAX];
	struct wire_reader	rd;
	struct wire_writer	w;
	size_t			want, count, i;
	int32_t			typemask;
	int			r = 0, delay = -1;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_i32(&rd, &typemask);
	wire_get_sz(&rd, &want);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "BATCH");
	count = want > SCHEDULER_API_BATCH_MAX ? SCHEDULER_API_BATCH_MAX : want;
	if (scheduler_api.on_batch && count > 0)
		r = scheduler_api.on_batch(typemask, &delay, &count, evpids,
		    types);
	else
		count = 0;
	if (r > 0 && (count == 0 || count > SCHEDULER_API_BATCH_MAX ||
	    count > want)) {
		api_log_warnx("scheduler-api: batch callback gave %zu entries "
		    "for %zu, answering error", count, want);
		r = -1;
	}
	if (r == 0 && delay < -1) {
		api_log_warnx("scheduler-api: batch delay %d, answering -1",
		    delay);
		delay = -1;
	}
	if (r <= 0)
		count = 0;
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	/* the delay means something only with r == 0 */
	wire_put_i32(&w, r == 0 ? delay : 0);
	wire_put_sz(&w, count);
	for (i = 0; i < count; i++)
		wire_put_u64(&w, evpids[i]);
	for (i = 0; i < count; i++)
		wire_put_i32(&w, types[i]);
	api_log_debug("scheduler-api: batch mask=%#x count=%zu -> %d "
	    "delay=%d n=%zu", (unsigned)typemask, want, r, delay, count);
	return api_proc_reply_wire(p, &w);
}

/* scheduler_api_on_messages_msg - msgids from 'from', for show queue */
static int
scheduler_api_on_messages_msg(struct api_proc *p, struct imsg *imsg)
{
	uint32_t		msgids[SCHEDULER_API_MESSAGES_MAX];
	struct wire_reader	rd;
	uint32_t		from;
	size_t			size, n = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u32(&rd, &from);
	wire_get_sz(&rd, &size);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "MESSAGES");
	if (size > SCHEDULER_API_MESSAGES_MAX)
		size = SCHEDULER_API_MESSAGES_MAX;
	if (scheduler_api.on_messages && size > 0)
		n = scheduler_api.on_messages(from, msgids, size);
	if (n > size) {
		api_log_warnx("scheduler-api: messages callback gave %zu "
		    "for %zu", n, size);
		n = size;
	}
	api_log_debug("scheduler-api: messages from=%08x size=%zu -> %zu",
	    from, size, n);
	/* native u32s one after the other: the array is the payload */
	return api_proc_reply(p, -1, msgids, n * sizeof msgids[0]);
}

/* scheduler_api_on_envelopes_msg - evpstates from 'from', for show queue */
static int
scheduler_api_on_envelopes_msg(struct api_proc *p, struct imsg *imsg)
{
	struct evpstate		states[SCHEDULER_API_ENVELOPES_MAX];
	struct wire_reader	rd;
	uint64_t		from;
	size_t			size, n = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u64(&rd, &from);
	wire_get_sz(&rd, &size);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "ENVELOPES");
	if (size > SCHEDULER_API_ENVELOPES_MAX)
		size = SCHEDULER_API_ENVELOPES_MAX;
	/* the padding travels as zeros */
	memset(states, 0, sizeof states);
	if (scheduler_api.on_envelopes && size > 0)
		n = scheduler_api.on_envelopes(from, states, size);
	if (n > size) {
		api_log_warnx("scheduler-api: envelopes callback gave %zu "
		    "for %zu", n, size);
		n = size;
	}
	api_log_debug("scheduler-api: envelopes from=%016llx size=%zu -> %zu",
	    (unsigned long long)from, size, n);
	return api_proc_reply(p, -1, states, n * sizeof states[0]);
}

static const struct api_proc_handler scheduler_api_handlers[] = {
	{ PROC_SCHEDULER_INIT, "INIT", API_PROC_HANDSHAKE,
	    scheduler_api_on_init_msg },
	{ PROC_SCHEDULER_INSERT, "INSERT", 0, scheduler_api_on_insert_msg },
	{ PROC_SCHEDULER_COMMIT, "COMMIT", 0, scheduler_api_on_commit_msg },
	{ PROC_SCHEDULER_ROLLBACK, "ROLLBACK", 0,
	    scheduler_api_on_rollback_msg },
	{ PROC_SCHEDULER_UPDATE, "UPDATE", 0, scheduler_api_on_update_msg },
	{ PROC_SCHEDULER_DELETE, "DELETE", 0, scheduler_api_on_delete_msg },
	{ PROC_SCHEDULER_HOLD, "HOLD", 0, scheduler_api_on_hold_msg },
	{ PROC_SCHEDULER_RELEASE, "RELEASE", 0, scheduler_api_on_release_msg },
	{ PROC_SCHEDULER_BATCH, "BATCH", 0, scheduler_api_on_batch_msg },
	{ PROC_SCHEDULER_MESSAGES, "MESSAGES", 0,
	    scheduler_api_on_messages_msg },
	{ PROC_SCHEDULER_ENVELOPES, "ENVELOPES", 0,
	    scheduler_api_on_envelopes_msg },
	{ PROC_SCHEDULER_SCHEDULE, "SCHEDULE", 0,
	    scheduler_api_on_schedule_msg },
	{ PROC_SCHEDULER_REMOVE, "REMOVE", 0, scheduler_api_on_remove_msg },
	{ PROC_SCHEDULER_SUSPEND, "SUSPEND", 0, scheduler_api_on_suspend_msg },
	{ PROC_SCHEDULER_RESUME, "RESUME", 0, scheduler_api_on_resume_msg },
};

int
scheduler_api_dispatch_fd(int fd)
{
	return api_proc_dispatch(&scheduler_api.proc, fd,
	    scheduler_api_handlers,
	    sizeof scheduler_api_handlers / sizeof scheduler_api_handlers[0]);
}

int
scheduler_api_dispatch(void)
{
	return scheduler_api_dispatch_fd(0);
}
