/*
 * queue_fs_walk.c -- the fs queue backend's reading of the whole spool:
 * the walk over queue/ (the scheduler's rebuild, smtpctl show queue) and
 * the recovery at start-up (what a crash left in temporary/, incoming/,
 * purge/ and queue/).  The rest of the backend is queue_fs.c; what they
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
#include "queue_fs_int.h"

/* a cursor of queue_fs_walk_next */
struct queue_fs_walk {
	int		 bucket;	/* the next bucket to open */
	DIR		*bucketdir;
	uint32_t	 msgid;		/* the message being read; 0 none */
	DIR		*msgdir;
	uint64_t	 pending;	/* an envelope to read again */
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
	if (fw->msgdir != NULL)
		closedir(fw->msgdir);
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
	int	r;

	if (queue_fs_path(path, sizeof path, "queue/%02x/%08" PRIx32
	    "/%016" PRIx64, (unsigned int)(fw->msgid >> 24), fw->msgid,
	    evpid) == -1)
		return QUEUE_TEMPFAIL;
	r = queue_fs_read(fs, path, buf, bufsz, lenp);
	fw->pending = r < 0 ? evpid : 0;	/* read it again next step */
	return r;
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
 * queue_fs_walk_message - the next envelope of the message being read:
 * QUEUE_OK, QUEUE_NOTFOUND when the message has no more, or a failure.
 */
static int
queue_fs_walk_message(struct queue_fs *fs, struct queue_fs_walk *fw,
    uint64_t *evpid, char *buf, size_t bufsz, size_t *lenp)
{
	struct dirent	*de;
	char		 dir[QUEUE_FS_PATH_MAX];
	uint64_t	 id;
	int		 r;

	if (fw->pending != 0) {
		id = fw->pending;
		r = queue_fs_walk_envelope(fs, fw, id, buf, bufsz, lenp);
		if (r < 0 && !queue_fs_walk_skip(fw))
			return r;
		fw->retried = 0;
		if (r == QUEUE_OK) {
			*evpid = id;
			return r;
		}
		if (r < 0) {
			log_warnx("queue-fs: evpid=%016" PRIx64 " unreadable, "
			    "skipped by this walk", id);
			fw->pending = 0;
		}
	}
	if (fw->msgdir == NULL) {
		if (queue_fs_msgdir(fw->msgid, QUEUE_FS_QUEUE, dir, sizeof dir)
		    == -1)
			return QUEUE_TEMPFAIL;
		if ((fw->msgdir = queue_fs_opendir(fs, dir)) == NULL) {
			if (errno == ENOENT)
				return QUEUE_NOTFOUND;
			r = queue_fs_fail("open", dir);
			if (!queue_fs_walk_skip(fw))
				return r;
			log_warnx("queue-fs: msgid=%08" PRIx32 " unreadable, "
			    "skipped by this walk", fw->msgid);
			return QUEUE_NOTFOUND;	/* on to the next message */
		}
		fw->retried = 0;
	}
	/* bounded by the entries of one directory */
	while ((de = readdir(fw->msgdir)) != NULL) {
		if (queue_fs_dot(de->d_name) ||
		    strcmp(de->d_name, "message") == 0)
			continue;
		if (queue_fs_parse_evpid(de->d_name, &id) == -1 ||
		    queue_fs_evpid_msgid(id) != fw->msgid) {
			log_warnx("queue-fs: msgid=%08" PRIx32 " stray file "
			    "ignored", fw->msgid);
			continue;
		}
		r = queue_fs_walk_envelope(fs, fw, id, buf, bufsz, lenp);
		if (r == QUEUE_NOTFOUND)
			continue;	/* deleted since the readdir */
		if (r == QUEUE_OK)
			*evpid = id;
		else
			(void)queue_fs_walk_skip(fw);	/* retry, then skip */
		return r;
	}
	closedir(fw->msgdir);
	fw->msgdir = NULL;
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

/* queue_fs_recover_message - a committed message: keep, drop or set aside */
static int
queue_fs_recover_message(struct queue_fs *fs, uint32_t msgid,
    struct queue_recovery *rec)
{
	struct queue_fs_scan	sc;
	char			dir[QUEUE_FS_PATH_MAX];
	char			parent[QUEUE_FS_PATH_MAX];
	char			to[QUEUE_FS_PATH_MAX];
	int			r;

	if (queue_fs_msgdir(msgid, QUEUE_FS_QUEUE, dir, sizeof dir) == -1 ||
	    queue_fs_path(parent, sizeof parent, "queue/%02x",
	    (unsigned int)(msgid >> 24)) == -1 ||
	    queue_fs_path(to, sizeof to, "corrupt/%08" PRIx32, msgid) == -1)
		return QUEUE_TEMPFAIL;
	if ((r = queue_fs_scan(fs, dir, msgid, 0, NULL, 0, &sc)) != QUEUE_OK)
		return r == QUEUE_NOTFOUND ? QUEUE_OK : r;
	if (sc.nevp == 0) {
		/* every envelope was delivered or set aside: nothing to send */
		if ((r = queue_fs_purge(fs, msgid, dir, parent)) != QUEUE_OK)
			return r;
		log_info("0000000000000000 queue recover msgid=%08" PRIx32
		    " action=removed reason=no-envelope", msgid);
		rec->empty++;
		return QUEUE_OK;
	}
	if (sc.has_body)
		return QUEUE_OK;
	/* envelopes without a body: never delete them, set them aside */
	if (queue_fs_rename(fs, dir, to) == -1) {
		log_warn("queue-fs: msgid=%08" PRIx32 " has no body, left in "
		    "place", msgid);
		return QUEUE_OK;
	}
	if (queue_fs_sync_path(fs, parent) == -1 ||
	    queue_fs_sync_path(fs, "corrupt") == -1)
		return queue_fs_fail("fsync", to);
	log_info("0000000000000000 queue recover msgid=%08" PRIx32
	    " action=corrupt reason=no-body", msgid);
	rec->corrupt++;
	return QUEUE_OK;
}

/* queue_fs_recover_queue - check every committed message */
static int
queue_fs_recover_queue(struct queue_fs *fs, struct queue_recovery *rec)
{
	struct dirent	*de;
	DIR		*dp;
	char		 bucket[QUEUE_FS_PATH_MAX];
	uint32_t	 id;
	unsigned int	 b;
	int		 r = QUEUE_OK;

	for (b = 0; b < QUEUE_FS_BUCKETS && r == QUEUE_OK; b++) {
		if (queue_fs_path(bucket, sizeof bucket, "queue/%02x", b) ==
		    -1)
			return QUEUE_TEMPFAIL;
		if ((dp = queue_fs_opendir(fs, bucket)) == NULL) {
			if (errno == ENOENT)
				continue;
			return queue_fs_fail("open", bucket);
		}
		while (r == QUEUE_OK && (de = readdir(dp)) != NULL) {
			if (queue_fs_dot(de->d_name))
				continue;
			if (queue_fs_parse_msgid(de->d_name, &id) == -1 ||
			    id >> 24 != b) {
				log_warnx("queue-fs: %s: stray entry ignored",
				    bucket);
				continue;
			}
			r = queue_fs_recover_message(fs, id, rec);
		}
		closedir(dp);
	}
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
 * half done.  Committed messages are never removed unless they have no
 * envelope left; each action is logged with its msgid.
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
	    (r = queue_fs_recover_queue(fs, rec)) != QUEUE_OK ||
	    (r = queue_fs_recover_purge(fs, rec)) != QUEUE_OK)
		return r;
	return QUEUE_OK;
}

