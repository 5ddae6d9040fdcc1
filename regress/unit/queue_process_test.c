/*
 * queue_process_test.c -- the queue and scheduler processes' handlers,
 * driven over socketpairs as the dispatcher would drive them.
 *
 * One event loop runs the queue's handlers (queue.c's table, the real
 * fs or ram backend in a temporary directory), either a recording
 * scheduler or the real one (scheduler.c's table over an embedded
 * ramqueue), and the test's dispatcher end, which records what it is
 * sent.  Covered: receive and commit, group commit (fsyncs counted, and
 * a failing last fsync fails every result of its batch), refusals and
 * rollbacks, deliveries and their outcomes (tempfail retry state,
 * expiry, permanent failure, gone envelopes), bounce envelopes (who is
 * owed a report, delay notices), the start-up walk with a
 * corrupt envelope in the middle, when a lone commit leaves the
 * loop for the commit thread, and the scheduler's loop (max
 * inflight, retry later, expiry).  Every wait is bounded in time.
 * `queue_process_test bench` measures commit throughput by concurrency
 * instead (not part of the suite).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "queue.h"
#include "queue_backend.h"
#include "scheduler.h"
#include "scheduler_proc.h"
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	 test_env;
static struct smtpd_conf test_conf;
static char		 test_root[PATH_MAX];

#define TEST_TTL	123456		/* the configured queue ttl */
#define TEST_REC_MAX	2048
#define TEST_N		8		/* messages of a group commit */

/* one message the test's dispatcher or scheduler end received */
struct test_rec {
	uint32_t	 type;
	union msg_any	 m;
	char		*data;		/* DELIVER's envelope text, a copy */
	size_t		 len;
	int		 fd;
};

static struct test_rec	 test_recs[TEST_REC_MAX];
static size_t		 test_nrecs;
static uint64_t		 test_reqid;
static struct mproc	*test_disp;		/* our dispatcher end */
static struct mproc	*test_sched;		/* recording, or real */
static struct scheduler_host *test_host;	/* the real scheduler's */
static uint32_t		 test_idseq;
static const char	*test_sender = "alice@client.example";
static int		 test_notify;	/* dsn-notify of new envelopes */

/* test_ids - msgids and evpid halves, all in one bucket (0x2a) */
static uint32_t
test_ids(void)
{
	return 0x2a000000u | (++test_idseq & 0x00ffffffu);
}

/* test_record - keep a message the test's ends receive */
static void
test_record(struct mproc *p, struct imsg *imsg)
{
	const struct msg_codec	*c = msg_codec(imsg->hdr.type);
	struct test_rec		*r;

	(void)p;
	if (test_nrecs == TEST_REC_MAX) {
		CHECK(0, "too many messages recorded");
		return;
	}
	r = &test_recs[test_nrecs++];
	memset(r, 0, sizeof *r);
	r->type = imsg->hdr.type;
	r->fd = -1;
	if (c == NULL || c->unpack(imsg, &r->m) == -1) {
		CHECK(0, "a recorded message unpacks");
		return;
	}
	if (r->type == IMSG_DISPATCHER_DELIVER_ENVELOPE) {
		r->len = r->m.dispatcher_deliver_envelope.envelope_len;
		if ((r->data = malloc(r->len)) != NULL)
			memcpy(r->data,
			    r->m.dispatcher_deliver_envelope.envelope, r->len);
		r->fd = r->m.dispatcher_deliver_envelope.fd;
	} else if (r->type == IMSG_QUEUE_CREATE_MESSAGE_RESULT)
		r->fd = r->m.queue_create_message_result.fd;
}

static const struct imsg_handler test_disp_handlers[] = {
	{ IMSG_QUEUE_CREATE_MESSAGE_RESULT, PROC_QUEUE, test_record },
	{ IMSG_QUEUE_CREATE_MESSAGE_FAIL, PROC_QUEUE, test_record },
	{ IMSG_QUEUE_COMMIT_MESSAGE_RESULT, PROC_QUEUE, test_record },
	{ IMSG_DISPATCHER_DELIVER_ENVELOPE, PROC_QUEUE, test_record },
};

static const struct imsg_handler test_sched_handlers[] = {
	{ IMSG_SCHEDULER_INSERT_ENVELOPE, PROC_QUEUE, test_record },
	{ IMSG_SCHEDULER_COMMIT_MESSAGE, PROC_QUEUE, test_record },
	{ IMSG_SCHEDULER_DELIVERY_RESULT, PROC_QUEUE, test_record },
};

/* test_reset - forget every record */
static void
test_reset(void)
{
	size_t	i;

	for (i = 0; i < test_nrecs; i++) {
		free(test_recs[i].data);
		if (test_recs[i].fd != -1)
			close(test_recs[i].fd);
	}
	test_nrecs = 0;
}

static size_t
test_count(uint32_t type)
{
	size_t	i, n = 0;

	for (i = 0; i < test_nrecs; i++)
		n += test_recs[i].type == type;
	return n;
}

/* test_nth - the Nth (0-based) record of TYPE, or NULL */
static struct test_rec *
test_nth(uint32_t type, size_t nth)
{
	size_t	i;

	for (i = 0; i < test_nrecs; i++)
		if (test_recs[i].type == type && nth-- == 0)
			return &test_recs[i];
	return NULL;
}

/* test_loop_for - run the loop for MS milliseconds */
static void
test_loop_for(int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(env->evb, &tv);
	event_base_dispatch(env->evb);
}

/* test_wait - run until WANT records of TYPE, at most MS ms; the count */
static size_t
test_wait(uint32_t type, size_t want, int ms)
{
	int	i;

	for (i = 0; i < ms && test_count(type) < want; i += 2)
		test_loop_for(2);
	return test_count(type);
}

