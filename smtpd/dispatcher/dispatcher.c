/*
 * dispatcher.c -- the dispatcher process: the event-driven network and
 * delivery work (SMTP server sessions, local deliveries, relaying
 * through MTA client sessions, bounces).
 *
 * Runs as smtpd -x dispatcher, chrooted and unprivileged when started as
 * root (see proc.c).  The parent hands it the listening sockets, which
 * the SMTP server (smtp.h, hosted by dispatcher_smtp.c) serves once every
 * process is ready; the queue hands it envelopes to deliver
 * (dispatcher_mda.c).  It must never block: every wait is an event.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "smtp.h"
#include "smtpd.h"
#include "stats.h"
#include "xmalloc.h"

#define DISPATCHER_LISTEN_MAX	256

struct dispatcher_state {
	unsigned int		 paused;	/* PAUSE_* */
	struct smtp_server	*smtp;
	/* sockets received before start, served from start on */
	struct {
		int				fd;
		const struct smtp_listener	*l;
	}			 pending[DISPATCHER_LISTEN_MAX];
	size_t			 npending;
	int			 started;
};

static struct dispatcher_state	dispatcher_state_storage;

static struct dispatcher_state *
dispatcher_state(void)
{
	return env->state;
}

/* dispatcher_listener_new - what the SMTP server needs of listener CL;
 * LOCAL: its clients are on this host (loopback, the local socket) */
struct smtp_listener *
dispatcher_listener_new(const struct conf_listener *cl, int local)
{
	const struct smtpd_conf		*c = env->conf;
	struct dispatcher_listener	*dl;
	struct smtp_listener		*l;

	dl = xcalloc(1, sizeof *dl);
	dl->conf = cl;
	l = &dl->smtp;
	l->hostname = cl->hostname != NULL ? cl->hostname : env->servername;
	l->tag = cl->tag;
	l->local = local;
	l->mask_src = cl->mask_src;
	l->no_dsn = cl->no_dsn;
	l->limits.message_max = c->max_message_size;
	l->limits.rcpt_max = (size_t)c->smtp_limits.max_rcpt;
	l->limits.mails_max = (size_t)c->smtp_limits.max_mails;
	l->auth = cl->auth == CONF_AUTH_REQUIRE ? SMTP_AUTH_REQUIRE :
	    cl->auth == CONF_AUTH_OPTIONAL ? SMTP_AUTH_OPTIONAL :
	    SMTP_AUTH_NONE;
	l->received_auth = cl->received_auth;
	l->masquerade = cl->senders != NULL && cl->masquerade;
	l->tls = dispatcher_tls_server(cl);	/* tls */
	l->tls_mode = cl->tls == CONF_TLS_SMTPS ? SMTP_TLS_SMTPS :
	    cl->tls == CONF_TLS_REQUIRE ? SMTP_TLS_REQUIRE :
	    cl->tls == CONF_TLS_STARTTLS ? SMTP_TLS_STARTTLS : SMTP_TLS_NONE;
	l->tls_verify = cl->tls_verify;
	return l;	/* lives as long as the process */
}

/* dispatcher_listener - listener INDEX on the socket FD */
static const struct smtp_listener *
dispatcher_listener(uint32_t index, int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	struct smtp_listener	*l;
	int			 local = 0, port = 0;

	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		local = (ss.ss_family == AF_INET &&
		    (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >>
		    24) == 127) || (ss.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->
		    sin6_addr)) || ss.ss_family == AF_UNIX;
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	l = dispatcher_listener_new(env->conf->listeners[index], local);
	/* SMTP-22, LSN-26: local clients and submission (587) get Date:
	 * and Message-ID: when their message has none */
	l->complete_headers = local || port == 587;
	return l;
}

static void
dispatcher_listen(int fd, const struct smtp_listener *l)
{
	if (smtp_server_listen(dispatcher_state()->smtp, fd, l) == -1)
		fatalx("dispatcher: cannot serve listener %s", l->hostname);
}

