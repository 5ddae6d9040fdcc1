/*
 * control.c -- the control process: owns the control socket and answers
 * smtpctl.
 *
 * Runs as smtpd -x control, chrooted and unprivileged when started as
 * root.  The listening socket comes from the parent.  Each client is an
 * untrusted imsg channel: garbage, an unknown message or a bad payload
 * drops that client, an over-long argument gets IMSG_CTL_FAIL, and none
 * of it ever stops the daemon.  What one local user can take is bounded:
 * connections per uid (with room always kept for root), reply bytes
 * queued to a client that does not read, and idle time.  Privileged verbs
 * need the client to be root (or, for a daemon started unprivileged, the
 * user that started it), checked from the socket's peer credentials.
 * Requests go through one relay: a client request is forwarded with a
 * request id to the process that serves it, and its answers (one or
 * several, the last one flagged) are routed back to the client by that
 * id, or dropped if the client has gone.  A verb may ask several
 * processes (show stats, pause): the client's answer is complete when
 * each has answered once, and one refusal fails it.  Every verb is
 * privileged, as in OpenSMTPD (CTL-27): show queue and show stats
 * included.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	int		 privileged;	/* root, or who started the daemon */
	int		 hello;		/* version agreed */
	uint64_t	 reqid;		/* the request in flight, or 0 */
	int		 pending;	/* servers yet to answer it */
	int		 failed;	/* one of them refused */
	int		 in_event;	/* inside one of its own handlers */
	struct event	*ev_idle;
};

struct control_state {
	int			 listen_fd;
	struct event		*ev_accept;
	struct event		*ev_resume;
	uid_t			 owner;		/* who may use privileged verbs */
	struct control_client	*clients[CONTROL_CLIENTS_MAX];
	uint64_t		 next_id;
	uint64_t		 next_reqid;
	time_t			 started;	/* for uptime */
};

/* one verb: the request a client sends, and who serves it */
struct control_verb {
	uint32_t	 type;
	enum proc_id	 server;
	/*
	 * forward - check the request and send it on to the server with
	 * reqid: 0 sent, 1 refused (*why says why), -1 malformed payload
	 */
	int		(*forward)(struct control_client *, struct imsg *,
			    uint64_t reqid, struct mproc *, const char **why);
};

/* one answer for a client, as a server's result message becomes it */
struct control_answer {
	uint64_t	 reqid;
	int		 last;
	uint32_t	 type;		/* an IMSG_CTL_* to the client */
	union msg_any	 m;
};

/* one result message from a server: its conversion for the client */
struct control_result {
	uint32_t	 type;
	int		(*convert)(struct imsg *, struct control_answer *);
};

/*
 * The relay's two lists; the handler tables are made from them.  A verb:
 * the client's request, the process that serves it, the function that
 * checks and forwards it.  A result: a server's answer, its sender, the
 * function that turns it into the client's message.  Every verb is
 * privileged but local enqueue (sendmail), which any local user may ask
 * (control_verb_public).
 */
#define CONTROL_VERBS(X)						\
	X(IMSG_CTL_SHOW_STATUS,  PROC_PARENT, control_forward_show_status)  \
	X(IMSG_CTL_TABLE_QUERY,  PROC_LOOKUP, control_forward_table_query)  \
	X(IMSG_CTL_UPDATE_TABLE, PROC_LOOKUP, control_forward_update_table) \
	X(IMSG_CTL_SHOW_QUEUE,   PROC_SCHEDULER, control_forward_show_queue) \
	X(IMSG_CTL_SHOW_ENVELOPE, PROC_QUEUE, control_forward_show_envelope) \
	X(IMSG_CTL_SHOW_MESSAGE, PROC_QUEUE, control_forward_show_message)  \
	X(IMSG_CTL_SHOW_STATS,   PROC_CONTROL, control_forward_show_stats)  \
	X(IMSG_CTL_CHANGE_ENVELOPES, PROC_SCHEDULER,			\
	    control_forward_change_envelopes)					\
	X(IMSG_CTL_PAUSE,        PROC_CONTROL, control_forward_pause)	\
	X(IMSG_CTL_ENQUEUE_SESSION, PROC_DISPATCHER,			\
	    control_forward_enqueue_session)					\
	X(IMSG_CTL_MTA_ADMIN, PROC_DISPATCHER, control_forward_mta_admin)