/* test_wire - the channels; REAL: the real scheduler over a ramqueue */
static void
test_wire(int real, long long inflight, long long batch)
{
	const struct imsg_handler	*qh, *sh;
	size_t				 nq, ns;
	int				 a[2], b[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, b) == -1) {
		perror("socketpair");
		exit(1);
	}
	qh = queue_imsg_handlers(&nq);
	env->peers[PROC_DISPATCHER] = mproc_new(env->evb, PROC_QUEUE, a[0],
	    PROC_DISPATCHER, 1, qh, nq, NULL);
	test_disp = mproc_new(env->evb, PROC_DISPATCHER, a[1], PROC_QUEUE, 1,
	    test_disp_handlers, sizeof test_disp_handlers /
	    sizeof test_disp_handlers[0], NULL);
	env->peers[PROC_SCHEDULER] = mproc_new(env->evb, PROC_QUEUE, b[0],
	    PROC_SCHEDULER, 1, qh, nq, NULL);
	if (real) {
		sh = scheduler_imsg_handlers(&ns);
		test_host = scheduler_host_embedded(
		    &scheduler_backend_ramqueue);
		scheduler_work_init(env->evb, test_host, inflight, batch);
		test_sched = mproc_new(env->evb, PROC_SCHEDULER, b[1],
		    PROC_QUEUE, 1, sh, ns, NULL);
		env->peers[PROC_QUEUE] = test_sched;
	} else
		test_sched = mproc_new(env->evb, PROC_SCHEDULER, b[1],
		    PROC_QUEUE, 1, test_sched_handlers,
		    sizeof test_sched_handlers / sizeof test_sched_handlers[0],
		    NULL);
	queue_incoming_init(env->evb, QUEUE_COMMIT_WINDOW_MS);
}

static void
test_unwire(void)
{
	queue_incoming_free();
	if (test_host != NULL) {
		scheduler_work_free();
		scheduler_host_free(&test_host);
	}
	mproc_free(&env->peers[PROC_DISPATCHER]);
	mproc_free(&env->peers[PROC_SCHEDULER]);
	mproc_free(&test_disp);
	mproc_free(&test_sched);
	env->peers[PROC_QUEUE] = NULL;
	test_reset();
}

