/*
 * queue_backend.c -- the queue process's storage entry points: pick the
 * configured backend, turn envelopes into their text and back.
 *
 * Runs in the queue process.  The backend sees envelope bytes only;
 * parsing happens here, once for every backend, so an envelope that
 * does not load is set aside (envelope_corrupt) and logged with its
 * evpid, never skipped silently and never fatal.  Ids come from
 * queue_backend_draw_id (api/queue_api.c), never 0.  Only
 * queue_backend_init may fail for good (start-up); everything after
 * returns QUEUE_* results.
 * Its state (the backend in use and its context) is private here.
 *
 * The envelope cache (QUEUE-12), in front of every backend: the text of
 * the envelopes lately created, updated or loaded, so that a delivery
 * loads what its commit just wrote without reading it back.  Off until
 * queue_evpcache_init (the queue process turns it on; tests and helper
 * programs see the backend alone).  Every change made through here
 * updates or drops an entry first, so an entry is never older than the
 * store; a file changed behind the daemon's back is its own business.
 */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api_tree.h"
#include "envelope.h"
#include "log.h"
#include "queue_backend.h"
#include "stats.h"

#define QUEUE_ERR_SIZE	256

static const struct queue_backend *const queue_backends[] = {
	&queue_backend_fs,
	&queue_backend_ram,
	&queue_backend_null,
};

/* the backend in use and its context, from init to close */
static const struct queue_backend	*queue_backend;
static void				*queue_backend_ctx;

/* one cached envelope text; most recently used first in the list */
struct queue_evpcache_entry {
	TAILQ_ENTRY(queue_evpcache_entry)	 lru;
	uint64_t				 evpid;
	size_t					 len;
	char					 text[];
};

static struct {
	struct tree					 byid;
	TAILQ_HEAD(queue_evpcache_lru, queue_evpcache_entry) lru;
	size_t						 n;
	size_t						 max;	/* 0: off */
} queue_evpcache = { .lru = TAILQ_HEAD_INITIALIZER(queue_evpcache.lru) };

static void
queue_evpcache_remove(struct queue_evpcache_entry *e)
{
	(void)api_tree_pop(&queue_evpcache.byid, e->evpid);
	TAILQ_REMOVE(&queue_evpcache.lru, e, lru);
	queue_evpcache.n--;
	free(e);
}

/* queue_evpcache_drop - EVPID is no longer cached */
static void
queue_evpcache_drop(uint64_t evpid)
{
	struct queue_evpcache_entry	*e;

	if (queue_evpcache.max == 0 ||
	    (e = api_tree_get(&queue_evpcache.byid, evpid)) == NULL)
		return;
	queue_evpcache_remove(e);
	stats_set("queue.evpcache.size", (long long)queue_evpcache.n);
}

/* queue_evpcache_drop_message - none of MSGID's envelopes is cached */
static void
queue_evpcache_drop_message(uint32_t msgid)
{
	struct queue_evpcache_entry	*e;
	void				*cursor = NULL;
	uint64_t			 evpid;

	if (queue_evpcache.max == 0)
		return;
	/* restarted after each removal: the walk does not survive one */
	while (api_tree_iterfrom(&queue_evpcache.byid, &cursor,
	    (uint64_t)msgid << 32, &evpid, (void **)&e) &&
	    evpid_to_msgid(evpid) == msgid) {
		queue_evpcache_remove(e);
		cursor = NULL;
	}
	stats_set("queue.evpcache.size", (long long)queue_evpcache.n);
}

/* queue_evpcache_put - EVPID's text is BUF (LEN bytes) */
static void
queue_evpcache_put(uint64_t evpid, const char *buf, size_t len)
{
	struct queue_evpcache_entry	*e, *old;
	int				 err = 0;

	if (queue_evpcache.max == 0)
		return;
	if ((old = api_tree_get(&queue_evpcache.byid, evpid)) != NULL)
		queue_evpcache_remove(old);
	if ((e = malloc(sizeof *e + len)) == NULL)
		goto out;	/* uncached: the store answers */
	e->evpid = evpid;
	e->len = len;
	memcpy(e->text, buf, len);
	if (api_tree_set(&queue_evpcache.byid, evpid, e, &err), err != 0) {
		free(e);
		goto out;
	}
	TAILQ_INSERT_HEAD(&queue_evpcache.lru, e, lru);
	if (++queue_evpcache.n > queue_evpcache.max)
		queue_evpcache_remove(TAILQ_LAST(&queue_evpcache.lru,
		    queue_evpcache_lru));
out:
	stats_set("queue.evpcache.size", (long long)queue_evpcache.n);
}

