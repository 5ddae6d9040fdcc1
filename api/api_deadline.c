/*
 * api_deadline.c -- request deadlines for table helpers (api_deadline.h).
 *
 * Runs in helper programs (libexec/table-postgres, table-redis, ...),
 * which serve one request at a time: waiting here, bounded by the
 * request's deadline, is how a helper waits for its database server.
 * Never used in a daemon process, whose waits are libevent timers.
 * Never sleeps without a file descriptor to watch and never longer
 * than the deadline.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>

#include "api_deadline.h"

/* api_deadline_now - the monotonic clock */
static struct timespec
api_deadline_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

void
api_deadline_set(struct api_deadline *d, int ms)
{
	d->end = api_deadline_now();
	if (ms < 0)
		ms = 0;
	d->end.tv_sec += ms / 1000;
	d->end.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (d->end.tv_nsec >= 1000000000L) {
		d->end.tv_sec++;
		d->end.tv_nsec -= 1000000000L;
	}
}

int
api_deadline_left(const struct api_deadline *d)
{
	struct timespec	now = api_deadline_now();
	long long	ms;

	ms = (long long)(d->end.tv_sec - now.tv_sec) * 1000 +
	    (d->end.tv_nsec - now.tv_nsec) / 1000000L;
	if (ms <= 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int
api_deadline_wait(const struct api_deadline *d, int fd, int events)
{
	struct pollfd	pfd;
	int		left, r;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	for (;;) {
		pfd.fd = fd;
		pfd.events = 0;
		pfd.revents = 0;
		if (events & API_DEADLINE_READ)
			pfd.events |= POLLIN;
		if (events & API_DEADLINE_WRITE)
			pfd.events |= POLLOUT;
		left = api_deadline_left(d);
		if ((r = poll(&pfd, 1, left)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		/* an error or hang-up is "ready": the library reads it */
		return 1;
	}
}

struct timeval
api_deadline_timeval(const struct api_deadline *dl)
{
	struct timeval	tv;
	int		ms = api_deadline_left(dl);

	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}
