/*
 * scheduler.c -- the scheduler process: the runtime state and timing of every envelope.
 *
 * Runs as smtpd -x scheduler, chrooted and unprivileged when started as
 * root (see proc.c).  Once configured it opens its backend, ramqueue
 * linked in (scheduler_proc.c hosts it; a failure is fatal there, at
 * start-up), and starts the batch loop with the configuration's
 * scheduler limits (scheduler_work.c).  The queue then tells it every
 * envelope (committed, or walked at the queue's start) and every
 * delivery outcome; it hands deliveries out to the queue.  It must
 * never trust a message from a process that the catalogue (imsg.h) does
 * not route to it.
 */
#include <stddef.h>

#include "api_log.h"
#include "conf.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "scheduler.h"
#include "scheduler_proc.h"
#include "smtpd.h"
#include "stats.h"

static const struct imsg_handler scheduler_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_SCHEDULER_INSERT_ENVELOPE, PROC_QUEUE,
	    scheduler_on_insert_envelope },
	{ IMSG_SCHEDULER_COMMIT_MESSAGE, PROC_QUEUE,
	    scheduler_on_commit_message },
	{ IMSG_SCHEDULER_DELIVERY_RESULT, PROC_QUEUE,
	    scheduler_on_delivery_result },
	{ IMSG_SCHEDULER_CHANGE_ENVELOPES, PROC_CONTROL,
	    scheduler_on_change_envelopes },
	{ IMSG_SCHEDULER_RESCHEDULE, PROC_QUEUE, scheduler_on_reschedule },
	{ IMSG_SCHEDULER_LIST_ENVELOPES, PROC_CONTROL,
	    scheduler_on_list_envelopes },
	{ IMSG_PROC_PAUSE, PROC_CONTROL, scheduler_on_pause },
	{ IMSG_PROC_GET_STATS, PROC_CONTROL, stats_on_get_stats },
};

const struct imsg_handler *
scheduler_imsg_handlers(size_t *n)
{
	*n = sizeof scheduler_handlers / sizeof scheduler_handlers[0];
	return scheduler_handlers;
}

/* scheduler_on_collect_stats - the gauges of show stats */
static void
scheduler_on_collect_stats(void)
{
	stats_set("scheduler.inflight", (long long)scheduler_work_inflight());
}

/* scheduler_on_config - open the default backend, linked in, and the loop */
static void
scheduler_on_config(void)
{
	struct scheduler_host	*host;

	/* every level goes to our log, which filters debug itself */
	api_log_set_sink(log_api_line);
	api_log_verbose(1);
	if ((host = scheduler_host_embedded(&scheduler_backend_ramqueue)) ==
	    NULL)
		fatalx("scheduler: backend %s unusable",
		    scheduler_backend_ramqueue.name);
	env->state = host;	/* the process's state: its host */
	scheduler_work_init(env->evb, host,
	    env->conf->scheduler_limits.max_inflight,
	    env->conf->scheduler_limits.max_evp_batch_size);
	if (env->opts.paused & (PAUSE_MDA | PAUSE_MTA))
		scheduler_work_pause(env->opts.paused & (PAUSE_MDA | PAUSE_MTA),
		    1);
	stats_on_collect(scheduler_on_collect_stats);
	log_debug("scheduler: backend %s max-inflight=%lld "
	    "max-evp-batch-size=%lld", scheduler_backend_ramqueue.name,
	    env->conf->scheduler_limits.max_inflight,
	    env->conf->scheduler_limits.max_evp_batch_size);
}

int
scheduler_main(void)
{
	proc_child_init(PROC_SCHEDULER, scheduler_handlers,
	    sizeof scheduler_handlers / sizeof scheduler_handlers[0],
	    scheduler_on_config, NULL);
	proc_child_loop();
}
