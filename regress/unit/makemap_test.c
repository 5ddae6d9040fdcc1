/*
 * makemap_test.c -- the daemon's table layer reads what makemap writes.
 *
 * Runs the build's makemap (make's symlink to smtpctl, found in this
 * program's build directory through /proc/self/exe) on small inputs, then opens each
 * result with table_create(..., "db", path) and asks table_lookup and
 * table_check for keys in other cases than they were written: hash and
 * btree, a map, a `-t set` list, `-t aliases`, continuation lines, a
 * duplicate key.  A bad input must leave an existing output untouched
 * and no temporary file behind.  Every child is bounded by alarm(2).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"
#include "table.h"
#include "tabletest.h"
#include "test.h"

#define MAKEMAP_TEST_TIMEOUT	20	/* seconds for one makemap run */

struct smtpd_env	*env;
static struct smtpd_env	test_env;
static char		test_dir[64];
static char		test_makemap[PATH_MAX];

/* test_path - NAME inside the temporary directory */
static const char *
test_path(const char *name, char *buf, size_t bufsz)
{
	if ((size_t)snprintf(buf, bufsz, "%s/%s", test_dir, name) >= bufsz)
		buf[0] = '\0';
	return buf;
}

/* test_write - the file NAME holding TEXT */
static void
test_write(const char *name, const char *text)
{
	char	 p[PATH_MAX];
	FILE	*fp;

	if ((fp = fopen(test_path(name, p, sizeof p), "w")) == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
}

/* test_setup - the makemap of this build: make's symlink to smtpctl */
static int
test_setup(void)
{
	char	self[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1)
		return -1;
	self[n] = '\0';
	/* <build>/regress/unit/makemap_test -> <build>/makemap */
	if ((size_t)snprintf(test_makemap, sizeof test_makemap,
	    "%s/../../makemap", dirname(self)) >= sizeof test_makemap)
		return -1;
	return access(test_makemap, X_OK);
}

/* test_run - run makemap with ARGV (NULL-ended) in test_dir; its status */
static int
test_run(const char **argv)
{
	const char	*args[16];
	pid_t		 pid;
	int		 status, i, devnull;

	args[0] = "makemap";
	for (i = 0; argv[i] != NULL && i < 14; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (chdir(test_dir) == -1)
			_exit(127);
		if ((devnull = open("/dev/null", O_WRONLY)) != -1)
			dup2(devnull, STDERR_FILENO);
		alarm(MAKEMAP_TEST_TIMEOUT);
		execv(test_makemap, (char **)(uintptr_t)args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* test_open - the db table at NAME in the temporary directory */
static struct table *
test_open(const char *tname, const char *name)
{
	struct table	*t;
	char		 p[PATH_MAX], err[512];

	t = table_create(tname, "db", test_path(name, p, sizeof p), NULL, err,
	    sizeof err);
	if (t == NULL) {
		printf("# %s\n", err);
		return NULL;
	}
	if (table_open(t, NULL, err, sizeof err) == -1) {
		printf("# %s\n", err);
		table_free(&t);
	}
	return t;
}

/* test_lookup_is - does KEY look up to WANT in T for SERVICE */
static int
test_lookup_is(struct table *t, enum table_service service,
    const char *key, const char *want)
{
	char	buf[TABLE_VALUE_MAX];

	if (tt_lookup(t, service, key, buf, sizeof buf) != 1)
		return 0;
	return strcmp(buf, want) == 0;
}

/* test_temp_left - is a makemap temporary file left in the directory */
static int
test_temp_left(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 found = 0;

	if ((d = opendir(test_dir)) == NULL)
		return 1;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".db.") != NULL)
			found = 1;
	closedir(d);
	return found;
}

static void
test_hash_map(void)
{
	const char	*argv[] = { "map", NULL };
	struct table	*t;

	test_write("map", "# aliases of the box\n"
	    "Root  bob\n"
	    "PostMaster: root\n"
	    "vmail\t2000:2000:/var/vmail   # the virtual user\n"
	    "\n");
	CHECK(test_run(argv) == 0, "makemap map: exit 0");
	if ((t = test_open("map", "map.db")) == NULL) {
		CHECK(0, "hash map.db opened by the db backend");
		return;
	}
	CHECK(table_shape(t) == TABLE_SHAPE_MAPPING, "map: mapping shape");
	CHECK(test_lookup_is(t, K_ALIAS, "root", "bob"), "map: root -> bob");
	CHECK(test_lookup_is(t, K_ALIAS, "ROOT", "bob"),
	    "map: lookup is case-insensitive (ROOT)");
	CHECK(test_lookup_is(t, K_ALIAS, "postmaster", "root"),
	    "map: key written in mixed case found lower-cased");
	CHECK(test_lookup_is(t, K_USERINFO, "VMail", "2000:2000:/var/vmail"),
	    "map: comment after the value dropped, userinfo value");
	CHECK(tt_check(t, K_ALIAS, "Root") == 1, "map: check ok");
	CHECK(tt_check(t, K_ALIAS, "nobody") == 0, "map: check absent");
	table_free(&t);
}

static void
test_btree_set(void)
{
	const char	*argv[] = { "-t", "set", "-d", "btree", "-o", "set.db",
			    "domains", NULL };
	struct table	*t;
	char		 buf[256];

	test_write("domains", "Example.COM\n*.Example.org\n"
	    "192.0.2.0/24\n");
	CHECK(test_run(argv) == 0, "makemap -t set -d btree: exit 0");
	if ((t = test_open("set", "set.db")) == NULL) {
		CHECK(0, "btree set.db opened by the db backend");
		return;
	}
	CHECK(table_shape(t) == TABLE_SHAPE_LIST, "set: <set> makes a list");
	CHECK(tt_check(t, K_DOMAIN, "EXAMPLE.com") == 1,
	    "set: domain check is case-insensitive");
	CHECK(tt_check(t, K_DOMAIN, "mx.example.ORG") == 1,
	    "set: wildcard domain (scan)");
	CHECK(tt_check(t, K_DOMAIN, "example.net") == 0, "set: absent");
	CHECK(tt_check(t, K_NETADDR, "192.0.2.77") == 1,
	    "set: netaddr CIDR");
	CHECK(tt_lookup(t, K_DOMAIN, "Example.com", buf, sizeof buf) ==
	    1 && strcmp(buf, "example.com") == 0,
	    "set: lookup answers the key, not <set>");
	table_free(&t);
}

static void
test_aliases(void)
{
	const char	*argv[] = { "-t", "aliases", "aliases", NULL };
	const char	*bad[] = { "-t", "aliases", "badaliases", NULL };
	struct table	*t;

	test_write("aliases", "Root: bob, Alice\n"
	    "staff: carol, \\\n"
	    "\tdave@example.com,\\\n"
	    "  \"|/usr/bin/logger -t mail\"\n"
	    "root: mallory\n"
	    "issues: error:550 gone \\# away\n");
	CHECK(test_run(argv) == 0, "makemap -t aliases: exit 0 with a "
	    "duplicate (warning)");
	if ((t = test_open("aliases", "aliases.db")) == NULL) {
		CHECK(0, "aliases.db opened by the db backend");
		return;
	}
	CHECK(test_lookup_is(t, K_ALIAS, "ROOT", "bob, Alice"),
	    "aliases: the first of a duplicate wins, value case kept");
	CHECK(test_lookup_is(t, K_ALIAS, "Staff", "carol, \tdave@example.com,"
	    "  \"|/usr/bin/logger -t mail\""),
	    "aliases: backslash continuation joins the lines");
	CHECK(test_lookup_is(t, K_ALIAS, "issues", "error:550 gone # away"),
	    "aliases: \\# is a literal #");
	table_free(&t);

	test_write("badaliases", "root: bob,\n");
	CHECK(test_run(bad) == 1, "aliases: trailing comma refused");
	test_write("badaliases", "root: bob\n  carol\n");
	CHECK(test_run(bad) == 1,
	    "aliases: indented line without backslash refused");
}

static void
test_atomic(void)
{
	const char	*argv[] = { "-o", "keep.db", "good", NULL };
	const char	*bad[] = { "-o", "keep.db", "bad", NULL };
	const char	*missing[] = { "-o", "keep.db", "nosuchfile", NULL };
	struct table	*t;
	char		 line[TABLE_LINE_MAX + 16];

	test_write("good", "k v\n");
	CHECK(test_run(argv) == 0, "-o keep.db: exit 0");
	test_write("bad", "k2 v2\nthis_has_no_value\n");
	CHECK(test_run(bad) == 1, "invalid entry: exit 1");
	memset(line, 'x', sizeof line - 2);
	line[sizeof line - 2] = '\n';
	line[sizeof line - 1] = '\0';
	test_write("bad", line);
	CHECK(test_run(bad) == 1, "line over TABLE_LINE_MAX: exit 1");
	test_write("bad", "k v\001\n");
	CHECK(test_run(bad) == 1, "control byte: exit 1");
	CHECK(test_run(missing) == 1, "missing input: exit 1");
	CHECK(!test_temp_left(), "no temporary file left after failures");
	if ((t = test_open("keep", "keep.db")) == NULL) {
		CHECK(0, "keep.db still opens");
		return;
	}
	CHECK(test_lookup_is(t, K_STRING, "K", "v") &&
	    tt_check(t, K_STRING, "k2") == 0,
	    "failed runs left the previous output untouched");
	table_free(&t);
}

int
main(void)
{
	char	cmd[PATH_MAX + 16];

	env = &test_env;
	log_init(1, 0);
	snprintf(test_dir, sizeof test_dir, "/tmp/makemap_test.XXXXXX");
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (!CHECK(test_setup() == 0, "makemap found in the build"))
		return test_done();
	test_hash_map();
	test_btree_set();
	test_aliases();
	test_atomic();
	if ((size_t)snprintf(cmd, sizeof cmd, "rm -rf %s", test_dir) <
	    sizeof cmd && system(cmd) != 0)
		printf("# could not remove %s\n", test_dir);
	return test_done();
}
