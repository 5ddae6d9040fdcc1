/*
 * queue.h -- the modules of the queue process, for queue.c and tests.
 *
 * queue.c holds the process (handler table, state, start-up);
 * queue_incoming.c the messages being received and the group commit;
 * queue_delivery.c the work the scheduler hands out and its outcomes;
 * queue_reload.c the start-up walk that rebuilds the scheduler.  They
 * talk to the scheduler and the dispatcher through env->peers only, so
 * a test wires those to socketpairs and drives the handlers as the
 * other processes would.  Nothing here blocks or is fatal on a storage
 * failure: it is a temporary failure, logged.
 */
#ifndef SMTPD_QUEUE_H
#define SMTPD_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"

#include "imsg_codec.h"
#include "mproc.h"

struct envelope;
struct event_base;

/* the session id of the queue's log lines: none (smtpd.8, LOGGING) */
#define QUEUE_LOG_ID			"0000000000000000"

/* commits arriving within this window share their fsyncs */
#define QUEUE_COMMIT_WINDOW_MS		1
/* the most messages one group commit takes; the rest wait one turn */
#define QUEUE_COMMIT_BATCH_MAX		256
/* messages made ahead, handed out at once on a create */
#define QUEUE_SPARE_MAX			4
/* a lone commit is flushed by the queue's loop while the last lone
 * commit took at most this long; past it the loop would be held for
 * every one (a slow disk), so the commit thread takes them until one
 * takes under half of it */
#define QUEUE_LOOP_COMMIT_MAX_MS	20
/* envelopes whose text the queue keeps after storing or loading them,
 * so that a delivery seldom reads back what its commit wrote (QUEUE-12;
 * about 600 bytes each) */
#define QUEUE_EVPCACHE_MAX		512
/* the most envelopes one received message may have */
#define QUEUE_MESSAGE_ENVELOPES_MAX	100000
/* envelopes the start-up walk sends per turn of the event loop */
#define QUEUE_RELOAD_STEP		64
/* consecutive walk errors before the walk gives up (logged) */
#define QUEUE_RELOAD_ERRORS_MAX		100

/* queue.c: the handler table (tests build channels with it) */
const struct imsg_handler *queue_imsg_handlers(size_t *n);
/* queue_tell_scheduler_* - the scheduler learns of a stored envelope,
 * a committed message, a delivery's outcome */
void	queue_tell_scheduler_insert(
	    const struct msg_scheduler_insert_envelope *);
/* queue_envelope_schedule - what the scheduler is told of EVP */
void	queue_envelope_schedule(const struct envelope *evp,
	    struct msg_scheduler_insert_envelope *m);
void	queue_tell_scheduler_commit(uint32_t msgid);
void	queue_tell_scheduler_result(uint64_t evpid, int status,
	    uint32_t retry, uint64_t lasttry);

/* queue_incoming.c */
void	queue_incoming_init(struct event_base *, unsigned int window_ms);
/* queue_incoming_free - forget every message being received, removing
 * those not committed (tests, and the queue process when it stops) */
void	queue_incoming_free(void);
/* queue_incoming_set_spares - tests: at most MAX messages made ahead
 * (QUEUE_SPARE_MAX, the default; 0: none, so that no create runs beside
 * a batch whose calls a test counts) */
void	queue_incoming_set_spares(size_t max);
/* queue_incoming_count - messages received and not committed (tests) */
size_t	queue_incoming_count(void);
/* queue_lone_commit_slow - the verdict on lone commits after one that
 * took TOOK_US (1: the commit thread takes them; QUEUE_LOOP_COMMIT_MAX_MS) */
int	queue_lone_commit_slow(int slow, uint64_t took_us);
void	queue_on_create_message(struct mproc *, struct imsg *);
void	queue_on_submit_envelope(struct mproc *, struct imsg *);
void	queue_on_commit_message(struct mproc *, struct imsg *);
void	queue_on_delete_message(struct mproc *, struct imsg *);
void	queue_on_reschedule(struct mproc *, struct imsg *);

/* queue_bounce.c: reports owed (DSN-*); see the file's comment */
#define QUEUE_BOUNCE_TTL	(7 * 86400)	/* a report's own lifetime */
const char *queue_bounce_wanted(const struct envelope *,
	    enum envelope_bounce_type);
int	queue_bounce_make(uint64_t evpid, enum envelope_bounce_type,
	    int status, const char *error, int inflight);
void	queue_bounce_expired(uint64_t evpid);
int	queue_bounce_delay(struct envelope *, time_t now);

/* queue_delivery.c */
void	queue_on_deliver_envelope(struct mproc *, struct imsg *);
void	queue_on_delivery_result(struct mproc *, struct imsg *);

/* queue_admin.c: show queue, show envelope, show message (smtpctl) */
void	queue_on_list_envelopes(struct mproc *, struct imsg *);
void	queue_on_show_envelope(struct mproc *, struct imsg *);
void	queue_on_show_message(struct mproc *, struct imsg *);

/*
 * queue_reload.c: queue_reload_start walks every committed envelope in
 * steps on BASE, telling the scheduler INSERT and COMMIT; DONE (may be
 * NULL) gets the number of envelopes sent once the walk is over.
 */
void	queue_reload_start(struct event_base *base,
	    void (*done)(size_t nenvelopes));

#endif
