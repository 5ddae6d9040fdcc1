/*
 * stats.h -- the counters each process keeps for `smtpctl show stats`
 * (CTL-05), and the answer to control's IMSG_PROC_GET_STATS.
 *
 * A process counts events with stats_add()/stats_set() under names of
 * static storage ("smtp.session.total"); a gauge read at question time
 * (sessions open now) is set by a collector the process registers.
 * Control asks every process once and merges the answers.  Counters
 * live in the process that sees the events; nothing here sends anything
 * but the answer, and nothing here is fatal: a counter past STATS_MAX
 * is dropped with one log line.
 */
#ifndef SMTPD_STATS_H
#define SMTPD_STATS_H

#include <stddef.h>

struct imsg;
struct mproc;

/* the most distinct counters one process keeps */
#define STATS_MAX	64

/* stats_add - NAME (a string literal) grows by DELTA (may be negative) */
void	stats_add(const char *name, long long delta);
/* stats_set - NAME is VALUE */
void	stats_set(const char *name, long long value);
/* stats_get - NAME's value, 0 if never counted */
long long stats_get(const char *name);
/* stats_on_collect - FN sets the gauges just before an answer */
void	stats_on_collect(void (*fn)(void));
/* stats_format - "name=value\n" lines into BUF; the length, or -1 when
 * they do not fit SIZE */
int	stats_format(char *buf, size_t size);
/* stats_free - forget every counter (tests) */
void	stats_free(void);

/* stats_on_get_stats - the handler of IMSG_PROC_GET_STATS */
void	stats_on_get_stats(struct mproc *, struct imsg *);

#endif
