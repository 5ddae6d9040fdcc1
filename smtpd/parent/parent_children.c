/*
 * parent_children.c -- the parent's children: fork and re-exec each role
 * as `smtpd -x NAME` with its channel on fd 3, hand every pair of
 * children that talk a socketpair of their own (proc_pairs in proc.c),
 * and reap them.  Runs in the parent only.  A child that dies while the
 * daemon is not shutting down is logged by name and cause, and brings the
 * whole daemon down: a half daemon must never go on accepting mail.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "proc.h"
#include "smtpd.h"

#define CHILD_FD	3

/* parent_children_handlers - what a child may send the parent */
static const struct imsg_handler parent_handlers[] = {
	{ IMSG_PARENT_CHILD_READY, PROC_ANY,     parent_on_child_ready },
	{ IMSG_PARENT_GET_STATUS,  PROC_CONTROL, parent_on_get_status },
	{ IMSG_PARENT_FORK_MDA,    PROC_DISPATCHER, parent_on_fork_mda },
	{ IMSG_PARENT_OPEN_FORWARD, PROC_LOOKUP, parent_on_open_forward },
	{ IMSG_PARENT_CHECK_PASSWORD, PROC_DISPATCHER,
	    parent_on_check_password },
};

static struct parent_state *
parent_state(void)
{
	return env->state;
}

/* parent_children_on_lost - a child's channel closed; SIGCHLD tells why */
static void
parent_children_on_lost(struct mproc *p, const char *why)
{
	static char	reason[64];

	log_debug("parent: channel to %s closed (%s)", proc_name(p->peer),
	    why);
	if (!parent_state()->shutting_down) {
		snprintf(reason, sizeof reason, "lost process %s",
		    proc_name(p->peer));
		parent_shutdown(reason, 1);
	}
}

/* parent_children_exec - in the forked child: fd 3, then become NAME */
static _Noreturn void
parent_children_exec(enum proc_id id, int fd)
{
	char	**argv;

	if (fd == CHILD_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(fd, CHILD_FD) == -1)
		_exit(127);
	closefrom(CHILD_FD + 1);
	signal(SIGPIPE, SIG_DFL);
	argv = smtpd_opts_child_argv(&env->opts, proc_name(id));
	execv(env->opts.self, argv);
	log_warn("exec %s -x %s", env->opts.self, proc_name(id));
	_exit(127);
}

/* parent_children_fork - one child and the parent's channel to it */
static void
parent_children_fork(enum proc_id id)
{
	struct parent_child	*c = &parent_state()->children[id];
	int			 sv[2];
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0)
		parent_children_exec(id, sv[1]);
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	c->id = id;
	c->pid = pid;
	c->alive = 1;
	strlcpy(c->state, "starting", sizeof c->state);
	c->p = mproc_new(env->evb, PROC_PARENT, sv[0], id, 1, parent_handlers,
	    sizeof parent_handlers / sizeof parent_handlers[0],
	    parent_children_on_lost);
	env->peers[id] = c->p;
	log_debug("parent: started %s pid=%ld", proc_name(id), (long)pid);
}

/* parent_children_wire - a socketpair for every pair that talks */
static void
parent_children_wire(void)
{
	enum proc_id	a, b;
	size_t		i = 0;
	int		sv[2];

	while (proc_pair_next(&i, &a, &b)) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0, sv) == -1)
			fatal("socketpair");
		msg_send_parent_peer_fd(env->peers[a],
		    &(struct msg_parent_peer_fd){ .peer = b, .fd = sv[0] });
		msg_send_parent_peer_fd(env->peers[b],
		    &(struct msg_parent_peer_fd){ .peer = a, .fd = sv[1] });
	}
}

/* parent_children_send_conf - each child gets the part it may see */
static void
parent_children_send_conf(enum proc_id id)
{
	unsigned char	*buf;
	size_t		 len;

	if (conf_serialize(env->conf, id, &buf, &len) == -1)
		fatalx("parent: cannot serialize the configuration for %s",
		    proc_name(id));
	msg_send_parent_conf(env->peers[id], buf, len);
	free(buf);
}

void
parent_children_start(void)
{
	int	id;

	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		parent_children_fork((enum proc_id)id);
	parent_children_wire();
	parent_pki_send();	/* before the configurations (tls) */
	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		parent_children_send_conf((enum proc_id)id);
	msg_send_parent_control_fd(env->peers[PROC_CONTROL],
	    &(struct msg_parent_control_fd){ .fd = parent_state()->control_fd });
	parent_state()->control_fd = -1;	/* control owns it now */
	parent_listen_send(env->peers[PROC_DISPATCHER]);
}

/* parent_children_find - the child with this pid, or NULL */
static struct parent_child *
parent_children_find(pid_t pid)
{
	int	id;

	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		if (parent_state()->children[id].alive &&
		    parent_state()->children[id].pid == pid)
			return &parent_state()->children[id];
	return NULL;
}

void
parent_children_reap(void)
{
	struct parent_child	*c;
	pid_t			 pid;
	int			 status;
	char			 cause[64];

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((c = parent_children_find(pid)) == NULL) {
			if (parent_task_reaped(pid) == -1 &&
			    parent_mda_reaped(pid, status) == -1)
				(void)parent_offline_reaped(pid, status);
			continue;
		}
		c->alive = 0;
		strlcpy(c->state, "exited", sizeof c->state);
		if (WIFSIGNALED(status))
			snprintf(cause, sizeof cause, "signal=%d",
			    WTERMSIG(status));
		else
			snprintf(cause, sizeof cause, "status=%d",
			    WEXITSTATUS(status));
		if (c->stopping) {
			log_debug("parent: %s pid=%ld exited %s",
			    proc_name(c->id), (long)pid, cause);
			continue;
		}
		log_warnx("parent: child process %s (pid %ld) died, %s",
		    proc_name(c->id), (long)pid, cause);
		parent_shutdown("a child process died", 1);
		/* its siblings were told to stop; it was not */
	}
}

void
parent_children_stop(void)
{
	int	id;

	/* a child leaves its loop when the parent's channel closes */
	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		if (parent_state()->children[id].p != NULL &&
		    !parent_state()->children[id].p->closed) {
			parent_state()->children[id].stopping = 1;
			mproc_close(parent_state()->children[id].p,
			    "shutdown");
		}
}

void
parent_children_kill(int sig)
{
	int	id;

	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		if (parent_state()->children[id].alive)
			kill(parent_state()->children[id].pid, sig);
}

int
parent_children_alive(void)
{
	int	id, n = 0;

	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		n += parent_state()->children[id].alive;
	return n;
}
