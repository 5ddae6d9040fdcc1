/*
 * tables.c -- look-ups per second through the daemon's table layer
 * (smtpd/table/table.h), as the lookup process makes them: one table,
 * embedded (file:, the baseline) or hosted in a helper through
 * smtpd/table/table_proc.c and api/api_host.c in either protocol
 * (imsg: proc-NAME, 7.6+ text: text-NAME or proc:/path), on a libevent
 * loop, with INFLIGHT look-ups outstanding at any time (queued in the
 * helper's FIFO; a helper is sent one at a time, as both protocols
 * require of a 6.8 or 7.8 daemon).
 *
 *   tables LIBEXEC BACKEND CONFIG SERVICE KEY N INFLIGHT
 *
 * prints one JSON line: n, inflight, seconds, lookups_per_s, mean and
 * p99 latency in microseconds (from the call to its completion), and
 * failed (answers other than found).  A warm-up look-up first waits for
 * the helper's start and handshake.  Run by bench/tables.py; never part
 * of make test.  Exit 1 on a bad command line or a table that does not
 * open, 2 when any look-up failed (the numbers are then not a result).
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "smtpd.h"
#include "table.h"

struct smtpd_env	*env;
static struct smtpd_env	 bench_env;

struct bench_req {
	struct bench_run	*run;
	long long		 t0;	/* ns, at the call */
};

struct bench_run {
	size_t		 n;
	size_t		 issued;
	size_t		 completed;
	size_t		 failed;
	long long	*lat;		/* ns, per completion */
	struct bench_req *reqs;
};

/* bench_ns - monotonic nanoseconds */
static long long
bench_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* bench_on_done - one completion: its latency, found or not */
static void
bench_on_done(void *arg, int r, const char *value)
{
	struct bench_req	*q = arg;
	struct bench_run	*run = q->run;

	(void)value;
	if (r != 1)
		run->failed++;
	run->lat[run->completed++] = bench_ns() - q->t0;
}

/* bench_cmp - for qsort of latencies */
static int
bench_cmp(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* bench_loop - N look-ups of KEY, INFLIGHT outstanding; the elapsed ns */
static long long
bench_loop(struct event_base *evb, struct table *t, enum table_service s,
    const char *key, struct bench_run *run, size_t inflight)
{
	long long	t0 = bench_ns();

	while (run->completed < run->n) {
		/* embedded tables complete inside the call: no recursion */
		while (run->issued < run->n &&
		    run->issued - run->completed < inflight) {
			struct bench_req *q = &run->reqs[run->issued++];

			q->run = run;
			q->t0 = bench_ns();
			table_lookup(t, s, key, bench_on_done, q);
		}
		if (run->completed < run->issued)
			event_base_loop(evb, EVLOOP_ONCE);
	}
	return bench_ns() - t0;
}

int
main(int argc, char *argv[])
{
	struct event_base	*evb;
	struct table		*t;
	struct bench_run	 warm, run;
	enum table_service	 s;
	char			 err[512];
	long long		 ns, sum = 0;
	size_t			 i, inflight;

	if (argc != 8) {
		fprintf(stderr, "usage: tables LIBEXEC BACKEND CONFIG SERVICE "
		    "KEY N INFLIGHT\n");
		return 1;
	}
	env = &bench_env;
	log_init(1, 0);
	memset(&run, 0, sizeof run);
	memset(&warm, 0, sizeof warm);
	run.n = strtoul(argv[6], NULL, 10);
	inflight = strtoul(argv[7], NULL, 10);
	s = table_service_from_name(argv[4]);
	if (run.n == 0 || inflight == 0 || inflight > TABLE_PROC_QUEUE_MAX ||
	    s == K_NONE || (evb = event_base_new()) == NULL)
		return 1;
	t = table_create("bench", argv[2], argv[3], argv[1], err, sizeof err);
	if (t == NULL || table_open(t, evb, err, sizeof err) == -1) {
		fprintf(stderr, "tables: %s\n", t == NULL ? err : err);
		return 1;
	}
	table_set_timeout(t, 30000);
	warm.n = 1;
	warm.lat = calloc(1, sizeof *warm.lat);
	warm.reqs = calloc(1, sizeof *warm.reqs);
	run.lat = calloc(run.n, sizeof *run.lat);
	run.reqs = calloc(run.n, sizeof *run.reqs);
	if (warm.lat == NULL || warm.reqs == NULL || run.lat == NULL ||
	    run.reqs == NULL)
		return 1;
	(void)bench_loop(evb, t, s, argv[5], &warm, 1);
	if (warm.failed) {
		fprintf(stderr, "tables: %s %s %s: not found at warm-up\n",
		    argv[2], argv[4], argv[5]);
		return 2;
	}
	ns = bench_loop(evb, t, s, argv[5], &run, inflight);
	for (i = 0; i < run.n; i++)
		sum += run.lat[i];
	qsort(run.lat, run.n, sizeof *run.lat, bench_cmp);
	printf("{\"n\": %zu, \"inflight\": %zu, \"seconds\": %.6f, "
	    "\"lookups_per_s\": %.1f, \"mean_us\": %.1f, \"p99_us\": %.1f, "
	    "\"failed\": %zu}\n", run.n, inflight, ns / 1e9,
	    run.n / (ns / 1e9), sum / 1e3 / run.n,
	    run.lat[(run.n * 99) / 100 < run.n ? (run.n * 99) / 100 :
	    run.n - 1] / 1e3, run.failed);
	table_free(&t);
	free(run.lat);
	free(run.reqs);
	free(warm.lat);
	free(warm.reqs);
	event_base_free(evb);
	return run.failed ? 2 : 0;
}
