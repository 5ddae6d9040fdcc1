/*
 * scheduler_work.c -- the scheduler's work: envelopes in from the queue,
 * deliveries out to it, and their outcomes.
 *
 * Runs in the scheduler process, on its loop.  INSERT and COMMIT go to
 * the backend; a commit wakes the batch loop.  The loop is one timer:
 * when it fires it asks the backend for due work (every SCHED_* type),
 * at most batch-size entries and never more than max-inflight
 * deliveries out, and hands each evpid to the queue as DELIVER_ENVELOPE;
 * then it runs again on the next turn, or sleeps for the delay the
 * backend gave, or until woken (a commit, an outcome).  An outcome
 * deletes the envelope (done, failed for good) or updates it (a
 * temporary failure: the backend computes the next try, growing with
 * the retry count); either way its in-flight slot is free.  A backend
 * that does not answer (a helper) is retried after SCHEDULER_RETRY_MS.
 * Never fatal after start-up.  A paused agent (smtpctl pause mda|mta,
 * smtpd -P) gets no work of its kind until resumed: its envelopes stay
 * pending here (scheduler_admin.c serves the other smtpctl verbs).
 * The state is private to this module (init, free).
 */
#include <sys/tree.h>

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

/* every kind of work a batch may hand out */
#define SCHEDULER_TYPEMASK_ALL	(SCHED_REMOVE | SCHED_EXPIRE | SCHED_UPDATE | \
				 SCHED_BOUNCE | SCHED_MDA | SCHED_MTA)
/* the kinds that come back with an outcome */
#define SCHEDULER_TYPEMASK_OUT	(SCHED_BOUNCE | SCHED_MDA | SCHED_MTA)

/* a delivery handed out, until its outcome */
struct scheduler_inflight {
	RB_ENTRY(scheduler_inflight)	 entry;
	uint64_t			 evpid;
};

static int
scheduler_inflight_cmp(struct scheduler_inflight *a,
    struct scheduler_inflight *b)
{
	return a->evpid < b->evpid ? -1 : a->evpid > b->evpid;
}

RB_HEAD(scheduler_inflights, scheduler_inflight);
/* not _STATIC: libbsd's tree.h marks those with an undefined __unused */
RB_PROTOTYPE(scheduler_inflights, scheduler_inflight, entry,
    scheduler_inflight_cmp)
RB_GENERATE(scheduler_inflights, scheduler_inflight, entry,
    scheduler_inflight_cmp)

static struct {
	struct scheduler_host	*host;
	struct event		*timer;
	struct scheduler_inflights inflight;
	size_t			 ninflight;
	size_t			 max_inflight;
	size_t			 batch_size;
	int			 calling;	/* a BATCH is out */
	int			 woken;		/* woken meanwhile */
	int			 paused;	/* SCHED_MDA, SCHED_MTA */
} scheduler_work;

static const struct timeval	scheduler_zero = { 0, 0 };

static void	scheduler_work_on_timer(evutil_socket_t, short, void *);

/* scheduler_work_clamp - a configured limit in 1..MAX */
static size_t
scheduler_work_clamp(long long v, size_t max)
{
	if (v < 1)
		return 1;
	return (unsigned long long)v > max ? max : (size_t)v;
}

void
scheduler_work_init(struct event_base *base, struct scheduler_host *host,
    long long max_inflight, long long batch_size)
{
	memset(&scheduler_work, 0, sizeof scheduler_work);
	scheduler_work.host = host;
	RB_INIT(&scheduler_work.inflight);
	scheduler_work.max_inflight = scheduler_work_clamp(max_inflight,
	    SIZE_MAX);
	scheduler_work.batch_size = scheduler_work_clamp(batch_size,
	    SCHEDULER_API_BATCH_MAX);
	if ((scheduler_work.timer = evtimer_new(base, scheduler_work_on_timer,
	    NULL)) == NULL)
		fatalx("scheduler: cannot make the batch timer"); /* start-up */
}

void
scheduler_work_free(void)
{
	struct scheduler_inflight	*f;

	if (scheduler_work.timer != NULL)
		event_free(scheduler_work.timer);
	scheduler_work.timer = NULL;
	while ((f = RB_ROOT(&scheduler_work.inflight)) != NULL) {
		RB_REMOVE(scheduler_inflights, &scheduler_work.inflight, f);
		free(f);
	}
	scheduler_work.ninflight = 0;
	scheduler_work.host = NULL;
}

