/*
 * scheduler_ramqueue.c -- the ramqueue scheduler backend: the runtime
 * state of every envelope, in memory.
 *
 * One backend hosted two ways (api/scheduler_api.h, api/ headers only):
 * linked into smtpd as scheduler "ramqueue" (the default for mail flow)
 * and wrapped by libexec/scheduler-ram.c as a helper served by
 * scheduler_api_serve() (libexec-protocols.md 6).  All state hangs off
 * the context open() returns.  Like every scheduler it holds runtime
 * state only: the queue is the durable record, and the daemon rebuilds
 * the schedule from it at startup (queue walk, then INSERT and COMMIT).
 * Never exits; an odd request is answered 0 and logged.
 *
 * Envelopes are incoming (INSERT) until COMMIT, then pending, in flight
 * once handed out by BATCH, held when the MTA parks them (HOLD) until
 * RELEASE.  Pending envelopes sit in one tree per kind (local delivery,
 * relaying, report) ordered by due time, and in one tree ordered by
 * expiry: a batch takes the due ones of the kinds asked for in order,
 * and expired ones first, never looking at the others; a paused kind
 * with a million envelopes due costs nothing (O(log n) per envelope).
 *
 * Retry schedule (SCHED-01, as OpenSMTPD 6.8): after the n-th failed
 * attempt (UPDATE with retry = n) the next try is at creation + base x
 * n^2, base 400 s for relaying and 10 s for local deliveries and
 * reports; a time already past means at once.  Relaying: 6 min 40 s,
 * 26 min 40 s, 1 h, 1 h 47 min ... after creation; local: 10 s, 40 s,
 * 90 s ...
 * An envelope is never scheduled past creation + ttl: at that time the
 * next batch hands it out as SCHED_EXPIRE (the daemon bounces it and
 * deletes it).  REMOVE (smtpctl remove) takes a pending envelope out of
 * the schedule and reports it once through BATCH as SCHED_REMOVE.
 * Suspended envelopes are never handed out until resumed.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtpd-api.h"	/* log_* of the glue */

#define SCHEDULER_RAM_RETRY_BASE_MTA	400	/* seconds x n^2 */
#define SCHEDULER_RAM_RETRY_BASE_LOCAL	10	/* mda and bounce */

enum scheduler_ram_state {
	SCHEDULER_RAM_INCOMING,
	SCHEDULER_RAM_PENDING,
	SCHEDULER_RAM_INFLIGHT,
	SCHEDULER_RAM_HELD,
	SCHEDULER_RAM_REMOVED,		/* waiting to be batched as REMOVE */
};

struct scheduler_ram_envelope {
	RB_ENTRY(scheduler_ram_envelope)	 byid;
	RB_ENTRY(scheduler_ram_envelope)	 bytime;
	RB_ENTRY(scheduler_ram_envelope)	 byexpiry;
	TAILQ_ENTRY(scheduler_ram_envelope)	 list;	/* held or removed */
	struct scheduler_info			 info;
	enum scheduler_ram_state		 state;
	int					 suspended;
	int					 queued;	/* in the trees */
	uint64_t				 holdq;
	time_t					 time;	/* due, or sent */
};

RB_HEAD(scheduler_ram_ids, scheduler_ram_envelope);
RB_HEAD(scheduler_ram_times, scheduler_ram_envelope);
RB_HEAD(scheduler_ram_expiries, scheduler_ram_envelope);
TAILQ_HEAD(scheduler_ram_list, scheduler_ram_envelope);

/* the kinds of pending envelopes, a time tree each */
enum scheduler_ram_class {
	SCHEDULER_RAM_MDA,
	SCHEDULER_RAM_MTA,
	SCHEDULER_RAM_BOUNCE,
	SCHEDULER_RAM_NCLASS
};
static const int scheduler_ram_class_kind[SCHEDULER_RAM_NCLASS] = {
	SCHED_MDA, SCHED_MTA, SCHED_BOUNCE
};

/* the backend's context */
struct scheduler_ram {
	struct scheduler_ram_ids	ids;
	struct scheduler_ram_times	times[SCHEDULER_RAM_NCLASS];
	struct scheduler_ram_expiries	expiries;
	struct scheduler_ram_list	held;
	struct scheduler_ram_list	removed;
};

