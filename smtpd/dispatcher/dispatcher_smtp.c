/*
 * dispatcher_smtp.c -- the SMTP server's host in the dispatcher: what a
 * session asks (smtp.h hooks) becomes requests to queue and lookup, and
 * their answers become the session's replies.
 *
 * MAIL: queue creates the message and hands us the body's descriptor
 * (one made ahead when there is one: dispatcher_req.c).
 * RCPT: lookup matches the rules and expands the recipient; each
 * envelope it returns goes on to the queue on the same channel the
 * commit will take, so the queue has every envelope before the commit.
 * DATA: the session writes the body into the descriptor itself (the
 * body never crosses another process).  End of data: queue commits
 * (fsync) and only its answer lets the session say 250.  Requests go
 * through dispatcher_req.c, which hands each answer to the completions
 * below.  Never blocks.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "dispatcher.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "queue_api.h"
#include "smtp.h"
#include "smtpd.h"
#include "stats.h"
#include "xmalloc.h"

/* what one session's transaction holds on our side */
struct dispatcher_tx {
	struct smtp_session	*s;
	uint32_t		 msgid;
	int			 fd;		/* body, until DATA takes it */
	int			 failed;	/* an envelope could not go */
};

/* an envelope lookup gave, held until its recipient is accepted */
struct dispatcher_evp {
	struct dispatcher_evp	*next;
	size_t			 len;
	char			 text[];
};

/* what one request to queue or lookup remembers until its answer */
struct dispatcher_smtp_req {
	struct smtp_session	*s;
	uint32_t		 msgid;
	struct dispatcher_evp	*evps, **evps_tail;
};

static void	dispatcher_smtp_on_created(void *,
		    const struct dispatcher_req_answer *);
static void	dispatcher_smtp_on_expanded(void *,
		    const struct dispatcher_req_answer *);
static void	dispatcher_smtp_on_committed(void *,
		    const struct dispatcher_req_answer *);

static struct dispatcher_smtp_req *
dispatcher_smtp_req(struct smtp_session *s, uint32_t msgid)
{
	struct dispatcher_smtp_req	*r;

	r = xcalloc(1, sizeof *r);
	r->s = s;
	r->msgid = msgid;
	r->evps_tail = &r->evps;
	return r;
}

static struct dispatcher_tx *
dispatcher_tx(struct smtp_session *s)
{
	struct dispatcher_tx	*tx = smtp_session_arg(s);

	if (tx == NULL) {
		tx = xcalloc(1, sizeof *tx);
		tx->s = s;
		tx->fd = -1;
		smtp_session_set_arg(s, tx);
	}
	return tx;
}

static void
dispatcher_tx_reset(struct dispatcher_tx *tx)
{
	if (tx->fd != -1)
		close(tx->fd);
	tx->fd = -1;
	tx->msgid = 0;
	tx->failed = 0;
}

/* hooks */

/* dispatcher_smtp_on_sender - `senders` allowed the sender (or none
 * applies): make the message */
static void
dispatcher_smtp_on_sender(void *arg, int r)
{
	struct smtp_session	*s = arg;
	struct dispatcher_tx	*tx;
	uint32_t		 msgid;
	int			 fd;

	if (r == 1 && dispatcher_req_take_message(&msgid, &fd) == 0) {
		/* one made ahead: no round trip to the queue */
		tx = dispatcher_tx(s);
		tx->msgid = msgid;
		tx->fd = fd;
		smtp_tx_begin_done(s, 250, msgid, NULL);
	} else if (r == 1)
		dispatcher_req_create_message(dispatcher_smtp_on_created,
		    dispatcher_smtp_req(s, 0));
	else if (r == 0)
		smtp_tx_begin_done(s, 530, 0, "5.7.1 Sender rejected");
	else
		smtp_tx_begin_done(s, 451, 0,
		    "4.3.0 Temporary lookup failure, try again");
}

static void
dispatcher_smtp_tx_begin(void *arg, struct smtp_session *s,
    const struct smtp_tx *t)
{
	dispatcher_tx_reset(dispatcher_tx(s));
	dispatcher_auth_sender(s, t, dispatcher_smtp_on_sender, s);
}

