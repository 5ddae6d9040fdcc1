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
 *
 * Messages made ahead: a MAIL waits for the queue to make its message,
 * one round trip on the client's time.  So the SMTP side takes one
 * made ahead (dispatcher_req_take_message), and the pool asks for the
 * next one at once; the first MAIL, or one that finds the pool empty,
 * asks as before.  At most DISPATCHER_POOL_MAX wait here, each an
 * empty message in the queue's incoming area with its body fd open on
 * our side: the queue waits for none of them in its group commit (a
 * message counts from its first envelope), a clean stop of the queue
 * removes them, and so does the recovery after a crash.  A create that
 * fails stops the pool for DISPATCHER_POOL_PAUSE seconds, so that a
 * full spool is not asked again on every MAIL.  A message made ahead
 * is not handed out while the spool's file system is too full for new
 * mail (QUEUE-11, the queue's own rule, read through the body fd at
 * most once a second): the MAIL then asks the queue, which refuses it.
 */
#include <sys/statvfs.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_tree.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "queue_api.h"
#include "smtpd.h"
#include "spool_space.h"
#include "xmalloc.h"

struct dispatcher_req {
	enum dispatcher_req_kind kind;
	dispatcher_req_fn	 done;
	void			*arg;
	size_t			 nenvelopes;	/* EXPAND: so far */
};

static struct tree	dispatcher_reqs;
static uint64_t		dispatcher_req_last;

#define DISPATCHER_POOL_MAX	4
#define DISPATCHER_POOL_PAUSE	1

static struct {
	uint32_t	msgid[DISPATCHER_POOL_MAX];
	int		fd[DISPATCHER_POOL_MAX];
	size_t		n;
	size_t		asked;		/* creates not answered yet */
	time_t		paused;		/* a create failed then */
} dispatcher_pool;

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

/* dispatcher_pool_on_created - a message made ahead, or a failure */
static void
dispatcher_pool_on_created(void *arg, const struct dispatcher_req_answer *a)
{
	(void)arg;
	dispatcher_pool.asked--;
	if (a->r != QUEUE_OK) {
		dispatcher_pool.paused = time(NULL);
		return;
	}
	if (dispatcher_pool.n == DISPATCHER_POOL_MAX) {	/* never, but */
		close(a->fd);
		msg_send_queue_delete_message(env->peers[PROC_QUEUE],
		    &(struct msg_queue_delete_message){ .msgid = a->msgid });
		return;
	}
	dispatcher_pool.msgid[dispatcher_pool.n] = a->msgid;
	dispatcher_pool.fd[dispatcher_pool.n++] = a->fd;
}

/* dispatcher_pool_fill - ask for what the pool lacks */
static void
dispatcher_pool_fill(void)
{
	if (dispatcher_pool.paused != 0) {
		if (time(NULL) - dispatcher_pool.paused <
		    DISPATCHER_POOL_PAUSE)
			return;
		dispatcher_pool.paused = 0;
	}
	/* asked in halves: the queue reads several creates at a time */
	if (dispatcher_pool.n + dispatcher_pool.asked >
	    DISPATCHER_POOL_MAX / 2)
		return;
	while (dispatcher_pool.n + dispatcher_pool.asked <
	    DISPATCHER_POOL_MAX) {
		dispatcher_pool.asked++;
		dispatcher_req_create_message(dispatcher_pool_on_created,
		    NULL);
	}
}

/* dispatcher_pool_low - the spool is too full for new mail, as the
 * queue judges it (fs backend only; asked at most once a second) */
static int
dispatcher_pool_low(void)
{
	static time_t	last;
	static int	low;
	struct statvfs	sv;
	time_t		now;

	if (strcmp(env->opts.queue_backend, "fs") != 0)
		return 0;
	if ((now = time(NULL)) != last) {
		last = now;
		low = fstatvfs(dispatcher_pool.fd[dispatcher_pool.n - 1],
		    &sv) == 0 && spool_space_low(&sv);
	}
	return low;
}

int
dispatcher_req_take_message(uint32_t *msgid, int *fdp)
{
	if (dispatcher_pool.n == 0) {
		dispatcher_pool_fill();
		return -1;
	}
	if (dispatcher_pool_low())
		return -1;	/* the queue says 452 */
	dispatcher_pool.n--;
	*msgid = dispatcher_pool.msgid[dispatcher_pool.n];
	*fdp = dispatcher_pool.fd[dispatcher_pool.n];
	dispatcher_pool_fill();
	return 0;
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
