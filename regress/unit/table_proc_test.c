/*
 * table_proc_test.c -- the proc table backend against real helpers.
 *
 * Without arguments (regress/run.py): drives a fake helper
 * (regress/tables/fake_table_helper.py, a #! script, so exec by
 * descriptor is tried with a script) on a libevent loop: it dies
 * mid-lookup, hangs past the timeout, writes garbage or half a frame,
 * answers twice, out of turn or for a request never sent, or fails at
 * start, and each time the test checks: a temporary failure (-1), an
 * immediate -1 while the restart delay runs, the delay doubling,
 * recovery afterwards, and that every helper PID it ever saw is gone
 * (killed and reaped: no zombie).  Then the bounded FIFO (1,000 queries
 * on a slow helper), the value size limit at -1, 0 and +1, the signal
 * state a helper starts with, and our obj/libexec/table-sqlite.
 *
 * With arguments, a probe for regress/tables/test_table_proc.py:
 *   table_proc_test probe LIBEXEC BACKEND CONFIG OP SERVICE [KEY] ...
 * prints one line "OP SERVICE KEY -> R [VALUE]" per request (OP check,
 * lookup, fetch or update), so Debian's extras helpers can be run
 * through this backend too.  Must be run from the source root.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "smtpd.h"
#include "table.h"
#include "tabletest.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;
static char		test_dir[64];
static char		test_build[PATH_MAX];
static char		test_libexec[PATH_MAX];
static struct event_base *test_evb;

#define t_lookup(t, s, k, b, n)	tt_lookup_evb(test_evb, t, s, k, b, n)
#define t_check(t, s, k)	tt_check_evb(test_evb, t, s, k)
#define t_fetch(t, s, b, n)	tt_fetch_evb(test_evb, t, s, b, n)
#define t_update(t)		tt_update_evb(test_evb, t)

/* test_ms - monotonic milliseconds */
static long long
test_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* test_sleep_ms - run the event loop for MS milliseconds */
static void
test_sleep_ms(long ms)
{
	struct tt_answer	a = { 0, 0, NULL };

	(void)tt_wait_ms(test_evb, &a, (int)ms);
}

/* test_file - DIR/NAME into BUF */
static char *
test_file(const char *name, char *buf, size_t bufsz)
{
	if ((size_t)snprintf(buf, bufsz, "%s/%s", test_dir, name) >= bufsz)
		buf[0] = '\0';
	return buf;
}

/* test_pids - the PIDs the fake helper recorded; their count */
static int
test_pids(pid_t *pids, int max)
{
	char	 path[PATH_MAX];
	FILE	*fp;
	long	 v;
	int	 n = 0;

	if ((fp = fopen(test_file("state/pids", path, sizeof path), "r")) ==
	    NULL)
		return 0;
	while (n < max && fscanf(fp, "%ld", &v) == 1)
		pids[n++] = (pid_t)v;
	fclose(fp);
	return n;
}

/* test_gone_now - every recorded helper is dead and reaped */
static int
test_gone_now(int quiet)
{
	pid_t	pids[256];
	int	i, n = test_pids(pids, 256);

	for (i = 0; i < n; i++)
		if (kill(pids[i], 0) == 0 || errno != ESRCH) {
			if (!quiet)
				printf("# helper pid %ld still exists\n",
				    (long)pids[i]);
			return 0;
		}
	return 1;
}

/* test_all_gone - the same, once the loop reaped on SIGCHLD (<= 2 s) */
static int
test_all_gone(void)
{
	int	i;

	for (i = 0; i < 40 && !test_gone_now(1); i++)
		test_sleep_ms(50);
	return test_gone_now(0);
}

