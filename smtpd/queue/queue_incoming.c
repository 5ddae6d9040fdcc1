/*
 * queue_incoming.c -- messages being received, from CREATE to COMMIT or
 * DELETE, and the group commit that makes them durable.
 *
 * Runs in the queue process, on its loop.  The dispatcher creates a
 * message (it gets a write fd for the body), submits envelopes (each is
 * parsed, stored and remembered for the scheduler; a failure is kept
 * and fails the commit) and commits.  A commit waits in a short window
 * (QUEUE_COMMIT_WINDOW_MS): every commit that arrives meanwhile goes to
 * the backend in one batch, which shares its fsyncs, so throughput grows
 * with concurrency.  The window closes at once (the next turn of the
 * loop) when no other message is in its transaction (has envelopes and
 * is not committing): with one client there is nobody to wait for (a
 * message made for a MAIL still to come counts from its first
 * envelope).  Only after the backend said the batch is durable
 * does the scheduler learn the envelopes and the dispatcher get its
 * result (on which it answers 250): a result never precedes durability.
 * When the backend allows it (commit_beside), the batch is committed by
 * a thread of ours while the loop goes on serving creates, envelopes,
 * deliveries and deletes; its end is signalled through a pipe the loop
 * watches, and only then are the results handled, on the loop.  One
 * batch at a time: the next window's batch starts when it is done.  A
 * message withdrawn (DELETE) while its batch runs is removed once the
 * batch is done, and its commit fails.  A thread that cannot be made
 * leaves commits on the loop, as with any other backend; so does a
 * batch of one message when no other is being received (nobody waits
 * for the loop meanwhile, and the client's wait is two thread switches
 * shorter).
 * A failed commit drops the message.  Unknown msgids are logged, never
 * fatal.  The state is private to this module (init, free).
 *
 * Spares: a create costs a directory and a file in the backend (on this
 * kind of disk, about a millisecond of metadata work) while the client
 * waits for its reply to MAIL.  So a few messages are made ahead
 * (QUEUE_SPARE_MAX, each with its body fd open) on a later turn of the
 * loop, one per turn, and a create takes one at once.  A spare is not a
 * message being received until it is handed out (not in `msgs`, not
 * counted); it is an uncommitted message like any other, so a crash
 * leaves it where recovery discards it, and a clean stop deletes it.
 */
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "conf.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "queue.h"
#include "queue_backend.h"
#include "smtpd.h"
#include "spool_space.h"
#include "stats.h"

/* one message being received */
struct queue_incoming {
	TAILQ_ENTRY(queue_incoming)	 entry;		/* in the window */
	uint32_t			 msgid;
	int				 bodyfd;	/* ours, or -1 */
	int				 error;		/* QUEUE_OK, or a
							   submit's failure */
	int				 open;		/* has envelopes, not
							   committing yet */
	int				 committing;
	int				 inflight;	/* its batch runs */
	int				 withdrawn;	/* deleted meanwhile */
	uint64_t			 reqid;		/* of the commit */
	struct mproc			*p;		/* who commits */
	struct msg_scheduler_insert_envelope *evps;	/* for the scheduler */
	size_t				 nevps;
	size_t				 evpsz;
};

TAILQ_HEAD(queue_incoming_list, queue_incoming);

static struct {
	struct tree			 msgs;		/* msgid -> incoming */
	struct queue_incoming_list	 window;	/* commits waiting */
	size_t				 nwindow;
	size_t				 nopen;		/* `open` ones */
	struct event			*timer;
	struct timeval			 delay;
} queue_incoming;

/*
 * the batch being committed, and the thread that commits it: the loop
 * fills the arrays and sets `pending`; the thread takes it, commits,
 * sets `done` and writes a byte to the pipe; the loop reads the results
 * once it saw `done` (the lock orders both ways).  The arrays are the
 * loop's while no batch is in flight, the thread's while one is.
 */
