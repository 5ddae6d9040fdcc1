/*
 * queue-ram.c -- a queue helper that keeps messages and envelopes in RAM.
 *
 * Started by the daemon as `queue-proc` with `-B queue=ram2` (any name
 * that is not built in) on fd 0; speaks the proc queue protocol through
 * api/queue_api (the daemon numbering, or the extras one with -X).
 *
 * VOLATILE: everything is lost when the helper exits.  It exists for
 * tests and as the smallest complete example of a queue driver; never
 * use it where an accepted message must survive a restart (STYLE 6.5).
 * Messages are copied into memory at COMMIT and served back through an
 * anonymous memory file (memfd) at FD_R, so the helper needs no file
 * system and works inside its chroot.  A message disappears with its
 * last envelope (libexec-protocols.md 5.2, MESSAGE_DELETE).
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

#include "smtpd-api.h"

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
	size_t				 nenvelopes;
	char				*data;
	size_t				 size;
};

RB_HEAD(queue_ram_envelopes, queue_ram_envelope);
RB_HEAD(queue_ram_messages, queue_ram_message);

static struct {
	struct queue_ram_messages	messages;
	struct queue_ram_envelopes	envelopes;
	int				walking;
	int				walk_end;	/* the last evpid was walked */
	uint64_t			walk_next;	/* first evpid not walked */
} queue_ram = {
	RB_INITIALIZER(&queue_ram.messages),
	RB_INITIALIZER(&queue_ram.envelopes),
	0, 0, 0,
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
queue_ram_find_message(uint32_t msgid)
{
	struct queue_ram_message	key;

	key.msgid = msgid;
	return RB_FIND(queue_ram_messages, &queue_ram.messages, &key);
}

/* queue_ram_find_envelope - the envelope evpid, or NULL */
static struct queue_ram_envelope *
queue_ram_find_envelope(uint64_t evpid)
{
	struct queue_ram_envelope	key;

	key.evpid = evpid;
	return RB_FIND(queue_ram_envelopes, &queue_ram.envelopes, &key);
}

/* queue_ram_next_envelope - the first envelope with evpid >= from */
static struct queue_ram_envelope *
queue_ram_next_envelope(uint64_t from)
{
	struct queue_ram_envelope	key;

	key.evpid = from;
	return RB_NFIND(queue_ram_envelopes, &queue_ram.envelopes, &key);
}

/* queue_ram_free_envelope - unlink and free one envelope */
static void
queue_ram_free_envelope(struct queue_ram_envelope *e)
{
	RB_REMOVE(queue_ram_envelopes, &queue_ram.envelopes, e);
	free(e->buf);
	free(e);
}

/* queue_ram_free_message - unlink and free a message and its envelopes */
static void
queue_ram_free_message(struct queue_ram_message *m)
{
	struct queue_ram_envelope	*e;

	while ((e = queue_ram_next_envelope((uint64_t)m->msgid << 32)) != NULL &&
	    (uint32_t)(e->evpid >> 32) == m->msgid)
		queue_ram_free_envelope(e);
	RB_REMOVE(queue_ram_messages, &queue_ram.messages, m);
	free(m->data);
	free(m);
}

/* queue_ram_message_create - a fresh random nonzero msgid */
static int
queue_ram_message_create(uint32_t *msgid)
{
	struct queue_ram_message	*m;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		log_warn("queue-ram: message_create");
		return 0;
	}
	do {
		m->msgid = arc4random();
	} while (m->msgid == 0 || queue_ram_find_message(m->msgid) != NULL);
	RB_INSERT(queue_ram_messages, &queue_ram.messages, m);
	*msgid = m->msgid;
	return 1;
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

/* queue_ram_message_commit - take the content; 1 or 0 */
static int
queue_ram_message_commit(uint32_t msgid, int fd)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(msgid)) == NULL || m->committed) {
		log_warnx("queue-ram: commit of unknown msgid %08x", msgid);
		return 0;
	}
	if (queue_ram_read_all(fd, &m->data, &m->size) == -1) {
		log_warn("queue-ram: msgid=%08x: reading the message", msgid);
		return 0;
	}
	m->committed = 1;
	log_debug("queue-ram: msgid=%08x committed size=%zu envelopes=%zu",
	    msgid, m->size, m->nenvelopes);
	return 1;
}

