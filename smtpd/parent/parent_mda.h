/*
 * parent_mda.h -- the launcher of local deliveries: what the parent
 * runs for one envelope, as whom, and how its end reads.
 *
 * The parent's imsg handler for IMSG_PARENT_FORK_MDA calls, in order:
 * parent_mda_mbox_prepare() (mbox only, as root), parent_mda_prepare()
 * (pure: argv, envp, directory, uid/gid), parent_mda_spawn() (fork and
 * exec, never blocks), and when the child is reaped,
 * parent_mda_status() (wait status + its stderr -> DELIVERY_*).
 * The format expander (parent_mda_format) is the `%{...}` language of
 * smtpd.conf's maildir paths, lmtp destinations, mda commands and
 * wrappers (smtpd-conf.md 6.3); its injection policy is described at
 * the top of parent_mda.c.  Nothing here logs, exits or blocks;
 * every failure is -1 with a one-line reason.  A delivery never runs
 * as root.
 */
#ifndef SMTPD_PARENT_MDA_H
#define SMTPD_PARENT_MDA_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct conf_action;
struct envelope;
struct event;
struct passwd;

#define PARENT_MDA_FORMAT_MAX	2048	/* an expanded path or command */
#define PARENT_MDA_ARGV_MAX	16
#define PARENT_MDA_ENV_MAX	16
#define PARENT_MDA_ARENA	16384	/* the strings argv/envp point into */
#define PARENT_MDA_ERR_MAX	1024	/* what the parent reads of stderr */
#define PARENT_MDA_SPOOL	"/var/mail"
#define PARENT_MDA_SHELL	"/bin/sh"
#define PARENT_MDA_TIMEOUT	3600	/* seconds a delivery may take */

/* where an expansion goes: what an injected value could do differs */
enum parent_mda_ctx {
	PARENT_MDA_CTX_PATH,	/* a file name: no '/', no ".." from outside */
	PARENT_MDA_CTX_COMMAND	/* /bin/sh -c text: no shell metacharacter */
};

/* the values %{...} expands to */
struct parent_mda_vars {
	const struct envelope	*evp;		/* sender, rcpt, dest */
	const char		*username;	/* user.username */
	const char		*directory;	/* user.directory */
	const char		*mda;		/* %{mda}: wrappers only, or NULL */
	char			 delim;		/* sub-address delimiter: '+' */
};

/* what the caller knows beside the action, the envelope and the user */
struct parent_mda_params {
	const char	*libexec;	/* directory of mail.maildir etc. */
	const char	*wrapper;	/* command of action->wrapper, or NULL */
	const char	*spool;		/* mbox directory; NULL: /var/mail */
	char		 delim;		/* sub-address delimiter; 0: '+' */
	const char	*unique;	/* maildir: the same file name for every
					   attempt at one delivery, or NULL */
	unsigned long long size;	/* bytes the program must read on
					   stdin (SMTPD_MESSAGE_SIZE), 0: - */
};

/*
 * One delivery to run.  argv and envp point into arena: the struct is
 * filled in place and never copied.
 */
struct parent_mda_exec {
	char	 path[PATH_MAX];		/* the program execve()d */
	char	*argv[PARENT_MDA_ARGV_MAX + 1];
	char	*envp[PARENT_MDA_ENV_MAX + 1];
	char	 cwd[PATH_MAX];			/* "/" when it cannot be entered */
	int	 cwd_first;			/* enter cwd before becoming the
						   user, and fail if it cannot */
	int	 has_exec_fd;			/* run exec_fd, not path: the */
	int	 exec_fd;			/* program opened by the caller,
						   which the user may not reach */
	char	 reach[PATH_MAX];		/* a directory the child opens
						   as root onto fd 4, for a
						   command naming it as
						   /proc/self/fd/4 ("": none) */
	char	 user[256];			/* for the supplementary groups */
	uid_t	 uid;
	gid_t	 gid;
	char	 arena[PARENT_MDA_ARENA];
	size_t	 used;
	int	 argc, envc;
};

