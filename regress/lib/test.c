/*
 * test.c -- counters and output for the unit-test convention (test.h).
 * Linked into every regress/unit program; never into the daemon.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

int	test_passed;
int	test_failed;

int
test_check(int ok, const char *what, const char *file, int line)
{
	int	n = test_passed + test_failed + 1;

	if (ok) {
		test_passed++;
		printf("ok %d - %s\n", n, what);
	} else {
		test_failed++;
		printf("not ok %d - %s (%s:%d)\n", n, what, file, line);
	}
	fflush(stdout);
	return ok;
}

/* test_rm_depth - PATH removed, DEPTH levels below the tree's top */
static void
test_rm_depth(const char *path, int depth)
{
	struct dirent	*de;
	DIR		*dp;
	char		 sub[PATH_MAX];

	if (depth > 8 || (dp = opendir(path)) == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			test_rm_depth(sub, depth + 1);
		else
			unlink(sub);
	}
	closedir(dp);
	rmdir(path);
}

/* test_rm_tree - remove the file or tree at PATH (a test's own
 * temporary tree: depth bounded, symbolic links not followed) */
void
test_rm_tree(const char *path)
{
	test_rm_depth(path, 0);
}

/* test_not_run - say that a part of the program did not run, and why */
void
test_not_run(const char *why)
{
	printf("# not run: %s\n", why);
	fflush(stdout);
}

int
test_done(void)
{
	printf("# %d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

const char *
test_build_path(const char *sub, char *buf, size_t bufsz)
{
	char	exe[4096], *p;
	ssize_t	n;
	int	i;

	buf[0] = '\0';
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return buf;
	exe[n] = '\0';
	for (i = 0; i < 3; i++)
		if ((p = strrchr(exe, '/')) != NULL)
			*p = '\0';
	if ((size_t)snprintf(buf, bufsz, "%s/%s", exe, sub) >= bufsz)
		buf[0] = '\0';
	return buf;
}