/* queue_evpcache_get - EVPID's cached text into BUF (BUFSZ): 1, or 0 */
static int
queue_evpcache_get(uint64_t evpid, char *buf, size_t bufsz, size_t *lenp)
{
	struct queue_evpcache_entry	*e;

	if (queue_evpcache.max == 0)
		return 0;
	if ((e = api_tree_get(&queue_evpcache.byid, evpid)) == NULL ||
	    e->len > bufsz) {
		stats_add("queue.evpcache.load.missed", 1);
		return 0;
	}
	memcpy(buf, e->text, e->len);
	*lenp = e->len;
	TAILQ_REMOVE(&queue_evpcache.lru, e, lru);
	TAILQ_INSERT_HEAD(&queue_evpcache.lru, e, lru);
	stats_add("queue.evpcache.load.hit", 1);
	return 1;
}

/* queue_evpcache_clear - forget every entry */
static void
queue_evpcache_clear(void)
{
	struct queue_evpcache_entry	*e;

	while ((e = TAILQ_FIRST(&queue_evpcache.lru)) != NULL)
		queue_evpcache_remove(e);
}

void
queue_evpcache_init(size_t max)
{
	queue_evpcache_clear();
	if (queue_evpcache.max == 0)
		api_tree_init(&queue_evpcache.byid);
	queue_evpcache.max = max;
	if (max > 0)
		stats_set("queue.evpcache.size", 0);
}

size_t
queue_evpcache_count(void)
{
	return queue_evpcache.n;
}

/* queue_backend_lookup - a backend by its configuration name, or NULL */
const struct queue_backend *
queue_backend_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof queue_backends / sizeof queue_backends[0]; i++)
		if (strcmp(queue_backends[i]->name, name) == 0)
			return queue_backends[i];
	return NULL;
}

/* queue_backend_init - start backend NAME on the spool ROOT; -1 unusable */
int
queue_backend_init(const char *name, const char *root)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_lookup(name)) == NULL) {
		log_warnx("queue: unknown backend \"%s\"", name);
		return -1;
	}
	return queue_backend_start(b, root);
}

/* queue_backend_start - start backend B on the spool ROOT; -1 unusable */
int
queue_backend_start(const struct queue_backend *b, const char *root)
{
	if (b->version != QUEUE_BACKEND_V1) {
		log_warnx("queue: backend %s has version %d", b->name,
		    b->version);
		return -1;
	}
	if ((queue_backend_ctx = b->open(root)) == NULL)
		return -1;
	queue_backend = b;
	return 0;
}

/* queue_backend_close - stop the backend in use */
void
queue_backend_close(void)
{
	if (queue_backend != NULL)
		queue_backend->close(queue_backend_ctx);
	queue_evpcache_clear();
	queue_backend = NULL;
	queue_backend_ctx = NULL;
}

/* queue_backend_context - the context of the backend in use, or NULL */
void *
queue_backend_context(void)
{
	return queue_backend_ctx;
}

/* queue_backend_ready - the backend in use, or NULL (logged) */
static const struct queue_backend *
queue_backend_ready(void)
{
	if (queue_backend == NULL)
		log_warnx("queue: no backend initialized");
	return queue_backend;
}

/* queue_recover - start-up pass over what a crash may have left */
int
queue_recover(struct queue_recovery *rec)
{
	const struct queue_backend	*b;

	memset(rec, 0, sizeof *rec);
	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	if (b->recover == NULL)
		return QUEUE_OK;	/* nothing survives a restart */
	return b->recover(queue_backend_ctx, rec);
}

/* queue_create_message - a new message being received */
int
queue_create_message(uint32_t *msgid)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	return b->message_create(queue_backend_ctx, msgid);
}

/* queue_open_message_write - the fd the body is written to, once */
int
queue_open_message_write(uint32_t msgid, int *fdp)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	if (b->message_fd_w == NULL) {
		log_warnx("queue: backend %s takes no body by fd", b->name);
		return QUEUE_TEMPFAIL;
	}
	return b->message_fd_w(queue_backend_ctx, msgid, fdp);
}

/* queue_commit_message - on stable storage; only then may 250 be sent */
int
queue_commit_message(uint32_t msgid)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	return b->message_commit(queue_backend_ctx, msgid, -1);
}

/* queue_backend_ready_for - the backend for a batch of N, or NULL with
 * every one of RESULTS a temporary failure */
