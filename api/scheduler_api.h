/*
 * scheduler_api.h -- the scheduler backend model, the helper side of
 * the proc scheduler protocol, and the structures that travel whole in
 * it.
 *
 * A scheduler backend is a struct scheduler_backend (below), hosted
 * linked into smtpd or served as a helper (libexec/scheduler-*) by
 * scheduler_api_serve(), which speaks PROC_SCHEDULER_API_VERSION 2
 * (libexec-protocols.md section 6) on fd 0: INIT (reply r), then
 * INSERT ... RESUME, every reply of type 0.  One numbering exists (the
 * daemon's and the extras' agree).  A driver written for OpenSMTPD's
 * extras glue registers callbacks instead and calls
 * scheduler_api_dispatch(); the signatures are the extras'.
 *
 * Callback contract:
 *   init, insert, delete, hold, release, schedule, remove, suspend and
 *   resume return r as sent (1 done / something matched, 0 not).
 *   commit and rollback return the number of envelopes concerned.
 *   update returns 1 with info->nexttry set, or 0.
 *   batch(typemask, &delay, &count, evpids, types): count is the
 *   capacity on entry (at most SCHEDULER_API_BATCH_MAX); return > 0 with
 *   count (1..capacity) entries, each types[i] one SCHED_* bit; or 0
 *   with delay = seconds to the next event, -1 for "until something
 *   changes".  A negative return is an error and kills the daemon's
 *   scheduler: drivers should not use it.
 *   messages(from, dst, size) and envelopes(from, dst, size) return the
 *   number of entries written (at most size).
 *
 * Privileges (section 1.2): when root, scheduler_api_dispatch() chroots
 * to PATH_SMTPD_CHROOT (/var/empty) and drops to SMTPD_USER first; not
 * being root, it does neither.  The setters change or disable each step.
 */
#ifndef API_SCHEDULER_API_H
#define API_SCHEDULER_API_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PROC_SCHEDULER_API_VERSION	2

enum scheduler_proc_msg {
	PROC_SCHEDULER_OK = 0,
	PROC_SCHEDULER_FAIL = 1,
	PROC_SCHEDULER_INIT = 2,
	PROC_SCHEDULER_INSERT = 3,
	PROC_SCHEDULER_COMMIT = 4,
	PROC_SCHEDULER_ROLLBACK = 5,
	PROC_SCHEDULER_UPDATE = 6,
	PROC_SCHEDULER_DELETE = 7,
	PROC_SCHEDULER_HOLD = 8,
	PROC_SCHEDULER_RELEASE = 9,
	PROC_SCHEDULER_BATCH = 10,
	PROC_SCHEDULER_MESSAGES = 11,
	PROC_SCHEDULER_ENVELOPES = 12,
	PROC_SCHEDULER_SCHEDULE = 13,
	PROC_SCHEDULER_REMOVE = 14,
	PROC_SCHEDULER_SUSPEND = 15,
	PROC_SCHEDULER_RESUME = 16,
};

/* what a batch entry asks the daemon to do (one bit per entry) */
#define SCHED_REMOVE		0x01
#define SCHED_EXPIRE		0x02
#define SCHED_UPDATE		0x04
#define SCHED_BOUNCE		0x08
#define SCHED_MDA		0x10
#define SCHED_MTA		0x20

/* runtime envelope flags of struct evpstate */
#define EF_PENDING		0x10
#define EF_INFLIGHT		0x20
#define EF_SUSPEND		0x40
#define EF_HOLD			0x80

/* the most entries one BATCH reply carries (the extras' clamp) */
#define SCHEDULER_API_BATCH_MAX		1024

enum delivery_type {
	D_MDA = 0,
	D_MTA = 1,
	D_BOUNCE = 2,
};

/* 56 bytes on LP64, native layout (section 3.3) */
struct scheduler_info {
	uint64_t		evpid;
	enum delivery_type	type;
	uint16_t		retry;
	time_t			creation;
	time_t			ttl;		/* the extras call it expire */
	time_t			lasttry;
	time_t			lastbounce;
	time_t			nexttry;
};

/* 24 bytes on LP64 (section 3.3) */
struct evpstate {
	uint64_t	evpid;
	uint16_t	flags;
	uint16_t	retry;
	time_t		time;
};

#if defined(__LP64__) || defined(_LP64)
/* the wire carries these structs whole: their layout is the protocol */
_Static_assert(sizeof(enum delivery_type) == 4, "delivery_type is 4 bytes");
_Static_assert(sizeof(struct scheduler_info) == 56, "scheduler_info size");
_Static_assert(offsetof(struct scheduler_info, type) == 8, "si.type");
_Static_assert(offsetof(struct scheduler_info, retry) == 12, "si.retry");
_Static_assert(offsetof(struct scheduler_info, creation) == 16,
    "si.creation");
_Static_assert(offsetof(struct scheduler_info, ttl) == 24, "si.ttl");
_Static_assert(offsetof(struct scheduler_info, lasttry) == 32,
    "si.lasttry");
_Static_assert(offsetof(struct scheduler_info, lastbounce) == 40,
    "si.lastbounce");
_Static_assert(offsetof(struct scheduler_info, nexttry) == 48,
    "si.nexttry");
_Static_assert(sizeof(struct evpstate) == 24, "evpstate size");
_Static_assert(offsetof(struct evpstate, flags) == 8, "evpstate.flags");
_Static_assert(offsetof(struct evpstate, retry) == 10, "evpstate.retry");
_Static_assert(offsetof(struct evpstate, time) == 16, "evpstate.time");
#endif

