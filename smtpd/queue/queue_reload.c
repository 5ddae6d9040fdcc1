/*
 * queue_reload.c -- the start-up walk: every committed envelope is told
 * to the scheduler, which keeps runtime state only.
 *
 * Runs in the queue process once every process is up.  The walk goes in
 * steps of QUEUE_RELOAD_STEP envelopes, one step per turn of the event
 * loop (a zero timer, so channels are served between steps), never in
 * one long handler.  Each envelope is an INSERT; a message is COMMITted
 * when the walk leaves it (the ramqueue makes due again what was
 * retried, after its delay).  An envelope that does not parse is set
 * aside in the corrupt area with a log line by queue_walk_next
 * (queue_backend.c) and the walk goes on; a storage error is retried on
 * the next turn, up to QUEUE_RELOAD_ERRORS_MAX in a row.  The state is
 * private to this module and lives for one walk.
 */
#include <inttypes.h>
#include <stdlib.h>

#include <event2/event.h>

#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "queue.h"
#include "queue_backend.h"

static struct {
	struct queue_walk	*w;
	struct event		*ev;
	struct envelope		*evp;
	uint32_t		 last;		/* inserted, not committed */
	size_t			 n;		/* envelopes told */
	unsigned int		 errors;	/* in a row */
	void			(*done)(size_t);
} queue_reload;

/* a zero timer: the next turn of the loop, after pending I/O */
static const struct timeval	queue_zero = { 0, 0 };

static void	queue_reload_on_step(evutil_socket_t, short, void *);

/* queue_reload_end - the walk is over: commit the last message, report */
static void
queue_reload_end(void)
{
	void	(*done)(size_t) = queue_reload.done;
	size_t	n = queue_reload.n;

	if (queue_reload.last != 0)
		queue_tell_scheduler_commit(queue_reload.last);
	queue_walk_free(&queue_reload.w);
	envelope_free(&queue_reload.evp);
	if (queue_reload.ev != NULL)
		event_free(queue_reload.ev);
	queue_reload.ev = NULL;
	queue_reload.last = 0;
	queue_reload.n = 0;
	if (done != NULL)
		done(n);
}

/* queue_reload_tell - one envelope to the scheduler */
static void
queue_reload_tell(const struct envelope *evp)
{
	struct msg_scheduler_insert_envelope	m;
	uint32_t				msgid;

	msgid = evpid_to_msgid(evp->evpid);
	if (queue_reload.last != 0 && queue_reload.last != msgid)
		queue_tell_scheduler_commit(queue_reload.last);
	queue_envelope_schedule(evp, &m);
	queue_tell_scheduler_insert(&m);
	queue_reload.last = msgid;
	queue_reload.n++;
}

/* queue_reload_on_step - up to QUEUE_RELOAD_STEP envelopes, then yield */
static void
queue_reload_on_step(evutil_socket_t fd, short ev, void *arg)
{
	int	i, r;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < QUEUE_RELOAD_STEP; i++) {
		r = queue_walk_next(queue_reload.w, queue_reload.evp);
		if (r == QUEUE_OK) {
			queue_reload_tell(queue_reload.evp);
			queue_reload.errors = 0;
			continue;
		}
		if (r == QUEUE_NOTFOUND) {
			queue_reload_end();
			return;
		}
		if (++queue_reload.errors >= QUEUE_RELOAD_ERRORS_MAX) {
			log_warnx("queue: the walk failed %u times in a row, "
			    "stopped: the rest waits for the next start",
			    queue_reload.errors);
			queue_reload_end();
			return;
		}
		break;		/* try again on the next turn */
	}
	evtimer_add(queue_reload.ev,
	    &queue_zero);
}

void
queue_reload_start(struct event_base *base, void (*done)(size_t))
{
	queue_reload.done = done;
	queue_reload.n = 0;
	queue_reload.last = 0;
	queue_reload.errors = 0;
	if ((queue_reload.evp = envelope_new()) == NULL ||
	    (queue_reload.w = queue_walk_new(0)) == NULL ||
	    (queue_reload.ev = evtimer_new(base, queue_reload_on_step,
	    NULL)) == NULL) {
		log_warnx("queue: cannot walk the queue: the scheduler "
		    "starts without the stored envelopes");
		queue_reload_end();
		return;
	}
	evtimer_add(queue_reload.ev,
	    &queue_zero);
}
