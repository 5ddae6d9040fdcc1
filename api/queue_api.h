/*
 * queue_api.h -- the queue helper side of the proc queue protocol.
 *
 * A queue driver (libexec/queue-*) registers callbacks and calls
 * queue_api_dispatch(), which speaks PROC_QUEUE_API_VERSION 2
 * (libexec-protocols.md section 5) on fd 0: INIT (empty reply), then
 * message and envelope requests, every reply of type 0.  The callback
 * signatures are those of OpenSMTPD's extras glue, so its drivers build
 * unchanged.
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
