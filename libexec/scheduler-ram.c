/*
 * scheduler-ram.c -- the ramqueue scheduler backend
 * (smtpd/scheduler/scheduler_ramqueue.c) as a helper: started by the
 * daemon as `scheduler-proc` with `-B scheduler=ram2` (any name that is
 * not built in) on fd 0, it serves the proc scheduler protocol through
 * api/scheduler_api (libexec-protocols.md 6).  Nothing but option
 * parsing lives here; it never exits on a request.
 */
#include "smtpd-api.h"

/* smtpd/scheduler/scheduler_ramqueue.c, linked in by scheduler-ram.mk */
extern const struct scheduler_backend	scheduler_backend_ramqueue;

int
main(int argc, char *argv[])
{
	void	*ctx;
	int	 i, status;

	if ((i = scheduler_api_init("scheduler-ram", argc, argv)) == -1)
		return 1;
	if (i != argc) {
		log_warnx("scheduler-ram: takes no argument, got %s", argv[i]);
		return 1;
	}
	if ((ctx = scheduler_backend_ramqueue.open()) == NULL)
		return 1;
	status = scheduler_api_serve(&scheduler_backend_ramqueue, ctx);
	scheduler_backend_ramqueue.close(ctx);
	return status;
}