/* test_spool - a fresh spool with backend NAME started on it */
static int
test_spool(const char *name)
{
	queue_backend_close();
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	snprintf(test_root, sizeof test_root, "%s/queueproc.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(test_root) == NULL)
		return -1;
	return queue_backend_init(name, strcmp(name, "fs") == 0 ? test_root :
	    NULL);
}

/* test_text - an envelope's text for RCPT; CTIME and TTL 0: unset */
static int
test_text(char *buf, size_t bufsz, const char *rcpt, long long ctime_,
    long long ttl)
{
	return snprintf(buf, bufsz,
	    "version: 3\ndispatcher: local\ntype: mda\n"
	    "smtpname: mx.example.org\nhelo: client.example\n"
	    "hostname: localhost\nsockaddr: 127.0.0.1\n"
	    "sender: %s\nrcpt: %s\ndest: %s\n"
	    "ctime: %lld\nlast-try: 0\nlast-bounce: 0\nttl: %lld\n"
	    "retry: 0\ndsn-notify: %d\nmda-user: vmail\n",
	    test_sender[0] != '\0' ? test_sender : "@", rcpt, rcpt, ctime_,
	    ttl, test_notify);
}

/* test_create - CREATE as the dispatcher: the msgid and body fd, or 0 */
static uint32_t
test_create(int *fdp)
{
	struct test_rec	*r;
	size_t		 n = test_count(IMSG_QUEUE_CREATE_MESSAGE_RESULT);

	*fdp = -1;
	msg_send_queue_create_message(test_disp,
	    &(struct msg_queue_create_message){ .reqid = ++test_reqid });
	if (test_wait(IMSG_QUEUE_CREATE_MESSAGE_RESULT, n + 1, 2000) <= n)
		return 0;
	r = test_nth(IMSG_QUEUE_CREATE_MESSAGE_RESULT, n);
	*fdp = r->fd;
	r->fd = -1;
	return r->m.queue_create_message_result.msgid;
}

/* test_submit - one envelope of MSGID, as the dispatcher */
static void
test_submit(uint32_t msgid, const char *rcpt, long long ctime_,
    long long ttl)
{
	char	text[2048];
	int	n = test_text(text, sizeof text, rcpt, ctime_, ttl);

	msg_send_queue_submit_envelope(test_disp,
	    &(struct msg_queue_submit_envelope){ .msgid = msgid,
	    .envelope = text, .envelope_len = (size_t)n });
}

/* test_body - write BODY to the fd and close it */
static void
test_body(int fd, const char *body)
{
	if (fd == -1)
		return;
	if (write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		CHECK(0, "body written");
	close(fd);
}

/* test_message - create, NRCPT envelopes, body: the msgid or 0 */
static uint32_t
test_message(int nrcpt, long long ctime_, long long ttl)
{
	char		rcpt[64];
	uint32_t	msgid;
	int		fd, i;

	if ((msgid = test_create(&fd)) == 0)
		return 0;
	for (i = 0; i < nrcpt; i++) {
		snprintf(rcpt, sizeof rcpt, "u%d@example.com", i);
		test_submit(msgid, rcpt, ctime_, ttl);
	}
	test_body(fd, "Subject: t\r\n\r\nhello\r\n");
	return msgid;
}

/* test_commit_send - COMMIT as the dispatcher; its reqid */
static uint64_t
test_commit_send(uint32_t msgid)
{
	msg_send_queue_commit_message(test_disp,
	    &(struct msg_queue_commit_message){ .reqid = ++test_reqid,
	    .msgid = msgid });
	return test_reqid;
}

/* test_result - the commit result of REQID: r, or 99 when none came */
static int
test_result(uint64_t reqid)
{
	struct test_rec	*r;
	size_t		 i;

	for (i = 0; (r = test_nth(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, i)) !=
	    NULL; i++)
		if (r->m.queue_commit_message_result.reqid == reqid)
			return r->m.queue_commit_message_result.r;
	return 99;
}

/* test_commit - COMMIT and wait for its result */
static int
test_commit(uint32_t msgid)
{
	size_t		n = test_count(IMSG_QUEUE_COMMIT_MESSAGE_RESULT);
	uint64_t	reqid = test_commit_send(msgid);

	(void)test_wait(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, n + 1, 2000);
	return test_result(reqid);
}

/* test_committed - is MSGID's body readable from the queue? */
static int
test_committed(uint32_t msgid)
{
	int	fd;

	if (queue_open_message_read(msgid, &fd) != QUEUE_OK)
		return 0;
	close(fd);
	return 1;
}

/* test_receive - one message received and committed */
static void
test_receive(const char *backend)
{
	struct test_rec	*r;
	char		 what[128];
	uint32_t	 msgid;

	test_wire(0, 0, 0);
	msgid = test_message(2, 0, 0);
	snprintf(what, sizeof what, "%s: create answers a msgid and fd",
	    backend);
	CHECK(msgid != 0, what);
	snprintf(what, sizeof what, "%s: commit answers QUEUE_OK", backend);
	CHECK(test_commit(msgid) == QUEUE_OK, what);
	(void)test_wait(IMSG_SCHEDULER_COMMIT_MESSAGE, 1, 1000);
	snprintf(what, sizeof what, "%s: the scheduler learns 2 envelopes "
	    "and the commit", backend);
	CHECK(test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 2 &&
	    test_count(IMSG_SCHEDULER_COMMIT_MESSAGE) == 1, what);
	r = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0);
	snprintf(what, sizeof what, "%s: inserted envelope: msgid, mda, "
	    "queue ttl, creation set", backend);
	CHECK(r != NULL && evpid_to_msgid(
	    r->m.scheduler_insert_envelope.evpid) == msgid &&
	    r->m.scheduler_insert_envelope.type == ENVELOPE_MDA &&
	    r->m.scheduler_insert_envelope.ttl == TEST_TTL &&
	    r->m.scheduler_insert_envelope.creation + 60 >
	    (uint64_t)time(NULL), what);
	r = test_nth(IMSG_SCHEDULER_COMMIT_MESSAGE, 0);
	snprintf(what, sizeof what, "%s: committed and readable", backend);
	CHECK(r != NULL && r->m.scheduler_commit_message.msgid == msgid &&
	    test_committed(msgid) && queue_incoming_count() == 0, what);
	test_unwire();
}

/* test_incoming_dirs - names in the fs spool's incoming/ (up to MAX kept
 * in IDS): their count */
static size_t
test_incoming_dirs(uint32_t *ids, size_t max)
{
	struct dirent	*de;
	DIR		*dp;
	char		 path[PATH_MAX];
	size_t		 n = 0;

	if ((size_t)snprintf(path, sizeof path, "%s/incoming", test_root) >=
	    sizeof path || (dp = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n < max)
			ids[n] = (uint32_t)strtoul(de->d_name, NULL, 16);
		n++;
	}
	closedir(dp);
	return n;
}

/*
 * test_spares - messages made ahead: after a commit the loop makes
 * QUEUE_SPARE_MAX of them in incoming/, not counted as being received;
 * a create hands one out; they are made again; a clean stop removes
 * them (QUEUE-01)
 */
static void
test_spares(void)
{
	uint32_t	ids[QUEUE_SPARE_MAX + 4], msgid;
	size_t		n, i;
	int		found = 0;

	test_spool("fs");
	test_wire(0, 0, 0);
	msgid = test_message(1, 0, 0);
	CHECK(msgid != 0 && test_commit(msgid) == QUEUE_OK,
	    "spares: a first message committed");
	test_loop_for(100);
	n = test_incoming_dirs(ids, sizeof ids / sizeof ids[0]);
	CHECK(n == QUEUE_SPARE_MAX && queue_incoming_count() == 0,
	    "spares: made after the commit, not counted as received");
	msgid = test_message(1, 0, 0);
	for (i = 0; i < n && i < sizeof ids / sizeof ids[0]; i++)
		found |= ids[i] == msgid;
	CHECK(found && queue_incoming_count() == 1,
	    "spares: a create hands one out");
	CHECK(test_commit(msgid) == QUEUE_OK && test_committed(msgid),
	    "spares: the spare commits like any message");
	test_loop_for(100);
	CHECK(test_incoming_dirs(ids, sizeof ids / sizeof ids[0]) ==
	    QUEUE_SPARE_MAX, "spares: made again after the commit");
	test_unwire();
	CHECK(test_incoming_dirs(ids, sizeof ids / sizeof ids[0]) == 0,
	    "spares: a clean stop removes them");
}

/* test_lone_commit_rule - when lone commits leave the loop for the
 * commit thread, and come back (QUEUE-05) */
static void
test_lone_commit_rule(void)
{
	uint64_t	max = QUEUE_LOOP_COMMIT_MAX_MS * 1000;

	CHECK(!queue_lone_commit_slow(0, 0) &&
	    !queue_lone_commit_slow(0, max),
	    "lone commit: fast up to the bound, on the loop");
	CHECK(queue_lone_commit_slow(0, max + 1),
	    "lone commit: past the bound, to the thread");
	CHECK(queue_lone_commit_slow(1, max) &&
	    queue_lone_commit_slow(1, max / 2),
	    "lone commit: slow stays slow down to half the bound");
	CHECK(!queue_lone_commit_slow(1, max / 2 - 1) &&
	    !queue_lone_commit_slow(1, 0),
	    "lone commit: under half the bound, back on the loop");
}

/* test_prepare - N messages created with one envelope and a body */
static void
test_prepare(uint32_t *msgids, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		msgids[i] = test_message(1, 0, 0);
	/* the last SUBMIT has no answer: let it be stored */
	test_loop_for(50);
}

/* test_ms - a monotonic clock in milliseconds */
static double
test_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* test_group_commit - N commits in one window share their fsyncs
 * (JOURNAL: through the commit journal, else the classic way) */
static void
test_group_commit(int journal)
{
	uint32_t	msgids[TEST_N];
	uint64_t	reqids[TEST_N];
	unsigned int	seq, batch, calls;
	double		t0, tseq, tbatch;
	size_t		i, ok;

	queue_fs_set_journal(journal);
	test_spool("fs");
	queue_fs_set_journal(1);
	queue_backend_set_id_source(test_ids);
	test_wire(0, 0, 0);
	/* the bucket exists before anything is measured */
	test_prepare(msgids, 1);
	CHECK(test_commit(msgids[0]) == QUEUE_OK, "group: warm-up commit");

	test_prepare(msgids, TEST_N);
	queue_fs_inject_fault(0, 0);
	t0 = test_ms();
	for (i = 0, ok = 0; i < TEST_N; i++)
		ok += test_commit(msgids[i]) == QUEUE_OK;
	tseq = test_ms() - t0;
	seq = queue_fs_count_fsyncs();
	CHECK(ok == TEST_N, "group: one by one, every commit OK");

	test_prepare(msgids, TEST_N);
	test_reset();
	queue_fs_inject_fault(0, 0);
	t0 = test_ms();
	for (i = 0; i < TEST_N; i++)
		reqids[i] = test_commit_send(msgids[i]);
	(void)test_wait(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, TEST_N, 3000);
	tbatch = test_ms() - t0;
	batch = queue_fs_count_fsyncs();
	for (i = 0, ok = 0; i < TEST_N; i++)
		ok += test_result(reqids[i]) == QUEUE_OK &&
		    test_committed(msgids[i]);
	CHECK(ok == TEST_N, "group: in one window, every commit OK");
	printf("# %sfsyncs for %d commits: one by one %u (%.1f ms), in one "
	    "window %u (%.1f ms)\n", journal ? "journal: " : "", TEST_N, seq,
	    tseq, batch, tbatch);
	if (journal)
		/* one flush of the journal per window */
		CHECK(batch == 1 && seq == TEST_N,
		    "group: journal: one flush for the window");
	else
		/* one bucket and "incoming" once instead of once per
		 * message */
		CHECK(batch + 2 * (TEST_N - 1) == seq,
		    "group: the directory fsyncs are shared by the window");
	(void)test_wait(IMSG_SCHEDULER_COMMIT_MESSAGE, TEST_N, 1000);
	CHECK(test_count(IMSG_SCHEDULER_COMMIT_MESSAGE) == TEST_N,
	    "group: the scheduler learns every message");

	/* a failing last fsync of the batch: no result may say OK (no
	 * spare is made beside the batch: its calls would be counted) */
	queue_incoming_set_spares(0);
	test_prepare(msgids, 4);
	test_reset();
	queue_fs_inject_fault(0, 0);
	for (i = 0; i < 4; i++)
		reqids[i] = test_commit_send(msgids[i]);
	(void)test_wait(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, 4, 3000);
	calls = queue_fs_count_calls();
	test_prepare(msgids, 4);
	test_reset();
	queue_fs_inject_fault(calls, EIO);
	for (i = 0; i < 4; i++)
		reqids[i] = test_commit_send(msgids[i]);
	(void)test_wait(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, 4, 3000);
	queue_fs_inject_fault(0, 0);
	for (i = 0, ok = 0; i < 4; i++)
		ok += test_result(reqids[i]) == QUEUE_TEMPFAIL &&
		    !test_committed(msgids[i]);
	CHECK(ok == 4, "group: the batch's last fsync fails: every result "
	    "is a tempfail, nothing committed");
	test_loop_for(20);
	CHECK(test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0 &&
	    queue_incoming_count() == 0,
	    "group: failed batch: the scheduler learns nothing, all dropped");
	queue_incoming_set_spares(QUEUE_SPARE_MAX);
	test_unwire();
	queue_backend_set_id_source(NULL);
}

/* test_refusals - unknown ids, bad envelopes, rollbacks */
static void
test_refusals(void)
{
	uint32_t	msgid;
	char		text[8] = "junk\n";
	int		fd, i;

	test_spool("fs");
	test_wire(0, 0, 0);
	test_submit(0x12345678, "x@example.com", 0, 0);
	msg_send_queue_delete_message(test_disp,
	    &(struct msg_queue_delete_message){ .msgid = 0x12345678 });
	CHECK(test_commit(0x12345678) < 0, "refuse: commit of an unknown "
	    "msgid is a tempfail");

	msgid = test_message(1, 0, 0);
	msg_send_queue_submit_envelope(test_disp,
	    &(struct msg_queue_submit_envelope){ .msgid = msgid,
	    .envelope = text, .envelope_len = 5 });
	CHECK(test_commit(msgid) < 0 && !test_committed(msgid) &&
	    queue_incoming_count() == 0,
	    "refuse: a bad envelope fails the commit, the message goes");

	msgid = test_message(0, 0, 0);
	CHECK(test_commit(msgid) < 0 && queue_incoming_count() == 0,
	    "refuse: a message without envelopes does not commit");

	msgid = test_create(&fd);
	test_submit(msgid, "y@example.com", 0, 0);
	test_body(fd, "x\r\n");
	msg_send_queue_delete_message(test_disp,
	    &(struct msg_queue_delete_message){ .msgid = msgid });
	for (i = 0; i < 1000 && queue_incoming_count() != 0; i++)
		test_loop_for(2);
	CHECK(queue_incoming_count() == 0, "refuse: DELETE rolls back");
	CHECK(test_commit(msgid) < 0 && !test_committed(msgid),
	    "refuse: a rolled back message does not commit");

	msgid = test_message(1, 0, 0);
	(void)test_commit_send(msgid);
	msg_send_queue_delete_message(test_disp,
	    &(struct msg_queue_delete_message){ .msgid = msgid });
	(void)test_wait(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, 5, 2000);
	CHECK(test_result(test_reqid) < 0 && !test_committed(msgid),
	    "refuse: DELETE inside the commit window fails that commit");
	CHECK(test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0,
	    "refuse: the scheduler learnt nothing");
	test_unwire();
}

/* test_deliver - as the scheduler: DELIVER_ENVELOPE(evpid, action) */
static void
test_deliver(uint64_t evpid, int action)
{
	msg_send_queue_deliver_envelope(test_sched,
	    &(struct msg_queue_deliver_envelope){ .evpid = evpid,
	    .action = action });
}

/* test_outcome_dsn - as the dispatcher: DELIVERY_RESULT, RELAY_DSN */
static void
test_outcome_dsn(uint64_t evpid, int status, const char *error,
    int relay_dsn)
{
	msg_send_queue_delivery_result(test_disp,
	    &(struct msg_queue_delivery_result){ .evpid = evpid,
	    .status = status, .error = error, .relay_dsn = relay_dsn });
}

/* test_outcome - a final delivery's DELIVERY_RESULT */
static void
test_outcome(uint64_t evpid, int status, const char *error)
{
	test_outcome_dsn(evpid, status, error, 0);
}

/* test_sched_result - the last DELIVERY_RESULT the scheduler got */
static struct msg_scheduler_delivery_result *
test_sched_result(size_t want)
{
	struct test_rec	*r;

	if (test_wait(IMSG_SCHEDULER_DELIVERY_RESULT, want, 2000) < want)
		return NULL;
	r = test_nth(IMSG_SCHEDULER_DELIVERY_RESULT, want - 1);
	return &r->m.scheduler_delivery_result;
}

/* test_handed - the delivery handed to the dispatcher is evpid's */
static int
test_handed(uint64_t evpid, const char *rcpt_user)
{
	struct test_rec		*r;
	struct envelope		*evp;
	char			 buf[256], err[256];
	ssize_t			 n;
	int			 ok;

	if (test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 1, 2000) < 1)
		return 0;
	r = test_nth(IMSG_DISPATCHER_DELIVER_ENVELOPE, 0);
	if (r->m.dispatcher_deliver_envelope.evpid != evpid || r->fd == -1 ||
	    (evp = envelope_new()) == NULL)
		return 0;
	n = read(r->fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	ok = strcmp(buf, "Subject: t\r\n\r\nhello\r\n") == 0 &&
	    envelope_load(evp, r->data, r->len, err, sizeof err) == 0 &&
	    strcmp(evp->rcpt.user, rcpt_user) == 0 && evp->ttl == TEST_TTL;
	envelope_free(&evp);
	return ok;
}

/* test_loaded - EVPID's stored retry and error line; -1 if gone */
static int
test_loaded(uint64_t evpid, char *errline, size_t sz)
{
	struct envelope	*evp;
	int		 retry = -1;

	if ((evp = envelope_new()) == NULL)
		return -1;
	if (queue_load_envelope(evpid, evp) == QUEUE_OK) {
		retry = evp->retry;
		snprintf(errline, sz, "%s", evp->errorline);
	}
	envelope_free(&evp);
	return retry;
}

/* test_bounce - EVPID is stored as a TYPE bounce envelope with status
 * CLASS.CODE (0: none set) */
static int
test_bounce(uint64_t evpid, enum envelope_bounce_type type, int class,
    int code)
{
	struct envelope	*evp;
	int		 ok;

	if ((evp = envelope_new()) == NULL)
		return 0;
	ok = queue_load_envelope(evpid, evp) == QUEUE_OK &&
	    evp->type == ENVELOPE_BOUNCE && evp->bounce_type == type &&
	    evp->esc_class == class && evp->esc_code == code &&
	    evp->retry == 0 && evp->ttl >= 7 * 86400;
	envelope_free(&evp);
	return ok;
}

/* test_inserted - the NTH INSERT the scheduler got is EVPID's, a bounce */
static int
test_inserted(size_t nth, uint64_t evpid)
{
	struct test_rec	*r = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, nth);

	return r != NULL && r->m.scheduler_insert_envelope.evpid == evpid &&
	    r->m.scheduler_insert_envelope.type == ENVELOPE_BOUNCE;
}

