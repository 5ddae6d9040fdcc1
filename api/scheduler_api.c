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
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "scheduler_api.h"

#ifndef PATH_SMTPD_CHROOT
#define PATH_SMTPD_CHROOT	"/var/empty"
#endif
#ifndef SMTPD_USER
#define SMTPD_USER		"_smtpd"
#endif

#define SCHEDULER_API_MESSAGES_MAX	(IMSG_MAX_PAYLOAD / sizeof(uint32_t))
#define SCHEDULER_API_ENVELOPES_MAX	(IMSG_MAX_PAYLOAD / \
					    sizeof(struct evpstate))

/* one handler per request: 0 to go on, 1 to stop cleanly, -1 violation */
struct scheduler_api_handler {
	uint32_t	  type;
	const char	 *name;
	int		(*fn)(struct imsgbuf *, struct imsg *);
};

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
	const char	*chroot;
	const char	*user;
	int		 inited;
} scheduler_api = {
	.chroot = PATH_SMTPD_CHROOT,
	.user = SMTPD_USER,
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
	scheduler_api.chroot = NULL;
}

void
scheduler_api_set_chroot(const char *path)
{
	scheduler_api.chroot = path;
}

void
scheduler_api_set_user(const char *user)
{
	scheduler_api.user = user;
}

int
scheduler_api_init(const char *progname, int argc, char *argv[])
{
	int	ch;

	api_log_init(1);
	api_log_setname(progname);
	optind = 1;
	while ((ch = getopt(argc, argv, "c:nu:v")) != -1) {
		switch (ch) {
		case 'c':
			scheduler_api_set_chroot(optarg);
			break;
		case 'n':
			scheduler_api_no_chroot();
			break;
		case 'u':
			scheduler_api_set_user(optarg[0] ? optarg : NULL);
			break;
		case 'v':
			api_log_verbose(1);
			break;
		default:
			api_log_warnx("usage: %s [-nv] [-c dir] [-u user]",
			    progname);
			return -1;
		}
	}
	return optind;
}

/* scheduler_api_drop_privileges - chroot and setuid, only when root
 * (the same steps as queue_api.c; see the report on api/api_proc) */