#define CONTROL_RESULTS(X)						\
	X(IMSG_PARENT_GET_STATUS_RESULT,   PROC_PARENT, control_convert_status) \
	X(IMSG_LOOKUP_TABLE_QUERY_RESULT,  PROC_LOOKUP,			\
	    control_convert_table_query)					\
	X(IMSG_LOOKUP_UPDATE_TABLE_RESULT, PROC_LOOKUP,			\
	    control_convert_update_table)					\
	X(IMSG_PROC_GET_STATS_RESULT, PROC_ANY, control_convert_stats)	\
	X(IMSG_PROC_PAUSE_RESULT, PROC_ANY, control_convert_pause)		\
	X(IMSG_PROC_ADMIN_FAIL, PROC_ANY, control_convert_admin_fail)	\
	X(IMSG_SCHEDULER_CHANGE_ENVELOPES_RESULT, PROC_SCHEDULER,		\
	    control_convert_change_envelopes)				\
	X(IMSG_QUEUE_LIST_ENVELOPES_RESULT, PROC_QUEUE,			\
	    control_convert_list_envelopes)					\
	X(IMSG_QUEUE_SHOW_ENVELOPE_RESULT, PROC_QUEUE,			\
	    control_convert_show_envelope)					\
	X(IMSG_QUEUE_SHOW_MESSAGE_RESULT, PROC_QUEUE,			\
	    control_convert_show_message)					\
	X(IMSG_DISPATCHER_ENQUEUE_SESSION_RESULT, PROC_DISPATCHER,	\
	    control_convert_enqueue_session)					\
	X(IMSG_DISPATCHER_ENQUEUE_SESSION_FAIL, PROC_DISPATCHER,		\
	    control_convert_enqueue_fail)					\
	X(IMSG_DISPATCHER_MTA_ADMIN_RESULT, PROC_DISPATCHER,		\
	    control_convert_mta_admin)

static struct control_state	control_state_storage;

static struct control_state *
control_state(void)
{
	return env->state;
}

static void	control_on_accept(evutil_socket_t, short, void *);
static void	control_on_listen_fd(struct mproc *, struct imsg *);
static void	control_client_idle_arm(struct control_client *);

/* control_client_by_reqid - the client waiting for a request, or NULL */
static struct control_client *
control_client_by_reqid(uint64_t reqid)
{
	struct control_client	*c;
	size_t			 i;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if ((c = control_state()->clients[i]) != NULL &&
		    c->reqid == reqid && !c->p->closed)
			return c;
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
	if (c->ev_idle)
		event_free(c->ev_idle);
	free(p);
	free(c);
}

/*
 * control_client_drop - close a client.  Inside its own handler, mproc
 * calls on_lost once the event is over; from anywhere else (a server's
 * answer, a timer) nobody else will, so it is forgotten here.
 */
static void
control_client_drop(struct control_client *c, const char *why)
{
	if (c->p->closed)
		return;
	mproc_close(c->p, why);
	if (!c->in_event)
		control_client_on_lost(c->p, why);
}

/* control_client_send - one message to a client, which must keep up */
static int
control_client_send(struct control_client *c, uint32_t type, const void *m)
{
	size_t	queued;

	if (c->p->closed || msg_send(c->p, type, m) == -1)
		return -1;
	if ((queued = mproc_queued_bytes(c->p)) > CONTROL_OUTPUT_MAX) {
		log_warnx("control: client %016llx uid=%ld does not read its "
		    "replies (%zu bytes queued), dropping it",
		    (unsigned long long)c->id, (long)c->uid, queued);
		control_client_drop(c, "reply backlog");
		return -1;
	}
	return 0;
}

/* control_client_fail - refuse a request with a reason */
static void
control_client_fail(struct control_client *c, const char *reason)
{
	control_client_send(c, IMSG_CTL_FAIL,
	    &(struct msg_ctl_fail){ .reason = reason });
}

