/*
 * queue_journal_test.c -- the fs queue backend's commit journal
 * (smtpd/queue/queue_fs_journal.c; QUEUE-03, QUEUE-04, QUEUE-05).
 *
 * A crash is a child process that opens the spool, commits (and maybe
 * changes) messages and dies with _exit, never closing the spool: its
 * journal is not retired.  What its page cache had not written yet is
 * played by hand on the tree it leaves (a message directory removed, a
 * body emptied, an envelope missing, a rename into queue/ undone, the
 * journal's tail torn); then the spool is opened again, and must hold
 * every message whose commit said OK exactly as committed, none that a
 * later change removed, and each later change.  Also: a failed flush of
 * the journal fails its batch and nothing of it comes back; a body over
 * the journal's limit is committed the classic way; a clean close
 * leaves nothing to replay; the journal is retired when it fills.
 * Every tree lives in a fresh directory under TMPDIR.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "queue_backend.h"
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	 test_env;

#define TEST_NMSG	4
#define TEST_NENV	2
#define TEST_BIG	(300u << 10)	/* over QUEUE_FS_JOURNAL_BODY_MAX */

static const struct queue_backend *const fsb = &queue_backend_fs;
static char	test_root[PATH_MAX];

struct test_msg {
	uint32_t	msgid;
	uint64_t	evpid[TEST_NENV];
};

/* test_fresh - an empty spool directory */
static int
test_fresh(void)
{
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	snprintf(test_root, sizeof test_root, "%s/queuejournal.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(test_root) == NULL ? -1 : 0;
}

/* the body and envelope bytes of message number N */
static void
test_body(char *buf, size_t bufsz, int n)
{
	snprintf(buf, bufsz, "Subject: journal test %d\r\n\r\nBody %d.\r\n",
	    n, n);
}

static void
test_env_text(char *buf, size_t bufsz, int n, int k)
{
	snprintf(buf, bufsz, "version: 3\nrcpt: r%d-%d@example.com\n", n, k);
}

/* test_make - message N received (body, TEST_NENV envelopes), not yet
 * committed; BIG: a body of TEST_BIG bytes.  0 or -1 */
static int
test_make(void *ctx, int n, int big, struct test_msg *m)
{
	char	buf[256];
	char	*p;
	int	fd, k, ok;

	memset(m, 0, sizeof *m);
	if (fsb->message_create(ctx, &m->msgid) != QUEUE_OK)
		return -1;
	for (k = 0; k < TEST_NENV; k++) {
		test_env_text(buf, sizeof buf, n, k);
		if (fsb->envelope_create(ctx, m->msgid, buf, strlen(buf),
		    &m->evpid[k]) != QUEUE_OK)
			return -1;
	}
	if (fsb->message_fd_w(ctx, m->msgid, &fd) != QUEUE_OK)
		return -1;
	if (big) {
		if ((p = malloc(TEST_BIG)) == NULL) {
			close(fd);
			return -1;
		}
		memset(p, 'x', TEST_BIG);
		ok = write(fd, p, TEST_BIG) == (ssize_t)TEST_BIG;
		free(p);
	} else {
		test_body(buf, sizeof buf, n);
		ok = write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf);
	}
	close(fd);
	return ok ? 0 : -1;
}

/* test_path - the path of a committed message's file under the root
 * (NAME "message", an evpid's hex, or "" for the directory) */
static const char *
test_path(uint32_t msgid, const char *name)
{
	static char	path[PATH_MAX + 64];

	snprintf(path, sizeof path, "%s/queue/%02x/%08" PRIx32 "%s%s",
	    test_root, (unsigned int)(msgid >> 24), msgid, *name ? "/" : "",
	    name);
	return path;
}

static const char *
test_evpath(uint64_t evpid)
{
	char	name[17];

	snprintf(name, sizeof name, "%016" PRIx64, evpid);
	return test_path((uint32_t)(evpid >> 32), name);
}

/* test_holds - does the file at PATH hold exactly WANT? */
static int
test_holds(const char *path, const char *want)
{
	char	buf[512];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n >= 0 && (size_t)n == strlen(want) &&
	    memcmp(buf, want, (size_t)n) == 0;
}

/* test_whole - is message N committed exactly as made (its body and
 * every envelope, through the backend and on disk)? */