/* test_setup - libexec dir with table-fake and table-sqlite */
static int
test_setup(const char *root)
{
	char	 path[PATH_MAX], target[PATH_MAX];
	FILE	*fp;

	snprintf(test_dir, sizeof test_dir, "/tmp/table_proc_test.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	if (mkdir(test_file("libexec", path, sizeof path), 0755) == -1 ||
	    mkdir(test_file("state", path, sizeof path), 0755) == -1)
		return -1;
	if ((fp = fopen(test_file("libexec/table-fake", path, sizeof path),
	    "w")) == NULL)
		return -1;
	fprintf(fp, "#!/bin/sh\nexec python3 %s/regress/tables/"
	    "fake_table_helper.py \"$@\"\n", root);
	fclose(fp);
	chmod(path, 0755);
	if ((size_t)snprintf(target, sizeof target, "%s/libexec/table-sqlite",
	    test_build) >= sizeof target ||
	    symlink(target, test_file("libexec/table-sqlite", path,
	    sizeof path)) == -1)
		return -1;
	(void)strlcpy(test_libexec, test_file("libexec", path, sizeof path),
	    sizeof test_libexec);
	return 0;
}

/* test_fake - a fake helper table, opened, with short delays */
static struct table *
test_fake(void)
{
	struct table	*t;
	char		 err[512], state[PATH_MAX];

	t = table_create("fake", "fake", test_file("state", state,
	    sizeof state), test_libexec, err, sizeof err);
	if (t == NULL) {
		printf("# %s\n", err);
		return NULL;
	}
	table_set_timeout(t, 1000);
	table_set_backoff(t, 300, 1200);
	if (table_open(t, test_evb, err, sizeof err) == -1)
		table_free(&t);
	return t;
}

static void
test_good(struct table *t)
{
	char	buf[256];

	CHECK(t_check(t, K_DOMAIN, "YES") == 1, "check found (key "
	    "lower-cased)");
	CHECK(t_check(t, K_DOMAIN, "no") == 0, "check absent");
	CHECK(t_lookup(t, K_STRING, "vkey", buf, sizeof buf) == 1 &&
	    strcmp(buf, "value-of-vkey") == 0, "lookup value");
	CHECK(t_lookup(t, K_STRING, "missing", buf, sizeof buf) == 0,
	    "lookup absent");
	CHECK(t_update(t) == 1, "update forwarded");
}

/* test_value_limit - a helper's value at the limit -1, 0 and +1 */
static void
test_value_limit(struct table *t)
{
	static const struct {
		int	 delta;
		int	 r;
		const char *what;
	} rows[] = {
		{ -1, 1, "helper value one byte under the limit: found" },
		{ 0, 1, "helper value at the limit: found" },
		{ 1, -1, "helper value one byte over the limit: tempfail" },
	};
	char	key[32], *buf;
	size_t	i, len;
	int	r;

	buf = malloc(TABLE_VALUE_MAX + 16);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		len = (size_t)(TABLE_VALUE_MAX - 1 + rows[i].delta);
		snprintf(key, sizeof key, "big%zu", len);
		r = t_lookup(t, K_STRING, key, buf, TABLE_VALUE_MAX + 16);
		CHECK(r == rows[i].r && (r != 1 || strlen(buf) == len),
		    rows[i].what);
	}
	free(buf);
	CHECK(t_check(t, K_DOMAIN, "yes") == 1,
	    "still talking after an oversized value");
}

static void
test_fetch(struct table *t)
{
	char	a[64], b[64], c[64];

	CHECK(t_fetch(t, K_SOURCE, a, sizeof a) == 1 &&
	    t_fetch(t, K_SOURCE, b, sizeof b) == 1 &&
	    t_fetch(t, K_SOURCE, c, sizeof c) == 1 &&
	    strcmp(a, c) == 0 && strcmp(a, b) != 0, "fetch rotates");
}

/* test_failure - KEY breaks the helper: -1, -1 at once, then recovery */
static void
test_failure(struct table *t, const char *key, const char *what,
    long long min_ms, long long max_ms)
{
	char		name[128];
	long long	t0, dt;
	int		r;

	t0 = test_ms();
	r = t_check(t, K_DOMAIN, key);
	dt = test_ms() - t0;
	snprintf(name, sizeof name, "%s: temporary failure", what);
	CHECK(r == -1, name);
	snprintf(name, sizeof name, "%s: answered in %lld ms", what, dt);
	CHECK(dt >= min_ms && dt <= max_ms, name);
	/* the helper is failed at the latest when its reply timer fires */
	test_sleep_ms(20);
	t0 = test_ms();
	r = t_check(t, K_DOMAIN, "yes");
	dt = test_ms() - t0;
	snprintf(name, sizeof name, "%s: -1 at once while down", what);
	CHECK(r == -1 && dt < 100, name);
	snprintf(name, sizeof name, "%s: the helper was killed and reaped",
	    what);
	CHECK(test_all_gone(), name);
	test_sleep_ms(350);
	snprintf(name, sizeof name, "%s: recovered after the delay", what);
	CHECK(t_check(t, K_DOMAIN, "yes") == 1, name);
}