static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 running;	/* the thread was made */
	int			 pending;	/* handed over, not taken */
	int			 done;		/* committed, not yet read */
	int			 inflight;	/* out of the window, not done */
	int			 pipe[2];	/* thread -> loop */
	struct event		*ev;
	size_t			 n;
	struct queue_incoming	*batch[QUEUE_COMMIT_BATCH_MAX];
	uint32_t		 msgids[QUEUE_COMMIT_BATCH_MAX];
	int			 fds[QUEUE_COMMIT_BATCH_MAX];
	int			 results[QUEUE_COMMIT_BATCH_MAX];
	uint64_t		 took_us;	/* the batch's commit */
	int			 lone_slow;	/* the last lone one was
						   slower than
						   QUEUE_LOOP_COMMIT_MAX_MS */
} queue_committer = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.pipe = { -1, -1 },
};

/* messages made ahead, each with the body fd a create hands out */
static struct {
	struct queue_incoming	*q[QUEUE_SPARE_MAX];
	int			 fd[QUEUE_SPARE_MAX];
	size_t			 n;
	size_t			 max;		/* made ahead at most */
	struct event		*timer;
} queue_spare = { .max = QUEUE_SPARE_MAX };

/* a zero timer: the next turn of the loop, after pending I/O */
static const struct timeval	queue_zero = { 0, 0 };

static void	queue_incoming_on_window(evutil_socket_t, short, void *);
static void	queue_incoming_forget(struct queue_incoming *);
static void	queue_committer_on_done(evutil_socket_t, short, void *);
static void	queue_spare_on_timer(evutil_socket_t, short, void *);
static int	queue_spool_check(void);
static void	queue_spool_on_timer(evutil_socket_t, short, void *);

/* the spool's free space, as last seen (queue_spool_check) */
static struct {
	struct event	*timer;
	time_t		 last;
	int		 full;
} queue_spool;

/* queue_committer_run - commit the batch, timed (on the thread or on
 * the loop, whichever holds the arrays) */
static void
queue_committer_run(void)
{
	struct timespec	t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	(void)queue_commit_messages(queue_committer.n,
	    queue_committer.msgids, queue_committer.fds,
	    queue_committer.results);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	queue_committer.took_us = (uint64_t)(t1.tv_sec - t0.tv_sec) *
	    1000000 + (uint64_t)(t1.tv_nsec / 1000) -
	    (uint64_t)(t0.tv_nsec / 1000);
}

/* queue_committer_main - the commit thread: one batch after the other */
static void *
queue_committer_main(void *arg)
{
	char	c = 0;

	(void)arg;
	pthread_mutex_lock(&queue_committer.mu);
	for (;;) {
		while (!queue_committer.pending)
			pthread_cond_wait(&queue_committer.cv,
			    &queue_committer.mu);
		queue_committer.pending = 0;
		pthread_mutex_unlock(&queue_committer.mu);
		queue_committer_run();
		pthread_mutex_lock(&queue_committer.mu);
		queue_committer.done = 1;
		pthread_cond_broadcast(&queue_committer.cv);
		/* the loop that wakes takes the lock: not held meanwhile */
		pthread_mutex_unlock(&queue_committer.mu);
		while (write(queue_committer.pipe[1], &c, 1) == -1 &&
		    errno == EINTR)
			;
		pthread_mutex_lock(&queue_committer.mu);
	}
	return NULL;
}

/*
 * queue_committer_start - the commit thread and its pipe, when the
 * backend allows commits beside other calls; without them (logged)
 * commits run on the loop
 */
static void
queue_committer_start(struct event_base *base)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	sigset_t	all, old;
	int		i, ok;

	if (queue_committer.running || !queue_backend_commit_beside())
		return;
	if (pipe(queue_committer.pipe) == -1) {
		log_warn("queue: commit pipe (commits stay on the loop)");
		return;
	}
	for (i = 0; i < 2; i++)
		(void)fcntl(queue_committer.pipe[i], F_SETFD, FD_CLOEXEC);
	(void)fcntl(queue_committer.pipe[0], F_SETFL, O_NONBLOCK);
	if ((queue_committer.ev = event_new(base, queue_committer.pipe[0],
	    EV_READ | EV_PERSIST, queue_committer_on_done, NULL)) == NULL ||
	    event_add(queue_committer.ev, NULL) == -1)
		fatalx("queue: cannot watch the commit pipe");	/* start-up */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = pthread_create(&tid, &attr, queue_committer_main, NULL) == 0;
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok) {
		log_warnx("queue: no commit thread (commits stay on the "
		    "loop)");
		return;
	}
	queue_committer.running = 1;
}

