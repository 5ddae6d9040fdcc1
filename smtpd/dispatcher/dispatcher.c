/*
 * dispatcher.c -- the dispatcher process: the event-driven network and
 * delivery work (SMTP server sessions, MTA client sessions, local
 * deliveries, bounces).
 *
 * Runs as smtpd -x dispatcher, chrooted and unprivileged when started as
 * root (see proc.c).  It will own the run state of the three agents
 * (mda, mta, smtp: running or paused, -P at start); none of them exists
 * yet, so it reports nothing about them (show status lists only what
 * runs).  It must never block: every wait is an event.
 */
#include <stddef.h>
#include <stdint.h>

#include "mproc.h"
#include "proc.h"
#include "smtpd.h"

struct dispatcher_state {
	unsigned int	paused;		/* PAUSE_* */
};

static struct dispatcher_state	dispatcher_state_storage;

static struct dispatcher_state *
dispatcher_state(void)
{
	return env->state;
}

static const struct imsg_handler dispatcher_handlers[] = {
	PROC_CHILD_HANDLERS,
};

int
dispatcher_main(void)
{
	env->state = &dispatcher_state_storage;
	dispatcher_state()->paused = env->opts.paused;
	proc_child_init(PROC_DISPATCHER, dispatcher_handlers,
	    sizeof dispatcher_handlers / sizeof dispatcher_handlers[0], NULL,
	    NULL);
	proc_child_loop();
}
