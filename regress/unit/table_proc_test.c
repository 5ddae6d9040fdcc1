/*
 * table_proc_test.c -- the proc table backend against real helpers.
 *
 * Without arguments (regress/run.py): drives a fake helper
 * (regress/tables/fake_table_helper.py) that dies mid-lookup, hangs past
 * the timeout, writes garbage, answers twice or fails at start, and
 * checks each time: a temporary failure (-1), an immediate -1 while the
 * restart delay runs, the delay doubling, recovery afterwards, and that
 * every helper PID it ever saw is gone (killed and reaped: no zombie).
 * Then our obj/libexec/table-sqlite through the same backend.
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

#include "log.h"
#include "smtpd.h"
#include "table.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;
static char		test_dir[64];
static char		test_build[PATH_MAX];

/* test_ms - monotonic milliseconds */
static long long
test_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* test_sleep_ms - sleep MS milliseconds */
static void
test_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
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

/* test_all_gone - every recorded helper is dead and reaped */
static int
test_all_gone(void)
{
	pid_t	pids[256];
	int	i, n = test_pids(pids, 256);

	for (i = 0; i < n; i++)
		if (kill(pids[i], 0) == 0 || errno != ESRCH) {
			printf("# helper pid %ld still exists\n",
			    (long)pids[i]);
			return 0;
		}
	return 1;
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
	(void)strlcpy(env->opts.libexec, test_file("libexec", path,
	    sizeof path), sizeof env->opts.libexec);
	return 0;
}

/* test_fake - a fake helper table, opened, with short delays */
static struct table *
test_fake(void)
{
	struct table	*t;
	char		 err[512], state[PATH_MAX];

	t = table_create("fake", "fake", test_file("state", state,
	    sizeof state), err, sizeof err);
	if (t == NULL) {
		printf("# %s\n", err);
		return NULL;
	}
	table_set_timeout(t, 1000);
	table_set_backoff(t, 300, 1200);
	if (table_open(t, err, sizeof err) == -1)
		table_free(&t);
	return t;
}

static void
test_good(struct table *t)
{
	char	buf[256];

	CHECK(table_check(t, K_DOMAIN, "YES") == 1, "check found (key "
	    "lower-cased)");
	CHECK(table_check(t, K_DOMAIN, "no") == 0, "check absent");
	CHECK(table_lookup(t, K_STRING, "vkey", buf, sizeof buf) == 1 &&
	    strcmp(buf, "value-of-vkey") == 0, "lookup value");
	CHECK(table_lookup(t, K_STRING, "missing", buf, sizeof buf) == 0,
	    "lookup absent");
	CHECK(table_lookup(t, K_STRING, "vkey", buf, 8) == -1,
	    "value larger than dst: -1");
	CHECK(table_check(t, K_DOMAIN, "yes") == 1,
	    "still talking after an oversized value");
	CHECK(table_update(t) == 1, "update forwarded");
}

