/*
 * queue_fs_journal.c -- the commit journal of the fs queue backend: one
 * device flush before a batch of messages is acknowledged.
 *
 * A classic commit (queue_fs.c) fsyncs each body, envelope and message
 * directory, renames the messages into queue/ and fsyncs the parents:
 * two rounds, about five device flushes.  With the journal, a commit
 * renames the messages into queue/ (visible, not yet durable), appends
 * to the file "journal" at the spool root one record per message (its
 * body and every envelope, whole, with a hash) and makes the journal
 * durable with one fdatasync; then the batch is durable, and only then
 * said so.  The files in queue/ are made durable later, all at once, by
 * a checkpoint: syncfs of the spool's file system, then a new
 * generation written in the journal's head (fdatasync), which retires
 * every record before it.
 *
 * A record restores its message exactly as committed, so it must never
 * be applied over a later change.  A delete of envelopes (or of the
 * whole message) that have a record in the current generation first
 * appends a delete record, made durable with one flush (a delivery
 * must not come back); any other change to such a message (an envelope
 * updated, created or set aside) first asks queue_fs_journal_settle,
 * which makes a checkpoint.  A checkpoint is also made when the journal
 * passes QUEUE_FS_JOURNAL_MAX bytes or QUEUE_FS_JOURNAL_LIVE_MAX
 * messages, and at close; one after a failed sync retires what that
 * sync may have left (until it succeeds, commits fail).
 *
 * At open, the records of the current generation are read in order up
 * to the first that does not check (a torn tail): the deletes gathered
 * first, then each committed message whose files in queue/ differ from
 * its record (or are missing) written again from it (temporary/,
 * renamed in), less what was deleted (removed, if there); then syncfs
 * and a new generation.  So a crash after the fdatasync loses nothing
 * that was acknowledged, and brings back nothing that was delivered,
 * whatever the page cache had not written yet.
 *
 * Layout (host byte order: a spool is read by the host that wrote it):
 * a head at offset 0 (tag, generation, hash), records from offset
 * QUEUE_FS_JHEAD_SIZE on, each a struct queue_fs_jrec (its msgid in hex,
 * so that a system call trace names it) and its bytes: a commit
 * ("QJR1") has the body, then per envelope its evpid, its length and
 * its bytes; a delete ("QJD1") the evpids deleted (none: the message).  Every call that can
 * fail goes through queue_fs_fault (tests' fault injection).  One mutex:
 * a commit (begin..end) may run in the host's commit thread while the
 * loop settles other messages.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"	/* log_* of the glue */
#include "queue_api.h"
#include "queue_fs_journal.h"

#define QUEUE_FS_JHEAD_SIZE	512
#define QUEUE_FS_JREC_MAX	(64u << 20)	/* a record's bytes, at most */
#define QUEUE_FS_JPATH_MAX	64
#define QUEUE_FS_JGROW		(256u << 10)	/* zeros ahead of the tail */

static const char queue_fs_jhead_tag[8] = { 'Q', 'F', 'S', 'J', 'R', 'N',
    'L', '1' };
static const char queue_fs_jrec_tag[4] = { 'Q', 'J', 'R', '1' };	/* commit */
static const char queue_fs_jdel_tag[4] = { 'Q', 'J', 'D', '1' };	/* delete */

struct queue_fs_jhead {
	char		tag[8];
	uint64_t	gen;
	uint64_t	check;		/* hash of the above */
};

struct queue_fs_jrec {
	char		tag[4];
	char		msgid[8];	/* %08x */
	uint32_t	nenv;
	uint64_t	gen;
	uint64_t	bodylen;
	uint64_t	len;		/* bytes after this head */
	uint64_t	check;		/* hash of this head (check 0), bytes */
};

struct queue_fs_journal {
	int		 rootfd;
	int		 fd;
	pthread_mutex_t	 mu;
	uint64_t	 gen;
	uint64_t	 off;		/* where the next record goes */
	uint64_t	 size;		/* the file's length */
	int		 broken;	/* a sync failed, no checkpoint since */
	int		 alllive;	/* the live set is incomplete */
	uint32_t	*live;		/* msgids with a record; 0: empty */
	size_t		 nlive, cap;
	uint32_t	*batch;		/* added by the open batch */
	size_t		 nbatch, capbatch;
	unsigned char	*buf;		/* a record being made */
	size_t		 bufcap;
};

static int		queue_fs_journal_on = 1;
static _Atomic unsigned int	queue_fs_journal_checkpoints;

void
queue_fs_set_journal(int on)
{
	queue_fs_journal_on = on;
}

int
queue_fs_journal_enabled(void)
{
	return queue_fs_journal_on;
}

unsigned int
queue_fs_count_checkpoints(void)
{
	return queue_fs_journal_checkpoints;
}

/* a 64-bit hash of bytes fed in pieces: a check that what is read back
 * is what was written (the spool is writable by us alone) */
struct queue_fs_hash {
	uint64_t	h, n;
	unsigned char	tail[8];
	size_t		ntail;
};

