/*
 * queue_delivery.c -- the work the scheduler hands out, and what became
 * of each delivery.
 *
 * Runs in the queue process, on its loop.  For a delivery (SCHED_MDA,
 * SCHED_MTA) it loads the envelope and opens the body and hands both to
 * the dispatcher; if either cannot be had, that attempt is a temporary
 * failure decided here.  A bounce envelope (SCHED_BOUNCE) goes the same
 * way, to the dispatcher's bounce agent.  An expiry, a permanent
 * failure and a success with NOTIFY=SUCCESS become bounce envelopes
 * when a report is owed (queue_bounce.c), else they are deleted; a
 * removal is deleted.  The outcome of
 * each attempt updates or deletes the stored envelope, then the
 * scheduler is told (retry count and last try with a temporary
 * failure).  Every outcome is one log line:
 *   0000000000000000 queue delivery evpid=<16 hex>
 *   status=<ok|tempfail|permfail|loop|expired|bounce|removed|gone>
 *   retry=N error="..."
 * Nothing here is fatal: a storage failure is logged, and an envelope
 * that can no longer be read is reported gone so that the scheduler
 * forgets it.  Whether a success owes a notice (NOTIFY=SUCCESS) is
 * noted when the envelope is handed out, so that the common success,
 * which owes none, deletes it without reading it again.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "queue.h"
#include "queue_backend.h"
#include "scheduler_api.h"
#include "smtpd.h"

/* the longest error text a log line quotes */
#define QUEUE_DELIVERY_LOG_ERROR_MAX	256

/* the envelopes handed out whose success owes no notice: evpid -> NULL
 * (an envelope not found here is read again to know) */
static struct tree	queue_no_notice;
static int		queue_no_notice_init;

/* queue_delivery_note - EVP goes to the dispatcher: note whether its
 * success owes a notice */
static void
queue_delivery_note(const struct envelope *evp)
{
	int	err = 0;

	if (!queue_no_notice_init) {
		api_tree_init(&queue_no_notice);
		queue_no_notice_init = 1;
	}
	if (queue_bounce_wanted(evp, BOUNCE_DELIVERED) != NULL)
		(void)api_tree_set(&queue_no_notice, evp->evpid, NULL, &err);
	/* out of memory: not noted, read again at the end */
}

/* queue_delivery_unnote - EVPID's attempt is over: 1 if it was noted
 * as owing no success notice */
static int
queue_delivery_unnote(uint64_t evpid)
{
	if (!queue_no_notice_init || !api_tree_check(&queue_no_notice, evpid))
		return 0;
	(void)api_tree_pop(&queue_no_notice, evpid);
	return 1;
}

/* queue_delivery_log - the one line of an outcome; ERROR made printable */
static void
queue_delivery_log(uint64_t evpid, const char *status, unsigned int retry,
    const char *error)
{
	char	safe[QUEUE_DELIVERY_LOG_ERROR_MAX];
	size_t	i;

	(void)snprintf(safe, sizeof safe, "%s", error != NULL ? error : "");
	for (i = 0; safe[i] != '\0'; i++)
		if (!isprint((unsigned char)safe[i]) || safe[i] == '"' ||
		    safe[i] == '\\')
			safe[i] = '?';
	log_info(QUEUE_LOG_ID " queue delivery evpid=%016" PRIx64
	    " status=%s retry=%u error=\"%s\"", evpid, status, retry, safe);
}

/*
 * The envelopes whose life ended in one turn of the loop are deleted
 * together at its end (queue_delete_envelopes: the fsyncs they share,
 * the bucket a run of deliveries empties above all, are done once and
 * side by side, not once per delivery while the loop waits), then each
 * is logged and the scheduler told.
 */
#define QUEUE_DROP_BATCH_MAX	256

struct queue_drop {
	uint64_t	evpid;
	int		status;
	int		tell;
	const char	*label;		/* a literal */
	char		error[QUEUE_DELIVERY_LOG_ERROR_MAX];
};

