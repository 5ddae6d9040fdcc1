/*
 * parent.c -- the privileged parent process: entry point, signals,
 * start-up sequence and shutdown.
 *
 * The parent stays root and does as little as possible: it reads the
 * configuration, prepares the spool and the control socket, starts and
 * wires the children, answers their few privileged requests, and brings
 * everything down on SIGTERM or when a child dies.  It never parses
 * network input.
 */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "smtpd.h"
#include "xmalloc.h"

static struct parent_state	parent_state_storage;

static struct parent_state *
parent_state(void)
{
	return env->state;
}

/* parent_finish - every child is gone: clean up and leave the loop */
static void
parent_finish(void)
{
	if (parent_state()->finished)
		return;
	parent_state()->finished = 1;
	parent_setup_cleanup();
	log_event(0, "parent", "stopped", "status=%d",
	    parent_state()->exit_status);
	event_base_loopexit(env->evb, NULL);
}

/* parent_on_timer - shutdown grace period over, or start-up too slow */
static void
parent_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	if (parent_state()->shutting_down) {
		log_warnx("parent: children still running after %ds, killing",
		    CHILD_SHUTDOWN_WAIT);
		parent_children_kill(SIGKILL);
		return;
	}
	log_warnx("parent: children not ready after %ds", CHILD_START_WAIT);
	parent_shutdown("start-up timed out", 1);
}

static void
parent_arm_timer(int seconds)
{
	struct timeval	tv = { seconds, 0 };

	evtimer_add(parent_state()->ev_timer, &tv);
}

void
parent_shutdown(const char *why, int status)
{
	struct parent_state	*ps = parent_state();

	if (ps->shutting_down)
		return;
	ps->shutting_down = 1;
	ps->exit_status = status;
	log_event(0, "parent", "stopping", "reason=\"%s\"", why);
	parent_children_stop();
	if (parent_children_alive() == 0)
		parent_finish();
	else
		parent_arm_timer(CHILD_SHUTDOWN_WAIT);
}

/* parent_on_signal - TERM/INT stop, CHLD reaps, HUP is ignored */
static void
parent_on_signal(evutil_socket_t sig, short ev, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		parent_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT", 0);
		break;
	case SIGCHLD:
		parent_children_reap();
		if (parent_state()->shutting_down &&
		    parent_children_alive() == 0)
			parent_finish();
		break;
	case SIGHUP:
		log_warnx("parent: SIGHUP ignored: configuration reload is "
		    "not supported, restart smtpd");
		break;
	}
}

/* parent_watch_signals - the signals the parent acts on */
static void
parent_watch_signals(void)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP };
	size_t			 i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		parent_state()->ev_signals[i] = evsignal_new(env->evb, sigs[i],
		    parent_on_signal, NULL);
		if (parent_state()->ev_signals[i] == NULL ||
		    evsignal_add(parent_state()->ev_signals[i], NULL) == -1)
			fatalx("parent: cannot watch signal %d", sigs[i]);
	}
}

void
parent_on_child_ready(struct mproc *p, struct imsg *imsg)
{
	struct parent_child		*c = &parent_state()->children[p->peer];
	struct msg_parent_child_ready	 m;
	const char			*root;
	uint32_t			 uid, gid;
	int				 id;

	if (msg_unpack_parent_child_ready(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	uid = m.uid;
	gid = m.gid;
	root = m.root;
	if (c->ready)
		fatalx("parent: %s reported ready twice", proc_name(p->peer));
	c->ready = 1;
	c->uid = uid;
	c->gid = gid;
	strlcpy(c->root, root, sizeof c->root);
	strlcpy(c->state, "running", sizeof c->state);
	log_debug("parent: %s ready uid=%u root=%s", proc_name(p->peer), uid,
	    root);
	if (++parent_state()->nready < PROC_CHILD_LAST - PROC_CHILD_FIRST + 1)
		return;
	evtimer_del(parent_state()->ev_timer);
	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		msg_send_parent_start(env->peers[id],
		    &(struct msg_parent_start){ 0 });
	log_event(0, "parent", "ready", "pid=%ld privsep=%s socket=%s",
	    (long)getpid(), env->privsep ? "yes" : "no", env->opts.sock);
	parent_offline_start();
}

/* parent_status_of - the status record of one process */
static void
parent_status_of(enum proc_id id, struct msg_parent_get_status_result *s)
{
	struct parent_child	*c = &parent_state()->children[id];

	memset(s, 0, sizeof *s);
	s->proc = id;
	if (id == PROC_PARENT) {
		s->pid = getpid();
		s->uid = geteuid();
		s->gid = getegid();
		s->root = "/";
		s->state = parent_state()->shutting_down ? "stopping" :
		    "running";
		return;
	}
	s->pid = c->pid;
	s->uid = c->uid;
	s->gid = c->gid;
	s->root = c->ready ? c->root : "-";
	s->state = c->state;
}

void
parent_on_get_status(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_get_status_result	s;
	struct msg_parent_get_status		m;
	int					id;

	if (msg_unpack_parent_get_status(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	for (id = PROC_PARENT; id <= PROC_CHILD_LAST; id++) {
		parent_status_of((enum proc_id)id, &s);
		s.reqid = m.reqid;
		s.last = id == PROC_CHILD_LAST;
		msg_send_parent_get_status_result(p, &s);
	}
}

/* parent_self_path - our own binary, so children run the same code */
static void
parent_self_path(void)
{
	ssize_t	n;

	n = readlink("/proc/self/exe", env->opts.self,
	    sizeof env->opts.self - 1);
	if (n <= 0)
		fatal("readlink /proc/self/exe");
	env->opts.self[n] = '\0';
}

int
parent_main(void)
{
	struct parent_state	*ps = &parent_state_storage;

	env->state = ps;
	env->proc = PROC_PARENT;
	ps->control_fd = -1;
	log_init(env->opts.foreground == 2 || env->opts.noaction,
	    env->opts.verbose);
	log_setproc("parent");
	log_settrace(env->opts.trace);

	if (parent_config_load() == -1)
		return 1;
	if (env->opts.noaction)
		return 0;

	env->privsep = geteuid() == 0;
	if (!env->privsep)
		log_event(0, "parent", "unprivileged",
		    "uid=%ld privsep=no chroot=no setuid=no",
		    (long)geteuid());
	parent_self_path();
	parent_setup_check_accounts();
	parent_setup_spool();
	if (parent_config_embedded() != NULL)
		parent_setup_maildir(parent_config_embedded());
	ps->control_fd = parent_setup_control_socket();
	parent_listen_open();

	if (!env->opts.foreground && daemon(0, 0) == -1)
		fatal("daemon");
	parent_setup_pidfile();
	proctitle_set("parent");

	if ((env->evb = event_base_new()) == NULL)
		fatalx("parent: event_base_new");
	parent_watch_signals();
	if ((ps->ev_timer = evtimer_new(env->evb, parent_on_timer,
	    NULL)) == NULL)
		fatalx("parent: evtimer_new");
	log_event(0, "parent", "starting", "pid=%ld version=%s",
	    (long)getpid(), SMTPD_VERSION);
	parent_children_start();
	parent_arm_timer(CHILD_START_WAIT);
	event_base_dispatch(env->evb);
	return ps->exit_status;
}
