/*
 * dispatcher_auth.c -- the SMTP server's host for AUTH and `senders`:
 * a user and password the session decoded go to lookup (a listener's
 * `auth <table>`: credentials) or to the parent (system accounts), and
 * the verdict back to the session; at MAIL FROM, an authenticated
 * session's sender goes to lookup when the listener has `senders`.
 *
 * Runs in the dispatcher, the network-facing process: it never checks a
 * password itself, never logs one, and keeps it only in the imsg it
 * sends.  The library keeps the session alive while a hook is pending,
 * so a request remembers the session until its answer.  Verdicts are
 * counted (smtp.auth.ok, .failed, .tempfail in smtpctl show stats).
 * Never blocks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_tree.h"
#include "conf.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtp.h"
#include "smtpd.h"
#include "stats.h"
#include "xmalloc.h"

enum dispatcher_auth_kind {
	DISPATCHER_AUTH_PASSWORD,	/* auth hook */
	DISPATCHER_AUTH_SENDER		/* MAIL FROM under `senders` */
};

struct dispatcher_auth_req {
	enum dispatcher_auth_kind	 kind;
	struct smtp_session		*s;
	dispatcher_auth_sender_fn	 done;	/* SENDER */
	void				*arg;
};

static struct tree	dispatcher_auth_reqs;
static uint64_t		dispatcher_auth_last;

/* dispatcher_auth_req - a reqid remembering S until its answer */
static uint64_t
dispatcher_auth_req(enum dispatcher_auth_kind kind, struct smtp_session *s)
{
	struct dispatcher_auth_req	*r;
	int				 err = 0;
	uint64_t			 id = ++dispatcher_auth_last;

	r = xcalloc(1, sizeof *r);
	r->kind = kind;
	r->s = s;
	api_tree_set(&dispatcher_auth_reqs, id, r, &err);
	if (err)
		fatalx("dispatcher: out of memory");
	return id;
}

/* dispatcher_auth_pop - the request answered; fatal if never asked */
static struct dispatcher_auth_req *
dispatcher_auth_pop(uint64_t id, enum dispatcher_auth_kind kind)
{
	struct dispatcher_auth_req	*r;

	r = api_tree_pop(&dispatcher_auth_reqs, id);
	if (r == NULL || r->kind != kind)
		fatalx("dispatcher: auth answer for unknown request %llu",
		    (unsigned long long)id);
	return r;
}

/* dispatcher_auth_conf - the configured listener of session S */
static const struct conf_listener *
dispatcher_auth_conf(struct smtp_session *s)
{
	return ((const struct dispatcher_listener *)
	    smtp_session_listener(s))->conf;
}

/* dispatcher_smtp_auth - the auth hook: lookup or the parent decides */
void
dispatcher_smtp_auth(void *arg, struct smtp_session *s, const char *user,
    const char *password)
{
	const struct conf_listener	*cl = dispatcher_auth_conf(s);
	uint64_t			 id;

	id = dispatcher_auth_req(DISPATCHER_AUTH_PASSWORD, s);
	if (cl != NULL && cl->auth_table != NULL)
		msg_send_lookup_check_credentials(env->peers[PROC_LOOKUP],
		    &(struct msg_lookup_check_credentials){ .reqid = id,
		    .table = cl->auth_table->name, .user = user,
		    .password = password });
	else
		msg_send_parent_check_password(env->peers[PROC_PARENT],
		    &(struct msg_parent_check_password){ .reqid = id,
		    .user = user, .password = password });
}

/* dispatcher_auth_on_result - a verdict of lookup or the parent */
static void
dispatcher_auth_on_result(uint64_t reqid, int r)
{
	struct dispatcher_auth_req	*q;

	q = dispatcher_auth_pop(reqid, DISPATCHER_AUTH_PASSWORD);
	stats_add(r == 1 ? "smtp.auth.ok" : r == 0 ? "smtp.auth.failed" :
	    "smtp.auth.tempfail", 1);
	smtp_auth_done(q->s, r);
	free(q);
}

void
dispatcher_on_check_credentials_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_check_credentials_result	m;

	if (msg_unpack_lookup_check_credentials_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	dispatcher_auth_on_result(m.reqid, m.r);
}

void
dispatcher_on_check_password_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_check_password_result	m;

	if (msg_unpack_parent_check_password_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	dispatcher_auth_on_result(m.reqid, m.r);
}

/* dispatcher_auth_sender - may T's authenticated user send as its
 * sender: DONE(ARG, 1) at once when no `senders` applies, else when
 * lookup answers (1, 0, -1) */
void
dispatcher_auth_sender(struct smtp_session *s, const struct smtp_tx *t,
    dispatcher_auth_sender_fn done, void *arg)
{
	const struct conf_listener	*cl = dispatcher_auth_conf(s);
	struct dispatcher_auth_req	*r;
	char				 sender[MAILADDR_TEXT_SIZE];
	uint64_t			 id;

	if (cl == NULL || cl->senders == NULL || t->auth_user == NULL) {
		done(arg, 1);
		return;
	}
	sender[0] = '\0';
	if (!mailaddr_is_null(&t->sender))
		(void)mailaddr_format(&t->sender, sender, sizeof sender);
	id = dispatcher_auth_req(DISPATCHER_AUTH_SENDER, s);
	r = api_tree_get(&dispatcher_auth_reqs, id);
	r->done = done;
	r->arg = arg;
	msg_send_lookup_check_sender(env->peers[PROC_LOOKUP],
	    &(struct msg_lookup_check_sender){ .reqid = id,
	    .table = cl->senders->name, .user = t->auth_user,
	    .sender = sender });
}

void
dispatcher_on_check_sender_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_check_sender_result	 m;
	struct dispatcher_auth_req		*r;

	if (msg_unpack_lookup_check_sender_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	r = dispatcher_auth_pop(m.reqid, DISPATCHER_AUTH_SENDER);
	r->done(r->arg, m.r);
	free(r);
}