static void
dispatcher_on_add_listener(struct mproc *p, struct imsg *imsg)
{
	struct dispatcher_state			*ds = dispatcher_state();
	struct msg_dispatcher_add_listener	 m;
	const struct smtp_listener		*l;

	if (msg_unpack_dispatcher_add_listener(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (m.listener >= env->conf->nlisteners ||
	    ds->npending == DISPATCHER_LISTEN_MAX)
		fatalx("dispatcher: listener %u out of range", m.listener);
	l = dispatcher_listener(m.listener, m.fd);
	if (ds->started) {
		dispatcher_listen(m.fd, l);
		return;
	}
	ds->pending[ds->npending].fd = m.fd;
	ds->pending[ds->npending].l = l;
	ds->npending++;
}

/* dispatcher_on_pause - smtpctl pause|resume mda|mta|smtp (CTL-12) */
static void
dispatcher_on_pause(struct mproc *p, struct imsg *imsg)
{
	struct dispatcher_state	*ds = dispatcher_state();
	struct msg_proc_pause	 m;

	if (msg_unpack_proc_pause(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	ds->paused = m.pause ? ds->paused | m.what : ds->paused & ~m.what;
	if (ds->started && m.what == PAUSE_SMTP)
		(m.pause ? smtp_server_pause : smtp_server_resume)(ds->smtp);
	else if (ds->started && m.what == PAUSE_MDA)
		dispatcher_mda_pause(m.pause);
	else if (ds->started && m.what == PAUSE_MTA)
		dispatcher_mta_pause(m.pause);
	log_info("0000000000000000 dispatcher %s what=%s", m.pause ? "pause" :
	    "resume", m.what == PAUSE_SMTP ? "smtp" : m.what == PAUSE_MDA ?
	    "mda" : "mta");
	msg_send_proc_pause_result(p, &(struct msg_proc_pause_result){
	    .reqid = m.reqid });
}

/* dispatcher_on_collect_stats - the gauges of show stats */
static void
dispatcher_on_collect_stats(void)
{
	struct dispatcher_state	*ds = dispatcher_state();
	long long		 open = ds->smtp != NULL ?
				    (long long)smtp_server_sessions(ds->smtp) : 0;
	unsigned long long	 calls, failures, usec;

	stats_set("smtp.session", open);
	stats_set("smtp.session.total", open +
	    stats_get("smtp.session.closed"));
	stats_set("smtp.paused", (ds->paused & PAUSE_SMTP) != 0);
	stats_set("mda.paused", (ds->paused & PAUSE_MDA) != 0);
	stats_set("mta.paused", (ds->paused & PAUSE_MTA) != 0);
	dispatcher_ca_stats(&calls, &failures, &usec);	/* tls */
	stats_set("ca.operation", (long long)calls);
	stats_set("ca.operation.failed", (long long)failures);
	stats_set("ca.operation.mean_usec", (long long)usec);
}

static const struct imsg_handler dispatcher_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_DISPATCHER_ADD_LISTENER, PROC_PARENT,
	    dispatcher_on_add_listener },
	{ IMSG_PARENT_FORK_MDA_RESULT, PROC_PARENT,
	    dispatcher_on_fork_mda_result },
	{ IMSG_DISPATCHER_MDA_DONE, PROC_PARENT, dispatcher_on_mda_done },
	{ IMSG_DISPATCHER_ENQUEUE_SESSION, PROC_CONTROL,
	    dispatcher_on_enqueue_session },
	{ IMSG_QUEUE_CREATE_MESSAGE_RESULT, PROC_QUEUE,
	    dispatcher_on_create_message_result },
	{ IMSG_QUEUE_CREATE_MESSAGE_FAIL, PROC_QUEUE,
	    dispatcher_on_create_message_fail },
	{ IMSG_QUEUE_COMMIT_MESSAGE_RESULT, PROC_QUEUE,
	    dispatcher_on_commit_message_result },
	{ IMSG_DISPATCHER_DELIVER_ENVELOPE, PROC_QUEUE,
	    dispatcher_on_deliver_envelope },
	{ IMSG_LOOKUP_EXPAND_RCPT_ENVELOPE, PROC_LOOKUP,
	    dispatcher_on_expand_rcpt_envelope },
	{ IMSG_LOOKUP_EXPAND_RCPT_RESULT, PROC_LOOKUP,
	    dispatcher_on_expand_rcpt_result },
	{ IMSG_LOOKUP_USERINFO_RESULT, PROC_LOOKUP,
	    dispatcher_on_userinfo_result },
	{ IMSG_LOOKUP_CHECK_CREDENTIALS_RESULT, PROC_LOOKUP,
	    dispatcher_on_check_credentials_result },
	{ IMSG_PARENT_CHECK_PASSWORD_RESULT, PROC_PARENT,
	    dispatcher_on_check_password_result },
	{ IMSG_LOOKUP_CHECK_SENDER_RESULT, PROC_LOOKUP,
	    dispatcher_on_check_sender_result },
	{ IMSG_LOOKUP_DNS_PTR_RESULT, PROC_LOOKUP,
	    dispatcher_on_dns_ptr_result },
	{ IMSG_LOOKUP_DNS_ADDR, PROC_LOOKUP, dispatcher_on_dns_addr },
	{ IMSG_LOOKUP_DNS_END, PROC_LOOKUP, dispatcher_on_dns_end },
	{ IMSG_LOOKUP_RELAY_TABLE_RESULT, PROC_LOOKUP,
	    dispatcher_on_relay_table_result },
	{ IMSG_LOOKUP_RELAY_LIST_RESULT, PROC_LOOKUP,
	    dispatcher_on_relay_list_result },
	{ IMSG_DISPATCHER_TABLE_UPDATED, PROC_LOOKUP,
	    dispatcher_on_table_updated },
	{ IMSG_PROC_PAUSE, PROC_CONTROL, dispatcher_on_pause },
	{ IMSG_PROC_GET_STATS, PROC_CONTROL, stats_on_get_stats },
	{ IMSG_DISPATCHER_MTA_ADMIN, PROC_CONTROL, dispatcher_on_mta_admin },
	/* tls */
	{ IMSG_DISPATCHER_PKI_DATA, PROC_PARENT, dispatcher_on_pki_data },
	{ IMSG_CA_SIGN_RESULT, PROC_CA, dispatcher_on_ca_sign_result },
	{ IMSG_CA_SIGN_FAIL, PROC_CA, dispatcher_on_ca_sign_fail },
};

/* dispatcher_smtp_server - the SMTP server, for dispatcher_enqueue.c */
struct smtp_server *
dispatcher_smtp_server(void)
{
	return dispatcher_state()->smtp;
}

static void
dispatcher_on_config(void)
{
	dispatcher_ca_init();	/* before any key is loaded (tls) */
	dispatcher_tls_init();	/* reads CA bundles: before the chroot */
	dispatcher_mta_tls_init();	/* the relay's, likewise */
	proc_child_drop();
	dispatcher_state()->smtp = smtp_server_new(env->evb,
	    &dispatcher_smtp_hooks, NULL);
	if (dispatcher_state()->smtp == NULL)
		fatalx("dispatcher: cannot create the SMTP server");
}

/* dispatcher_on_start - every process is ready: accept mail */
static void
dispatcher_on_start(void)
{
	struct dispatcher_state	*ds = dispatcher_state();
	size_t			 i;

	ds->started = 1;
	for (i = 0; i < ds->npending; i++)
		dispatcher_listen(ds->pending[i].fd, ds->pending[i].l);
	ds->npending = 0;
	if (ds->paused & PAUSE_SMTP)
		smtp_server_pause(ds->smtp);
	dispatcher_mda_pause((ds->paused & PAUSE_MDA) != 0);
	dispatcher_mta_pause((ds->paused & PAUSE_MTA) != 0);
}

int
dispatcher_main(void)
{
	env->state = &dispatcher_state_storage;
	dispatcher_state()->paused = env->opts.paused;
	stats_on_collect(dispatcher_on_collect_stats);
	proc_child_drop_late();		/* dispatcher_tls_init reads files */
	proc_child_init(PROC_DISPATCHER, dispatcher_handlers,
	    sizeof dispatcher_handlers / sizeof dispatcher_handlers[0],
	    dispatcher_on_config, dispatcher_on_start);
	proc_child_loop();
}
