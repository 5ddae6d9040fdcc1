/*
 * queue_commit_test.c -- group commit of the queue's storage
 * (queue_commit_messages, the fs backend's message_commit_batch).
 *
 * A batch must commit each message exactly as a commit of its own
 * would: every message is either wholly committed or not at all, its
 * result says which, and no result is QUEUE_OK unless the fsyncs that
 * make it durable returned.  Checked with a fault injected at every
 * fallible call of a batch in turn (queue_fs_inject_fault), for a batch
 * in one existing bucket and one that makes new buckets; plus a batch
 * with bad members, and the fsyncs a batch saves.  Each case runs in a
 * fresh spool in a temporary directory, once with the classic commit
 * and once through the commit journal (queue_fs_journal.c).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "log.h"
#include "queue_backend.h"
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	 test_env;
static char		 test_root[PATH_MAX];

#define TEST_BATCH	4

static uint32_t	test_seq;
static int	test_spread;	/* msgids in distinct buckets */
static int	test_journal;	/* spools commit through the journal */
static const char *test_mode = "";	/* "journal: " then */

/* test_ids - deterministic ids: one bucket, or one bucket per message */
static uint32_t
test_ids(void)
{
	test_seq++;
	if (test_spread)
		return ((test_seq & 0xff) << 24) | test_seq;
	return 0x2a000000u | test_seq;
}