/* test_wait_pids - run the loop until N helpers were started (<= 3 s) */
static int
test_wait_pids(int n)
{
	pid_t	pids[256];
	int	i;

	for (i = 0; i < 60 && test_pids(pids, 256) < n; i++)
		test_sleep_ms(50);
	return test_pids(pids, 256);
}

static void
test_backoff(struct table *t)
{
	char		path[PATH_MAX];
	pid_t		pids[256];
	long long	t0;
	int		n0, n1;
	FILE		*fp;

	if ((fp = fopen(test_file("state/badopen", path, sizeof path),
	    "w")) != NULL)
		fclose(fp);
	n0 = test_pids(pids, 256);
	t0 = test_ms();
	CHECK(t_check(t, K_DOMAIN, "die") == -1, "backoff: helper dies");
	n1 = test_wait_pids(n0 + 1);
	CHECK(n1 == n0 + 1 && test_ms() - t0 >= 250,
	    "backoff: restarted by its timer after 300 ms");
	test_sleep_ms(150);
	CHECK(t_check(t, K_DOMAIN, "yes") == -1,
	    "backoff: the restart failed at OPEN: -1");
	t0 = test_ms();
	test_sleep_ms(350);
	CHECK(test_pids(pids, 256) == n1,
	    "backoff: the delay doubled, no restart 350 ms later");
	unlink(path);
	n1 = test_wait_pids(n1 + 1);
	CHECK(test_ms() - t0 >= 200, "backoff: the next start after 600 ms");
	CHECK(t_check(t, K_DOMAIN, "yes") == 1,
	    "backoff: recovered (a query waits for OPEN)");
}

/* test_protocol - replies the protocol does not allow */
static void
test_protocol(struct table *t)
{
	CHECK(t_check(t, K_DOMAIN, "later") == 0,
	    "reply then a reply to a request never sent: first taken");
	test_sleep_ms(300);
	CHECK(t_check(t, K_DOMAIN, "yes") == -1,
	    "a reply to a request never sent: helper failed");
	CHECK(test_all_gone(), "the helper that replied unasked was reaped");
	test_sleep_ms(400);
	CHECK(t_check(t, K_DOMAIN, "yes") == 1, "recovered after it");
	test_failure(t, "half", "half a frame then a stall", 950, 2000);
}

struct test_count {
	int	done;
	int	fail;
};

static void
test_on_count(void *arg, int r, const char *value)
{
	struct test_count	*c = arg;

	(void)value;
	c->done++;
	if (r == -1)
		c->fail++;
}

/* test_flood - 1,000 queries on a slow helper: a bounded FIFO */
static void
test_flood(struct table *t)
{
	struct test_count	c = { 0, 0 };
	struct tt_answer	a = { 0, 0, NULL };
	long long		t0;
	int			i;

	t0 = test_ms();
	for (i = 0; i < 1000; i++)
		table_check(t, K_DOMAIN, "slow", test_on_count, &c);
	CHECK(c.done == 1000 - 1 - TABLE_PROC_QUEUE_MAX &&
	    c.fail == c.done, "flood: the excess over the FIFO fails at once");
	CHECK(test_ms() - t0 < 500, "flood: and fast");
	while (c.done < 1000 && test_ms() - t0 < 5000)
		(void)tt_wait_ms(test_evb, &a, 50);
	CHECK(c.done == 1000, "flood: every query completed within 5 s");
	printf("# flood: %d of 1000 failed, %lld ms\n", c.fail,
	    test_ms() - t0);
	CHECK(c.fail < 1000, "flood: the helper answered some");
	test_sleep_ms(1200);
	CHECK(t_check(t, K_DOMAIN, "yes") == 1, "flood: the helper serves "
	    "again");
}

