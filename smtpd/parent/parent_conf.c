/*
 * parent_conf.c -- the parent reads the configuration: the file given
 * with -f, the default path, or with -r DIR the file DIR/smtpd.conf and,
 * when that does not exist, the embedded defaults.  With -n it only
 * reports whether the configuration is usable.  Start-up only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "smtpd.h"

int
parent_config_load(void)
{
	FILE	*fp;

	if ((fp = fopen(env->opts.conffile, "r")) == NULL) {
		if (errno == ENOENT && env->opts.rundir[0] &&
		    !env->opts.conffile_set) {
			log_event(0, "parent", "config",
			    "file=embedded reason=\"no %s\"",
			    env->opts.conffile);
			return 0;
		}
		fprintf(stderr, "smtpd: %s: %s\n", env->opts.conffile,
		    strerror(errno));
		return -1;
	}
	fclose(fp);
	if (env->opts.noaction) {
		fprintf(stderr, "smtpd: -n: the configuration parser is not "
		    "built in yet\n");
		return -1;
	}
	return 0;
}