static int
test_whole(void *ctx, int n, const struct test_msg *m)
{
	char	want[256], buf[512];
	size_t	len;
	int	k, fd;

	test_body(want, sizeof want, n);
	if (!test_holds(test_path(m->msgid, "message"), want))
		return 0;
	if (fsb->message_fd_r(ctx, m->msgid, &fd) != QUEUE_OK)
		return 0;
	close(fd);
	for (k = 0; k < TEST_NENV; k++) {
		test_env_text(want, sizeof want, n, k);
		if (fsb->envelope_load(ctx, m->evpid[k], buf, sizeof buf,
		    &len) != QUEUE_OK || len != strlen(want) ||
		    memcmp(buf, want, len) != 0)
			return 0;
	}
	return 1;
}

/* test_gone - is nothing left of MSGID in queue/? */
static int
test_gone(uint32_t msgid)
{
	struct stat	st;

	return stat(test_path(msgid, ""), &st) == -1 && errno == ENOENT;
}

/*
 * test_crash - a child opens the spool, makes and commits TEST_NMSG
 * messages in one batch (message 0 with a big body when BIG), runs
 * STEP on them (if any) and dies without closing; M gets the messages
 * (through a pipe).  0, or -1 if anything in the child failed.
 */
static int
test_crash(struct test_msg *m, int big,
    int (*step)(void *, struct test_msg *))
{
	uint32_t	msgids[TEST_NMSG];
	int		results[TEST_NMSG], p[2], status, i;
	pid_t		pid;
	void		*ctx;
	ssize_t		n;

	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(p[0]);
		if ((ctx = fsb->open(test_root)) == NULL)
			_exit(2);
		for (i = 0; i < TEST_NMSG; i++)
			if (test_make(ctx, i, big && i == 0, &m[i]) == -1)
				_exit(3);
		for (i = 0; i < TEST_NMSG; i++)
			msgids[i] = m[i].msgid;
		if (fsb->message_commit_batch(ctx, TEST_NMSG, msgids, NULL,
		    results) != QUEUE_OK)
			_exit(4);
		if (step != NULL && step(ctx, m) == -1)
			_exit(5);
		if (write(p[1], m, sizeof *m * TEST_NMSG) !=
		    (ssize_t)(sizeof *m * TEST_NMSG))
			_exit(6);
		_exit(0);	/* a crash: the spool is not closed */
	}
	close(p[1]);
	n = read(p[0], m, sizeof *m * TEST_NMSG);
	close(p[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || n != (ssize_t)(sizeof *m * TEST_NMSG))
		return -1;
	return 0;
}

/* test_reopen - the spool opened again, recovered; its context */
static void *
test_reopen(void)
{
	struct queue_recovery	rec;
	void			*ctx;

	if ((ctx = fsb->open(test_root)) == NULL)
		return NULL;
	memset(&rec, 0, sizeof rec);
	if (fsb->recover(ctx, &rec) != QUEUE_OK) {
		fsb->close(ctx);
		return NULL;
	}
	return ctx;
}

/* test_lost - what a crash may lose of a page cache, played by hand:
 * message 0's directory, message 1's body emptied and an envelope
 * gone, message 2's rename into queue/ undone, message 3 untouched */
static int
test_lost(const struct test_msg *m)
{
	char	inc[PATH_MAX + 64];
	int	fd;

	test_rm_tree(test_path(m[0].msgid, ""));
	if ((fd = open(test_path(m[1].msgid, "message"), O_WRONLY |
	    O_TRUNC)) == -1)
		return -1;
	close(fd);
	if (unlink(test_evpath(m[1].evpid[1])) == -1)
		return -1;
	snprintf(inc, sizeof inc, "%s/incoming/%08" PRIx32, test_root,
	    m[2].msgid);
	return rename(test_path(m[2].msgid, ""), inc);
}

/* test_replay - every committed message comes back whole after a crash
 * that lost parts of the tree */
static void
test_replay(void)
{
	struct test_msg	m[TEST_NMSG];
	void		*ctx;
	char		inc[PATH_MAX + 64];
	struct stat	st;
	int		i, whole = 0;

	if (test_fresh() == -1 || test_crash(m, 0, NULL) == -1) {
		CHECK(0, "replay: set-up");
		return;
	}
	CHECK(test_lost(m) == 0, "replay: parts of the tree lost by hand");
	if ((ctx = test_reopen()) == NULL) {
		CHECK(0, "replay: the spool opens again");
		return;
	}
	for (i = 0; i < TEST_NMSG; i++)
		whole += test_whole(ctx, i, &m[i]);
	CHECK(whole == TEST_NMSG, "replay: every committed message whole "
	    "again (directory lost, body emptied, envelope lost, rename "
	    "undone, untouched)");
	snprintf(inc, sizeof inc, "%s/incoming/%08" PRIx32, test_root,
	    m[2].msgid);
	CHECK(stat(inc, &st) == -1 && errno == ENOENT,
	    "replay: the copy left in incoming/ is discarded");
	fsb->close(ctx);
	/* a clean close retired the journal: a loss now is not undone */
	test_rm_tree(test_path(m[3].msgid, ""));
	if ((ctx = test_reopen()) == NULL) {
		CHECK(0, "replay: the spool opens a third time");
		return;
	}
	CHECK(test_gone(m[3].msgid) && test_whole(ctx, 0, &m[0]),
	    "replay: after a clean close the journal replays nothing");
	fsb->close(ctx);
}