/* dispatcher_smtp_envelope - the template lookup expands */
static int
dispatcher_smtp_envelope(const struct smtp_tx *t, const struct smtp_rcpt *r,
    char *buf, size_t bufsz)
{
	struct envelope	*e;
	int		 n;

	e = envelope_new();
	e->version = ENVELOPE_VERSION;
	e->type = ENVELOPE_MDA;
	strlcpy(e->tag, t->tag != NULL ? t->tag : "", sizeof e->tag);
	strlcpy(e->smtpname, t->hostname, sizeof e->smtpname);
	strlcpy(e->helo, t->helo != NULL ? t->helo : "", sizeof e->helo);
	strlcpy(e->hostname, t->rdns != NULL && t->rdns[0] != '\0' ?
	    t->rdns : "<unknown>", sizeof e->hostname);
	if (t->ss != NULL)
		e->ss = *t->ss;
	if (t->auth_user != NULL) {	/* AUTH-08: rules, `from auth` */
		if (strlcpy(e->username, t->auth_user, sizeof e->username) >=
		    sizeof e->username) {
			envelope_free(&e);
			return -1;
		}
		e->flags |= ENVELOPE_F_AUTHENTICATED;
	}
	e->sender = t->sender;
	e->rcpt = r->addr;
	e->dest = r->addr;
	e->creation = time(NULL);
	e->ttl = env->conf->queue_ttl;
	e->dsn_notify = r->dsn_notify;
	e->dsn_orcpt = r->dsn_orcpt;
	e->dsn_ret = t->dsn_ret == 1 ? DSN_RET_FULL : t->dsn_ret == 2 ?
	    DSN_RET_HDRS : DSN_RET_UNSET;
	strlcpy(e->dsn_envid, t->dsn_envid, sizeof e->dsn_envid);
	n = envelope_dump(e, buf, bufsz);
	envelope_free(&e);
	return n;
}

static void
dispatcher_smtp_rcpt(void *arg, struct smtp_session *s,
    const struct smtp_tx *t, const struct smtp_rcpt *r)
{
	static char	buf[ENVELOPE_TEXT_MAX];
	int		n;

	if ((n = dispatcher_smtp_envelope(t, r, buf, sizeof buf)) <= 0) {
		smtp_rcpt_done(s, 501, "5.1.3 Recipient address syntax error");
		return;
	}
	dispatcher_req_expand_rcpt(buf, (size_t)n,
	    dispatcher_smtp_on_expanded, dispatcher_smtp_req(s, t->msgid));
}

static void
dispatcher_smtp_data_begin(void *arg, struct smtp_session *s,
    const struct smtp_tx *t)
{
	struct dispatcher_tx	*tx = dispatcher_tx(s);
	int			 fd = tx->fd;

	tx->fd = -1;
	if (fd == -1) {
		smtp_data_begin_done(s, 451, -1,
		    "4.3.0 Temporary failure: no message file");
		return;
	}
	smtp_data_begin_done(s, 354, fd, NULL);
}

static void
dispatcher_smtp_data_end(void *arg, struct smtp_session *s,
    const struct smtp_tx *t)
{
	struct dispatcher_tx	*tx = dispatcher_tx(s);

	if (tx->failed) {
		msg_send_queue_delete_message(env->peers[PROC_QUEUE],
		    &(struct msg_queue_delete_message){ .msgid = t->msgid });
		dispatcher_tx_reset(tx);
		smtp_data_end_done(s, 451,
		    "4.3.0 Temporary failure: recipient not stored");
		return;
	}
	dispatcher_req_commit_message(t->msgid, dispatcher_smtp_on_committed,
	    dispatcher_smtp_req(s, t->msgid));
}

static void
dispatcher_smtp_tx_abort(void *arg, struct smtp_session *s,
    const struct smtp_tx *t)
{
	struct dispatcher_tx	*tx = dispatcher_tx(s);

	if (t->msgid != 0)
		msg_send_queue_delete_message(env->peers[PROC_QUEUE],
		    &(struct msg_queue_delete_message){ .msgid = t->msgid });
	dispatcher_tx_reset(tx);
}

