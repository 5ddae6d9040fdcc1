/*
 * api_backoff.c -- reconnection backoff for table helpers (api_backoff.h).
 *
 * Runs in helper programs between two requests of the daemon.  It only
 * does arithmetic on the monotonic clock: it never sleeps and never
 * makes a request wait, so a helper whose server is down answers every
 * request at once (a temporary failure) until an attempt is due.
 */
#include <limits.h>

#include "api_backoff.h"

/* api_backoff_left - ms from now until ts, 0 if past */
static int
api_backoff_left(const struct timespec *ts)
{
	struct timespec	now;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(ts->tv_sec - now.tv_sec) * 1000 +
	    (ts->tv_nsec - now.tv_nsec) / 1000000L;
	if (ms <= 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

void
api_backoff_init(struct api_backoff *b, int min_ms, int max_ms)
{
	b->min_ms = min_ms > 0 ? min_ms : 1;
	b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
	b->delay_ms = 0;
	b->failures = 0;
	b->next.tv_sec = 0;
	b->next.tv_nsec = 0;
}

int
api_backoff_due(const struct api_backoff *b)
{
	return b->delay_ms == 0 || api_backoff_left(&b->next) == 0;
}

int
api_backoff_wait(const struct api_backoff *b)
{
	return b->delay_ms == 0 ? 0 : api_backoff_left(&b->next);
}

int
api_backoff_failed(struct api_backoff *b)
{
	if (b->delay_ms == 0)
		b->delay_ms = b->min_ms;
	else if (b->delay_ms > b->max_ms / 2)
		b->delay_ms = b->max_ms;
	else
		b->delay_ms *= 2;
	if (b->failures < UINT_MAX)
		b->failures++;
	clock_gettime(CLOCK_MONOTONIC, &b->next);
	b->next.tv_sec += b->delay_ms / 1000;
	b->next.tv_nsec += (long)(b->delay_ms % 1000) * 1000000L;
	if (b->next.tv_nsec >= 1000000000L) {
		b->next.tv_sec++;
		b->next.tv_nsec -= 1000000000L;
	}
	return b->delay_ms;
}

void
api_backoff_succeeded(struct api_backoff *b)
{
	b->delay_ms = 0;
	b->failures = 0;
}
