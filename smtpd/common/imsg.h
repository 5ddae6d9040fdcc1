/*
 * imsg.h -- every message exchanged between smtpd processes, and between
 * the control process and its clients (smtpctl).
 *
 * One line per message: name, the stem of its codec functions, sender,
 * receiver, payload fields, and a check over the decoded fields (m).
 * The enum, the names printed in logs, the routing check, the payload
 * structs, msg_send_* / msg_unpack_* (imsg_codec.c) and the fuzz
 * dispatch table are all generated from this one list.  Field types are
 * described in imsg_codec.h.  Bump IMSG_VERSION on any change: processes
 * of one daemon always come from one binary, but a control client may
 * not.  Used by every process and by smtpctl; it declares, never runs.
 */
#ifndef SMTPD_IMSG_H
#define SMTPD_IMSG_H

#include <stdint.h>

#define IMSG_VERSION	9

/* the processes; CLIENT is a control-socket client, not a process of ours */
#define PROC_LIST(X)				\
	X(PROC_PARENT,     "parent")		\
	X(PROC_CONTROL,    "control")		\
	X(PROC_LOOKUP,     "lookup")		\
	X(PROC_QUEUE,      "queue")		\
	X(PROC_SCHEDULER,  "scheduler")		\
	X(PROC_DISPATCHER, "dispatcher")	\
	X(PROC_CA,         "ca")		\
	X(PROC_CLIENT,     "client")

enum proc_id {
#define X(id, name) id,
	PROC_LIST(X)
#undef X
	PROC__COUNT
};
#define PROC_CHILD_FIRST	PROC_CONTROL
#define PROC_CHILD_LAST		PROC_CA

/* "ANY" as a sender or receiver means every process of ours */
#define PROC_ANY	PROC__COUNT

/* table query operations */
#define TABLE_OP_LOOKUP	1
#define TABLE_OP_CHECK	2
#define TABLE_OP_FETCH	3

/* a table query has a key unless it fetches */
#define IMSG_TABLE_KEY_OK(m)	(((m)->op == TABLE_OP_FETCH) == ((m)->key == NULL))

/* the outcome of one delivery attempt (the DELIVERY field type) */
#define DELIVERY_OK		0	/* done: the envelope goes */
#define DELIVERY_TEMPFAIL	1	/* try again later */
#define DELIVERY_PERMFAIL	2	/* bounce */
#define DELIVERY_LOOP		3	/* a mail loop: bounce */

/* the relay verbs of IMSG_CTL_MTA_ADMIN / IMSG_DISPATCHER_MTA_ADMIN */
#define MTA_ADMIN_HOSTSTATS	1	/* show hoststats (MTA-23) */
#define MTA_ADMIN_ROUTES	2	/* show routes (MTA-15) */
#define MTA_ADMIN_RESUME_ROUTE	3	/* resume route ID */
#define MTA_ADMIN_BLOCK		4	/* pause mta from/for (MTA-22) */
#define MTA_ADMIN_UNBLOCK	5	/* resume mta from/for */
#define MTA_ADMIN_SHOW_BLOCKS	6	/* show mta paused (CTL-11) */
#define MTA_ADMIN_HOSTS		7	/* show hosts (CTL-07) */
#define MTA_ADMIN_RELAYS	8	/* show relays (CTL-09) */
#define MTA_ADMIN_OP_OK(op)	((op) >= MTA_ADMIN_HOSTSTATS && \
				 (op) <= MTA_ADMIN_RELAYS)

/* what IMSG_*_CHANGE_ENVELOPES does to the envelopes it names */
#define CHANGE_SCHEDULE	1	/* due now (smtpctl schedule) */
#define CHANGE_REMOVE	2	/* deleted, no bounce (smtpctl remove) */
#define CHANGE_SUSPEND	3	/* held (smtpctl pause envelope) */
#define CHANGE_RESUME	4	/* released (smtpctl resume envelope) */
/* a change names every envelope, or one message or envelope id: a
 * msgid (nonzero, below 2^32) or an evpid (a nonzero msgid above) */
