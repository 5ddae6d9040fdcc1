/*
 * queue_fs.c -- the fs queue backend: messages and envelopes as files in
 * the spool, each change on stable storage before it is acknowledged.
 * One backend hosted two ways (api/queue_api.h, api/ headers only): in
 * the queue process, chrooted into the spool as _smtpq, or as the helper
 * libexec/queue-fs.  It makes its own layout below the spool root that
 * open() is given; paths are relative to that root and formatted from
 * ids, never taken from outside.  All state is in the context.
 *   incoming/<msgid>/message, <evpid>	being received, not committed
 *   queue/<xx>/<msgid>/message, <evpid>	committed; xx = msgid >> 24
 *   temporary/ purge/ corrupt/<msgid>/	writes, deletes, set aside
 * An envelope of a committed message is written to temporary/, fsync'd,
 * renamed in, its dir fsync'd; one of a message being received is
 * written in place and made durable by the commit.  Commit fsyncs body,
 * envelopes and message directory, renames incoming/<msgid> to
 * queue/<xx>/<msgid> and fsyncs both parents: a crash leaves a message
 * wholly in incoming/ (recover discards it) or wholly in queue/.  A
 * batch commit (group commit) does the same for N messages in two
 * rounds of fsyncs issued side by side (api_fsync.h): every file and
 * message directory of the batch, then, after the renames, each parent
 * directory once; the result comes only when both rounds returned.
 * A batch delete likewise: the envelopes unlinked or their messages
 * moved to purge/, then each directory concerned fsync'd once, side by
 * side (a bucket emptied by many deliveries: one fsync), then purge/
 * emptied; a failed fsync puts back the messages it covered.
 * By default (queue_fs_journal.c) a batch whose bodies are small is
 * committed through the spool's commit journal instead: the messages
 * renamed into queue/, a record of each (body and envelopes) appended
 * to "journal" and one fdatasync; their files are made durable later,
 * all at once, by a checkpoint, and a crash is repaired at the next
 * open from the records.  A delete of a message so committed first
 * appends a delete record, another change first asks for a checkpoint.
 * A commit touches only its own messages' paths, the buckets and the
 * parents it fsyncs (and the journal, under its lock), so the host may
 * run it in a thread beside the other calls (commit_beside).
 * The walk over queue/ and the recovery at start-up are in
 * queue_fs_walk.c, the commit journal in queue_fs_journal.c; what the
 * files share is in queue_fs_int.h.  Files 0600, dirs 0700.  Never
 * fatal: failures are logged and returned as temporary (QUEUE_NOSPACE
 * when the disk is full).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"	/* log_* of the glue */
#include "api_fsync.h"
#include "imsgbuf.h"
#include "queue_api.h"
#include "queue_fs_journal.h"

#include "queue_fs_int.h"

/* tests' fault injection, off by default: one switch for every context;
 * counted atomically, a commit may run in a thread of the host's */
static struct {
	_Atomic unsigned int	calls;		/* fallible calls since inject */
	_Atomic unsigned int	fsyncs;		/* of them, fsyncs */
	_Atomic unsigned int	fault_nth;	/* 0: no fault */
	_Atomic int		fault_err;
} queue_fs_faults;

/* the test hooks, declared for regress/ in queue_backend.h */
void		queue_fs_inject_fault(unsigned int, int);
unsigned int	queue_fs_count_calls(void);
unsigned int	queue_fs_count_fsyncs(void);


static const char *const queue_fs_dirs[] = {
	"incoming", "queue", "temporary", "purge", "corrupt"
};

/* queue_fs_evpid_msgid - the message an evpid belongs to */
uint32_t
queue_fs_evpid_msgid(uint64_t evpid)
{
	return (uint32_t)(evpid >> 32);
}

/* queue_fs_msgid_evpid - an evpid of MSGID */
static uint64_t
queue_fs_msgid_evpid(uint32_t msgid, uint32_t lower)
{
	return (uint64_t)msgid << 32 | lower;
}

/*
 * queue_fs_parse_hex - a name of exactly DIGITS lowercase hex digits
 * (the names this file formats with %08x and %016x), or -1
 */