#define QUEUE_FS_ROTL(x, r)	(((x) << (r)) | ((x) >> (64 - (r))))

static uint64_t
queue_fs_hash_mix(uint64_t h, uint64_t w)
{
	w *= 0x87c37b91114253d5ULL;
	w = QUEUE_FS_ROTL(w, 31);
	w *= 0x4cf5ad432745937fULL;
	h ^= w;
	return QUEUE_FS_ROTL(h, 27) * 5 + 0x52dce729ULL;
}

static void
queue_fs_hash_init(struct queue_fs_hash *x)
{
	memset(x, 0, sizeof *x);
	x->h = 0x6a09e667f3bcc908ULL;
}

static void
queue_fs_hash_update(struct queue_fs_hash *x, const void *data, size_t len)
{
	const unsigned char	*p = data;
	uint64_t		 w;
	size_t			 k;

	x->n += len;
	if (x->ntail > 0) {
		k = sizeof x->tail - x->ntail;
		if (k > len)
			k = len;
		memcpy(x->tail + x->ntail, p, k);
		x->ntail += k;
		p += k;
		len -= k;
		if (x->ntail < sizeof x->tail)
			return;
		memcpy(&w, x->tail, sizeof w);
		x->h = queue_fs_hash_mix(x->h, w);
		x->ntail = 0;
	}
	for (; len >= sizeof w; p += sizeof w, len -= sizeof w) {
		memcpy(&w, p, sizeof w);
		x->h = queue_fs_hash_mix(x->h, w);
	}
	memcpy(x->tail, p, len);
	x->ntail = len;
}

