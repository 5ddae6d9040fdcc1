/*
 * queue_api.h -- the queue backend model and the helper side of the
 * proc queue protocol.
 *
 * A queue backend is a struct queue_backend (below), written once and
 * hosted two ways: linked into smtpd, or served as a helper
 * (libexec/queue-*) by queue_api_serve(), which speaks
 * PROC_QUEUE_API_VERSION 2 (libexec-protocols.md section 5) on fd 0:
 * INIT (empty reply), then message and envelope requests, every reply
 * of type 0.  A driver written for OpenSMTPD's extras glue registers
 * callbacks instead and calls queue_api_dispatch(): the callback
 * signatures are the extras', so its drivers build unchanged.
 *
 * Two numberings of the message types exist (section 5.1).  The default
 * is the 6.4-6.8 daemon's, so `smtpd -B queue=NAME` of a 6.8 daemon (and
 * of ours) drives the helper.  queue_api_use_extras_numbering() (or -X)
 * selects the extras numbering, in which MESSAGE_CORRUPT, _UNCORRUPT and
 * MESSAGE_WALK also exist.
 *
 * Callback contract (r is what the daemon sees):
 *   create, commit, delete, corrupt, uncorrupt, envelope create, delete
 *   and update return 1 for success and 0 for failure (anything else is
 *   answered 0 and logged).  message_create must set a nonzero msgid;
 *   envelope_create must set an evpid whose upper 32 bits are the msgid
 *   and whose lower 32 bits are nonzero (section 3.3).
 *   message_fd_r returns a readable fd of the message (the glue rewinds
 *   it to offset 0 and closes it once sent) or -1.
 *   envelope_load returns the number of bytes written to buf (at most
 *   len), 0 or -1 for "not found / error".
 *   envelope_walk and message_walk return > 0 (an envelope of that many
 *   bytes in buf, *evpid set), 0 ("nothing this time, call again") or
 *   -1 (end of walk).
 * Envelope bytes are opaque binary (compressed or encrypted queues): no
 * NUL terminator is added or expected.
 *
 * Privileges (section 1.2): the daemon starts the helper as root.  When
 * it is root, queue_api_dispatch() first chroots to the spool
 * (PATH_SMTPD_SPOOL) and drops to the queue user (SMTPQ_USER); not
 * being root, it does neither and says so in the log.  The setters
 * below change or disable each step; they must be called before
 * dispatch.
 */
#ifndef API_QUEUE_API_H
#define API_QUEUE_API_H

#include <stddef.h>
#include <stdint.h>

#define PROC_QUEUE_API_VERSION	2

/* the 6.4-6.8 daemon numbering (the default) */
enum queue_proc_msg {
	PROC_QUEUE_OK = 0,
	PROC_QUEUE_FAIL = 1,
	PROC_QUEUE_INIT = 2,
	PROC_QUEUE_CLOSE = 3,
	PROC_QUEUE_MESSAGE_CREATE = 4,
	PROC_QUEUE_MESSAGE_DELETE = 5,
	PROC_QUEUE_MESSAGE_COMMIT = 6,
	PROC_QUEUE_MESSAGE_FD_R = 7,
	PROC_QUEUE_ENVELOPE_CREATE = 8,
	PROC_QUEUE_ENVELOPE_DELETE = 9,
	PROC_QUEUE_ENVELOPE_LOAD = 10,
	PROC_QUEUE_ENVELOPE_UPDATE = 11,
	PROC_QUEUE_ENVELOPE_WALK = 12,
};

/* the extras numbering: 0-7 as above, then these */
enum queue_proc_extras_msg {
	PROC_QUEUE_X_MESSAGE_CORRUPT = 8,
	PROC_QUEUE_X_MESSAGE_UNCORRUPT = 9,
	PROC_QUEUE_X_ENVELOPE_CREATE = 10,
	PROC_QUEUE_X_ENVELOPE_DELETE = 11,
	PROC_QUEUE_X_ENVELOPE_LOAD = 12,
	PROC_QUEUE_X_ENVELOPE_UPDATE = 13,
	PROC_QUEUE_X_ENVELOPE_WALK = 14,
	PROC_QUEUE_X_MESSAGE_WALK = 15,
};

/*
 * The largest envelope the glue accepts or returns: what still fits a
 * WALK reply (r i32 + evpid u64 + bytes in one imsg).  Larger envelopes
 * are refused at create/update time (r = 0) so that every stored
 * envelope can be walked and loaded.
 */
#define QUEUE_API_ENVELOPE_MAX	(16384 - 16 - 4 - 8)