/* test_handed_type - the dispatcher got EVPID, of TYPE, with a body */
static int
test_handed_type(uint64_t evpid, enum envelope_type type)
{
	struct test_rec	*r;
	struct envelope	*evp;
	char		 err[256];
	int		 ok;

	if (test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 1, 2000) < 1)
		return 0;
	r = test_nth(IMSG_DISPATCHER_DELIVER_ENVELOPE, 0);
	if ((evp = envelope_new()) == NULL)
		return 0;
	ok = r->m.dispatcher_deliver_envelope.evpid == evpid && r->fd != -1 &&
	    envelope_load(evp, r->data, r->len, err, sizeof err) == 0 &&
	    evp->type == type;
	envelope_free(&evp);
	return ok;
}

/* test_deliveries - the queue's side of deliveries and outcomes */
static void
test_deliveries(const char *backend)
{
	struct msg_scheduler_delivery_result	*res;
	uint64_t				 evpids[3];
	uint32_t				 msgid;
	char				 errline[ENVELOPE_ERRORLINE_SIZE];
	char					 what[160];
	time_t					 now = time(NULL);
	size_t					 i;

	test_spool(backend);
	test_wire(0, 0, 0);
	msgid = test_message(3, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "deliver: message committed");
	for (i = 0; i < 3; i++)
		evpids[i] = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, i) ?
		    test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, i)->m.
		    scheduler_insert_envelope.evpid : 0;
	test_reset();

	test_deliver(evpids[0], SCHED_MDA);
	snprintf(what, sizeof what, "%s: deliver: the dispatcher gets the "
	    "envelope and the body", backend);
	CHECK(test_handed(evpids[0], "u0"), what);

	test_outcome(evpids[0], DELIVERY_TEMPFAIL, "451 4.3.0 \"busy\"\r\n");
	res = test_sched_result(1);
	snprintf(what, sizeof what, "%s: tempfail: the scheduler gets "
	    "retry 1 and lasttry now", backend);
	CHECK(res != NULL && res->evpid == evpids[0] &&
	    res->status == DELIVERY_TEMPFAIL && res->retry == 1 &&
	    res->lasttry + 5 >= (uint64_t)now &&
	    res->lasttry <= (uint64_t)now + 5, what);
	snprintf(what, sizeof what, "%s: tempfail: the stored envelope has "
	    "retry 1 and the error line", backend);
	CHECK(test_loaded(evpids[0], errline, sizeof errline) == 1 &&
	    strstr(errline, "busy") != NULL, what);

	test_outcome(evpids[0], DELIVERY_OK, "250 ok");
	res = test_sched_result(2);
	CHECK(res != NULL && res->status == DELIVERY_OK &&
	    test_loaded(evpids[0], errline, sizeof errline) == -1,
	    "deliver: OK deletes the envelope, the scheduler is told");

	test_deliver(evpids[1], SCHED_EXPIRE);
	(void)test_wait(IMSG_SCHEDULER_COMMIT_MESSAGE, 1, 2000);
	CHECK(test_inserted(0, evpids[1]) &&
	    test_count(IMSG_SCHEDULER_DELIVERY_RESULT) == 2 &&
	    test_bounce(evpids[1], BOUNCE_FAILED, 4, 47),
	    "deliver: expired: kept as a failure bounce envelope (4.4.7), "
	    "the scheduler gets it back");

	test_outcome(evpids[2], DELIVERY_LOOP, "554 loop");
	res = test_sched_result(3);
	(void)test_wait(IMSG_SCHEDULER_INSERT_ENVELOPE, 2, 2000);
	CHECK(res != NULL && res->evpid == evpids[2] &&
	    res->status == DELIVERY_PERMFAIL && test_inserted(1, evpids[2]) &&
	    test_bounce(evpids[2], BOUNCE_FAILED, 5, 46) &&
	    test_committed(msgid),
	    "deliver: loop: a bounce envelope (5.4.6), the message stays");

	test_reset();
	test_deliver(evpids[2], SCHED_BOUNCE);
	CHECK(test_handed_type(evpids[2], ENVELOPE_BOUNCE),
	    "deliver: SCHED_BOUNCE hands the bounce envelope and the body "
	    "to the dispatcher");
	test_outcome(evpids[2], DELIVERY_TEMPFAIL, "report not stored");
	res = test_sched_result(1);
	CHECK(res != NULL && res->status == DELIVERY_TEMPFAIL &&
	    test_loaded(evpids[2], errline, sizeof errline) == 1 &&
	    strcmp(errline, "554 loop") == 0 &&
	    test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0,
	    "deliver: a report not queued yet: retried, the bounce envelope "
	    "keeps the error it reports");
	test_outcome(evpids[2], DELIVERY_OK, "report queued");
	res = test_sched_result(2);
	CHECK(res != NULL && res->status == DELIVERY_OK &&
	    test_loaded(evpids[2], errline, sizeof errline) == -1 &&
	    test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0,
	    "deliver: its report queued, the bounce envelope goes");
	test_outcome(evpids[1], DELIVERY_PERMFAIL, "550 refused");
	res = test_sched_result(3);
	CHECK(res != NULL && res->status == DELIVERY_PERMFAIL &&
	    test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0 &&
	    !test_committed(msgid),
	    "deliver: a report that fails is not reported; the last "
	    "envelope goes, and its message");

	test_deliver(evpids[2], SCHED_MTA);
	res = test_sched_result(4);
	CHECK(res != NULL && res->evpid == evpids[2] &&
	    res->status == DELIVERY_PERMFAIL &&
	    test_count(IMSG_DISPATCHER_DELIVER_ENVELOPE) == 1,
	    "deliver: a gone envelope: the scheduler forgets it");
	test_deliver(evpids[2], SCHED_UPDATE);
	test_loop_for(20);
	CHECK(test_count(IMSG_SCHEDULER_DELIVERY_RESULT) == 4,
	    "deliver: an unknown action is ignored");
	test_unwire();
}