static struct queue_drop	queue_drops[QUEUE_DROP_BATCH_MAX];
static size_t			queue_ndrops;
static struct event		*queue_drops_ev;

/* queue_delivery_drops_flush - delete what ended, then say so */
static void
queue_delivery_drops_flush(void)
{
	uint64_t	evpids[QUEUE_DROP_BATCH_MAX];
	int		results[QUEUE_DROP_BATCH_MAX];
	size_t		i, n = queue_ndrops;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		evpids[i] = queue_drops[i].evpid;
	(void)queue_delete_envelopes(n, evpids, results);
	queue_ndrops = 0;
	for (i = 0; i < n; i++) {
		if (results[i] < 0)
			log_warnx("queue: evpid=%016" PRIx64 " not deleted "
			    "r=%d, it comes back at the next start",
			    evpids[i], results[i]);
		queue_delivery_log(evpids[i], queue_drops[i].label, 0,
		    queue_drops[i].error);
		if (queue_drops[i].tell)
			queue_tell_scheduler_result(evpids[i],
			    queue_drops[i].status, 0, 0);
	}
}

static void
queue_delivery_on_drops(evutil_socket_t fd, short ev, void *arg)
{
	queue_delivery_drops_flush();
}

/*
 * queue_delivery_drop - the envelope's life ends with STATUS (LABEL in
 * the log): delete it (the last one takes its message) at the end of
 * this turn, with the others that ended in it, then tell the scheduler
 * unless TELL is 0.  A failed delete is logged: the envelope stays
 * stored and comes back at the next start (a duplicate, never a loss).
 */
static void
queue_delivery_drop(uint64_t evpid, int status, const char *label,
    const char *error, int tell)
{
	struct queue_drop	*d;

	if (queue_drops_ev == NULL && (queue_drops_ev = event_new(env->evb,
	    -1, 0, queue_delivery_on_drops, NULL)) == NULL)
		fatal("queue: event_new");
	if (queue_ndrops == QUEUE_DROP_BATCH_MAX)
		queue_delivery_drops_flush();
	d = &queue_drops[queue_ndrops++];
	d->evpid = evpid;
	d->status = status;
	d->tell = tell;
	d->label = label;
	(void)snprintf(d->error, sizeof d->error, "%s",
	    error != NULL ? error : "");
	if (queue_ndrops == 1)
		event_active(queue_drops_ev, 0, 0);
}

/*
 * queue_delivery_tempfail - an attempt failed for now: the stored
 * envelope gets retry + 1, lasttry = now and the error line, and the
 * scheduler schedules it again.  An envelope that is gone (deleted, or
 * set aside as corrupt by the load) is reported gone instead.
 */
static void
queue_delivery_tempfail(uint64_t evpid, const char *error)
{
	struct envelope	*evp;
	time_t		 now = time(NULL);
	unsigned int	 retry = 0;
	int		 r = QUEUE_TEMPFAIL;

	if ((evp = envelope_new()) != NULL &&
	    (r = queue_load_envelope(evpid, evp)) == QUEUE_OK) {
		if (evp->retry < UINT16_MAX)
			evp->retry++;
		evp->lasttry = now;
		/* a bounce envelope keeps the error its report is about */
		if (evp->type != ENVELOPE_BOUNCE) {
			envelope_set_errorline(evp, "%s", error);
			(void)queue_bounce_delay(evp, now);
		}
		if (queue_update_envelope(evp) != QUEUE_OK)
			log_warnx("queue: evpid=%016" PRIx64 " retry state "
			    "not stored", evpid);
		retry = evp->retry;
	}
	envelope_free(&evp);
	if (r == QUEUE_NOTFOUND) {
		queue_delivery_log(evpid, "gone", 0, error);
		queue_tell_scheduler_result(evpid, DELIVERY_PERMFAIL, 0, 0);
		return;
	}
	queue_delivery_log(evpid, "tempfail", retry, error);
	queue_tell_scheduler_result(evpid, DELIVERY_TEMPFAIL, retry,
	    (uint64_t)now);
}

