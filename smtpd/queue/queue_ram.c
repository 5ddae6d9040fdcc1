/*
 * queue_ram.c -- the ram queue backend: messages and envelopes in memory.
 *
 * One backend, hosted two ways: linked into smtpd as queue "ram", and
 * wrapped by libexec/queue-ram.c as a helper served by queue_api_serve()
 * (the proc queue protocol, either numbering).  Written against api/
 * headers only; all its state hangs off the context open() returns.
 *
 * VOLATILE: everything is lost when the process exits.  It exists for
 * tests and as the smallest complete example of a queue backend; never
 * use it where an accepted message must survive a restart (STYLE 6.5).
 * Messages are copied into memory at commit and served back through an
 * anonymous memory file (memfd) by message_fd_r, so it needs no file
 * system and works inside a chroot.  A message disappears with its last
 * envelope (libexec-protocols.md 5.2, MESSAGE_DELETE).  Never exits.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"	/* log_* of the glue */
#include "queue_api.h"

struct queue_ram_envelope {
	RB_ENTRY(queue_ram_envelope)	 entry;
	uint64_t			 evpid;
	size_t				 len;
	char				*buf;
};

struct queue_ram_message {
	RB_ENTRY(queue_ram_message)	 entry;
	uint32_t			 msgid;
	int				 committed;
	int				 corrupt;
	int				 wfd;	/* message_fd_w's memfd */
	size_t				 nenvelopes;
	char				*data;
	size_t				 size;
};

RB_HEAD(queue_ram_envelopes, queue_ram_envelope);
RB_HEAD(queue_ram_messages, queue_ram_message);

/* the backend's context */
struct queue_ram {
	struct queue_ram_messages	messages;
	struct queue_ram_envelopes	envelopes;
};

/* a walk's cursor, by value: deletions during the walk cannot upset it */
struct queue_ram_walk {
	int		end;		/* the last evpid was walked */
	uint64_t	next;		/* first evpid not walked */
};

static int
queue_ram_envelope_cmp(struct queue_ram_envelope *a,
    struct queue_ram_envelope *b)
{
	return a->evpid < b->evpid ? -1 : a->evpid > b->evpid;
}

static int
queue_ram_message_cmp(struct queue_ram_message *a, struct queue_ram_message *b)
{
	return a->msgid < b->msgid ? -1 : a->msgid > b->msgid;
}

/* not _STATIC: libbsd's tree.h marks those with an undefined __unused */
RB_PROTOTYPE(queue_ram_envelopes, queue_ram_envelope, entry,
    queue_ram_envelope_cmp)
RB_PROTOTYPE(queue_ram_messages, queue_ram_message, entry,
    queue_ram_message_cmp)
RB_GENERATE(queue_ram_envelopes, queue_ram_envelope, entry,
    queue_ram_envelope_cmp)
RB_GENERATE(queue_ram_messages, queue_ram_message, entry,
    queue_ram_message_cmp)

/* queue_ram_find_message - the message msgid, or NULL */
static struct queue_ram_message *
queue_ram_find_message(struct queue_ram *q, uint32_t msgid)
{
	struct queue_ram_message	key;

	key.msgid = msgid;
	return RB_FIND(queue_ram_messages, &q->messages, &key);
}

/* queue_ram_find_envelope - the envelope evpid, or NULL */
static struct queue_ram_envelope *
queue_ram_find_envelope(struct queue_ram *q, uint64_t evpid)
{
	struct queue_ram_envelope	key;

	key.evpid = evpid;
	return RB_FIND(queue_ram_envelopes, &q->envelopes, &key);
}

/* queue_ram_next_envelope - the first envelope with evpid >= from */
static struct queue_ram_envelope *
queue_ram_next_envelope(struct queue_ram *q, uint64_t from)
{
	struct queue_ram_envelope	key;

	key.evpid = from;
	return RB_NFIND(queue_ram_envelopes, &q->envelopes, &key);
}

/* queue_ram_free_envelope - unlink and free one envelope */
static void
queue_ram_free_envelope(struct queue_ram *q, struct queue_ram_envelope *e)
{
	RB_REMOVE(queue_ram_envelopes, &q->envelopes, e);
	free(e->buf);
	free(e);
}

/* queue_ram_free_message - unlink and free a message and its envelopes */
static void
queue_ram_free_message(struct queue_ram *q, struct queue_ram_message *m)
{
	struct queue_ram_envelope	*e;

	while ((e = queue_ram_next_envelope(q, (uint64_t)m->msgid << 32)) !=
	    NULL && (uint32_t)(e->evpid >> 32) == m->msgid)
		queue_ram_free_envelope(q, e);
	RB_REMOVE(queue_ram_messages, &q->messages, m);
	if (m->wfd != -1)
		close(m->wfd);
	free(m->data);
	free(m);
}

