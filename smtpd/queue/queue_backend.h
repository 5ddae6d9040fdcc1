/*
 * queue_backend.h -- the queue's storage API: messages and envelopes on
 * stable storage, behind one struct of function pointers per backend.
 * Used by the queue process (chrooted into the spool as _smtpq) through
 * the queue_* functions of queue_backend.c, which pick the configured
 * backend (queue_backend_fs by default) and turn struct envelope into its
 * version 3 text and back.  The backend struct itself is api/'s (one
 * model for backends linked in and served as helpers); its operations
 * are those of the proc queue protocol (spec libexec-protocols.md 5.2).
 * Backends store envelope bytes as opaque data (spec 5.5 comes later).
 * Never fatal after start-up: a storage failure is a temporary failure.
 */
#ifndef SMTPD_QUEUE_BACKEND_H
#define SMTPD_QUEUE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "queue_api.h"	/* struct queue_backend, QUEUE_* results */

struct envelope;

/* the backends linked in (smtpd/queue/queue_NAME.c) */
extern const struct queue_backend	queue_backend_fs;
extern const struct queue_backend	queue_backend_ram;
extern const struct queue_backend	queue_backend_null;	/* keeps nothing */

/* queue_backend.c: the queue process's entry points */
const struct queue_backend *queue_backend_lookup(const char *name);
int	queue_backend_init(const char *name, const char *root);
/* queue_backend_start - the same with the backend itself (tests: a
 * variant of a linked-in one) */
int	queue_backend_start(const struct queue_backend *b, const char *root);
void	queue_backend_close(void);
/* queue_evpcache_init - keep the text of up to MAX envelopes lately
 * stored or loaded (QUEUE-12; 0, the default: none); emptied by close */
void	queue_evpcache_init(size_t max);
/* queue_evpcache_count - envelopes cached now (tests) */
size_t	queue_evpcache_count(void);
/* queue_backend_context - the context of the backend in use (tests) */
void	*queue_backend_context(void);
int	queue_recover(struct queue_recovery *);
int	queue_create_message(uint32_t *msgid);
int	queue_open_message_write(uint32_t msgid, int *fdp);
int	queue_commit_message(uint32_t msgid);
/*
 * queue_commit_messages - group commit: N messages (bodies FDS[i], -1:
 * written through queue_open_message_write) made durable together,
 * results[i] for msgids[i]; QUEUE_OK if all went, else the first failure
 */
int	queue_commit_messages(size_t n, const uint32_t *msgids, const int *fds,
	    int *results);
/* queue_backend_commit_beside - 1 if a commit may run in a thread
 * beside the other calls */
int	queue_backend_commit_beside(void);
/* queue_backend_takes_body_fd - 1 if the backend gives a write fd */
int	queue_backend_takes_body_fd(void);
int	queue_delete_message(uint32_t msgid);
int	queue_open_message_read(uint32_t msgid, int *fdp);
int	queue_create_envelope(uint32_t msgid, struct envelope *evp);
int	queue_delete_envelope(uint64_t evpid);
/* queue_delete_envelopes - N envelopes deleted, sharing fsyncs when the
 * backend can; RESULTS[i] for evpids[i]; QUEUE_OK or the first failure */
int	queue_delete_envelopes(size_t n, const uint64_t *evpids,
	    int *results);
int	queue_update_envelope(const struct envelope *evp);
int	queue_load_envelope(uint64_t evpid, struct envelope *evp);
struct queue_walk *queue_walk_new(uint32_t msgid);
int	queue_walk_next(struct queue_walk *, struct envelope *evp);
void	queue_walk_free(struct queue_walk **);

/*
 * Test hooks, compiled in always and off by default; only regress/
 * calls them (queue_backend_set_id_source is in queue_api.h).
 * queue_fs_inject_fault makes the NTH fallible system
 * call of queue_fs from now on (1 = the next) fail with ERR, 0 turns it
 * off; queue_fs_count_calls says how many were made since.
 */
void	queue_fs_inject_fault(unsigned int nth, int err);
unsigned int queue_fs_count_calls(void);
/* queue_fs_count_fsyncs - of those calls, the fsyncs (and syncfs) */
unsigned int queue_fs_count_fsyncs(void);
/* queue_fs_set_journal - spools opened from now on commit through the
 * journal (1, the default) or the classic way (0); queue_fs_count_
 * checkpoints - the journal's checkpoints so far, in every spool */
void	queue_fs_set_journal(int on);
unsigned int queue_fs_count_checkpoints(void);

#endif