/* queue_incoming_init - the module's state, on BASE */
void
queue_incoming_init(struct event_base *base, unsigned int window_ms)
{
	api_tree_init(&queue_incoming.msgs);
	TAILQ_INIT(&queue_incoming.window);
	queue_incoming.nwindow = 0;
	queue_incoming.delay.tv_sec = window_ms / 1000;
	queue_incoming.delay.tv_usec = (window_ms % 1000) * 1000;
	if ((queue_incoming.timer = evtimer_new(base,
	    queue_incoming_on_window, NULL)) == NULL)
		fatalx("queue: cannot make the commit timer");	/* start-up */
	if ((queue_spare.timer = evtimer_new(base, queue_spare_on_timer,
	    NULL)) == NULL)
		fatalx("queue: cannot make the spare timer");	/* start-up */
	if ((queue_spool.timer = evtimer_new(base, queue_spool_on_timer,
	    NULL)) == NULL)
		fatalx("queue: cannot make the spool timer");	/* start-up */
	queue_committer_start(base);
}

/* queue_incoming_free - forget every message being received: one not
 * committed is removed (no 250 was said for it; what a crash leaves,
 * recover discards at the next start); a batch being committed is
 * waited for first, and its messages are found by the next start's
 * walk */
void
queue_incoming_free(void)
{
	struct queue_incoming	*q;
	uint64_t		 id;

	pthread_mutex_lock(&queue_committer.mu);
	while (queue_committer.inflight && !queue_committer.done)
		pthread_cond_wait(&queue_committer.cv, &queue_committer.mu);
	queue_committer.inflight = queue_committer.done = 0;
	pthread_mutex_unlock(&queue_committer.mu);

	while (api_tree_root(&queue_incoming.msgs, &id, (void **)&q)) {
		if (!q->inflight && queue_delete_message(q->msgid) < 0)
			log_warnx("queue: msgid=%08" PRIx32 " not removed at "
			    "stop", q->msgid);
		queue_incoming_forget(q);
	}
	while (queue_spare.n > 0) {
		q = queue_spare.q[--queue_spare.n];
		close(queue_spare.fd[queue_spare.n]);
		(void)queue_delete_message(q->msgid);
		queue_incoming_forget(q);
	}
	if (queue_spare.timer != NULL)
		event_free(queue_spare.timer);
	queue_spare.timer = NULL;
	if (queue_spool.timer != NULL)
		event_free(queue_spool.timer);
	queue_spool.timer = NULL;
	api_tree_clear(&queue_incoming.msgs, NULL);
	TAILQ_INIT(&queue_incoming.window);
	queue_incoming.nwindow = 0;
	if (queue_incoming.timer != NULL)
		event_free(queue_incoming.timer);
	queue_incoming.timer = NULL;
}

void
queue_incoming_set_spares(size_t max)
{
	queue_spare.max = max < QUEUE_SPARE_MAX ? max : QUEUE_SPARE_MAX;
}

size_t
queue_incoming_count(void)
{
	return api_tree_count(&queue_incoming.msgs);
}

/* queue_incoming_result - a failure as the dispatcher reads it: < 0 */
static int
queue_incoming_result(int r)
{
	return r < 0 ? r : QUEUE_TEMPFAIL;
}

/* queue_incoming_find - the message MSGID being received, or NULL */
static struct queue_incoming *
queue_incoming_find(uint32_t msgid)
{
	return api_tree_get(&queue_incoming.msgs, msgid);
}

/* queue_incoming_close - Q is no longer one the window waits for */
static void
queue_incoming_close(struct queue_incoming *q)
{
	if (q->open) {
		q->open = 0;
		queue_incoming.nopen--;
	}
}

/* queue_incoming_forget - drop our record of Q (not the stored message) */
static void
queue_incoming_forget(struct queue_incoming *q)
{
	queue_incoming_close(q);
	(void)api_tree_pop(&queue_incoming.msgs, q->msgid);
	if (q->bodyfd != -1)
		close(q->bodyfd);
	free(q->evps);
	free(q);
}

/*
 * queue_incoming_body - the write fd handed to the dispatcher: the
 * backend's, or a memory file we keep for commit when it has none
 */
