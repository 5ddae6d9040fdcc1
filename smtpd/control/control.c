/*
 * control.c -- the control process: owns the control socket and answers
 * smtpctl.
 *
 * Runs as smtpd -x control, chrooted and unprivileged when started as
 * root.  The listening socket comes from the parent.  Each client is an
 * untrusted imsg channel: garbage, an unknown message, a bad payload or a
 * client that does not read its replies only drops that client, never the
 * daemon.  Privileged verbs need the client to be root (or, for a daemon
 * started unprivileged, the user that started it), checked from the
 * socket's peer credentials.  Requests are answered by asking the
 * processes that know (parent for the process table, dispatcher for the
 * agents) and relaying their answers.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

struct control_client {
	uint64_t	 id;
	struct mproc	*p;
	uid_t		 uid;
	pid_t		 pid;
	int		 hello;		/* version agreed */
	int		 pending;	/* answers still awaited */
};

struct control_state {
	int			 listen_fd;
	struct event		*ev_accept;
	struct event		*ev_resume;
	uid_t			 owner;		/* who may use privileged verbs */
	struct control_client	*clients[CONTROL_CLIENTS_MAX];
	uint64_t		 next_id;
};

static struct control_state	control_state_storage;

static struct control_state *
control_state(void)
{
	return env->state;
}

static void	control_on_accept(evutil_socket_t, short, void *);
static void	control_on_listen_fd(struct mproc *, struct imsg *);

/* control_client_find - the client behind a request id, or NULL */
static struct control_client *
control_client_find(uint64_t id)
{
	size_t	i;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (control_state()->clients[i] &&
		    control_state()->clients[i]->id == id)
			return control_state()->clients[i];
	return NULL;
}

/* control_client_on_lost - a client went away or was dropped: forget it */
static void
control_client_on_lost(struct mproc *p, const char *why)
{
	struct control_client	*c = p->arg;
	size_t			 i;

	log_debug("control: client %016llx uid=%ld gone: %s",
	    (unsigned long long)c->id, (long)c->uid, why);
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (control_state()->clients[i] == c)
			control_state()->clients[i] = NULL;
	free(p);
	free(c);
}

/* control_client_check_backlog - drop a client that does not read */
static void
control_client_check_backlog(struct control_client *c)
{
	if (imsgbuf_queued(&c->p->ib) > CONTROL_IMSG_QUEUE_MAX) {
		log_warnx("control: client %016llx does not read its replies, "
		    "dropping it", (unsigned long long)c->id);
		mproc_close(c->p, "reply backlog");
		control_client_on_lost(c->p, "reply backlog");
	}
}

/* control_client_fail - refuse a request with a reason */
static void
control_client_fail(struct control_client *c, const char *reason)
{
	msg_send_ctl_fail(c->p, reason);
}

/* control_client_allowed - hello done and, if asked, privileged */
static int
control_client_allowed(struct control_client *c, int privileged)
{
	if (!c->hello) {
		control_client_fail(c, "protocol error: no hello");
		return 0;
	}
	if (c->pending) {
		control_client_fail(c, "busy: one request at a time");
		return 0;
	}
	if (privileged && c->uid != 0 && c->uid != control_state()->owner) {
		control_client_fail(c, "permission denied");
		return 0;
	}
	return 1;
}