static int
queue_fs_parse_hex(const char *name, size_t digits, uint64_t *v)
{
	size_t	i;
	int	c;

	*v = 0;
	for (i = 0; i < digits; i++) {
		c = (unsigned char)name[i];
		if (c >= '0' && c <= '9')
			*v = *v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	return name[digits] == '\0' ? 0 : -1;
}

/* queue_fs_parse_msgid - a message directory's name: nonzero %08x */
int
queue_fs_parse_msgid(const char *name, uint32_t *msgid)
{
	uint64_t	v;

	if (queue_fs_parse_hex(name, 8, &v) == -1 || v == 0)
		return -1;
	*msgid = (uint32_t)v;
	return 0;
}

/* queue_fs_parse_evpid - an envelope file's name: %016x, halves nonzero */
int
queue_fs_parse_evpid(const char *name, uint64_t *evpid)
{
	uint64_t	v;

	if (queue_fs_parse_hex(name, 16, &v) == -1 || (v >> 32) == 0 ||
	    (uint32_t)v == 0)
		return -1;
	*evpid = v;
	return 0;
}

/* queue_fs_inject_fault - tests: the NTH fallible call from now fails */
void
queue_fs_inject_fault(unsigned int nth, int err)
{
	queue_fs_faults.calls = 0;
	queue_fs_faults.fsyncs = 0;
	queue_fs_faults.fault_nth = nth;
	queue_fs_faults.fault_err = err;
}

/* queue_fs_count_calls - tests: fallible calls since the last inject */
unsigned int
queue_fs_count_calls(void)
{
	return queue_fs_faults.calls;
}

/* queue_fs_count_fsyncs - tests: fsyncs since the last inject */
unsigned int
queue_fs_count_fsyncs(void)
{
	return queue_fs_faults.fsyncs;
}

/* queue_fs_fault - count a fallible call; -1 and errno if it must fail
 * (the journal's calls too: queue_fs_journal.h) */
int
queue_fs_fault(void)
{
	unsigned int	n = ++queue_fs_faults.calls;

	if (queue_fs_faults.fault_nth != 0 && n == queue_fs_faults.fault_nth) {
		errno = queue_fs_faults.fault_err;
		return -1;
	}
	return 0;
}

/* queue_fs_fault_sync - count an fsync (the journal's), fallible */
int
queue_fs_fault_sync(void)
{
	queue_fs_faults.fsyncs++;
	return queue_fs_fault();
}

/* queue_fs_result - the QUEUE_* temporary failure of an errno */
static int
queue_fs_result(int err)
{
	return (err == ENOSPC || err == EDQUOT) ? QUEUE_NOSPACE :
	    QUEUE_TEMPFAIL;
}

/* queue_fs_fail - log a failed STEP on PATH (errno kept); its result */
int
queue_fs_fail(const char *step, const char *path)
{
	int	err = errno;

	log_warn("queue-fs: %s %s", step, path);
	errno = err;
	return queue_fs_result(err);
}

/* queue_fs_path - format a path from our own constants and ids */
int
queue_fs_path(char *buf, size_t bufsz, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, bufsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= bufsz) {
		log_warnx("queue-fs: path too long for %s", fmt);
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* queue_fs_msgdir - the directory of MSGID in WHERE */
int
queue_fs_msgdir(uint32_t msgid, enum queue_fs_where where, char *buf,
    size_t bufsz)
{
	if (where == QUEUE_FS_INCOMING)
		return queue_fs_path(buf, bufsz, "incoming/%08" PRIx32, msgid);
	return queue_fs_path(buf, bufsz, "queue/%02x/%08" PRIx32,
	    (unsigned int)(msgid >> 24), msgid);
}

/* queue_fs_exists - 1 if PATH exists, 0 if not, -1 on error */
static int
queue_fs_exists(struct queue_fs *fs, const char *path)
{
	struct stat	st;

	if (fstatat(fs->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* queue_fs_open - openat below the root (a fallible call) */
static int
queue_fs_open(struct queue_fs *fs, const char *path, int flags, mode_t mode)
{
	if (queue_fs_fault() == -1)
		return -1;
	return openat(fs->rootfd, path, flags | O_CLOEXEC | O_NOFOLLOW,
	    mode);
}

/* queue_fs_fsync - fsync (a fallible call) */
static int
queue_fs_fsync(int fd)
{
	queue_fs_faults.fsyncs++;
	if (queue_fs_fault() == -1)
		return -1;
	return fsync(fd);
}

/* queue_fs_rename - renameat below the root (a fallible call) */
int
queue_fs_rename(struct queue_fs *fs, const char *from, const char *to)
{
	if (queue_fs_fault() == -1)
		return -1;
	return renameat(fs->rootfd, from, fs->rootfd, to);
}

/* queue_fs_mkdir - mkdirat 0700 below the root (a fallible call) */
static int
queue_fs_mkdir(struct queue_fs *fs, const char *path)
{
	if (queue_fs_fault() == -1)
		return -1;
	return mkdirat(fs->rootfd, path, 0700);
}

/* queue_fs_unlink - unlinkat below the root (a fallible call) */
static int
queue_fs_unlink(struct queue_fs *fs, const char *path, int flags)
{
	if (queue_fs_fault() == -1)
		return -1;
	return unlinkat(fs->rootfd, path, flags);
}

/* queue_fs_link - linkat below the root (a fallible call) */
static int
queue_fs_link(struct queue_fs *fs, const char *from, const char *to)
{
	if (queue_fs_fault() == -1)
		return -1;
	return linkat(fs->rootfd, from, fs->rootfd, to, 0);
}

/* queue_fs_write_all - write LEN bytes; a short write is an error */
static int
queue_fs_write_all(int fd, const char *buf, size_t len)
{
	size_t	off = 0;
	ssize_t	n;
	int	eintr = 0;

	if (queue_fs_fault() == -1)
		return -1;
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1) {
			if (errno == EINTR && ++eintr < QUEUE_FS_EINTR_MAX)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* queue_fs_sync_path - fsync the file or directory at PATH */
int
queue_fs_sync_path(struct queue_fs *fs, const char *path)
{
	int	fd, err;

	if ((fd = queue_fs_open(fs, path, O_RDONLY, 0)) == -1)
		return -1;
	if (queue_fs_fsync(fd) == -1) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

/* queue_fs_opendir - a directory stream of PATH below the root */
DIR *
queue_fs_opendir(struct queue_fs *fs, const char *path)
{
	DIR	*dp;
	int	 fd, err;

	if ((fd = queue_fs_open(fs, path, O_RDONLY | O_DIRECTORY, 0)) == -1)
		return NULL;
	if ((dp = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
	}
	return dp;
}

/* queue_fs_dot - "." and ".." */
int
queue_fs_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/*
 * queue_fs_remove_tree - unlink the files of directory NAME in the
 * directory PARENTFD, then NAME itself.  Best effort, after the point of
 * no return (the tree is in purge/ or temporary/ already): a failure is
 * logged and left for queue_fs_recover.  Not a fault-injection point.
 */
int
queue_fs_remove_tree(int parentfd, const char *name)
{
	struct dirent	*de;
	DIR		*dp;
	int		 fd, ret = 0;

	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (dp = fdopendir(fd)) == NULL) {
		log_warn("queue-fs: remove %s", name);
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (queue_fs_dot(de->d_name))
			continue;
		/* a name from readdir is one component: no path is built */
		if (unlinkat(dirfd(dp), de->d_name, 0) == -1) {
			log_warn("queue-fs: remove %s/%s", name, de->d_name);
			ret = -1;
		}
	}
	closedir(dp);
	if (unlinkat(parentfd, name, AT_REMOVEDIR) == -1) {
		log_warn("queue-fs: remove %s", name);
		ret = -1;
	}
	return ret;
}

/* queue_fs_find_message - the directory of MSGID: received or committed */
static int
queue_fs_find_message(struct queue_fs *fs, uint32_t msgid, char *dir,
    size_t dirsz, enum queue_fs_where *where)
{
	enum queue_fs_where	w[2] = { QUEUE_FS_INCOMING, QUEUE_FS_QUEUE };
	size_t			i;
	int			r;

	if (fs->rootfd == -1) {
		log_warnx("queue-fs: not initialized");
		return QUEUE_TEMPFAIL;
	}
	if (msgid == 0)
		return QUEUE_NOTFOUND;
	for (i = 0; i < 2; i++) {
		if (queue_fs_msgdir(msgid, w[i], dir, dirsz) == -1)
			return QUEUE_TEMPFAIL;
		if ((r = queue_fs_exists(fs, dir)) == 1) {
			*where = w[i];
			return QUEUE_OK;
		}
		if (r == -1)
			return queue_fs_fail("stat", dir);
	}
	return QUEUE_NOTFOUND;
}


static int	queue_fs_syncs_add(struct queue_fs *, struct queue_fs_syncs *,
		    const char *, size_t);

/*
 * queue_fs_scan - count the envelopes of MSGID in DIR, look for EVPID
 * (0: none) and, with SYNCS, add each envelope to it for OWNER.
 * QUEUE_OK or a failure.
 */
int
queue_fs_scan(struct queue_fs *fs, const char *dir, uint32_t msgid,
    uint64_t evpid, struct queue_fs_syncs *syncs, size_t owner,
    struct queue_fs_scan *sc)
{
	struct dirent	*de;
	DIR		*dp;
	char		 path[QUEUE_FS_PATH_MAX];
	uint64_t	 id;
	int		 r = QUEUE_OK;

	memset(sc, 0, sizeof *sc);
	if ((dp = queue_fs_opendir(fs, dir)) == NULL)
		return errno == ENOENT ? QUEUE_NOTFOUND :
		    queue_fs_fail("open", dir);
	for (;;) {
		errno = 0;
		if ((de = readdir(dp)) == NULL) {
			if (errno != 0)
				r = queue_fs_fail("read", dir);
			break;
		}
		if (strcmp(de->d_name, "message") == 0) {
			sc->has_body = 1;
			continue;
		}
		if (queue_fs_parse_evpid(de->d_name, &id) == -1 ||
		    queue_fs_evpid_msgid(id) != msgid)
			continue;	/* not ours; left for the operator */
		sc->nevp++;
		if (id == evpid)
			sc->has_evpid = 1;
		if (syncs == NULL)
			continue;
		if (queue_fs_path(path, sizeof path, "%s/%016" PRIx64, dir,
		    id) == -1 || queue_fs_syncs_add(fs, syncs, path, owner) ==
		    -1) {
			r = queue_fs_fail("fsync", path);
			break;
		}
	}
	closedir(dp);
	return r;
}

/* queue_fs_purge_move - the message directory DIR to purge/, its name
 * there into NAME: QUEUE_OK, or a failure (nothing moved) */
static int
queue_fs_purge_move(struct queue_fs *fs, uint32_t msgid, const char *dir,
    char *name, size_t namesz)
{
	char	to[QUEUE_FS_PATH_MAX];
	int	i;

	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		if (queue_fs_path(name, namesz, "%08" PRIx32 ".%08" PRIx32,
		    msgid, queue_backend_draw_id()) == -1 ||
		    queue_fs_path(to, sizeof to, "purge/%s", name) == -1)
			return QUEUE_TEMPFAIL;
		if (queue_fs_rename(fs, dir, to) == 0)
			return QUEUE_OK;
		if (errno != EEXIST && errno != ENOTEMPTY)
			return queue_fs_fail("rename", dir);
	}
	log_warnx("queue-fs: no free name in purge/ for %s", dir);
	return QUEUE_TEMPFAIL;
}

/* queue_fs_purge_undo - NAME back from purge/ to DIR: its parent's
 * fsync failed, the delete did not happen */
static void
queue_fs_purge_undo(struct queue_fs *fs, uint32_t msgid, const char *dir,
    const char *name)
{
	char	from[QUEUE_FS_PATH_MAX];

	if (queue_fs_path(from, sizeof from, "purge/%s", name) == -1 ||
	    renameat(fs->rootfd, from, fs->rootfd, dir) == -1)
		log_warn("queue-fs: msgid=%08" PRIx32 " left in purge/%s",
		    msgid, name);
}

/* queue_fs_purge_finish - remove NAME's tree from purge/ (best effort:
 * what is left there, recover removes) */
static void
queue_fs_purge_finish(struct queue_fs *fs, const char *name)
{
	int	purgefd;

	purgefd = openat(fs->rootfd, "purge", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (purgefd != -1) {
		(void)queue_fs_remove_tree(purgefd, name);
		close(purgefd);
	}
}

/*
 * queue_fs_purge - move the message directory DIR (in PARENT) to purge/
 * and remove it.  Once the rename and PARENT's fsync are done the message
 * is gone; until then a failure puts it back and is returned.  purge/
 * itself is not fsync'd: what a crash may lose there is only the name
 * of something being removed (a journalled file system renames
 * atomically; without a journal fsck finds the directory), while
 * PARENT's fsync is what keeps a delivered message from coming back.
 */
int
queue_fs_purge(struct queue_fs *fs, uint32_t msgid, const char *dir,
    const char *parent)
{
	char	name[QUEUE_FS_PATH_MAX];
	int	r;

	if ((r = queue_fs_purge_move(fs, msgid, dir, name, sizeof name)) !=
	    QUEUE_OK)
		return r;
	if (queue_fs_sync_path(fs, parent) == -1) {
		r = queue_fs_fail("fsync", parent);
		queue_fs_purge_undo(fs, msgid, dir, name);
		return r;
	}
	queue_fs_purge_finish(fs, name);
	return QUEUE_OK;
}

/*
 * queue_fs_write_temp - write LEN bytes to a new file in temporary/ and
 * fsync it; its name into TMP.  Nothing is left behind on failure.
 */
static int
queue_fs_write_temp(struct queue_fs *fs, uint32_t msgid, const char *buf,
    size_t len, char *tmp, size_t tmpsz)
{
	int	i, fd = -1, r;

	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		if (queue_fs_path(tmp, tmpsz, "temporary/evp.%08" PRIx32
		    ".%08" PRIx32, msgid, queue_backend_draw_id()) == -1)
			return QUEUE_TEMPFAIL;
		fd = queue_fs_open(fs, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		if (i == QUEUE_ID_TRIES_MAX)
			errno = EEXIST;
		return queue_fs_fail("create", tmp);
	}
	if (queue_fs_write_all(fd, buf, len) == -1 ||
	    queue_fs_fsync(fd) == -1) {
		r = queue_fs_fail("write", tmp);
		close(fd);
		if (unlinkat(fs->rootfd, tmp, 0) == -1)
			log_warn("queue-fs: remove %s", tmp);
		return r;
	}
	close(fd);
	return QUEUE_OK;
}

/* queue_fs_read - at most BUFSZ bytes of PATH; QUEUE_NOTFOUND if absent */
int
queue_fs_read(struct queue_fs *fs, const char *path, char *buf, size_t bufsz,
    size_t *lenp)
{
	size_t	off = 0;
	ssize_t	n;
	int	fd, r, eintr = 0;

	if ((fd = queue_fs_open(fs, path, O_RDONLY, 0)) == -1)
		return errno == ENOENT ? QUEUE_NOTFOUND :
		    queue_fs_fail("open", path);
	while (off < bufsz) {
		if ((n = read(fd, buf + off, bufsz - off)) == -1) {
			if (errno == EINTR && ++eintr < QUEUE_FS_EINTR_MAX)
				continue;
			r = queue_fs_fail("read", path);
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	*lenp = off;
	return QUEUE_OK;
}

/*
 * queue_fs_spool_open - the spool at ROOT, made by the parent (the root
 * only): this backend creates its own layout below it, each directory
 * 0700 (a wrong mode is set right).  The context, or NULL (logged).
 */
static void *
queue_fs_spool_open(const char *root)
{
	struct queue_fs	*fs;
	struct stat	 st;
	size_t		 i = 0;
	int		 fd;

	if (root == NULL || (fd = open(root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		log_warn("queue-fs: open spool %s", root ? root : "(none)");
		return NULL;
	}
	if ((fs = calloc(1, sizeof *fs)) == NULL)
		goto fail;
	for (i = 0; i < sizeof queue_fs_dirs / sizeof queue_fs_dirs[0]; i++) {
		if (mkdirat(fd, queue_fs_dirs[i], 0700) == -1 &&
		    errno != EEXIST)
			goto fail;
		if (fstatat(fd, queue_fs_dirs[i], &st, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			goto fail;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			goto fail;
		}
		if ((st.st_mode & 07777) != 0700 &&
		    fchmodat(fd, queue_fs_dirs[i], 0700, 0) == -1)
			goto fail;
	}
	if (fsync(fd) == -1)
		goto fail;
	fs->rootfd = fd;
	if (queue_fs_journal_open(fd, &fs->journal) != QUEUE_OK) {
		log_warnx("queue-fs: spool %s: its journal could not be "
		    "replayed: not opened", root);
		free(fs);
		close(fd);
		return NULL;
	}
	return fs;
fail:
	log_warn("queue-fs: spool %s: %s", root, i < sizeof queue_fs_dirs /
	    sizeof queue_fs_dirs[0] ? queue_fs_dirs[i] : ".");
	free(fs);
	close(fd);
	return NULL;
}

/* queue_fs_spool_close - release the spool and the context */
static void
queue_fs_spool_close(void *ctx)
{
	struct queue_fs	*fs = ctx;

	if (fs == NULL)
		return;
	queue_fs_journal_close(fs->journal);
	if (fs->rootfd != -1)
		close(fs->rootfd);
	free(fs);
}

/* queue_fs_message_create - a new incoming/<msgid>, the id unused anywhere,
 * its bucket this second's (queue_backend_draw_msgid: a batch commits
 * into, and a batch of deletes empties, one bucket, not one per message) */
static int
queue_fs_message_create(void *ctx, uint32_t *msgid)
{
	struct queue_fs		*fs = ctx;
	char		dir[QUEUE_FS_PATH_MAX], other[QUEUE_FS_PATH_MAX];
	uint32_t	id;
	int		i, inq, inc;

	if (fs->rootfd == -1)
		return QUEUE_TEMPFAIL;
	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		if ((id = queue_backend_draw_msgid()) == 0 ||
		    queue_fs_msgdir(id, QUEUE_FS_INCOMING, dir, sizeof dir) ==
		    -1)
			continue;
		if (queue_fs_mkdir(fs, dir) == -1) {
			if (errno == EEXIST)
				continue;
			return queue_fs_fail("mkdir", dir);
		}
		/* the id must not name a committed or set-aside message */
		if (queue_fs_msgdir(id, QUEUE_FS_QUEUE, other, sizeof other) ==
		    -1 || (inq = queue_fs_exists(fs, other)) == -1 ||
		    queue_fs_path(other, sizeof other, "corrupt/%08" PRIx32,
		    id) == -1 || (inc = queue_fs_exists(fs, other)) == -1) {
			(void)unlinkat(fs->rootfd, dir, AT_REMOVEDIR);
			return QUEUE_TEMPFAIL;
		}
		if (inq == 0 && inc == 0) {
			*msgid = id;
			return QUEUE_OK;
		}
		(void)unlinkat(fs->rootfd, dir, AT_REMOVEDIR);
	}
	log_warnx("queue-fs: no free msgid after %d tries", QUEUE_ID_TRIES_MAX);
	return QUEUE_TEMPFAIL;
}

/* queue_fs_message_fd_w - create the body of a message being received */
static int
queue_fs_message_fd_w(void *ctx, uint32_t msgid, int *fdp)
{
	struct queue_fs		*fs = ctx;
	char	path[QUEUE_FS_PATH_MAX];
	int	fd;

	if (fs->rootfd == -1 || msgid == 0)
		return msgid == 0 ? QUEUE_NOTFOUND : QUEUE_TEMPFAIL;
	if (queue_fs_path(path, sizeof path, "incoming/%08" PRIx32 "/message",
	    msgid) == -1)
		return QUEUE_TEMPFAIL;
	fd = queue_fs_open(fs, path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1)
		return errno == ENOENT ? QUEUE_NOTFOUND :
		    queue_fs_fail("create", path);
	*fdp = fd;
	return QUEUE_OK;
}

/* queue_fs_commit_undo - put a message whose commit failed back */
static void
queue_fs_commit_undo(struct queue_fs *fs, uint32_t msgid, const char *from,
    const char *to)
{
	if (renameat(fs->rootfd, from, fs->rootfd, to) == -1)
		log_warn("queue-fs: msgid=%08" PRIx32 " stays committed after "
		    "a failed commit (delete it)", msgid);
}

/* queue_fs_copy_body - FD's content, from offset 0, as MSGID's body */
static int
queue_fs_copy_body(struct queue_fs *fs, uint32_t msgid, int fd)
{
	char	buf[8192];
	ssize_t	n;
	int	wfd, r, eintr = 0;

	if ((r = queue_fs_message_fd_w(fs, msgid, &wfd)) != QUEUE_OK)
		return r;
	if (lseek(fd, 0, SEEK_SET) == -1 && errno != ESPIPE) {
		r = queue_fs_fail("rewind", "the body");
		goto done;
	}
	for (;;) {
		if ((n = read(fd, buf, sizeof buf)) == -1) {
			if (errno == EINTR && ++eintr < QUEUE_FS_EINTR_MAX)
				continue;
			r = queue_fs_fail("read", "the body");
			goto done;
		}
		if (n == 0)
			break;
		if (queue_fs_write_all(wfd, buf, (size_t)n) == -1) {
			r = queue_fs_fail("write", "the body");
			goto done;
		}
	}
	r = QUEUE_OK;
done:
	close(wfd);
	return r;
}

/* one message of a commit batch */
struct queue_fs_commit {
	uint32_t	msgid;
	char		dir[QUEUE_FS_PATH_MAX];		/* incoming/<msgid> */
	char		to[QUEUE_FS_PATH_MAX];		/* queue/<xx>/<msgid> */
	char		bucket[QUEUE_FS_PATH_MAX];	/* queue/<xx> */
	int		r;		/* QUEUE_OK while it goes on */
	int		renamed;	/* moved to queue/ */
};

/* queue_fs_syncs_add - open PATH (a fallible call) to be fsync'd for
 * OWNER; -1 with errno */
static int
queue_fs_syncs_add(struct queue_fs *fs, struct queue_fs_syncs *s,
    const char *path, size_t owner)
{
	void	*p;
	size_t	 cap;
	int	 fd;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 32;
		if ((p = reallocarray(s->fds, cap, sizeof *s->fds)) == NULL)
			return -1;
		s->fds = p;
		if ((p = reallocarray(s->errs, cap, sizeof *s->errs)) == NULL)
			return -1;
		s->errs = p;
		if ((p = reallocarray(s->owner, cap, sizeof *s->owner)) ==
		    NULL)
			return -1;
		s->owner = p;
		if ((p = reallocarray(s->path, cap, sizeof *s->path)) == NULL)
			return -1;
		s->path = p;
		s->cap = cap;
	}
	if ((fd = queue_fs_open(fs, path, O_RDONLY, 0)) == -1)
		return -1;
	s->fds[s->n] = fd;
	s->errs[s->n] = 0;
	s->owner[s->n] = owner;
	strlcpy(s->path[s->n], path, sizeof s->path[s->n]);
	s->n++;
	return 0;
}

/* queue_fs_syncs_run - fsync everything in S side by side (each a
 * fallible call), close it; s->errs[i] tells how each went */
static void
queue_fs_syncs_run(struct queue_fs_syncs *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		queue_fs_faults.fsyncs++;
		if (queue_fs_fault() == -1) {
			s->errs[i] = errno;
			close(s->fds[i]);
			s->fds[i] = -1;
		}
	}
	api_fsync_all(s->fds, s->n, s->errs);
	for (i = 0; i < s->n; i++)
		if (s->fds[i] != -1)
			close(s->fds[i]);
}

/* queue_fs_syncs_free - S's memory (its files are closed by run) */
static void
queue_fs_syncs_free(struct queue_fs_syncs *s)
{
	free(s->fds);
	free(s->errs);
	free(s->owner);
	free(s->path);
	memset(s, 0, sizeof *s);
}

/*
 * queue_fs_commit_prepare - one message of a batch readied in incoming/:
 * the body (FD's content, or what was written to message_fd_w's fd when
 * FD is -1) and every envelope added to SYNCS for OWNER, its bucket made
 * (*NEWBUCKET set if created).
 */
static int
queue_fs_commit_prepare(struct queue_fs *fs, struct queue_fs_commit *c,
    int fd, int *newbucket, struct queue_fs_syncs *syncs, size_t owner)
{
	struct queue_fs_scan	 sc;
	enum queue_fs_where	 where;
	char			 body[QUEUE_FS_PATH_MAX];
	int			 r;

	if ((r = queue_fs_find_message(fs, c->msgid, c->dir, sizeof c->dir,
	    &where)) != QUEUE_OK)
		return r;
	if (where != QUEUE_FS_INCOMING) {
		log_warnx("queue-fs: msgid=%08" PRIx32 " committed twice",
		    c->msgid);
		return QUEUE_NOTFOUND;
	}
	if (fd != -1 && (r = queue_fs_copy_body(fs, c->msgid, fd)) != QUEUE_OK)
		return r;
	if (queue_fs_path(body, sizeof body, "%s/message", c->dir) == -1 ||
	    queue_fs_msgdir(c->msgid, QUEUE_FS_QUEUE, c->to, sizeof c->to) ==
	    -1 || queue_fs_path(c->bucket, sizeof c->bucket, "queue/%02x",
	    (unsigned int)(c->msgid >> 24)) == -1)
		return QUEUE_TEMPFAIL;
	if (queue_fs_syncs_add(fs, syncs, body, owner) == -1) {
		if (errno == ENOENT) {
			log_warnx("queue-fs: msgid=%08" PRIx32 " committed "
			    "without a body", c->msgid);
			return QUEUE_NOTFOUND;
		}
		return queue_fs_fail("fsync", body);
	}
	if ((r = queue_fs_scan(fs, c->dir, c->msgid, 0, syncs, owner, &sc)) !=
	    QUEUE_OK)
		return r;
	if (sc.nevp == 0) {
		log_warnx("queue-fs: msgid=%08" PRIx32 " committed without "
		    "an envelope", c->msgid);
		return QUEUE_NOTFOUND;
	}
	/* the directory itself: added by the classic commit alone (the
	 * journal's record makes the message durable without it) */
	if (queue_fs_mkdir(fs, c->bucket) == 0)
		*newbucket = 1;
	else if (errno != EEXIST)
		return queue_fs_fail("mkdir", c->bucket);
	return QUEUE_OK;
}

/* queue_fs_commit_fail - a renamed message of the batch put back as R */
static void
queue_fs_commit_fail(struct queue_fs *fs, struct queue_fs_commit *c, int r)
{
	if (c->renamed)
		queue_fs_commit_undo(fs, c->msgid, c->to, c->dir);
	c->renamed = 0;
	c->r = r;
}

/* queue_fs_commit_synced - SYNCS ran: each failure fails its message
 * (not yet renamed: nothing to undo) */
static void
queue_fs_commit_synced(struct queue_fs_syncs *syncs,
    struct queue_fs_commit *c)
{
	size_t	i;

	for (i = 0; i < syncs->n; i++) {
		if (syncs->errs[i] == 0 || c[syncs->owner[i]].r != QUEUE_OK)
			continue;
		errno = syncs->errs[i];
		c[syncs->owner[i]].r = queue_fs_fail("fsync", syncs->path[i]);
	}
}

/*
 * queue_fs_commit_parents - fsync, side by side, each bucket a renamed
 * message went to (once), "queue" if a bucket was made, and "incoming";
 * a failure puts back the messages it concerns
 */
static void
queue_fs_commit_parents(struct queue_fs *fs, struct queue_fs_syncs *syncs,
    struct queue_fs_commit *c, size_t n, int newbucket)
{
	size_t	i, j, k;
	int	r;

	syncs->n = 0;
	for (i = 0; i < n; i++) {
		if (!c[i].renamed)
			continue;
		for (j = 0; j < i; j++)
			if (c[j].renamed &&
			    strcmp(c[j].bucket, c[i].bucket) == 0)
				break;
		if (j == i && queue_fs_syncs_add(fs, syncs, c[i].bucket, i) ==
		    -1)
			queue_fs_commit_fail(fs, &c[i], queue_fs_fail("fsync "
			    "after commit of", c[i].to));
	}
	if ((newbucket && queue_fs_syncs_add(fs, syncs, "queue",
	    QUEUE_FS_ALL) == -1) || queue_fs_syncs_add(fs, syncs, "incoming",
	    QUEUE_FS_ALL) == -1) {
		r = queue_fs_fail("fsync after commit of", "incoming");
		for (i = 0; i < n; i++)
			if (c[i].renamed)
				queue_fs_commit_fail(fs, &c[i], r);
	}
	queue_fs_syncs_run(syncs);
	for (k = 0; k < syncs->n; k++) {
		if (syncs->errs[k] == 0)
			continue;
		errno = syncs->errs[k];
		r = queue_fs_fail("fsync after commit of", syncs->path[k]);
		for (i = 0; i < n; i++)
			if (c[i].renamed && (syncs->owner[k] == QUEUE_FS_ALL ||
			    strcmp(c[i].bucket, syncs->path[k]) == 0))
				queue_fs_commit_fail(fs, &c[i], r);
	}
}

/* queue_fs_syncs_close - close what S opened, without an fsync */
static void
queue_fs_syncs_close(struct queue_fs_syncs *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		if (s->fds[i] != -1)
			close(s->fds[i]);
	s->n = 0;
}

/* queue_fs_journal_fits - may the batch be journaled: every body it
 * would commit no larger than QUEUE_FS_JOURNAL_BODY_MAX */
static int
queue_fs_journal_fits(struct queue_fs_syncs *syncs, struct queue_fs_commit *c)
{
	struct stat	 st;
	const char	*name;
	size_t		 i;

	for (i = 0; i < syncs->n; i++) {
		if (c[syncs->owner[i]].r != QUEUE_OK ||
		    (name = strrchr(syncs->path[i], '/')) == NULL ||
		    strcmp(name + 1, "message") != 0)
			continue;
		if (fstat(syncs->fds[i], &st) == -1 ||
		    (uint64_t)st.st_size > QUEUE_FS_JOURNAL_BODY_MAX)
			return 0;
	}
	return 1;
}

/* queue_fs_journal_record - message I's record from the files SYNCS
 * opened for it, its body and envelopes: the
 * run of entries owned by I from *K on (prepare adds each message's in
 * turn), *K left past it; ENVS has room for all of SYNCS */
static int
queue_fs_journal_record(struct queue_fs *fs, struct queue_fs_syncs *syncs,
    size_t *k, struct queue_fs_jenv *envs, struct queue_fs_commit *c,
    size_t i)
{
	const char	*name;
	size_t		 nenv = 0;
	int		 body = -1;

	for (; *k < syncs->n && syncs->owner[*k] <= i; (*k)++) {
		if (syncs->owner[*k] != i ||
		    (name = strrchr(syncs->path[*k], '/')) == NULL)
			continue;
		if (strcmp(name + 1, "message") == 0)
			body = syncs->fds[*k];
		else if (queue_fs_parse_evpid(name + 1, &envs[nenv].evpid) ==
		    0)
			envs[nenv++].fd = syncs->fds[*k];
	}
	return body == -1 || nenv == 0 ? QUEUE_TEMPFAIL :
	    queue_fs_journal_add(fs->journal, c[i].msgid, body, envs, nenv);
}

/*
 * queue_fs_commit_journaled - commit the prepared messages of C through
 * the journal (queue_fs_journal.c): each renamed into queue/ (visible,
 * not yet durable), its record appended, then one fdatasync of the
 * journal; a failed append or sync puts back the messages it concerns.
 * 0 when the batch does not fit (a large body): commit it the classic
 * way.  The files SYNCS opened are closed here, never fsync'd.
 */
static int
queue_fs_commit_journaled(struct queue_fs *fs, struct queue_fs_commit *c,
    size_t n, struct queue_fs_syncs *syncs)
{
	struct queue_fs_jenv	*envs;
	size_t			 i, k = 0;
	int			 r, added = 0;

	if (!queue_fs_journal_fits(syncs, c))
		return 0;
	if ((envs = calloc(syncs->n ? syncs->n : 1, sizeof *envs)) == NULL)
		r = queue_fs_fail("journal records of", "a batch");
	else
		r = queue_fs_journal_begin(fs->journal);
	if (r != QUEUE_OK) {
		for (i = 0; i < n; i++)
			if (c[i].r == QUEUE_OK)
				c[i].r = r;
		queue_fs_syncs_close(syncs);
		free(envs);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (c[i].r != QUEUE_OK)
			continue;
		if (queue_fs_rename(fs, c[i].dir, c[i].to) == -1) {
			c[i].r = queue_fs_fail("rename", c[i].dir);
			continue;
		}
		c[i].renamed = 1;
		if ((r = queue_fs_journal_record(fs, syncs, &k, envs, c, i)) !=
		    QUEUE_OK)
			queue_fs_commit_fail(fs, &c[i], r);
		else
			added = 1;
	}
	queue_fs_syncs_close(syncs);
	free(envs);
	r = added ? queue_fs_journal_sync(fs->journal) : QUEUE_OK;
	if (r != QUEUE_OK)
		for (i = 0; i < n; i++)
			if (c[i].renamed)
				queue_fs_commit_fail(fs, &c[i], r);
	queue_fs_journal_end(fs->journal, r == QUEUE_OK);
	return 1;
}

/*
 * queue_fs_commit_run - commit the N messages of C in two rounds of
 * fsyncs issued side by side (api_fsync_all): every body, envelope and
 * message directory; then, after the renames, the parents (each bucket
 * once, "queue" if a bucket was made, "incoming").  Each message's
 * result in c[i].r; none is OK before every fsync that makes it durable
 * has returned.
 */
static void
queue_fs_commit_run(struct queue_fs *fs, struct queue_fs_commit *c,
    const int *fds, size_t n)
{
	struct queue_fs_syncs	syncs;
	size_t			i;
	int			newbucket = 0, any = 0;

	memset(&syncs, 0, sizeof syncs);
	for (i = 0; i < n; i++)
		c[i].r = queue_fs_commit_prepare(fs, &c[i],
		    fds != NULL ? fds[i] : -1, &newbucket, &syncs, i);
	if (fs->journal != NULL && queue_fs_commit_journaled(fs, c, n,
	    &syncs)) {
		queue_fs_syncs_free(&syncs);
		return;
	}
	for (i = 0; i < n; i++)
		if (c[i].r == QUEUE_OK &&
		    queue_fs_syncs_add(fs, &syncs, c[i].dir, i) == -1)
			c[i].r = queue_fs_fail("fsync", c[i].dir);
	queue_fs_syncs_run(&syncs);
	queue_fs_commit_synced(&syncs, c);
	for (i = 0; i < n; i++) {
		if (c[i].r != QUEUE_OK)
			continue;
		if (queue_fs_rename(fs, c[i].dir, c[i].to) == -1)
			c[i].r = queue_fs_fail("rename", c[i].dir);
		else
			c[i].renamed = any = 1;
	}
	if (any)
		queue_fs_commit_parents(fs, &syncs, c, n, newbucket);
	queue_fs_syncs_free(&syncs);
}

/* queue_fs_message_commit - one message: a batch of one */
static int
queue_fs_message_commit(void *ctx, uint32_t msgid, int fd)
{
	struct queue_fs_commit	c;

	memset(&c, 0, sizeof c);
	c.msgid = msgid;
	queue_fs_commit_run(ctx, &c, &fd, 1);
	return c.r;
}

/*
 * queue_fs_message_commit_batch - N messages at once (group commit):
 * results[i] for msgids[i]; QUEUE_OK if all went, else the first failure
 */
static int
queue_fs_message_commit_batch(void *ctx, size_t n, const uint32_t *msgids,
    const int *fds, int *results)
{
	struct queue_fs_commit	*c;
	size_t			 i;
	int			 r = QUEUE_OK;

	if (n == 0)
		return QUEUE_OK;
	if ((c = calloc(n, sizeof *c)) == NULL) {
		log_warn("queue-fs: commit of %zu messages", n);
		for (i = 0; i < n; i++)
			results[i] = QUEUE_TEMPFAIL;
		return QUEUE_TEMPFAIL;
	}
	for (i = 0; i < n; i++)
		c[i].msgid = msgids[i];
	queue_fs_commit_run(ctx, c, fds, n);
	for (i = 0; i < n; i++) {
		results[i] = c[i].r;
		if (r == QUEUE_OK && c[i].r != QUEUE_OK)
			r = c[i].r;
	}
	free(c);
	return r;
}

/* queue_fs_message_delete - a message and its envelopes, to purge/ */
static int
queue_fs_message_delete(void *ctx, uint32_t msgid)
{
	struct queue_fs		*fs = ctx;
	enum queue_fs_where	 where;
	char			 dir[QUEUE_FS_PATH_MAX];
	char			 parent[QUEUE_FS_PATH_MAX];
	int			 r;

	if ((r = queue_fs_journal_delete(fs->journal, msgid, NULL, 0)) !=
	    QUEUE_OK || (r = queue_fs_find_message(fs, msgid, dir, sizeof dir,
	    &where)) != QUEUE_OK)
		return r;
	if (where == QUEUE_FS_INCOMING)
		r = queue_fs_path(parent, sizeof parent, "incoming");
	else
		r = queue_fs_path(parent, sizeof parent, "queue/%02x",
		    (unsigned int)(msgid >> 24));
	if (r == -1)
		return QUEUE_TEMPFAIL;
	return queue_fs_purge(fs, msgid, dir, parent);
}

/* queue_fs_message_fd_r - the committed body, read-only, at offset 0 */
static int
queue_fs_message_fd_r(void *ctx, uint32_t msgid, int *fdp)
{
	struct queue_fs		*fs = ctx;
	char	path[QUEUE_FS_PATH_MAX];
	int	fd;

	if (fs->rootfd == -1 || msgid == 0)
		return msgid == 0 ? QUEUE_NOTFOUND : QUEUE_TEMPFAIL;
	if (queue_fs_path(path, sizeof path, "queue/%02x/%08" PRIx32
	    "/message", (unsigned int)(msgid >> 24), msgid) == -1)
		return QUEUE_TEMPFAIL;
	if ((fd = queue_fs_open(fs, path, O_RDONLY, 0)) == -1)
		return errno == ENOENT ? QUEUE_NOTFOUND :
		    queue_fs_fail("open", path);
	*fdp = fd;
	return QUEUE_OK;
}

/*
 * queue_fs_envelope_create_incoming - a new envelope file in DIR, the
 * directory of a message still being received: written in place, not
 * fsync'd.  Nothing reads it before the commit, which fsyncs every
 * envelope and the directory before the rename that makes the message
 * exist (queue_fs_commit_prepare), and a crash before that discards the
 * whole of incoming/<msgid>: so the fsync of a temporary file and of
 * DIR that a committed message's envelope needs would be repeated work
 * (two fsyncs per recipient on the path to "250").
 */
static int
queue_fs_envelope_create_incoming(struct queue_fs *fs, uint32_t msgid,
    const char *dir, const char *buf, size_t len, uint64_t *evpid)
{
	char		path[QUEUE_FS_PATH_MAX];
	uint64_t	id;
	int		i, fd = -1, r;

	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		id = queue_fs_msgid_evpid(msgid, queue_backend_draw_id());
		if (id == 0 || queue_fs_path(path, sizeof path,
		    "%s/%016" PRIx64, dir, id) == -1)
			continue;
		fd = queue_fs_open(fs, path, O_WRONLY | O_CREAT | O_EXCL,
		    0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		if (i == QUEUE_ID_TRIES_MAX) {
			log_warnx("queue-fs: msgid=%08" PRIx32 " no free "
			    "evpid", msgid);
			return QUEUE_TEMPFAIL;
		}
		return queue_fs_fail("create", dir);
	}
	if (queue_fs_write_all(fd, buf, len) == -1) {
		r = queue_fs_fail("write", path);
		close(fd);
		if (unlinkat(fs->rootfd, path, 0) == -1)
			log_warn("queue-fs: remove %s", path);
		return r;
	}
	close(fd);
	*evpid = id;
	return QUEUE_OK;
}

/* queue_fs_envelope_create - a new envelope file in MSGID, atomically */
static int
queue_fs_envelope_create(void *ctx, uint32_t msgid, const char *buf,
    size_t len, uint64_t *evpid)
{
	struct queue_fs		*fs = ctx;
	enum queue_fs_where	 where;
	char			 dir[QUEUE_FS_PATH_MAX];
	char			 tmp[QUEUE_FS_PATH_MAX];
	char			 path[QUEUE_FS_PATH_MAX];
	uint64_t		 id = 0;
	int			 i, r;

	if (len == 0 || len > QUEUE_FS_ENVELOPE_MAX) {
		log_warnx("queue-fs: msgid=%08" PRIx32 " envelope of %zu "
		    "bytes refused", msgid, len);
		return QUEUE_TEMPFAIL;
	}
	if ((r = queue_fs_find_message(fs, msgid, dir, sizeof dir, &where)) !=
	    QUEUE_OK)
		return r;
	if (where == QUEUE_FS_INCOMING)
		return queue_fs_envelope_create_incoming(fs, msgid, dir, buf,
		    len, evpid);
	if ((r = queue_fs_journal_settle(fs->journal, &msgid, 1)) != QUEUE_OK)
		return r;
	if ((r = queue_fs_write_temp(fs, msgid, buf, len, tmp, sizeof tmp)) !=
	    QUEUE_OK)
		return r;
	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		id = queue_fs_msgid_evpid(msgid, queue_backend_draw_id());
		if (id == 0 || queue_fs_path(path, sizeof path,
		    "%s/%016" PRIx64, dir, id) == -1)
			continue;
		if ((r = queue_fs_exists(fs, path)) == 0)
			break;
		if (r == -1) {
			r = queue_fs_fail("stat", path);
			goto fail;
		}
	}
	if (i == QUEUE_ID_TRIES_MAX) {
		log_warnx("queue-fs: msgid=%08" PRIx32 " no free evpid",
		    msgid);
		r = QUEUE_TEMPFAIL;
		goto fail;
	}
	if (queue_fs_rename(fs, tmp, path) == -1) {
		r = queue_fs_fail("rename", tmp);
		goto fail;
	}
	if (queue_fs_sync_path(fs, dir) == -1) {
		r = queue_fs_fail("fsync", dir);
		if (unlinkat(fs->rootfd, path, 0) == -1)
			log_warn("queue-fs: remove %s", path);
		return r;
	}
	*evpid = id;
	return QUEUE_OK;
fail:
	if (unlinkat(fs->rootfd, tmp, 0) == -1)
		log_warn("queue-fs: remove %s", tmp);
	return r;
}

/* queue_fs_envelope_path - the file of EVPID, received or committed */
static int
queue_fs_envelope_path(struct queue_fs *fs, uint64_t evpid, char *dir,
    size_t dirsz, enum queue_fs_where *where, char *path, size_t pathsz)
{
	int	r;

	/* both halves nonzero, or no such envelope can exist */
	if ((evpid >> 32) == 0 || (uint32_t)evpid == 0)
		return QUEUE_NOTFOUND;
	if ((r = queue_fs_find_message(fs, queue_fs_evpid_msgid(evpid), dir,
	    dirsz, where)) != QUEUE_OK)
		return r;
	if (queue_fs_path(path, pathsz, "%s/%016" PRIx64, dir, evpid) == -1)
		return QUEUE_TEMPFAIL;
	switch (queue_fs_exists(fs, path)) {
	case 1:
		return QUEUE_OK;
	case 0:
		return QUEUE_NOTFOUND;
	default:
		return queue_fs_fail("stat", path);
	}
}

/* queue_fs_envelope_update - replace an envelope's bytes atomically */
static int
queue_fs_envelope_update(void *ctx, uint64_t evpid, const char *buf,
    size_t len)
{
	struct queue_fs		*fs = ctx;
	enum queue_fs_where	 where;
	char			 dir[QUEUE_FS_PATH_MAX];
	char			 path[QUEUE_FS_PATH_MAX];
	char			 tmp[QUEUE_FS_PATH_MAX];
	uint32_t		 msgid;
	int			 r;

	if (len == 0 || len > QUEUE_FS_ENVELOPE_MAX) {
		log_warnx("queue-fs: evpid=%016" PRIx64 " envelope of %zu "
		    "bytes refused", evpid, len);
		return QUEUE_TEMPFAIL;
	}
	if ((r = queue_fs_envelope_path(fs, evpid, dir, sizeof dir, &where,
	    path, sizeof path)) != QUEUE_OK)
		return r;
	msgid = queue_fs_evpid_msgid(evpid);
	if ((r = queue_fs_journal_settle(fs->journal, &msgid, 1)) != QUEUE_OK)
		return r;
	if ((r = queue_fs_write_temp(fs, msgid, buf, len, tmp, sizeof tmp)) !=
	    QUEUE_OK)
		return r;
	if (queue_fs_rename(fs, tmp, path) == -1) {
		r = queue_fs_fail("rename", tmp);
		if (unlinkat(fs->rootfd, tmp, 0) == -1)
			log_warn("queue-fs: remove %s", tmp);
		return r;
	}
	/* past the rename the envelope holds the new bytes, whole */
	if (queue_fs_sync_path(fs, dir) == -1)
		return queue_fs_fail("fsync", dir);
	return QUEUE_OK;
}

/* one envelope of a batch delete: the directory whose fsync makes it
 * durable and, when it took its message, the message's name in purge/ */
struct queue_fs_del {
	uint32_t	msgid;
	char		dir[QUEUE_FS_PATH_MAX];		/* the message's */
	char		sync[QUEUE_FS_PATH_MAX];	/* "": none */
	char		purged[QUEUE_FS_PATH_MAX];	/* "": not purged */
};

/* queue_fs_delete_step - the first half of a delete of EVPID: the
 * envelope unlinked or its message moved to purge/, D says what to
 * fsync; QUEUE_OK or the failure (nothing changed) */
static int
queue_fs_delete_step(struct queue_fs *fs, uint64_t evpid,
    struct queue_fs_del *d)
{
	struct queue_fs_scan	 sc;
	enum queue_fs_where	 where;
	char			 path[QUEUE_FS_PATH_MAX];
	int			 r;

	d->msgid = queue_fs_evpid_msgid(evpid);
	if ((r = queue_fs_envelope_path(fs, evpid, d->dir, sizeof d->dir,
	    &where, path, sizeof path)) != QUEUE_OK)
		return r;
	if ((r = queue_fs_scan(fs, d->dir, d->msgid, evpid, NULL, 0,
	    &sc)) != QUEUE_OK)
		return r;
	if (!sc.has_evpid)
		return QUEUE_NOTFOUND;
	if (sc.nevp == 1 && where == QUEUE_FS_QUEUE) {
		if (queue_fs_path(d->sync, sizeof d->sync, "queue/%02x",
		    (unsigned int)(d->msgid >> 24)) == -1)
			return QUEUE_TEMPFAIL;
		return queue_fs_purge_move(fs, d->msgid, d->dir, d->purged,
		    sizeof d->purged);
	}
	if (queue_fs_unlink(fs, path, 0) == -1)
		return errno == ENOENT ? QUEUE_NOTFOUND :
		    queue_fs_fail("unlink", path);
	strlcpy(d->sync, d->dir, sizeof d->sync);
	return QUEUE_OK;
}

/*
 * queue_fs_envelope_delete_batch - N envelopes deleted as
 * queue_fs_envelope_delete would each, their directories fsync'd once
 * each and side by side (the bucket a run of deliveries empties is one
 * fsync, not one per message); RESULTS[i] OK only once evpids[i]'s
 * delete is durable; a failed fsync undoes the purges it covered
 */
static int
queue_fs_envelope_delete_batch(void *ctx, size_t n, const uint64_t *evpids,
    int *results)
{
	struct queue_fs		*fs = ctx;
	struct queue_fs_syncs	 syncs;
	struct queue_fs_del	*d;
	size_t			 i, k;
	int			 r = QUEUE_OK;

	memset(&syncs, 0, sizeof syncs);
	if (n > 0 && (r = queue_fs_journal_delete(fs->journal, 0, evpids, n)) !=
	    QUEUE_OK) {
		for (i = 0; i < n; i++)
			results[i] = r;
		return r;
	}
	if ((d = calloc(n ? n : 1, sizeof *d)) == NULL) {
		for (i = 0; i < n; i++)
			results[i] = QUEUE_TEMPFAIL;
		return QUEUE_TEMPFAIL;
	}
	for (i = 0; i < n; i++) {
		if ((results[i] = queue_fs_delete_step(fs, evpids[i], &d[i])) !=
		    QUEUE_OK)
			continue;
		for (k = 0; k < syncs.n; k++)
			if (strcmp(syncs.path[k], d[i].sync) == 0)
				break;
		/* opened now: a later step may move it to purge/ */
		if (k == syncs.n && queue_fs_syncs_add(fs, &syncs, d[i].sync,
		    i) == -1) {
			results[i] = queue_fs_fail("open", d[i].sync);
			if (d[i].purged[0] != '\0')
				queue_fs_purge_undo(fs, d[i].msgid, d[i].dir,
				    d[i].purged);
		}
	}
	queue_fs_syncs_run(&syncs);
	for (k = 0; k < syncs.n; k++) {
		if (syncs.errs[k] == 0)
			continue;
		errno = syncs.errs[k];
		for (i = 0; i < n; i++) {
			if (results[i] != QUEUE_OK ||
			    strcmp(d[i].sync, syncs.path[k]) != 0)
				continue;
			results[i] = queue_fs_fail("fsync", d[i].sync);
			if (d[i].purged[0] != '\0')
				queue_fs_purge_undo(fs, d[i].msgid, d[i].dir,
				    d[i].purged);
		}
	}
	for (i = 0; i < n; i++) {
		if (results[i] == QUEUE_OK && d[i].purged[0] != '\0')
			queue_fs_purge_finish(fs, d[i].purged);
		if (r == QUEUE_OK && results[i] != QUEUE_OK)
			r = results[i];
	}
	queue_fs_syncs_free(&syncs);
	free(d);
	return r;
}

/* queue_fs_envelope_delete - one envelope; the last takes the message:
 * a batch of one */
static int
queue_fs_envelope_delete(void *ctx, uint64_t evpid)
{
	int	r;

	(void)queue_fs_envelope_delete_batch(ctx, 1, &evpid, &r);
	return r;
}

/* queue_fs_envelope_load - the bytes of an envelope */
static int
queue_fs_envelope_load(void *ctx, uint64_t evpid, char *buf, size_t bufsz,
    size_t *lenp)
{
	struct queue_fs		*fs = ctx;
	enum queue_fs_where	 where;
	char			 dir[QUEUE_FS_PATH_MAX];
	char			 path[QUEUE_FS_PATH_MAX];
	int			 r;

	if ((r = queue_fs_envelope_path(fs, evpid, dir, sizeof dir, &where,
	    path, sizeof path)) != QUEUE_OK)
		return r;
	return queue_fs_read(fs, path, buf, bufsz, lenp);
}

/*
 * queue_fs_envelope_corrupt - move an envelope that does not parse to
 * corrupt/<msgid>/, with a hard link of the body, so the operator holds
 * all of it; the message keeps its other envelopes, or goes if none.
 * On failure the envelope is put back: set aside whole, or not at all.
 */
static int
queue_fs_envelope_corrupt(void *ctx, uint64_t evpid)
{
	struct queue_fs		*fs = ctx;
	struct queue_fs_scan	 sc;
	enum queue_fs_where	 where;
	char			 dir[QUEUE_FS_PATH_MAX];
	char			 path[QUEUE_FS_PATH_MAX];
	char			 cdir[QUEUE_FS_PATH_MAX];
	char			 to[QUEUE_FS_PATH_MAX];
	char			 body[QUEUE_FS_PATH_MAX];
	char			 cbody[QUEUE_FS_PATH_MAX];
	char			 parent[QUEUE_FS_PATH_MAX];
	uint32_t		 msgid = queue_fs_evpid_msgid(evpid);
	int			 r;

	if ((r = queue_fs_journal_settle(fs->journal, &msgid, 1)) != QUEUE_OK ||
	    (r = queue_fs_envelope_path(fs, evpid, dir, sizeof dir, &where,
	    path, sizeof path)) != QUEUE_OK)
		return r;
	if (queue_fs_path(cdir, sizeof cdir, "corrupt/%08" PRIx32, msgid) ==
	    -1 || queue_fs_path(to, sizeof to, "%s/%016" PRIx64, cdir,
	    evpid) == -1 || queue_fs_path(body, sizeof body, "%s/message",
	    dir) == -1 || queue_fs_path(cbody, sizeof cbody, "%s/message",
	    cdir) == -1 || queue_fs_path(parent, sizeof parent, "queue/%02x",
	    (unsigned int)(msgid >> 24)) == -1)
		return QUEUE_TEMPFAIL;
	if (queue_fs_mkdir(fs, cdir) == -1 && errno != EEXIST)
		return queue_fs_fail("mkdir", cdir);
	if (queue_fs_link(fs, body, cbody) == -1 && errno != EEXIST &&
	    errno != ENOENT)
		return queue_fs_fail("link", cbody);
	if (queue_fs_sync_path(fs, cdir) == -1 ||
	    queue_fs_sync_path(fs, "corrupt") == -1)
		return queue_fs_fail("fsync", cdir);
	if (queue_fs_rename(fs, path, to) == -1)
		return queue_fs_fail("rename", path);
	if (queue_fs_sync_path(fs, cdir) == -1 ||
	    queue_fs_sync_path(fs, dir) == -1) {
		r = queue_fs_fail("fsync", dir);
		goto undo;
	}
	if (where == QUEUE_FS_QUEUE) {
		if ((r = queue_fs_scan(fs, dir, msgid, 0, NULL, 0, &sc)) != QUEUE_OK)
			goto undo;
		/* no envelope left: the body is safe in corrupt/ */
		if (sc.nevp == 0 &&
		    (r = queue_fs_purge(fs, msgid, dir, parent)) != QUEUE_OK)
			goto undo;
	}
	log_warnx("queue-fs: evpid=%016" PRIx64 " set aside in %s", evpid,
	    cdir);
	return QUEUE_OK;
undo:
	if (renameat(fs->rootfd, to, fs->rootfd, path) == -1)
		log_warn("queue-fs: evpid=%016" PRIx64 " left in %s", evpid,
		    cdir);
	return r == QUEUE_NOTFOUND ? QUEUE_TEMPFAIL : r;
}

const struct queue_backend queue_backend_fs = {
	.version = QUEUE_BACKEND_V1,
	.name = "fs",
	.open = queue_fs_spool_open,
	.close = queue_fs_spool_close,
	.recover = queue_fs_recover,
	.message_create = queue_fs_message_create,
	.message_fd_w = queue_fs_message_fd_w,
	.message_commit = queue_fs_message_commit,
	.message_delete = queue_fs_message_delete,
	.message_fd_r = queue_fs_message_fd_r,
	.envelope_create = queue_fs_envelope_create,
	.envelope_delete = queue_fs_envelope_delete,
	.envelope_delete_batch = queue_fs_envelope_delete_batch,
	.envelope_update = queue_fs_envelope_update,
	.envelope_load = queue_fs_envelope_load,
	.envelope_corrupt = queue_fs_envelope_corrupt,
	.walk_open = queue_fs_walk_open,
	.walk_next = queue_fs_walk_next,
	.walk_close = queue_fs_walk_close,
	.message_commit_batch = queue_fs_message_commit_batch,
	.commit_beside = 1,
};
