/*
 * queue.c -- the queue process: the persistent queue of messages and envelopes.
 *
 * Runs as smtpd -x queue, chrooted into the spool and unprivileged when
 * started as root (see proc.c).  Once configured it opens its storage
 * backend, which makes its own layout below the spool root as the queue
 * user (the parent makes only the root; an unusable spool is fatal
 * there, at start-up), and recovers what a crash left.  Once every
 * process runs, it walks the queue to rebuild the scheduler
 * (queue_reload.c).  Then it receives messages from the dispatcher
 * (queue_incoming.c) and carries out the work the scheduler hands out
 * (queue_delivery.c).  It must never trust a message from a process
 * that the catalogue (imsg.h) does not route to it, and never dies of a
 * storage failure: that is a temporary failure, logged.
 */
#include <stddef.h>
#include <stdlib.h>

#include "api_log.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "queue.h"
#include "queue_backend.h"
#include "smtpd.h"
#include "stats.h"


static const struct imsg_handler queue_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_QUEUE_CREATE_MESSAGE, PROC_DISPATCHER,
	    queue_on_create_message },
	{ IMSG_QUEUE_SUBMIT_ENVELOPE, PROC_DISPATCHER,
	    queue_on_submit_envelope },
	{ IMSG_QUEUE_COMMIT_MESSAGE, PROC_DISPATCHER,
	    queue_on_commit_message },
	{ IMSG_QUEUE_DELETE_MESSAGE, PROC_DISPATCHER,
	    queue_on_delete_message },
	{ IMSG_QUEUE_RESCHEDULE, PROC_DISPATCHER, queue_on_reschedule },
	{ IMSG_QUEUE_DELIVER_ENVELOPE, PROC_SCHEDULER,
	    queue_on_deliver_envelope },
	{ IMSG_QUEUE_DELIVERY_RESULT, PROC_DISPATCHER,
	    queue_on_delivery_result },
	{ IMSG_QUEUE_LIST_ENVELOPES, PROC_SCHEDULER, queue_on_list_envelopes },
	{ IMSG_QUEUE_SHOW_ENVELOPE, PROC_CONTROL, queue_on_show_envelope },
	{ IMSG_QUEUE_SHOW_MESSAGE, PROC_CONTROL, queue_on_show_message },
	{ IMSG_PROC_GET_STATS, PROC_CONTROL, stats_on_get_stats },
};

const struct imsg_handler *
queue_imsg_handlers(size_t *n)
{
	*n = sizeof queue_handlers / sizeof queue_handlers[0];
	return queue_handlers;
}

void
queue_envelope_schedule(const struct envelope *evp,
    struct msg_scheduler_insert_envelope *m)
{
	*m = (struct msg_scheduler_insert_envelope){
	    .evpid = evp->evpid, .type = (int32_t)evp->type,
	    .retry = evp->retry, .creation = (uint64_t)evp->creation,
	    .ttl = (uint64_t)evp->ttl, .lasttry = (uint64_t)evp->lasttry,
	    .lastbounce = (uint64_t)evp->lastbounce };
}

void
queue_tell_scheduler_insert(const struct msg_scheduler_insert_envelope *m)
{
	msg_send_scheduler_insert_envelope(env->peers[PROC_SCHEDULER], m);
}

void
queue_tell_scheduler_commit(uint32_t msgid)
{
	msg_send_scheduler_commit_message(env->peers[PROC_SCHEDULER],
	    &(struct msg_scheduler_commit_message){ .msgid = msgid });
}

void
queue_tell_scheduler_result(uint64_t evpid, int status, uint32_t retry,
    uint64_t lasttry)
{
	msg_send_scheduler_delivery_result(env->peers[PROC_SCHEDULER],
	    &(struct msg_scheduler_delivery_result){ .evpid = evpid,
	    .status = status, .retry = retry, .lasttry = lasttry });
}

/* queue_on_reschedule - the relay asks for an envelope it deferred to be
 * tried now (MTA-16): the scheduler's business, passed on */
void
queue_on_reschedule(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_reschedule	m;

	if (msg_unpack_queue_reschedule(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	msg_send_scheduler_reschedule(env->peers[PROC_SCHEDULER],
	    &(struct msg_scheduler_reschedule){ .evpid = m.evpid });
}

/* queue_on_config - open the storage (the spool is "/" once chrooted)
 * and set right what a crash left */
static void
queue_on_config(void)
{
	const char		*root = env->privsep ? "/" : env->opts.spool;
	struct queue_recovery	 rec;

	/* every level goes to our log, which filters debug itself */
	api_log_set_sink(log_api_line);
	api_log_verbose(1);
	if (queue_backend_init(env->opts.queue_backend, root) == -1)
		fatalx("queue: spool %s unusable", env->opts.spool);
	queue_evpcache_init(QUEUE_EVPCACHE_MAX);
	if (queue_recover(&rec) != QUEUE_OK)
		log_warnx("queue: recovery incomplete, the walk goes on");
	log_info(QUEUE_LOG_ID " queue recovered incoming=%zu temporary=%zu "
	    "purged=%zu empty=%zu corrupt=%zu", rec.incoming, rec.temporary,
	    rec.purged, rec.empty, rec.corrupt);
	queue_incoming_init(env->evb, QUEUE_COMMIT_WINDOW_MS);
}

/* queue_on_reloaded - the scheduler knows every envelope of the spool */
static void
queue_on_reloaded(size_t n)
{
	log_info(QUEUE_LOG_ID " queue reloaded envelopes=%zu", n);
}

/* queue_on_start - every process runs: rebuild the scheduler */
static void
queue_on_start(void)
{
	queue_reload_start(env->evb, queue_on_reloaded);
}

/* queue_on_stop - the parent's order to stop: a batch on the commit
 * thread is let finish, then the storage is closed (the fs backend
 * retires its commit journal, so the next start has nothing to replay) */
static void
queue_on_stop(void)
{
	queue_incoming_free();
	queue_backend_close();
	exit(0);
}

int
queue_main(void)
{
	proc_child_on_stop(queue_on_stop);
	proc_child_init(PROC_QUEUE, queue_handlers,
	    sizeof queue_handlers / sizeof queue_handlers[0], queue_on_config,
	    queue_on_start);
	proc_child_loop();
}