/* steps run in the crashing child after its commit */
static int
test_step_delete(void *ctx, struct test_msg *m)
{
	int	k;

	uint64_t	two[2];
	int		results[2];

	/* message 0 delivered (each envelope), message 1 removed,
	 * message 2's first recipient delivered (in a batch with one
	 * of message 3, whose delete fails: no such envelope) */
	for (k = 0; k < TEST_NENV; k++)
		if (fsb->envelope_delete(ctx, m[0].evpid[k]) != QUEUE_OK)
			return -1;
	if (fsb->message_delete(ctx, m[1].msgid) != QUEUE_OK)
		return -1;
	two[0] = m[2].evpid[0];
	two[1] = m[3].evpid[0] ^ 1;
	(void)fsb->envelope_delete_batch(ctx, 2, two, results);
	return results[0] == QUEUE_OK && results[1] == QUEUE_NOTFOUND ? 0 :
	    -1;
}

static int
test_step_update(void *ctx, struct test_msg *m)
{
	static const char	upd[] = "version: 3\nrcpt: updated@example.com\n";

	return fsb->envelope_update(ctx, m[0].evpid[0], upd, sizeof upd - 1)
	    == QUEUE_OK ? 0 : -1;
}

/* test_later - changes made after a commit are never undone by its
 * record: deleted messages stay deleted, an update stays */
static void
test_later(void)
{
	struct test_msg	m[TEST_NMSG];
	char		buf[512];
	size_t		len;
	void		*ctx;
	int		i;

	if (test_fresh() == -1 || test_crash(m, 0, test_step_delete) == -1) {
		CHECK(0, "later: set-up (deletes)");
		return;
	}
	if ((ctx = test_reopen()) == NULL) {
		CHECK(0, "later: the spool opens again (deletes)");
		return;
	}
	CHECK(test_gone(m[0].msgid) && test_gone(m[1].msgid) &&
	    test_whole(ctx, 3, &m[3]),
	    "later: a delivered and a removed message do not come back, "
	    "the others are whole");
	CHECK(access(test_evpath(m[2].evpid[0]), F_OK) == -1 &&
	    access(test_evpath(m[2].evpid[1]), F_OK) == 0,
	    "later: a delivered recipient does not come back, the other "
	    "does");
	fsb->close(ctx);
	/* the same with everything of those messages lost by the crash */
	if (test_fresh() == -1 || test_crash(m, 0, test_step_delete) == -1) {
		CHECK(0, "later: set-up (deletes, losses)");
		return;
	}
	for (i = 0; i < TEST_NMSG; i++)
		test_rm_tree(test_path(m[i].msgid, ""));
	if ((ctx = test_reopen()) == NULL) {
		CHECK(0, "later: the spool opens again (deletes, losses)");
		return;
	}
	CHECK(test_gone(m[0].msgid) && test_gone(m[1].msgid) &&
	    test_whole(ctx, 3, &m[3]) &&
	    access(test_evpath(m[2].evpid[0]), F_OK) == -1 &&
	    access(test_evpath(m[2].evpid[1]), F_OK) == 0 &&
	    test_holds(test_path(m[2].msgid, "message"), "Subject: journal "
	    "test 2\r\n\r\nBody 2.\r\n"),
	    "later: everything lost: the replay restores what was not "
	    "deleted, and only that");
	fsb->close(ctx);
	if (test_fresh() == -1 || test_crash(m, 0, test_step_update) == -1) {
		CHECK(0, "later: set-up (update)");
		return;
	}
	if ((ctx = test_reopen()) == NULL) {
		CHECK(0, "later: the spool opens again (update)");
		return;
	}
	CHECK(fsb->envelope_load(ctx, m[0].evpid[0], buf, sizeof buf, &len) ==
	    QUEUE_OK && len == strlen("version: 3\nrcpt: updated@example.com"
	    "\n") && memcmp(buf, "version: 3\nrcpt: updated", 24) == 0,
	    "later: an envelope updated after the commit keeps its update");
	fsb->close(ctx);
}