static int
scheduler_ram_id_cmp(struct scheduler_ram_envelope *a,
    struct scheduler_ram_envelope *b)
{
	return a->info.evpid < b->info.evpid ? -1 :
	    a->info.evpid > b->info.evpid;
}

static int
scheduler_ram_time_cmp(struct scheduler_ram_envelope *a,
    struct scheduler_ram_envelope *b)
{
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return scheduler_ram_id_cmp(a, b);
}

static time_t	scheduler_ram_expiry(const struct scheduler_ram_envelope *);

static int
scheduler_ram_expiry_cmp(struct scheduler_ram_envelope *a,
    struct scheduler_ram_envelope *b)
{
	time_t	ea = scheduler_ram_expiry(a), eb = scheduler_ram_expiry(b);

	if (ea != eb)
		return ea < eb ? -1 : 1;
	return scheduler_ram_id_cmp(a, b);
}

/* not _STATIC: libbsd's tree.h marks those with an undefined __unused */
RB_PROTOTYPE(scheduler_ram_ids, scheduler_ram_envelope, byid,
    scheduler_ram_id_cmp)
RB_PROTOTYPE(scheduler_ram_times, scheduler_ram_envelope, bytime,
    scheduler_ram_time_cmp)
RB_GENERATE(scheduler_ram_ids, scheduler_ram_envelope, byid,
    scheduler_ram_id_cmp)
RB_GENERATE(scheduler_ram_times, scheduler_ram_envelope, bytime,
    scheduler_ram_time_cmp)
RB_PROTOTYPE(scheduler_ram_expiries, scheduler_ram_envelope, byexpiry,
    scheduler_ram_expiry_cmp)
RB_GENERATE(scheduler_ram_expiries, scheduler_ram_envelope, byexpiry,
    scheduler_ram_expiry_cmp)

/* scheduler_ram_class - the time tree of E's kind */
static struct scheduler_ram_times *
scheduler_ram_class(struct scheduler_ram *sr,
    const struct scheduler_ram_envelope *e)
{
	switch (e->info.type) {
	case D_MDA:
		return &sr->times[SCHEDULER_RAM_MDA];
	case D_MTA:
		return &sr->times[SCHEDULER_RAM_MTA];
	default:
		return &sr->times[SCHEDULER_RAM_BOUNCE];
	}
}

/* scheduler_ram_enqueue - into its time tree and the expiry tree */
static void
scheduler_ram_enqueue(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	RB_INSERT(scheduler_ram_times, scheduler_ram_class(sr, e), e);
	RB_INSERT(scheduler_ram_expiries, &sr->expiries, e);
	e->queued = 1;
}

/* scheduler_ram_dequeue - out of both trees, if in */
static void
scheduler_ram_dequeue(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	if (!e->queued)
		return;
	RB_REMOVE(scheduler_ram_times, scheduler_ram_class(sr, e), e);
	RB_REMOVE(scheduler_ram_expiries, &sr->expiries, e);
	e->queued = 0;
}

/* scheduler_ram_retry_time - when to try info's envelope again after its
 * retry-th failure: creation + base x retry^2, never before now */
static time_t
scheduler_ram_retry_time(const struct scheduler_info *info, time_t now)
{
	time_t		base, t;
	unsigned int	n = info->retry;

	base = info->type == D_MTA ? SCHEDULER_RAM_RETRY_BASE_MTA :
	    SCHEDULER_RAM_RETRY_BASE_LOCAL;
	if (info->creation <= 0 || info->creation > now)
		return now + base * (time_t)n * n;
	t = info->creation + base * (time_t)n * n;
	return t < now ? now : t;
}

/* scheduler_ram_expiry - when the envelope expires (creation + ttl) */
static time_t
scheduler_ram_expiry(const struct scheduler_ram_envelope *e)
{
	if (e->info.ttl < 0 || e->info.creation > INT64_MAX - e->info.ttl)
		return INT64_MAX;
	return e->info.creation + e->info.ttl;
}

/* scheduler_ram_find - the envelope evpid, or NULL */
static struct scheduler_ram_envelope *
scheduler_ram_find(struct scheduler_ram *sr, uint64_t evpid)
{
	struct scheduler_ram_envelope	key;

	key.info.evpid = evpid;
	return RB_FIND(scheduler_ram_ids, &sr->ids, &key);
}