void
scheduler_work_pause(unsigned int what, int pause)
{
	int	bits = ((what & PAUSE_MDA) ? SCHED_MDA : 0) |
		    ((what & PAUSE_MTA) ? SCHED_MTA : 0);

	if (pause)
		scheduler_work.paused |= bits;
	else
		scheduler_work.paused &= ~bits;
	log_info("0000000000000000 scheduler %s what=%s%s%s", pause ?
	    "pause" : "resume", (bits & SCHED_MDA) ? "mda" : "",
	    bits == (SCHED_MDA | SCHED_MTA) ? "," : "",
	    (bits & SCHED_MTA) ? "mta" : "");
	if (!pause && scheduler_work.timer != NULL)
		scheduler_work_wake();
}

size_t
scheduler_work_inflight(void)
{
	return scheduler_work.ninflight;
}

/* scheduler_work_landed - EVPID's outcome came: its slot is free */
static void
scheduler_work_landed(uint64_t evpid)
{
	struct scheduler_inflight	key, *f;

	key.evpid = evpid;
	if ((f = RB_FIND(scheduler_inflights, &scheduler_work.inflight,
	    &key)) == NULL)
		return;		/* not handed out by us, or not counted */
	RB_REMOVE(scheduler_inflights, &scheduler_work.inflight, f);
	free(f);
	scheduler_work.ninflight--;
}

void
scheduler_work_wake(void)
{
	if (scheduler_work.calling) {
		scheduler_work.woken = 1;
		return;
	}
	evtimer_add(scheduler_work.timer, &scheduler_zero);
}

/* scheduler_work_sleep - the next batch in DELAY seconds; -1: when woken */
static void
scheduler_work_sleep(int delay)
{
	struct timeval	tv = { delay, 0 };

	if (scheduler_work.woken || delay == 0)
		evtimer_add(scheduler_work.timer, &scheduler_zero);
	else if (delay > 0)
		evtimer_add(scheduler_work.timer, &tv);
	else
		evtimer_del(scheduler_work.timer);
	scheduler_work.woken = 0;
}

/* scheduler_work_hand_out - one entry of a batch to the queue */
static void
scheduler_work_hand_out(uint64_t evpid, int type)
{
	struct scheduler_inflight	*f;

	if (type & SCHEDULER_TYPEMASK_OUT) {
		if ((f = calloc(1, sizeof *f)) == NULL)
			log_warn("scheduler: evpid=%016" PRIx64 " in flight, "
			    "not counted", evpid);
		else {
			f->evpid = evpid;
			if (RB_INSERT(scheduler_inflights,
			    &scheduler_work.inflight, f) == NULL)
				scheduler_work.ninflight++;
			else
				free(f);	/* already counted */
		}
	}
	/* a removal is over here; an expiry comes back as an outcome */
	if (type == SCHED_REMOVE) {
		stats_add("scheduler.envelope.removed", 1);
		stats_add("scheduler.envelope", -1);
	} else if (type == SCHED_EXPIRE)
		stats_add("scheduler.envelope.expired", 1);
	log_debug("scheduler: evpid=%016" PRIx64 " handed out type=%d",
	    evpid, type);
	msg_send_queue_deliver_envelope(env->peers[PROC_QUEUE],
	    &(struct msg_queue_deliver_envelope){ .evpid = evpid,
	    .action = type });
}

/* scheduler_work_on_batch - the backend's due work, or its delay */
static void
scheduler_work_on_batch(void *arg, struct scheduler_msg *reply)
{
	struct timeval	tv = { 0, SCHEDULER_RETRY_MS * 1000 };
	size_t		i;

	(void)arg;
	scheduler_work.calling = 0;
	if (reply->tempfail || reply->r < 0 ||
	    (reply->r > 0 && reply->count == 0)) {
		log_warnx("scheduler: batch failed, again in %d ms",
		    SCHEDULER_RETRY_MS);
		tv.tv_sec = tv.tv_usec / 1000000;
		tv.tv_usec %= 1000000;
		evtimer_add(scheduler_work.timer, &tv);
		scheduler_work.woken = 0;
		return;
	}
	if (reply->r == 0) {
		scheduler_work_sleep(reply->delay);
		return;
	}
	for (i = 0; i < reply->count; i++)
		scheduler_work_hand_out(reply->evpids[i], reply->types[i]);
	/* more may be due: the next small batch on the next turn */
	scheduler_work_sleep(0);
}