/* test_signals - a helper starts with default signals, nothing blocked */
static void
test_signals(void)
{
	struct table	*t;
	sigset_t	 mask, old;
	char		 buf[256], err[512], state[PATH_MAX];
	unsigned long long ign = 0, blk = 0;

	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	t = table_create("sigs", "fake", test_file("state", state,
	    sizeof state), test_libexec, err, sizeof err);
	if (CHECK(t != NULL && table_open(t, test_evb, err, sizeof err) == 0,
	    "signals: helper table opened")) {
		CHECK(t_lookup(t, K_STRING, "sigs", buf, sizeof buf) == 1 &&
		    sscanf(buf, "%llx %llx", &ign, &blk) == 2,
		    "signals: the helper reported its masks");
		printf("# helper SigIgn %016llx SigBlk %016llx\n", ign, blk);
		CHECK((ign & ((1ULL << (SIGTERM - 1)) | (1ULL << (SIGHUP - 1)) |
		    (1ULL << (SIGINT - 1)))) == 0,
		    "signals: TERM, HUP, INT not ignored in the helper");
		CHECK(blk == 0, "signals: nothing blocked in the helper");
	}
	table_free(&t);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
}

/* test_close - close: SIGTERM, reaped by PID, DONE called */
static void
test_close(void)
{
	struct table	*t;
	struct tt_answer a = { 0, 0, NULL }, hung = { 0, 0, NULL };
	char		 err[512], state[PATH_MAX];
	long long	 t0;
	int		 i;

	t = test_fake();
	if (!CHECK(t != NULL && t_check(t, K_DOMAIN, "yes") == 1,
	    "close: helper running"))
		return;
	t0 = test_ms();
	table_close(t, tt_on_done, &a);
	CHECK(tt_wait_ms(test_evb, &a, 3000) == 1 && test_ms() - t0 < 1500,
	    "close: a helper that leaves is reaped at once");
	CHECK(test_all_gone(), "close: no helper left");
	table_free(&t);

	/* a helper stuck in a request (and stopped) gets SIGKILL */
	t = table_create("stuck", "fake", test_file("state", state,
	    sizeof state), test_libexec, err, sizeof err);
	if (t == NULL || table_open(t, test_evb, err, sizeof err) == -1)
		return;
	table_check(t, K_DOMAIN, "hang", tt_on_done, &hung);
	test_sleep_ms(300);
	memset(&a, 0, sizeof a);
	t0 = test_ms();
	table_close(t, tt_on_done, &a);
	CHECK(tt_wait_ms(test_evb, &a, 5000) == 1 &&
	    test_ms() - t0 < TABLE_PROC_STOP_WAIT_MS + 1000,
	    "close: a hung helper is killed within the bound");
	CHECK(hung.done && hung.r == -1, "close: its pending query failed");
	CHECK(test_all_gone(), "close: the hung helper is gone");
	table_free(&t);

	/* one that ignores SIGTERM: SIGKILL after TABLE_PROC_STOP_WAIT_MS */
	t = table_create("stubborn", "fake", test_file("state", state,
	    sizeof state), test_libexec, err, sizeof err);
	if (t == NULL || table_open(t, test_evb, err, sizeof err) == -1)
		return;
	memset(&hung, 0, sizeof hung);
	table_check(t, K_DOMAIN, "stubborn", tt_on_done, &hung);
	for (i = 0; i < 100 && access(test_file("state/stubborn", state,
	    sizeof state), F_OK) == -1; i++)
		test_sleep_ms(50);
	memset(&a, 0, sizeof a);
	t0 = test_ms();
	table_close(t, tt_on_done, &a);
	CHECK(tt_wait_ms(test_evb, &a, 5000) == 1 &&
	    test_ms() - t0 >= TABLE_PROC_STOP_WAIT_MS - 50 &&
	    test_ms() - t0 < TABLE_PROC_STOP_WAIT_MS + 1000,
	    "close: a helper ignoring SIGTERM is killed after the grace");
	CHECK(test_all_gone(), "close: the stubborn helper is gone");
	table_free(&t);
}

