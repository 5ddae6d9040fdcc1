/*
 * queue-ram.c -- the ram queue backend (smtpd/queue/queue_ram.c) as a
 * helper: started by the daemon as `queue-proc` with `-B queue=ram2`
 * (any name that is not built in) on fd 0, it serves the proc queue
 * protocol through api/queue_api (the daemon numbering, or the extras
 * one with -X).  VOLATILE: everything is lost when it exits.  Nothing
 * but option parsing lives here; it never exits on a request.
 */
#include "smtpd-api.h"

/* smtpd/queue/queue_ram.c, linked in by libexec/queue-ram.mk */
extern const struct queue_backend	queue_backend_ram;

int
main(int argc, char *argv[])
{
	void	*ctx;
	int	 i, status;

	if ((i = queue_api_init("queue-ram", argc, argv)) == -1)
		return 1;
	if (i != argc) {
		log_warnx("queue-ram: takes no argument, got %s", argv[i]);
		return 1;
	}
	if ((ctx = queue_backend_ram.open(NULL)) == NULL)
		return 1;
	status = queue_api_serve(&queue_backend_ram, ctx);
	queue_backend_ram.close(ctx);
	return status;
}
