/*
 * queue_null.c -- the null queue backend: accepts everything, keeps
 * nothing.
 *
 * Selected with `smtpd -B queue=null` (QUEUE-16): message bodies go to
 * /dev/null, envelopes are acknowledged and forgotten, so every message
 * is accepted and none is ever delivered.  It exists to measure the
 * SMTP side without the cost of storage, and as the smallest backend.
 * NEVER use it where mail matters: what it accepts is lost by design.
 * Written against api/ headers only.  A body is written into an
 * anonymous memory file that nobody keeps: it is freed when the writer
 * closes it (no file system needed, the queue runs chrooted).
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "queue_api.h"

struct queue_null {
	int	unused;
};

static void *
queue_null_open(const char *root)
{
	return calloc(1, sizeof(struct queue_null));
}

static void
queue_null_close(void *ctx)
{
	free(ctx);
}

static int
queue_null_message_create(void *ctx, uint32_t *msgid)
{
	if ((*msgid = queue_backend_draw_id()) == 0)
		return QUEUE_TEMPFAIL;
	return QUEUE_OK;
}

/* queue_null_fd - a body's file: memory nobody reads, freed at close */
static int
queue_null_fd(void *ctx, uint32_t msgid, int *fdp)
{
	if ((*fdp = memfd_create("queue-null", MFD_CLOEXEC)) == -1)
		return QUEUE_TEMPFAIL;
	return QUEUE_OK;
}

static int
queue_null_fd_r(void *ctx, uint32_t msgid, int *fdp)
{
	return QUEUE_NOTFOUND;		/* nothing was kept */
}

static int
queue_null_ok(void *ctx, uint32_t msgid)
{
	return QUEUE_OK;
}

static int
queue_null_commit(void *ctx, uint32_t msgid, int fd)
{
	return QUEUE_OK;
}

static int
queue_null_envelope_create(void *ctx, uint32_t msgid, const char *buf,
    size_t len, uint64_t *evpid)
{
	uint32_t	low;

	if ((low = queue_backend_draw_id()) == 0)
		return QUEUE_TEMPFAIL;
	*evpid = (uint64_t)msgid << 32 | low;
	return QUEUE_OK;
}

static int
queue_null_envelope_ok(void *ctx, uint64_t evpid)
{
	return QUEUE_OK;
}

static int
queue_null_envelope_update(void *ctx, uint64_t evpid, const char *buf,
    size_t len)
{
	return QUEUE_OK;
}

static int
queue_null_envelope_load(void *ctx, uint64_t evpid, char *buf, size_t bufsz,
    size_t *lenp)
{
	return QUEUE_NOTFOUND;
}

static int
queue_null_walk_open(void *ctx, struct queue_walk *w)
{
	w->data = NULL;
	return QUEUE_OK;
}

static int
queue_null_walk_next(void *ctx, struct queue_walk *w, uint64_t *evpid,
    char *buf, size_t bufsz, size_t *lenp)
{
	return QUEUE_NOTFOUND;	/* the end, at once */
}

static void
queue_null_walk_close(void *ctx, struct queue_walk *w)
{
}

const struct queue_backend queue_backend_null = {
	.version = QUEUE_BACKEND_V1,
	.name = "null",
	.open = queue_null_open,
	.close = queue_null_close,
	.message_create = queue_null_message_create,
	.message_fd_w = queue_null_fd,
	.message_commit = queue_null_commit,
	.message_delete = queue_null_ok,
	.message_fd_r = queue_null_fd_r,
	.envelope_create = queue_null_envelope_create,
	.envelope_delete = queue_null_envelope_ok,
	.envelope_update = queue_null_envelope_update,
	.envelope_load = queue_null_envelope_load,
	.walk_open = queue_null_walk_open,
	.walk_next = queue_null_walk_next,
	.walk_close = queue_null_walk_close,
};
