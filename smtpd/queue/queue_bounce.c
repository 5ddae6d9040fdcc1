/*
 * queue_bounce.c -- which envelopes owe their sender a report, and the
 * stored bounce envelopes that carry the duty until it is done.
 *
 * Runs in the queue process (queue_delivery.c calls it).  A permanent
 * failure, an expiry or a delivery with NOTIFY=SUCCESS does not delete
 * the envelope: it is rewritten in place as a bounce envelope (type
 * bounce, bounce-type, errorline, its own lifetime QUEUE_BOUNCE_TTL
 * from now, DSN-10) and given to the scheduler again, which hands it
 * out as SCHED_BOUNCE; the dispatcher's bounce agent queues the report
 * and only then answers ok, and the envelope goes.  So the information
 * is on disk until the report is, and a crash at any point brings the
 * bounce envelope back, never a second report from the same envelope.
 * A delay notice is a new bounce envelope beside the one still being
 * retried (lastbounce says which warn-interval was reported).
 * No report for the null sender, for a report (ENVELOPE_F_BOUNCE, never
 * a bounce of a bounce) or when NOTIFY does not ask for it: one log
 * line says so.  Never fatal; a storage failure leaves the envelope as
 * it was (a retry, or the next start, tries again).
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "queue.h"
#include "queue_backend.h"
#include "smtpd.h"

static const char *const queue_bounce_names[] = {
	[BOUNCE_FAILED] = "failed",
	[BOUNCE_DELAYED] = "delayed",
	[BOUNCE_DELIVERED] = "delivered",
	[BOUNCE_RELAYED] = "relayed",
};

/*
 * queue_bounce_wanted - NULL if EVP's sender gets a TYPE report, else
 * why not (RFC 3461 4.1: no NOTIFY means failure and delay reports)
 */
const char *
queue_bounce_wanted(const struct envelope *evp, enum envelope_bounce_type type)
{
	unsigned int	n = evp->dsn_notify;

	if (evp->type == ENVELOPE_BOUNCE)
		return "a bounce envelope";	/* its report went or failed */
	if (evp->flags & ENVELOPE_F_BOUNCE)
		return "the message is a report";
	if (mailaddr_is_null(&evp->sender))
		return "null sender";
	if (n & DSN_NOTIFY_NEVER)
		return "NOTIFY=NEVER";
	switch (type) {
	case BOUNCE_FAILED:
		return n == 0 || (n & DSN_NOTIFY_FAILURE) ? NULL :
		    "NOTIFY lacks FAILURE";
	case BOUNCE_DELAYED:
		return n == 0 || (n & DSN_NOTIFY_DELAY) ? NULL :
		    "NOTIFY lacks DELAY";
	default:
		return (n & DSN_NOTIFY_SUCCESS) ? NULL : "NOTIFY lacks SUCCESS";
	}
}

/* queue_bounce_as - EVP becomes a TYPE bounce envelope, due now */
static void
queue_bounce_as(struct envelope *evp, enum envelope_bounce_type type,
    time_t now)
{
	evp->type = ENVELOPE_BOUNCE;
	evp->bounce_type = type;
	/* retry 0: due at once (lasttry stays: Last-Attempt-Date) */
	evp->retry = 0;
	/* expiry is creation + ttl: creation stays (Arrival-Date) */
	evp->ttl = (now > evp->creation ? now - evp->creation : 0) +
	    QUEUE_BOUNCE_TTL;
}

/* queue_bounce_schedule - the scheduler learns of a bounce envelope */
static void
queue_bounce_schedule(const struct envelope *evp)
{
	struct msg_scheduler_insert_envelope	m;

	queue_envelope_schedule(evp, &m);
	queue_tell_scheduler_insert(&m);
	queue_tell_scheduler_commit(evpid_to_msgid(evp->evpid));
}

static void
queue_bounce_log(uint64_t evpid, const char *type)
{
	log_info(QUEUE_LOG_ID " queue bounce evpid=%016" PRIx64 " type=%s "
	    "report=queued", evpid, type);
}

/*
 * queue_bounce_make - EVPID's attempt ended (STATUS, ERROR) or it
 * expired: 1 it is now a TYPE bounce envelope and the scheduler knows
 * (INFLIGHT: it had handed it out and forgets it first), 0 no report is
 * owed (the caller deletes it), -1 it could not be rewritten (stored
 * unchanged: the caller retries it).
 */