/* queue_ram_message_delete - a rolled back transaction: all of it */
static int
queue_ram_message_delete(uint32_t msgid)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(msgid)) == NULL)
		return 0;
	queue_ram_free_message(m);
	return 1;
}

/* queue_ram_message_fd_r - a private memory file holding the message */
static int
queue_ram_message_fd_r(uint32_t msgid)
{
	struct queue_ram_message	*m;
	size_t				 off;
	ssize_t				 n;
	int				 fd;

	if ((m = queue_ram_find_message(msgid)) == NULL || !m->committed ||
	    m->corrupt)
		return -1;
	if ((fd = memfd_create("queue-ram", MFD_CLOEXEC)) == -1) {
		log_warn("queue-ram: msgid=%08x: memfd_create", msgid);
		return -1;
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
			return -1;
		}
	}
	return fd;
}

/* queue_ram_message_corrupt - extras: set aside, no longer walked */
static int
queue_ram_message_corrupt(uint32_t msgid)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(msgid)) == NULL)
		return 0;
	m->corrupt = 1;
	return 1;
}

/* queue_ram_message_uncorrupt - extras: back in the queue */
static int
queue_ram_message_uncorrupt(uint32_t msgid)
{
	struct queue_ram_message	*m;

	if ((m = queue_ram_find_message(msgid)) == NULL || !m->corrupt)
		return 0;
	m->corrupt = 0;
	return 1;
}

/* queue_ram_envelope_create - store a copy under a fresh evpid */
static int
queue_ram_envelope_create(uint32_t msgid, const char *buf, size_t len,
    uint64_t *evpid)
{
	struct queue_ram_message	*m;
	struct queue_ram_envelope	*e;
	uint32_t			 rnd;

	if ((m = queue_ram_find_message(msgid)) == NULL) {
		log_warnx("queue-ram: envelope for unknown msgid %08x", msgid);
		return 0;
	}
	if ((e = calloc(1, sizeof *e)) == NULL ||
	    (e->buf = malloc(len)) == NULL) {
		log_warn("queue-ram: envelope_create");
		free(e);
		return 0;
	}
	do {
		rnd = arc4random();
		e->evpid = (uint64_t)msgid << 32 | rnd;
	} while (rnd == 0 || queue_ram_find_envelope(e->evpid) != NULL);
	memcpy(e->buf, buf, len);
	e->len = len;
	RB_INSERT(queue_ram_envelopes, &queue_ram.envelopes, e);
	m->nenvelopes++;
	*evpid = e->evpid;
	return 1;
}

/* queue_ram_envelope_delete - the message goes with its last envelope */
static int
queue_ram_envelope_delete(uint64_t evpid)
{
	struct queue_ram_envelope	*e;
	struct queue_ram_message	*m;

	if ((e = queue_ram_find_envelope(evpid)) == NULL)
		return 0;
	queue_ram_free_envelope(e);
	if ((m = queue_ram_find_message(evpid >> 32)) != NULL &&
	    --m->nenvelopes == 0 && m->committed) {
		log_debug("queue-ram: msgid=%08x: last envelope gone",
		    m->msgid);
		queue_ram_free_message(m);
	}
	return 1;
}

/* queue_ram_envelope_update - replace the stored bytes */
static int
queue_ram_envelope_update(uint64_t evpid, const char *buf, size_t len)
{
	struct queue_ram_envelope	*e;
	char				*nbuf;

	if ((e = queue_ram_find_envelope(evpid)) == NULL)
		return 0;
	if ((nbuf = malloc(len)) == NULL) {
		log_warn("queue-ram: envelope_update");
		return 0;
	}
	memcpy(nbuf, buf, len);
	free(e->buf);
	e->buf = nbuf;
	e->len = len;
	return 1;
}