static void
test_missing(void)
{
	struct table	*t;
	char		 err[512], path[PATH_MAX], state[PATH_MAX];
	char		 buf[64];

	t = table_create("gone", "nonexistent", "/x", test_libexec, err,
	    sizeof err);
	CHECK(t == NULL && strstr(err, "table-nonexistent") != NULL,
	    "missing helper binary: error at create");
	printf("# %s\n", err);

	test_file("libexec/table-vanish", path, sizeof path);
	if (symlink("table-fake", path) == -1)
		return;
	t = table_create("vanish", "vanish", test_file("state", state,
	    sizeof state), test_libexec, err, sizeof err);
	if (!CHECK(t != NULL, "helper present at create"))
		return;
	unlink(path);
	table_set_timeout(t, 1000);
	table_set_backoff(t, 100, 200);
	CHECK(table_open(t, test_evb, err, sizeof err) == 0,
	    "open survives a helper removed after create");
	CHECK(t_lookup(t, K_STRING, "vx", buf, sizeof buf) == 1,
	    "the executable was pinned at create: it still runs");
	table_free(&t);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "no child left behind by the exec failure");
}

static void
test_sqlite(void)
{
	struct table	*t;
	char		 db[PATH_MAX], conf[PATH_MAX], cmd[PATH_MAX * 2];
	char		 err[512], buf[256], a[64], b[64], c[64];
	FILE		*fp;

	test_file("t.sqlite", db, sizeof db);
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"CREATE TABLE domains "
	    "(domain TEXT); INSERT INTO domains VALUES ('example.com'); "
	    "CREATE TABLE virtuals (key TEXT, value TEXT); INSERT INTO "
	    "virtuals VALUES ('postmaster@example.com', 'bob@example.com'); "
	    "CREATE TABLE users (name TEXT, uid INT, gid INT, home TEXT); "
	    "INSERT INTO users VALUES ('vmail', 2000, 2000, '/var/vmail'); "
	    "CREATE TABLE sources (addr TEXT); INSERT INTO sources VALUES "
	    "('192.0.2.10'), ('192.0.2.11');\"", db);
	if (!CHECK(system(cmd) == 0, "sqlite3 made the database"))
		return;
	if ((fp = fopen(test_file("sqlite.conf", conf, sizeof conf), "w")) ==
	    NULL)
		return;
	fprintf(fp, "dbpath %s\n"
	    "query_domain SELECT domain FROM domains WHERE domain=?\n"
	    "query_alias SELECT value FROM virtuals WHERE key=?\n"
	    "query_userinfo SELECT uid, gid, home FROM users WHERE name=?\n"
	    "fetch_source SELECT addr FROM sources ORDER BY rowid\n", db);
	fclose(fp);
	t = table_create("sq", "sqlite", conf, test_libexec, err, sizeof err);
	if (!CHECK(t != NULL, "sqlite table created"))
		return;
	CHECK(table_open(t, test_evb, err, sizeof err) == 0,
	    "table-sqlite started");
	CHECK(t_check(t, K_DOMAIN, "Example.COM") == 1,
	    "table-sqlite check domain");
	CHECK(t_check(t, K_DOMAIN, "example.org") == 0,
	    "table-sqlite check absent");
	CHECK(t_lookup(t, K_ALIAS, "postmaster@example.com", buf,
	    sizeof buf) == 1 && strcmp(buf, "bob@example.com") == 0,
	    "table-sqlite alias");
	CHECK(t_lookup(t, K_USERINFO, "vmail", buf, sizeof buf) == 1 &&
	    strcmp(buf, "2000:2000:/var/vmail") == 0, "table-sqlite userinfo");
	CHECK(t_fetch(t, K_SOURCE, a, sizeof a) == 1 &&
	    t_fetch(t, K_SOURCE, b, sizeof b) == 1 &&
	    t_fetch(t, K_SOURCE, c, sizeof c) == 1 &&
	    strcmp(a, "192.0.2.10") == 0 && strcmp(b, "192.0.2.11") == 0 &&
	    strcmp(c, a) == 0, "table-sqlite fetch rotation");
	CHECK(t_lookup(t, K_RELAYHOST, "example.com", buf, sizeof buf) ==
	    -1, "table-sqlite unsupported service: -1");
	CHECK(t_check(t, K_DOMAIN, "example.com") == 1,
	    "table-sqlite alive after a -1 answer");
	CHECK(t_update(t) == 1, "table-sqlite update");
	table_free(&t);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "table-sqlite reaped at close");
}