/* scheduler_ram_first - the first envelope with evpid >= from */
static struct scheduler_ram_envelope *
scheduler_ram_first(struct scheduler_ram *sr, uint64_t from)
{
	struct scheduler_ram_envelope	key;

	key.info.evpid = from;
	return RB_NFIND(scheduler_ram_ids, &sr->ids, &key);
}

/* scheduler_ram_unqueue - out of the trees and of any list */
static void
scheduler_ram_unqueue(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	scheduler_ram_dequeue(sr, e);
	if (e->state == SCHEDULER_RAM_HELD)
		TAILQ_REMOVE(&sr->held, e, list);
	else if (e->state == SCHEDULER_RAM_REMOVED)
		TAILQ_REMOVE(&sr->removed, e, list);
}

/* scheduler_ram_pend - pending, due at t (never after expiry) */
static void
scheduler_ram_pend(struct scheduler_ram *sr, struct scheduler_ram_envelope *e,
    time_t t)
{
	time_t	expiry = scheduler_ram_expiry(e);

	scheduler_ram_unqueue(sr, e);
	e->state = SCHEDULER_RAM_PENDING;
	e->time = t < expiry ? t : expiry;
	if (!e->suspended)
		scheduler_ram_enqueue(sr, e);
}

/* scheduler_ram_free - forget an envelope entirely */
static void
scheduler_ram_free(struct scheduler_ram *sr, struct scheduler_ram_envelope *e)
{
	scheduler_ram_unqueue(sr, e);
	RB_REMOVE(scheduler_ram_ids, &sr->ids, e);
	free(e);
}

/*
 * scheduler_ram_foreach - apply fn to the envelopes id names: one
 * evpid, or every envelope of a msgid (id <= 0xffffffff).  Incoming and
 * removed envelopes are not addressable.  Returns the number of
 * envelopes fn accepted.
 */
static int
scheduler_ram_foreach(struct scheduler_ram *sr, uint64_t id,
    int (*fn)(struct scheduler_ram *, struct scheduler_ram_envelope *))
{
	struct scheduler_ram_envelope	*e, *next;
	uint64_t			 lo = id, hi = id;
	int				 n = 0;

	if (id <= UINT32_MAX) {
		lo = id << 32;
		hi = lo | UINT32_MAX;
	}
	for (e = scheduler_ram_first(sr, lo); e != NULL && e->info.evpid <= hi;
	    e = next) {
		next = RB_NEXT(scheduler_ram_ids, &sr->ids, e);
		if (e->state == SCHEDULER_RAM_INCOMING ||
		    e->state == SCHEDULER_RAM_REMOVED)
			continue;
		n += fn(sr, e);
	}
	return n;
}

static int
scheduler_ram_init(void *ctx)
{
	return 1;
}

/* scheduler_ram_insert - a new envelope of a message being received */
static int
scheduler_ram_insert(void *ctx, struct scheduler_info *si)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;

	if (scheduler_ram_find(sr, si->evpid) != NULL) {
		log_warnx("scheduler-ram: evpid=%016llx inserted twice",
		    (unsigned long long)si->evpid);
		return 0;
	}
	if ((e = calloc(1, sizeof *e)) == NULL) {
		log_warn("scheduler-ram: insert");
		return 0;
	}
	e->info = *si;
	e->state = SCHEDULER_RAM_INCOMING;
	RB_INSERT(scheduler_ram_ids, &sr->ids, e);
	return 1;
}

/* scheduler_ram_commit - the incoming envelopes of msgid become due: now,
 * or after their retry delay when the queue reloads older envelopes */
static size_t
scheduler_ram_commit(void *ctx, uint32_t msgid)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;
	time_t				 now = time(NULL), t;
	size_t				 n = 0;

	for (e = scheduler_ram_first(sr, (uint64_t)msgid << 32);
	    e != NULL && (uint32_t)(e->info.evpid >> 32) == msgid;
	    e = RB_NEXT(scheduler_ram_ids, &sr->ids, e)) {
		if (e->state != SCHEDULER_RAM_INCOMING)
			continue;
		t = now;
		if (e->info.retry > 0)
			t = scheduler_ram_retry_time(&e->info, now);
		scheduler_ram_pend(sr, e, t);
		n++;
	}
	return n;
}