static void
dispatcher_smtp_session_end(void *arg, struct smtp_session *s)
{
	struct dispatcher_tx	*tx = smtp_session_arg(s);

	stats_add("smtp.session.closed", 1);
	dispatcher_rdns_forget(s);
	if (tx == NULL)
		return;
	dispatcher_tx_reset(tx);
	smtp_session_set_arg(s, NULL);
	free(tx);
}

const struct smtp_hooks dispatcher_smtp_hooks = {
	.tx_begin = dispatcher_smtp_tx_begin,
	.rcpt = dispatcher_smtp_rcpt,
	.data_begin = dispatcher_smtp_data_begin,
	.data_end = dispatcher_smtp_data_end,
	.tx_abort = dispatcher_smtp_tx_abort,
	.session_end = dispatcher_smtp_session_end,
	.auth = dispatcher_smtp_auth,
	.connect = dispatcher_rdns_ask,
};

/* answers from queue and lookup (dispatcher_req.c) */

static void
dispatcher_smtp_on_created(void *arg, const struct dispatcher_req_answer *a)
{
	struct dispatcher_smtp_req	*r = arg;
	struct dispatcher_tx		*tx;

	if (a->r == QUEUE_OK) {
		tx = dispatcher_tx(r->s);
		tx->msgid = a->msgid;
		tx->fd = a->fd;
		smtp_tx_begin_done(r->s, 250, a->msgid, NULL);
	} else if (a->r == QUEUE_NOSPACE)
		smtp_tx_begin_done(r->s, 452, 0,
		    "4.3.1 Insufficient system storage");
	else
		smtp_tx_begin_done(r->s, 451, 0,
		    "4.3.0 Temporary failure: queue unavailable");
	free(r);
}

/* dispatcher_rcpt_flush - an accepted recipient's envelopes go to the
 * queue, on the channel the commit takes after them; a refused one's
 * are dropped */
static void
dispatcher_rcpt_flush(struct dispatcher_smtp_req *r, int send)
{
	struct dispatcher_evp	*e;

	while ((e = r->evps) != NULL) {
		r->evps = e->next;
		if (send)
			msg_send_queue_submit_envelope(env->peers[PROC_QUEUE],
			    &(struct msg_queue_submit_envelope){
				.msgid = r->msgid, .envelope = e->text,
				.envelope_len = e->len });
		free(e);
	}
}

/* dispatcher_smtp_on_expanded - an envelope is held; the answer sends
 * or drops them and replies to RCPT */
static void
dispatcher_smtp_on_expanded(void *arg, const struct dispatcher_req_answer *a)
{
	struct dispatcher_smtp_req	*r = arg;
	struct dispatcher_evp		*e;

	if (!a->final) {
		e = xmalloc(sizeof *e + a->envelope_len);
		e->next = NULL;
		e->len = a->envelope_len;
		memcpy(e->text, a->envelope, a->envelope_len);
		*r->evps_tail = e;
		r->evps_tail = &e->next;
		return;
	}
	if (a->code / 100 == 2 && a->nenvelopes == 0) {
		log_warnx("dispatcher: lookup accepted a recipient with no "
		    "envelope");
		dispatcher_rcpt_flush(r, 0);
		smtp_rcpt_done(r->s, 451, "4.3.0 Temporary failure");
	} else {
		dispatcher_rcpt_flush(r, a->code / 100 == 2);
		smtp_rcpt_done(r->s, a->code, a->text);
	}
	free(r);
}

static void
dispatcher_smtp_on_committed(void *arg,
    const struct dispatcher_req_answer *a)
{
	struct dispatcher_smtp_req	*r = arg;
	char				 text[64];

	dispatcher_tx_reset(dispatcher_tx(r->s));
	if (a->r == QUEUE_OK) {
		snprintf(text, sizeof text, "2.0.0 %08x Message accepted for "
		    "delivery", r->msgid);
		smtp_data_end_done(r->s, 250, text);
	} else if (a->r == QUEUE_NOSPACE)
		smtp_data_end_done(r->s, 452,
		    "4.3.1 Insufficient system storage");
	else
		smtp_data_end_done(r->s, 451,
		    "4.3.0 Temporary failure: message not stored");
	free(r);
}
