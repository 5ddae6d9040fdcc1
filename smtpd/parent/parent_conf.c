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

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "smtpd.h"

int
parent_config_load(void)
{
	const char	*const *macros = env->opts.macros;
	int		 nmacros = env->opts.nmacros;
	struct smtpd_conf *conf;

	if (access(env->opts.conffile, F_OK) == -1 && errno == ENOENT &&
	    env->opts.rundir[0] && !env->opts.conffile_set) {
		log_event(0, "parent", "config", "file=embedded reason=\"no %s\"",
		    env->opts.conffile);
		conf = conf_load_string("embedded", conf_default_text,
		    strlen(conf_default_text), macros, nmacros, stderr,
		    env->opts.libexec);
	} else
		conf = conf_load(env->opts.conffile, macros, nmacros, stderr,
		    env->opts.libexec);
	if (conf == NULL)
		return -1;
	if (env->opts.noaction) {
		if (env->opts.verbose)
			conf_dump(stdout, conf);
		fprintf(stderr, "configuration OK\n");
		conf_free(&conf);
		return 0;
	}
	env->conf = conf;
	return 0;
}
