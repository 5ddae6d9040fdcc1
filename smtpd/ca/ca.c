/*
 * ca.c -- the ca process: private-key operations for TLS, so no network-facing process holds a key.
 *
 * Runs as smtpd -x ca, chrooted and unprivileged when started as root
 * (see proc.c).  For now it only joins the process tree: it takes its
 * channels from the parent, reports ready and waits for work; later
 * issues give it its handlers.  It must never trust a message from a
 * process that the catalogue (imsg.h) does not route to it.
 */
#include <stddef.h>

#include "mproc.h"
#include "proc.h"
#include "smtpd.h"

static const struct imsg_handler ca_handlers[] = {
	PROC_CHILD_HANDLERS,
};

int
ca_main(void)
{
	proc_child_init(PROC_CA, ca_handlers,
	    sizeof ca_handlers / sizeof ca_handlers[0], NULL,
	    NULL);
	proc_child_loop();
}
