/*
 * smtpd.h -- the state every smtpd process shares the shape of.
 *
 * Each process has exactly one mutable global, env.  env->opts holds the
 * run-time options (command line), fixed after start-up; env->conf will
 * hold the parsed configuration, read-only and replaced whole on reload;
 * env->state points to the process's own state, defined in <proc>.c.
 */
#ifndef SMTPD_SMTPD_H
#define SMTPD_SMTPD_H

#include <sys/types.h>
#include <limits.h>

#include "imsg.h"
#include "smtpd_limits.h"

struct event_base;
struct mproc;

#define SMTPD_VERSION	"0.1"

#define PAUSE_MDA	0x01
#define PAUSE_MTA	0x02
#define PAUSE_SMTP	0x04

struct smtpd_opts {
	char		 self[PATH_MAX];	/* our binary, for re-exec */
	char		 conffile[PATH_MAX];
	int		 conffile_set;		/* -f given */
	char		 rundir[PATH_MAX];	/* -r: local run directory */
	char		 spool[PATH_MAX];
	char		 sock[PATH_MAX];
	char		 pidfile[PATH_MAX];
	char		 libexec[PATH_MAX];
	char		 chroot[PATH_MAX];
	char		 user[64];
	char		 quser[64];
	char		 queue_backend[32];	/* -B queue=: fs, ram, null */
	char		 scheduler_backend[32];	/* -B scheduler=: ramqueue */
	char		 resolver[512];		/* -o resolver=: "" resolv.conf */
	char		 resolv_conf[PATH_MAX];	/* -o resolv-conf=: "" default */
	int		 foreground;		/* -d */
	int		 verbose;		/* -v, repeatable */
	int		 noaction;		/* -n */
	unsigned int	 trace;			/* -T */
	unsigned int	 paused;		/* -P: PAUSE_* */
	int		 mta_timeout;		/* -o mta-timeout=: seconds */
	int		 mta_port;		/* -o mta-port=: MX relaying */
	int		 mta_list_ttl;		/* -o mta-list-ttl=: seconds */
	int		 mda_agent_idle;	/* -o mda-agent-idle=: seconds
						   an idle delivery agent
						   lives, 0 none; -1 unset */
	const char	*macros[MACRO_DEFINE_MAX];	/* -D name=value */
	int		 nmacros;
	const char	*procname;		/* -x */
	int		 child_fd;		/* -x: the channel to parent */
};

struct smtpd_env {
	struct smtpd_opts	 opts;
	const struct smtpd_conf	*conf;
	enum proc_id		 proc;
	int			 privsep;	/* started as root */
	struct event_base	*evb;
	struct mproc		*peers[PROC__COUNT];
	void			*state;
	/* the server's name (mailname, else the canonical host name), found
	 * by each child before it chroots: banner, Received, for local */
	char			 servername[256];
};

extern struct smtpd_env	*env;

/* options.c */
int	smtpd_opts_parse(struct smtpd_opts *, int, char **, char *, size_t);
char  **smtpd_opts_child_argv(const struct smtpd_opts *, const char *);
void	smtpd_opts_usage(void);

/* servername.c: mailname's first line, else the canonical host name */
#define PATH_MAILNAME	"/etc/mail/mailname"
int	smtpd_server_name(const char *mailname, char *buf, size_t size);

/* proctitle.c */
void	proctitle_init(int, char **);
void	proctitle_set(const char *);

/* entry points, one per process */
int	parent_main(void);
int	control_main(void);
int	lookup_main(void);
int	queue_main(void);
int	scheduler_main(void);
int	dispatcher_main(void);
int	ca_main(void);

#endif
