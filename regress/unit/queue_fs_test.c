/*
 * queue_fs_test.c -- unit tests for smtpd/queue/queue_fs.c, the fs
 * queue backend, driven through the queue_* entry points.
 *
 * The life cycle of one message; the fault-injection matrix (every
 * fallible call of create, body, envelope create, commit, update,
 * delete and set-aside fails in turn with ENOSPC, EIO and EDQUOT: the
 * call must tempfail, the committed message stay whole, nothing
 * half-written stay behind, and recovery leave only whole messages);
 * recovery from trees built by hand as a crash leaves them; a corrupt
 * envelope file; a batch delete (its shared fsyncs and its faults); a
 * 1000-message walk stepped while the queue changes;
 * file modes.  Every tree lives in a fresh directory under TMPDIR.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "queue_backend.h"	/* no -Ismtpd/queue yet */
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;

#define TEST_BODY	"Subject: test\r\n\r\nHello.\r\n"
#define TEST_MANY	1000
#define TEST_WHAT	256

static char		test_root[256];
static char		test_logdir[256];	/* the logs, not in the cwd */
static uint32_t		test_seed;
static int		test_stderr = -1;

/* test_log - the path of log NAME in test_logdir (a static buffer) */
static const char *
test_log(const char *name)
{
	static char	path[sizeof test_logdir + 64];

	snprintf(path, sizeof path, "%s/%s", test_logdir, name);
	return path;
}

/* test_ids - a fixed id sequence, so every run makes the same calls */
static uint32_t
test_ids(void)
{
	test_seed = test_seed * 1103515245u + 12345u;
	return test_seed;
}