/* test_tear - the last 10 non-zero bytes of the file at PATH (SIZE
 * long) zeroed; -1 if it has none */
static int
test_tear(const char *path, off_t size)
{
	static const char	zero[10];
	unsigned char		*p;
	off_t			 end;
	int			 fd, r = -1;

	if (size <= 0 || (p = malloc((size_t)size)) == NULL)
		return -1;
	if ((fd = open(path, O_RDWR)) == -1) {
		free(p);
		return -1;
	}
	if (pread(fd, p, (size_t)size, 0) == size) {
		for (end = size; end > 0 && p[end - 1] == 0; end--)
			;
		if (end > 10 + 512 && pwrite(fd, zero, sizeof zero,
		    end - (off_t)sizeof zero) == (ssize_t)sizeof zero)
			r = 0;
	}
	close(fd);
	free(p);
	return r;
}

/* test_torn - a journal cut inside its last record: the messages
 * before it come back, the cut one does not, the spool opens */
static void
test_torn(void)
{
	struct test_msg	m[TEST_NMSG];
	char		path[PATH_MAX + 16];
	struct stat	st;
	void		*ctx;
	int		i, whole = 0, gone = 0;

	if (test_fresh() == -1 || test_crash(m, 0, NULL) == -1) {
		CHECK(0, "torn: set-up");
		return;
	}
	/* the file runs on in zeros past its last record (grown ahead):
	 * the last 10 bytes of that record are zeroed, as a write the
	 * crash tore leaves them */
	snprintf(path, sizeof path, "%s/journal", test_root);
	CHECK(stat(path, &st) == 0 && st.st_size >= 256 << 10 &&
	    st.st_size % (256 << 10) == 0, "torn: the journal grows ahead of "
	    "its records in zeros, 256 KiB at a time");
	if (stat(path, &st) == -1 || test_tear(path, st.st_size) == -1) {
		CHECK(0, "torn: the journal cut");
		return;
	}
	for (i = 0; i < TEST_NMSG; i++)
		test_rm_tree(test_path(m[i].msgid, ""));
	if ((ctx = test_reopen()) == NULL) {
		CHECK(0, "torn: the spool opens with a torn journal");
		return;
	}
	for (i = 0; i < TEST_NMSG - 1; i++)
		whole += test_whole(ctx, i, &m[i]);
	gone = test_gone(m[TEST_NMSG - 1].msgid);
	CHECK(whole == TEST_NMSG - 1 && gone, "torn: the records before the "
	    "cut replayed, the cut one not");
	fsb->close(ctx);
}

/* test_batch - TEST_NMSG messages numbered from FIRST made (the first
 * with a big body when BIG) and committed in one batch, RESULTS theirs;
 * the batch's return, or 2 if they could not be made */
static int
test_batch(void *ctx, int first, int big, struct test_msg *m, int *results)
{
	uint32_t	msgids[TEST_NMSG];
	int		i;

	for (i = 0; i < TEST_NMSG; i++) {
		if (test_make(ctx, first + i, big && i == 0, &m[i]) == -1)
			return 2;
		msgids[i] = m[i].msgid;
	}
	return fsb->message_commit_batch(ctx, TEST_NMSG, msgids, NULL,
	    results);
}

/* test_failed_sync - the journal's flush fails: no result OK, nothing
 * committed, nothing back after a crash; the next batch commits */
static void
test_failed_sync(void)
{
	struct test_msg	m[TEST_NMSG];
	int		results[TEST_NMSG], i, ok = 0, r;
	unsigned int	calls;
	void		*ctx;

	if (test_fresh() == -1 || (ctx = fsb->open(test_root)) == NULL) {
		CHECK(0, "failed sync: set-up");
		return;
	}
	/* a clean batch: the last of its calls is the flush (counted
	 * from the commit on: the messages are made first) */
	queue_fs_inject_fault(0, 0);
	r = test_batch(ctx, 0, 0, m, results);
	calls = queue_fs_count_calls();
	CHECK(r == QUEUE_OK && queue_fs_count_fsyncs() == 1,
	    "failed sync: a clean batch is one flush");
	queue_fs_inject_fault(calls, EIO);
	r = test_batch(ctx, 0, 0, m, results);
	queue_fs_inject_fault(0, 0);
	for (i = 0; i < TEST_NMSG; i++)
		ok += results[i] == QUEUE_TEMPFAIL && test_gone(m[i].msgid);
	CHECK(r != QUEUE_OK && ok == TEST_NMSG, "failed sync: every result "
	    "a tempfail, nothing in queue/");
	/* the journal was retired after the failure: a batch commits */
	r = test_batch(ctx, 10, 0, m, results);
	for (i = 0, ok = 0; i < TEST_NMSG; i++)
		ok += test_whole(ctx, 10 + i, &m[i]);
	CHECK(r == QUEUE_OK && ok == TEST_NMSG, "failed sync: the next batch "
	    "commits");
	fsb->close(ctx);
}