static int
scheduler_api_drop_privileges(void)
{
	struct passwd	*pw = NULL;

	if (geteuid() != 0) {
		api_log_debug("scheduler-api: not root: no chroot, uid %ld "
		    "kept", (long)geteuid());
		return 0;
	}
	if (scheduler_api.user != NULL &&
	    (pw = getpwnam(scheduler_api.user)) == NULL) {
		api_log_warnx("scheduler-api: unknown user %s",
		    scheduler_api.user);
		return -1;
	}
	if (scheduler_api.chroot != NULL) {
		if (chroot(scheduler_api.chroot) == -1 || chdir("/") == -1) {
			api_log_warn("scheduler-api: chroot %s",
			    scheduler_api.chroot);
			return -1;
		}
	}
	if (pw != NULL) {
		if (setgroups(1, &pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
			api_log_warn("scheduler-api: cannot drop to user %s",
			    scheduler_api.user);
			return -1;
		}
	}
	api_log_debug("scheduler-api: chroot=%s user=%s",
	    scheduler_api.chroot ? scheduler_api.chroot : "-",
	    scheduler_api.user ? scheduler_api.user : "-");
	return 0;
}

/* scheduler_api_send - send OK with len bytes of buf; 0 sent, 1 the
 * daemon is gone, -1 error */
static int
scheduler_api_send(struct imsgbuf *ib, const void *buf, size_t len)
{
	if (imsg_compose(ib, PROC_SCHEDULER_OK, 0, -1, buf, len) == -1) {
		api_log_warn("scheduler-api: cannot compose reply");
		return -1;
	}
	if (imsgbuf_flush(ib) == -1) {
		if (errno == EPIPE || errno == ECONNRESET) {
			api_log_debug("scheduler-api: peer gone");
			return 1;
		}
		api_log_warn("scheduler-api: cannot send reply");
		return -1;
	}
	return 0;
}

/* scheduler_api_reply - send what w holds */
static int
scheduler_api_reply(struct imsgbuf *ib, struct wire_writer *w)
{
	if (wire_writer_error(w)) {
		api_log_warnx("scheduler-api: reply does not fit");
		return -1;
	}
	return scheduler_api_send(ib, w->buf, w->len);
}

/* scheduler_api_reply_r - the common reply: r alone */
static int
scheduler_api_reply_r(struct imsgbuf *ib, int32_t r)
{
	unsigned char		buf[4];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	return scheduler_api_reply(ib, &w);
}

/* scheduler_api_reply_n - COMMIT and ROLLBACK: a size_t count */
static int
scheduler_api_reply_n(struct imsgbuf *ib, size_t n)
{
	unsigned char		buf[8];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_sz(&w, n);
	return scheduler_api_reply(ib, &w);
}

/* scheduler_api_bad_len - log a payload of the wrong size; -1 */
static int
scheduler_api_bad_len(struct imsg *imsg, const char *what)
{
	api_log_warnx("scheduler-api: bad msg len %zu for %s", imsg->datalen,
	    what);
	return -1;
}

/* scheduler_api_get_info - a request that is exactly a scheduler_info */
static int
scheduler_api_get_info(struct imsg *imsg, const char *what,
    struct scheduler_info *si)
{
	struct wire_reader	r;

	memset(si, 0, sizeof *si);
	wire_reader_init(&r, imsg->data, imsg->datalen);
	wire_get_raw(&r, si, sizeof *si);
	return wire_end(&r) == -1 ? scheduler_api_bad_len(imsg, what) : 0;
}

/* scheduler_api_get_u32 - a request that is exactly a msgid */
static int
scheduler_api_get_u32(struct imsg *imsg, const char *what, uint32_t *v)
{
	struct wire_reader	r;

	wire_reader_init(&r, imsg->data, imsg->datalen);
	wire_get_u32(&r, v);
	return wire_end(&r) == -1 ? scheduler_api_bad_len(imsg, what) : 0;
}

/* scheduler_api_get_u64 - a request that is exactly an evpid or id */
static int
scheduler_api_get_u64(struct imsg *imsg, const char *what, uint64_t *v)
{
	struct wire_reader	r;

	wire_reader_init(&r, imsg->data, imsg->datalen);
	wire_get_u64(&r, v);
	return wire_end(&r) == -1 ? scheduler_api_bad_len(imsg, what) : 0;
}

/* scheduler_api_on_init_msg - the handshake: version 2, reply r */
static int
scheduler_api_on_init_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	uint32_t	version;
	int32_t		r = 1;

	if (scheduler_api.inited) {
		api_log_warnx("scheduler-api: second INIT");
		return -1;
	}
	if (scheduler_api_get_u32(imsg, "INIT", &version) == -1)
		return -1;
	if (version != PROC_SCHEDULER_API_VERSION) {
		api_log_warnx("scheduler-api: bad API version %u (want %d)",
		    version, PROC_SCHEDULER_API_VERSION);
		return -1;
	}
	scheduler_api.inited = 1;
	if (scheduler_api.on_init)
		r = scheduler_api.on_init();
	api_log_debug("scheduler-api: init -> %d", r);
	return scheduler_api_reply_r(ib, r);
}

/* scheduler_api_on_insert_msg - a new incoming envelope */
static int
scheduler_api_on_insert_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	struct scheduler_info	si;
	int32_t			r = 0;

	if (scheduler_api_get_info(imsg, "INSERT", &si) == -1)
		return -1;
	if (scheduler_api.on_insert)
		r = scheduler_api.on_insert(&si);
	api_log_debug("scheduler-api: insert evpid=%016llx -> %d",
	    (unsigned long long)si.evpid, r);
	return scheduler_api_reply_r(ib, r);
}

/* scheduler_api_on_commit_msg - incoming envelopes become schedulable */
static int
scheduler_api_on_commit_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	uint32_t	msgid;
	size_t		n = 0;

	if (scheduler_api_get_u32(imsg, "COMMIT", &msgid) == -1)
		return -1;
	if (scheduler_api.on_commit)
		n = scheduler_api.on_commit(msgid);
	api_log_debug("scheduler-api: commit msgid=%08x -> %zu", msgid, n);
	return scheduler_api_reply_n(ib, n);
}

/* scheduler_api_on_rollback_msg - incoming envelopes are dropped */
static int
scheduler_api_on_rollback_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	uint32_t	msgid;
	size_t		n = 0;

	if (scheduler_api_get_u32(imsg, "ROLLBACK", &msgid) == -1)
		return -1;
	if (scheduler_api.on_rollback)
		n = scheduler_api.on_rollback(msgid);
	api_log_debug("scheduler-api: rollback msgid=%08x -> %zu", msgid, n);
	return scheduler_api_reply_n(ib, n);
}

