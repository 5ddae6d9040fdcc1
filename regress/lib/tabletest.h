/*
 * tabletest.h -- the completion-based table API (smtpd/table/table.h)
 * driven to its answer, for unit tests.
 *
 * tt_lookup() and its siblings start a query and return its r once the
 * completion ran: at once for an embedded table, or after running the
 * event loop EVB (bounded by TT_WAIT_MS) for a helper-hosted one.  A
 * query that has not completed by then is reported as -2, which no
 * table answers.  Test code only: the daemon never waits like this.
 */
#ifndef REGRESS_TABLETEST_H
#define REGRESS_TABLETEST_H

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "table.h"

#define TT_WAIT_MS	20000	/* the longest a query may take in a test */

struct tt_answer {
	int	 done;
	int	 r;
	char	*value;		/* malloc'd copy, or NULL */
};

/* tt_on_done - the completion: keep r and a copy of the value */
static inline void
tt_on_done(void *arg, int r, const char *value)
{
	struct tt_answer	*a = arg;

	a->done = 1;
	a->r = r;
	a->value = value != NULL ? strdup(value) : NULL;
}

/* tt_on_deadline - the wait is over */
static inline void
tt_on_deadline(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	*(int *)arg = 1;
}

/* tt_wait - run EVB until A completed or MS passed; A's r, or -2 */
static inline int
tt_wait_ms(struct event_base *evb, struct tt_answer *a, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event	*ev;
	int		 expired = 0;

	if (!a->done && evb != NULL &&
	    (ev = evtimer_new(evb, tt_on_deadline, &expired)) != NULL) {
		evtimer_add(ev, &tv);
		while (!a->done && !expired)
			event_base_loop(evb, EVLOOP_ONCE);
		event_free(ev);
	}
	return a->done ? a->r : -2;
}

/* tt_result - r, with the value copied to BUF when there is one */
static inline int
tt_result(struct event_base *evb, struct tt_answer *a, char *buf,
    size_t bufsz)
{
	int	r = tt_wait_ms(evb, a, TT_WAIT_MS);

	if (buf != NULL && bufsz > 0) {
		buf[0] = '\0';
		if (a->value != NULL && strlen(a->value) < bufsz)
			memcpy(buf, a->value, strlen(a->value) + 1);
	}
	free(a->value);
	return r;
}

static inline int
tt_lookup_evb(struct event_base *evb, struct table *t,
    enum table_service s, const char *key, char *buf, size_t bufsz)
{
	struct tt_answer	a = { 0, 0, NULL };

	table_lookup(t, s, key, tt_on_done, &a);
	return tt_result(evb, &a, buf, bufsz);
}

static inline int
tt_check_evb(struct event_base *evb, struct table *t, enum table_service s,
    const char *key)
{
	struct tt_answer	a = { 0, 0, NULL };

	table_check(t, s, key, tt_on_done, &a);
	return tt_result(evb, &a, NULL, 0);
}

static inline int
tt_fetch_evb(struct event_base *evb, struct table *t, enum table_service s,
    char *buf, size_t bufsz)
{
	struct tt_answer	a = { 0, 0, NULL };

	table_fetch(t, s, tt_on_done, &a);
	return tt_result(evb, &a, buf, bufsz);
}

static inline int
tt_update_evb(struct event_base *evb, struct table *t)
{
	struct tt_answer	a = { 0, 0, NULL };

	table_update(t, tt_on_done, &a);
	return tt_result(evb, &a, NULL, 0);
}

/* embedded tables complete at once: no loop needed */
#define tt_lookup(t, s, k, b, n)	tt_lookup_evb(NULL, (t), (s), (k), (b), (n))
#define tt_check(t, s, k)		tt_check_evb(NULL, (t), (s), (k))
#define tt_fetch(t, s, b, n)		tt_fetch_evb(NULL, (t), (s), (b), (n))
#define tt_update(t)			tt_update_evb(NULL, (t))

#endif