/*
 * Results of every queue_backend method.  Both negative values are
 * temporary failures (test r < 0); QUEUE_NOSPACE is a full spool
 * (ENOSPC, EDQUOT), which the SMTP side answers 452 4.3.1.  Over the
 * helper protocol only "1" and "not 1" travel: a host reads a helper's
 * failure as QUEUE_TEMPFAIL (temporary beats permanent), and an empty
 * ENVELOPE_LOAD reply as QUEUE_NOTFOUND.
 */
#define QUEUE_OK		 1	/* done */
#define QUEUE_NOTFOUND		 0	/* no such message or envelope */
#define QUEUE_TEMPFAIL		-1	/* I/O error, anything unclassified */
#define QUEUE_NOSPACE		-2	/* spool full: ENOSPC, EDQUOT */

/* tries at drawing a fresh msgid or evpid before giving up (tempfail) */
#define QUEUE_ID_TRIES_MAX	32

/* what a backend's recover found and set right at start-up */
struct queue_recovery {
	size_t	incoming;	/* uncommitted messages discarded */
	size_t	temporary;	/* half-written files removed */
	size_t	purged;		/* deleted messages whose removal ended */
	size_t	empty;		/* committed messages left with no envelope */
	size_t	corrupt;	/* damaged messages set aside in corrupt/ */
};

/*
 * A walk over the committed envelopes: of the whole queue (msgid 0,
 * ENVELOPE_WALK) or of one message (MESSAGE_WALK).  The caller steps it
 * as its event loop allows; operations may run between steps.  An
 * envelope is returned at most once per walk; one created or deleted
 * during the walk may or may not be seen.
 */
struct queue_walk {
	uint32_t	 msgid;		/* 0: every message */
	void		*data;		/* the backend's cursor */
};

#define QUEUE_BACKEND_V1	1

/*
 * A queue backend: written once against this header, linked into smtpd
 * (smtpd/queue/queue_NAME.c) or served as a helper by queue_api_serve().
 * Every method takes the context open() returned; a backend keeps no
 * state anywhere else.  Every int method returns a QUEUE_* result.
 * New methods are appended, never reordered; a NULL optional method
 * answers QUEUE_TEMPFAIL (or is skipped, where said).
 *
 * open			start on the spool ROOT (NULL for a backend without
 *			files); the context, or NULL (logged): unusable.
 * close		release the context.
 * finish		the daemon is done (CLOSE); optional.
 * recover		start-up: finish or undo what a crash left; optional.
 * message_create	a fresh message being received; *msgid set, nonzero.
 * message_fd_w		*fdp: a new write-only fd for the body, written
 *			before commit(msgid, -1); optional (the host then
 *			keeps the body and hands it to commit).
 * message_commit	make the body (FD, read from offset 0 and left open
 *			for the caller, or -1: what message_fd_w got) and
 *			every envelope durable and visible at once.
 * message_delete	drop a message, received or committed, and all
 *			its envelopes.
 * message_fd_r		*fdp: a new read-only fd of a committed body at
 *			offset 0.
 * message_corrupt	set a message aside / back (extras numbering);
 * message_uncorrupt	optional.
 * envelope_create	store LEN opaque bytes in MSGID; *evpid set, with
 *			msgid as upper half and a nonzero lower half.
 * envelope_delete	drop one envelope; the last one takes the message.
 * envelope_update	replace the bytes of an existing envelope.
 * envelope_load	at most BUFSZ bytes into BUF, *lenp set.
 * envelope_corrupt	set an envelope that does not parse aside; optional.
 * walk_open/next/close	the cursor above; next returns QUEUE_OK with an
 *			envelope, QUEUE_NOTFOUND at the end, < 0 on an
 *			error after which the walk may be stepped again.
 * message_commit_batch	(appended, optional) commit N messages at once,
 *			as message_commit would each (FDS NULL: all -1),
 *			sharing the fsyncs they have in common (group
 *			commit); RESULTS[i] is msgids[i]'s result, none OK
 *			before it is durable.  Returns QUEUE_OK when all
 *			went, else the first failure.  NULL: the host
 *			commits them one by one.  Not in the helper
 *			protocol.
 * envelope_delete_batch (appended, optional) delete N envelopes at once,
 *			as envelope_delete would each, sharing the fsyncs
 *			they have in common; RESULTS[i] is evpids[i]'s
 *			result, none OK before it is durable.  Returns
 *			QUEUE_OK when all went, else the first failure.
 *			NULL: the host deletes them one by one.  Not in
 *			the helper protocol.
 * commit_beside	(appended, optional) nonzero: the host may run
 *			message_commit_batch (or message_commit) in a
 *			thread of its own, one commit at a time, while its
 *			main thread calls any other entry point on other
 *			messages; the backend keeps no state between calls
 *			that two threads could share.  0: every call from
 *			one thread.
 */
