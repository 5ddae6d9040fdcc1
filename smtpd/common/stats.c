/*
 * stats.c -- one process's counters and its answer to control's
 * IMSG_PROC_GET_STATS (stats.h).
 *
 * Linked into every process; each counts what it sees.  The table is
 * this module's private state (stats_free forgets it): a handful of
 * named counters, looked up by a linear scan, which is cheaper than any
 * tree at STATS_MAX entries.  Never fatal: a counter that does not fit
 * is dropped, logged once; an answer that does not fit is cut at a
 * line boundary and says so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "imsg_codec.h"
#include "log.h"
#include "stats.h"

struct stats_counter {
	const char	*name;
	long long	 value;
};

static struct {
	struct stats_counter	 c[STATS_MAX];
	size_t			 n;
	int			 full_logged;
	void			(*collect)(void);
} stats;

/* stats_find - NAME's counter, made if new; NULL when the table is full */
static struct stats_counter *
stats_find(const char *name)
{
	size_t	i;

	for (i = 0; i < stats.n; i++)
		if (strcmp(stats.c[i].name, name) == 0)
			return &stats.c[i];
	if (stats.n == STATS_MAX) {
		if (!stats.full_logged)
			log_warnx("stats: more than %d counters, %s dropped",
			    STATS_MAX, name);
		stats.full_logged = 1;
		return NULL;
	}
	stats.c[stats.n].name = name;
	stats.c[stats.n].value = 0;
	return &stats.c[stats.n++];
}

void
stats_add(const char *name, long long delta)
{
	struct stats_counter	*c;

	if ((c = stats_find(name)) != NULL)
		c->value += delta;
}

void
stats_set(const char *name, long long value)
{
	struct stats_counter	*c;

	if ((c = stats_find(name)) != NULL)
		c->value = value;
}

long long
stats_get(const char *name)
{
	size_t	i;

	for (i = 0; i < stats.n; i++)
		if (strcmp(stats.c[i].name, name) == 0)
			return stats.c[i].value;
	return 0;
}

void
stats_on_collect(void (*fn)(void))
{
	stats.collect = fn;
}

int
stats_format(char *buf, size_t size)
{
	size_t	i, len = 0;
	int	n;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < stats.n; i++) {
		n = snprintf(buf + len, size - len, "%s=%lld\n",
		    stats.c[i].name, stats.c[i].value);
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = '\0';
			return -1;
		}
		len += (size_t)n;
	}
	return (int)len;
}

void
stats_free(void)
{
	memset(&stats, 0, sizeof stats);
}

void
stats_on_get_stats(struct mproc *p, struct imsg *imsg)
{
	struct msg_proc_get_stats	m;
	char				buf[IMSG_MAX_PAYLOAD - 64];

	if (msg_unpack_proc_get_stats(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (stats.collect != NULL)
		stats.collect();
	if (stats_format(buf, sizeof buf) == -1)
		log_warnx("stats: counters cut to fit one answer");
	msg_send_proc_get_stats_result(p, &(struct msg_proc_get_stats_result){
	    .reqid = m.reqid, .stats = buf });
}
