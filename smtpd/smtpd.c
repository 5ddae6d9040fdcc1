/*
 * smtpd.c -- main() of the smtpd binary.
 *
 * Parses the command line, then becomes the parent (the user's command
 * line) or, with `-x NAME`, the child process NAME that the parent
 * re-executed.  Nothing else happens here: each role's work lives in its
 * folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"

struct smtpd_env	*env;

static struct smtpd_env	smtpd_env;

static const struct {
	enum proc_id	  id;
	int		(*main)(void);
} smtpd_roles[] = {
	{ PROC_CONTROL,    control_main },
	{ PROC_LOOKUP,     lookup_main },
	{ PROC_QUEUE,      queue_main },
	{ PROC_SCHEDULER,  scheduler_main },
	{ PROC_DISPATCHER, dispatcher_main },
	{ PROC_CA,         ca_main },
};

int
main(int argc, char *argv[])
{
	char		err[512];
	enum proc_id	id;
	size_t		i;
	int		r;

	env = &smtpd_env;
	env->proc = PROC_PARENT;
	r = smtpd_opts_parse(&env->opts, argc, argv, err, sizeof err);
	if (r == 1) {
		/* -h: the version on stdout, the synopsis on stderr */
		printf("smtpd %s\n", SMTPD_VERSION);
		fflush(stdout);
		smtpd_opts_usage();
		return 0;
	}
	if (r == -1) {
		fprintf(stderr, "smtpd: %s\n", err);
		smtpd_opts_usage();
		return 1;
	}
	proctitle_init(argc, argv);
	if (env->opts.procname == NULL)
		return parent_main();

	id = proc_lookup(env->opts.procname);
	for (i = 0; i < sizeof smtpd_roles / sizeof smtpd_roles[0]; i++)
		if (smtpd_roles[i].id == id)
			return smtpd_roles[i].main();
	fprintf(stderr, "smtpd: -x %s: unknown process name\n",
	    env->opts.procname);
	return 1;
}
