/*
 * dispatcher.c -- the dispatcher process: the event-driven network and
 * delivery work (SMTP server sessions, MTA client sessions, local
 * deliveries, bounces).
 *
 * Runs as smtpd -x dispatcher, chrooted and unprivileged when started as
 * root (see proc.c).  It owns the run state of the three agents (mda,
 * mta, smtp: running or paused, -P at start) and reports it to control.
 * It must never block: every wait is an event.
 */
#include <stddef.h>
#include <stdint.h>

#include "imsg_codec.h"
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

/* dispatcher_on_get_status - control asks whether the agents are paused */
static void
dispatcher_on_get_status(struct mproc *p, struct imsg *imsg)
{
	struct msg_agent_status	s;
	uint64_t		reqid;

	if (msg_unpack_dispatcher_get_status(imsg, &reqid) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	s.mda = (dispatcher_state()->paused & PAUSE_MDA) != 0;
	s.mta = (dispatcher_state()->paused & PAUSE_MTA) != 0;
	s.smtp = (dispatcher_state()->paused & PAUSE_SMTP) != 0;
	msg_send_dispatcher_get_status_result(p, reqid, &s);
}

static const struct imsg_handler dispatcher_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_DISPATCHER_GET_STATUS, PROC_CONTROL, dispatcher_on_get_status },
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