static int
queue_incoming_body(struct queue_incoming *q, int *fdp)
{
	if (queue_backend_takes_body_fd())
		return queue_open_message_write(q->msgid, fdp);
	if ((q->bodyfd = memfd_create("queue-body", MFD_CLOEXEC)) == -1 ||
	    (*fdp = dup(q->bodyfd)) == -1) {
		log_warn("queue: msgid=%08" PRIx32 " body file", q->msgid);
		return errno == ENOSPC ? QUEUE_NOSPACE : QUEUE_TEMPFAIL;
	}
	return QUEUE_OK;
}

/* queue_incoming_make - a new message, not yet in `msgs`, and the body
 * fd to hand out; a QUEUE_* result */
static int
queue_incoming_make(struct queue_incoming **qp, int *fdp)
{
	struct queue_incoming	*q;
	uint32_t		 msgid;
	int			 r;

	if ((r = queue_create_message(&msgid)) != QUEUE_OK)
		return queue_incoming_result(r);
	if ((q = calloc(1, sizeof *q)) == NULL) {
		log_warn("queue: msgid=%08" PRIx32, msgid);
		(void)queue_delete_message(msgid);
		return QUEUE_TEMPFAIL;
	}
	q->msgid = msgid;
	q->bodyfd = -1;
	q->error = QUEUE_OK;
	if ((r = queue_incoming_body(q, fdp)) != QUEUE_OK) {
		(void)queue_delete_message(q->msgid);
		queue_incoming_forget(q);	/* never in `msgs` */
		return queue_incoming_result(r);
	}
	*qp = q;
	return QUEUE_OK;
}

/* queue_spare_on_timer - one more spare, and again next turn while
 * there are fewer than QUEUE_SPARE_MAX; a failure waits for the next
 * create */
static void
queue_spare_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (queue_spare.n >= queue_spare.max || queue_spool_check() !=
	    QUEUE_OK || queue_incoming_make(&queue_spare.q[queue_spare.n],
	    &queue_spare.fd[queue_spare.n]) != QUEUE_OK)
		return;
	if (++queue_spare.n < queue_spare.max)
		evtimer_add(queue_spare.timer, &queue_zero);
}

/* queue_spare_refill - spares made from the next turn of the loop on */
static void
queue_spare_refill(void)
{
	if (queue_spare.n < queue_spare.max && queue_spare.timer != NULL &&
	    !evtimer_pending(queue_spare.timer, NULL))
		evtimer_add(queue_spare.timer, &queue_zero);
}

/* queue_incoming_new - a message being received and its body fd: a
 * spare, else one made now; a QUEUE_* result */
static int
queue_incoming_new(uint32_t *msgid, int *fdp)
{
	struct queue_incoming	*q;
	int			 r, err;

	if (queue_spare.n > 0) {
		q = queue_spare.q[--queue_spare.n];
		*fdp = queue_spare.fd[queue_spare.n];
	} else if ((r = queue_incoming_make(&q, fdp)) != QUEUE_OK)
		return r;
	(void)api_tree_set(&queue_incoming.msgs, q->msgid, q, &err);
	if (err == -1) {
		close(*fdp);
		(void)queue_delete_message(q->msgid);
		queue_incoming_forget(q);
		return QUEUE_TEMPFAIL;
	}
	*msgid = q->msgid;
	return QUEUE_OK;
}

/*
 * queue_spool_check - QUEUE_NOSPACE while the spool's file system has
 * less than SPOOL_FREE_PCT % of its blocks or inodes free (QUEUE-11):
 * new mail is refused (452) before the disk is full, so what is queued
 * can still be updated and delivered.  A backend without files (ram,
 * null) is never full here.  statvfs is asked at most once a second;
 * while the spool is full a timer asks again each second, so that the
 * log says "spool-ok" when space is back, not at the next create
 * (which the dispatcher's messages made ahead may delay for long).
 */
static void
queue_spool_probe(void)
{
	static const struct timeval	second = { 1, 0 };
	struct statvfs			sv;
	const char			*root;
	int				was = queue_spool.full;

	root = env->privsep ? "/" : env->opts.spool;
	queue_spool.last = time(NULL);
	if (statvfs(root, &sv) == -1)
		queue_spool.full = 0;	/* unknown: the writes will tell */
	else
		queue_spool.full = spool_space_low(&sv);
	if (queue_spool.full != was)
		log_event(0, "queue", queue_spool.full ? "spool-full" :
		    "spool-ok", "spool=%s free-min=%d%%", env->opts.spool,
		    SPOOL_FREE_PCT);
	if (queue_spool.full && queue_spool.timer != NULL &&
	    !evtimer_pending(queue_spool.timer, NULL))
		evtimer_add(queue_spool.timer, &second);
}