static void
test_fetch(struct table *t)
{
	char	a[64], b[64], c[64];

	CHECK(table_fetch(t, K_SOURCE, a, sizeof a) == 1 &&
	    table_fetch(t, K_SOURCE, b, sizeof b) == 1 &&
	    table_fetch(t, K_SOURCE, c, sizeof c) == 1 &&
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
	r = table_check(t, K_DOMAIN, key);
	dt = test_ms() - t0;
	snprintf(name, sizeof name, "%s: temporary failure", what);
	CHECK(r == -1, name);
	snprintf(name, sizeof name, "%s: answered in %lld ms", what, dt);
	CHECK(dt >= min_ms && dt <= max_ms, name);
	t0 = test_ms();
	r = table_check(t, K_DOMAIN, "yes");
	dt = test_ms() - t0;
	snprintf(name, sizeof name, "%s: -1 at once while down", what);
	CHECK(r == -1 && dt < 100, name);
	snprintf(name, sizeof name, "%s: the helper was killed and reaped",
	    what);
	CHECK(test_all_gone(), name);
	test_sleep_ms(350);
	snprintf(name, sizeof name, "%s: recovered after the delay", what);
	CHECK(table_check(t, K_DOMAIN, "yes") == 1, name);
}

static void
test_backoff(struct table *t)
{
	char	path[PATH_MAX];
	pid_t	pids[256];
	int	n0, n1;
	FILE	*fp;

	if ((fp = fopen(test_file("state/badopen", path, sizeof path),
	    "w")) != NULL)
		fclose(fp);
	CHECK(table_check(t, K_DOMAIN, "die") == -1, "backoff: helper dies");
	test_sleep_ms(350);
	n0 = test_pids(pids, 256);
	CHECK(table_check(t, K_DOMAIN, "yes") == -1,
	    "backoff: restart fails at OPEN");
	n1 = test_pids(pids, 256);
	CHECK(n1 == n0 + 1, "backoff: one restart after 300 ms");
	test_sleep_ms(350);
	CHECK(table_check(t, K_DOMAIN, "yes") == -1 &&
	    test_pids(pids, 256) == n1,
	    "backoff: the delay doubled, no restart after 350 ms");
	unlink(path);
	test_sleep_ms(400);
	CHECK(table_check(t, K_DOMAIN, "yes") == 1,
	    "backoff: recovered after 600 ms");
}

static void
test_missing(void)
{
	struct table	*t;
	char		 err[512], path[PATH_MAX], state[PATH_MAX];
	char		 buf[64];

	t = table_create("gone", "nonexistent", "/x", err, sizeof err);
	CHECK(t == NULL && strstr(err, "table-nonexistent") != NULL,
	    "missing helper binary: error at create");
	printf("# %s\n", err);

	test_file("libexec/table-vanish", path, sizeof path);
	if (symlink("table-fake", path) == -1)
		return;
	t = table_create("vanish", "vanish", test_file("state", state,
	    sizeof state), err, sizeof err);
	if (!CHECK(t != NULL, "helper present at create"))
		return;
	unlink(path);
	table_set_timeout(t, 1000);
	table_set_backoff(t, 100, 200);
	CHECK(table_open(t, err, sizeof err) == 0,
	    "open survives a helper that cannot start");
	CHECK(table_lookup(t, K_STRING, "vx", buf, sizeof buf) == -1,
	    "helper gone: temporary failure");
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
	t = table_create("sq", "sqlite", conf, err, sizeof err);
	if (!CHECK(t != NULL, "sqlite table created"))
		return;
	CHECK(table_open(t, err, sizeof err) == 0, "table-sqlite started");
	CHECK(table_check(t, K_DOMAIN, "Example.COM") == 1,
	    "table-sqlite check domain");
	CHECK(table_check(t, K_DOMAIN, "example.org") == 0,
	    "table-sqlite check absent");
	CHECK(table_lookup(t, K_ALIAS, "postmaster@example.com", buf,
	    sizeof buf) == 1 && strcmp(buf, "bob@example.com") == 0,
	    "table-sqlite alias");
	CHECK(table_lookup(t, K_USERINFO, "vmail", buf, sizeof buf) == 1 &&
	    strcmp(buf, "2000:2000:/var/vmail") == 0, "table-sqlite userinfo");
	CHECK(table_fetch(t, K_SOURCE, a, sizeof a) == 1 &&
	    table_fetch(t, K_SOURCE, b, sizeof b) == 1 &&
	    table_fetch(t, K_SOURCE, c, sizeof c) == 1 &&
	    strcmp(a, "192.0.2.10") == 0 && strcmp(b, "192.0.2.11") == 0 &&
	    strcmp(c, a) == 0, "table-sqlite fetch rotation");
	CHECK(table_lookup(t, K_RELAYHOST, "example.com", buf, sizeof buf) ==
	    -1, "table-sqlite unsupported service: -1");
	CHECK(table_check(t, K_DOMAIN, "example.com") == 1,
	    "table-sqlite alive after a -1 answer");
	CHECK(table_update(t) == 1, "table-sqlite update");
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

	(void)strlcpy(env->opts.libexec, argv[2], sizeof env->opts.libexec);
	t = table_create("probe", argv[3], argv[4], err, sizeof err);
	if (t == NULL || table_open(t, err, sizeof err) == -1) {
		printf("error %s\n", err);
		return 1;
	}
	for (i = 5; i < argc; ) {
		buf[0] = '\0';
		if (strcmp(argv[i], "update") == 0) {
			printf("update -> %d\n", table_update(t));
			i++;
			continue;
		}
		if (i + 1 >= argc)
			break;
		s = table_service_from_name(argv[i + 1]);
		if (strcmp(argv[i], "fetch") == 0) {
			r = table_fetch(t, s, buf, sizeof buf);
			printf("fetch %s -> %d%s%s\n", argv[i + 1], r,
			    r == 1 ? " " : "", r == 1 ? buf : "");
			i += 2;
			continue;
		}
		if (i + 2 >= argc)
			break;
		if (strcmp(argv[i], "check") == 0)
			r = table_check(t, s, argv[i + 2]);
		else
			r = table_lookup(t, s, argv[i + 2], buf, sizeof buf);
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
		test_fetch(t);
		test_failure(t, "die", "helper exits mid-lookup", 0, 500);
		test_failure(t, "hang", "helper hangs past the timeout",
		    950, 2000);
		test_failure(t, "garbage", "helper writes garbage", 0, 500);
		test_failure(t, "badtype", "helper answers type 1", 0, 500);
		test_failure(t, "extra", "helper sends a value after r=0", 0,
		    500);
		CHECK(table_check(t, K_DOMAIN, "two") == 0,
		    "helper answers twice: first answer taken");
		test_failure(t, "yes", "unsolicited second answer", 0, 500);
		test_backoff(t);
		test_good(t);
		table_free(&t);
	}
	CHECK(test_all_gone(), "every fake helper is gone after close");
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "no zombie: no child left at all");
	test_missing();
	test_sqlite();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", test_dir);
	return test_done();
}