/*
 * test_bounce_rules - who is owed a report (queue_bounce.c): the null
 * sender and NOTIFY=NEVER are not, NOTIFY=SUCCESS is after a delivery,
 * and a warn-interval past makes one delay notice beside the envelope
 */
static void
test_bounce_rules(void)
{
	struct msg_scheduler_delivery_result	*res;
	struct envelope				*evp;
	uint64_t				 evpid;
	uint32_t				 msgid;
	int					 ok;

	test_spool("fs");
	test_wire(0, 0, 0);
	test_sender = "";
	test_reset();
	msgid = test_message(1, 0, 0);
	test_sender = "alice@client.example";
	CHECK(test_commit(msgid) == QUEUE_OK, "bounce: null sender committed");
	evpid = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid;
	test_reset();
	test_outcome(evpid, DELIVERY_PERMFAIL, "550 no");
	res = test_sched_result(1);
	CHECK(res != NULL && res->status == DELIVERY_PERMFAIL &&
	    test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0 &&
	    !test_committed(msgid), "bounce: null sender: no report, deleted");

	test_notify = DSN_NOTIFY_NEVER;
	test_reset();
	msgid = test_message(1, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "bounce: NEVER committed");
	evpid = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid;
	test_reset();
	test_outcome(evpid, DELIVERY_PERMFAIL, "550 no");
	res = test_sched_result(1);
	CHECK(res != NULL && test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0 &&
	    !test_committed(msgid), "bounce: NOTIFY=NEVER: no report");

	test_notify = DSN_NOTIFY_SUCCESS;
	test_reset();
	msgid = test_message(1, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "bounce: SUCCESS committed");
	evpid = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid;
	test_reset();
	test_outcome(evpid, DELIVERY_OK, "delivered");
	(void)test_wait(IMSG_SCHEDULER_INSERT_ENVELOPE, 1, 2000);
	CHECK(test_inserted(0, evpid) &&
	    test_bounce(evpid, BOUNCE_DELIVERED, 0, 0),
	    "bounce: NOTIFY=SUCCESS: a success bounce envelope");

	/* MTA-18: relayed to a hop without DSN: "relayed"; with DSN: none */
	test_reset();
	msgid = test_message(1, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "bounce: relayed committed");
	evpid = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid;
	test_reset();
	test_outcome_dsn(evpid, DELIVERY_OK, "250 ok", -1);
	(void)test_wait(IMSG_SCHEDULER_INSERT_ENVELOPE, 1, 2000);
	CHECK(test_inserted(0, evpid) &&
	    test_bounce(evpid, BOUNCE_RELAYED, 0, 0),
	    "bounce: NOTIFY=SUCCESS relayed to a hop without DSN: a "
	    "\"relayed\" report (MTA-18)");
	test_reset();
	msgid = test_message(1, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "bounce: handed on committed");
	evpid = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid;
	test_reset();
	test_outcome_dsn(evpid, DELIVERY_OK, "250 ok", 1);
	res = test_sched_result(1);
	CHECK(res != NULL && test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0 &&
	    !test_committed(msgid), "bounce: NOTIFY=SUCCESS relayed to a DSN "
	    "hop: no report of ours, deleted (MTA-18)");

	test_notify = 0;
	test_conf.bounce_warn.v[0] = 60;
	test_conf.bounce_warn.n = 1;
	test_reset();
	msgid = test_message(1, (long long)time(NULL) - 120, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "bounce: delay committed");
	evpid = test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid;
	test_reset();
	test_outcome(evpid, DELIVERY_TEMPFAIL, "451 busy");
	(void)test_sched_result(1);
	(void)test_wait(IMSG_SCHEDULER_INSERT_ENVELOPE, 1, 2000);
	ok = test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 1 &&
	    test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid != evpid &&
	    test_bounce(test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid, BOUNCE_DELAYED, 0, 0);
	evp = envelope_new();
	ok = ok && queue_load_envelope(evpid, evp) == QUEUE_OK &&
	    evp->type == ENVELOPE_MDA && evp->lastbounce != 0;
	envelope_free(&evp);
	CHECK(ok, "bounce: a warn-interval past: a delay bounce envelope "
	    "beside the envelope, lastbounce stored");
	test_reset();
	test_outcome(evpid, DELIVERY_TEMPFAIL, "451 busy");
	(void)test_sched_result(1);
	test_loop_for(20);
	CHECK(test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 0,
	    "bounce: the same interval is not reported twice");
	test_conf.bounce_warn.n = 0;
	test_unwire();
}