/* queue_ram_open - an empty queue; root is not used */
static void *
queue_ram_open(const char *root)
{
	struct queue_ram	*q;

	if ((q = calloc(1, sizeof *q)) == NULL) {
		log_warn("queue-ram: open");
		return NULL;
	}
	RB_INIT(&q->messages);
	RB_INIT(&q->envelopes);
	return q;
}

/* queue_ram_close - forget everything */
static void
queue_ram_close(void *ctx)
{
	struct queue_ram		*q = ctx;
	struct queue_ram_message	*m;
	struct queue_ram_envelope	*e;

	if (q == NULL)
		return;
	while ((m = RB_MIN(queue_ram_messages, &q->messages)) != NULL)
		queue_ram_free_message(q, m);
	/* envelopes of no message: none are created, but be thorough */
	while ((e = RB_MIN(queue_ram_envelopes, &q->envelopes)) != NULL)
		queue_ram_free_envelope(q, e);
	free(q);
}

static int
queue_ram_finish(void *ctx)
{
	return QUEUE_OK;
}

/* queue_ram_message_create - a fresh random nonzero msgid */
static int
queue_ram_message_create(void *ctx, uint32_t *msgid)
{
	struct queue_ram		*q = ctx;
	struct queue_ram_message	*m;
	int				 i;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		log_warn("queue-ram: message_create");
		return QUEUE_TEMPFAIL;
	}
	m->wfd = -1;
	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		m->msgid = queue_backend_draw_id();
		if (m->msgid != 0 && queue_ram_find_message(q, m->msgid) ==
		    NULL)
			break;
	}
	if (i == QUEUE_ID_TRIES_MAX) {
		log_warnx("queue-ram: no free msgid after %d tries", i);
		free(m);
		return QUEUE_TEMPFAIL;
	}
	RB_INSERT(queue_ram_messages, &q->messages, m);
	*msgid = m->msgid;
	return QUEUE_OK;
}

/* queue_ram_message_fd_w - a memory file the caller writes the body to */
static int
queue_ram_message_fd_w(void *ctx, uint32_t msgid, int *fdp)
{
	struct queue_ram_message	*m;
	int				 fd;

	if ((m = queue_ram_find_message(ctx, msgid)) == NULL || m->committed)
		return QUEUE_NOTFOUND;
	if (m->wfd != -1) {
		log_warnx("queue-ram: msgid=%08x: body opened twice",
		    msgid);
		return QUEUE_TEMPFAIL;
	}
	if ((m->wfd = memfd_create("queue-ram", MFD_CLOEXEC)) == -1 ||
	    (fd = dup(m->wfd)) == -1) {
		log_warn("queue-ram: msgid=%08x: memfd", msgid);
		if (m->wfd != -1)
			close(m->wfd);
		m->wfd = -1;
		return QUEUE_TEMPFAIL;
	}
	*fdp = fd;
	return QUEUE_OK;
}

/* queue_ram_read_all - the whole content of fd, from where it stands */
static int
queue_ram_read_all(int fd, char **data, size_t *size)
{
	struct stat	 sb;
	size_t		 cap, len = 0;
	char		*buf = NULL, *nbuf;
	ssize_t		 n;

	cap = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 ?
	    (size_t)sb.st_size + 1 : 8192;
	for (;;) {
		if (len == cap || buf == NULL) {
			if (buf != NULL)
				cap *= 2;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*data = buf;
	*size = len;
	return 0;
fail:
	free(buf);
	return -1;
}

/* queue_ram_message_commit - take the content: fd's, or message_fd_w's */
static int
queue_ram_message_commit(void *ctx, uint32_t msgid, int fd)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(ctx, msgid)) == NULL || m->committed) {
		log_warnx("queue-ram: commit of unknown msgid %08x", msgid);
		return QUEUE_NOTFOUND;
	}
	if (fd == -1) {
		if ((fd = m->wfd) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
			log_warnx("queue-ram: msgid=%08x committed without "
			    "a body", msgid);
			return QUEUE_NOTFOUND;
		}
	}
	if (queue_ram_read_all(fd, &m->data, &m->size) == -1) {
		log_warn("queue-ram: msgid=%08x: reading the message",
		    msgid);
		return QUEUE_TEMPFAIL;
	}
	if (m->wfd != -1) {
		close(m->wfd);
		m->wfd = -1;
	}
	m->committed = 1;
	log_debug("queue-ram: msgid=%08x committed size=%zu "
	    "envelopes=%zu", msgid, m->size, m->nenvelopes);
	return QUEUE_OK;
}

