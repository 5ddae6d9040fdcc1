/*
 * queue_backend.h -- the queue's storage API: messages and envelopes on
 * stable storage, behind one struct of function pointers per backend.
 * Used by the queue process (chrooted into the spool as _smtpq) through
 * the queue_* functions of queue_backend.c, which pick the configured
 * backend (queue_backend_fs by default) and turn struct envelope into its
 * version 3 text and back.  The backend operations are those of the proc
 * queue protocol (spec libexec-protocols.md 5.2), so a proc backend maps
 * onto them one to one; message_fd_w is the daemon's half of spec 5.4.
 * Backends store envelope bytes as opaque data (spec 5.5 comes later).
 * Never fatal after start-up: a storage failure is a temporary failure.
 */
#ifndef SMTPD_QUEUE_BACKEND_H
#define SMTPD_QUEUE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

struct envelope;

#define QUEUE_BACKEND_V1	1

/*
 * Results of every operation.  Both negative values are temporary
 * failures (test r < 0); QUEUE_NOSPACE is the spool being full (ENOSPC,
 * EDQUOT), which the SMTP side answers 452 4.3.1 instead of 451 4.3.0.
 */
#define QUEUE_OK		 1	/* done */
#define QUEUE_NOTFOUND		 0	/* no such message or envelope */
#define QUEUE_TEMPFAIL		-1	/* I/O error, anything unclassified */
#define QUEUE_NOSPACE		-2	/* spool full: ENOSPC, EDQUOT */

/* tries at drawing a fresh msgid or evpid before giving up (tempfail) */
#define QUEUE_ID_TRIES_MAX	32

/* what queue_recover found and set right at start-up */
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
 * with queue_walk_next as its event loop allows; operations may run
 * between steps.  An envelope is returned at most once per walk; one
 * created or deleted during the walk may or may not be seen.
 */
struct queue_walk {
	uint32_t	 msgid;		/* 0: every message */
	void		*data;		/* the backend's cursor */
};

/*
 * A backend.  Every int method returns one of the QUEUE_* results.
 * Ids are drawn with queue_backend_draw_id, never taken from outside.
 *
 * message_create	a fresh message being received; *msgid set.
 * message_fd_w		*fdp: a new write-only fd for the body, once per
 *			message; the caller writes it before commit.
 * message_commit	make the body and every envelope durable and the
 *			message visible at once; only after QUEUE_OK may
 *			250 be sent.  On failure the message is left
 *			uncommitted (or, if even the rollback failed,
 *			committed): message_delete it either way.
 * message_delete	drop a message, received or committed, and all
 *			its envelopes.
 * message_fd_r		*fdp: a new read-only fd of a committed body at
 *			offset 0.
 * envelope_create	store LEN bytes in MSGID; *evpid set.
 * envelope_delete	drop one envelope; the last one takes the message.
 * envelope_update	replace the bytes of an existing envelope.
 * envelope_load	at most BUFSZ bytes into BUF, *lenp set; a longer
 *			file yields BUFSZ bytes (the parser refuses it).
 * envelope_corrupt	set an envelope that does not parse aside.
 * walk_open/next/close	the cursor above; next returns QUEUE_OK with an
 *			envelope, QUEUE_NOTFOUND at the end, < 0 on an
 *			error after which the walk may be stepped again.
 * recover		start-up: finish or undo whatever a crash left.
 */
struct queue_backend {
	int		 version;	/* QUEUE_BACKEND_V1; append only */
	const char	*name;
	int	(*init)(const char *root);	/* -1: unusable (start-up) */
	void	(*close)(void);
	int	(*recover)(struct queue_recovery *);
	int	(*message_create)(uint32_t *msgid);
	int	(*message_fd_w)(uint32_t msgid, int *fdp);
	int	(*message_commit)(uint32_t msgid);
	int	(*message_delete)(uint32_t msgid);
	int	(*message_fd_r)(uint32_t msgid, int *fdp);
	int	(*envelope_create)(uint32_t msgid, const char *buf, size_t len,
		    uint64_t *evpid);
	int	(*envelope_delete)(uint64_t evpid);
	int	(*envelope_update)(uint64_t evpid, const char *buf, size_t len);
	int	(*envelope_load)(uint64_t evpid, char *buf, size_t bufsz,
		    size_t *lenp);
	int	(*envelope_corrupt)(uint64_t evpid);
	int	(*walk_open)(struct queue_walk *);
	int	(*walk_next)(struct queue_walk *, uint64_t *evpid, char *buf,
		    size_t bufsz, size_t *lenp);
	void	(*walk_close)(struct queue_walk *);
};

extern const struct queue_backend	queue_backend_fs;

/* queue_backend.c: the queue process's entry points */
const struct queue_backend *queue_backend_lookup(const char *name);
int	queue_backend_init(const char *name, const char *root);
void	queue_backend_close(void);
uint32_t queue_backend_draw_id(void);
int	queue_recover(struct queue_recovery *);
int	queue_create_message(uint32_t *msgid);
int	queue_open_message_write(uint32_t msgid, int *fdp);
int	queue_commit_message(uint32_t msgid);
int	queue_delete_message(uint32_t msgid);
int	queue_open_message_read(uint32_t msgid, int *fdp);
int	queue_create_envelope(uint32_t msgid, struct envelope *evp);
int	queue_delete_envelope(uint64_t evpid);
int	queue_update_envelope(const struct envelope *evp);
int	queue_load_envelope(uint64_t evpid, struct envelope *evp);
struct queue_walk *queue_walk_new(uint32_t msgid);
int	queue_walk_next(struct queue_walk *, struct envelope *evp);
void	queue_walk_free(struct queue_walk **);

/*
 * Test hooks, compiled in always and off by default; only regress/
 * calls them.  queue_backend_set_id_source replaces arc4random (NULL
 * restores it).  queue_fs_inject_fault makes the NTH fallible system
 * call of queue_fs from now on (1 = the next) fail with ERR, 0 turns it
 * off; queue_fs_count_calls says how many were made since.
 */
void	queue_backend_set_id_source(uint32_t (*)(void));
void	queue_fs_inject_fault(unsigned int nth, int err);
unsigned int queue_fs_count_calls(void);

#endif
