/*
 * scheduler.c -- the scheduler process: the runtime state and timing of every envelope.
 *
 * Runs as smtpd -x scheduler, chrooted and unprivileged when started as
 * root (see proc.c).  Once configured it opens its backend, ramqueue
 * linked in (scheduler_proc.c hosts it; a failure is fatal there, at
 * start-up).  Otherwise it only joins the process tree: it reports ready
 * and waits for work; later issues give it its handlers.  It must never
 * trust a message from a process that the catalogue (imsg.h) does not
 * route to it.
 */
#include <stddef.h>

#include "api_log.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "scheduler_proc.h"
#include "smtpd.h"

static const struct imsg_handler scheduler_handlers[] = {
	PROC_CHILD_HANDLERS,
};

/* scheduler_on_config - open the default backend, linked in */
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
	env->state = host;	/* the process's state, for now its host */
	log_debug("scheduler: backend %s", scheduler_backend_ramqueue.name);
}

int
scheduler_main(void)
{
	proc_child_init(PROC_SCHEDULER, scheduler_handlers,
	    sizeof scheduler_handlers / sizeof scheduler_handlers[0],
	    scheduler_on_config, NULL);
	proc_child_loop();
}