/* test_big - a body over the journal's limit: its batch is committed
 * the classic way (fsyncs of body, envelopes, directories) */
static void
test_big(void)
{
	struct test_msg	m[TEST_NMSG];
	int		results[TEST_NMSG], r;
	struct stat	st;
	void		*ctx;

	if (test_fresh() == -1 || (ctx = fsb->open(test_root)) == NULL) {
		CHECK(0, "big: set-up");
		return;
	}
	queue_fs_inject_fault(0, 0);
	r = test_batch(ctx, 0, 1, m, results);
	CHECK(r == QUEUE_OK && queue_fs_count_fsyncs() > TEST_NMSG * 3 &&
	    stat(test_path(m[0].msgid, "message"), &st) == 0 &&
	    st.st_size == (off_t)TEST_BIG && test_whole(ctx, 1, &m[1]),
	    "big: a batch with a large body is committed the classic way");
	fsb->close(ctx);
}

/* test_full - a journal past its size is retired before the next batch
 * (about 17 MiB of bodies in batches of 4) */
static void
test_full(void)
{
	struct test_msg	m;
	uint32_t	msgid;
	unsigned int	before;
	char		*p;
	int		i, fd, r, ok = 0, result;
	void		*ctx;
	size_t		sz = 250u << 10;

	if (test_fresh() == -1 || (ctx = fsb->open(test_root)) == NULL ||
	    (p = malloc(sz)) == NULL) {
		CHECK(0, "full: set-up");
		return;
	}
	memset(p, 'y', sz);
	before = queue_fs_count_checkpoints();
	for (i = 0; i < 70; i++) {
		if (fsb->message_create(ctx, &msgid) != QUEUE_OK ||
		    fsb->envelope_create(ctx, msgid, "e\n", 2, &m.evpid[0]) !=
		    QUEUE_OK || fsb->message_fd_w(ctx, msgid, &fd) != QUEUE_OK)
			break;
		r = write(fd, p, sz) == (ssize_t)sz;
		close(fd);
		if (!r)
			break;
		ok += fsb->message_commit_batch(ctx, 1, &msgid, NULL,
		    &result) == QUEUE_OK;
	}
	free(p);
	CHECK(ok == 70 && queue_fs_count_checkpoints() > before,
	    "full: 70 commits of 250 KiB, the journal retired on the way");
	fsb->close(ctx);
}

/* test_off - a spool whose commits go the classic way (journal off)
 * still replays a journal left by a crash */
static void
test_off(void)
{
	struct test_msg	m[TEST_NMSG];
	int		results[TEST_NMSG], r;
	void		*ctx;

	if (test_fresh() == -1 || test_crash(m, 0, NULL) == -1) {
		CHECK(0, "off: set-up");
		return;
	}
	test_rm_tree(test_path(m[0].msgid, ""));
	queue_fs_set_journal(0);
	if ((ctx = test_reopen()) == NULL) {
		queue_fs_set_journal(1);
		CHECK(0, "off: the spool opens again");
		return;
	}
	CHECK(test_whole(ctx, 0, &m[0]), "off: journal off, the journal left "
	    "by a crash is replayed all the same");
	queue_fs_inject_fault(0, 0);
	r = test_batch(ctx, 20, 0, m, results);
	CHECK(r == QUEUE_OK && queue_fs_count_fsyncs() > 1 &&
	    test_whole(ctx, 20, &m[0]), "off: then commits go the classic "
	    "way");
	fsb->close(ctx);
	queue_fs_set_journal(1);
}

int
main(void)
{
	env = &test_env;
	log_init(1, 0);
	queue_fs_set_journal(1);
	test_replay();
	test_later();
	test_torn();
	test_failed_sync();
	test_big();
	test_full();
	test_off();
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	return test_done();
}