struct queue_backend {
	int		 version;	/* QUEUE_BACKEND_V1; append only */
	const char	*name;
	void	*(*open)(const char *root);
	void	(*close)(void *ctx);
	int	(*finish)(void *ctx);
	int	(*recover)(void *ctx, struct queue_recovery *);
	int	(*message_create)(void *ctx, uint32_t *msgid);
	int	(*message_fd_w)(void *ctx, uint32_t msgid, int *fdp);
	int	(*message_commit)(void *ctx, uint32_t msgid, int fd);
	int	(*message_delete)(void *ctx, uint32_t msgid);
	int	(*message_fd_r)(void *ctx, uint32_t msgid, int *fdp);
	int	(*message_corrupt)(void *ctx, uint32_t msgid);
	int	(*message_uncorrupt)(void *ctx, uint32_t msgid);
	int	(*envelope_create)(void *ctx, uint32_t msgid, const char *buf,
		    size_t len, uint64_t *evpid);
	int	(*envelope_delete)(void *ctx, uint64_t evpid);
	int	(*envelope_update)(void *ctx, uint64_t evpid, const char *buf,
		    size_t len);
	int	(*envelope_load)(void *ctx, uint64_t evpid, char *buf,
		    size_t bufsz, size_t *lenp);
	int	(*envelope_corrupt)(void *ctx, uint64_t evpid);
	int	(*walk_open)(void *ctx, struct queue_walk *);
	int	(*walk_next)(void *ctx, struct queue_walk *, uint64_t *evpid,
		    char *buf, size_t bufsz, size_t *lenp);
	void	(*walk_close)(void *ctx, struct queue_walk *);
	int	(*message_commit_batch)(void *ctx, size_t n,
		    const uint32_t *msgids, const int *fds, int *results);
	int	(*envelope_delete_batch)(void *ctx, size_t n,
		    const uint64_t *evpids, int *results);
	int	  commit_beside;
};

/*
 * queue_backend_draw_id - a random nonzero u32 for a msgid or an evpid's
 * lower half, or 0 when QUEUE_ID_TRIES_MAX draws gave 0 (only a test's
 * source can be that unlucky).  queue_backend_set_id_source replaces
 * arc4random for tests (NULL restores it).
 */
uint32_t queue_backend_draw_id(void);
void	queue_backend_set_id_source(uint32_t (*)(void));
/*
 * queue_backend_draw_msgid - a msgid for a store laid out in buckets by
 * the msgid's top byte (fs: queue/<xx>/): that byte is the same for
 * every msgid drawn in one second and turns through all 256 once a
 * second, the rest is random, so messages received (then delivered)
 * together share their bucket and a group commit or a batch of deletes
 * fsyncs one bucket where it fsynced one per message.  With a test's
 * id source, its ids as they come; 0 as queue_backend_draw_id.
 */
uint32_t queue_backend_draw_msgid(void);

/* the walks in progress of one host of a backend */
struct queue_walks {
	struct queue_walk	env;		/* ENVELOPE_WALK */
	struct queue_walk	msg;		/* MESSAGE_WALK */
	int			env_open;
	int			msg_open;
};

/*
 * queue_backend_call - request M (api/queue_proto.h) run on backend B:
 * the reply the protocol sends in OUT (r, msgid, evpid, data, fd) and
 * the backend's own QUEUE_* result in out->status.  FD is COMMIT's
 * body (read, not closed); ENV (ENVSZ bytes) holds LOAD's and the
 * walks' envelope; walks are opened on demand and closed at their end.
 * The one meaning of each request, for the glue (queue_api_serve) and
 * for smtpd's embedded host alike.  queue_backend_walks_close ends the
 * walks in progress.
 */
struct queue_msg;
void	queue_backend_call(const struct queue_backend *b, void *ctx,
	    struct queue_walks *walks, const struct queue_msg *m, int fd,
	    struct queue_msg *out, char *env, size_t envsz);
void	queue_backend_walks_close(const struct queue_backend *b, void *ctx,
	    struct queue_walks *walks);

