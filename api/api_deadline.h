/*
 * api_deadline.h -- a time limit for one request of a table helper.
 *
 * A helper serves one request at a time; what it asks of a database
 * server (connect, authenticate, run a query) must end by a deadline
 * set when the request arrived, so that a server that hangs or is
 * frozen costs one temporary failure and never a helper stuck past the
 * daemon's own timer.  Drivers whose client library is non-blocking
 * (libpq) wait on the library's socket with api_deadline_wait; others
 * turn the time left into the library's own timeout (hiredis,
 * MariaDB).  Monotonic clock; no signals, no alarm().
 */
#ifndef API_DEADLINE_H
#define API_DEADLINE_H

#include <sys/time.h>

#include <time.h>

struct api_deadline {
	struct timespec	 end;		/* CLOCK_MONOTONIC */
};

/* api_deadline_set - the deadline is MS milliseconds from now */
void	api_deadline_set(struct api_deadline *, int ms);
/* api_deadline_left - milliseconds left, 0 once it has passed */
int	api_deadline_left(const struct api_deadline *);

#define API_DEADLINE_READ	0x1
#define API_DEADLINE_WRITE	0x2
/*
 * api_deadline_wait - wait until FD is readable and/or writable (EVENTS,
 * API_DEADLINE_*) or the deadline passes.  Returns 1 ready, 0 timed
 * out, -1 on a poll error (errno set); EINTR is retried.
 */
int	api_deadline_wait(const struct api_deadline *, int fd, int events);

/* api_deadline_timeval - what is left, at least 1 ms, as the struct
 * timeval client libraries take (hiredis, libldap) */
struct timeval	api_deadline_timeval(const struct api_deadline *);

#endif