/* queue_ram_message_delete - a rolled back transaction: all of it */
static int
queue_ram_message_delete(void *ctx, uint32_t msgid)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(ctx, msgid)) == NULL)
		return QUEUE_NOTFOUND;
	queue_ram_free_message(ctx, m);
	return QUEUE_OK;
}

/* queue_ram_message_fd_r - a private memory file holding the message */
static int
queue_ram_message_fd_r(void *ctx, uint32_t msgid, int *fdp)
{
	struct queue_ram_message	*m;
	size_t				 off;
	ssize_t				 n;
	int				 fd;

	if ((m = queue_ram_find_message(ctx, msgid)) == NULL ||
	    !m->committed || m->corrupt)
		return QUEUE_NOTFOUND;
	if ((fd = memfd_create("queue-ram", MFD_CLOEXEC)) == -1) {
		log_warn("queue-ram: msgid=%08x: memfd_create", msgid);
		return QUEUE_TEMPFAIL;
	}
	for (off = 0; off < m->size; off += (size_t)n) {
		n = write(fd, m->data + off, m->size - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			log_warn("queue-ram: msgid=%08x: writing", msgid);
			close(fd);
			return QUEUE_TEMPFAIL;
		}
	}
	if (lseek(fd, 0, SEEK_SET) == -1) {
		log_warn("queue-ram: msgid=%08x: rewinding", msgid);
		close(fd);
		return QUEUE_TEMPFAIL;
	}
	*fdp = fd;
	return QUEUE_OK;
}

/* queue_ram_message_corrupt - extras: set aside, no longer walked */
static int
queue_ram_message_corrupt(void *ctx, uint32_t msgid)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(ctx, msgid)) == NULL)
		return QUEUE_NOTFOUND;
	m->corrupt = 1;
	return QUEUE_OK;
}

/* queue_ram_message_uncorrupt - extras: back in the queue */
static int
queue_ram_message_uncorrupt(void *ctx, uint32_t msgid)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(ctx, msgid)) == NULL || !m->corrupt)
		return QUEUE_NOTFOUND;
	m->corrupt = 0;
	return QUEUE_OK;
}

/* queue_ram_envelope_create - store a copy under a fresh evpid */
static int
queue_ram_envelope_create(void *ctx, uint32_t msgid, const char *buf,
    size_t len, uint64_t *evpid)
{
	struct queue_ram		*q = ctx;
	struct queue_ram_message	*m;
	struct queue_ram_envelope	*e;
	uint32_t			 rnd;
	int				 i;

	if ((m = queue_ram_find_message(q, msgid)) == NULL) {
		log_warnx("queue-ram: envelope for unknown msgid %08x",
		    msgid);
		return QUEUE_NOTFOUND;
	}
	if (len == 0 || len > QUEUE_API_ENVELOPE_MAX) {
		log_warnx("queue-ram: msgid=%08x envelope of %zu bytes "
		    "refused", msgid, len);
		return QUEUE_TEMPFAIL;
	}
	if ((e = calloc(1, sizeof *e)) == NULL ||
	    (e->buf = malloc(len)) == NULL) {
		log_warn("queue-ram: envelope_create");
		free(e);
		return QUEUE_TEMPFAIL;
	}
	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		rnd = queue_backend_draw_id();
		e->evpid = (uint64_t)msgid << 32 | rnd;
		if (rnd != 0 && queue_ram_find_envelope(q, e->evpid) == NULL)
			break;
	}
	if (i == QUEUE_ID_TRIES_MAX) {
		log_warnx("queue-ram: msgid=%08x no free evpid", msgid);
		free(e->buf);
		free(e);
		return QUEUE_TEMPFAIL;
	}
	memcpy(e->buf, buf, len);
	e->len = len;
	RB_INSERT(queue_ram_envelopes, &q->envelopes, e);
	m->nenvelopes++;
	*evpid = e->evpid;
	return QUEUE_OK;
}

/* queue_ram_envelope_delete - the message goes with its last envelope */
static int
queue_ram_envelope_delete(void *ctx, uint64_t evpid)
{
	struct queue_ram		*q = ctx;
	struct queue_ram_envelope	*e;
	struct queue_ram_message	*m;

	if ((e = queue_ram_find_envelope(q, evpid)) == NULL)
		return QUEUE_NOTFOUND;
	queue_ram_free_envelope(q, e);
	if ((m = queue_ram_find_message(q, evpid >> 32)) != NULL &&
	    --m->nenvelopes == 0 && m->committed) {
		log_debug("queue-ram: msgid=%08x: last envelope gone",
		    m->msgid);
		queue_ram_free_message(q, m);
	}
	return QUEUE_OK;
}

