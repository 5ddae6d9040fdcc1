/*
 * scheduler_admin.c -- the scheduler's side of the smtpctl queue verbs:
 * schedule, remove, pause and resume envelopes (CTL-13/16/17), the
 * listing behind `show queue` (CTL-01) and pause of the mda and mta
 * agents (CTL-12).
 *
 * Runs in the scheduler process; control asks, with a request id that
 * every answer carries back.  One id (an evpid, or a msgid: every
 * envelope of the message) is one backend call.  "all" walks the
 * backend's messages in chunks, one chunk per turn of the event loop,
 * so the scheduler keeps handing out work meanwhile.  A listing is one
 * chunk of runtime states per request, passed to the queue, which adds
 * what is stored and answers control: nothing here holds more than one
 * chunk.  Never fatal: a backend that does not answer is a refusal with
 * its reason.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "scheduler.h"
#include "scheduler_proc.h"
#include "smtpd.h"
#include "stats.h"

_Static_assert(sizeof(struct evpstate) == IMSG_EVPSTATE_SIZE,
    "IMSG_EVPSTATE_SIZE is struct evpstate");

/* envelopes listed per request: their lines fit one answer of the queue */
#define SCHEDULER_LIST_CHUNK	64
/* messages changed per turn of the loop by "all" */
#define SCHEDULER_CHANGE_CHUNK	128

/* one "all" change in progress */
struct scheduler_change {
	uint64_t	 reqid;
	int		 op;		/* CHANGE_* */
	uint32_t	 from;		/* the next msgid to ask for */
	int		 more;		/* the backend may have more */
	uint64_t	 n;		/* messages changed */
	size_t		 outstanding;	/* calls not answered */
	int		 issuing;	/* inside the loop making them */
	int		 failed;
};

static void	scheduler_admin_change_next(evutil_socket_t, short, void *);

/* scheduler_admin_host - the process's backend host */
static struct scheduler_host *
scheduler_admin_host(void)
{
	return env->state;
}

/* scheduler_admin_fail - refuse control's request REQID */
static void
scheduler_admin_fail(uint64_t reqid, const char *reason)
{
	msg_send_proc_admin_fail(env->peers[PROC_CONTROL],
	    &(struct msg_proc_admin_fail){ .reqid = reqid, .reason = reason });
}

/* scheduler_admin_call_type - the backend request of a CHANGE_* */
static uint32_t
scheduler_admin_call_type(int op)
{
	switch (op) {
	case CHANGE_SCHEDULE:
		return PROC_SCHEDULER_SCHEDULE;
	case CHANGE_REMOVE:
		return PROC_SCHEDULER_REMOVE;
	case CHANGE_SUSPEND:
		return PROC_SCHEDULER_SUSPEND;
	default:
		return PROC_SCHEDULER_RESUME;
	}
}

/* scheduler_admin_op_name - a CHANGE_* for the logs */
static const char *
scheduler_admin_op_name(int op)
{
	switch (op) {
	case CHANGE_SCHEDULE:
		return "schedule";
	case CHANGE_REMOVE:
		return "remove";
	case CHANGE_SUSPEND:
		return "pause";
	default:
		return "resume";
	}
}

/* scheduler_admin_changed - work may be due now: batch */
static void
scheduler_admin_changed(int op)
{
	if (op != CHANGE_SUSPEND)
		scheduler_work_wake();
}

/* scheduler_admin_on_one - the answer for one id */
static void
scheduler_admin_on_one(void *arg, struct scheduler_msg *reply)
{
	struct scheduler_change	*ch = arg;

	if (reply->tempfail)
		scheduler_admin_fail(ch->reqid, "scheduler backend "
		    "unavailable, try again");
	else if (reply->r <= 0)
		scheduler_admin_fail(ch->reqid, ch->op == CHANGE_SCHEDULE ||
		    ch->op == CHANGE_REMOVE ? "no such envelope, or not "
		    "pending (in delivery now)" : ch->op == CHANGE_SUSPEND ?
		    "no such envelope, or already paused" :
		    "no such envelope, or not paused");
	else {
		scheduler_admin_changed(ch->op);
		msg_send_scheduler_change_envelopes_result(
		    env->peers[PROC_CONTROL],
		    &(struct msg_scheduler_change_envelopes_result){
		    .reqid = ch->reqid, .n = 1 });
	}
	free(ch);
}