/* scheduler_ram_rollback - the incoming envelopes of msgid are dropped */
static size_t
scheduler_ram_rollback(void *ctx, uint32_t msgid)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e, *next;
	size_t				 n = 0;

	for (e = scheduler_ram_first(sr, (uint64_t)msgid << 32);
	    e != NULL && (uint32_t)(e->info.evpid >> 32) == msgid; e = next) {
		next = RB_NEXT(scheduler_ram_ids, &sr->ids, e);
		if (e->state != SCHEDULER_RAM_INCOMING)
			continue;
		scheduler_ram_free(sr, e);
		n++;
	}
	return n;
}

/* scheduler_ram_update - a temporary failure: back to pending, later */
static int
scheduler_ram_update(void *ctx, struct scheduler_info *si)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;
	time_t				 now = time(NULL);

	if ((e = scheduler_ram_find(sr, si->evpid)) == NULL ||
	    e->state == SCHEDULER_RAM_INCOMING) {
		log_warnx("scheduler-ram: update of unknown evpid=%016llx",
		    (unsigned long long)si->evpid);
		return 0;
	}
	e->info.retry = si->retry;
	e->info.lasttry = si->lasttry;
	e->info.lastbounce = si->lastbounce;
	scheduler_ram_pend(sr, e, scheduler_ram_retry_time(&e->info, now));
	e->info.nexttry = e->time;
	*si = e->info;
	return 1;
}

/* scheduler_ram_delete - delivered, failed for good or bounced: forget */
static int
scheduler_ram_delete(void *ctx, uint64_t evpid)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;

	if ((e = scheduler_ram_find(sr, evpid)) == NULL)
		return 0;
	scheduler_ram_free(sr, e);
	return 1;
}

/* scheduler_ram_hold - the MTA parks an in-flight envelope on holdq */
static int
scheduler_ram_hold(void *ctx, uint64_t evpid, uint64_t holdq)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;

	if ((e = scheduler_ram_find(sr, evpid)) == NULL ||
	    e->state != SCHEDULER_RAM_INFLIGHT)
		return 0;
	e->state = SCHEDULER_RAM_HELD;
	e->holdq = holdq;
	TAILQ_INSERT_TAIL(&sr->held, e, list);
	return 1;
}

/* scheduler_ram_release - up to n (-1: all) of holdq, oldest first, due
 * now */
static int
scheduler_ram_release(void *ctx, int type, uint64_t holdq, int n)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e, *next;
	time_t				 now = time(NULL);
	int				 released = 0;

	for (e = TAILQ_FIRST(&sr->held); e != NULL &&
	    (n < 0 || released < n); e = next) {
		next = TAILQ_NEXT(e, list);
		if (e->holdq != holdq || (int)e->info.type != type)
			continue;
		scheduler_ram_pend(sr, e, now);
		released++;
	}
	return released > 0;
}

/* scheduler_ram_kind - what a due envelope asks for at now */
static int
scheduler_ram_kind(const struct scheduler_ram_envelope *e, time_t now)
{
	if (now >= scheduler_ram_expiry(e))
		return SCHED_EXPIRE;
	switch (e->info.type) {
	case D_MDA:
		return SCHED_MDA;
	case D_MTA:
		return SCHED_MTA;
	default:
		return SCHED_BOUNCE;
	}
}

/*
 * scheduler_ram_due - the first envelope of a kind in TYPEMASK due at
 * NOW and not expired, earliest first; NULL when none.  A kind whose
 * first envelope expired while SCHED_EXPIRE is not asked for waits.
 */
static struct scheduler_ram_envelope *
scheduler_ram_due(struct scheduler_ram *sr, int typemask, time_t now)
{
	struct scheduler_ram_envelope	*e, *best = NULL;
	size_t				 c;

	for (c = 0; c < SCHEDULER_RAM_NCLASS; c++) {
		if ((typemask & scheduler_ram_class_kind[c]) == 0 ||
		    (e = RB_MIN(scheduler_ram_times, &sr->times[c])) == NULL ||
		    e->time > now || scheduler_ram_expiry(e) <= now)
			continue;
		if (best == NULL || scheduler_ram_time_cmp(e, best) < 0)
			best = e;
	}
	return best;
}