/* queue_delivery_start - envelope and body to the dispatcher */
static void
queue_delivery_start(uint64_t evpid)
{
	struct envelope	*evp;
	char		 text[ENVELOPE_TEXT_MAX + 1];
	const char	*why = NULL;
	int		 fd = -1, len = 0;

	if ((evp = envelope_new()) == NULL)
		why = "out of memory";
	else if (queue_load_envelope(evpid, evp) != QUEUE_OK)
		why = "envelope cannot be loaded";
	else if (queue_open_message_read(evpid_to_msgid(evpid), &fd) !=
	    QUEUE_OK)
		why = "message cannot be opened";
	else if ((len = envelope_dump(evp, text, sizeof text)) <= 0)
		why = "envelope cannot be written";
	else
		queue_delivery_note(evp);
	envelope_free(&evp);
	if (why != NULL) {
		if (fd != -1)
			close(fd);
		queue_delivery_tempfail(evpid, why);
		return;
	}
	log_debug("queue: evpid=%016" PRIx64 " to the dispatcher", evpid);
	msg_send_dispatcher_deliver_envelope(env->peers[PROC_DISPATCHER],
	    &(struct msg_dispatcher_deliver_envelope){ .evpid = evpid,
	    .fd = fd, .envelope = text, .envelope_len = (size_t)len });
}

void
queue_on_deliver_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_deliver_envelope	m;

	if (msg_unpack_queue_deliver_envelope(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	switch (m.action) {
	case SCHED_MDA:
	case SCHED_MTA:
	case SCHED_BOUNCE:
		queue_delivery_start(m.evpid);
		break;
	case SCHED_EXPIRE:
		/* the scheduler already forgot it */
		queue_bounce_expired(m.evpid);
		break;
	case SCHED_REMOVE:
		/* the scheduler already forgot it */
		queue_delivery_drop(m.evpid, DELIVERY_OK, "removed",
		    "Removed by the operator", 0);
		break;
	default:
		log_warnx("queue: evpid=%016" PRIx64 " unknown action %d "
		    "from the scheduler, ignored", m.evpid, m.action);
	}
}

void
queue_on_delivery_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_delivery_result	m;
	int					r, no_notice;

	if (msg_unpack_queue_delivery_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	no_notice = queue_delivery_unnote(m.evpid);
	if (m.status == DELIVERY_TEMPFAIL) {
		queue_delivery_tempfail(m.evpid, m.error);
		return;
	}
	/* a report owed first: the envelope stays until it is queued.  A
	 * success relayed to a next hop that took the DSN request on owes
	 * none: that hop reports (RFC 3461 4.3, MTA-18) */
	if (m.status == DELIVERY_OK && (m.relay_dsn == 1 || no_notice))
		r = 0;
	else
		r = queue_bounce_make(m.evpid, m.status != DELIVERY_OK ?
		    BOUNCE_FAILED : m.relay_dsn == -1 ? BOUNCE_RELAYED :
		    BOUNCE_DELIVERED, m.status, m.error, 1);
	if (r > 0) {
		queue_delivery_log(m.evpid, m.status == DELIVERY_OK ? "ok" :
		    m.status == DELIVERY_LOOP ? "loop" : "permfail", 0,
		    m.error);
		return;
	}
	if (r < 0 && m.status != DELIVERY_OK) {
		/* kept as it was: failed again later, reported then */
		queue_delivery_tempfail(m.evpid, m.error);
		return;
	}
	if (r < 0)	/* delivered: never again for a lost notice */
		log_warnx("queue: evpid=%016" PRIx64 " success notice not "
		    "stored, dropped", m.evpid);
	queue_delivery_drop(m.evpid, m.status, m.status == DELIVERY_OK ?
	    "ok" : m.status == DELIVERY_LOOP ? "loop" : "permfail", m.error,
	    1);
}