/* scheduler_api_on_update_msg - a temporary failure: r, then the info */
static int
scheduler_api_on_update_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	unsigned char		buf[4 + sizeof(struct scheduler_info)];
	struct scheduler_info	si, out;
	struct wire_writer	w;
	int32_t			r = 0;

	if (scheduler_api_get_info(imsg, "UPDATE", &si) == -1)
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
	return scheduler_api_reply(ib, &w);
}

/* scheduler_api_on_id_op - DELETE, SCHEDULE, REMOVE, SUSPEND, RESUME */
static int
scheduler_api_on_id_op(struct imsgbuf *ib, struct imsg *imsg,
    const char *what, int (*cb)(uint64_t))
{
	uint64_t	id;
	int32_t		r = 0;

	if (scheduler_api_get_u64(imsg, what, &id) == -1)
		return -1;
	if (cb)
		r = cb(id);
	api_log_debug("scheduler-api: %s id=%016llx -> %d", what,
	    (unsigned long long)id, r);
	return scheduler_api_reply_r(ib, r);
}

static int
scheduler_api_on_delete_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	return scheduler_api_on_id_op(ib, imsg, "delete",
	    scheduler_api.on_delete);
}

static int
scheduler_api_on_schedule_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	return scheduler_api_on_id_op(ib, imsg, "schedule",
	    scheduler_api.on_schedule);
}

static int
scheduler_api_on_remove_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	return scheduler_api_on_id_op(ib, imsg, "remove",
	    scheduler_api.on_remove);
}

static int
scheduler_api_on_suspend_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	return scheduler_api_on_id_op(ib, imsg, "suspend",
	    scheduler_api.on_suspend);
}

static int
scheduler_api_on_resume_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	return scheduler_api_on_id_op(ib, imsg, "resume",
	    scheduler_api.on_resume);
}

/* scheduler_api_on_hold_msg - park an in-flight envelope on holdq */
static int
scheduler_api_on_hold_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	struct wire_reader	rd;
	uint64_t		evpid, holdq;
	int32_t			r = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u64(&rd, &evpid);
	wire_get_u64(&rd, &holdq);
	if (wire_end(&rd) == -1)
		return scheduler_api_bad_len(imsg, "HOLD");
	if (scheduler_api.on_hold)
		r = scheduler_api.on_hold(evpid, holdq);
	api_log_debug("scheduler-api: hold evpid=%016llx holdq=%016llx -> %d",
	    (unsigned long long)evpid, (unsigned long long)holdq, r);
	return scheduler_api_reply_r(ib, r);
}

/* scheduler_api_on_release_msg - free up to n envelopes of holdq */
static int
scheduler_api_on_release_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	struct wire_reader	rd;
	uint64_t		holdq;
	int32_t			type, n, r = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_i32(&rd, &type);
	wire_get_u64(&rd, &holdq);
	wire_get_i32(&rd, &n);
	if (wire_end(&rd) == -1)
		return scheduler_api_bad_len(imsg, "RELEASE");
	if (scheduler_api.on_release)
		r = scheduler_api.on_release(type, holdq, n);
	api_log_debug("scheduler-api: release type=%d holdq=%016llx n=%d -> "
	    "%d", type, (unsigned long long)holdq, n, r);
	return scheduler_api_reply_r(ib, r);
}

/* scheduler_api_on_batch_msg - "give me work" (section 6.2) */
static int
scheduler_api_on_batch_msg(struct imsgbuf *ib, struct imsg *imsg)
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
		return scheduler_api_bad_len(imsg, "BATCH");
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
	return scheduler_api_reply(ib, &w);
}

/* scheduler_api_on_messages_msg - msgids from 'from', for show queue */
static int
scheduler_api_on_messages_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	uint32_t		msgids[SCHEDULER_API_MESSAGES_MAX];
	struct wire_reader	rd;
	uint32_t		from;
	size_t			size, n = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u32(&rd, &from);
	wire_get_sz(&rd, &size);
	if (wire_end(&rd) == -1)
		return scheduler_api_bad_len(imsg, "MESSAGES");
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
	return scheduler_api_send(ib, msgids, n * sizeof msgids[0]);
}