/* test_probe - one line per request, for the Python side */
static int
test_probe(int argc, char **argv)
{
	struct table		*t;
	enum table_service	 s;
	char			 err[512], buf[TABLE_VALUE_MAX];
	int			 i, r;

	t = table_create("probe", argv[3], argv[4], argv[2], err, sizeof err);
	if (t == NULL || table_open(t, test_evb, err, sizeof err) == -1) {
		printf("error %s\n", err);
		return 1;
	}
	for (i = 5; i < argc; ) {
		buf[0] = '\0';
		if (strcmp(argv[i], "update") == 0) {
			printf("update -> %d\n", t_update(t));
			i++;
			continue;
		}
		if (i + 1 >= argc)
			break;
		s = table_service_from_name(argv[i + 1]);
		if (strcmp(argv[i], "fetch") == 0) {
			r = t_fetch(t, s, buf, sizeof buf);
			printf("fetch %s -> %d%s%s\n", argv[i + 1], r,
			    r == 1 ? " " : "", r == 1 ? buf : "");
			i += 2;
			continue;
		}
		if (i + 2 >= argc)
			break;
		if (strcmp(argv[i], "check") == 0)
			r = t_check(t, s, argv[i + 2]);
		else
			r = t_lookup(t, s, argv[i + 2], buf, sizeof buf);
		printf("%s %s %s -> %d%s%s\n", argv[i], argv[i + 1],
		    argv[i + 2], r, r == 1 && buf[0] ? " " : "",
		    r == 1 ? buf : "");
		i += 3;
	}
	table_free(&t);
	printf("children %s\n", waitpid(-1, NULL, WNOHANG) == -1 &&
	    errno == ECHILD ? "none" : "left");
	return 0;
}

int
main(int argc, char **argv)
{
	struct table	*t;
	char		 root[PATH_MAX], cmd[PATH_MAX], *p;

	env = &test_env;
	log_init(1, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((test_evb = event_base_new()) == NULL)
		return 1;
	if (argc >= 5 && strcmp(argv[1], "probe") == 0)
		return test_probe(argc, argv);
	/* the build dir is three levels above obj/regress/unit/NAME */
	if (realpath(argv[0], test_build) == NULL ||
	    getcwd(root, sizeof root) == NULL)
		return 1;
	for (int i = 0; i < 3; i++)
		if ((p = strrchr(test_build, '/')) != NULL)
			*p = '\0';
	if (test_setup(root) == -1) {
		perror("setup");
		return 1;
	}
	t = test_fake();
	if (CHECK(t != NULL, "fake helper table opened")) {
		test_good(t);
		test_value_limit(t);
		test_fetch(t);
		test_failure(t, "die", "helper exits mid-lookup", 0, 500);
		test_failure(t, "hang", "helper hangs past the timeout",
		    950, 2000);
		test_failure(t, "garbage", "helper writes garbage", 0, 500);
		test_failure(t, "badtype", "helper answers type 1", 0, 500);
		test_failure(t, "extra", "helper sends a value after r=0", 0,
		    500);
		CHECK(t_check(t, K_DOMAIN, "two") == 0,
		    "helper answers twice: first answer taken");
		test_failure(t, "yes", "unsolicited second answer", 0, 500);
		test_protocol(t);
		test_backoff(t);
		test_good(t);
		test_flood(t);
		table_free(&t);
	}
	CHECK(test_all_gone(), "every fake helper is gone after close");
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "no zombie: no child left at all");
	test_close();
	test_signals();
	test_missing();
	test_sqlite();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", test_dir);
	return test_done();
}
