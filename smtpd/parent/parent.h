/*
 * parent.h -- state of the privileged parent process, shared by its files.
 */
#ifndef SMTPD_PARENT_H
#define SMTPD_PARENT_H

#include <sys/types.h>
#include <sys/queue.h>

#include <limits.h>

#include "imsg.h"

struct event;
struct imsg;
struct mproc;

struct parent_child {
	enum proc_id	 id;
	pid_t		 pid;
	struct mproc	*p;
	int		 alive;
	int		 ready;
	int		 stopping;	/* we closed its channel */
	uid_t		 uid;
	gid_t		 gid;
	char		 root[PATH_MAX];
	char		 state[32];
};

struct parent_state {
	struct parent_child	 children[PROC__COUNT];
	int			 nready;
	int			 shutting_down;
	int			 finished;
	int			 exit_status;
	int			 control_fd;
	struct event		*ev_signals[5];
	struct event		*ev_timer;
};

/* parent_setup.c: what must exist before any child starts */
void	parent_setup_check_accounts(void);
void	parent_setup_spool(void);
void	parent_setup_maildir(const char *user);
int	parent_setup_control_socket(void);
void	parent_setup_pidfile(void);
void	parent_setup_cleanup(void);
/* parent_setup_mkdir - PATH a directory of this owner and mode (fatal) */
void	parent_setup_mkdir(const char *path, uid_t, gid_t, mode_t);

/* parent_offline.c: the offline queue (QUEUE-15): made at start,
 * submitted once every process is ready, each file as its owner */
void	parent_offline_setup(void);
void	parent_offline_start(void);
/* parent_offline_reaped - 0 when PID was an offline submission, else -1 */
int	parent_offline_reaped(pid_t, int wstatus);

/* parent_children.c: fork, exec, wire, reap */
void	parent_children_start(void);
void	parent_children_reap(void);
void	parent_children_stop(void);
void	parent_children_kill(int sig);
int	parent_children_alive(void);

/* parent_auth.c: SMTP AUTH against the system's accounts (AUTH-04) */
void	parent_on_check_password(struct mproc *, struct imsg *);

/* parent_listen.c: the sockets of `listen on`, opened at start (fatal
 * when one cannot be bound), then handed to the dispatcher */
void	parent_listen_open(void);
void	parent_listen_send(struct mproc *dispatcher);

/* parent_pki.c (tls): every pki's files read and handed out at start,
 * chains to the dispatcher, chains and keys to ca only (TLS-11) */
void	parent_pki_send(void);

/* parent_mda_fork.c: local deliveries started for the dispatcher */
void	parent_on_fork_mda(struct mproc *, struct imsg *);
/* parent_mda_reaped - a reaped PID that was a delivery is reported; 0,
 * or -1 when it was not one */
int	parent_mda_reaped(pid_t, int wstatus);

/* parent_forward.c: ~/.forward opened as the user for the lookup
 * (EXP-06); the checks are pure: 0, EPERM or EAGAIN with why */
#define PARENT_FORWARD_TIMEOUT		10	/* seconds an opener may take */
#define PARENT_FORWARD_RUNNING_MAX	8	/* openers at once */
#define PARENT_FORWARD_WAITING_MAX	1024	/* requests waiting for one */
#define PARENT_FORWARD_WHY_MAX		256
#define PARENT_FORWARD_USER_MAX		256
struct stat;
void	parent_on_open_forward(struct mproc *, struct imsg *);
int	parent_forward_check_home(const struct stat *, uid_t, char *why,
	    size_t whysz);
int	parent_forward_check_file(const struct stat *, uid_t, char *why,
	    size_t whysz);

/* parent_task.c: short-lived forked workers (see there) */
#define PARENT_TASK_REPLY_MAX	1024
struct parent_task;
struct parent_task_kind {
	const char	*name;
	size_t		 running_max, waiting_max;
	int		 timeout;	/* seconds */
	/* in the child: the work, ending in parent_task_reply */
	void		(*child)(void *arg, int sock);
	/* the one completion: REPLY (LEN bytes, FD or -1), or none and
	 * FAILURE saying why; FD belongs to the callee */
	void		(*done)(void *arg, const void *reply, size_t len,
			    int fd, const char *failure);
	/* the module's own */
	int		 ready;
	size_t		 running, nwaiting;
	TAILQ_HEAD(, parent_task) waiting;
};
/* parent_task_run - ARG's task queued (started when a slot is free); -1
 * when waiting_max tasks already wait (done is not called) */
int	parent_task_run(struct parent_task_kind *, void *arg);
/* parent_task_reply - in the child: send REPLY (and FD if not -1), exit */
void	parent_task_reply(int sock, const void *reply, size_t len, int fd)
	    __attribute__((noreturn));
/* parent_task_reaped - a reaped PID that was a task's; 0, or -1 */
int	parent_task_reaped(pid_t);

/* parent_conf.c; parent_config_embedded - the built-in configuration is
 * in use: the account its deliveries run as, else NULL */
int	parent_config_load(void);
const char *parent_config_embedded(void);

/* parent.c */
void	parent_shutdown(const char *why, int status);
void	parent_on_child_ready(struct mproc *, struct imsg *);
void	parent_on_get_status(struct mproc *, struct imsg *);

#endif