/* scheduler_api_on_envelopes_msg - evpstates from 'from', for show queue */
static int
scheduler_api_on_envelopes_msg(struct imsgbuf *ib, struct imsg *imsg)
{
	struct evpstate		states[SCHEDULER_API_ENVELOPES_MAX];
	struct wire_reader	rd;
	uint64_t		from;
	size_t			size, n = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u64(&rd, &from);
	wire_get_sz(&rd, &size);
	if (wire_end(&rd) == -1)
		return scheduler_api_bad_len(imsg, "ENVELOPES");
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
	return scheduler_api_send(ib, states, n * sizeof states[0]);
}

static const struct scheduler_api_handler scheduler_api_handlers[] = {
	{ PROC_SCHEDULER_INIT,		"INIT",		scheduler_api_on_init_msg },
	{ PROC_SCHEDULER_INSERT,	"INSERT",	scheduler_api_on_insert_msg },
	{ PROC_SCHEDULER_COMMIT,	"COMMIT",	scheduler_api_on_commit_msg },
	{ PROC_SCHEDULER_ROLLBACK,	"ROLLBACK",	scheduler_api_on_rollback_msg },
	{ PROC_SCHEDULER_UPDATE,	"UPDATE",	scheduler_api_on_update_msg },
	{ PROC_SCHEDULER_DELETE,	"DELETE",	scheduler_api_on_delete_msg },
	{ PROC_SCHEDULER_HOLD,		"HOLD",		scheduler_api_on_hold_msg },
	{ PROC_SCHEDULER_RELEASE,	"RELEASE",	scheduler_api_on_release_msg },
	{ PROC_SCHEDULER_BATCH,		"BATCH",	scheduler_api_on_batch_msg },
	{ PROC_SCHEDULER_MESSAGES,	"MESSAGES",	scheduler_api_on_messages_msg },
	{ PROC_SCHEDULER_ENVELOPES,	"ENVELOPES",	scheduler_api_on_envelopes_msg },
	{ PROC_SCHEDULER_SCHEDULE,	"SCHEDULE",	scheduler_api_on_schedule_msg },
	{ PROC_SCHEDULER_REMOVE,	"REMOVE",	scheduler_api_on_remove_msg },
	{ PROC_SCHEDULER_SUSPEND,	"SUSPEND",	scheduler_api_on_suspend_msg },
	{ PROC_SCHEDULER_RESUME,	"RESUME",	scheduler_api_on_resume_msg },
};

/* scheduler_api_handle - route one message; 0 go on, 1 stop, -1 bad */
static int
scheduler_api_handle(struct imsgbuf *ib, struct imsg *imsg)
{
	const struct scheduler_api_handler	*h;
	size_t					 i;

	for (i = 0; i < sizeof scheduler_api_handlers /
	    sizeof scheduler_api_handlers[0]; i++) {
		h = &scheduler_api_handlers[i];
		if (h->type != imsg->hdr.type)
			continue;
		if (!scheduler_api.inited && h->type != PROC_SCHEDULER_INIT) {
			api_log_warnx("scheduler-api: %s before INIT",
			    h->name);
			return -1;
		}
		if (imsg->hdr.flags & IMSGF_HASFD) {
			api_log_warnx("scheduler-api: unexpected fd with %s",
			    h->name);
			return -1;
		}
		return h->fn(ib, imsg);
	}
	api_log_warnx("scheduler-api: bad message %u", imsg->hdr.type);
	return -1;
}

int
scheduler_api_dispatch_fd(int fd)
{
	struct imsgbuf	ib;
	struct imsg	imsg;
	int		r, status = 1;

	scheduler_api.inited = 0;
	if (scheduler_api_drop_privileges() == -1)
		return 1;
	if (imsgbuf_init(&ib, fd) == -1) {
		api_log_warn("scheduler-api: imsgbuf_init");
		return 1;
	}
	for (;;) {
		r = imsg_read_one(&ib, &imsg);
		if (r == 0) {
			api_log_debug("scheduler-api: end of input");
			status = 0;
			break;
		}
		if (r == -1) {
			if (errno == EBADMSG)
				api_log_warnx("scheduler-api: bad frame header");
			else
				api_log_warn("scheduler-api: read");
			break;
		}
		r = scheduler_api_handle(&ib, &imsg);
		imsg_free(&imsg);
		if (r != 0) {
			status = r == 1 ? 0 : 1;
			break;
		}
	}
	imsgbuf_clear(&ib);
	return status;
}

int
scheduler_api_dispatch(void)
{
	return scheduler_api_dispatch_fd(0);
}