/* test_fresh - an empty spool, the fs backend on it, ids restarted */
static int
test_fresh(void)
{
	queue_backend_close();
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	snprintf(test_root, sizeof test_root, "%s/queuecommit.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(test_root) == NULL)
		return -1;
	test_seq = 0;
	queue_fs_set_journal(test_journal);
	return queue_backend_init("fs", test_root);
}

/* test_message - a received message with NEVP envelopes and a body */
static uint32_t
test_message(int nevp)
{
	struct envelope	*evp;
	char		 text[1024], err[256];
	uint32_t	 msgid;
	int		 i, n, fd;

	if ((evp = envelope_new()) == NULL ||
	    queue_create_message(&msgid) != QUEUE_OK)
		return 0;
	for (i = 0; i < nevp; i++) {
		n = snprintf(text, sizeof text,
		    "version: 3\ndispatcher: local\ntype: mda\n"
		    "smtpname: mx.example.org\nhelo: client.example\n"
		    "hostname: localhost\nsockaddr: 127.0.0.1\n"
		    "sender: alice@client.example\nrcpt: r%d@example.com\n"
		    "dest: r%d@example.com\nctime: 1795302356\n"
		    "last-try: 0\nlast-bounce: 0\nttl: 345600\nretry: 0\n"
		    "dsn-notify: 0\nmda-user: vmail\n", i, i);
		if (envelope_load(evp, text, (size_t)n, err, sizeof err) ==
		    -1 || queue_create_envelope(msgid, evp) != QUEUE_OK)
			msgid = 0;
	}
	envelope_free(&evp);
	if (msgid == 0 || queue_open_message_write(msgid, &fd) != QUEUE_OK)
		return 0;
	if (write(fd, "hello\r\n", 7) != 7)
		msgid = 0;
	close(fd);
	return msgid;
}

/* test_committed - is MSGID committed (its body readable)? */
static int
test_committed(uint32_t msgid)
{
	int	fd;

	if (queue_open_message_read(msgid, &fd) != QUEUE_OK)
		return 0;
	close(fd);
	return 1;
}

/* test_batch - a fresh spool, N messages, their batch commit with a
 * fault at call NTH (0: none); the calls made, or -1 on a set-up error */
static int
test_batch(unsigned int nth, uint32_t *msgids, int *results, int *r)
{
	size_t	i;
	int	ret;

	if (test_fresh() == -1)
		return -1;
	for (i = 0; i < TEST_BATCH; i++)
		if ((msgids[i] = test_message(2)) == 0)
			return -1;
	queue_fs_inject_fault(nth, EIO);
	*r = queue_commit_messages(TEST_BATCH, msgids, NULL, results);
	ret = (int)queue_fs_count_calls();
	queue_fs_inject_fault(0, 0);
	return ret;
}

/* test_faults - a fault at every call of a batch in turn */
static void
test_faults(int spread)
{
	uint32_t	msgids[TEST_BATCH];
	int		results[TEST_BATCH], r, calls, n, bad = 0, failed;
	int		wrong = 0, quiet = 0;
	size_t		i;
	char		what[128];

	test_spread = spread;
	calls = test_batch(0, msgids, results, &r);
	for (i = 0, n = 0; i < TEST_BATCH; i++)
		n += results[i] == QUEUE_OK && test_committed(msgids[i]);
	snprintf(what, sizeof what, "%s%s: a clean batch commits all %d "
	    "(%d calls)", test_mode, spread ? "new buckets" : "one bucket",
	    TEST_BATCH, calls);
	CHECK(calls > 0 && r == QUEUE_OK && n == TEST_BATCH, what);
	for (int nth = 1; nth <= calls; nth++) {
		if (test_batch((unsigned int)nth, msgids, results, &r) == -1) {
			bad++;
			continue;
		}
		for (i = 0, failed = 0; i < TEST_BATCH; i++) {
			failed += results[i] != QUEUE_OK;
			/* a result says exactly what happened */
			if ((results[i] == QUEUE_OK) !=
			    test_committed(msgids[i]))
				wrong++;
		}
		/* a fault must show: in a result and in the return */
		if (failed == 0 || r == QUEUE_OK)
			quiet++;
	}
	snprintf(what, sizeof what, "%s%s: a fault at each of %d calls: "
	    "results match the spool", test_mode, spread ? "new buckets" :
	    "one bucket", calls);
	CHECK(bad == 0 && wrong == 0, what);
	snprintf(what, sizeof what, "%s%s: every fault fails a result",
	    test_mode, spread ? "new buckets" : "one bucket");
	CHECK(quiet == 0, what);
}

/* test_mixed - bad members fail alone */
static void
test_mixed(void)
{
	uint32_t	msgids[4];
	int		results[4], r;
	char		what[128];

	test_spread = 0;
	if (test_fresh() == -1) {
		CHECK(0, "mixed: spool");
		return;
	}
	msgids[0] = test_message(1);
	msgids[1] = test_message(0);		/* no envelope */
	msgids[2] = 0x2a7fffff;			/* never created */
	msgids[3] = test_message(3);
	r = queue_commit_messages(4, msgids, NULL, results);
	snprintf(what, sizeof what, "%smixed: the good members commit",
	    test_mode);
	CHECK(results[0] == QUEUE_OK && results[3] == QUEUE_OK &&
	    test_committed(msgids[0]) && test_committed(msgids[3]), what);
	snprintf(what, sizeof what, "%smixed: the bad members fail, and the "
	    "batch says so", test_mode);
	CHECK(results[1] != QUEUE_OK && results[2] != QUEUE_OK &&
	    !test_committed(msgids[1]) && r != QUEUE_OK, what);
	r = queue_commit_messages(1, &msgids[0], NULL, results);
	snprintf(what, sizeof what, "%smixed: a second commit is refused",
	    test_mode);
	CHECK(r != QUEUE_OK, what);
}

/* test_savings - the fsyncs of N commits alone and in one batch */
static void
test_savings(void)
{
	uint32_t	msgids[TEST_BATCH];
	int		results[TEST_BATCH];
	unsigned int	alone = 0, batch;
	size_t		i;
	int		r;

	for (int spread = 0; spread < 2; spread++) {
		test_spread = spread;
		if (test_fresh() == -1)
			return;
		/* one bucket: it exists before anything is counted */
		msgids[0] = test_message(1);
		if (!spread)
			(void)queue_commit_messages(1, msgids, NULL, results);
		for (i = 0; i < TEST_BATCH; i++)
			msgids[i] = test_message(1);
		queue_fs_inject_fault(0, 0);
		for (i = 0; i < TEST_BATCH; i++)
			(void)queue_commit_messages(1, &msgids[i], NULL,
			    results);
		alone = queue_fs_count_fsyncs();
		for (i = 0; i < TEST_BATCH; i++)
			msgids[i] = test_message(1);
		queue_fs_inject_fault(0, 0);
		r = queue_commit_messages(TEST_BATCH, msgids, NULL, results);
		batch = queue_fs_count_fsyncs();
		printf("# %s%s: fsyncs of %d commits alone %u, in a batch "
		    "%u\n", test_mode, spread ? "distinct buckets" :
		    "one bucket", TEST_BATCH, alone, batch);
		if (test_journal) {
			/* one flush of the journal per commit, per batch */
			CHECK(r == QUEUE_OK && batch == 1 && alone ==
			    TEST_BATCH, spread ? "journal: savings: new "
			    "buckets: one flush per batch" : "journal: "
			    "savings: one bucket: one flush per batch");
			continue;
		}
		/*
		 * "incoming" once, and in one bucket that bucket once; in
		 * new buckets, "queue" (which gains them) once
		 */
		CHECK(r == QUEUE_OK && batch + 2 * (TEST_BATCH - 1) == alone,
		    spread ? "savings: new buckets: \"queue\" and "
		    "\"incoming\" fsync'd once" : "savings: one bucket: it "
		    "and \"incoming\" fsync'd once");
	}
}

int
main(void)
{
	env = &test_env;
	log_init(1, 0);
	queue_backend_set_id_source(test_ids);
	for (test_journal = 0; test_journal < 2; test_journal++) {
		test_mode = test_journal ? "journal: " : "";
		test_faults(0);
		test_faults(1);
		test_mixed();
		test_savings();
	}
	queue_fs_set_journal(1);
	queue_backend_set_id_source(NULL);
	queue_backend_close();
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	return test_done();
}