/* a started delivery */
struct parent_mda_child {
	pid_t	pid;
	int	in_fd;		/* write end of its stdin, or -1 if the
				   caller gave the read end */
	int	err_fd;		/* read end of its stdout+stderr,
				   nonblocking: read at most ERR_MAX */
};

/* parent_mda_format - expand FMT into DST: 0, or -1 and ERR says why
 * (unknown variable, bad syntax, too long, an injection refused) */
int	parent_mda_format(char *dst, size_t dstsz, const char *fmt,
	    const struct parent_mda_vars *, enum parent_mda_ctx,
	    char *err, size_t errsz);

/* parent_mda_prepare - what to run for this envelope as this user: 0,
 * or -1 (a permanent failure: bad expansion, root, unusable action) */
int	parent_mda_prepare(const struct conf_action *, const struct envelope *,
	    const struct passwd *, const struct parent_mda_params *,
	    struct parent_mda_exec *, char *err, size_t errsz);

/* parent_mda_spawn - fork and exec EXEC as its user; STDIN_FD >= 0 is
 * the child's stdin (consumed: closed in the parent), else a pipe is
 * made and its write end returned.  0, or -1 (a temporary failure) */
int	parent_mda_spawn(const struct parent_mda_exec *, int stdin_fd,
	    struct parent_mda_child *, char *err, size_t errsz);

/* parent_mda_last_line - the last non-blank line of OUT/LEN into LINE,
 * control and non-ASCII bytes as '?', cut to fit: 1, or 0 when none */
int	parent_mda_last_line(const char *out, size_t len, char *line,
	    size_t linesz);

/* parent_mda_agent_exec - AX: the long-lived agent (PROGRAM -A) of the
 * delivery X prepared, same user, directory and program descriptor, the
 * environment of the user only; 0 or -1 */
int	parent_mda_agent_exec(const struct parent_mda_exec *x,
	    struct parent_mda_exec *ax);

/* parent_mda_status - DELIVERY_OK/TEMPFAIL/PERMFAIL of a wait status:
 * exit 0 ok; 71, 74, 75 and any signal temporary; 1 (MDA-06) and the
 * other sysexits 64-78 permanent; any other code temporary.  LINE gets
 * the last non-blank line of the child's output OUT/OUTLEN, control
 * and non-ASCII bytes as '?', or "exited with status N" /
 * "terminated by signal N" */
int	parent_mda_status(int wstatus, const char *out, size_t outlen,
	    char *line, size_t linesz);

/* parent_mda_mbox_prepare - as root before the fork: PATH exists, a
 * regular file with one link, owned by UID, mode 0600 when created; 0
 * or -1 with ERR (never follows a symbolic link) */
int	parent_mda_mbox_prepare(const char *path, uid_t, gid_t,
	    char *err, size_t errsz);

/* parent_mda_agent.c: long-lived maildir delivery agents */
/* parent_mda_agent_enabled - not turned off (-o mda-agent-idle=0) */
int	parent_mda_agent_enabled(void);
/* parent_mda_agent_deliver - delivery ID, prepared as X, with SIZE
 * bytes announced, to an agent of X's user: 0 with *IN_FD the write end
 * of the message's pipe, the outcome later by parent_mda_finished(); -1
 * with ERR (a temporary failure) */
int	parent_mda_agent_deliver(uint64_t id,
	    const struct parent_mda_exec *x, unsigned long long size,
	    int *in_fd, char *err, size_t errsz);
/* parent_mda_read_output - what a delivery program printed on *FD
 * (nonblocking), the last CAP - 1 bytes kept in BUF and *LEN; at its
 * end EV removed and *FD closed and set to -1 (parent_mda_fork.c) */
void	parent_mda_read_output(int *fd, struct event *ev, char *buf,
	    size_t cap, size_t *len);
/* parent_mda_finished - the outcome of delivery ID to the dispatcher
 * (parent_mda_fork.c) */
void	parent_mda_finished(uint64_t id, int status, const char *error);

#endif
