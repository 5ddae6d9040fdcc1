/*
 * queue-fs.c -- the fs queue backend (smtpd/queue/queue_fs.c) as a
 * helper: started by the daemon on fd 0, it serves the proc queue
 * protocol through api/queue_api (the daemon numbering, or the extras
 * one with -X) on a spool of its own.
 *
 *   queue-fs [-nvX] [-c dir] [-t dir] [-u user] [spool]
 *
 * As root it first chroots (-c dir, PATH_SMTPD_SPOOL by default) and
 * drops to the queue user, then opens the spool, creating its layout as
 * that user: the chroot itself, or, without one (-n, or not root), the
 * operand (PATH_SMTPD_SPOOL by default).  Nothing but option parsing
 * lives here; it never exits on a request.
 */
#include "smtpd-api.h"

#ifndef PATH_SMTPD_SPOOL
#define PATH_SMTPD_SPOOL	"/var/spool/smtpd"
#endif

/* smtpd/queue/queue_fs.c, linked in by libexec/queue-fs.mk */
extern const struct queue_backend	queue_backend_fs;

int
main(int argc, char *argv[])
{
	const char	*spool = PATH_SMTPD_SPOOL;
	void		*ctx;
	int		 i, chrooted, status;

	if ((i = queue_api_init("queue-fs", argc, argv)) == -1)
		return 1;
	if (argc - i > 1) {
		log_warnx("queue-fs: one spool at most, got %s", argv[i + 1]);
		return 1;
	}
	if (i < argc)
		spool = argv[i];
	if ((chrooted = queue_api_drop_privileges()) == -1)
		return 1;
	if (chrooted && i < argc) {
		log_warnx("queue-fs: chrooted, the spool is the chroot: "
		    "use -c %s", argv[i]);
		return 1;
	}
	if ((ctx = queue_backend_fs.open(chrooted ? "/" : spool)) == NULL)
		return 1;
	status = queue_api_serve(&queue_backend_fs, ctx);
	queue_backend_fs.close(ctx);
	return status;
}