/* test_no_body_fd - a backend without message_fd_w: the queue keeps a
 * memory file for the body and hands it to commit */
static void
test_no_body_fd(void)
{
	static struct queue_backend	ram;
	uint32_t			msgid;

	ram = queue_backend_ram;
	ram.message_fd_w = NULL;
	queue_backend_close();
	if (queue_backend_start(&ram, NULL) == -1) {
		CHECK(0, "no body fd: backend started");
		return;
	}
	test_receive("ram without message_fd_w");
	test_wire(0, 0, 0);
	msgid = test_message(1, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK,
	    "ram without message_fd_w: committed");
	test_deliver(test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid, SCHED_MDA);
	CHECK(test_handed(test_nth(IMSG_SCHEDULER_INSERT_ENVELOPE, 0)->m.
	    scheduler_insert_envelope.evpid, "u0"),
	    "ram without message_fd_w: the body written through the "
	    "queue's file is delivered");
	test_unwire();
}

/* test_store - a committed message of NRCPT envelopes, stored directly */
static uint32_t
test_store(int nrcpt, uint64_t *evpids)
{
	struct envelope	*evp;
	char		 text[2048], err[256], rcpt[64];
	uint32_t	 msgid;
	int		 i, n, fd;

	if ((evp = envelope_new()) == NULL ||
	    queue_create_message(&msgid) != QUEUE_OK)
		return 0;
	for (i = 0; i < nrcpt; i++) {
		snprintf(rcpt, sizeof rcpt, "s%d@example.com", i);
		n = test_text(text, sizeof text, rcpt, time(NULL), TEST_TTL);
		if (envelope_load(evp, text, (size_t)n, err, sizeof err) ||
		    queue_create_envelope(msgid, evp) != QUEUE_OK)
			return 0;
		evpids[i] = evp->evpid;
	}
	envelope_free(&evp);
	if (queue_open_message_write(msgid, &fd) != QUEUE_OK)
		return 0;
	test_body(fd, "Subject: t\r\n\r\nhello\r\n");
	return queue_commit_message(msgid) == QUEUE_OK ? msgid : 0;
}