/* control_client_on_idle - a client that asks nothing goes */
static void
control_client_on_idle(evutil_socket_t fd, short ev, void *arg)
{
	struct control_client	*c = arg;

	log_warnx("control: client %016llx uid=%ld idle for %ds, dropping it",
	    (unsigned long long)c->id, (long)c->uid, CONTROL_IDLE_TIMEOUT);
	control_client_drop(c, "idle");
}

/* control_client_idle_arm - restart the idle clock, unless it waits */
static void
control_client_idle_arm(struct control_client *c)
{
	struct timeval	tv = { CONTROL_IDLE_TIMEOUT, 0 };

	evtimer_del(c->ev_idle);
	if (c->reqid == 0)
		evtimer_add(c->ev_idle, &tv);
}

static void
control_on_hello(struct mproc *p, struct imsg *imsg)
{
	struct control_client	*c = p->arg;
	struct msg_ctl_hello	 m;

	c->in_event = 1;
	control_client_idle_arm(c);
	if (msg_unpack_ctl_hello(imsg, &m) == -1)
		mproc_bad_payload(p, imsg);
	else if (m.version != IMSG_VERSION)
		control_client_fail(c, "version mismatch between smtpctl and "
		    "smtpd");
	else {
		c->hello = 1;
		control_client_send(c, IMSG_CTL_OK, &(struct msg_ctl_ok){ 0 });
	}
	c->in_event = 0;
}

/* control_check_arg - refuse an argument the table layer would refuse,
 * before it grows past a message's payload on its way on */
static int
control_check_arg(struct control_client *c, const char *what, const char *s,
    const char *table, size_t max, const char **why)
{
	char	name[33];
	size_t	i, len = strlen(s);

	if (len < max)
		return 0;
	/* the table's name as far as it is printable: it may be that name
	 * which is too long, and it comes from a client */
	for (i = 0; i < sizeof name - 1 && table[i] != '\0'; i++)
		name[i] = table[i] > 0x20 && table[i] < 0x7f ? table[i] : '?';
	name[i] = '\0';
	log_warnx("control: client %016llx uid=%ld: %s too long (%zu bytes, "
	    "at most %zu) table=%s%s", (unsigned long long)c->id,
	    (long)c->uid, what, len, max - 1, name,
	    table[i] != '\0' ? "..." : "");
	*why = strcmp(what, "key") == 0 ? "table key too long" :
	    "table name too long";
	return 1;
}

static int
control_forward_show_status(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_show_status	m;

	if (msg_unpack_ctl_show_status(imsg, &m) == -1)
		return -1;
	msg_send_parent_get_status(server,
	    &(struct msg_parent_get_status){ .reqid = reqid });
	return 0;
}

/* control_forward_mta_admin - the relay's verbs (show hoststats, show
 * routes, resume route, pause/resume mta from/for, show mta paused),
 * served by the dispatcher's mta agent */
static int
control_forward_mta_admin(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_mta_admin	m;

	if (msg_unpack_ctl_mta_admin(imsg, &m) == -1)
		return -1;
	if (m.op == MTA_ADMIN_RESUME_ROUTE)
		log_info("0000000000000000 control resume route=%llu uid=%ld",
		    (unsigned long long)m.id, (long)c->uid);
	msg_send_dispatcher_mta_admin(server,
	    &(struct msg_dispatcher_mta_admin){ .reqid = reqid, .op = m.op,
		.id = m.id, .from = m.from, .domain = m.domain });
	return 0;
}

static int
control_forward_table_query(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_table_query	m;
	int				service;

	if (msg_unpack_ctl_table_query(imsg, &m) == -1)
		return -1;
	if (control_check_arg(c, "table name", m.table, m.table,
	    TABLE_NAME_MAX, why) || (m.key != NULL &&
	    control_check_arg(c, "key", m.key, m.table, TABLE_KEY_MAX, why)))
		return 1;
	if ((service = table_service_from_name(m.service)) == K_NONE) {
		*why = "unknown table service";
		return 1;
	}
	msg_send_lookup_table_query(server, &(struct msg_lookup_table_query){
	    .reqid = reqid, .op = m.op, .table = m.table,
	    .service_bit = service, .key = m.key });
	return 0;
}

