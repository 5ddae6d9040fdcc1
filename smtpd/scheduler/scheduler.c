/*
 * scheduler.c -- the scheduler process: the runtime state and timing of every envelope.
 *
 * Runs as smtpd -x scheduler, chrooted and unprivileged when started as root
 * (see proc.c).  For now it only joins the process tree: it takes its
 * channels from the parent, reports ready and waits for work; later
 * issues give it its handlers.  It must never trust a message from a
 * process that the catalogue (imsg.h) does not route to it.
 */
#include <stddef.h>

#include "mproc.h"
#include "proc.h"
#include "smtpd.h"

static const struct imsg_handler scheduler_handlers[] = {
	PROC_CHILD_HANDLERS,
};

int
scheduler_main(void)
{
	proc_child_init(PROC_SCHEDULER, scheduler_handlers,
	    sizeof scheduler_handlers / sizeof scheduler_handlers[0], NULL,
	    NULL);
	proc_child_loop();
}
