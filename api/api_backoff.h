/*
 * api_backoff.h -- when a table helper may try its server again.
 *
 * A helper whose connection to its database server failed does not
 * hammer it: after each failed attempt the next one waits twice as
 * long (from min to max milliseconds), and requests arriving meanwhile
 * are answered at once as temporary failures instead of each paying a
 * connect timeout.  A success resets the delay.  The helper keeps no
 * timer: the next request simply asks whether an attempt is due.
 */
#ifndef API_BACKOFF_H
#define API_BACKOFF_H

#include <time.h>

#define API_BACKOFF_MIN_MS	250	/* delay after the first failure */
#define API_BACKOFF_MAX_MS	4000	/* delay ceiling */

struct api_backoff {
	int		 min_ms;
	int		 max_ms;
	int		 delay_ms;	/* 0: no failure since the last success */
	unsigned int	 failures;	/* in a row */
	struct timespec	 next;		/* CLOCK_MONOTONIC, when delay_ms > 0 */
};

/* api_backoff_init - no failure yet; delays from min_ms to max_ms */
void	api_backoff_init(struct api_backoff *, int min_ms, int max_ms);
/* api_backoff_due - 1 when an attempt may be made now, else 0 */
int	api_backoff_due(const struct api_backoff *);
/* api_backoff_wait - milliseconds until the next attempt is due */
int	api_backoff_wait(const struct api_backoff *);
/* api_backoff_failed - an attempt failed: the delay before the next */
int	api_backoff_failed(struct api_backoff *);
/* api_backoff_succeeded - an attempt worked: no delay any more */
void	api_backoff_succeeded(struct api_backoff *);

#endif