static const struct queue_backend *
queue_backend_ready_for(size_t n, int *results)
{
	const struct queue_backend	*b;
	size_t				 i;

	if ((b = queue_backend_ready()) == NULL)
		for (i = 0; i < n; i++)
			results[i] = QUEUE_TEMPFAIL;
	return b;
}

/* queue_commit_messages - group commit, by the backend's batch method
 * when it has one, else one by one */
int
queue_commit_messages(size_t n, const uint32_t *msgids, const int *fds,
    int *results)
{
	const struct queue_backend	*b;
	size_t				 i;
	int				 r = QUEUE_OK;

	if ((b = queue_backend_ready_for(n, results)) == NULL)
		return QUEUE_TEMPFAIL;
	if (b->message_commit_batch != NULL)
		return b->message_commit_batch(queue_backend_ctx, n, msgids,
		    fds, results);
	for (i = 0; i < n; i++) {
		results[i] = b->message_commit(queue_backend_ctx, msgids[i],
		    fds != NULL ? fds[i] : -1);
		if (r == QUEUE_OK && results[i] != QUEUE_OK)
			r = results[i];
	}
	return r;
}

/* queue_backend_commit_beside - may a commit run in a thread beside the
 * other calls (queue_api.h)? */
int
queue_backend_commit_beside(void)
{
	return queue_backend != NULL && queue_backend->commit_beside;
}

/* queue_backend_takes_body_fd - does the backend hand out a write fd? */
int
queue_backend_takes_body_fd(void)
{
	return queue_backend != NULL && queue_backend->message_fd_w != NULL;
}

/* queue_delete_message - a message and all its envelopes */
int
queue_delete_message(uint32_t msgid)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	queue_evpcache_drop_message(msgid);
	return b->message_delete(queue_backend_ctx, msgid);
}

/* queue_open_message_read - a read-only fd of a committed body */
int
queue_open_message_read(uint32_t msgid, int *fdp)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	return b->message_fd_r(queue_backend_ctx, msgid, fdp);
}

/* queue_create_envelope - store EVP in MSGID; sets evp->evpid */
int
queue_create_envelope(uint32_t msgid, struct envelope *evp)
{
	const struct queue_backend	*b;
	char				 buf[ENVELOPE_TEXT_MAX + 1];
	uint64_t			 evpid;
	int				 len, r;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	if ((len = envelope_dump(evp, buf, sizeof buf)) <= 0) {
		log_warnx("queue: msgid=%08" PRIx32 " envelope does not "
		    "dump", msgid);
		return QUEUE_TEMPFAIL;
	}
	if ((r = b->envelope_create(queue_backend_ctx, msgid, buf, (size_t)len,
	    &evpid)) == QUEUE_OK) {
		evp->evpid = evpid;
		queue_evpcache_put(evpid, buf, (size_t)len);
	}
	return r;
}

/* queue_delete_envelope - one envelope; the last one takes its message */
int
queue_delete_envelope(uint64_t evpid)
{
	const struct queue_backend	*b;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	queue_evpcache_drop(evpid);
	return b->envelope_delete(queue_backend_ctx, evpid);
}

/* queue_delete_envelopes - N envelopes, by the backend's batch method
 * when it has one (shared fsyncs), else one by one; RESULTS[i] each's */
int
queue_delete_envelopes(size_t n, const uint64_t *evpids, int *results)
{
	const struct queue_backend	*b;
	size_t				 i;
	int				 r = QUEUE_OK;

	if ((b = queue_backend_ready_for(n, results)) == NULL)
		return QUEUE_TEMPFAIL;
	for (i = 0; i < n; i++)
		queue_evpcache_drop(evpids[i]);
	if (b->envelope_delete_batch != NULL)
		return b->envelope_delete_batch(queue_backend_ctx, n, evpids,
		    results);
	for (i = 0; i < n; i++) {
		results[i] = b->envelope_delete(queue_backend_ctx, evpids[i]);
		if (r == QUEUE_OK && results[i] != QUEUE_OK)
			r = results[i];
	}
	return r;
}

