/*
 * dispatcher_req.c -- the dispatcher's requests to queue and lookup:
 * one reqid per request, answered through the completion its caller
 * gave.
 *
 * Used by the SMTP server's host (dispatcher_smtp.c) and the bounce
 * agent (dispatcher_bounce.c): both create messages, expand recipients
 * and commit through the same three calls, and the answers come back
 * here (the handlers of dispatcher.c's table) to be unpacked once and
 * handed to the caller's completion.  An answer for a reqid we never
 * issued, or of another kind, is an internal inconsistency (fatal).
 * A completion owns the descriptor a create gives it.  Never blocks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api_tree.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "queue_api.h"
#include "smtpd.h"
#include "xmalloc.h"

struct dispatcher_req {
	enum dispatcher_req_kind kind;
	dispatcher_req_fn	 done;
	void			*arg;
	size_t			 nenvelopes;	/* EXPAND: so far */
};

static struct tree	dispatcher_reqs;
static uint64_t		dispatcher_req_last;

/* dispatcher_req_new - a reqid whose answer goes to DONE(ARG) */
static uint64_t
dispatcher_req_new(enum dispatcher_req_kind kind, dispatcher_req_fn done,
    void *arg)
{
	struct dispatcher_req	*r;
	int			 err = 0;
	uint64_t		 id = ++dispatcher_req_last;

	r = xcalloc(1, sizeof *r);
	r->kind = kind;
	r->done = done;
	r->arg = arg;
	api_tree_set(&dispatcher_reqs, id, r, &err);
	if (err)
		fatalx("dispatcher: out of memory");
	return id;
}

/* dispatcher_req_get - a pending request; fatal if unknown or of
 * another kind (our own processes answered what we never asked) */
static struct dispatcher_req *
dispatcher_req_get(uint64_t id, enum dispatcher_req_kind kind, int pop)
{
	struct dispatcher_req	*r;

	r = pop ? api_tree_pop(&dispatcher_reqs, id) :
	    api_tree_get(&dispatcher_reqs, id);
	if (r == NULL || r->kind != kind)
		fatalx("dispatcher: answer for unknown request %llu",
		    (unsigned long long)id);
	return r;
}

/* dispatcher_req_finish - the last answer of a request */
static void
dispatcher_req_finish(struct dispatcher_req *r,
    struct dispatcher_req_answer *a)
{
	a->final = 1;
	r->done(r->arg, a);
	free(r);
}

size_t
dispatcher_req_pending(void)
{
	return api_tree_count(&dispatcher_reqs);
}

void
dispatcher_req_create_message(dispatcher_req_fn done, void *arg)
{
	uint64_t	id = dispatcher_req_new(DISPATCHER_REQ_CREATE, done, arg);

	msg_send_queue_create_message(env->peers[PROC_QUEUE],
	    &(struct msg_queue_create_message){ .reqid = id });
}

void
dispatcher_req_expand_rcpt(const char *envelope, size_t len,
    dispatcher_req_fn done, void *arg)
{
	msg_send_lookup_expand_rcpt(env->peers[PROC_LOOKUP],
	    &(struct msg_lookup_expand_rcpt){
		.reqid = dispatcher_req_new(DISPATCHER_REQ_EXPAND, done, arg),
		.envelope = envelope, .envelope_len = len });
}

void
dispatcher_req_commit_message(uint32_t msgid, dispatcher_req_fn done,
    void *arg)
{
	msg_send_queue_commit_message(env->peers[PROC_QUEUE],
	    &(struct msg_queue_commit_message){
		.reqid = dispatcher_req_new(DISPATCHER_REQ_COMMIT, done, arg),
		.msgid = msgid });
}

/* answers from queue and lookup */

void
dispatcher_on_create_message_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_create_message_result	m;

	if (msg_unpack_queue_create_message_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	dispatcher_req_finish(dispatcher_req_get(m.reqid,
	    DISPATCHER_REQ_CREATE, 1), &(struct dispatcher_req_answer){
		.r = QUEUE_OK, .msgid = m.msgid, .fd = m.fd });
}

void
dispatcher_on_create_message_fail(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_create_message_fail	m;

	if (msg_unpack_queue_create_message_fail(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	dispatcher_req_finish(dispatcher_req_get(m.reqid,
	    DISPATCHER_REQ_CREATE, 1), &(struct dispatcher_req_answer){
		.r = m.r, .fd = -1 });
}

void
dispatcher_on_expand_rcpt_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_expand_rcpt_envelope	 m;
	struct dispatcher_req			*r;

	if (msg_unpack_lookup_expand_rcpt_envelope(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	r = dispatcher_req_get(m.reqid, DISPATCHER_REQ_EXPAND, 0);
	if (r->nenvelopes == DISPATCHER_EXPAND_MAX)
		fatalx("dispatcher: lookup sent more than %d envelopes for "
		    "one recipient", DISPATCHER_EXPAND_MAX);
	r->nenvelopes++;
	r->done(r->arg, &(struct dispatcher_req_answer){ .fd = -1,
	    .envelope = m.envelope, .envelope_len = m.envelope_len });
}

void
dispatcher_on_expand_rcpt_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_expand_rcpt_result	 m;
	struct dispatcher_req			*r;

	if (msg_unpack_lookup_expand_rcpt_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	r = dispatcher_req_get(m.reqid, DISPATCHER_REQ_EXPAND, 1);
	dispatcher_req_finish(r, &(struct dispatcher_req_answer){ .fd = -1,
	    .code = m.code, .text = m.text, .nenvelopes = r->nenvelopes });
}

void
dispatcher_on_commit_message_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_commit_message_result	m;

	if (msg_unpack_queue_commit_message_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	dispatcher_req_finish(dispatcher_req_get(m.reqid,
	    DISPATCHER_REQ_COMMIT, 1), &(struct dispatcher_req_answer){
		.r = m.r, .fd = -1 });
}