/* queue_ram_envelope_load - the stored bytes, or 0 */
static int
queue_ram_envelope_load(uint64_t evpid, char *buf, size_t len)
{
	struct queue_ram_envelope	*e;

	if ((e = queue_ram_find_envelope(evpid)) == NULL || e->len > len)
		return 0;
	memcpy(buf, e->buf, e->len);
	return (int)e->len;
}

/* queue_ram_walkable - an envelope the walks report: its message is
 * committed and not set aside */
static int
queue_ram_walkable(const struct queue_ram_envelope *e)
{
	struct queue_ram_message	*m;

	m = queue_ram_find_message(e->evpid >> 32);
	return m != NULL && m->committed && !m->corrupt;
}

/* queue_ram_envelope_walk - every envelope in evpid order, then -1 */
static int
queue_ram_envelope_walk(uint64_t *evpid, char *buf, size_t len)
{
	struct queue_ram_envelope	*e;

	if (!queue_ram.walking) {
		queue_ram.walking = 1;
		queue_ram.walk_next = 0;
		queue_ram.walk_end = 0;
	}
	/* a cursor by value: deletions during the walk cannot upset it */
	e = queue_ram.walk_end ? NULL :
	    queue_ram_next_envelope(queue_ram.walk_next);
	while (e != NULL && !queue_ram_walkable(e))
		e = RB_NEXT(queue_ram_envelopes, &queue_ram.envelopes, e);
	if (e == NULL) {
		queue_ram.walking = 0;
		return -1;
	}
	if (e->evpid == UINT64_MAX)
		queue_ram.walk_end = 1;
	else
		queue_ram.walk_next = e->evpid + 1;
	*evpid = e->evpid;
	if (e->len > len)
		return 0;
	memcpy(buf, e->buf, e->len);
	return (int)e->len;
}

/* queue_ram_message_walk - extras: the envelopes of one message; the
 * cursor in *data is the lower half of the last evpid returned */
static int
queue_ram_message_walk(uint64_t *evpid, char *buf, size_t len,
    uint32_t msgid, int *done, void **data)
{
	struct queue_ram_envelope	*e;
	uint64_t			 from = (uint64_t)msgid << 32;
	uintptr_t			 last = (uintptr_t)*data;

	if (last != 0) {
		if (last == UINT32_MAX)
			return -1;
		from |= (uint64_t)last + 1;
	}
	e = queue_ram_next_envelope(from);
	if (e == NULL || (uint32_t)(e->evpid >> 32) != msgid)
		return -1;
	*data = (void *)(uintptr_t)(uint32_t)e->evpid;
	*evpid = e->evpid;
	if (e->len > len)
		return 0;
	memcpy(buf, e->buf, e->len);
	return (int)e->len;
}

static int
queue_ram_close(void)
{
	return 1;
}

int
main(int argc, char *argv[])
{
	int	i;

	if ((i = queue_api_init("queue-ram", argc, argv)) == -1)
		return 1;
	if (i != argc) {
		log_warnx("queue-ram: takes no argument, got %s", argv[i]);
		return 1;
	}
	queue_api_on_close(queue_ram_close);
	queue_api_on_message_create(queue_ram_message_create);
	queue_api_on_message_commit_fd(queue_ram_message_commit);
	queue_api_on_message_delete(queue_ram_message_delete);
	queue_api_on_message_fd_r(queue_ram_message_fd_r);
	queue_api_on_message_corrupt(queue_ram_message_corrupt);
	queue_api_on_message_uncorrupt(queue_ram_message_uncorrupt);
	queue_api_on_envelope_create(queue_ram_envelope_create);
	queue_api_on_envelope_delete(queue_ram_envelope_delete);
	queue_api_on_envelope_update(queue_ram_envelope_update);
	queue_api_on_envelope_load(queue_ram_envelope_load);
	queue_api_on_envelope_walk(queue_ram_envelope_walk);
	queue_api_on_message_walk(queue_ram_message_walk);
	return queue_api_dispatch();
}