static size_t	test_reloaded = (size_t)-1;

static void
test_on_reloaded(size_t n)
{
	test_reloaded = n;
}

/* test_walk - the start-up walk, a corrupt envelope in the middle */
static void
test_walk(void)
{
	uint64_t	e1[2], e2[1], e3[1];
	uint32_t	m1, m2, m3, got[4];
	char		path[PATH_MAX + 64];
	FILE		*fp;
	size_t		i, n;
	int		ok;

	test_spool("fs");
	m1 = test_store(2, e1);
	m2 = test_store(1, e2);
	m3 = test_store(1, e3);
	CHECK(m1 && m2 && m3, "walk: three messages stored");
	snprintf(path, sizeof path, "%s/queue/%02x/%08" PRIx32 "/%016" PRIx64,
	    test_root, (unsigned int)(m2 >> 24), m2, e2[0]);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("version: 3\ngarbage\n", fp);
		fclose(fp);
	}
	test_wire(0, 0, 0);
	test_reloaded = (size_t)-1;
	queue_reload_start(env->evb, test_on_reloaded);
	for (i = 0; i < 1000 && test_reloaded == (size_t)-1; i++)
		test_loop_for(2);
	(void)test_wait(IMSG_SCHEDULER_COMMIT_MESSAGE, 2, 2000);
	test_loop_for(10);
	CHECK(test_reloaded == 3 &&
	    test_count(IMSG_SCHEDULER_INSERT_ENVELOPE) == 3,
	    "walk: every envelope but the corrupt one inserted");
	n = test_count(IMSG_SCHEDULER_COMMIT_MESSAGE);
	for (i = 0; i < n && i < 4; i++)
		got[i] = test_nth(IMSG_SCHEDULER_COMMIT_MESSAGE, i)->m.
		    scheduler_commit_message.msgid;
	ok = n == 2 && ((got[0] == m1 && got[1] == m3) ||
	    (got[0] == m3 && got[1] == m1));
	CHECK(ok, "walk: each message with envelopes committed once");
	CHECK(access(path, F_OK) == -1 && errno == ENOENT,
	    "walk: the corrupt envelope was set aside");
	test_unwire();

	/* the real scheduler is rebuilt and hands the envelopes out */
	test_wire(1, 100, 256);
	test_reloaded = (size_t)-1;
	queue_reload_start(env->evb, test_on_reloaded);
	CHECK(test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 3, 3000) == 3,
	    "walk: the rebuilt scheduler hands every envelope out");
	test_unwire();
}

/* a look at the ramqueue's state of one envelope */
struct test_look {
	uint64_t	evpid;
	int		found;
	struct evpstate	st;
};

static void
test_look_done(void *arg, struct scheduler_msg *reply)
{
	struct test_look	*l = arg;

	if (!reply->tempfail && reply->count >= 1 &&
	    reply->states[0].evpid == l->evpid) {
		l->found = 1;
		l->st = reply->states[0];
	}
}

/* test_state - the ramqueue's state of EVPID into L: 1, or 0 if none */
static int
test_state(uint64_t evpid, struct test_look *l)
{
	struct scheduler_msg	req;

	memset(l, 0, sizeof *l);
	l->evpid = evpid;
	memset(&req, 0, sizeof req);
	req.type = PROC_SCHEDULER_ENVELOPES;
	req.id = evpid;
	req.count = 1;
	scheduler_host_call(test_host, &req, test_look_done, l);
	return l->found;
}

/* test_answer_all - the dispatcher answers every delivery handed out
 * from record FROM on with STATUS; how many */
static size_t
test_answer(size_t from, int status)
{
	struct test_rec	*r;
	size_t		 i, n = 0;

	for (i = from; (r = test_nth(IMSG_DISPATCHER_DELIVER_ENVELOPE, i)) !=
	    NULL; i++, n++)
		test_outcome(r->m.dispatcher_deliver_envelope.evpid, status,
		    status == DELIVERY_OK ? "250 delivered" : "451 busy");
	return n;
}