static void
control_on_hello(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c = p->arg;
	uint32_t		 version;

	if (msg_unpack_ctl_hello(imsg, &version) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (version != IMSG_VERSION) {
		control_client_fail(c, "version mismatch between smtpctl and "
		    "smtpd");
		return;
	}
	c->hello = 1;
	msg_send_ctl_ok(p);
}

static void
control_on_show_status(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c = p->arg;

	if (msg_unpack_ctl_show_status(imsg) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (!control_client_allowed(c, 1))
		return;
	c->pending = 2;
	msg_send_parent_get_status(env->peers[PROC_PARENT], c->id);
	msg_send_dispatcher_get_status(env->peers[PROC_DISPATCHER], c->id);
}

static void
control_on_table_query(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c = p->arg;
	struct msg_table_query	 q;

	if (msg_unpack_ctl_table_query(imsg, &q) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (!control_client_allowed(c, 1))
		return;
	q.service_bit = table_service_from_name(q.service);
	if (q.service_bit == K_NONE) {
		control_client_fail(c, "unknown table service");
		return;
	}
	c->pending = 1;
	msg_send_lookup_table_query(env->peers[PROC_LOOKUP], c->id, &q);
}

static void
control_on_update_table(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c = p->arg;
	const char		*name;

	if (msg_unpack_ctl_update_table(imsg, &name) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (!control_client_allowed(c, 1))
		return;
	c->pending = 1;
	msg_send_lookup_update_table(env->peers[PROC_LOOKUP], c->id, name);
}

/* control_request_part_done - one answer relayed; the last one ends it */
static void
control_request_part_done(struct control_client *c)
{
	if (--c->pending == 0)
		msg_send_ctl_ok(c->p);
	control_client_check_backlog(c);
}

static void
control_on_parent_status(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c;
	struct msg_proc_status	 s;
	uint64_t		 reqid;
	int			 last;

	if (msg_unpack_parent_get_status_result(imsg, &reqid, &last,
	    &s) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((c = control_client_find(reqid)) == NULL || c->pending == 0)
		return;		/* the client left meanwhile */
	msg_send_ctl_proc_status(c->p, &s);
	if (last)
		control_request_part_done(c);
}

static void
control_on_dispatcher_status(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c;
	struct msg_agent_status	 s;
	uint64_t		 reqid;

	if (msg_unpack_dispatcher_get_status_result(imsg, &reqid, &s) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((c = control_client_find(reqid)) == NULL || c->pending == 0)
		return;
	msg_send_ctl_agent_status(c->p, &s);
	control_request_part_done(c);
}

static void
control_on_table_result(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c;
	struct msg_table_result	 res;
	uint64_t		 reqid;

	if (msg_unpack_lookup_table_query_result(imsg, &reqid, &res) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((c = control_client_find(reqid)) == NULL || c->pending == 0)
		return;
	if (res.error != NULL && res.r == -1) {
		c->pending = 0;
		control_client_fail(c, res.error);
		return;
	}
	msg_send_ctl_table_result(c->p, &res);
	control_request_part_done(c);
}

static void
control_on_update_table_result(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c;
	struct msg_table_result	 res;
	uint64_t		 reqid;

	if (msg_unpack_lookup_update_table_result(imsg, &reqid, &res) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((c = control_client_find(reqid)) == NULL || c->pending == 0)
		return;
	if (res.r != 1) {
		c->pending = 0;
		control_client_fail(c, res.error ? res.error : "update failed");
		return;
	}
	control_request_part_done(c);
}

static const struct imsg_handler control_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_PARENT_CONTROL_FD, PROC_PARENT, control_on_listen_fd },
	{ IMSG_PARENT_GET_STATUS_RESULT, PROC_PARENT,
	    control_on_parent_status },
	{ IMSG_DISPATCHER_GET_STATUS_RESULT, PROC_DISPATCHER,
	    control_on_dispatcher_status },
	{ IMSG_LOOKUP_TABLE_QUERY_RESULT, PROC_LOOKUP, control_on_table_result },
	{ IMSG_LOOKUP_UPDATE_TABLE_RESULT, PROC_LOOKUP,
	    control_on_update_table_result },
};

static const struct imsg_handler control_client_handlers[] = {
	{ IMSG_CTL_HELLO,       PROC_CLIENT, control_on_hello },
	{ IMSG_CTL_SHOW_STATUS, PROC_CLIENT, control_on_show_status },
	{ IMSG_CTL_TABLE_QUERY, PROC_CLIENT, control_on_table_query },
	{ IMSG_CTL_UPDATE_TABLE, PROC_CLIENT, control_on_update_table },
};

/* control_on_resume - accept again after running out of descriptors */
static void
control_on_resume(evutil_socket_t fd, short ev, void *arg)
{
	event_add(control_state()->ev_accept, NULL);
}

/* control_client_slot - a free slot for a new client, or -1 */
static int
control_client_slot(void)
{
	size_t	i;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (control_state()->clients[i] == NULL)
			return (int)i;
	return -1;
}

static void
control_on_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct control_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;
	struct timeval		 tv = { 1, 0 };
	int			 fd, slot;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("control: accept");
			event_del(control_state()->ev_accept);
			evtimer_add(control_state()->ev_resume, &tv);
		}
		return;
	}
	if ((slot = control_client_slot()) == -1) {
		log_warnx("control: %d clients already, refusing one",
		    CONTROL_CLIENTS_MAX);
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->id = ++control_state()->next_id;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->p = mproc_new(env->evb, env->proc, fd, PROC_CLIENT, 0,
	    control_client_handlers,
	    sizeof control_client_handlers / sizeof control_client_handlers[0],
	    control_client_on_lost);
	c->p->arg = c;
	control_state()->clients[slot] = c;
	log_debug("control: client %016llx uid=%ld pid=%ld connected",
	    (unsigned long long)c->id, (long)c->uid, (long)c->pid);
}

static void
control_on_listen_fd(struct mproc *p, struct imsg *imsg)
{
	if (msg_unpack_parent_control_fd(imsg) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (control_state()->listen_fd != -1)
		fatalx("control: second control socket from parent");
	control_state()->listen_fd = imsg->fd;
	imsg->fd = -1;
}

/* control_on_start - every process is up: start answering clients */
static void
control_on_start(void)
{
	struct control_state	*cs = control_state();

	if (cs->listen_fd == -1)
		fatalx("control: started without a control socket");
	cs->ev_accept = event_new(env->evb, cs->listen_fd,
	    EV_READ | EV_PERSIST, control_on_accept, NULL);
	cs->ev_resume = evtimer_new(env->evb, control_on_resume, NULL);
	if (cs->ev_accept == NULL || cs->ev_resume == NULL ||
	    event_add(cs->ev_accept, NULL) == -1)
		fatalx("control: cannot watch the control socket");
}

int
control_main(void)
{
	env->state = &control_state_storage;
	control_state()->listen_fd = -1;
	/* taken before dropping privileges: root, or who started us */
	control_state()->owner = getuid();
	proc_child_init(PROC_CONTROL, control_handlers,
	    sizeof control_handlers / sizeof control_handlers[0],
	    NULL, control_on_start);
	proc_child_loop();
}
