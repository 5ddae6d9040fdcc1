/*
 * api_fsync_test.c -- api_fsync_all (api/api_fsync.h): many files
 * fsync'd side by side, each one's outcome reported on its own, a -1
 * skipped, the same answers on the threaded path (many files) and the
 * direct one (one file); every file's data is there afterwards.  Several
 * callers at once (the queue's loop and its commit thread) each get
 * their own answers, none waits for another's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_fsync.h"
#include "test.h"

#define N	40
#define CALLERS	4
#define ROUNDS	25

/* one caller of several: its own files and a pipe, ROUNDS calls; bad
 * counts the calls whose answers were wrong */
struct caller {
	int	fds[9], errs[9];
	int	bad;
};

static void *
caller_main(void *arg)
{
	struct caller	*c = arg;
	int		 r, i, ok;

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < 9; i++)
			c->errs[i] = -7;
		ok = api_fsync_all(c->fds, 9, c->errs) == 1;
		for (i = 0; i < 8; i++)
			ok &= c->errs[i] == 0;
		ok &= c->errs[8] == EINVAL;
		c->bad += !ok;
	}
	return NULL;
}

/* test_callers - CALLERS threads calling at once, in DIR */
static void
test_callers(const char *dir)
{
	struct caller	 c[CALLERS];
	pthread_t	 t[CALLERS];
	char		 path[64];
	int		 i, k, pfd[CALLERS][2], made = 1, bad = 0;

	memset(c, 0, sizeof c);
	for (k = 0; k < CALLERS; k++) {
		if (pipe(pfd[k]) == -1)
			made = 0;
		for (i = 0; i < 8; i++) {
			snprintf(path, sizeof path, "%s/c%d.%d", dir, k, i);
			c[k].fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC,
			    0600);
			made &= c[k].fds[i] != -1;
		}
		c[k].fds[8] = pfd[k][0];
	}
	CHECK(made, "callers: files made");
	for (k = 0; k < CALLERS; k++)
		made &= pthread_create(&t[k], NULL, caller_main, &c[k]) == 0;
	CHECK(made, "callers: threads made");
	for (k = 0; k < CALLERS; k++) {
		pthread_join(t[k], NULL);
		bad += c[k].bad;
	}
	CHECK(bad == 0, "four callers at once, 25 calls each: every answer "
	    "its own");
	for (k = 0; k < CALLERS; k++) {
		for (i = 0; i < 8; i++) {
			close(c[k].fds[i]);
			snprintf(path, sizeof path, "%s/c%d.%d", dir, k, i);
			unlink(path);
		}
		close(pfd[k][0]);
		close(pfd[k][1]);
	}
}

int
main(void)
{
	char	 dir[] = "/tmp/api_fsync_test.XXXXXX", path[64], buf[16];
	int	 fds[N + 2], errs[N + 2], pfd[2], i, ok;

	if (mkdtemp(dir) == NULL || pipe(pfd) == -1)
		return 1;
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof path, "%s/f%d", dir, i);
		fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fds[i] == -1 || write(fds[i], path, strlen(path)) !=
		    (ssize_t)strlen(path))
			return 1;
		errs[i] = -7;
	}
	fds[N] = -1;		/* skipped */
	errs[N] = 12345;
	fds[N + 1] = pfd[0];	/* fsync on a pipe: EINVAL */
	errs[N + 1] = 0;
	CHECK(api_fsync_all(fds, N + 2, errs) == 1,
	    "forty files and a pipe: one failure");
	for (ok = 1, i = 0; i < N; i++)
		ok &= errs[i] == 0;
	CHECK(ok, "every file: 0");
	CHECK(errs[N] == 12345, "a -1 is skipped, its error left as is");
	CHECK(errs[N + 1] == EINVAL, "the pipe: EINVAL");
	CHECK(api_fsync_all(fds, N + 2, errs) == 1,
	    "again, the same pool: the same answers");
	errs[0] = -7;
	CHECK(api_fsync_all(fds, 1, errs) == 0 && errs[0] == 0,
	    "one file, no thread");
	errs[N + 1] = 0;
	CHECK(api_fsync_all(&fds[N + 1], 1, &errs[N + 1]) == 1 &&
	    errs[N + 1] == EINVAL, "one pipe, no thread: EINVAL");
	CHECK(api_fsync_all(fds, 0, errs) == 0, "nothing: 0");
	for (ok = 1, i = 0; i < N; i++) {
		snprintf(path, sizeof path, "%s/f%d", dir, i);
		ok &= pread(fds[i], buf, sizeof buf, 0) > 0 &&
		    memcmp(buf, path, sizeof buf < strlen(path) ? sizeof buf :
		    strlen(path)) == 0;
		close(fds[i]);
		unlink(path);
	}
	CHECK(ok, "every file holds what was written");
	test_callers(dir);
	close(pfd[0]);
	close(pfd[1]);
	rmdir(dir);
	return test_done();
}
