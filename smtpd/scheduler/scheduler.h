/*
 * scheduler.h -- the modules of the scheduler process, for scheduler.c
 * and tests.
 *
 * scheduler.c holds the process (handler table, start-up);
 * scheduler_work.c the envelopes coming in from the queue, the batch
 * loop handing deliveries out and their outcomes.  They reach the queue
 * through env->peers[PROC_QUEUE] only and the backend through a
 * scheduler_host (scheduler_proc.h), so a test wires a socketpair and
 * an embedded ramqueue and drives the handlers as the queue would.
 * Nothing here blocks: a backend answers through its completion.
 */
#ifndef SMTPD_SCHEDULER_H
#define SMTPD_SCHEDULER_H

#include <stddef.h>

#include "mproc.h"

struct event_base;
struct scheduler_host;

/* after a backend's failed batch, the next try (milliseconds) */
#define SCHEDULER_RETRY_MS	1000

/* scheduler.c: the handler table (tests build channels with it) */
const struct imsg_handler *scheduler_imsg_handlers(size_t *n);

/*
 * scheduler_work_init - the batch loop on BASE over HOST: at most
 * MAX_INFLIGHT deliveries out at once, handed out BATCH_SIZE per turn
 * (each clamped to 1..SCHEDULER_API_BATCH_MAX or more for inflight).
 */
void	scheduler_work_init(struct event_base *base,
	    struct scheduler_host *host, long long max_inflight,
	    long long batch_size);
/* scheduler_work_free - stop the loop (the host stays the caller's) */
void	scheduler_work_free(void);
/* scheduler_work_inflight - deliveries handed out, not answered yet */
size_t	scheduler_work_inflight(void);
/* scheduler_work_wake - something changed: batch on the next turn */
void	scheduler_work_wake(void);
/* scheduler_work_pause - hand out no work (PAUSE) or again (0) for the
 * agents of WHAT (PAUSE_MDA, PAUSE_MTA of smtpd.h) */
void	scheduler_work_pause(unsigned int what, int pause);

void	scheduler_on_insert_envelope(struct mproc *, struct imsg *);
void	scheduler_on_commit_message(struct mproc *, struct imsg *);
void	scheduler_on_delivery_result(struct mproc *, struct imsg *);

/* scheduler_admin.c: the smtpctl verbs control relays */
void	scheduler_on_change_envelopes(struct mproc *, struct imsg *);
void	scheduler_on_reschedule(struct mproc *, struct imsg *);
void	scheduler_on_list_envelopes(struct mproc *, struct imsg *);
void	scheduler_on_pause(struct mproc *, struct imsg *);

#endif