#define IMSG_CHANGE_OK(m)	((m)->op >= CHANGE_SCHEDULE &&		\
	(m)->op <= CHANGE_RESUME && ((m)->all ? (m)->id == 0 :		\
	(m)->id != 0))
/* what may be paused: exactly one agent (PAUSE_* of smtpd.h) */
#define IMSG_PAUSE_WHAT_OK(w)	((w) == 0x01 || (w) == 0x02 || (w) == 0x04)
/* IMSG_QUEUE_LIST_ENVELOPES: struct evpstate entries of api/, each
 * this size; a single entry of evpid 0 stands for none */
#define IMSG_EVPSTATE_SIZE	24

/* the outcome of a DNS request (IMSG_LOOKUP_DNS_*, MTA-02, MTA-03):
 * NOTFOUND is permanent (NXDOMAIN, or a name without an address),
 * NULLMX is RFC 7505's "this domain takes no mail", TEMPFAIL covers
 * SERVFAIL, a timeout, a truncated or malformed answer */
#define DNS_OK		0
#define DNS_TEMPFAIL	1
#define DNS_NOTFOUND	2
#define DNS_NULLMX	3
#define IMSG_DNS_STATUS_OK(s)	((s) >= DNS_OK && (s) <= DNS_NULLMX)

/* a message without payload */
#define NOFIELDS	F(none, NONE)