static int
control_forward_update_table(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_update_table	m;

	if (msg_unpack_ctl_update_table(imsg, &m) == -1)
		return -1;
	if (control_check_arg(c, "table name", m.table, m.table,
	    TABLE_NAME_MAX, why))
		return 1;
	msg_send_lookup_update_table(server, &(struct msg_lookup_update_table){
	    .reqid = reqid, .table = m.table });
	return 0;
}

static int
control_forward_show_queue(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_show_queue	m;

	if (msg_unpack_ctl_show_queue(imsg, &m) == -1)
		return -1;
	msg_send_scheduler_list_envelopes(server,
	    &(struct msg_scheduler_list_envelopes){ .reqid = reqid,
	    .from = m.from, .msgid = m.msgid });
	return 0;
}

static int
control_forward_show_envelope(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_show_envelope	m;

	if (msg_unpack_ctl_show_envelope(imsg, &m) == -1)
		return -1;
	msg_send_queue_show_envelope(server, &(struct msg_queue_show_envelope){
	    .reqid = reqid, .evpid = m.evpid });
	return 0;
}

static int
control_forward_show_message(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_show_message	m;

	if (msg_unpack_ctl_show_message(imsg, &m) == -1)
		return -1;
	msg_send_queue_show_message(server, &(struct msg_queue_show_message){
	    .reqid = reqid, .msgid = m.msgid });
	return 0;
}

/* the processes that keep counters, control aside */
static const enum proc_id control_stats_procs[] = {
	PROC_QUEUE, PROC_SCHEDULER, PROC_DISPATCHER
};

/* control_forward_show_stats - our own counters at once, then ask every
 * process that keeps some */
static int
control_forward_show_stats(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_show_stats	m;
	char				buf[128];
	size_t				i, n = 0;

	if (msg_unpack_ctl_show_stats(imsg, &m) == -1)
		return -1;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		n += control_state()->clients[i] != NULL;
	(void)snprintf(buf, sizeof buf, "control.session=%zu\nuptime=%lld\n",
	    n, (long long)(time(NULL) - control_state()->started));
	control_client_send(c, IMSG_CTL_TEXT, &(struct msg_ctl_text){
	    .text = buf });
	for (i = 0; i < sizeof control_stats_procs /
	    sizeof control_stats_procs[0]; i++)
		msg_send_proc_get_stats(env->peers[control_stats_procs[i]],
		    &(struct msg_proc_get_stats){ .reqid = reqid });
	c->pending = (int)i;
	return 0;
}

static int
control_forward_change_envelopes(struct control_client *c,
    struct imsg *imsg, uint64_t reqid, struct mproc *server,
    const char **why)
{
	struct msg_ctl_change_envelopes	m;

	if (msg_unpack_ctl_change_envelopes(imsg, &m) == -1)
		return -1;
	msg_send_scheduler_change_envelopes(server,
	    &(struct msg_scheduler_change_envelopes){ .reqid = reqid,
	    .op = m.op, .id = m.id, .all = m.all });
	return 0;
}

/* control_forward_pause - the dispatcher runs the agents; the scheduler
 * holds back the work of a paused mda or mta */
static int
control_forward_pause(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_pause	m;
	struct msg_proc_pause	fwd;

	if (msg_unpack_ctl_pause(imsg, &m) == -1)
		return -1;
	fwd = (struct msg_proc_pause){ .reqid = reqid, .what = m.what,
	    .pause = m.pause };
	msg_send_proc_pause(env->peers[PROC_DISPATCHER], &fwd);
	c->pending = 1;
	if (m.what != PAUSE_SMTP) {
		msg_send_proc_pause(env->peers[PROC_SCHEDULER], &fwd);
		c->pending = 2;
	}
	log_info("0000000000000000 control %s what=%s uid=%ld",
	    m.pause ? "pause" : "resume", m.what == PAUSE_MDA ? "mda" :
	    m.what == PAUSE_MTA ? "mta" : "smtp", (long)c->uid);
	return 0;
}

/* control_forward_enqueue_session - sendmail: the dispatcher opens an
 * SMTP session on the socket listener for this client's uid */
