/*
 * test.c -- counters and output for the unit-test convention (test.h).
 * Linked into every regress/unit program; never into the daemon.
 */
#include <stdio.h>

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
