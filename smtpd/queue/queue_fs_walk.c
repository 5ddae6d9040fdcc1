/*
 * queue_fs_walk.c -- the fs queue backend's reading of the whole spool:
 * the walk over queue/ (the scheduler's rebuild, smtpctl show queue),
 * which also sets right a committed message a crash left damaged, and
 * the recovery at start-up (what a crash left in temporary/, incoming/
 * and purge/).  The rest of the backend is queue_fs.c; what they
 * share is in queue_fs_int.h.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"	/* log_* of the glue */
#include "queue_api.h"
#include "queue_fs_journal.h"
#include "queue_fs_int.h"

/* a cursor of queue_fs_walk_next */
struct queue_fs_walk {
	int		 bucket;	/* the next bucket to open */
	DIR		*bucketdir;
	uint32_t	 msgid;		/* the message being read; 0 none */
	int		 listed;	/* its directory has been read */
	uint64_t	*evps;		/* what it held then */
	size_t		 nevps;
	size_t		 evpsz;
	size_t		 next;		/* the next of them to read */
	int		 retried;	/* failed once here: next, skip */
	int		 one;		/* walk of one message */
	int		 done;
};

/* queue_fs_walk_open - a cursor over queue/, or over one message */
int
queue_fs_walk_open(void *ctx, struct queue_walk *w)
{
	struct queue_fs		*fs = ctx;
	struct queue_fs_walk	*fw;

	if (fs->rootfd == -1)
		return QUEUE_TEMPFAIL;
	if ((fw = calloc(1, sizeof *fw)) == NULL)
		return queue_fs_fail("walk", "queue");
	if (w->msgid != 0) {
		fw->msgid = w->msgid;
		fw->one = 1;
	}
	w->data = fw;
	return QUEUE_OK;
}

/* queue_fs_walk_close - release a cursor */
void
queue_fs_walk_close(void *ctx, struct queue_walk *w)
{
	struct queue_fs_walk	*fw = w->data;

	if (fw == NULL)
		return;
	free(fw->evps);
	if (fw->bucketdir != NULL)
		closedir(fw->bucketdir);
	free(fw);
	w->data = NULL;
}

/* queue_fs_walk_envelope - read EVPID for the walk; NOTFOUND if gone */
static int
queue_fs_walk_envelope(struct queue_fs *fs, struct queue_fs_walk *fw,
    uint64_t evpid, char *buf, size_t bufsz, size_t *lenp)
{
	char	path[QUEUE_FS_PATH_MAX];

	if (queue_fs_path(path, sizeof path, "queue/%02x/%08" PRIx32
	    "/%016" PRIx64, (unsigned int)(fw->msgid >> 24), fw->msgid,
	    evpid) == -1)
		return QUEUE_TEMPFAIL;
	return queue_fs_read(fs, path, buf, bufsz, lenp);
}

/*
 * queue_fs_walk_skip - after a failure at the walk's position: 0 the
 * first time (the caller returns it; the next step tries again), 1 the
 * second (the position is skipped, so one unreadable entry never stops
 * the walk at start-up).
 */
static int
queue_fs_walk_skip(struct queue_fs_walk *fw)
{
	if (!fw->retried) {
		fw->retried = 1;
		return 0;
	}
	fw->retried = 0;
	return 1;
}

/*
 * queue_fs_walk_list - read the directory of the message being walked,
 * once: its envelopes into fw->evps, whether it has a body into *bodyp.
 * QUEUE_OK, QUEUE_NOTFOUND when the message is gone, or a failure.
 */
static int
queue_fs_walk_list(struct queue_fs *fs, struct queue_fs_walk *fw,
    int *bodyp)
{
	struct dirent	*de;
	DIR		*dp;
	char		 dir[QUEUE_FS_PATH_MAX];
	uint64_t	*grown, id;
	size_t		 sz;
	int		 r = QUEUE_OK;

	fw->nevps = fw->next = 0;
	*bodyp = 0;
	if (queue_fs_msgdir(fw->msgid, QUEUE_FS_QUEUE, dir, sizeof dir) == -1)
		return QUEUE_TEMPFAIL;
	if ((dp = queue_fs_opendir(fs, dir)) == NULL)
		return errno == ENOENT ? QUEUE_NOTFOUND :
		    queue_fs_fail("open", dir);
	/* bounded by the entries of one directory */
	for (;;) {
		errno = 0;
		if ((de = readdir(dp)) == NULL) {
			if (errno != 0)
				r = queue_fs_fail("read", dir);
			break;
		}
		if (queue_fs_dot(de->d_name))
			continue;
		if (strcmp(de->d_name, "message") == 0) {
			*bodyp = 1;
			continue;
		}
		if (queue_fs_parse_evpid(de->d_name, &id) == -1 ||
		    queue_fs_evpid_msgid(id) != fw->msgid) {
			log_warnx("queue-fs: msgid=%08" PRIx32 " stray file "
			    "ignored", fw->msgid);
			continue;
		}
		if (fw->nevps == fw->evpsz) {
			sz = fw->evpsz ? fw->evpsz * 2 : 16;
			if ((grown = reallocarray(fw->evps, sz,
			    sizeof *grown)) == NULL) {
				r = queue_fs_fail("walk", dir);
				break;
			}
			fw->evps = grown;
			fw->evpsz = sz;
		}
		fw->evps[fw->nevps++] = id;
	}
	closedir(dp);
	return r;
}

