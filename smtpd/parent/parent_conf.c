/*
 * parent_conf.c -- the parent reads the configuration: the file given
 * with -f, the default path, or with -r DIR the file DIR/smtpd.conf and,
 * when that does not exist, the embedded defaults.  With -n it only
 * reports whether the configuration is usable.  Start-up only.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "parent.h"
#include "smtpd.h"

static char	parent_config_mailuser[256];

/*
 * parent_config_defaults - the macros of the built-in configuration: its
 * Maildir under the run directory, delivered as the caller, or as the
 * daemon's account when the caller is root (a delivery never runs as
 * root), on port 2525; the user's own -D macros come after and win
 */
static int
parent_config_defaults(const char **macros, char *maildir, size_t maildirsz,
    char *mailuser, size_t mailusersz)
{
	struct passwd	*pw;
	int		 n = 0, i;

	snprintf(maildir, maildirsz, "smtpd_maildir=\"%s/Maildir\"",
	    env->opts.rundir);
	if (geteuid() == 0)
		snprintf(mailuser, mailusersz, "smtpd_mailuser=%s",
		    env->opts.user);
	else if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(mailuser, mailusersz, "smtpd_mailuser=%s",
		    pw->pw_name);
	else
		snprintf(mailuser, mailusersz, "smtpd_mailuser=%ld",
		    (long)geteuid());
	strlcpy(parent_config_mailuser, mailuser + strlen("smtpd_mailuser="),
	    sizeof parent_config_mailuser);
	macros[n++] = "smtpd_port=2525";
	macros[n++] = maildir;
	macros[n++] = mailuser;
	for (i = 0; i < env->opts.nmacros; i++)
		macros[n++] = env->opts.macros[i];
	return n;
}

const char *
parent_config_embedded(void)
{
	return parent_config_mailuser[0] ? parent_config_mailuser : NULL;
}

int
parent_config_load(void)
{
	const char	*const *macros = env->opts.macros;
	int		 nmacros = env->opts.nmacros;
	struct smtpd_conf *conf;
	const char	*defs[MACRO_DEFINE_MAX + 3];
	char		 maildir[PATH_MAX + 32], mailuser[300];

	if (access(env->opts.conffile, F_OK) == -1 && errno == ENOENT &&
	    env->opts.rundir[0] && !env->opts.conffile_set) {
		log_event(0, "parent", "config", "file=embedded reason=\"no %s\"",
		    env->opts.conffile);
		nmacros = parent_config_defaults(defs, maildir, sizeof maildir,
		    mailuser, sizeof mailuser);
		conf = conf_load_string("embedded", conf_default_text,
		    strlen(conf_default_text), defs, nmacros, stderr,
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
