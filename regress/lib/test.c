/*
 * test.c -- counters and output for the unit-test convention (test.h).
 * Linked into every regress/unit program; never into the daemon.
 */
#include <stdio.h>
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