/* test_quiet - send the expected warnings to log PATH or back (NULL) */
static void
test_quiet(const char *path)
{
	int	fd;

	fflush(stderr);
	if (path == NULL) {
		if (test_stderr != -1) {
			dup2(test_stderr, 2);
			close(test_stderr);
			test_stderr = -1;
		}
		return;
	}
	if (test_stderr == -1)
		test_stderr = dup(2);
	if ((fd = open(test_log(path), O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) != -1) {
		dup2(fd, 2);
		close(fd);
	}
}

/* test_file_has - whether log PATH contains NEEDLE */
static int
test_file_has(const char *path, const char *needle)
{
	static char	buf[1 << 20];
	ssize_t		n;
	int		fd;

	if ((fd = open(test_log(path), O_RDONLY)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* test_path - ROOT/REL in a static-free caller buffer */
static const char *
test_path(char *buf, size_t bufsz, const char *rel)
{
	int	n;

	n = snprintf(buf, bufsz, "%s/%s", test_root, rel);
	if (n < 0 || (size_t)n >= bufsz)
		buf[0] = '\0';		/* opens nothing */
	return buf;
}

/* test_fresh - an empty spool with the fs backend started on it */
static int
test_fresh(void)
{
	queue_backend_close();
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	snprintf(test_root, sizeof test_root, "%s/queuefs.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(test_root) == NULL)
		return -1;
	test_seed = 42;
	return queue_backend_init("fs", test_root);
}

/* test_envelope - a valid envelope for RCPT */
static void
test_envelope(struct envelope *evp, const char *rcpt)
{
	char	text[1024], err[256];
	int	n;

	n = snprintf(text, sizeof text,
	    "version: 3\ndispatcher: local\ntype: mda\n"
	    "smtpname: mx.example.org\nhelo: client.example\n"
	    "hostname: localhost\nsockaddr: 127.0.0.1\n"
	    "sender: alice@client.example\nrcpt: %s\ndest: %s\n"
	    "ctime: 1795302356\nlast-try: 0\nlast-bounce: 0\nttl: 345600\n"
	    "retry: 0\ndsn-notify: 0\nmda-user: vmail\n", rcpt, rcpt);
	memset(evp, 0, sizeof *evp);
	if (envelope_load(evp, text, (size_t)n, err, sizeof err) == -1)
		fprintf(stderr, "test envelope: %s\n", err);
}

/* test_same - whether two envelopes have the same text */
static int
test_same(const struct envelope *a, const struct envelope *b)
{
	static char	ta[ENVELOPE_TEXT_MAX], tb[ENVELOPE_TEXT_MAX];

	return envelope_dump(a, ta, sizeof ta) > 0 &&
	    envelope_dump(b, tb, sizeof tb) > 0 && strcmp(ta, tb) == 0;
}

/* test_write_body - write BODY through the message's write fd */
static int
test_write_body(uint32_t msgid, const char *body)
{
	int	fd, r;

	if ((r = queue_open_message_write(msgid, &fd)) != QUEUE_OK)
		return r;
	r = write(fd, body, strlen(body)) == (ssize_t)strlen(body) ?
	    QUEUE_OK : QUEUE_TEMPFAIL;
	close(fd);
	return r;
}

/* test_body_is - whether the committed body of MSGID is BODY */
static int
test_body_is(uint32_t msgid, const char *body)
{
	char	buf[256];
	ssize_t	n;
	int	fd;

	if (queue_open_message_read(msgid, &fd) != QUEUE_OK)
		return 0;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n == (ssize_t)strlen(body) && memcmp(buf, body, n) == 0;
}

/* test_message - a committed message with NEVP envelopes (at most 4) */
static int
test_message(int nevp, uint32_t *msgid, uint64_t *evpids)
{
	struct envelope	evp;
	char		rcpt[64];
	int		i;

	if (queue_create_message(msgid) != QUEUE_OK)
		return -1;
	for (i = 0; i < nevp; i++) {
		snprintf(rcpt, sizeof rcpt, "rcpt%d@example.com", i);
		test_envelope(&evp, rcpt);
		if (queue_create_envelope(*msgid, &evp) != QUEUE_OK)
			return -1;
		evpids[i] = evp.evpid;
	}
	if (test_write_body(*msgid, TEST_BODY) != QUEUE_OK)
		return -1;
	return queue_commit_message(*msgid) == QUEUE_OK ? 0 : -1;
}

/* test_intact - MSGID committed, its envelopes EVPIDS[FIRST..NEVP) whole */
static int
test_intact(uint32_t msgid, const uint64_t *evpids, int first, int nevp)
{
	struct envelope	got, want;
	char		rcpt[64];
	int		i;

	if (!test_body_is(msgid, TEST_BODY))
		return 0;
	for (i = first; i < nevp; i++) {
		snprintf(rcpt, sizeof rcpt, "rcpt%d@example.com", i);
		test_envelope(&want, rcpt);
		if (queue_load_envelope(evpids[i], &got) != QUEUE_OK ||
		    got.evpid != evpids[i] || !test_same(&got, &want))
			return 0;
	}
	return 1;
}

/* the state of a spool, read behind the backend's back */
struct test_tree {
	int	incoming;	/* entries of incoming/ */
	int	temporary;
	int	purge;
	int	corrupt;
	int	messages;	/* committed message directories */
	int	envelopes;	/* their envelope files */
	int	bad;		/* anything not a whole committed message */
};

/* test_scan_message - check one committed message directory */
static void
test_scan_message(const char *dir, uint32_t msgid, struct test_tree *t)
{
	static char	 text[ENVELOPE_TEXT_MAX + 1];
	struct envelope	 evp;
	struct dirent	*de;
	DIR		*dp;
	char		 err[256];
	uint64_t	 evpid;
	ssize_t		 n;
	int		 fd, body = 0, nevp = 0;

	if ((dp = opendir(dir)) == NULL) {
		t->bad++;
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (strcmp(de->d_name, "message") == 0) {
			body = 1;
			continue;
		}
		if (evpid_parse(de->d_name, &evpid) == -1 ||
		    evpid_to_msgid(evpid) != msgid) {
			t->bad++;
			continue;
		}
		n = -1;
		if ((fd = openat(dirfd(dp), de->d_name, O_RDONLY)) != -1) {
			n = read(fd, text, sizeof text);
			close(fd);
		}
		if (n <= 0 || envelope_load(&evp, text, (size_t)n, err,
		    sizeof err) == -1)
			t->bad++;
		nevp++;
	}
	closedir(dp);
	if (!body || nevp == 0)
		t->bad++;
	t->messages++;
	t->envelopes += nevp;
}

/* test_count - entries in ROOT/REL */
static int
test_count(const char *rel)
{
	struct dirent	*de;
	DIR		*dp;
	char		 path[PATH_MAX];
	int		 n = 0;

	if ((dp = opendir(test_path(path, sizeof path, rel))) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

/* test_scan - the whole spool */
static void
test_scan(struct test_tree *t)
{
	struct dirent	*de;
	DIR		*dp;
	char		 bucket[PATH_MAX], dir[PATH_MAX + 16], rel[32];
	uint32_t	 msgid;
	unsigned int	 b;

	memset(t, 0, sizeof *t);
	t->incoming = test_count("incoming");
	t->temporary = test_count("temporary");
	t->purge = test_count("purge");
	t->corrupt = test_count("corrupt");
	if (test_count("queue") > 256)
		t->bad++;
	for (b = 0; b < 256; b++) {
		snprintf(rel, sizeof rel, "queue/%02x", b);
		if ((dp = opendir(test_path(bucket, sizeof bucket, rel))) ==
		    NULL)
			continue;
		while ((de = readdir(dp)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (msgid_parse(de->d_name, &msgid) == -1 ||
			    msgid >> 24 != b) {
				t->bad++;
				continue;
			}
			snprintf(dir, sizeof dir, "%s/%s", bucket, de->d_name);
			test_scan_message(dir, msgid, t);
		}
		closedir(dp);
	}
}

/* test_where - 'q' committed, 'i' incoming, 'c' corrupt/, '-' none */
static char
test_where(uint32_t msgid)
{
	struct stat	st;
	char		rel[64], path[PATH_MAX];

	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32, msgid >> 24, msgid);
	if (stat(test_path(path, sizeof path, rel), &st) == 0)
		return 'q';
	snprintf(rel, sizeof rel, "incoming/%08" PRIx32, msgid);
	if (stat(test_path(path, sizeof path, rel), &st) == 0)
		return 'i';
	return '-';
}

/* test_exists - whether ROOT/REL exists */
static int
test_exists(const char *rel)
{
	struct stat	st;
	char		path[PATH_MAX];

	return stat(test_path(path, sizeof path, rel), &st) == 0;
}

/* test_mode - the permission bits of ROOT/REL, or -1 */
static int
test_mode(const char *rel)
{
	struct stat	st;
	char		path[PATH_MAX];

	if (stat(test_path(path, sizeof path, rel), &st) == -1)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* test_life_cycle - create, 2 envelopes, body, commit, walk, ..., gone */
static void
test_life_cycle(void)
{
	struct envelope		 a, b, got;
	struct queue_walk	*w;
	struct test_tree	 t;
	char			 rel[64];
	uint32_t		 msgid = 0;
	uint64_t		 seen[4];
	int			 n = 0, r, fd;

	CHECK(test_fresh() == 0, "life: init");
	CHECK(queue_create_message(&msgid) == QUEUE_OK && msgid != 0,
	    "life: create message");
	test_envelope(&a, "bob@example.com");
	test_envelope(&b, "carol@example.com");
	CHECK(queue_create_envelope(msgid, &a) == QUEUE_OK,
	    "life: envelope 1");
	CHECK(queue_create_envelope(msgid, &b) == QUEUE_OK,
	    "life: envelope 2");
	CHECK(evpid_to_msgid(a.evpid) == msgid &&
	    evpid_to_msgid(b.evpid) == msgid && (uint32_t)a.evpid != 0 &&
	    a.evpid != b.evpid, "life: evpids inside the msgid");
	CHECK(test_write_body(msgid, TEST_BODY) == QUEUE_OK, "life: body");
	CHECK(queue_open_message_write(msgid, &fd) != QUEUE_OK,
	    "life: a second body fd is refused");
	CHECK(queue_open_message_read(msgid, &fd) == QUEUE_NOTFOUND,
	    "life: no read fd before commit");
	test_scan(&t);
	CHECK(t.messages == 0 && t.incoming == 1, "life: in incoming/");
	CHECK(queue_commit_message(msgid) == QUEUE_OK, "life: commit");
	CHECK(queue_commit_message(msgid) == QUEUE_NOTFOUND,
	    "life: a second commit is refused");
	test_scan(&t);
	CHECK(t.messages == 1 && t.envelopes == 2 && t.bad == 0 &&
	    t.incoming == 0 && t.temporary == 0, "life: in queue/, whole");
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/message",
	    msgid >> 24, msgid);
	CHECK(test_exists(rel), "life: queue/XX/MSGID/message (QUEUE-02)");

	CHECK((w = queue_walk_new(0)) != NULL, "life: walk");
	while (w != NULL && n < 4 && (r = queue_walk_next(w, &got)) ==
	    QUEUE_OK)
		seen[n++] = got.evpid;
	queue_walk_free(&w);
	CHECK(w == NULL, "life: walk freed and cleared");
	CHECK(n == 2 && ((seen[0] == a.evpid && seen[1] == b.evpid) ||
	    (seen[0] == b.evpid && seen[1] == a.evpid)),
	    "life: walk sees both");

	CHECK(queue_load_envelope(a.evpid, &got) == QUEUE_OK &&
	    got.evpid == a.evpid && test_same(&got, &a), "life: load");
	got.retry = 3;
	envelope_set_errorline(&got, "451 4.3.0 try later");
	CHECK(queue_update_envelope(&got) == QUEUE_OK, "life: update");
	CHECK(queue_load_envelope(a.evpid, &a) == QUEUE_OK && a.retry == 3 &&
	    strcmp(a.errorline, "451 4.3.0 try later") == 0,
	    "life: the update reads back");
	CHECK(test_body_is(msgid, TEST_BODY), "life: body reads back");

	CHECK(queue_delete_envelope(a.evpid) == QUEUE_OK, "life: delete 1");
	CHECK(queue_load_envelope(a.evpid, &got) == QUEUE_NOTFOUND,
	    "life: deleted envelope not found");
	CHECK(queue_delete_envelope(a.evpid) == QUEUE_NOTFOUND,
	    "life: second delete not found");
	CHECK(test_where(msgid) == 'q' && test_body_is(msgid, TEST_BODY),
	    "life: message stays with one envelope");
	CHECK(queue_delete_envelope(b.evpid) == QUEUE_OK, "life: delete 2");
	CHECK(test_where(msgid) == '-', "life: the last delete drops it");
	CHECK(queue_open_message_read(msgid, &fd) == QUEUE_NOTFOUND,
	    "life: no body any more");
	test_scan(&t);
	CHECK(t.messages == 0 && t.purge == 0 && t.temporary == 0 &&
	    t.incoming == 0, "life: spool empty again");
}

/* test_not_found - unknown ids and misuse answer "not found" */
static void
test_not_found(void)
{
	struct envelope		 evp;
	struct queue_walk	*w;
	uint32_t		 msgid = 0;
	uint64_t		 evpids[2] = { 0, 0 };
	int			 fd;

	CHECK(test_fresh() == 0, "notfound: init");
	CHECK(test_message(1, &msgid, evpids) == 0, "notfound: a message");
	CHECK(queue_load_envelope(0, &evp) == QUEUE_NOTFOUND,
	    "notfound: load evpid 0");
	CHECK(queue_load_envelope((uint64_t)msgid << 32, &evp) ==
	    QUEUE_NOTFOUND, "notfound: load evpid with a 0 half");
	CHECK(queue_load_envelope(evpids[0] + 1, &evp) == QUEUE_NOTFOUND,
	    "notfound: load missing envelope");
	CHECK(queue_load_envelope(evpids[0] ^ 0x8000000000000000ull, &evp) ==
	    QUEUE_NOTFOUND, "notfound: load in a missing message");
	CHECK(queue_delete_envelope(evpids[0] + 1) == QUEUE_NOTFOUND,
	    "notfound: delete missing envelope");
	test_envelope(&evp, "x@example.com");
	evp.evpid = evpids[0] + 1;
	CHECK(queue_update_envelope(&evp) == QUEUE_NOTFOUND,
	    "notfound: update missing envelope");
	CHECK(queue_create_envelope(msgid ^ 0x80000000u, &evp) ==
	    QUEUE_NOTFOUND, "notfound: envelope in a missing message");
	CHECK(queue_delete_message(msgid ^ 0x80000000u) == QUEUE_NOTFOUND,
	    "notfound: delete missing message");
	CHECK(queue_delete_message(0) == QUEUE_NOTFOUND,
	    "notfound: delete msgid 0");
	CHECK(queue_open_message_read(msgid ^ 0x80000000u, &fd) ==
	    QUEUE_NOTFOUND, "notfound: fd_r missing message");
	CHECK(queue_open_message_write(msgid, &fd) == QUEUE_NOTFOUND,
	    "notfound: fd_w of a committed message");
	CHECK(queue_commit_message(msgid ^ 0x80000000u) == QUEUE_NOTFOUND,
	    "notfound: commit missing message");
	CHECK((w = queue_walk_new(msgid ^ 0x80000000u)) != NULL &&
	    queue_walk_next(w, &evp) == QUEUE_NOTFOUND,
	    "notfound: walk of a missing message ends at once");
	queue_walk_free(&w);

	/* a message without envelope or body cannot be committed */
	CHECK(queue_create_message(&msgid) == QUEUE_OK, "notfound: create");
	CHECK(test_write_body(msgid, TEST_BODY) == QUEUE_OK, "notfound: body");
	CHECK(queue_commit_message(msgid) == QUEUE_NOTFOUND,
	    "notfound: commit without envelope refused");
	CHECK(queue_delete_message(msgid) == QUEUE_OK &&
	    test_where(msgid) == '-', "notfound: rollback of incoming");
	CHECK(queue_create_message(&msgid) == QUEUE_OK &&
	    queue_create_envelope(msgid, &evp) == QUEUE_OK,
	    "notfound: create with envelope");
	CHECK(queue_commit_message(msgid) == QUEUE_NOTFOUND &&
	    test_where(msgid) == 'i', "notfound: commit without body refused");
	CHECK(queue_delete_envelope(evp.evpid) == QUEUE_OK &&
	    test_where(msgid) == 'i',
	    "notfound: last envelope of an incoming message leaves it");
	CHECK(queue_delete_message(msgid) == QUEUE_OK, "notfound: rollback");
}

/*
 * The fault matrix.  Each case prepares a spool holding the committed
 * message M0 (2 envelopes, never touched) and a target message M1,
 * runs one operation on M1 and says which states of M1 are acceptable
 * after a failure.
 */
enum test_op {
	OP_CREATE, OP_FD_W, OP_ENVELOPE_CREATE, OP_COMMIT, OP_UPDATE,
	OP_DELETE_ONE, OP_DELETE_LAST, OP_DELETE_INCOMING,
	OP_DELETE_COMMITTED, OP_CORRUPT, OP__COUNT
};

static const char *const test_op_names[] = {
	"message create", "message fd_w", "envelope create", "commit",
	"envelope update", "envelope delete (not last)",
	"envelope delete (last)", "message delete (incoming)",
	"message delete (committed)", "envelope set aside"
};

struct test_case {
	uint32_t	m0, m1;
	uint64_t	e0[2], e1[2];
	uint32_t	made;		/* OP_CREATE: the new msgid */
};

/* test_case_prepare - M0 and the M1 that OP needs */
static int
test_case_prepare(enum test_op op, struct test_case *c)
{
	struct envelope	evp;

	memset(c, 0, sizeof *c);
	if (test_fresh() == -1 || test_message(2, &c->m0, c->e0) == -1)
		return -1;
	switch (op) {
	case OP_CREATE:
		return 0;
	case OP_FD_W:
		return queue_create_message(&c->m1) == QUEUE_OK ? 0 : -1;
	case OP_ENVELOPE_CREATE:
	case OP_COMMIT:
	case OP_DELETE_INCOMING:
		test_envelope(&evp, "rcpt0@example.com");
		if (queue_create_message(&c->m1) != QUEUE_OK ||
		    queue_create_envelope(c->m1, &evp) != QUEUE_OK)
			return -1;
		c->e1[0] = evp.evpid;
		if (op == OP_ENVELOPE_CREATE)
			return 0;
		test_envelope(&evp, "rcpt1@example.com");
		if (queue_create_envelope(c->m1, &evp) != QUEUE_OK)
			return -1;
		c->e1[1] = evp.evpid;
		return test_write_body(c->m1, TEST_BODY) == QUEUE_OK ? 0 : -1;
	case OP_DELETE_LAST:
	case OP_CORRUPT:
		return test_message(1, &c->m1, c->e1);
	default:
		return test_message(2, &c->m1, c->e1);
	}
}

/* test_case_run - the operation under test */
static int
test_case_run(enum test_op op, struct test_case *c)
{
	struct envelope	evp;

	switch (op) {
	case OP_CREATE:
		return queue_create_message(&c->made);
	case OP_FD_W:
		return test_write_body(c->m1, TEST_BODY);
	case OP_ENVELOPE_CREATE:
		test_envelope(&evp, "rcpt1@example.com");
		return queue_create_envelope(c->m1, &evp);
	case OP_COMMIT:
		return queue_commit_message(c->m1);
	case OP_UPDATE:
		test_envelope(&evp, "rcpt0@example.com");
		evp.evpid = c->e1[0];
		evp.retry = 7;
		return queue_update_envelope(&evp);
	case OP_DELETE_ONE:
	case OP_DELETE_LAST:
		return queue_delete_envelope(c->e1[0]);
	case OP_DELETE_INCOMING:
	case OP_DELETE_COMMITTED:
		return queue_delete_message(c->m1);
	case OP_CORRUPT:
		return queue_backend_fs.envelope_corrupt(
		    queue_backend_context(), c->e1[0]);
	default:
		return QUEUE_TEMPFAIL;
	}
}

/* test_case_m1_ok - is M1 in a state a failed OP may leave? */
static int
test_case_m1_ok(enum test_op op, struct test_case *c)
{
	struct envelope	evp;
	char		rel[64];
	int		r;

	switch (op) {
	case OP_CREATE:
		return test_count("incoming") == 0;
	case OP_FD_W:
		snprintf(rel, sizeof rel, "incoming/%08" PRIx32 "/message",
		    c->m1);
		return !test_exists(rel);
	case OP_ENVELOPE_CREATE:
		snprintf(rel, sizeof rel, "incoming/%08" PRIx32, c->m1);
		return test_count(rel) == 1;	/* the first one only */
	case OP_COMMIT:
		snprintf(rel, sizeof rel, "incoming/%08" PRIx32, c->m1);
		return test_where(c->m1) == 'i' && test_count(rel) == 3;
	case OP_UPDATE:
		r = queue_load_envelope(c->e1[0], &evp);
		return r == QUEUE_OK && (evp.retry == 0 || evp.retry == 7) &&
		    test_intact(c->m1, c->e1, 1, 2);
	case OP_DELETE_ONE:
		/* the other envelope and the body stay, whatever happened */
		if (queue_load_envelope(c->e1[1], &evp) != QUEUE_OK ||
		    !test_body_is(c->m1, TEST_BODY))
			return 0;
		r = queue_load_envelope(c->e1[0], &evp);
		return r == QUEUE_OK || r == QUEUE_NOTFOUND;
	case OP_DELETE_LAST:
	case OP_DELETE_COMMITTED:
		return test_where(c->m1) == '-' ||
		    test_intact(c->m1, c->e1, 0, op == OP_DELETE_LAST ? 1 : 2);
	case OP_DELETE_INCOMING:
		return test_where(c->m1) == '-' || test_where(c->m1) == 'i';
	case OP_CORRUPT:
		snprintf(rel, sizeof rel, "corrupt/%08" PRIx32 "/%016" PRIx64,
		    c->m1, c->e1[0]);
		return test_intact(c->m1, c->e1, 0, 1) != test_exists(rel);
	default:
		return 0;
	}
}

/* test_fault_one - OP with its Nth fallible call failing with ERR */
static void
test_fault_one(enum test_op op, unsigned int nth, unsigned int total,
    int err)
{
	struct queue_recovery	rec;
	struct test_case	c;
	struct test_tree	t;
	char			what[TEST_WHAT];
	int			r, want;

	snprintf(what, sizeof what, "fault %s %u/%u %s", test_op_names[op],
	    nth, total, err == ENOSPC ? "ENOSPC" : err == EIO ? "EIO" :
	    "EDQUOT");
	if (!CHECK(test_case_prepare(op, &c) == 0, "fault: prepare"))
		return;
	queue_fs_inject_fault(nth, err);
	r = test_case_run(op, &c);
	queue_fs_inject_fault(0, 0);
	want = err == EIO ? QUEUE_TEMPFAIL : QUEUE_NOSPACE;
	if (!test_check(r == want, what, __FILE__, __LINE__))
		printf("# result %d, want %d\n", r, want);
	test_scan(&t);
	test_check(t.bad == 0 && t.temporary == 0 && t.purge == 0 &&
	    test_intact(c.m0, c.e0, 0, 2),
	    "  ...M0 whole, nothing half-written",
	    __FILE__, __LINE__);
	test_check(test_case_m1_ok(op, &c), "  ...target in a state allowed",
	    __FILE__, __LINE__);
	r = queue_recover(&rec);
	test_scan(&t);
	test_check(r == QUEUE_OK && t.bad == 0 && t.incoming == 0 &&
	    t.temporary == 0 && t.purge == 0 && test_intact(c.m0, c.e0, 0, 2) &&
	    test_where(c.m0) == 'q',
	    "  ...after recovery only whole messages", __FILE__, __LINE__);
}

/* test_fault_matrix - every fallible call of every operation, in turn */
static void
test_fault_matrix(void)
{
	static const int	errs[] = { ENOSPC, EIO, EDQUOT };
	struct test_case	c;
	char			what[TEST_WHAT];
	unsigned int		total, nth;
	size_t			e;
	int			op, r;

	test_quiet("queue_fs_test.faults.log");
	queue_backend_set_id_source(test_ids);
	for (op = 0; op < OP__COUNT; op++) {
		/* a clean run counts the calls and must succeed */
		if (test_case_prepare(op, &c) == -1) {
			CHECK(0, "fault: prepare");
			continue;
		}
		queue_fs_inject_fault(0, 0);
		r = test_case_run(op, &c);
		total = queue_fs_count_calls();
		snprintf(what, sizeof what, "fault %s: clean run, %u calls",
		    test_op_names[op], total);
		CHECK(r == QUEUE_OK && total > 0 && total < 64, what);
		for (nth = 1; nth <= total && total < 64; nth++)
			for (e = 0; e < sizeof errs / sizeof errs[0]; e++)
				test_fault_one(op, nth, total, errs[e]);
		/* one past the last call: no fault fires, success */
		if (test_case_prepare(op, &c) == 0) {
			queue_fs_inject_fault(total + 1, EIO);
			snprintf(what, sizeof what, "fault %s: call %u is "
			    "never made", test_op_names[op], total + 1);
			CHECK(test_case_run(op, &c) == QUEUE_OK, what);
			queue_fs_inject_fault(0, 0);
		}
	}
	queue_backend_set_id_source(NULL);
	test_quiet(NULL);
}

/* test_bucket_ids - ids that all fall in bucket 5a */
static uint32_t
test_bucket_ids(void)
{
	test_seed = test_seed * 1103515245u + 12345u;
	return 0x5a000000u | (test_seed & 0x00ffffffu) | 1;
}

#define TEST_BATCH	6

/* test_batch_prepare - TEST_BATCH messages of one envelope, one of two
 * (TWO, both in the batch) and one kept out of it (KEEP); the batch's
 * evpids in EVPIDS (the last one unknown) */
static int
test_batch_prepare(uint32_t *msgids, uint64_t *evpids, uint32_t *two,
    uint64_t *twoe, uint32_t *keep, uint64_t *keepe)
{
	int	i;

	if (test_fresh() == -1)
		return -1;
	queue_backend_set_id_source(test_bucket_ids);
	for (i = 0; i < TEST_BATCH; i++)
		if (test_message(1, &msgids[i], &evpids[i]) == -1)
			return -1;
	if (test_message(2, two, twoe) == -1 ||
	    test_message(1, keep, keepe) == -1)
		return -1;
	evpids[TEST_BATCH] = twoe[0];
	evpids[TEST_BATCH + 1] = twoe[1];
	evpids[TEST_BATCH + 2] = keepe[0] ^ 0x5555;	/* no such one */
	return 0;
}

/*
 * test_delete_batch - envelopes deleted in one batch share their fsyncs:
 * the bucket once, a message's directory once; every result as a
 * delete of its own would give; with any call failing, a failed
 * envelope's message is whole (or, for an envelope that was not its
 * message's last, at worst without it), the others gone, and recovery
 * leaves only whole messages
 */
static void
test_delete_batch(void)
{
	static const int	want_ok[TEST_BATCH + 3] = {
		1, 1, 1, 1, 1, 1, 1, 1, 0
	};
	uint32_t		msgids[TEST_BATCH], two, keep;
	uint64_t		evpids[TEST_BATCH + 3], twoe[2], keepe;
	int			results[TEST_BATCH + 3];
	struct queue_recovery	rec;
	struct test_tree	t;
	struct envelope		got;
	char			what[TEST_WHAT];
	unsigned int		total, nth, fsyncs, ckpt;
	int			i, r, ok;

	if (!CHECK(test_batch_prepare(msgids, evpids, &two, twoe, &keep,
	    &keepe) == 0, "batch delete: prepare"))
		return;
	queue_fs_inject_fault(0, 0);
	ckpt = queue_fs_count_checkpoints();
	r = queue_delete_envelopes(TEST_BATCH + 3, evpids, results);
	total = queue_fs_count_calls();
	fsyncs = queue_fs_count_fsyncs();
	/* the messages were just committed through the journal: their
	 * delete records first, one flush, and no checkpoint */
	ckpt = queue_fs_count_checkpoints() - ckpt;
	CHECK(ckpt == 0, "batch delete: no checkpoint of the journal");
	fsyncs -= 1;
	for (i = 0, ok = 1; i < TEST_BATCH + 3; i++)
		ok &= want_ok[i] ? results[i] == QUEUE_OK :
		    results[i] == QUEUE_NOTFOUND;
	CHECK(r == QUEUE_NOTFOUND && ok, "batch delete: each result as "
	    "alone, the unknown one not found");
	for (i = 0, ok = 1; i < TEST_BATCH; i++)
		ok &= test_where(msgids[i]) == '-';
	CHECK(ok && test_where(two) == '-', "batch delete: all gone");
	CHECK(test_intact(keep, &keepe, 0, 1), "batch delete: the other "
	    "message whole");
	test_scan(&t);
	CHECK(t.purge == 0 && t.temporary == 0 && t.bad == 0,
	    "batch delete: nothing left in purge/");
	snprintf(what, sizeof what, "batch delete: %u fsyncs for %d "
	    "envelopes (the bucket, and the directory of the message of "
	    "two)", fsyncs, TEST_BATCH + 2);
	CHECK(fsyncs == 2, what);

	test_quiet("queue_fs_test.batch.log");
	for (nth = 1; nth <= total && total < 128; nth++) {
		if (test_batch_prepare(msgids, evpids, &two, twoe, &keep,
		    &keepe) == -1) {
			CHECK(0, "batch delete: prepare");
			break;
		}
		queue_fs_inject_fault(nth, EIO);
		(void)queue_delete_envelopes(TEST_BATCH + 3, evpids, results);
		queue_fs_inject_fault(0, 0);
		for (i = 0, ok = 1; i < TEST_BATCH; i++)
			ok &= results[i] == QUEUE_OK ?
			    test_where(msgids[i]) == '-' :
			    results[i] == QUEUE_TEMPFAIL &&
			    test_intact(msgids[i], &evpids[i], 0, 1);
		/* TWO: its second delete went: gone (it was the last), or
		 * there without that envelope (the first one failed before
		 * its unlink); it failed: still there.  The first one may
		 * be gone whatever its result (unlinked, then an open or
		 * fsync failed), as with a delete of its own */
		if (results[TEST_BATCH + 1] == QUEUE_OK)
			ok &= test_where(two) == '-' ||
			    (test_where(two) == 'q' &&
			    queue_load_envelope(twoe[1], &got) ==
			    QUEUE_NOTFOUND);
		else
			ok &= test_where(two) == 'q';
		ok &= test_intact(keep, &keepe, 0, 1);
		test_scan(&t);
		ok &= t.bad == 0 && t.temporary == 0 && t.purge == 0;
		r = queue_recover(&rec);
		test_scan(&t);
		ok &= r == QUEUE_OK && t.bad == 0 && t.purge == 0 &&
		    test_intact(keep, &keepe, 0, 1);
		snprintf(what, sizeof what, "batch delete: call %u of %u "
		    "fails: results match the spool", nth, total);
		CHECK(ok, what);
	}
	test_quiet(NULL);
	queue_backend_set_id_source(NULL);
}

/* test_mkfile - ROOT/REL with TEXT in it, or a directory if TEXT is NULL */
static void
test_mkfile(const char *rel, const char *text)
{
	char	path[PATH_MAX];
	int	fd;

	test_path(path, sizeof path, rel);
	if (text == NULL) {
		mkdir(path, 0700);
		return;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fprintf(stderr, "test: short write %s\n", path);
	close(fd);
}

/* test_recover - trees as crashes leave them, then queue_recover */
static void
test_recover(void)
{
	static char		 text[ENVELOPE_TEXT_MAX];
	struct queue_recovery	 rec;
	struct queue_walk	*w;
	struct envelope		 evp;
	struct test_tree	 t;
	uint32_t		 good = 0;
	uint64_t		 goodevp[2] = { 0, 0 };
	int			 n = 0;

	CHECK(test_fresh() == 0, "recover: init");
	CHECK(test_message(2, &good, goodevp) == 0, "recover: good message");
	test_envelope(&evp, "x@example.com");
	envelope_dump(&evp, text, sizeof text);

	/* crash while receiving: body and one envelope in incoming/ */
	test_mkfile("incoming/0a0b0c0d", NULL);
	test_mkfile("incoming/0a0b0c0d/message", TEST_BODY);
	test_mkfile("incoming/0a0b0c0d/0a0b0c0d00000001", text);
	/* crash in the middle of an envelope write */
	test_mkfile("temporary/evp.0a0b0c0d.12345678", "version: 3\ntype");
	/* crash while removing a deleted message */
	test_mkfile("purge/0b0b0b0b.00000001", NULL);
	test_mkfile("purge/0b0b0b0b.00000001/message", TEST_BODY);
	/* crash after the last envelope was set aside: no envelope left */
	test_mkfile("queue/0c", NULL);
	test_mkfile("queue/0c/0c0c0c0c", NULL);
	test_mkfile("queue/0c/0c0c0c0c/message", TEST_BODY);
	/* damage: envelopes without a body are kept, set aside */
	test_mkfile("queue/0d", NULL);
	test_mkfile("queue/0d/0d0d0d0d", NULL);
	test_mkfile("queue/0d/0d0d0d0d/0d0d0d0d00000001", text);
	/* an operator's stray file is neither read nor removed */
	test_mkfile("queue/0e", NULL);
	test_mkfile("queue/0e/README", "hands off\n");

	test_quiet("queue_fs_test.recover.log");
	CHECK(queue_recover(&rec) == QUEUE_OK, "recover: runs");
	CHECK(rec.incoming == 1, "recover: uncommitted message discarded");
	CHECK(rec.temporary == 1, "recover: half-written file removed");
	CHECK(rec.purged == 1, "recover: purge/ emptied");
	/* queue/ is the walk's: recovery costs what a crash left, not what
	 * is queued (QUEUE-10: a start is not O(queue)) */
	CHECK(rec.empty == 0 && rec.corrupt == 0 &&
	    test_exists("queue/0c/0c0c0c0c/message") &&
	    test_exists("queue/0d/0d0d0d0d/0d0d0d0d00000001"),
	    "recover: queue/ is not read at start-up");
	w = queue_walk_new(0);
	while (w != NULL && n < 10 && queue_walk_next(w, &evp) == QUEUE_OK)
		n++;
	queue_walk_free(&w);
	test_quiet(NULL);
	CHECK(n == 2, "recover: the walk sees the good envelopes only");
	CHECK(test_file_has("queue_fs_test.recover.log",
	    "msgid=0a0b0c0d action=discarded reason=uncommitted"),
	    "recover: the discarded msgid is logged");
	CHECK(test_file_has("queue_fs_test.recover.log",
	    "msgid=0c0c0c0c action=removed reason=no-envelope"),
	    "recover: the walk removes a message left without envelope, "
	    "logged");
	CHECK(test_file_has("queue_fs_test.recover.log",
	    "msgid=0d0d0d0d action=corrupt reason=no-body"),
	    "recover: the walk sets envelopes without body aside, logged");
	CHECK(test_exists("corrupt/0d0d0d0d/0d0d0d0d00000001"),
	    "recover: the bodiless envelope is kept in corrupt/");
	CHECK(test_exists("queue/0e/README"), "recover: stray file kept");
	test_scan(&t);
	CHECK(t.incoming == 0 && t.temporary == 0 && t.purge == 0,
	    "recover: incoming/, temporary/, purge/ empty");
	CHECK(t.messages == 1 && t.envelopes == 2 && t.bad == 1,
	    "recover: only the good message (and the stray file) left");
	CHECK(test_intact(good, goodevp, 0, 2), "recover: good message whole");
	n = 0;
	w = queue_walk_new(0);
	while (w != NULL && n < 10 && queue_walk_next(w, &evp) == QUEUE_OK)
		n++;
	queue_walk_free(&w);
	CHECK(n == 2, "recover: a second walk sees the same");
	CHECK(queue_recover(&rec) == QUEUE_OK && rec.incoming == 0 &&
	    rec.temporary == 0 && rec.purged == 0 && rec.empty == 0 &&
	    rec.corrupt == 0, "recover: a second pass finds nothing");
}

/* test_corrupt - a truncated envelope file is set aside by the walk */
static void
test_corrupt(void)
{
	struct queue_walk	*w;
	struct envelope		 evp;
	char			 rel[80], needle[64];
	uint32_t		 m1 = 0, m2 = 0;
	uint64_t		 e1[2] = { 0, 0 }, e2[1] = { 0 };
	uint64_t		 seen = 0;
	int			 n = 0, r = QUEUE_OK;

	CHECK(test_fresh() == 0, "corrupt: init");
	CHECK(test_message(2, &m1, e1) == 0 && test_message(1, &m2, e2) == 0,
	    "corrupt: two messages");
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/%016" PRIx64,
	    m1 >> 24, m1, e1[0]);
	test_mkfile(rel, "version: 3\ndispatcher: lo");	/* truncated */
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/%016" PRIx64,
	    m2 >> 24, m2, e2[0]);
	test_mkfile(rel, "version: 3\nbogus: 1\n");	/* unknown field */

	test_quiet("queue_fs_test.corrupt.log");
	w = queue_walk_new(0);
	while (w != NULL && n < 10 && (r = queue_walk_next(w, &evp)) ==
	    QUEUE_OK) {
		seen = evp.evpid;
		n++;
	}
	queue_walk_free(&w);
	test_quiet(NULL);
	CHECK(r == QUEUE_NOTFOUND && n == 1 && seen == e1[1],
	    "corrupt: the walk goes on and returns the good envelope");
	snprintf(needle, sizeof needle, "evpid=%016" PRIx64 " corrupt", e1[0]);
	CHECK(test_file_has("queue_fs_test.corrupt.log", needle),
	    "corrupt: a log line names the evpid");
	snprintf(rel, sizeof rel, "corrupt/%08" PRIx32 "/%016" PRIx64, m1,
	    e1[0]);
	CHECK(test_exists(rel), "corrupt: moved to corrupt/MSGID/EVPID");
	snprintf(rel, sizeof rel, "corrupt/%08" PRIx32 "/message", m1);
	CHECK(test_exists(rel), "corrupt: with the body beside it");
	CHECK(test_intact(m1, e1, 1, 2), "corrupt: the rest of m1 stays");
	CHECK(test_where(m2) == '-', "corrupt: m2, left without envelope, "
	    "leaves queue/");
	snprintf(rel, sizeof rel, "corrupt/%08" PRIx32 "/message", m2);
	CHECK(test_exists(rel), "corrupt: m2's body kept in corrupt/");
	CHECK(queue_load_envelope(e1[0], &evp) == QUEUE_NOTFOUND,
	    "corrupt: set aside means not found");

	/* load finds the damage too */
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/%016" PRIx64,
	    m1 >> 24, m1, e1[1]);
	test_mkfile(rel, "");
	test_quiet("queue_fs_test.corrupt.log");
	CHECK(queue_load_envelope(e1[1], &evp) == QUEUE_NOTFOUND,
	    "corrupt: an empty file does not load");
	test_quiet(NULL);
	snprintf(rel, sizeof rel, "corrupt/%08" PRIx32 "/%016" PRIx64, m1,
	    e1[1]);
	CHECK(test_exists(rel) && test_where(m1) == '-',
	    "corrupt: load sets it aside as well");
	CHECK(queue_create_message(&m2) == QUEUE_OK && m2 != m1,
	    "corrupt: new messages still accepted");
}

/* test_stuck - an entry that never reads does not stop the walk */
static void
test_stuck(void)
{
	struct queue_walk	*w;
	struct envelope		 evp;
	char			 rel[80];
	uint32_t		 msgid = 0;
	uint64_t		 evpids[1] = { 0 }, seen = 0;
	int			 steps, fails = 0, n = 0, r = QUEUE_OK;

	CHECK(test_fresh() == 0, "stuck: init");
	CHECK(test_message(1, &msgid, evpids) == 0, "stuck: a message");
	/* a directory where an envelope file belongs: read gives EISDIR */
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/%08" PRIx32
	    "00000099", msgid >> 24, msgid, msgid);
	test_mkfile(rel, NULL);
	test_quiet("queue_fs_test.stuck.log");
	w = queue_walk_new(0);
	for (steps = 0; w != NULL && steps < 10; steps++) {
		if ((r = queue_walk_next(w, &evp)) == QUEUE_NOTFOUND)
			break;
		if (r < 0)
			fails++;
		else {
			seen = evp.evpid;
			n++;
		}
	}
	queue_walk_free(&w);
	test_quiet(NULL);
	CHECK(r == QUEUE_NOTFOUND && n == 1 && seen == evpids[0] &&
	    fails <= 2, "stuck: the walk ends, having skipped the entry");
	CHECK(test_file_has("queue_fs_test.stuck.log", "00000099 unreadable"),
	    "stuck: the skipped evpid is logged");
}

/* test_cmp64 - qsort order of evpids */
static int
test_cmp64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* test_many - 1000 messages, walked in steps while the queue changes */
static void
test_many(void)
{
	static uint64_t		 want[TEST_MANY * 2], got[TEST_MANY * 4];
	struct queue_walk	*w;
	struct envelope		 evp;
	uint32_t		 msgid, last = 0, extra;
	uint64_t		 evpids[2] = { 0, 0 };
	size_t			 nwant = 0, ngot = 0, i;
	int			 r = QUEUE_OK, ok = 1, order = 1, groups = 1;
	int			 steps, tempfails = 0, changes = 0;

	CHECK(test_fresh() == 0, "many: init");
	for (i = 0; i < TEST_MANY && ok; i++) {
		ok = test_message(1 + (int)(i % 2), &msgid, evpids) == 0;
		want[nwant++] = evpids[0];
		if (i % 2)
			want[nwant++] = evpids[1];
	}
	CHECK(ok, "many: 1000 messages committed");

	w = queue_walk_new(0);
	for (steps = 0; w != NULL && steps < TEST_MANY * 4; steps++) {
		if (steps % 97 == 5) {
			/* an I/O error mid-walk: the step is retried */
			queue_fs_inject_fault(1, EIO);
			test_quiet("queue_fs_test.many.log");
			if (queue_walk_next(w, &evp) < 0)
				tempfails++;
			test_quiet(NULL);
			queue_fs_inject_fault(0, 0);
		}
		if ((r = queue_walk_next(w, &evp)) != QUEUE_OK)
			break;
		if (ngot > 0 && evpid_to_msgid(evp.evpid) != last) {
			/* a new message: the previous one must be done */
			if (evpid_to_msgid(evp.evpid) >> 24 < last >> 24)
				order = 0;
			for (i = 0; i < ngot; i++)
				if (evpid_to_msgid(got[i]) ==
				    evpid_to_msgid(evp.evpid))
					groups = 0;
		}
		last = evpid_to_msgid(evp.evpid);
		got[ngot++] = evp.evpid;
		if (steps % 10 == 0) {
			/* the queue changes between steps */
			if (test_message(1, &extra, evpids) == 0)
				changes++;
			if (queue_delete_envelope(evp.evpid) == QUEUE_OK)
				changes++;
		}
	}
	queue_walk_free(&w);
	CHECK(r == QUEUE_NOTFOUND, "many: the walk ends");
	CHECK(tempfails > 5, "many: injected errors were returned");
	CHECK(changes > 100, "many: the queue changed during the walk");
	CHECK(order, "many: buckets in ascending order");
	CHECK(groups, "many: the envelopes of a message come together");
	qsort(want, nwant, sizeof want[0], test_cmp64);
	qsort(got, ngot, sizeof got[0], test_cmp64);
	/* every old envelope exactly once; new ones at most once */
	ok = 1;
	for (i = 1; i < ngot; i++)
		if (got[i] == got[i - 1])
			ok = 0;
	CHECK(ok, "many: no envelope twice");
	ok = 1;
	for (i = 0; i < nwant; i++)
		if (bsearch(&want[i], got, ngot, sizeof got[0],
		    test_cmp64) == NULL)
			ok = 0;
	CHECK(ok && nwant == 1500, "many: every envelope of the 1000 seen");
}

/* test_modes - 0700 directories, 0600 files, whatever the umask */
static void
test_modes(void)
{
	struct envelope	evp;
	char		rel[80], path[PATH_MAX];
	uint32_t	msgid = 0;
	uint64_t	evpids[1];
	mode_t		old;
	int		fd, ok = 1;

	old = umask(0);
	CHECK(test_fresh() == 0, "modes: init with umask 0");
	CHECK(test_mode("incoming") == 0700 && test_mode("queue") == 0700 &&
	    test_mode("temporary") == 0700 && test_mode("purge") == 0700 &&
	    test_mode("corrupt") == 0700, "modes: spool directories 0700");
	CHECK(queue_create_message(&msgid) == QUEUE_OK, "modes: create");
	snprintf(rel, sizeof rel, "incoming/%08" PRIx32, msgid);
	CHECK(test_mode(rel) == 0700, "modes: incoming message dir 0700");
	test_envelope(&evp, "m@example.com");
	CHECK(queue_create_envelope(msgid, &evp) == QUEUE_OK &&
	    test_write_body(msgid, TEST_BODY) == QUEUE_OK &&
	    queue_commit_message(msgid) == QUEUE_OK, "modes: commit");
	snprintf(rel, sizeof rel, "queue/%02x", msgid >> 24);
	CHECK(test_mode(rel) == 0700, "modes: bucket 0700");
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32, msgid >> 24, msgid);
	CHECK(test_mode(rel) == 0700, "modes: message dir 0700");
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/message",
	    msgid >> 24, msgid);
	CHECK(test_mode(rel) == 0600, "modes: message file 0600");
	snprintf(rel, sizeof rel, "queue/%02x/%08" PRIx32 "/%016" PRIx64,
	    msgid >> 24, msgid, evp.evpid);
	CHECK(test_mode(rel) == 0600, "modes: envelope file 0600");
	evp.retry = 1;
	CHECK(queue_update_envelope(&evp) == QUEUE_OK &&
	    test_mode(rel) == 0600, "modes: updated envelope 0600");
	(void)evpids;

	/* init sets the modes right on an existing spool */
	queue_backend_close();
	ok = chmod(test_path(path, sizeof path, "queue"), 0755) == 0 &&
	    chmod(test_path(path, sizeof path, "purge"), 0777) == 0;
	CHECK(ok && queue_backend_init("fs", test_root) == 0 &&
	    test_mode("queue") == 0700 && test_mode("purge") == 0700,
	    "modes: init fixes the modes (QUEUE-01)");
	queue_backend_close();
	unlink(test_path(path, sizeof path, "corrupt/x"));
	test_rm_tree(test_path(path, sizeof path, "corrupt"));
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd != -1)
		close(fd);
	test_quiet("queue_fs_test.modes.log");
	CHECK(queue_backend_init("fs", test_root) == -1,
	    "modes: a file where a directory belongs is refused at start");
	test_quiet(NULL);
	umask(old);
}

int
main(void)
{
	/* the checkout may not be writable (another user, a 0700 home) */
	snprintf(test_logdir, sizeof test_logdir, "%s/queuefs-logs.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(test_logdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_life_cycle();
	test_not_found();
	test_fault_matrix();
	test_delete_batch();
	test_recover();
	test_corrupt();
	test_stuck();
	test_many();
	test_modes();
	queue_backend_close();
	if (test_root[0] != '\0')
		test_rm_tree(test_root);
	test_rm_tree(test_logdir);
	return test_done();
}
