/*
 * queue_fs_journal.h -- the commit journal of the fs queue backend
 * (queue_fs_journal.c), private to it: queue_fs.c and its tests.
 */
#ifndef QUEUE_FS_JOURNAL_H
#define QUEUE_FS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

/* a body larger than this is committed the classic way (its batch too) */
#define QUEUE_FS_JOURNAL_BODY_MAX	(256u << 10)
/* a checkpoint before the journal grows past this many bytes (its
 * syncfs, which the next commit waits for, writes what came since:
 * measured here about 25 us a message, 30 ms for 2 MiB of 1 KiB mail;
 * 16 MiB stalled commits for 250 ms) ... */
#define QUEUE_FS_JOURNAL_MAX		(2u << 20)
/* ... or holds this many messages */
#define QUEUE_FS_JOURNAL_LIVE_MAX	65536u
#define QUEUE_FS_JOURNAL_NAME		"journal"

struct queue_fs_journal;

/* one envelope of a message being journaled: its id and open file */
struct queue_fs_jenv {
	uint64_t	evpid;
	int		fd;
};

/* queue_fs.c's fallible-call hooks (tests' fault injection): any call,
 * a flush (counted as an fsync) */
int	queue_fs_fault(void);
int	queue_fs_fault_sync(void);

int	queue_fs_journal_open(int rootfd, struct queue_fs_journal **);
void	queue_fs_journal_close(struct queue_fs_journal *);
int	queue_fs_journal_begin(struct queue_fs_journal *);
int	queue_fs_journal_add(struct queue_fs_journal *, uint32_t msgid,
	    int bodyfd, const struct queue_fs_jenv *, size_t nenv);
int	queue_fs_journal_sync(struct queue_fs_journal *);
void	queue_fs_journal_end(struct queue_fs_journal *, int durable);
int	queue_fs_journal_delete(struct queue_fs_journal *, uint32_t msgid,
	    const uint64_t *evpids, size_t n);
int	queue_fs_journal_settle(struct queue_fs_journal *,
	    const uint32_t *msgids, size_t n);

/* tests: journal new spools (1, the default) or not; checkpoints made */
void		queue_fs_set_journal(int on);
int		queue_fs_journal_enabled(void);
unsigned int	queue_fs_count_checkpoints(void);

#endif
