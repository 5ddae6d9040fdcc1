/*
 * queue_fs_int.h -- what the files of the fs queue backend share:
 * queue_fs.c (open, messages, envelopes, commits, deletes) and
 * queue_fs_walk.c (the walk over queue/ and the recovery at start-up).
 * Private to them and to their tests.
 */
#ifndef QUEUE_FS_INT_H
#define QUEUE_FS_INT_H

#include <sys/types.h>

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "queue_api.h"

#define QUEUE_FS_PATH_MAX	64	/* longest formatted path, and room */
/* the largest envelope stored: the daemon's envelope text limit */
#define QUEUE_FS_ENVELOPE_MAX	(IMSG_MAX_PAYLOAD - 8)
#define QUEUE_FS_BUCKETS	256
#define QUEUE_FS_EINTR_MAX	100	/* EINTR retries, then failure */

/* where a message lives */
enum queue_fs_where {
	QUEUE_FS_INCOMING,
	QUEUE_FS_QUEUE
};

/* the backend's context, from open to close */
struct queue_fs {
	int		rootfd;		/* the spool root */
	struct queue_fs_journal	*journal;	/* NULL: classic commits */
};

/* what a group commit fsyncs side by side (api_fsync.h): the opened
 * files and directories, the message each makes durable (its index in
 * the batch, or QUEUE_FS_ALL), its path for the log */
#define QUEUE_FS_ALL	((size_t)-1)
struct queue_fs_syncs {
	int		*fds;
	int		*errs;
	size_t		*owner;
	char		(*path)[QUEUE_FS_PATH_MAX];
	size_t		 n, cap;
};

/* what queue_fs_scan found in a message directory */
struct queue_fs_scan {
	size_t	nevp;		/* envelopes of this msgid */
	int	has_evpid;	/* the envelope asked about is one */
	int	has_body;	/* "message" is there */
};

struct queue_recovery;
struct queue_walk;

/* queue_fs.c: paths, names and calls (each fallible one logged and
 * counted by the tests' fault injection) */
uint32_t queue_fs_evpid_msgid(uint64_t evpid);
int	queue_fs_parse_msgid(const char *name, uint32_t *msgid);
int	queue_fs_parse_evpid(const char *name, uint64_t *evpid);
int	queue_fs_dot(const char *name);
int	queue_fs_path(char *buf, size_t bufsz, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	queue_fs_msgdir(uint32_t msgid, enum queue_fs_where where, char *buf,
	    size_t bufsz);
int	queue_fs_fail(const char *step, const char *path);
int	queue_fs_rename(struct queue_fs *fs, const char *from, const char *to);
int	queue_fs_sync_path(struct queue_fs *fs, const char *path);
DIR	*queue_fs_opendir(struct queue_fs *fs, const char *path);
int	queue_fs_remove_tree(int parentfd, const char *name);
int	queue_fs_read(struct queue_fs *fs, const char *path, char *buf,
	    size_t bufsz, size_t *lenp);
int	queue_fs_scan(struct queue_fs *fs, const char *dir, uint32_t msgid,
	    uint64_t evpid, struct queue_fs_syncs *syncs, size_t owner,
	    struct queue_fs_scan *sc);
int	queue_fs_purge(struct queue_fs *fs, uint32_t msgid, const char *dir,
	    const char *parent);

/* queue_fs_walk.c: the backend's walk and recovery */
int	queue_fs_walk_open(void *ctx, struct queue_walk *w);
int	queue_fs_walk_next(void *ctx, struct queue_walk *w, uint64_t *evpid,
	    char *buf, size_t bufsz, size_t *lenp);
void	queue_fs_walk_close(void *ctx, struct queue_walk *w);
int	queue_fs_recover(void *ctx, struct queue_recovery *rec);

#endif
