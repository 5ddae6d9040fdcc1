/*
 * queue.c -- the queue process: the persistent queue of messages and envelopes.
 *
 * Runs as smtpd -x queue, chrooted into the spool and unprivileged when
 * started as root (see proc.c).  Once configured it opens its storage
 * backend, which makes its own layout below the spool root as the queue
 * user (the parent makes only the root); an unusable spool is fatal
 * there, at start-up.  Otherwise it only joins the process tree: it
 * reports ready and waits for work; later issues give it its handlers.
 * It must never trust a message from a process that the catalogue
 * (imsg.h) does not route to it.
 */
#include <stddef.h>

#include "api_log.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "queue_backend.h"
#include "smtpd.h"

#define QUEUE_BACKEND_DEFAULT	"fs"

static const struct imsg_handler queue_handlers[] = {
	PROC_CHILD_HANDLERS,
};

/* queue_on_config - open the storage: the spool is "/" once chrooted */
static void
queue_on_config(void)
{
	const char	*root = env->privsep ? "/" : env->opts.spool;

	/* every level goes to our log, which filters debug itself */
	api_log_set_sink(log_api_line);
	api_log_verbose(1);
	if (queue_backend_init(QUEUE_BACKEND_DEFAULT, root) == -1)
		fatalx("queue: spool %s unusable", env->opts.spool);
}

int
queue_main(void)
{
	proc_child_init(PROC_QUEUE, queue_handlers,
	    sizeof queue_handlers / sizeof queue_handlers[0], queue_on_config,
	    NULL);
	proc_child_loop();
}