static void
queue_spool_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	queue_spool_probe();
}

static int
queue_spool_check(void)
{
	if (strcmp(env->opts.queue_backend, "fs") != 0)
		return QUEUE_OK;
	if (time(NULL) != queue_spool.last)
		queue_spool_probe();
	return queue_spool.full ? QUEUE_NOSPACE : QUEUE_OK;
}

void
queue_on_create_message(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_create_message	m;
	uint32_t			msgid = 0;
	int				fd = -1, r;

	if (msg_unpack_queue_create_message(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((r = queue_spool_check()) != QUEUE_OK ||
	    (r = queue_incoming_new(&msgid, &fd)) != QUEUE_OK) {
		log_warnx("queue: create failed r=%d", r);
		msg_send_queue_create_message_fail(p,
		    &(struct msg_queue_create_message_fail){ .reqid = m.reqid,
		    .r = r });
		return;
	}
	log_debug("queue: msgid=%08" PRIx32 " created", msgid);
	msg_send_queue_create_message_result(p,
	    &(struct msg_queue_create_message_result){ .reqid = m.reqid,
	    .msgid = msgid, .fd = fd });
}

/* queue_incoming_remember - what the scheduler will learn of EVP */
static int
queue_incoming_remember(struct queue_incoming *q, const struct envelope *evp)
{
	struct msg_scheduler_insert_envelope	*n;
	size_t					 sz;

	if (q->nevps == q->evpsz) {
		sz = q->evpsz ? q->evpsz * 2 : 4;
		if ((n = reallocarray(q->evps, sz, sizeof *n)) == NULL) {
			log_warn("queue: msgid=%08" PRIx32, q->msgid);
			return QUEUE_TEMPFAIL;
		}
		q->evps = n;
		q->evpsz = sz;
	}
	queue_envelope_schedule(evp, &q->evps[q->nevps++]);
	return QUEUE_OK;
}

/*
 * queue_incoming_store - parse an envelope's text, give it its creation
 * time and the queue ttl when it has none, store it in Q and remember it
 */
static int
queue_incoming_store(struct queue_incoming *q, const char *text,
    size_t len)
{
	struct envelope	*evp;
	char		 err[256];
	int		 r;

	if (q->nevps >= QUEUE_MESSAGE_ENVELOPES_MAX) {
		log_warnx("queue: msgid=%08" PRIx32 " too many envelopes",
		    q->msgid);
		return QUEUE_TEMPFAIL;
	}
	if ((evp = envelope_new()) == NULL) {
		log_warn("queue: msgid=%08" PRIx32, q->msgid);
		return QUEUE_TEMPFAIL;
	}
	if (envelope_load(evp, text, len, err, sizeof err) == -1) {
		log_warnx("queue: msgid=%08" PRIx32 " envelope refused: %s",
		    q->msgid, err);
		envelope_free(&evp);
		return QUEUE_TEMPFAIL;
	}
	if (evp->creation == 0)
		evp->creation = time(NULL);
	if (evp->ttl == 0 && env->conf != NULL)
		evp->ttl = (time_t)env->conf->queue_ttl;
	if ((r = queue_create_envelope(q->msgid, evp)) == QUEUE_OK)
		r = queue_incoming_remember(q, evp);
	else
		log_warnx("queue: msgid=%08" PRIx32 " envelope not stored "
		    "r=%d", q->msgid, r);
	envelope_free(&evp);
	return r == QUEUE_OK ? r : queue_incoming_result(r);
}

void
queue_on_submit_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_submit_envelope	 m;
	struct queue_incoming			*q;

	if (msg_unpack_queue_submit_envelope(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((q = queue_incoming_find(m.msgid)) == NULL || q->committing) {
		log_warnx("queue: msgid=%08" PRIx32 " envelope for a message "
		    "%s, dropped", m.msgid, q == NULL ? "not being received" :
		    "already committing");
		return;
	}
	if (!q->open) {		/* its transaction began: waited for */
		q->open = 1;
		queue_incoming.nopen++;
	}
	if (q->error != QUEUE_OK)
		return;		/* the commit will fail anyway */
	q->error = queue_incoming_store(q, m.envelope, m.envelope_len);
}

/*
 * queue_incoming_done - the end of Q's commit with result R: answer the
 * dispatcher and tell the scheduler (committed), or drop the message
 * and answer (failed); then forget Q
 */
static void
queue_incoming_done(struct queue_incoming *q, int r)
{
	size_t	i;

	if (q->withdrawn && r == QUEUE_OK) {
		/* deleted while its batch ran: it goes again */
		log_debug("queue: msgid=%08" PRIx32 " withdrawn during its "
		    "commit", q->msgid);
		r = QUEUE_TEMPFAIL;
	}
	if (r == QUEUE_OK) {
		/* the result first: its channel is flushed first at the
		 * end of this turn (event_active order), so the 250 does
		 * not wait for the scheduler's write */
		msg_send_queue_commit_message_result(q->p,
		    &(struct msg_queue_commit_message_result){
		    .reqid = q->reqid, .r = r });
		for (i = 0; i < q->nevps; i++)
			queue_tell_scheduler_insert(&q->evps[i]);
		queue_tell_scheduler_commit(q->msgid);
		stats_add("queue.message.committed", 1);
		stats_add("queue.envelope.committed", (long long)q->nevps);
		log_info(QUEUE_LOG_ID " queue commit msgid=%08" PRIx32
		    " envelopes=%zu", q->msgid, q->nevps);
	} else {
		r = queue_incoming_result(r);
		if (queue_delete_message(q->msgid) < 0)
			log_warnx("queue: msgid=%08" PRIx32 " not removed "
			    "after its failed commit", q->msgid);
		log_warnx("queue: msgid=%08" PRIx32 " commit failed r=%d",
		    q->msgid, r);
		msg_send_queue_commit_message_result(q->p,
		    &(struct msg_queue_commit_message_result){
		    .reqid = q->reqid, .r = r });
	}
	queue_incoming_forget(q);
}

/* queue_lone_commit_slow - whether lone commits should leave the loop,
 * given the verdict so far and how long the last batch of one took:
 * slow past QUEUE_LOOP_COMMIT_MAX_MS, fast again under half of it (a
 * disk near the bound does not flip the verdict at every commit) */
int
queue_lone_commit_slow(int slow, uint64_t took_us)
{
	if (slow)
		return took_us >= QUEUE_LOOP_COMMIT_MAX_MS * 500;
	return took_us > QUEUE_LOOP_COMMIT_MAX_MS * 1000;
}

/* queue_incoming_finish - the batch of the committer's arrays is done:
 * each message's end, then the next batch if more came */
static void
queue_incoming_finish(void)
{
	size_t	i, n = queue_committer.n;

	queue_committer.n = 0;
	if (n > 1)
		log_debug("queue: group commit messages=%zu", n);
	else if (n == 1 && queue_lone_commit_slow(queue_committer.lone_slow,
	    queue_committer.took_us) != queue_committer.lone_slow) {
		queue_committer.lone_slow = !queue_committer.lone_slow;
		/* debug: a checkpoint's syncfs flips it on a fast disk */
		log_debug("queue: lone commits on the %s: the last took "
		    "%" PRIu64 " ms", queue_committer.lone_slow ?
		    "commit thread" : "loop", queue_committer.took_us / 1000);
	}
	for (i = 0; i < n; i++)
		queue_incoming_done(queue_committer.batch[i],
		    queue_committer.results[i]);
	/* more than one batch came, or came while this one ran */
	if (!TAILQ_EMPTY(&queue_incoming.window))
		evtimer_add(queue_incoming.timer, &queue_zero);
}

/* queue_committer_on_done - the thread says a batch is done */
static void
queue_committer_on_done(evutil_socket_t fd, short ev, void *arg)
{
	char	buf[16];
	int	done;

	(void)ev;
	(void)arg;
	while (read(fd, buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&queue_committer.mu);
	done = queue_committer.done;
	queue_committer.done = 0;
	if (done)
		queue_committer.inflight = 0;
	pthread_mutex_unlock(&queue_committer.mu);
	if (done)
		queue_incoming_finish();
}

/* queue_incoming_on_window - the window closed: commit what came in it,
 * on the commit thread when there is one (unless a batch runs: its end
 * comes back here), else on the loop */
static void
queue_incoming_on_window(evutil_socket_t fd, short ev, void *arg)
{
	struct queue_incoming	*q;
	size_t			 n = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	if (queue_committer.inflight)
		return;
	while (n < QUEUE_COMMIT_BATCH_MAX &&
	    (q = TAILQ_FIRST(&queue_incoming.window)) != NULL) {
		TAILQ_REMOVE(&queue_incoming.window, q, entry);
		queue_incoming.nwindow--;
		if (q->error != QUEUE_OK) {
			queue_incoming_done(q, q->error);
			continue;
		}
		/* our body file: from its start, whatever a backend reads */
		if (q->bodyfd != -1 && lseek(q->bodyfd, 0, SEEK_SET) == -1) {
			log_warn("queue: msgid=%08" PRIx32 " body", q->msgid);
			queue_incoming_done(q, QUEUE_TEMPFAIL);
			continue;
		}
		q->inflight = 1;
		queue_committer.batch[n] = q;
		queue_committer.msgids[n] = q->msgid;
		queue_committer.fds[n++] = q->bodyfd;
	}
	queue_committer.n = n;
	if (n == 0)
		return;
	/* a lone message, nobody else being received: the loop has
	 * nothing to do meanwhile, so it commits itself (two thread
	 * switches less on the client's wait), unless the last lone
	 * commit was slow (deliveries and creates would wait for it) */
	if (queue_committer.running && !(n == 1 &&
	    queue_incoming.nopen == 0 && !queue_committer.lone_slow)) {
		pthread_mutex_lock(&queue_committer.mu);
		queue_committer.inflight = queue_committer.pending = 1;
		pthread_mutex_unlock(&queue_committer.mu);
		/* woken out of the lock, so that it does not wait for it */
		pthread_cond_broadcast(&queue_committer.cv);
		/* the loop waits for the batch: time to make spares */
		queue_spare_refill();
		return;
	}
	queue_committer_run();
	queue_incoming_finish();
	queue_spare_refill();
}

void
queue_on_commit_message(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_commit_message	 m;
	struct queue_incoming		*q;

	if (msg_unpack_queue_commit_message(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((q = queue_incoming_find(m.msgid)) == NULL || q->committing) {
		log_warnx("queue: msgid=%08" PRIx32 " commit of a message %s",
		    m.msgid, q == NULL ? "not being received" :
		    "already committing");
		msg_send_queue_commit_message_result(p,
		    &(struct msg_queue_commit_message_result){
		    .reqid = m.reqid, .r = QUEUE_TEMPFAIL });
		return;
	}
	q->committing = 1;
	queue_incoming_close(q);
	q->reqid = m.reqid;
	q->p = p;
	TAILQ_INSERT_TAIL(&queue_incoming.window, q, entry);
	queue_incoming.nwindow++;
	/* no other message in a transaction: nobody to wait for */
	if (queue_incoming.nopen == 0)
		evtimer_add(queue_incoming.timer, &queue_zero);
	else if (!evtimer_pending(queue_incoming.timer, NULL))
		evtimer_add(queue_incoming.timer, &queue_incoming.delay);
}

void
queue_on_delete_message(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_delete_message	 m;
	struct queue_incoming		*q;
	int				 r;

	if (msg_unpack_queue_delete_message(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((q = queue_incoming_find(m.msgid)) == NULL) {
		log_warnx("queue: msgid=%08" PRIx32 " delete of a message not "
		    "being received, ignored", m.msgid);
		return;
	}
	if (q->inflight) {
		/* its batch runs: removed when it is done */
		q->withdrawn = 1;
		return;
	}
	if (q->committing) {
		/* withdrawn inside the window: its commit fails */
		TAILQ_REMOVE(&queue_incoming.window, q, entry);
		queue_incoming.nwindow--;
		queue_incoming_done(q, QUEUE_TEMPFAIL);
		return;
	}
	if ((r = queue_delete_message(m.msgid)) < 0)
		log_warnx("queue: msgid=%08" PRIx32 " not removed r=%d",
		    m.msgid, r);
	log_debug("queue: msgid=%08" PRIx32 " rolled back", m.msgid);
	queue_incoming_forget(q);
}