int
queue_bounce_make(uint64_t evpid, enum envelope_bounce_type type, int status,
    const char *error, int inflight)
{
	struct envelope	*evp;
	const char	*why;
	int		 r;

	if ((evp = envelope_new()) == NULL)
		return -1;
	if ((r = queue_load_envelope(evpid, evp)) != QUEUE_OK) {
		envelope_free(&evp);
		return r == QUEUE_NOTFOUND ? 0 : -1;
	}
	if ((why = queue_bounce_wanted(evp, type)) != NULL) {
		if (type != BOUNCE_DELIVERED && type != BOUNCE_RELAYED)
			/* not one line per delivery */
			log_info(QUEUE_LOG_ID " queue bounce evpid=%016" PRIx64
			    " type=%s report=none reason=\"%s\"", evpid,
			    queue_bounce_names[type], why);
		envelope_free(&evp);
		return 0;
	}
	if (error != NULL && *error != '\0')
		envelope_set_errorline(evp, "%s", error);
	if (status == DELIVERY_LOOP && evp->esc_class == 0) {
		evp->esc_class = 5;
		evp->esc_code = 46;		/* 5.4.6 routing loop */
	}
	if (inflight)
		evp->lasttry = time(NULL);
	queue_bounce_as(evp, type, time(NULL));
	if (queue_update_envelope(evp) != QUEUE_OK) {
		log_warnx("queue: evpid=%016" PRIx64 " not rewritten as a "
		    "bounce envelope, retried", evpid);
		envelope_free(&evp);
		return -1;
	}
	queue_bounce_log(evpid, queue_bounce_names[type]);
	if (inflight)
		queue_tell_scheduler_result(evpid, DELIVERY_PERMFAIL, 0, 0);
	queue_bounce_schedule(evp);
	envelope_free(&evp);
	return 1;
}

/* queue_bounce_expired - the scheduler expired EVPID (and forgot it) */
void
queue_bounce_expired(uint64_t evpid)
{
	struct envelope	*evp;
	char		 line[ENVELOPE_ERRORLINE_SIZE];
	int		 r;

	line[0] = '\0';
	if ((evp = envelope_new()) != NULL &&
	    queue_load_envelope(evpid, evp) == QUEUE_OK) {
		(void)snprintf(line, sizeof line, "%s", evp->errorline);
		if (evp->esc_class == 0 && evp->type != ENVELOPE_BOUNCE) {
			/* 4.4.7: delivery time expired (RFC 3463) */
			evp->esc_class = 4;
			evp->esc_code = 47;
			(void)queue_update_envelope(evp);
		}
	}
	envelope_free(&evp);
	if (line[0] == '\0')
		(void)snprintf(line, sizeof line, "Envelope expired");
	r = queue_bounce_make(evpid, BOUNCE_FAILED, DELIVERY_PERMFAIL, line, 0);
	if (r == 0 && queue_delete_envelope(evpid) < 0)
		log_warnx("queue: evpid=%016" PRIx64 " not deleted, it comes "
		    "back at the next start", evpid);
	if (r >= 0)
		log_info(QUEUE_LOG_ID " queue delivery evpid=%016" PRIx64
		    " status=expired retry=0 error=\"Envelope expired\"",
		    evpid);
	else
		log_warnx("queue: evpid=%016" PRIx64 " expired, its report is "
		    "retried at the next start", evpid);
}

/*
 * queue_bounce_delay - EVP (loaded, just tempfailed at NOW) has been
 * queued longer than a warn-interval not reported yet: a delayed bounce
 * envelope beside it, and EVP->lastbounce = NOW for the caller to
 * store.  Returns 1 if EVP changed.
 */
int
queue_bounce_delay(struct envelope *evp, time_t now)
{
	const struct conf_delays	*w = &env->conf->bounce_warn;
	struct envelope			 copy;
	time_t				 due = 0, t;
	int				 i;

	for (i = 0; i < w->n && i < CONF_BOUNCE_WARN_MAX; i++) {
		t = evp->creation + (time_t)w->v[i];
		if (t <= now && t > due)
			due = t;
	}
	if (due == 0 || evp->lastbounce >= due ||
	    queue_bounce_wanted(evp, BOUNCE_DELAYED) != NULL)
		return 0;
	copy = *evp;
	copy.bounce_ttl = evp->ttl;	/* Will-Retry-Until */
	copy.bounce_delay = now - evp->creation;
	queue_bounce_as(&copy, BOUNCE_DELAYED, now);
	if (queue_create_envelope(evpid_to_msgid(evp->evpid), &copy) !=
	    QUEUE_OK) {
		log_warnx("queue: evpid=%016" PRIx64 " delay notice not "
		    "stored, tried at the next failure", evp->evpid);
		return 0;
	}
	queue_bounce_log(copy.evpid, "delayed");
	queue_bounce_schedule(&copy);
	evp->lastbounce = now;
	return 1;
}