/*
 * queue_fs_walk_repair - what a crash may have left of a committed
 * message, found by the walk of the whole queue (the start-up walk
 * first): no envelope left (the crash came between the last delete and
 * the removal), removed; envelopes without a body, set aside in
 * corrupt/, never deleted.  Neither happens while smtpd runs: a commit
 * renames a whole message into queue/ and the last delete removes it in
 * the same call.  1: the message is dealt with (not to be walked), 0:
 * walk it.
 */
static int
queue_fs_walk_repair(struct queue_fs *fs, uint32_t msgid, size_t nevp,
    int has_body)
{
	char	dir[QUEUE_FS_PATH_MAX];
	char	parent[QUEUE_FS_PATH_MAX];
	char	to[QUEUE_FS_PATH_MAX];

	if (nevp > 0 && has_body)
		return 0;
	if (queue_fs_msgdir(msgid, QUEUE_FS_QUEUE, dir, sizeof dir) == -1 ||
	    queue_fs_path(parent, sizeof parent, "queue/%02x",
	    (unsigned int)(msgid >> 24)) == -1 ||
	    queue_fs_path(to, sizeof to, "corrupt/%08" PRIx32, msgid) == -1)
		return 1;
	if (nevp == 0) {
		/* every envelope was delivered or set aside: nothing to send;
		 * a failure leaves it for the next walk */
		if (queue_fs_journal_delete(fs->journal, msgid, NULL, 0) ==
		    QUEUE_OK && queue_fs_purge(fs, msgid, dir, parent) ==
		    QUEUE_OK)
			log_info("0000000000000000 queue recover msgid=%08"
			    PRIx32 " action=removed reason=no-envelope",
			    msgid);
		return 1;
	}
	/* envelopes without a body: never delete them, set them aside */
	if (queue_fs_rename(fs, dir, to) == -1) {
		log_warn("queue-fs: msgid=%08" PRIx32 " has no body, left in "
		    "place", msgid);
		return 1;
	}
	if (queue_fs_sync_path(fs, parent) == -1 ||
	    queue_fs_sync_path(fs, "corrupt") == -1)
		(void)queue_fs_fail("fsync", to);
	log_info("0000000000000000 queue recover msgid=%08" PRIx32
	    " action=corrupt reason=no-body", msgid);
	return 1;
}

/*
 * queue_fs_walk_message - the next envelope of the message being read:
 * QUEUE_OK, QUEUE_NOTFOUND when the message has no more, or a failure
 * (the same position is tried again on the next step, then skipped).
 */
static int
queue_fs_walk_message(struct queue_fs *fs, struct queue_fs_walk *fw,
    uint64_t *evpid, char *buf, size_t bufsz, size_t *lenp)
{
	uint64_t	 id;
	int		 r, has_body;

	if (!fw->listed) {
		r = queue_fs_walk_list(fs, fw, &has_body);
		if (r == QUEUE_NOTFOUND)
			return r;
		if (r < 0) {
			if (!queue_fs_walk_skip(fw))
				return r;
			log_warnx("queue-fs: msgid=%08" PRIx32 " unreadable, "
			    "skipped by this walk", fw->msgid);
			return QUEUE_NOTFOUND;	/* on to the next message */
		}
		fw->retried = 0;
		fw->listed = 1;
		if (!fw->one && queue_fs_walk_repair(fs, fw->msgid,
		    fw->nevps, has_body))
			fw->nevps = 0;
	}
	while (fw->next < fw->nevps) {
		id = fw->evps[fw->next];
		r = queue_fs_walk_envelope(fs, fw, id, buf, bufsz, lenp);
		if (r < 0 && !queue_fs_walk_skip(fw))
			return r;	/* this one again, next step */
		fw->next++;
		if (r < 0) {
			log_warnx("queue-fs: evpid=%016" PRIx64 " unreadable, "
			    "skipped by this walk", id);
			continue;
		}
		fw->retried = 0;
		if (r == QUEUE_NOTFOUND)
			continue;	/* deleted since the listing */
		*evpid = id;
		return QUEUE_OK;
	}
	fw->listed = 0;
	return QUEUE_NOTFOUND;
}