/* queue_update_envelope - write EVP over its stored version */
int
queue_update_envelope(const struct envelope *evp)
{
	const struct queue_backend	*b;
	char				 buf[ENVELOPE_TEXT_MAX + 1];
	int				 len, r, hit;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	if ((len = envelope_dump(evp, buf, sizeof buf)) <= 0) {
		log_warnx("queue: evpid=%016" PRIx64 " envelope does not "
		    "dump", evp->evpid);
		return QUEUE_TEMPFAIL;
	}
	/* dropped first: a failed write may have left either text */
	hit = queue_evpcache.max > 0 &&
	    api_tree_check(&queue_evpcache.byid, evp->evpid);
	queue_evpcache_drop(evp->evpid);
	if ((r = b->envelope_update(queue_backend_ctx, evp->evpid, buf,
	    (size_t)len)) == QUEUE_OK && queue_evpcache.max > 0) {
		queue_evpcache_put(evp->evpid, buf, (size_t)len);
		stats_add(hit ? "queue.evpcache.update.hit" :
		    "queue.evpcache.update.missed", 1);
	}
	return r;
}

/*
 * queue_backend_parse - EVPID's LEN bytes into EVP; if they do not load,
 * log why, set the envelope aside and return QUEUE_NOTFOUND.
 */
static int
queue_backend_parse(const struct queue_backend *b, uint64_t evpid,
    const char *buf, size_t len, struct envelope *evp)
{
	char	err[QUEUE_ERR_SIZE];

	evp->evpid = evpid;
	if (envelope_load(evp, buf, len, err, sizeof err) == 0) {
		evp->evpid = evpid;
		return QUEUE_OK;
	}
	log_warnx("queue: evpid=%016" PRIx64 " corrupt envelope: %s", evpid,
	    err);
	if (b->envelope_corrupt == NULL ||
	    b->envelope_corrupt(queue_backend_ctx, evpid) < 0)
		log_warnx("queue: evpid=%016" PRIx64 " could not be set "
		    "aside; skipped until the next start", evpid);
	return QUEUE_NOTFOUND;
}

/* queue_load_envelope - EVPID into EVP; QUEUE_NOTFOUND if absent/corrupt */
int
queue_load_envelope(uint64_t evpid, struct envelope *evp)
{
	const struct queue_backend	*b;
	char				 buf[ENVELOPE_TEXT_MAX + 1];
	size_t				 len;
	int				 r;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	if (queue_evpcache_get(evpid, buf, sizeof buf, &len)) {
		/* the stored text is the same: set aside as well */
		if ((r = queue_backend_parse(b, evpid, buf, len, evp)) !=
		    QUEUE_OK)
			queue_evpcache_drop(evpid);
		return r;
	}
	/* one byte more than allowed: an oversized file is seen as such */
	if ((r = b->envelope_load(queue_backend_ctx, evpid, buf, sizeof buf,
	    &len)) != QUEUE_OK)
		return r;
	if ((r = queue_backend_parse(b, evpid, buf, len, evp)) == QUEUE_OK)
		queue_evpcache_put(evpid, buf, len);
	return r;
}

/* queue_walk_new - a cursor over every envelope, or MSGID's; NULL on error */
struct queue_walk *
queue_walk_new(uint32_t msgid)
{
	const struct queue_backend	*b;
	struct queue_walk		*w;

	if ((b = queue_backend_ready()) == NULL)
		return NULL;
	if ((w = calloc(1, sizeof *w)) == NULL) {
		log_warn("queue: walk");
		return NULL;
	}
	w->msgid = msgid;
	if (b->walk_open(queue_backend_ctx, w) != QUEUE_OK) {
		free(w);
		return NULL;
	}
	return w;
}

/*
 * queue_walk_next - the next envelope that loads into EVP: QUEUE_OK,
 * QUEUE_NOTFOUND at the end, < 0 on an error (step again later).
 * Corrupt envelopes on the way are set aside and logged.
 */
int
queue_walk_next(struct queue_walk *w, struct envelope *evp)
{
	const struct queue_backend	*b;
	char				 buf[ENVELOPE_TEXT_MAX + 1];
	uint64_t			 evpid;
	size_t				 len;
	int				 r;

	if ((b = queue_backend_ready()) == NULL)
		return QUEUE_TEMPFAIL;
	/* each turn consumes one stored envelope: bounded by the queue */
	for (;;) {
		if ((r = b->walk_next(queue_backend_ctx, w, &evpid, buf,
		    sizeof buf, &len)) != QUEUE_OK)
			return r;
		if (queue_backend_parse(b, evpid, buf, len, evp) == QUEUE_OK)
			return QUEUE_OK;
	}
}

/* queue_walk_free - release a cursor and clear the caller's pointer */
void
queue_walk_free(struct queue_walk **wp)
{
	if (*wp == NULL)
		return;
	if (queue_backend != NULL)
		queue_backend->walk_close(queue_backend_ctx, *wp);
	free(*wp);
	*wp = NULL;
}