#define SCHEDULER_BACKEND_V1	1

/*
 * A scheduler backend: written once against this header, linked into
 * smtpd (smtpd/scheduler/scheduler_NAME.c) or served as a helper by
 * scheduler_api_serve().  open() makes the context every other method
 * takes (NULL: unusable, logged); close() releases it; a backend keeps
 * no state anywhere else.  The methods follow the callback contract
 * above (init is the INIT handshake's r).  New methods are appended,
 * never reordered; a NULL method answers 0.
 */
struct scheduler_backend {
	int		 version;	/* SCHEDULER_BACKEND_V1; append only */
	const char	*name;
	void	*(*open)(void);
	void	(*close)(void *ctx);
	int	(*init)(void *ctx);
	int	(*insert)(void *ctx, struct scheduler_info *);
	size_t	(*commit)(void *ctx, uint32_t msgid);
	size_t	(*rollback)(void *ctx, uint32_t msgid);
	int	(*update)(void *ctx, struct scheduler_info *);
	int	(*delete)(void *ctx, uint64_t evpid);
	int	(*hold)(void *ctx, uint64_t evpid, uint64_t holdq);
	int	(*release)(void *ctx, int type, uint64_t holdq, int n);
	int	(*batch)(void *ctx, int typemask, int *delay, size_t *count,
		    uint64_t *evpids, int *types);
	size_t	(*messages)(void *ctx, uint32_t from, uint32_t *dst,
		    size_t size);
	size_t	(*envelopes)(void *ctx, uint64_t from, struct evpstate *dst,
		    size_t size);
	int	(*schedule)(void *ctx, uint64_t id);
	int	(*remove)(void *ctx, uint64_t id);
	int	(*suspend)(void *ctx, uint64_t id);
	int	(*resume)(void *ctx, uint64_t id);
};

/*
 * scheduler_backend_call - request M (api/scheduler_proto.h) run on
 * backend B, the reply in OUT, whose arrays (evpids, types, msgids,
 * states) the caller provides, each big enough for the most one reply
 * carries (SCHEDULER_API_BATCH_MAX, SCHEDULER_PROTO_*_MAX).  A batch or
 * a listing the backend gets wrong is clamped or answered as an error
 * here, logged.  The one meaning of each request, for the glue
 * (scheduler_api_serve) and for smtpd's embedded host alike.
 */
struct scheduler_msg;
void	scheduler_backend_call(const struct scheduler_backend *b, void *ctx,
	    const struct scheduler_msg *m, struct scheduler_msg *out);

/*
 * scheduler_api_serve - serve backend B (context CTX, already open) on
 * fd 0; scheduler_api_serve_fd on another fd.  Same returns as
 * scheduler_api_dispatch().  The callbacks registered with
 * scheduler_api_on_*() below are served the same way, through a
 * backend of this glue: scheduler_api_dispatch() is scheduler_api_serve()
 * of that one.
 */
int	scheduler_api_serve(const struct scheduler_backend *b, void *ctx);
int	scheduler_api_serve_fd(const struct scheduler_backend *b, void *ctx,
	    int fd);

void	scheduler_api_on_init(int (*)(void));
void	scheduler_api_on_insert(int (*)(struct scheduler_info *));
void	scheduler_api_on_commit(size_t (*)(uint32_t msgid));
void	scheduler_api_on_rollback(size_t (*)(uint32_t msgid));
void	scheduler_api_on_update(int (*)(struct scheduler_info *));
void	scheduler_api_on_delete(int (*)(uint64_t evpid));
void	scheduler_api_on_hold(int (*)(uint64_t evpid, uint64_t holdq));
void	scheduler_api_on_release(int (*)(int type, uint64_t holdq, int n));
void	scheduler_api_on_batch(int (*)(int typemask, int *delay,
	    size_t *count, uint64_t *evpids, int *types));
void	scheduler_api_on_messages(size_t (*)(uint32_t from, uint32_t *dst,
	    size_t size));
void	scheduler_api_on_envelopes(size_t (*)(uint64_t from,
	    struct evpstate *dst, size_t size));
void	scheduler_api_on_schedule(int (*)(uint64_t id));
void	scheduler_api_on_remove(int (*)(uint64_t id));
void	scheduler_api_on_suspend(int (*)(uint64_t id));
void	scheduler_api_on_resume(int (*)(uint64_t id));

/* privileges; call before scheduler_api_dispatch() */
void	scheduler_api_no_chroot(void);
void	scheduler_api_set_chroot(const char *path);	/* NULL: no chroot */
void	scheduler_api_set_user(const char *user);	/* NULL: keep the uid */

/*
 * scheduler_api_init - common start of a scheduler driver's main():
 * program name for the logs and the options every scheduler helper
 * takes: -v (verbose), -n (no chroot), -c dir (chroot), -u user (drop
 * to user; '' keeps the uid).  Returns the index of the first operand,
 * or -1 after logging a usage error.
 */
int	scheduler_api_init(const char *progname, int argc, char *argv[]);

/*
 * scheduler_api_dispatch - drop privileges, then serve requests on fd
 * 0.  Returns 0 on EOF, 1 after a protocol violation, an I/O error or a
 * failure to drop privileges (all logged); never crashes on input.
 */
int	scheduler_api_dispatch(void);
/* scheduler_api_dispatch_fd - the same on another descriptor (tests) */
int	scheduler_api_dispatch_fd(int fd);

#endif