/*
 * queue_api_serve - serve backend B (context CTX, already open) on fd
 * 0 under the numbering in effect; queue_api_serve_fd on another fd.
 * Same returns as queue_api_dispatch().  The callbacks registered with
 * queue_api_on_*() below are served the same way, through a backend of
 * this glue: queue_api_dispatch() is queue_api_serve() of that one.
 */
int	queue_api_serve(const struct queue_backend *b, void *ctx);
int	queue_api_serve_fd(const struct queue_backend *b, void *ctx, int fd);

void	queue_api_on_close(int (*)(void));
void	queue_api_on_message_create(int (*)(uint32_t *msgid));
/*
 * message_commit: the extras form.  The glue copies the received fd into
 * a new file in the temporary directory (queue_api_set_tmpdir, "/tmp"
 * below the root in effect by default) and gives the driver its path;
 * the driver renames or copies it.  The glue unlinks what is left of it
 * after the callback.
 */
void	queue_api_on_message_commit(int (*)(uint32_t msgid, const char *path));
/*
 * message_commit_fd: our form, no temporary file.  fd is the daemon's
 * read-only descriptor of the message, rewound to offset 0; the glue
 * closes it after the callback (dup it to keep it).  When both forms
 * are registered, this one is used.
 */
void	queue_api_on_message_commit_fd(int (*)(uint32_t msgid, int fd));
void	queue_api_on_message_delete(int (*)(uint32_t msgid));
void	queue_api_on_message_fd_r(int (*)(uint32_t msgid));
/* extras numbering only; unregistered, they answer 0 */
void	queue_api_on_message_corrupt(int (*)(uint32_t msgid));
void	queue_api_on_message_uncorrupt(int (*)(uint32_t msgid));
void	queue_api_on_envelope_create(int (*)(uint32_t msgid, const char *buf,
	    size_t len, uint64_t *evpid));
void	queue_api_on_envelope_delete(int (*)(uint64_t evpid));
void	queue_api_on_envelope_update(int (*)(uint64_t evpid, const char *buf,
	    size_t len));
void	queue_api_on_envelope_load(int (*)(uint64_t evpid, char *buf,
	    size_t len));
void	queue_api_on_envelope_walk(int (*)(uint64_t *evpid, char *buf,
	    size_t len));
/*
 * message_walk (extras numbering only): the envelopes of one msgid.
 * *data is the driver's cursor: NULL when a walk of msgid starts (the
 * glue resets it when the msgid changes and after the callback returned
 * -1).  Setting *done to 1 ends the walk after this answer: the next
 * request answers -1 without calling the driver.
 */
void	queue_api_on_message_walk(int (*)(uint64_t *evpid, char *buf,
	    size_t len, uint32_t msgid, int *done, void **data));

/*
 * queue_api_drop_privileges - the chroot and setuid of dispatch, done
 * now (for a backend that must open its store as the queue user) and
 * not again.  Returns 1 when it chrooted, 0 when not, -1 on failure
 * (logged).
 */
int	queue_api_drop_privileges(void);

/* numbering and privileges; call before queue_api_dispatch() */
void	queue_api_use_extras_numbering(void);
void	queue_api_use_daemon_numbering(void);	/* the default */
void	queue_api_no_chroot(void);
void	queue_api_set_chroot(const char *path);	/* NULL: no chroot */
void	queue_api_set_user(const char *user);	/* NULL: keep the uid */
void	queue_api_set_tmpdir(const char *path);	/* commit copies (path form) */

/*
 * queue_api_init - common start of a queue driver's main(): program
 * name for the logs and the options every queue helper takes:
 *   -v        verbose (debug lines)
 *   -X        extras numbering
 *   -n        no chroot
 *   -c dir    chroot to dir
 *   -u user   drop to user ("-u ''": keep the uid)
 *   -t dir    temporary directory of the path form of commit
 * The daemon passes ARG of `-B queue=NAME:ARG` as the one argument, so
 * a single option travels as `NAME:-X` or `NAME:-c/path`.  Returns the
 * index in argv of the first operand (the driver's own), or -1 after
 * logging a usage error.
 */
int	queue_api_init(const char *progname, int argc, char *argv[]);

/*
 * queue_api_dispatch - drop privileges, then serve requests on fd 0.
 * Returns 0 on EOF, 1 after a protocol violation, an I/O error or a
 * failure to drop privileges (all logged): malformed input never crashes
 * the helper, and main() returns this value.
 */
int	queue_api_dispatch(void);
/* queue_api_dispatch_fd - the same on another descriptor (tests) */
int	queue_api_dispatch_fd(int fd);

#endif