/* test_scheduler - the real scheduler: inflight, retry later, expiry */
static void
test_scheduler(void)
{
	struct test_look	l;
	struct test_rec		*r;
	uint32_t		msgid;
	uint64_t		evpid;
	time_t			now = time(NULL);
	size_t			n;

	test_spool("fs");
	test_wire(1, 2, 1);
	msgid = test_message(5, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "sched: 5 envelopes committed");
	(void)test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 3, 300);
	CHECK(test_count(IMSG_DISPATCHER_DELIVER_ENVELOPE) == 2 &&
	    scheduler_work_inflight() == 2,
	    "sched: max-inflight 2: two deliveries out, no more");
	r = test_nth(IMSG_DISPATCHER_DELIVER_ENVELOPE, 0);
	test_outcome(r->m.dispatcher_deliver_envelope.evpid, DELIVERY_OK,
	    "250 ok");
	CHECK(test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 3, 2000) == 3,
	    "sched: an outcome frees a slot: the third goes out");
	n = 1;
	while (n < 5 && test_count(IMSG_DISPATCHER_DELIVER_ENVELOPE) >= n) {
		n += test_answer(n, DELIVERY_OK);
		(void)test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, n + 1 > 5 ?
		    5 : n + 1, 2000);
	}
	for (n = 0; n < 1000 && (scheduler_work_inflight() != 0 ||
	    test_committed(msgid)); n++)
		test_loop_for(2);
	CHECK(test_count(IMSG_DISPATCHER_DELIVER_ENVELOPE) == 5 &&
	    scheduler_work_inflight() == 0 && !test_committed(msgid),
	    "sched: all five delivered once, the message gone");
	test_unwire();

	test_wire(1, 100, 256);
	msgid = test_message(1, 0, 0);
	CHECK(test_commit(msgid) == QUEUE_OK, "sched: one envelope committed");
	CHECK(test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 1, 2000) == 1,
	    "sched: handed out at once");
	evpid = test_nth(IMSG_DISPATCHER_DELIVER_ENVELOPE, 0)->m.
	    dispatcher_deliver_envelope.evpid;
	test_answer(0, DELIVERY_TEMPFAIL);
	for (n = 0; n < 1000 && scheduler_work_inflight() != 0; n++)
		test_loop_for(2);
	test_loop_for(200);
	CHECK(test_count(IMSG_DISPATCHER_DELIVER_ENVELOPE) == 1 &&
	    scheduler_work_inflight() == 0,
	    "sched: tempfail: not retried at once");
	CHECK(test_state(evpid, &l) && (l.st.flags & EF_PENDING) &&
	    l.st.retry == 1 && l.st.time >= now + 9 &&
	    l.st.time <= time(NULL) + 10,
	    "sched: tempfail: pending, retry 1, next try 10 s after creation "
	    "(SCHED-01)");
	test_unwire();

	test_wire(1, 100, 256);
	msgid = test_message(1, (long long)now - 1000, 10);
	CHECK(test_commit(msgid) == QUEUE_OK, "sched: an expired envelope "
	    "committed");
	CHECK(test_wait(IMSG_DISPATCHER_DELIVER_ENVELOPE, 1, 2000) == 1 &&
	    test_handed_type(test_nth(IMSG_DISPATCHER_DELIVER_ENVELOPE, 0)->
	    m.dispatcher_deliver_envelope.evpid, ENVELOPE_BOUNCE),
	    "sched: ttl over: never delivered, handed out as a bounce");
	test_answer(0, DELIVERY_OK);
	for (n = 0; n < 500 && test_committed(msgid); n++)
		test_loop_for(2);
	test_loop_for(50);
	CHECK(!test_committed(msgid) &&
	    test_count(IMSG_DISPATCHER_DELIVER_ENVELOPE) == 1,
	    "sched: its report queued, the bounce envelope and the message "
	    "go, nothing more is handed out");
	test_unwire();
}

/*
 * test_bench - commit throughput by concurrency: TOTAL messages (one
 * envelope each) committed in windows of N concurrent commits; only the
 * commits are timed (from the first COMMIT sent to the last result)
 */
static int
test_bench(void)
{
	static const size_t	conc[] = { 1, 4, 16, 64 };
	uint32_t		msgids[64];
	unsigned int		fsyncs;
	double			t, ms;
	size_t			c, i, done, total = 256, want;

	if (test_spool("fs") == -1)
		return 1;
	test_wire(0, 0, 0);
	for (c = 0; c < sizeof conc / sizeof conc[0]; c++) {
		ms = 0;
		fsyncs = 0;
		for (done = 0; done < total; done += conc[c]) {
			test_prepare(msgids, conc[c]);
			want = test_count(IMSG_QUEUE_COMMIT_MESSAGE_RESULT) +
			    conc[c];
			queue_fs_inject_fault(0, 0);
			t = test_ms();
			for (i = 0; i < conc[c]; i++)
				(void)test_commit_send(msgids[i]);
			(void)test_wait(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, want,
			    10000);
			ms += test_ms() - t;
			fsyncs += queue_fs_count_fsyncs();
			test_reset();
		}
		printf("concurrency %3zu: %zu commits in %.1f ms: %.0f "
		    "commits/s, %.2f fsyncs/commit\n", conc[c], total, ms,
		    total * 1000.0 / ms, (double)fsyncs / total);
	}
	test_unwire();
	queue_backend_close();
	test_rm_tree(test_root);
	return 0;
}

int
main(int argc, char *argv[])
{
	env = &test_env;
	log_init(1, 0);
	test_conf.queue_ttl = TEST_TTL;
	env->conf = &test_conf;
	if ((env->evb = event_base_new()) == NULL)
		return 1;
	if (argc == 2 && strcmp(argv[1], "bench") == 0)
		return test_bench();
	if (test_spool("fs") == -1) {
		perror("spool");
		return 1;
	}
	test_receive("fs");
	test_spares();
	test_lone_commit_rule();
	test_spool("ram");
	test_receive("ram");
	test_group_commit(0);
	test_group_commit(1);
	test_refusals();
	test_deliveries("fs");
	test_deliveries("ram");
	test_bounce_rules();
	test_no_body_fd();
	test_walk();
	test_scheduler();
	queue_backend_close();
	test_rm_tree(test_root);
	event_base_free(env->evb);
	return test_done();
}
