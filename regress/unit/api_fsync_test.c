/*
 * api_fsync_test.c -- api_fsync_all (api/api_fsync.h): many files
 * fsync'd side by side, each one's outcome reported on its own, a -1
 * skipped, the same answers on the threaded path (many files) and the
 * direct one (one file); every file's data is there afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_fsync.h"
#include "test.h"

#define N	40

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
	close(pfd[0]);
	close(pfd[1]);
	rmdir(dir);
	return test_done();
}