/* scheduler_ram_next_event - seconds until something in typemask is
 * due, or -1 */
static int
scheduler_ram_next_event(struct scheduler_ram *sr, int typemask, time_t now)
{
	struct scheduler_ram_envelope	*e;
	time_t				 t, best = 0;
	size_t				 c;

	for (c = 0; c < SCHEDULER_RAM_NCLASS; c++) {
		if ((typemask & scheduler_ram_class_kind[c]) == 0 ||
		    (e = RB_MIN(scheduler_ram_times, &sr->times[c])) == NULL ||
		    scheduler_ram_expiry(e) <= now)
			continue;
		t = e->time > now ? e->time : now;
		if (best == 0 || t < best)
			best = t;
	}
	if ((typemask & SCHED_EXPIRE) &&
	    (e = RB_MIN(scheduler_ram_expiries, &sr->expiries)) != NULL) {
		t = scheduler_ram_expiry(e);
		t = t > now ? t : now;
		if (best == 0 || t < best)
			best = t;
	}
	if (best == 0)
		return -1;
	return best - now > INT32_MAX ? INT32_MAX : (int)(best - now);
}

/* scheduler_ram_batch - removals first, then expired envelopes, then
 * due envelopes of the kinds asked for by due time */
static int
scheduler_ram_batch(void *ctx, int typemask, int *delay, size_t *count,
    uint64_t *evpids, int *types)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;
	time_t				 now = time(NULL);
	size_t				 n = 0;

	while ((typemask & SCHED_REMOVE) && n < *count &&
	    (e = TAILQ_FIRST(&sr->removed)) != NULL) {
		evpids[n] = e->info.evpid;
		types[n++] = SCHED_REMOVE;
		scheduler_ram_free(sr, e);
	}
	while ((typemask & SCHED_EXPIRE) && n < *count &&
	    (e = RB_MIN(scheduler_ram_expiries, &sr->expiries)) != NULL &&
	    scheduler_ram_expiry(e) <= now) {
		evpids[n] = e->info.evpid;
		types[n++] = SCHED_EXPIRE;
		scheduler_ram_free(sr, e);
	}
	while (n < *count && (e = scheduler_ram_due(sr, typemask, now)) !=
	    NULL) {
		evpids[n] = e->info.evpid;
		types[n++] = scheduler_ram_kind(e, now);
		scheduler_ram_unqueue(sr, e);
		e->state = SCHEDULER_RAM_INFLIGHT;
		e->time = now;
	}
	if (n > 0) {
		*count = n;
		return 1;
	}
	*count = 0;
	*delay = scheduler_ram_next_event(sr, typemask, now);
	return 0;
}

/* scheduler_ram_messages - distinct msgids from 'from', for show queue */
static size_t
scheduler_ram_messages(void *ctx, uint32_t from, uint32_t *dst, size_t size)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;
	uint32_t			 msgid;
	size_t				 n = 0;

	for (e = scheduler_ram_first(sr, (uint64_t)from << 32); e != NULL &&
	    n < size; e = RB_NEXT(scheduler_ram_ids, &sr->ids, e)) {
		if (e->state == SCHEDULER_RAM_INCOMING ||
		    e->state == SCHEDULER_RAM_REMOVED)
			continue;
		msgid = e->info.evpid >> 32;
		if (n == 0 || dst[n - 1] != msgid)
			dst[n++] = msgid;
	}
	return n;
}

/* scheduler_ram_envelopes - runtime states from 'from', for show queue */
static size_t
scheduler_ram_envelopes(void *ctx, uint64_t from, struct evpstate *dst,
    size_t size)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;
	size_t				 n = 0;

	for (e = scheduler_ram_first(sr, from); e != NULL && n < size;
	    e = RB_NEXT(scheduler_ram_ids, &sr->ids, e)) {
		if (e->state == SCHEDULER_RAM_INCOMING ||
		    e->state == SCHEDULER_RAM_REMOVED)
			continue;
		dst[n].evpid = e->info.evpid;
		dst[n].flags = e->state == SCHEDULER_RAM_PENDING ? EF_PENDING :
		    e->state == SCHEDULER_RAM_INFLIGHT ? EF_INFLIGHT : EF_HOLD;
		if (e->suspended)
			dst[n].flags |= EF_SUSPEND;
		dst[n].retry = e->info.retry;
		dst[n].time = e->time;
		n++;
	}
	return n;
}