/* scheduler_work_on_timer - a batch, if a delivery slot is free */
static void
scheduler_work_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct scheduler_msg	req;
	size_t			out = scheduler_work_inflight(), room;

	(void)fd;
	(void)ev;
	(void)arg;
	if (scheduler_work.calling)
		return;
	if (out >= scheduler_work.max_inflight)
		return;		/* an outcome wakes us */
	room = scheduler_work.max_inflight - out;
	memset(&req, 0, sizeof req);
	req.type = PROC_SCHEDULER_BATCH;
	req.typemask = SCHEDULER_TYPEMASK_ALL & ~scheduler_work.paused;
	req.count = room < scheduler_work.batch_size ? room :
	    scheduler_work.batch_size;
	scheduler_work.calling = 1;
	scheduler_work.woken = 0;
	scheduler_host_call(scheduler_work.host, &req, scheduler_work_on_batch,
	    NULL);
}

/* scheduler_work_on_done - a backend call that only logs its failure */
static void
scheduler_work_on_done(void *arg, struct scheduler_msg *reply)
{
	const char	*what = arg;

	if (reply->tempfail)
		log_warnx("scheduler: %s failed: backend unavailable", what);
	else if (reply->r != 1)
		log_debug("scheduler: %s refused by the backend (an unknown "
		    "or already known envelope)", what);
}

/* scheduler_work_on_commit - the message's envelopes are due: wake */
static void
scheduler_work_on_commit(void *arg, struct scheduler_msg *reply)
{
	(void)arg;
	if (reply->tempfail)
		log_warnx("scheduler: commit failed (backend unavailable)");
	else
		log_debug("scheduler: commit envelopes=%zu", reply->count);
	scheduler_work_wake();
}

void
scheduler_on_insert_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_scheduler_insert_envelope	m;
	struct scheduler_msg			req;

	if (msg_unpack_scheduler_insert_envelope(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	memset(&req, 0, sizeof req);
	stats_add("scheduler.envelope", 1);
	req.type = PROC_SCHEDULER_INSERT;
	req.si.evpid = m.evpid;
	req.si.type = (enum delivery_type)m.type;
	req.si.retry = m.retry > UINT16_MAX ? UINT16_MAX : (uint16_t)m.retry;
	req.si.creation = (time_t)m.creation;
	req.si.ttl = (time_t)m.ttl;
	req.si.lasttry = (time_t)m.lasttry;
	req.si.lastbounce = (time_t)m.lastbounce;
	scheduler_host_call(scheduler_work.host, &req, scheduler_work_on_done,
	    "insert");
}

void
scheduler_on_commit_message(struct mproc *p, struct imsg *imsg)
{
	struct msg_scheduler_commit_message	m;
	struct scheduler_msg			req;

	if (msg_unpack_scheduler_commit_message(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	memset(&req, 0, sizeof req);
	req.type = PROC_SCHEDULER_COMMIT;
	req.msgid = m.msgid;
	scheduler_host_call(scheduler_work.host, &req,
	    scheduler_work_on_commit, NULL);
}

void
scheduler_on_delivery_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_scheduler_delivery_result	m;
	struct scheduler_msg			req;

	if (msg_unpack_scheduler_delivery_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	scheduler_work_landed(m.evpid);
	stats_add(m.status == DELIVERY_OK ? "scheduler.delivery.ok" :
	    m.status == DELIVERY_TEMPFAIL ? "scheduler.delivery.tempfail" :
	    m.status == DELIVERY_LOOP ? "scheduler.delivery.loop" :
	    "scheduler.delivery.permfail", 1);
	if (m.status != DELIVERY_TEMPFAIL)
		stats_add("scheduler.envelope", -1);
	memset(&req, 0, sizeof req);
	if (m.status == DELIVERY_TEMPFAIL) {
		req.type = PROC_SCHEDULER_UPDATE;
		req.si.evpid = m.evpid;
		req.si.retry = m.retry > UINT16_MAX ? UINT16_MAX :
		    (uint16_t)m.retry;
		req.si.lasttry = (time_t)m.lasttry;
	} else {
		req.type = PROC_SCHEDULER_DELETE;
		req.id = m.evpid;
	}
	log_debug("scheduler: evpid=%016" PRIx64 " status=%d retry=%" PRIu32,
	    m.evpid, m.status, m.retry);
	scheduler_host_call(scheduler_work.host, &req, scheduler_work_on_done,
	    m.status == DELIVERY_TEMPFAIL ? "update" : "delete");
	scheduler_work_wake();
}