static int
control_forward_enqueue_session(struct control_client *c, struct imsg *imsg,
    uint64_t reqid, struct mproc *server, const char **why)
{
	struct msg_ctl_enqueue_session	m;

	if (msg_unpack_ctl_enqueue_session(imsg, &m) == -1)
		return -1;
	msg_send_dispatcher_enqueue_session(server,
	    &(struct msg_dispatcher_enqueue_session){ .reqid = reqid,
		.uid = (uint32_t)c->uid, .pid = (int32_t)c->pid });
	return 0;
}

/* control_verb_public - a verb any local user may use */
static int
control_verb_public(uint32_t type)
{
	return type == IMSG_CTL_ENQUEUE_SESSION;
}

static const struct control_verb control_verbs[] = {
#define X(type, server, forward) { type, server, forward },
	CONTROL_VERBS(X)
#undef X
};

/* control_on_request - a client request: check, forward, await */
static void
control_on_request(struct mproc *p, struct imsg *imsg)
{
	struct control_client		*c = p->arg;
	const struct control_verb	*v = NULL;
	const char			*why = NULL;
	uint64_t			 reqid;
	size_t				 i;
	int				 r;

	for (i = 0; i < sizeof control_verbs / sizeof control_verbs[0]; i++)
		if (control_verbs[i].type == imsg->hdr.type)
			v = &control_verbs[i];
	if (v == NULL)
		fatalx("control: no verb for %s", imsg_name(imsg->hdr.type));
	c->in_event = 1;
	control_client_idle_arm(c);
	if (!c->hello)
		why = "protocol error: no hello";
	else if (c->reqid != 0)
		why = "busy: one request at a time";
	else if (!c->privileged && !control_verb_public(imsg->hdr.type))
		why = "permission denied";
	if (why != NULL) {
		control_client_fail(c, why);
		c->in_event = 0;
		return;
	}
	reqid = ++control_state()->next_reqid;
	c->pending = 1;
	c->failed = 0;
	r = v->forward(c, imsg, reqid, env->peers[v->server], &why);
	if (r == -1)
		mproc_bad_payload(p, imsg);
	else if (r == 1)
		control_client_fail(c, why);
	else {
		c->reqid = reqid;
		control_client_idle_arm(c);
	}
	c->in_event = 0;
}