/* scheduler_ram_do_schedule - a pending envelope becomes due now */
static int
scheduler_ram_do_schedule(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	if (e->state != SCHEDULER_RAM_PENDING)
		return 0;
	scheduler_ram_pend(sr, e, time(NULL));
	return 1;
}

/* scheduler_ram_do_remove - a pending envelope waits for a REMOVE batch */
static int
scheduler_ram_do_remove(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	if (e->state != SCHEDULER_RAM_PENDING)
		return 0;
	scheduler_ram_unqueue(sr, e);
	e->state = SCHEDULER_RAM_REMOVED;
	TAILQ_INSERT_TAIL(&sr->removed, e, list);
	return 1;
}

/* scheduler_ram_do_suspend - never handed out until resumed */
static int
scheduler_ram_do_suspend(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	if (e->suspended)
		return 0;
	e->suspended = 1;
	scheduler_ram_dequeue(sr, e);
	return 1;
}

/* scheduler_ram_do_resume - back in the schedule at its due time */
static int
scheduler_ram_do_resume(struct scheduler_ram *sr,
    struct scheduler_ram_envelope *e)
{
	if (!e->suspended)
		return 0;
	e->suspended = 0;
	if (e->state == SCHEDULER_RAM_PENDING)
		scheduler_ram_pend(sr, e, e->time);
	return 1;
}

static int
scheduler_ram_schedule(void *ctx, uint64_t id)
{
	struct scheduler_ram		*sr = ctx;
	return scheduler_ram_foreach(sr, id, scheduler_ram_do_schedule) > 0;
}

static int
scheduler_ram_remove(void *ctx, uint64_t id)
{
	struct scheduler_ram		*sr = ctx;
	return scheduler_ram_foreach(sr, id, scheduler_ram_do_remove) > 0;
}

static int
scheduler_ram_suspend(void *ctx, uint64_t id)
{
	struct scheduler_ram		*sr = ctx;
	return scheduler_ram_foreach(sr, id, scheduler_ram_do_suspend) > 0;
}

static int
scheduler_ram_resume(void *ctx, uint64_t id)
{
	struct scheduler_ram		*sr = ctx;
	return scheduler_ram_foreach(sr, id, scheduler_ram_do_resume) > 0;
}

/* scheduler_ram_open - an empty schedule */
static void *
scheduler_ram_open(void)
{
	struct scheduler_ram	*sr;
	size_t			 i;

	if ((sr = calloc(1, sizeof *sr)) == NULL) {
		log_warn("scheduler-ram: open");
		return NULL;
	}
	RB_INIT(&sr->ids);
	for (i = 0; i < SCHEDULER_RAM_NCLASS; i++)
		RB_INIT(&sr->times[i]);
	RB_INIT(&sr->expiries);
	TAILQ_INIT(&sr->held);
	TAILQ_INIT(&sr->removed);
	return sr;
}

/* scheduler_ram_close - forget every envelope */
static void
scheduler_ram_close(void *ctx)
{
	struct scheduler_ram		*sr = ctx;
	struct scheduler_ram_envelope	*e;

	if (sr == NULL)
		return;
	while ((e = RB_MIN(scheduler_ram_ids, &sr->ids)) != NULL)
		scheduler_ram_free(sr, e);
	free(sr);
}

const struct scheduler_backend scheduler_backend_ramqueue = {
	.version = SCHEDULER_BACKEND_V1,
	.name = "ramqueue",
	.open = scheduler_ram_open,
	.close = scheduler_ram_close,
	.init = scheduler_ram_init,
	.insert = scheduler_ram_insert,
	.commit = scheduler_ram_commit,
	.rollback = scheduler_ram_rollback,
	.update = scheduler_ram_update,
	.delete = scheduler_ram_delete,
	.hold = scheduler_ram_hold,
	.release = scheduler_ram_release,
	.batch = scheduler_ram_batch,
	.messages = scheduler_ram_messages,
	.envelopes = scheduler_ram_envelopes,
	.schedule = scheduler_ram_schedule,
	.remove = scheduler_ram_remove,
	.suspend = scheduler_ram_suspend,
	.resume = scheduler_ram_resume,
};