/* queue_fs_walk_next - the next committed envelope, bucket by bucket */
int
queue_fs_walk_next(void *ctx, struct queue_walk *w, uint64_t *evpid,
    char *buf, size_t bufsz, size_t *lenp)
{
	struct queue_fs		*fs = ctx;
	struct queue_fs_walk	*fw = w->data;
	struct dirent		*de;
	char			 path[QUEUE_FS_PATH_MAX];
	uint32_t		 id;
	int			 r;

	if (fw == NULL)
		return QUEUE_TEMPFAIL;
	/* each turn ends a message, reads one entry or opens one bucket */
	while (!fw->done) {
		if (fw->msgid != 0) {
			if ((r = queue_fs_walk_message(fs, fw, evpid, buf,
			    bufsz, lenp)) != QUEUE_NOTFOUND)
				return r;
			fw->msgid = 0;
			if (fw->one)
				fw->done = 1;
			continue;
		}
		if (fw->bucketdir == NULL) {
			if (fw->bucket >= QUEUE_FS_BUCKETS) {
				fw->done = 1;
				break;
			}
			if (queue_fs_path(path, sizeof path, "queue/%02x",
			    (unsigned int)fw->bucket) == -1)
				return QUEUE_TEMPFAIL;
			if ((fw->bucketdir = queue_fs_opendir(fs, path)) ==
			    NULL && errno != ENOENT) {
				r = queue_fs_fail("open", path);
				if (!queue_fs_walk_skip(fw))
					return r;
				log_warnx("queue-fs: %s unreadable, skipped "
				    "by this walk", path);
			} else
				fw->retried = 0;
			fw->bucket++;
			continue;
		}
		if ((de = readdir(fw->bucketdir)) == NULL) {
			closedir(fw->bucketdir);
			fw->bucketdir = NULL;
			continue;
		}
		if (queue_fs_dot(de->d_name))
			continue;
		if (queue_fs_parse_msgid(de->d_name, &id) == -1 ||
		    (int)(id >> 24) != fw->bucket - 1) {
			log_warnx("queue-fs: queue/%02x: stray entry ignored",
			    (unsigned int)(fw->bucket - 1));
			continue;
		}
		fw->msgid = id;
	}
	return QUEUE_NOTFOUND;
}

/* queue_fs_recover_temporary - remove half-written files */
static int
queue_fs_recover_temporary(struct queue_fs *fs, struct queue_recovery *rec)
{
	struct dirent	*de;
	DIR		*dp;

	if ((dp = queue_fs_opendir(fs, "temporary")) == NULL)
		return queue_fs_fail("open", "temporary");
	while ((de = readdir(dp)) != NULL) {
		if (queue_fs_dot(de->d_name))
			continue;
		if (unlinkat(dirfd(dp), de->d_name, 0) == -1) {
			log_warn("queue-fs: remove temporary entry");
			continue;
		}
		rec->temporary++;
	}
	closedir(dp);
	return QUEUE_OK;
}

/* queue_fs_recover_incoming - discard every uncommitted message */
static int
queue_fs_recover_incoming(struct queue_fs *fs, struct queue_recovery *rec)
{
	struct dirent	*de;
	DIR		*dp;
	char		 dir[QUEUE_FS_PATH_MAX];
	uint32_t	 id;
	int		 r = QUEUE_OK;

	if ((dp = queue_fs_opendir(fs, "incoming")) == NULL)
		return queue_fs_fail("open", "incoming");
	while ((de = readdir(dp)) != NULL) {
		if (queue_fs_dot(de->d_name))
			continue;
		if (queue_fs_parse_msgid(de->d_name, &id) == -1 ||
		    queue_fs_msgdir(id, QUEUE_FS_INCOMING, dir, sizeof dir) ==
		    -1) {
			log_warnx("queue-fs: incoming/: stray entry ignored");
			continue;
		}
		if ((r = queue_fs_purge(fs, id, dir, "incoming")) != QUEUE_OK)
			break;
		log_info("0000000000000000 queue recover msgid=%08" PRIx32
		    " action=discarded reason=uncommitted", id);
		rec->incoming++;
	}
	closedir(dp);
	return r;
}

/* queue_fs_recover_purge - finish removing deleted messages */
static int
queue_fs_recover_purge(struct queue_fs *fs, struct queue_recovery *rec)
{
	struct dirent	*de;
	DIR		*dp;

	if ((dp = queue_fs_opendir(fs, "purge")) == NULL)
		return queue_fs_fail("open", "purge");
	while ((de = readdir(dp)) != NULL) {
		if (queue_fs_dot(de->d_name))
			continue;
		if (queue_fs_remove_tree(dirfd(dp), de->d_name) == 0)
			rec->purged++;
	}
	closedir(dp);
	return QUEUE_OK;
}

/*
 * queue_fs_recover - at start, before the walk: drop what a crash left
 * half done in temporary/, incoming/ and purge/, each action logged with
 * its msgid.  Its cost is that of what a crash left, never that of the
 * queue: queue/ is not read here (a start with 100,000 messages queued
 * delivers the first at once), its committed messages are looked at by
 * the walk, one at a time (queue_fs_walk_repair), and never removed
 * unless they have no envelope left.
 */
int
queue_fs_recover(void *ctx, struct queue_recovery *rec)
{
	struct queue_fs		*fs = ctx;
	int	r;

	memset(rec, 0, sizeof *rec);
	if (fs->rootfd == -1)
		return QUEUE_TEMPFAIL;
	if ((r = queue_fs_recover_temporary(fs, rec)) != QUEUE_OK ||
	    (r = queue_fs_recover_incoming(fs, rec)) != QUEUE_OK ||
	    (r = queue_fs_recover_purge(fs, rec)) != QUEUE_OK)
		return r;
	return QUEUE_OK;
}