static uint64_t
queue_fs_hash_final(struct queue_fs_hash *x)
{
	uint64_t	w = 0, h;

	memcpy(&w, x->tail, x->ntail);
	h = queue_fs_hash_mix(x->h, w ^ ((uint64_t)x->ntail << 56)) ^ x->n;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t
queue_fs_hash(const void *a, size_t alen, const void *b, size_t blen)
{
	struct queue_fs_hash	x;

	queue_fs_hash_init(&x);
	queue_fs_hash_update(&x, a, alen);
	if (blen > 0)
		queue_fs_hash_update(&x, b, blen);
	return queue_fs_hash_final(&x);
}

/* queue_fs_journal_result - the QUEUE_* failure of an errno */
static int
queue_fs_journal_result(int err)
{
	return (err == ENOSPC || err == EDQUOT) ? QUEUE_NOSPACE :
	    QUEUE_TEMPFAIL;
}

/* queue_fs_journal_fail - log STEP (errno kept); its result */
static int
queue_fs_journal_fail(const char *step)
{
	int	err = errno;

	log_warn("queue-fs: journal: %s", step);
	errno = err;
	return queue_fs_journal_result(err);
}

/* -- the live set: msgids with a record in the current generation (a
 * hash set: api_tree is a sorted array, and an insert of a random msgid
 * would move half of up to QUEUE_FS_JOURNAL_LIVE_MAX entries) -- */

static size_t
queue_fs_live_slot(uint32_t msgid, size_t cap)
{
	return (size_t)((msgid * 0x9e3779b1u) & (uint32_t)(cap - 1));
}

static int
queue_fs_live_has(struct queue_fs_journal *j, uint32_t msgid)
{
	size_t	i;

	if (j->alllive)
		return 1;
	if (j->cap == 0)
		return 0;
	for (i = queue_fs_live_slot(msgid, j->cap); j->live[i] != 0;
	    i = (i + 1) & (j->cap - 1))
		if (j->live[i] == msgid)
			return 1;
	return 0;
}

static void
queue_fs_live_put(uint32_t *live, size_t cap, uint32_t msgid, size_t *n)
{
	size_t	i;

	for (i = queue_fs_live_slot(msgid, cap); live[i] != 0;
	    i = (i + 1) & (cap - 1))
		if (live[i] == msgid)
			return;
	live[i] = msgid;
	(*n)++;
}

/* queue_fs_live_add - MSGID live; out of memory: every msgid counts as
 * live until the next checkpoint (settle then always checkpoints) */
static void
queue_fs_live_add(struct queue_fs_journal *j, uint32_t msgid)
{
	uint32_t	*nl;
	size_t		 ncap, i, n = 0;

	if (j->alllive)
		return;
	if ((j->nlive + 1) * 2 > j->cap) {
		ncap = j->cap ? j->cap * 2 : 1024;
		if ((nl = calloc(ncap, sizeof *nl)) == NULL) {
			log_warn("queue-fs: journal: live set");
			j->alllive = 1;
			return;
		}
		for (i = 0; i < j->cap; i++)
			if (j->live[i] != 0)
				queue_fs_live_put(nl, ncap, j->live[i], &n);
		free(j->live);
		j->live = nl;
		j->cap = ncap;
		j->nlive = n;
	}
	queue_fs_live_put(j->live, j->cap, msgid, &j->nlive);
}

static void
queue_fs_live_clear(struct queue_fs_journal *j)
{
	if (j->live != NULL)
		memset(j->live, 0, j->cap * sizeof *j->live);
	j->nlive = 0;
	j->alllive = 0;
}

/* -- plain I/O, each a fallible call -- */

static int
queue_fs_jpwrite(int fd, const void *data, size_t len, uint64_t off)
{
	const char	*p = data;
	ssize_t		 n;
	int		 eintr = 0;

	if (queue_fs_fault() == -1)
		return -1;
	while (len > 0) {
		if ((n = pwrite(fd, p, len, (off_t)off)) == -1) {
			if (errno == EINTR && eintr++ < 100)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* queue_fs_jpread - LEN bytes at OFF; -1 (errno) or a short read: 1 */
static int
queue_fs_jpread(int fd, void *data, size_t len, uint64_t off)
{
	char	*p = data;
	ssize_t	 n;
	int	 eintr = 0;

	while (len > 0) {
		if ((n = pread(fd, p, len, (off_t)off)) == -1) {
			if (errno == EINTR && eintr++ < 100)
				continue;
			return -1;
		}
		if (n == 0)
			return 1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
queue_fs_jreserve(struct queue_fs_journal *j, size_t len)
{
	unsigned char	*p;
	size_t		 cap;

	if (len <= j->bufcap)
		return 0;
	for (cap = j->bufcap ? j->bufcap : 16384; cap < len; cap *= 2)
		;
	if ((p = realloc(j->buf, cap)) == NULL)
		return -1;
	j->buf = p;
	j->bufcap = cap;
	return 0;
}

/* queue_fs_journal_head - write the head of generation GEN, durably */
static int
queue_fs_journal_head(struct queue_fs_journal *j, uint64_t gen)
{
	struct queue_fs_jhead	h;

	memset(&h, 0, sizeof h);
	memcpy(h.tag, queue_fs_jhead_tag, sizeof h.tag);
	h.gen = gen;
	h.check = queue_fs_hash(&h, offsetof(struct queue_fs_jhead, check),
	    NULL, 0);
	if (queue_fs_jpwrite(j->fd, &h, sizeof h, 0) == -1)
		return queue_fs_journal_fail("write head");
	if (queue_fs_fault_sync() == -1 || fdatasync(j->fd) == -1)
		return queue_fs_journal_fail("sync head");
	return QUEUE_OK;
}

/*
 * queue_fs_journal_checkpoint - (lock held) make every file of the spool
 * durable (syncfs), then retire the records: a new generation.  Nothing
 * to retire: nothing done.  A failure leaves the journal broken (commits
 * fail until a checkpoint succeeds).
 */
static int
queue_fs_journal_checkpoint(struct queue_fs_journal *j)
{
	int	r;

	if (!j->broken && !j->alllive && j->nlive == 0 &&
	    j->off == QUEUE_FS_JHEAD_SIZE)
		return QUEUE_OK;
	if (queue_fs_fault_sync() == -1 || syncfs(j->rootfd) == -1) {
		j->broken = 1;
		return queue_fs_journal_fail("checkpoint: syncfs");
	}
	if ((r = queue_fs_journal_head(j, j->gen + 1)) != QUEUE_OK) {
		j->broken = 1;
		return r;
	}
	j->gen++;
	j->off = QUEUE_FS_JHEAD_SIZE;
	j->broken = 0;
	queue_fs_live_clear(j);
	queue_fs_journal_checkpoints++;
	return QUEUE_OK;
}

/* -- replay -- */

/* queue_fs_jsame - does the file at PATH hold exactly DATA? */
static int
queue_fs_jsame(int rootfd, const char *path, const unsigned char *data,
    size_t len)
{
	struct stat	 st;
	unsigned char	 buf[16384];
	size_t		 off = 0, k;
	int		 fd, same = 0;

	if ((fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != len)
		goto done;
	while (off < len) {
		k = len - off < sizeof buf ? len - off : sizeof buf;
		if (queue_fs_jpread(fd, buf, k, off) != 0 ||
		    memcmp(buf, data + off, k) != 0)
			goto done;
		off += k;
	}
	same = 1;
done:
	close(fd);
	return same;
}

/* queue_fs_jrestore - PATH made to hold DATA (through temporary/, not
 * fsync'd: the replay's syncfs does) unless it does; -1 (logged) */
static int
queue_fs_jrestore(int rootfd, const char *path, const unsigned char *data,
    size_t len, int *restored)
{
	char	tmp[QUEUE_FS_JPATH_MAX];
	int	fd, err;

	if (queue_fs_jsame(rootfd, path, data, len))
		return 0;
	(void)snprintf(tmp, sizeof tmp, "temporary/journal.%d", (int)getpid());
	if ((fd = openat(rootfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		goto fail;
	if (queue_fs_jpwrite(fd, data, len, 0) == -1) {
		err = errno;
		close(fd);
		errno = err;
		goto fail;
	}
	if (close(fd) == -1 || renameat(rootfd, tmp, rootfd, path) == -1)
		goto fail;
	*restored = 1;
	return 0;
fail:
	log_warn("queue-fs: journal: restore %s", path);
	(void)unlinkat(rootfd, tmp, 0);
	return -1;
}

/* queue_fs_jmkdir - a directory of the layout, there or made */
static int
queue_fs_jmkdir(int rootfd, const char *path)
{
	if (mkdirat(rootfd, path, 0700) == -1 && errno != EEXIST) {
		log_warn("queue-fs: journal: mkdir %s", path);
		return -1;
	}
	return 0;
}

/* queue_fs_jremove_message - DIR (a message in queue/) and its files
 * gone; -1 (logged) */
static int
queue_fs_jremove_message(int rootfd, const char *dir)
{
	struct dirent	*de;
	DIR		*dp;
	char		 path[QUEUE_FS_JPATH_MAX];
	int		 fd, ret = 0;

	if ((fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
		    (int)sizeof path || unlinkat(rootfd, path, 0) == -1) {
			log_warn("queue-fs: journal: remove %s/%s", dir,
			    de->d_name);
			ret = -1;
		}
	}
	closedir(dp);
	if (ret == 0 && unlinkat(rootfd, dir, AT_REMOVEDIR) == -1) {
		log_warn("queue-fs: journal: remove %s", dir);
		ret = -1;
	}
	return ret;
}

/* what a replay's first pass gathers: the deletions recorded */
struct queue_fs_jdel {
	uint64_t	*evpids;	/* sorted after the pass */
	size_t		 n, cap;
	uint32_t	*msgids;	/* whole messages */
	size_t		 nmsg, capmsg;
};

static int
queue_fs_jcmp64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
queue_fs_jcmp32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* queue_fs_jdel_has - was MSGID deleted whole, or EVPID? (after the
 * first pass sorted both lists) */
static int
queue_fs_jdel_has(const struct queue_fs_jdel *d, uint32_t msgid,
    uint64_t evpid)
{
	if (d->nmsg > 0 && bsearch(&msgid, d->msgids, d->nmsg, sizeof msgid,
	    queue_fs_jcmp32) != NULL)
		return 1;
	return evpid != 0 && d->n > 0 && bsearch(&evpid, d->evpids, d->n,
	    sizeof evpid, queue_fs_jcmp64) != NULL;
}

/* queue_fs_jdel_add - a delete record's content gathered; -1 */
static int
queue_fs_jdel_add(struct queue_fs_jdel *d, const struct queue_fs_jrec *r,
    const unsigned char *buf, uint32_t msgid)
{
	uint64_t	*ne, evpid;
	uint32_t	*nm, i;

	if (r->nenv == 0) {
		if (d->nmsg == d->capmsg) {
			if ((nm = reallocarray(d->msgids, d->capmsg ?
			    d->capmsg * 2 : 16, sizeof *nm)) == NULL)
				return -1;
			d->msgids = nm;
			d->capmsg = d->capmsg ? d->capmsg * 2 : 16;
		}
		d->msgids[d->nmsg++] = msgid;
		return 0;
	}
	if (r->len != (uint64_t)r->nenv * 8)
		return -1;
	for (i = 0; i < r->nenv; i++) {
		if (d->n == d->cap) {
			if ((ne = reallocarray(d->evpids, d->cap ? d->cap * 2 :
			    64, sizeof *ne)) == NULL)
				return -1;
			d->evpids = ne;
			d->cap = d->cap ? d->cap * 2 : 64;
		}
		memcpy(&evpid, buf + (size_t)i * 8, sizeof evpid);
		if ((uint32_t)(evpid >> 32) != msgid)
			return -1;
		d->evpids[d->n++] = evpid;
	}
	return 0;
}

/*
 * queue_fs_journal_apply - the message of the commit record in BUF (its
 * LEN bytes after its head R, checked) made as it was committed, less
 * what a later record deleted: its directory in queue/, its body, each
 * envelope not deleted (a deleted one removed).  A message deleted
 * whole, or of which every envelope was, is removed.  -1 on a failure
 * (logged) or a record that does not parse.
 */
static int
queue_fs_journal_apply(int rootfd, const struct queue_fs_jrec *r,
    const unsigned char *buf, uint32_t msgid, const struct queue_fs_jdel *d,
    int *restored)
{
	char		 dir[QUEUE_FS_JPATH_MAX], path[QUEUE_FS_JPATH_MAX];
	uint64_t	 evpid, elen, off;
	uint32_t	 i, kept = 0;
	int		 pass;

	(void)snprintf(dir, sizeof dir, "queue/%02x/%08" PRIx32,
	    (unsigned int)(msgid >> 24), msgid);
	/* pass 0 checks the record and counts what is kept, 1 writes */
	for (pass = 0; pass < 2; pass++) {
		off = r->bodylen;
		for (i = 0; i < r->nenv; i++) {
			if (r->len - off < 16)
				return -1;
			memcpy(&evpid, buf + off, sizeof evpid);
			memcpy(&elen, buf + off + 8, sizeof elen);
			off += 16;
			if (elen > r->len - off ||
			    (uint32_t)(evpid >> 32) != msgid)
				return -1;
			if (snprintf(path, sizeof path, "%s/%016" PRIx64, dir,
			    evpid) >= (int)sizeof path)
				return -1;
			if (queue_fs_jdel_has(d, msgid, evpid)) {
				if (pass == 1 && unlinkat(rootfd, path, 0) ==
				    -1 && errno != ENOENT) {
					log_warn("queue-fs: journal: remove "
					    "%s", path);
					return -1;
				}
			} else if (pass == 0)
				kept++;
			else if (queue_fs_jrestore(rootfd, path, buf + off,
			    (size_t)elen, restored) == -1)
				return -1;
			off += elen;
		}
		if (off != r->len)
			return -1;
		if (pass == 1)
			break;
		if (kept == 0)
			return queue_fs_jremove_message(rootfd, dir);
		(void)snprintf(path, sizeof path, "queue/%02x",
		    (unsigned int)(msgid >> 24));
		if (queue_fs_jmkdir(rootfd, path) == -1 ||
		    queue_fs_jmkdir(rootfd, dir) == -1)
			return -1;
		if (snprintf(path, sizeof path, "%s/message", dir) >=
		    (int)sizeof path || queue_fs_jrestore(rootfd, path, buf,
		    (size_t)r->bodylen, restored) == -1)
			return -1;
	}
	return 0;
}

/*
 * queue_fs_journal_read - the next record of generation GEN at *OFF
 * (SIZE: the file's): its head in R, its bytes in *BUF (grown), its
 * msgid; *OFF past it.  1: a record, 0: none (the end, or one that does
 * not check: a torn tail), -1: out of memory.
 */
static int
queue_fs_journal_read(struct queue_fs_journal *j, uint64_t gen,
    uint64_t size, uint64_t *off, struct queue_fs_jrec *r,
    unsigned char **buf, uint32_t *msgid)
{
	unsigned char	*nb;
	uint64_t	 check, v;
	char		 hex[9], *end;

	if (*off + sizeof *r > size ||
	    queue_fs_jpread(j->fd, r, sizeof *r, *off) != 0)
		return 0;
	if ((memcmp(r->tag, queue_fs_jrec_tag, sizeof r->tag) != 0 &&
	    memcmp(r->tag, queue_fs_jdel_tag, sizeof r->tag) != 0) ||
	    r->gen != gen || r->len > QUEUE_FS_JREC_MAX ||
	    r->len > size - *off - sizeof *r || r->bodylen > r->len)
		return 0;
	memcpy(hex, r->msgid, 8);
	hex[8] = '\0';
	v = strtoull(hex, &end, 16);
	if (*end != '\0' || v == 0 || v > UINT32_MAX)
		return 0;
	*msgid = (uint32_t)v;
	if ((nb = realloc(*buf, r->len ? (size_t)r->len : 1)) == NULL) {
		log_warn("queue-fs: journal: replay");
		return -1;
	}
	*buf = nb;
	if (queue_fs_jpread(j->fd, *buf, (size_t)r->len, *off + sizeof *r) !=
	    0)
		return 0;
	check = r->check;
	r->check = 0;
	if (queue_fs_hash(r, sizeof *r, *buf, (size_t)r->len) != check)
		return 0;
	*off += sizeof *r + r->len;
	return 1;
}

/*
 * queue_fs_journal_replay - the records of generation GEN from the head
 * on, up to the first that does not check: the deletions gathered, then
 * each commit applied less them.  -1 if a message could not be restored
 * (logged).
 */
static int
queue_fs_journal_replay(struct queue_fs_journal *j, uint64_t gen,
    uint64_t size, size_t *nrec, size_t *nrestored)
{
	struct queue_fs_jrec	 r;
	struct queue_fs_jdel	 d;
	unsigned char		*buf = NULL;
	uint64_t		 off;
	uint32_t		 msgid;
	int			 pass, restored, ret = 0, got;

	memset(&d, 0, sizeof d);
	for (pass = 0; pass < 2 && ret == 0; pass++) {
		off = QUEUE_FS_JHEAD_SIZE;
		while ((got = queue_fs_journal_read(j, gen, size, &off, &r,
		    &buf, &msgid)) == 1) {
			if (memcmp(r.tag, queue_fs_jdel_tag, sizeof r.tag) ==
			    0) {
				if (pass == 0 && queue_fs_jdel_add(&d, &r, buf,
				    msgid) == -1) {
					log_warnx("queue-fs: journal: msgid="
					    "%08" PRIx32 " delete record",
					    msgid);
					ret = -1;
					break;
				}
				continue;
			}
			if (pass == 0)
				continue;
			restored = 0;
			if (queue_fs_journal_apply(j->rootfd, &r, buf, msgid,
			    &d, &restored) == -1) {
				log_warnx("queue-fs: journal: msgid=%08" PRIx32
				    " not restored", msgid);
				ret = -1;
				break;
			}
			(*nrec)++;
			*nrestored += restored;
		}
		if (got == -1)
			ret = -1;
		if (pass == 0 && d.n > 1)
			qsort(d.evpids, d.n, sizeof *d.evpids, queue_fs_jcmp64);
		if (pass == 0 && d.nmsg > 1)
			qsort(d.msgids, d.nmsg, sizeof *d.msgids,
			    queue_fs_jcmp32);
	}
	free(buf);
	free(d.evpids);
	free(d.msgids);
	return ret;
}

/*
 * queue_fs_journal_open - the journal of the spool at ROOTFD, its
 * records replayed and retired; *JP NULL when journaling is off (a
 * journal left by an earlier run is replayed all the same).  QUEUE_OK,
 * or a failure (logged): the spool must not be used, an acknowledged
 * message might be missing.
 */
int
queue_fs_journal_open(int rootfd, struct queue_fs_journal **jp)
{
	struct queue_fs_journal	*j;
	struct queue_fs_jhead	 h;
	struct stat		 st;
	size_t			 nrec = 0, nrestored = 0;
	uint64_t		 gen = 0;
	int			 r;

	*jp = NULL;
	if (!queue_fs_journal_on && fstatat(rootfd, QUEUE_FS_JOURNAL_NAME, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT)
		return QUEUE_OK;
	if ((j = calloc(1, sizeof *j)) == NULL)
		return queue_fs_journal_fail("open");
	j->rootfd = rootfd;
	pthread_mutex_init(&j->mu, NULL);
	if ((j->fd = openat(rootfd, QUEUE_FS_JOURNAL_NAME, O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1 || fstat(j->fd, &st) == -1) {
		r = queue_fs_journal_fail("open " QUEUE_FS_JOURNAL_NAME);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("queue-fs: journal: not a regular file");
		r = QUEUE_TEMPFAIL;
		goto fail;
	}
	if ((uint64_t)st.st_size >= sizeof h && queue_fs_jpread(j->fd, &h,
	    sizeof h, 0) == 0) {
		if (memcmp(h.tag, queue_fs_jhead_tag, sizeof h.tag) == 0 &&
		    queue_fs_hash(&h, offsetof(struct queue_fs_jhead, check),
		    NULL, 0) == h.check)
			gen = h.gen;
		else
			log_warnx("queue-fs: journal: head unreadable, nothing "
			    "replayed");
	}
	if (gen != 0) {
		if (queue_fs_journal_replay(j, gen, (uint64_t)st.st_size, &nrec,
		    &nrestored) == -1) {
			r = QUEUE_TEMPFAIL;
			goto fail;
		}
		if (nrec > 0)
			log_info("queue-fs: journal: %zu messages replayed, "
			    "%zu restored", nrec, nrestored);
		if (nrestored > 0 && syncfs(rootfd) == -1) {
			r = queue_fs_journal_fail("replay: syncfs");
			goto fail;
		}
	}
	if ((r = queue_fs_journal_head(j, gen + 1)) != QUEUE_OK)
		goto fail;
	if (st.st_size == 0 && fsync(rootfd) == -1) {
		r = queue_fs_journal_fail("sync spool root");
		goto fail;
	}
	j->gen = gen + 1;
	j->off = QUEUE_FS_JHEAD_SIZE;
	j->size = (uint64_t)st.st_size < sizeof h ? sizeof h :
	    (uint64_t)st.st_size;
	if (!queue_fs_journal_on)
		queue_fs_journal_close(j);	/* replayed: commits go classic */
	else
		*jp = j;
	return QUEUE_OK;
fail:
	if (j->fd != -1)
		close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j);
	return r;
}

/* queue_fs_journal_close - a last checkpoint (a clean stop replays
 * nothing), then release */
void
queue_fs_journal_close(struct queue_fs_journal *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	if (queue_fs_journal_checkpoint(j) != QUEUE_OK)
		log_warnx("queue-fs: journal: left to replay at next start");
	pthread_mutex_unlock(&j->mu);
	close(j->fd);
	pthread_mutex_destroy(&j->mu);
	free(j->live);
	free(j->batch);
	free(j->buf);
	free(j);
}

/*
 * queue_fs_journal_begin - a batch: the lock taken (held until end), a
 * checkpoint first when one is due or the last sync failed.  QUEUE_OK,
 * or a failure (lock released).
 */
int
queue_fs_journal_begin(struct queue_fs_journal *j)
{
	int	r = QUEUE_OK;

	pthread_mutex_lock(&j->mu);
	j->nbatch = 0;
	if (j->broken || j->alllive || j->off > QUEUE_FS_JOURNAL_MAX ||
	    j->nlive >= QUEUE_FS_JOURNAL_LIVE_MAX)
		r = queue_fs_journal_checkpoint(j);
	if (r != QUEUE_OK)
		pthread_mutex_unlock(&j->mu);
	return r;
}

/* queue_fs_jread_all - LEN bytes of FD from offset 0 into P; -1 */
static int
queue_fs_jread_all(int fd, unsigned char *p, size_t len)
{
	int	r;

	if ((r = queue_fs_jpread(fd, p, len, 0)) == 1)
		errno = EIO;	/* shorter than it was */
	return r == 0 ? 0 : -1;
}

/* queue_fs_jrec_init - R: the head of a record (TAG) of MSGID with NENV
 * items and LEN bytes after it, in the current generation */
static void
queue_fs_jrec_init(struct queue_fs_journal *j, struct queue_fs_jrec *r,
    const char *tag, uint32_t msgid, size_t nenv, uint64_t len)
{
	char	hex[9];

	memset(r, 0, sizeof *r);
	memcpy(r->tag, tag, sizeof r->tag);
	(void)snprintf(hex, sizeof hex, "%08" PRIx32, msgid);
	memcpy(r->msgid, hex, sizeof r->msgid);
	r->nenv = (uint32_t)nenv;
	r->gen = j->gen;
	r->len = len;
}

/*
 * queue_fs_jgrow - the file made to reach past END with zeros, a
 * QUEUE_FS_JGROW at a time.  A record written over blocks the file
 * already has leaves its size and blocks alone, so its fdatasync writes
 * the data alone; one that extends the file also writes the inode (on
 * this project's test machine 170 against 140 us a flush).  The zeros
 * are no record (a tag never reads 0), so replay stops at them.  Not a
 * fallible call: a failure leaves the record's own write to extend.
 */
static void
queue_fs_jgrow(struct queue_fs_journal *j, uint64_t end)
{
	static const unsigned char	zero[16384];
	uint64_t			to;
	ssize_t				n;

	if (end <= j->size)
		return;
	to = (end + QUEUE_FS_JGROW) / QUEUE_FS_JGROW * QUEUE_FS_JGROW;
	while (j->size < to) {
		n = pwrite(j->fd, zero, to - j->size < sizeof zero ?
		    (size_t)(to - j->size) : sizeof zero, (off_t)j->size);
		if (n <= 0)
			return;
		j->size += (uint64_t)n;
	}
}

/* queue_fs_jrec_append - R, hashed with the LEN bytes after it in the
 * buffer, put before them and the whole appended; -1 (logged) */
static int
queue_fs_jrec_append(struct queue_fs_journal *j, struct queue_fs_jrec *r,
    size_t len)
{
	queue_fs_jgrow(j, j->off + sizeof *r + len);
	r->check = queue_fs_hash(r, sizeof *r, j->buf + sizeof *r, len);
	memcpy(j->buf, r, sizeof *r);
	if (queue_fs_jpwrite(j->fd, j->buf, sizeof *r + len, j->off) == -1)
		return -1;
	j->off += sizeof *r + len;
	if (j->off > j->size)
		j->size = j->off;
	return 0;
}

/*
 * queue_fs_journal_add - MSGID's record (its body from BODYFD and its
 * NENV envelopes, each read whole from offset 0) appended, not yet
 * durable.  QUEUE_OK or a failure (nothing appended).
 */
int
queue_fs_journal_add(struct queue_fs_journal *j, uint32_t msgid, int bodyfd,
    const struct queue_fs_jenv *envs, size_t nenv)
{
	struct queue_fs_jrec	 r;
	struct stat		 st;
	uint64_t		 len, elen, evpid, bodylen;
	size_t			 i, off;
	uint32_t		*nb;

	if (fstat(bodyfd, &st) == -1)
		return queue_fs_journal_fail("stat body");
	len = bodylen = (uint64_t)st.st_size;
	for (i = 0; i < nenv; i++) {
		if (fstat(envs[i].fd, &st) == -1)
			return queue_fs_journal_fail("stat envelope");
		len += 16 + (uint64_t)st.st_size;
	}
	if (len > QUEUE_FS_JREC_MAX || nenv > UINT32_MAX) {
		errno = EFBIG;
		return queue_fs_journal_fail("record");
	}
	if (j->nbatch == j->capbatch) {
		if ((nb = reallocarray(j->batch, j->capbatch ? j->capbatch * 2 :
		    64, sizeof *nb)) == NULL)
			return queue_fs_journal_fail("batch");
		j->batch = nb;
		j->capbatch = j->capbatch ? j->capbatch * 2 : 64;
	}
	if (queue_fs_jreserve(j, sizeof r + (size_t)len) == -1)
		return queue_fs_journal_fail("record");
	queue_fs_jrec_init(j, &r, queue_fs_jrec_tag, msgid, nenv, len);
	r.bodylen = bodylen;
	off = sizeof r;
	if (queue_fs_jread_all(bodyfd, j->buf + off, (size_t)r.bodylen) ==
	    -1)
		return queue_fs_journal_fail("read body");
	off += (size_t)r.bodylen;
	for (i = 0; i < nenv; i++) {
		if (fstat(envs[i].fd, &st) == -1)
			return queue_fs_journal_fail("stat envelope");
		evpid = envs[i].evpid;
		elen = (uint64_t)st.st_size;
		if (off + 16 + elen > sizeof r + len) {
			errno = EAGAIN;	/* it grew under us */
			return queue_fs_journal_fail("read envelope");
		}
		memcpy(j->buf + off, &evpid, sizeof evpid);
		memcpy(j->buf + off + 8, &elen, sizeof elen);
		off += 16;
		if (queue_fs_jread_all(envs[i].fd, j->buf + off, (size_t)elen) ==
		    -1)
			return queue_fs_journal_fail("read envelope");
		off += (size_t)elen;
	}
	if (off != sizeof r + len) {
		errno = EAGAIN;		/* it changed under us */
		return queue_fs_journal_fail("record");
	}
	if (queue_fs_jrec_append(j, &r, (size_t)len) == -1)
		return queue_fs_journal_fail("append");
	j->batch[j->nbatch++] = msgid;
	return QUEUE_OK;
}

/* queue_fs_journal_sync - the records added made durable: QUEUE_OK, or
 * a failure (the journal is broken until a checkpoint) */
int
queue_fs_journal_sync(struct queue_fs_journal *j)
{
	if (queue_fs_fault_sync() == -1 || fdatasync(j->fd) == -1) {
		j->broken = 1;
		return queue_fs_journal_fail("sync");
	}
	return QUEUE_OK;
}

/* queue_fs_journal_end - the batch done: its messages live if DURABLE;
 * after a failed sync a checkpoint retires what it may have left */
void
queue_fs_journal_end(struct queue_fs_journal *j, int durable)
{
	size_t	i;

	if (durable)
		for (i = 0; i < j->nbatch; i++)
			queue_fs_live_add(j, j->batch[i]);
	j->nbatch = 0;
	if (j->broken)
		(void)queue_fs_journal_checkpoint(j);
	pthread_mutex_unlock(&j->mu);
}

/* queue_fs_journal_append_del - (lock held) a delete record of MSGID's
 * N envelopes EVPIDS (0: the whole message) appended */
static int
queue_fs_journal_append_del(struct queue_fs_journal *j, uint32_t msgid,
    const uint64_t *evpids, size_t n)
{
	struct queue_fs_jrec	r;
	size_t			len = n * sizeof *evpids;

	if (queue_fs_jreserve(j, sizeof r + len) == -1)
		return queue_fs_journal_fail("delete record");
	queue_fs_jrec_init(j, &r, queue_fs_jdel_tag, msgid, n, len);
	if (len > 0)
		memcpy(j->buf + sizeof r, evpids, len);
	if (queue_fs_jrec_append(j, &r, len) == -1)
		return queue_fs_journal_fail("append delete");
	return QUEUE_OK;
}

/*
 * queue_fs_journal_delete - before deleting the N envelopes EVPIDS (N
 * 0: the whole message MSGID): for each message among them with a
 * record in the current generation, a delete record, all made durable
 * with one flush, so that no replay brings them back.  QUEUE_OK, or a
 * failure: do not delete.
 */
int
queue_fs_journal_delete(struct queue_fs_journal *j, uint32_t msgid,
    const uint64_t *evpids, size_t n)
{
	uint64_t	*sorted = NULL;
	size_t		 i, k;
	int		 r = QUEUE_OK, any = 0;

	if (j == NULL)
		return QUEUE_OK;
	if (n > 0) {
		if ((sorted = reallocarray(NULL, n, sizeof *sorted)) == NULL)
			return queue_fs_journal_fail("delete");
		memcpy(sorted, evpids, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, queue_fs_jcmp64);
	}
	pthread_mutex_lock(&j->mu);
	if (j->broken)
		r = queue_fs_journal_checkpoint(j);
	if (r == QUEUE_OK && n == 0 && queue_fs_live_has(j, msgid)) {
		r = queue_fs_journal_append_del(j, msgid, NULL, 0);
		any = 1;
	}
	/* one record per message: runs of one msgid in the sorted copy */
	for (i = 0; r == QUEUE_OK && i < n; i = k) {
		for (k = i + 1; k < n && (sorted[k] >> 32) == (sorted[i] >> 32);
		    k++)
			;
		if (!queue_fs_live_has(j, (uint32_t)(sorted[i] >> 32)))
			continue;
		r = queue_fs_journal_append_del(j, (uint32_t)(sorted[i] >> 32),
		    &sorted[i], k - i);
		any = 1;
	}
	if (r == QUEUE_OK && any)
		r = queue_fs_journal_sync(j);
	if (j->broken)
		(void)queue_fs_journal_checkpoint(j);
	pthread_mutex_unlock(&j->mu);
	free(sorted);
	return r;
}

/*
 * queue_fs_journal_settle - before a change to any of the N MSGIDS: a
 * checkpoint if one has a record in the current generation (so that no
 * replay undoes the change).  QUEUE_OK, or a failure: do not change.
 */
int
queue_fs_journal_settle(struct queue_fs_journal *j, const uint32_t *msgids,
    size_t n)
{
	size_t	i;
	int	r = QUEUE_OK;

	if (j == NULL)
		return QUEUE_OK;
	pthread_mutex_lock(&j->mu);
	for (i = 0; i < n; i++)
		if (queue_fs_live_has(j, msgids[i])) {
			r = queue_fs_journal_checkpoint(j);
			break;
		}
	pthread_mutex_unlock(&j->mu);
	return r;
}
