/*
 * test.h -- the unit-test convention of regress/unit.
 *
 * A test program prints one line per check, "ok N - what" or
 * "not ok N - what (file:line)", then "# N passed, M failed", and exits
 * non-zero if anything failed.  regress/run.py counts those lines.
 * Table-driven cases call CHECK once per row with the row's name.
 * A part that needs something optional the clone may lack (the shared
 * corpus beside the project) calls test_not_run(): its line
 * "# not run: why" is counted neither as passed nor as failed.
 */
#ifndef REGRESS_TEST_H
#define REGRESS_TEST_H

#include <stdio.h>
#include <string.h>

extern int	test_passed;
extern int	test_failed;

int	test_check(int ok, const char *what, const char *file, int line);
int	test_done(void);
void	test_not_run(const char *why);
/* test_rm_tree - remove the file or tree at PATH (depth bounded) */
void	test_rm_tree(const char *path);
/* test_build_path - BUILD/SUB, the program being BUILD/regress/unit/NAME
 * ("" when it cannot be told) */
const char *test_build_path(const char *sub, char *buf, size_t bufsz);

#define CHECK(cond, what) \
	test_check(!!(cond), (what), __FILE__, __LINE__)
#define CHECK_STR(got, want, what) \
	test_check((got) != NULL && strcmp((got), (want)) == 0, (what), \
	    __FILE__, __LINE__)

#endif