static int
control_convert_status(struct imsg *imsg, struct control_answer *a)
{
	struct msg_parent_get_status_result	m;

	if (msg_unpack_parent_get_status_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = m.last;
	a->type = IMSG_CTL_PROC_STATUS;
	a->m.ctl_proc_status = (struct msg_ctl_proc_status){ .proc = m.proc,
	    .pid = m.pid, .uid = m.uid, .gid = m.gid, .root = m.root,
	    .state = m.state };
	return 0;
}

static int
control_convert_table_query(struct imsg *imsg, struct control_answer *a)
{
	struct msg_lookup_table_query_result	m;

	if (msg_unpack_lookup_table_query_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	if (m.r == -1) {
		a->type = IMSG_CTL_FAIL;
		a->m.ctl_fail.reason = m.error ? m.error : "temporary failure";
		return 0;
	}
	a->type = IMSG_CTL_TABLE_RESULT;
	a->m.ctl_table_result = (struct msg_ctl_table_result){ .r = m.r,
	    .value = m.value };
	return 0;
}

static int
control_convert_update_table(struct imsg *imsg, struct control_answer *a)
{
	struct msg_lookup_update_table_result	m;

	if (msg_unpack_lookup_update_table_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	if (m.r == 1) {
		a->type = IMSG_CTL_OK;
		return 0;
	}
	a->type = IMSG_CTL_FAIL;
	a->m.ctl_fail.reason = m.error ? m.error : "update failed";
	return 0;
}

static int
control_convert_stats(struct imsg *imsg, struct control_answer *a)
{
	struct msg_proc_get_stats_result	m;

	if (msg_unpack_proc_get_stats_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_TEXT;
	a->m.ctl_text.text = m.stats;
	return 0;
}

static int
control_convert_mta_admin(struct imsg *imsg, struct control_answer *a)
{
	struct msg_dispatcher_mta_admin_result	m;

	if (msg_unpack_dispatcher_mta_admin_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = m.last;
	a->type = IMSG_CTL_TEXT;
	a->m.ctl_text.text = m.lines;
	return 0;
}

static int
control_convert_pause(struct imsg *imsg, struct control_answer *a)
{
	struct msg_proc_pause_result	m;

	if (msg_unpack_proc_pause_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_NONE;	/* nothing to say until every one is done */
	return 0;
}

static int
control_convert_admin_fail(struct imsg *imsg, struct control_answer *a)
{
	struct msg_proc_admin_fail	m;

	if (msg_unpack_proc_admin_fail(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_FAIL;
	a->m.ctl_fail.reason = m.reason;
	return 0;
}

static int
control_convert_change_envelopes(struct imsg *imsg, struct control_answer *a)
{
	struct msg_scheduler_change_envelopes_result	m;

	if (msg_unpack_scheduler_change_envelopes_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_COUNT;
	a->m.ctl_count.n = m.n;
	return 0;
}

static int
control_convert_list_envelopes(struct imsg *imsg, struct control_answer *a)
{
	struct msg_queue_list_envelopes_result	m;

	if (msg_unpack_queue_list_envelopes_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_QUEUE_LINES;
	a->m.ctl_queue_lines = (struct msg_ctl_queue_lines){ .next = m.next,
	    .lines = m.lines };
	return 0;
}

static int
control_convert_show_envelope(struct imsg *imsg, struct control_answer *a)
{
	struct msg_queue_show_envelope_result	m;

	if (msg_unpack_queue_show_envelope_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_TEXT;
	a->m.ctl_text.text = m.text;
	return 0;
}

static int
control_convert_show_message(struct imsg *imsg, struct control_answer *a)
{
	struct msg_queue_show_message_result	m;

	if (msg_unpack_queue_show_message_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_MESSAGE_FD;
	a->m.ctl_message_fd.fd = m.fd;
	return 0;
}

static int
control_convert_enqueue_session(struct imsg *imsg, struct control_answer *a)
{
	struct msg_dispatcher_enqueue_session_result	m;

	if (msg_unpack_dispatcher_enqueue_session_result(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_SESSION_FD;
	a->m.ctl_session_fd.fd = m.fd;
	return 0;
}

static int
control_convert_enqueue_fail(struct imsg *imsg, struct control_answer *a)
{
	struct msg_dispatcher_enqueue_session_fail	m;

	if (msg_unpack_dispatcher_enqueue_session_fail(imsg, &m) == -1)
		return -1;
	a->reqid = m.reqid;
	a->last = 1;
	a->type = IMSG_CTL_FAIL;
	a->m.ctl_fail.reason = m.error;
	return 0;
}

static const struct control_result control_results[] = {
#define X(type, server, convert) { type, convert },
	CONTROL_RESULTS(X)
#undef X
};

/* control_on_result - a server's answer, routed to the client by reqid */
static void
control_on_result(struct mproc *p, struct imsg *imsg)
{
	const struct control_result	*res = NULL;
	struct control_client		*c;
	struct control_answer		 a;
	size_t				 i;

	for (i = 0; i < sizeof control_results / sizeof control_results[0];
	    i++)
		if (control_results[i].type == imsg->hdr.type)
			res = &control_results[i];
	memset(&a, 0, sizeof a);
	if (res == NULL || res->convert(imsg, &a) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (a.reqid == 0 || (c = control_client_by_reqid(a.reqid)) == NULL) {
		log_debug("control: %s for request %llu, whose client left",
		    imsg_name(imsg->hdr.type), (unsigned long long)a.reqid);
		if (a.type == IMSG_CTL_MESSAGE_FD)
			close(a.m.ctl_message_fd.fd);
		if (a.type == IMSG_CTL_SESSION_FD)
			close(a.m.ctl_session_fd.fd);	/* its session ends */
		return;
	}
	if (a.type == IMSG_CTL_FAIL && c->failed)
		a.type = IMSG_NONE;	/* the client has its refusal */
	if (a.type != IMSG_NONE && control_client_send(c, a.type, &a.m) == -1)
		return;
	if (a.type == IMSG_CTL_FAIL)
		c->failed = 1;
	if (!a.last || --c->pending > 0)
		return;
	c->reqid = 0;
	if (a.type != IMSG_CTL_OK && !c->failed &&
	    control_client_send(c, IMSG_CTL_OK, &(struct msg_ctl_ok){ 0 }) ==
	    -1)
		return;
	control_client_idle_arm(c);
}

static const struct imsg_handler control_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_PARENT_CONTROL_FD, PROC_PARENT, control_on_listen_fd },
#define X(type, server, convert) { type, server, control_on_result },
	CONTROL_RESULTS(X)
#undef X
};

static const struct imsg_handler control_client_handlers[] = {
	{ IMSG_CTL_HELLO, PROC_CLIENT, control_on_hello },
#define X(type, server, forward) { type, PROC_CLIENT, control_on_request },
	CONTROL_VERBS(X)
#undef X
};

/* control_on_resume - accept again after running out of descriptors */
static void
control_on_resume(evutil_socket_t fd, short ev, void *arg)
{
	event_add(control_state()->ev_accept, NULL);
}

/*
 * control_client_slot - a free slot for a client of this uid, or -1
 * with the reason logged.  An unprivileged uid holds at most its share,
 * and unprivileged clients together leave room for root.
 */
static int
control_client_slot(uid_t uid, int privileged)
{
	struct control_client	*c;
	size_t			 i;
	int			 slot = -1, nuid = 0, nunpriv = 0;

	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		if ((c = control_state()->clients[i]) == NULL) {
			if (slot == -1)
				slot = (int)i;
			continue;
		}
		nuid += c->uid == uid;
		nunpriv += !c->privileged;
	}
	if (slot == -1)
		log_warnx("control: %d clients already, refusing one",
		    CONTROL_CLIENTS_MAX);
	else if (!privileged && nuid >= CONTROL_CLIENTS_PER_UID) {
		log_warnx("control: uid=%ld holds %d connections already, "
		    "refusing one", (long)uid, nuid);
		slot = -1;
	} else if (!privileged &&
	    nunpriv >= CONTROL_CLIENTS_MAX - CONTROL_CLIENTS_ROOT) {
		log_warnx("control: the last %d connections are kept for "
		    "root, refusing uid=%ld", CONTROL_CLIENTS_ROOT, (long)uid);
		slot = -1;
	}
	return slot;
}

static void
control_on_accept(evutil_socket_t lfd, short ev, void *arg)
{
	struct control_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;
	struct timeval		 tv = { 1, 0 };
	int			 fd, slot, privileged;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("control: accept");
			event_del(control_state()->ev_accept);
			evtimer_add(control_state()->ev_resume, &tv);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	privileged = cred.uid == 0 || cred.uid == control_state()->owner;
	if ((slot = control_client_slot(cred.uid, privileged)) == -1) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->id = ++control_state()->next_id;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->privileged = privileged;
	c->p = mproc_new(env->evb, env->proc, fd, PROC_CLIENT, 0,
	    control_client_handlers,
	    sizeof control_client_handlers / sizeof control_client_handlers[0],
	    control_client_on_lost);
	c->p->arg = c;
	if ((c->ev_idle = evtimer_new(env->evb, control_client_on_idle,
	    c)) == NULL)
		fatalx("control: cannot make a timer");
	control_state()->clients[slot] = c;
	control_client_idle_arm(c);
	log_debug("control: client %016llx uid=%ld pid=%ld connected",
	    (unsigned long long)c->id, (long)c->uid, (long)c->pid);
}

static void
control_on_listen_fd(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_control_fd	m;

	if (msg_unpack_parent_control_fd(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (control_state()->listen_fd != -1)
		fatalx("control: second control socket from parent");
	control_state()->listen_fd = m.fd;
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
	control_state()->started = time(NULL);
	proc_child_init(PROC_CONTROL, control_handlers,
	    sizeof control_handlers / sizeof control_handlers[0],
	    NULL, control_on_start);
	proc_child_loop();
}