/* scheduler_admin_change_done - "all" is over: answer, forget */
static void
scheduler_admin_change_done(struct scheduler_change *ch)
{
	if (ch->failed)
		scheduler_admin_fail(ch->reqid, "scheduler backend "
		    "unavailable, the change is incomplete");
	else
		msg_send_scheduler_change_envelopes_result(
		    env->peers[PROC_CONTROL],
		    &(struct msg_scheduler_change_envelopes_result){
		    .reqid = ch->reqid, .n = ch->n });
	log_info("0000000000000000 scheduler change op=%s id=all messages=%"
	    PRIu64 "%s", scheduler_admin_op_name(ch->op), ch->n,
	    ch->failed ? " incomplete" : "");
	scheduler_admin_changed(ch->op);
	free(ch);
}

/* scheduler_admin_chunk_over - every call of a chunk answered: the
 * next chunk on the next turn */
static void
scheduler_admin_chunk_over(struct scheduler_change *ch)
{
	struct timeval	tv = { 0, 0 };

	if (ch->failed || !ch->more) {
		scheduler_admin_change_done(ch);
		return;
	}
	if (event_base_once(env->evb, -1, EV_TIMEOUT,
	    scheduler_admin_change_next, ch, &tv) == -1) {
		ch->failed = 1;
		scheduler_admin_change_done(ch);
	}
}

/* scheduler_admin_on_all_one - one message of "all" changed, or not */
static void
scheduler_admin_on_all_one(void *arg, struct scheduler_msg *reply)
{
	struct scheduler_change	*ch = arg;

	ch->outstanding--;
	if (reply->tempfail)
		ch->failed = 1;
	else if (reply->r > 0)
		ch->n++;
	if (!ch->issuing && ch->outstanding == 0)
		scheduler_admin_chunk_over(ch);
}

/* scheduler_admin_on_messages - a chunk of msgids: change each */
static void
scheduler_admin_on_messages(void *arg, struct scheduler_msg *reply)
{
	struct scheduler_change	*ch = arg;
	struct scheduler_msg	 req;
	size_t			 i;

	if (reply->tempfail) {
		ch->failed = 1;
		scheduler_admin_chunk_over(ch);
		return;
	}
	ch->more = reply->count == SCHEDULER_CHANGE_CHUNK &&
	    reply->msgids[reply->count - 1] != UINT32_MAX;
	if (reply->count > 0)
		ch->from = reply->msgids[reply->count - 1] + 1;
	ch->issuing = 1;
	for (i = 0; i < reply->count; i++) {
		memset(&req, 0, sizeof req);
		req.type = scheduler_admin_call_type(ch->op);
		req.id = reply->msgids[i];
		ch->outstanding++;
		scheduler_host_call(scheduler_admin_host(), &req,
		    scheduler_admin_on_all_one, ch);
	}
	ch->issuing = 0;
	if (ch->outstanding == 0)
		scheduler_admin_chunk_over(ch);
}

static void
scheduler_admin_change_next(evutil_socket_t fd, short ev, void *arg)
{
	struct scheduler_change	*ch = arg;
	struct scheduler_msg	 req;

	memset(&req, 0, sizeof req);
	req.type = PROC_SCHEDULER_MESSAGES;
	req.msgid = ch->from;
	req.count = SCHEDULER_CHANGE_CHUNK;
	scheduler_host_call(scheduler_admin_host(), &req,
	    scheduler_admin_on_messages, ch);
}