/* queue_ram_envelope_update - replace the stored bytes */
static int
queue_ram_envelope_update(void *ctx, uint64_t evpid, const char *buf,
    size_t len)
{
	struct queue_ram_envelope	*e;
	char				*nbuf;

	if ((e = queue_ram_find_envelope(ctx, evpid)) == NULL)
		return QUEUE_NOTFOUND;
	if (len == 0 || len > QUEUE_API_ENVELOPE_MAX) {
		log_warnx("queue-ram: evpid=%016llx envelope of %zu bytes "
		    "refused", (unsigned long long)evpid, len);
		return QUEUE_TEMPFAIL;
	}
	if ((nbuf = malloc(len)) == NULL) {
		log_warn("queue-ram: envelope_update");
		return QUEUE_TEMPFAIL;
	}
	memcpy(nbuf, buf, len);
	free(e->buf);
	e->buf = nbuf;
	e->len = len;
	return QUEUE_OK;
}

/* queue_ram_envelope_load - the stored bytes */
static int
queue_ram_envelope_load(void *ctx, uint64_t evpid, char *buf, size_t bufsz,
    size_t *lenp)
{
	struct queue_ram_envelope	*e;

	if ((e = queue_ram_find_envelope(ctx, evpid)) == NULL ||
	    e->len > bufsz)
		return QUEUE_NOTFOUND;
	memcpy(buf, e->buf, e->len);
	*lenp = e->len;
	return QUEUE_OK;
}

/* queue_ram_walkable - an envelope the queue walk reports: its message
 * is committed and not set aside */
static int
queue_ram_walkable(struct queue_ram *q, const struct queue_ram_envelope *e)
{
	struct queue_ram_message	*m;

	m = queue_ram_find_message(q, e->evpid >> 32);
	return m != NULL && m->committed && !m->corrupt;
}

static int
queue_ram_walk_open(void *ctx, struct queue_walk *w)
{
	struct queue_ram_walk	*rw;

	if ((rw = calloc(1, sizeof *rw)) == NULL) {
		log_warn("queue-ram: walk");
		return QUEUE_TEMPFAIL;
	}
	rw->next = (uint64_t)w->msgid << 32;
	w->data = rw;
	return QUEUE_OK;
}

static void
queue_ram_walk_close(void *ctx, struct queue_walk *w)
{
	free(w->data);
	w->data = NULL;
}

/*
 * queue_ram_walk_next - every envelope in evpid order (a queue walk
 * skips uncommitted and set-aside messages; the extras' message walk
 * never did), then QUEUE_NOTFOUND.  An envelope too big for buf is
 * passed over as a temporary failure ("call again").
 */
static int
queue_ram_walk_next(void *ctx, struct queue_walk *w, uint64_t *evpid,
    char *buf, size_t bufsz, size_t *lenp)
{
	struct queue_ram		*q = ctx;
	struct queue_ram_walk		*rw = w->data;
	struct queue_ram_envelope	*e;

	e = rw->end ? NULL : queue_ram_next_envelope(q, rw->next);
	while (e != NULL && w->msgid == 0 && !queue_ram_walkable(q, e))
		e = RB_NEXT(queue_ram_envelopes, &q->envelopes, e);
	if (e == NULL || (w->msgid != 0 &&
	    (uint32_t)(e->evpid >> 32) != w->msgid)) {
		rw->end = 1;
		return QUEUE_NOTFOUND;
	}
	if (e->evpid == UINT64_MAX)
		rw->end = 1;
	else
		rw->next = e->evpid + 1;
	*evpid = e->evpid;
	if (e->len > bufsz)
		return QUEUE_TEMPFAIL;
	memcpy(buf, e->buf, e->len);
	*lenp = e->len;
	return QUEUE_OK;
}

const struct queue_backend queue_backend_ram = {
	.version = QUEUE_BACKEND_V1,
	.name = "ram",
	.open = queue_ram_open,
	.close = queue_ram_close,
	.finish = queue_ram_finish,
	.message_create = queue_ram_message_create,
	.message_fd_w = queue_ram_message_fd_w,
	.message_commit = queue_ram_message_commit,
	.message_delete = queue_ram_message_delete,
	.message_fd_r = queue_ram_message_fd_r,
	.message_corrupt = queue_ram_message_corrupt,
	.message_uncorrupt = queue_ram_message_uncorrupt,
	.envelope_create = queue_ram_envelope_create,
	.envelope_delete = queue_ram_envelope_delete,
	.envelope_update = queue_ram_envelope_update,
	.envelope_load = queue_ram_envelope_load,
	.walk_open = queue_ram_walk_open,
	.walk_next = queue_ram_walk_next,
	.walk_close = queue_ram_walk_close,
};