#define IMSG_LIST(X)								\
	/* parent -> children: start-up wiring */				\
	X(IMSG_PARENT_PEER_FD, parent_peer_fd, PARENT, ANY,			\
	    F(peer, CHILD) F(fd, FD), 1)					\
	X(IMSG_PARENT_CONTROL_FD, parent_control_fd, PARENT, CONTROL,		\
	    F(fd, FD), 1)							\
	X(IMSG_PARENT_CONF_DATA, parent_conf_data, PARENT, ANY,			\
	    F(data, DATA), 1)							\
	X(IMSG_PARENT_CONF_END, parent_conf_end, PARENT, ANY,			\
	    F(total, SZ), 1)							\
	X(IMSG_PARENT_START, parent_start, PARENT, ANY, NOFIELDS, 1)		\
	/* children -> parent */						\
	X(IMSG_PARENT_CHILD_READY, parent_child_ready, ANY, PARENT,		\
	    F(uid, U32) F(gid, U32) F(root, STR) F(state, STR), 1)		\
	X(IMSG_PARENT_GET_STATUS, parent_get_status, CONTROL, PARENT,		\
	    F(reqid, U64), 1)							\
	X(IMSG_PARENT_GET_STATUS_RESULT, parent_get_status_result, PARENT,	\
	    CONTROL, F(reqid, U64) F(last, BOOL) F(proc, PROC) F(pid, I32)	\
	    F(uid, U32) F(gid, U32) F(root, STR) F(state, STR), 1)		\
	/* control -> lookup: tables */					\
	X(IMSG_LOOKUP_TABLE_QUERY, lookup_table_query, CONTROL, LOOKUP,	\
	    F(reqid, U64) F(op, TABLE_OP) F(table, STR) F(service_bit, I32)	\
	    F(key, STR_OR_NULL), IMSG_TABLE_KEY_OK(m))				\
	X(IMSG_LOOKUP_TABLE_QUERY_RESULT, lookup_table_query_result, LOOKUP,	\
	    CONTROL, F(reqid, U64) F(r, TRI) F(value, STR_OR_NULL)		\
	    F(error, STR_OR_NULL), 1)						\
	X(IMSG_LOOKUP_UPDATE_TABLE, lookup_update_table, CONTROL, LOOKUP,	\
	    F(reqid, U64) F(table, STR), 1)					\
	X(IMSG_LOOKUP_UPDATE_TABLE_RESULT, lookup_update_table_result, LOOKUP,	\
	    CONTROL, F(reqid, U64) F(r, TRI) F(error, STR_OR_NULL), 1)		\
	/* parent -> dispatcher: listening sockets; mda processes */		\
	X(IMSG_DISPATCHER_ADD_LISTENER, dispatcher_add_listener, PARENT,	\
	    DISPATCHER, F(listener, U32) F(fd, FD), 1)				\
	X(IMSG_PARENT_FORK_MDA, parent_fork_mda, DISPATCHER, PARENT,		\
	    F(id, U64) F(uid, U32) F(gid, U32) F(home, STR) F(size, U64)	\
	    F(envelope, DATA), 1)						\
	X(IMSG_PARENT_FORK_MDA_RESULT, parent_fork_mda_result, PARENT,	\
	    DISPATCHER, F(id, U64) F(fd, FD), 1)				\
	X(IMSG_DISPATCHER_MDA_DONE, dispatcher_mda_done, PARENT, DISPATCHER,	\
	    F(id, U64) F(status, DELIVERY) F(error, STR), 1)			\
	/* dispatcher -> lookup: one recipient matched and expanded */	\
	X(IMSG_LOOKUP_EXPAND_RCPT, lookup_expand_rcpt, DISPATCHER, LOOKUP,	\
	    F(reqid, U64) F(envelope, DATA), 1)				\
	X(IMSG_LOOKUP_EXPAND_RCPT_ENVELOPE, lookup_expand_rcpt_envelope,	\
	    LOOKUP, DISPATCHER, F(reqid, U64) F(envelope, DATA), 1)		\
	X(IMSG_LOOKUP_EXPAND_RCPT_RESULT, lookup_expand_rcpt_result, LOOKUP,	\
	    DISPATCHER, F(reqid, U64) F(code, I32) F(text, STR),		\
	    (m)->code >= 200 && (m)->code <= 599)				\
	/* dispatcher -> lookup: the account a delivery runs as */		\
	X(IMSG_LOOKUP_USERINFO, lookup_userinfo, DISPATCHER, LOOKUP,		\
	    F(reqid, U64) F(action, STR) F(user, STR), 1)			\
	X(IMSG_LOOKUP_USERINFO_RESULT, lookup_userinfo_result, LOOKUP,	\
	    DISPATCHER, F(reqid, U64) F(r, TRI) F(uid, U32) F(gid, U32)	\
	    F(home, STR), 1)							\
	/* dispatcher -> lookup: DNS (MTA-02/03, SMTP-30).  An MX or host	\
	 * request is answered by zero or more ADDR, in the order to try	\
	 * (preference, then random among equals), then one END; a PTR	\
	 * request by one PTR_RESULT (fcrdns: the name's addresses	\
	 * include the one asked).  status is DNS_* above. */		\
	X(IMSG_LOOKUP_DNS_MX, lookup_dns_mx, DISPATCHER, LOOKUP,		\
	    F(reqid, U64) F(domain, STR), 1)					\
	X(IMSG_LOOKUP_DNS_HOST, lookup_dns_host, DISPATCHER, LOOKUP,		\
	    F(reqid, U64) F(host, STR), 1)					\
	X(IMSG_LOOKUP_DNS_ADDR, lookup_dns_addr, LOOKUP, DISPATCHER,		\
	    F(reqid, U64) F(preference, U32) F(host, STR) F(addr, STR), 1)	\
	X(IMSG_LOOKUP_DNS_END, lookup_dns_end, LOOKUP, DISPATCHER,		\
	    F(reqid, U64) F(status, I32) F(error, STR),			\
	    IMSG_DNS_STATUS_OK((m)->status))					\
	X(IMSG_LOOKUP_DNS_PTR, lookup_dns_ptr, DISPATCHER, LOOKUP,		\
	    F(reqid, U64) F(addr, STR), 1)					\
	X(IMSG_LOOKUP_DNS_PTR_RESULT, lookup_dns_ptr_result, LOOKUP,		\
	    DISPATCHER, F(reqid, U64) F(status, I32) F(name, STR)		\
	    F(fcrdns, BOOL), IMSG_DNS_STATUS_OK((m)->status))		\
	/* dispatcher -> queue: a message received */			\
	X(IMSG_QUEUE_CREATE_MESSAGE, queue_create_message, DISPATCHER, QUEUE,	\
	    F(reqid, U64), 1)							\
	X(IMSG_QUEUE_CREATE_MESSAGE_RESULT, queue_create_message_result,	\
	    QUEUE, DISPATCHER, F(reqid, U64) F(msgid, U32) F(fd, FD),		\
	    (m)->msgid != 0)							\
	X(IMSG_QUEUE_CREATE_MESSAGE_FAIL, queue_create_message_fail, QUEUE,	\
	    DISPATCHER, F(reqid, U64) F(r, I32), (m)->r < 0)			\
	X(IMSG_QUEUE_SUBMIT_ENVELOPE, queue_submit_envelope, DISPATCHER,	\
	    QUEUE, F(msgid, U32) F(envelope, DATA), (m)->msgid != 0)		\
	X(IMSG_QUEUE_COMMIT_MESSAGE, queue_commit_message, DISPATCHER, QUEUE,	\
	    F(reqid, U64) F(msgid, U32), (m)->msgid != 0)			\
	X(IMSG_QUEUE_COMMIT_MESSAGE_RESULT, queue_commit_message_result,	\
	    QUEUE, DISPATCHER, F(reqid, U64) F(r, I32), 1)			\
	X(IMSG_QUEUE_DELETE_MESSAGE, queue_delete_message, DISPATCHER, QUEUE,	\
	    F(msgid, U32), (m)->msgid != 0)					\
	/* dispatcher -> queue -> scheduler: an envelope deferred by the	\
	 * relay, to try now that its domain took mail (MTA-16) */		\
	X(IMSG_QUEUE_RESCHEDULE, queue_reschedule, DISPATCHER, QUEUE,		\
	    F(evpid, U64), (m)->evpid != 0)					\
	X(IMSG_SCHEDULER_RESCHEDULE, scheduler_reschedule, QUEUE, SCHEDULER,	\
	    F(evpid, U64), (m)->evpid != 0)					\
	/* queue -> scheduler: committed envelopes and their fate */	\
	X(IMSG_SCHEDULER_INSERT_ENVELOPE, scheduler_insert_envelope, QUEUE,	\
	    SCHEDULER, F(evpid, U64) F(type, I32) F(retry, U32)		\
	    F(creation, U64) F(ttl, U64) F(lasttry, U64) F(lastbounce, U64),	\
	    (m)->type >= 0 && (m)->type <= 2)					\
	X(IMSG_SCHEDULER_COMMIT_MESSAGE, scheduler_commit_message, QUEUE,	\
	    SCHEDULER, F(msgid, U32), (m)->msgid != 0)			\
	X(IMSG_SCHEDULER_DELIVERY_RESULT, scheduler_delivery_result, QUEUE,	\
	    SCHEDULER, F(evpid, U64) F(status, DELIVERY) F(retry, U32)	\
	    F(lasttry, U64), 1)						\
	/* scheduler -> queue: work; queue -> dispatcher: a delivery */	\
	X(IMSG_QUEUE_DELIVER_ENVELOPE, queue_deliver_envelope, SCHEDULER,	\
	    QUEUE, F(evpid, U64) F(action, I32), 1)				\
	X(IMSG_DISPATCHER_DELIVER_ENVELOPE, dispatcher_deliver_envelope,	\
	    QUEUE, DISPATCHER, F(evpid, U64) F(fd, FD) F(envelope, DATA), 1)	\
	/* relay_dsn (MTA-18): 0 delivered here, 1 relayed to a next hop	\
	 * that took the DSN request on, -1 relayed to one without DSN */	\
	X(IMSG_QUEUE_DELIVERY_RESULT, queue_delivery_result, DISPATCHER,	\
	    QUEUE, F(evpid, U64) F(status, DELIVERY) F(error, STR)		\
	    F(relay_dsn, TRI), 1)						\
	/* smtpctl queue verbs and counters (CTL-01/03/04/05/12/13/16/17): \
	 * control asks, any process answers or refuses */			\
	X(IMSG_PROC_GET_STATS, proc_get_stats, CONTROL, ANY, F(reqid, U64),	\
	    1)									\
	X(IMSG_PROC_GET_STATS_RESULT, proc_get_stats_result, ANY, CONTROL,	\
	    F(reqid, U64) F(stats, STR), 1)					\
	X(IMSG_PROC_PAUSE, proc_pause, CONTROL, ANY, F(reqid, U64)		\
	    F(what, U32) F(pause, BOOL), IMSG_PAUSE_WHAT_OK((m)->what))	\
	X(IMSG_PROC_PAUSE_RESULT, proc_pause_result, ANY, CONTROL,		\
	    F(reqid, U64), 1)							\
	X(IMSG_PROC_ADMIN_FAIL, proc_admin_fail, ANY, CONTROL, F(reqid, U64)	\
	    F(reason, STR), 1)						\
	X(IMSG_SCHEDULER_CHANGE_ENVELOPES, scheduler_change_envelopes,	\
	    CONTROL, SCHEDULER, F(reqid, U64) F(op, I32) F(id, U64)		\
	    F(all, BOOL), IMSG_CHANGE_OK(m))					\
	X(IMSG_SCHEDULER_CHANGE_ENVELOPES_RESULT,				\
	    scheduler_change_envelopes_result, SCHEDULER, CONTROL,		\
	    F(reqid, U64) F(n, U64), 1)					\
	X(IMSG_SCHEDULER_LIST_ENVELOPES, scheduler_list_envelopes, CONTROL,	\
	    SCHEDULER, F(reqid, U64) F(from, U64) F(msgid, U32), 1)		\
	X(IMSG_QUEUE_LIST_ENVELOPES, queue_list_envelopes, SCHEDULER, QUEUE,	\
	    F(reqid, U64) F(next, U64) F(states, DATA),			\
	    (m)->states_len % IMSG_EVPSTATE_SIZE == 0)				\
	X(IMSG_QUEUE_LIST_ENVELOPES_RESULT, queue_list_envelopes_result,	\
	    QUEUE, CONTROL, F(reqid, U64) F(next, U64) F(lines, STR), 1)	\
	X(IMSG_QUEUE_SHOW_ENVELOPE, queue_show_envelope, CONTROL, QUEUE,	\
	    F(reqid, U64) F(evpid, U64), (m)->evpid > UINT32_MAX)		\
	X(IMSG_QUEUE_SHOW_ENVELOPE_RESULT, queue_show_envelope_result, QUEUE, \
	    CONTROL, F(reqid, U64) F(text, STR), 1)				\
	X(IMSG_QUEUE_SHOW_MESSAGE, queue_show_message, CONTROL, QUEUE,	\
	    F(reqid, U64) F(msgid, U32), (m)->msgid != 0)			\
	X(IMSG_QUEUE_SHOW_MESSAGE_RESULT, queue_show_message_result, QUEUE,	\
	    CONTROL, F(reqid, U64) F(fd, FD), 1)				\
	/* smtpctl queue verbs and counters: client <-> control */		\
	X(IMSG_CTL_SHOW_QUEUE, ctl_show_queue, CLIENT, CONTROL,		\
	    F(from, U64) F(msgid, U32), 1)					\
	X(IMSG_CTL_QUEUE_LINES, ctl_queue_lines, CONTROL, CLIENT,		\
	    F(next, U64) F(lines, STR), 1)					\
	X(IMSG_CTL_SHOW_ENVELOPE, ctl_show_envelope, CLIENT, CONTROL,	\
	    F(evpid, U64), (m)->evpid > UINT32_MAX)				\
	X(IMSG_CTL_SHOW_MESSAGE, ctl_show_message, CLIENT, CONTROL,		\
	    F(msgid, U32), (m)->msgid != 0)					\
	X(IMSG_CTL_MESSAGE_FD, ctl_message_fd, CONTROL, CLIENT, F(fd, FD), 1) \
	X(IMSG_CTL_SHOW_STATS, ctl_show_stats, CLIENT, CONTROL, NOFIELDS, 1)	\
	X(IMSG_CTL_TEXT, ctl_text, CONTROL, CLIENT, F(text, STR), 1)		\
	X(IMSG_CTL_CHANGE_ENVELOPES, ctl_change_envelopes, CLIENT, CONTROL,	\
	    F(op, I32) F(id, U64) F(all, BOOL), IMSG_CHANGE_OK(m))		\
	X(IMSG_CTL_COUNT, ctl_count, CONTROL, CLIENT, F(n, U64), 1)		\
	X(IMSG_CTL_PAUSE, ctl_pause, CLIENT, CONTROL, F(what, U32)		\
	    F(pause, BOOL), IMSG_PAUSE_WHAT_OK((m)->what))	\
	/* local enqueue (sendmail, COMPAT-02, LSN-07): a client asks for an	\
	 * SMTP session on the implicit socket listener; the dispatcher opens	\
	 * it on a socketpair and the client gets the other end */		\
	X(IMSG_CTL_ENQUEUE_SESSION, ctl_enqueue_session, CLIENT, CONTROL,	\
	    NOFIELDS, 1)							\
	X(IMSG_CTL_SESSION_FD, ctl_session_fd, CONTROL, CLIENT, F(fd, FD), 1)	\
	X(IMSG_DISPATCHER_ENQUEUE_SESSION, dispatcher_enqueue_session,	\
	    CONTROL, DISPATCHER, F(reqid, U64) F(uid, U32) F(pid, I32), 1)	\
	X(IMSG_DISPATCHER_ENQUEUE_SESSION_RESULT,				\
	    dispatcher_enqueue_session_result, DISPATCHER, CONTROL,		\
	    F(reqid, U64) F(fd, FD), 1)						\
	X(IMSG_DISPATCHER_ENQUEUE_SESSION_FAIL,					\
	    dispatcher_enqueue_session_fail, DISPATCHER, CONTROL,		\
	    F(reqid, U64) F(error, STR), 1)					\
	/* ~/.forward (EXP-06): lookup asks, the parent opens as the user */	\
	X(IMSG_PARENT_OPEN_FORWARD, parent_open_forward, LOOKUP, PARENT,	\
	    F(reqid, U64) F(uid, U32) F(gid, U32) F(user, STR)		\
	    F(home, STR), 1)							\
	X(IMSG_LOOKUP_OPEN_FORWARD_RESULT, lookup_open_forward_result, PARENT,	\
	    LOOKUP, F(reqid, U64) F(error, I32), (m)->error >= 0)		\
	X(IMSG_LOOKUP_OPEN_FORWARD_FD, lookup_open_forward_fd, PARENT, LOOKUP,	\
	    F(reqid, U64) F(fd, FD), 1)						\
	/* SMTP AUTH (auth slice; AUTH-04/05/07/09): the dispatcher asks	\
	 * lookup to check a password against a credentials table, the	\
	 * parent against the system's accounts, and lookup whether an	\
	 * authenticated user may use a MAIL FROM (`senders`, sender "" is	\
	 * <>); r is 1 yes, 0 no, -1 cannot tell now */			\
	X(IMSG_LOOKUP_CHECK_CREDENTIALS, lookup_check_credentials,		\
	    DISPATCHER, LOOKUP, F(reqid, U64) F(table, STR) F(user, STR)	\
	    F(password, STR), 1)						\
	X(IMSG_LOOKUP_CHECK_CREDENTIALS_RESULT,				\
	    lookup_check_credentials_result, LOOKUP, DISPATCHER,		\
	    F(reqid, U64) F(r, TRI), 1)						\
	X(IMSG_PARENT_CHECK_PASSWORD, parent_check_password, DISPATCHER,	\
	    PARENT, F(reqid, U64) F(user, STR) F(password, STR), 1)		\
	X(IMSG_PARENT_CHECK_PASSWORD_RESULT, parent_check_password_result,	\
	    PARENT, DISPATCHER, F(reqid, U64) F(r, TRI), 1)			\
	X(IMSG_LOOKUP_CHECK_SENDER, lookup_check_sender, DISPATCHER, LOOKUP,	\
	    F(reqid, U64) F(table, STR) F(user, STR) F(sender, STR), 1)	\
	X(IMSG_LOOKUP_CHECK_SENDER_RESULT, lookup_check_sender_result,	\
	    LOOKUP, DISPATCHER, F(reqid, U64) F(r, TRI), 1)			\
	/* tls (issue 9 parts 4, 5; TLS-01, TLS-11): at start the parent	\
	 * hands out the pki files it read, certificate chains to the	\
	 * dispatcher, chain and key to ca only, in chunks (what: 1 cert,	\
	 * 2 key, ca_sign.h); the dispatcher's TLS has ca do its private-key	\
	 * operations (op: 1 RSA private encrypt, 2 RSA private decrypt,	\
	 * 3 ECDSA sign) on the key whose public half hashes to keyid */	\
	X(IMSG_CA_PKI_DATA, ca_pki_data, PARENT, CA, F(pki, STR)		\
	    F(what, I32) F(data, DATA), (m)->what == 1 || (m)->what == 2)	\
	X(IMSG_DISPATCHER_PKI_DATA, dispatcher_pki_data, PARENT, DISPATCHER,	\
	    F(pki, STR) F(data, DATA), 1)					\
	X(IMSG_CA_SIGN, ca_sign, DISPATCHER, CA, F(reqid, U64) F(keyid, STR)	\
	    F(op, I32) F(padding, I32) F(data, DATA),			\
	    (m)->op >= 1 && (m)->op <= 3)					\
	X(IMSG_CA_SIGN_RESULT, ca_sign_result, CA, DISPATCHER, F(reqid, U64)	\
	    F(data, DATA), 1)							\
	X(IMSG_CA_SIGN_FAIL, ca_sign_fail, CA, DISPATCHER, F(reqid, U64)	\
	    F(error, STR), 1)							\
	/* mtatls (issue 9 parts 3, 7; MTA-08): the relay asks lookup for	\
	 * the value of KEY in a table a relay action names for SERVICE	\
	 * (a K_* bit: K_CREDENTIALS, the `auth` entry of a URL's label);	\
	 * r 1 found (value set), 0 not found, -1 cannot tell now */	\
	X(IMSG_LOOKUP_RELAY_TABLE, lookup_relay_table, DISPATCHER, LOOKUP,	\
	    F(reqid, U64) F(table, STR) F(service, I32) F(key, STR), 1)	\
	X(IMSG_LOOKUP_RELAY_TABLE_RESULT, lookup_relay_table_result, LOOKUP,	\
	    DISPATCHER, F(reqid, U64) F(r, TRI) F(value, STR_OR_NULL),		\
	    ((m)->r == 1) == ((m)->value != NULL))				\
	/* the values of a relay action's `src` (K_SOURCE) or `relay host`	\
	 * (K_RELAYHOST) table that is not inline, fetched by lookup until	\
	 * they repeat: one per line; r 1 (some), 0 (the table is empty),	\
	 * -1 (cannot tell now) */						\
	X(IMSG_LOOKUP_RELAY_LIST, lookup_relay_list, DISPATCHER, LOOKUP,	\
	    F(reqid, U64) F(table, STR) F(service, I32), 1)			\
	X(IMSG_LOOKUP_RELAY_LIST_RESULT, lookup_relay_list_result, LOOKUP,	\
	    DISPATCHER, F(reqid, U64) F(r, TRI) F(values, STR),		\
	    ((m)->r == 1) == ((m)->values[0] != '\0'))			\
	/* a table was reloaded (smtpctl update table): what the relay	\
	 * fetched from it is asked again at its next use */		\
	X(IMSG_DISPATCHER_TABLE_UPDATED, dispatcher_table_updated, LOOKUP,	\
	    DISPATCHER, F(table, STR), 1)					\
	/* smtpctl's relay verbs (op: MTA_ADMIN_*; from and domain empty	\
	 * but for BLOCK and UNBLOCK): text lines in chunks from the		\
	 * dispatcher's mta agent */					\
	X(IMSG_CTL_MTA_ADMIN, ctl_mta_admin, CLIENT, CONTROL, F(op, U32)	\
	    F(id, U64) F(from, STR) F(domain, STR),				\
	    MTA_ADMIN_OP_OK((m)->op))						\
	X(IMSG_DISPATCHER_MTA_ADMIN, dispatcher_mta_admin, CONTROL,		\
	    DISPATCHER, F(reqid, U64) F(op, U32) F(id, U64) F(from, STR)	\
	    F(domain, STR), MTA_ADMIN_OP_OK((m)->op))				\
	X(IMSG_DISPATCHER_MTA_ADMIN_RESULT, dispatcher_mta_admin_result,	\
	    DISPATCHER, CONTROL, F(reqid, U64) F(last, BOOL) F(lines, STR),	\
	    1)									\
	/* control socket: client <-> control */				\
	X(IMSG_CTL_HELLO, ctl_hello, CLIENT, CONTROL, F(version, U32), 1)	\
	X(IMSG_CTL_SHOW_STATUS, ctl_show_status, CLIENT, CONTROL, NOFIELDS, 1)	\
	X(IMSG_CTL_TABLE_QUERY, ctl_table_query, CLIENT, CONTROL,		\
	    F(op, TABLE_OP) F(table, STR) F(service, STR) F(key, STR_OR_NULL),	\
	    IMSG_TABLE_KEY_OK(m))						\
	X(IMSG_CTL_UPDATE_TABLE, ctl_update_table, CLIENT, CONTROL,		\
	    F(table, STR), 1)							\
	X(IMSG_CTL_TABLE_RESULT, ctl_table_result, CONTROL, CLIENT,		\
	    F(r, TRI) F(value, STR_OR_NULL), 1)				\
	X(IMSG_CTL_PROC_STATUS, ctl_proc_status, CONTROL, CLIENT,		\
	    F(proc, PROC) F(pid, I32) F(uid, U32) F(gid, U32) F(root, STR)	\
	    F(state, STR), 1)							\
	X(IMSG_CTL_OK, ctl_ok, CONTROL, CLIENT, NOFIELDS, 1)			\
	X(IMSG_CTL_FAIL, ctl_fail, CONTROL, CLIENT, F(reason, STR), 1)

enum imsg_type {
	IMSG_NONE = 0,		/* never sent: 0 is the helpers' OK reply */
#define X(name, stem, from, to, fields, check) name,
	IMSG_LIST(X)
#undef X
	IMSG__MAX
};

const char	*proc_name(enum proc_id);
/* proc_lookup - process id of a name, or PROC__COUNT when unknown */
enum proc_id	 proc_lookup(const char *);
const char	*imsg_name(uint32_t);
/* imsg_route_ok - may `from` send this message to `to`? */
int		 imsg_route_ok(uint32_t, enum proc_id from, enum proc_id to);

#endif