void
scheduler_on_change_envelopes(struct mproc *p, struct imsg *imsg)
{
	struct msg_scheduler_change_envelopes	 m;
	struct scheduler_change			*ch;
	struct scheduler_msg			 req;

	if (msg_unpack_scheduler_change_envelopes(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((ch = calloc(1, sizeof *ch)) == NULL) {
		scheduler_admin_fail(m.reqid, "out of memory");
		return;
	}
	ch->reqid = m.reqid;
	ch->op = m.op;
	if (m.all) {
		scheduler_admin_change_next(-1, 0, ch);
		return;
	}
	memset(&req, 0, sizeof req);
	req.type = scheduler_admin_call_type(m.op);
	req.id = m.id;
	log_info("0000000000000000 scheduler change op=%s id=%0*" PRIx64,
	    scheduler_admin_op_name(m.op), m.id > UINT32_MAX ? 16 : 8, m.id);
	scheduler_host_call(scheduler_admin_host(), &req,
	    scheduler_admin_on_one, ch);
}

/* scheduler_admin_on_reschedule - the relay's reschedule done, or the
 * envelope was not waiting (gone, or in delivery already): nothing */
static void
scheduler_admin_on_reschedule(void *arg, struct scheduler_msg *reply)
{
	(void)arg;
	if (!reply->tempfail && reply->r > 0)
		scheduler_work_wake();
}

/* scheduler_on_reschedule - an envelope the relay deferred, to try now
 * that its domain took mail again (MTA-16), as `smtpctl schedule` */
void
scheduler_on_reschedule(struct mproc *p, struct imsg *imsg)
{
	struct msg_scheduler_reschedule	m;
	struct scheduler_msg		req;

	if (msg_unpack_scheduler_reschedule(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	memset(&req, 0, sizeof req);
	req.type = PROC_SCHEDULER_SCHEDULE;
	req.id = m.evpid;
	scheduler_host_call(scheduler_admin_host(), &req,
	    scheduler_admin_on_reschedule, NULL);
}

/* one listing request: which, and where it ends */
struct scheduler_list {
	uint64_t	reqid;
	uint32_t	msgid;		/* 0: every message */
};

/* scheduler_admin_on_envelopes - a chunk of states to the queue */
static void
scheduler_admin_on_envelopes(void *arg, struct scheduler_msg *reply)
{
	struct scheduler_list	*l = arg;
	struct evpstate		 none;
	size_t			 n;
	uint64_t		 next = 0;

	if (reply->tempfail) {
		scheduler_admin_fail(l->reqid, "scheduler backend "
		    "unavailable, try again");
		free(l);
		return;
	}
	for (n = 0; n < reply->count; n++)
		if (l->msgid != 0 &&
		    reply->states[n].evpid >> 32 != l->msgid)
			break;
	if (n == SCHEDULER_LIST_CHUNK &&
	    reply->states[n - 1].evpid != UINT64_MAX)
		next = reply->states[n - 1].evpid + 1;
	memset(&none, 0, sizeof none);
	msg_send_queue_list_envelopes(env->peers[PROC_QUEUE],
	    &(struct msg_queue_list_envelopes){ .reqid = l->reqid,
	    .next = next, .states = n ? (void *)reply->states : &none,
	    .states_len = (n ? n : 1) * sizeof none });
	free(l);
}

void
scheduler_on_list_envelopes(struct mproc *p, struct imsg *imsg)
{
	struct msg_scheduler_list_envelopes	 m;
	struct scheduler_list			*l;
	struct scheduler_msg			 req;

	if (msg_unpack_scheduler_list_envelopes(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((l = calloc(1, sizeof *l)) == NULL) {
		scheduler_admin_fail(m.reqid, "out of memory");
		return;
	}
	l->reqid = m.reqid;
	l->msgid = m.msgid;
	memset(&req, 0, sizeof req);
	req.type = PROC_SCHEDULER_ENVELOPES;
	req.id = m.from;
	if (m.msgid != 0 && m.from < (uint64_t)m.msgid << 32)
		req.id = (uint64_t)m.msgid << 32;
	req.count = SCHEDULER_LIST_CHUNK;
	scheduler_host_call(scheduler_admin_host(), &req,
	    scheduler_admin_on_envelopes, l);
}

void
scheduler_on_pause(struct mproc *p, struct imsg *imsg)
{
	struct msg_proc_pause	m;

	if (msg_unpack_proc_pause(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	/* smtp is the dispatcher's alone; mda and mta work stays here */
	if (m.what != PAUSE_SMTP)
		scheduler_work_pause(m.what, m.pause);
	msg_send_proc_pause_result(p, &(struct msg_proc_pause_result){
	    .reqid = m.reqid });
}
