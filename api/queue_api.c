/*
 * queue_api.c -- helper side of the proc queue protocol (queue_api.h):
 * queue_api_serve() serves any struct queue_backend, and the callbacks
 * of OpenSMTPD's extras glue (queue_api_on_*) are one such backend.
 *
 * Runs inside a queue helper (libexec/queue-*), started as root by the
 * daemon's queue process with the socket on fd 0.  The conversation is
 * a synchronous RPC (libexec-protocols.md 1.3 and 5): one request, one
 * reply of type PROC_QUEUE_OK, under either numbering of section 5.1.
 * Requests are parsed with the wire reader: a wrong size, leftover
 * bytes, an unknown type, a missing or unexpected fd is a protocol
 * violation that ends the loop with status 1 before any callback runs;
 * it is never a crash.  A driver's odd answer is logged and answered as
 * a failure.  Nothing here calls exit; the only privileged step is the
 * chroot and setuid done once before the first read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "queue_api.h"
#include "queue_proto.h"
#include "api_proc.h"

#ifndef PATH_SMTPD_SPOOL
#define PATH_SMTPD_SPOOL	"/var/spool/smtpd"
#endif
#ifndef SMTPQ_USER
#define SMTPQ_USER		"_smtpq"
#endif

/* a payload of the protocol, request or reply */
#define QUEUE_API_PAYLOAD_MAX	(4 + 8 + QUEUE_API_ENVELOPE_MAX)

static int	queue_api_on_option(int, const char *);

static struct {
	int	(*on_close)(void);
	int	(*on_message_create)(uint32_t *);
	int	(*on_message_commit)(uint32_t, const char *);
	int	(*on_message_commit_fd)(uint32_t, int);
	int	(*on_message_delete)(uint32_t);
	int	(*on_message_fd_r)(uint32_t);
	int	(*on_message_corrupt)(uint32_t);
	int	(*on_message_uncorrupt)(uint32_t);
	int	(*on_envelope_create)(uint32_t, const char *, size_t,
		    uint64_t *);
	int	(*on_envelope_delete)(uint64_t);
	int	(*on_envelope_update)(uint64_t, const char *, size_t);
	int	(*on_envelope_load)(uint64_t, char *, size_t);
	int	(*on_envelope_walk)(uint64_t *, char *, size_t);
	int	(*on_message_walk)(uint64_t *, char *, size_t, uint32_t,
		    int *, void **);
	int		 extras;
	const char	*tmpdir;
	struct api_proc	 proc;
	/* the backend being served and its walks in progress */
	const struct queue_backend	*b;
	void				*ctx;
	struct queue_walks		 walks;
} queue_api = {
	.tmpdir = "/tmp",
	.proc = {
		.name = "queue-api",
		.ok_type = PROC_QUEUE_OK,
		.privdrop = 1,
		.chroot = PATH_SMTPD_SPOOL,
		.user = SMTPQ_USER,
		.options = "t:X",
		.on_option = queue_api_on_option,
	},
};


void
queue_api_on_close(int (*cb)(void))
{
	queue_api.on_close = cb;
}

void
queue_api_on_message_create(int (*cb)(uint32_t *))
{
	queue_api.on_message_create = cb;
}

void
queue_api_on_message_commit(int (*cb)(uint32_t, const char *))
{
	queue_api.on_message_commit = cb;
}

void
queue_api_on_message_commit_fd(int (*cb)(uint32_t, int))
{
	queue_api.on_message_commit_fd = cb;
}

void
queue_api_on_message_delete(int (*cb)(uint32_t))
{
	queue_api.on_message_delete = cb;
}

void
queue_api_on_message_fd_r(int (*cb)(uint32_t))
{
	queue_api.on_message_fd_r = cb;
}

void
queue_api_on_message_corrupt(int (*cb)(uint32_t))
{
	queue_api.on_message_corrupt = cb;
}

void
queue_api_on_message_uncorrupt(int (*cb)(uint32_t))
{
	queue_api.on_message_uncorrupt = cb;
}

void
queue_api_on_envelope_create(int (*cb)(uint32_t, const char *, size_t,
    uint64_t *))
{
	queue_api.on_envelope_create = cb;
}

void
queue_api_on_envelope_delete(int (*cb)(uint64_t))
{
	queue_api.on_envelope_delete = cb;
}

void
queue_api_on_envelope_update(int (*cb)(uint64_t, const char *, size_t))
{
	queue_api.on_envelope_update = cb;
}

void
queue_api_on_envelope_load(int (*cb)(uint64_t, char *, size_t))
{
	queue_api.on_envelope_load = cb;
}

void
queue_api_on_envelope_walk(int (*cb)(uint64_t *, char *, size_t))
{
	queue_api.on_envelope_walk = cb;
}

void
queue_api_on_message_walk(int (*cb)(uint64_t *, char *, size_t, uint32_t,
    int *, void **))
{
	queue_api.on_message_walk = cb;
}

void
queue_api_use_extras_numbering(void)
{
	queue_api.extras = 1;
}

void
queue_api_use_daemon_numbering(void)
{
	queue_api.extras = 0;
}

void
queue_api_no_chroot(void)
{
	queue_api.proc.chroot = NULL;
}

void
queue_api_set_chroot(const char *path)
{
	queue_api.proc.chroot = path;
}

void
queue_api_set_user(const char *user)
{
	queue_api.proc.user = user;
}

void
queue_api_set_tmpdir(const char *path)
{
	queue_api.tmpdir = path;
}

int
queue_api_drop_privileges(void)
{
	int	chrooted;

	if (!queue_api.proc.privdrop)
		return 0;
	/* asked before the drop: root is what chroots */
	chrooted = geteuid() == 0 && queue_api.proc.chroot != NULL;
	if (api_proc_drop_privileges(&queue_api.proc) == -1)
		return -1;
	queue_api.proc.privdrop = 0;
	return chrooted;
}

/* queue_api_on_option - the options only a queue helper takes */
static int
queue_api_on_option(int ch, const char *arg)
{
	switch (ch) {
	case 't':
		queue_api_set_tmpdir(arg);
		return 0;
	case 'X':
		queue_api_use_extras_numbering();
		return 0;
	}
	return -1;
}

int
queue_api_init(const char *progname, int argc, char *argv[])
{
	return api_proc_init(&queue_api.proc, progname, argc, argv,
	    "[-nvX] [-c dir] [-t dir] [-u user]");
}

/* queue_api_id_source - tests' replacement of arc4random, or NULL */
static uint32_t	(*queue_api_id_source)(void);

void
queue_backend_set_id_source(uint32_t (*fn)(void))
{
	queue_api_id_source = fn;
}

uint32_t
queue_backend_draw_id(void)
{
	uint32_t	id;
	int		i;

	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++) {
		id = queue_api_id_source != NULL ? queue_api_id_source() :
		    arc4random();
		if (id != 0)
			return id;
	}
	return 0;
}

uint32_t
queue_backend_draw_msgid(void)
{
	uint32_t	id, bucket;
	int		i;

	if (queue_api_id_source != NULL)
		return queue_backend_draw_id();
	bucket = ((uint32_t)time(NULL) & 0xffu) << 24;
	for (i = 0; i < QUEUE_ID_TRIES_MAX; i++)
		if ((id = bucket | (arc4random() & 0x00ffffffu)) != 0)
			return id;
	return 0;
}

/*
 * The backend of the extras callbacks: each method calls the registered
 * callback and turns its answer into a QUEUE_* result.  An odd answer
 * is logged here, so the served reply is always one the protocol knows.
 */

/* queue_api_cb_result - a callback's 1 as QUEUE_OK, anything else fails */
static int
queue_api_cb_result(int r, const char *what)
{
	return api_proc_result(&queue_api.proc, r, what, 0, 0) == 1 ?
	    QUEUE_OK : QUEUE_TEMPFAIL;
}

static void *
queue_api_cb_open(const char *root)
{
	return &queue_api;
}

static void
queue_api_cb_close(void *ctx)
{
}

static int
queue_api_cb_finish(void *ctx)
{
	if (queue_api.on_close == NULL)
		return QUEUE_OK;
	return queue_api_cb_result(queue_api.on_close(), "close");
}

static int
queue_api_cb_message_create(void *ctx, uint32_t *msgid)
{
	if (queue_api.on_message_create == NULL)
		return QUEUE_TEMPFAIL;
	return queue_api_cb_result(queue_api.on_message_create(msgid),
	    "message_create");
}

/* queue_api_copy_fd - copy fd from offset 0 into a new temporary file
 * of tmpdir; its path in path; 0 or -1 (logged) */
static int
queue_api_copy_fd(int fd, char *path, size_t pathsz)
{
	char	buf[8192];
	ssize_t	n, w, off;
	int	tfd;

	if ((size_t)snprintf(path, pathsz, "%s/message.XXXXXXXXXX",
	    queue_api.tmpdir) >= pathsz) {
		api_log_warnx("queue-api: temporary directory name too long");
		return -1;
	}
	if ((tfd = mkstemp(path)) == -1) {
		api_log_warn("queue-api: mkstemp %s", path);
		return -1;
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			api_log_warn("queue-api: reading the message");
			goto fail;
		}
		for (off = 0; off < n; off += w) {
			if ((w = write(tfd, buf + off, n - off)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				api_log_warn("queue-api: writing %s", path);
				goto fail;
			}
		}
	}
	if (close(tfd) == -1) {
		api_log_warn("queue-api: writing %s", path);
		tfd = -1;
		goto fail;
	}
	return 0;
fail:
	if (tfd != -1)
		close(tfd);
	unlink(path);
	return -1;
}

/* queue_api_cb_message_commit - the fd form, else a temporary copy */
static int
queue_api_cb_message_commit(void *ctx, uint32_t msgid, int fd)
{
	char	path[4096];
	int	r = QUEUE_TEMPFAIL;

	if (queue_api.on_message_commit_fd)
		return queue_api_cb_result(queue_api.on_message_commit_fd(msgid,
		    fd), "message_commit");
	if (queue_api.on_message_commit &&
	    queue_api_copy_fd(fd, path, sizeof path) == 0) {
		r = queue_api_cb_result(queue_api.on_message_commit(msgid,
		    path), "message_commit");
		if (unlink(path) == -1 && errno != ENOENT)
			api_log_warn("queue-api: unlink %s", path);
	}
	return r;
}

/* queue_api_cb_msgid - DELETE, CORRUPT, UNCORRUPT */
static int
queue_api_cb_msgid(int (*cb)(uint32_t), uint32_t msgid, const char *what)
{
	if (cb == NULL)
		return QUEUE_TEMPFAIL;
	return queue_api_cb_result(cb(msgid), what);
}

static int
queue_api_cb_message_delete(void *ctx, uint32_t msgid)
{
	return queue_api_cb_msgid(queue_api.on_message_delete, msgid,
	    "MESSAGE_DELETE");
}

static int
queue_api_cb_message_corrupt(void *ctx, uint32_t msgid)
{
	return queue_api_cb_msgid(queue_api.on_message_corrupt, msgid,
	    "MESSAGE_CORRUPT");
}

static int
queue_api_cb_message_uncorrupt(void *ctx, uint32_t msgid)
{
	return queue_api_cb_msgid(queue_api.on_message_uncorrupt, msgid,
	    "MESSAGE_UNCORRUPT");
}

static int
queue_api_cb_message_fd_r(void *ctx, uint32_t msgid, int *fdp)
{
	int	fd = -1;

	if (queue_api.on_message_fd_r)
		fd = queue_api.on_message_fd_r(msgid);
	if (fd < -1)
		api_log_warnx("queue-api: message_fd_r returned %d", fd);
	if (fd < 0)
		return QUEUE_TEMPFAIL;
	*fdp = fd;
	return QUEUE_OK;
}

static int
queue_api_cb_envelope_create(void *ctx, uint32_t msgid, const char *buf,
    size_t len, uint64_t *evpid)
{
	if (queue_api.on_envelope_create == NULL)
		return QUEUE_TEMPFAIL;
	return queue_api_cb_result(queue_api.on_envelope_create(msgid, buf,
	    len, evpid), "envelope_create");
}

static int
queue_api_cb_envelope_delete(void *ctx, uint64_t evpid)
{
	if (queue_api.on_envelope_delete == NULL)
		return QUEUE_TEMPFAIL;
	return queue_api_cb_result(queue_api.on_envelope_delete(evpid),
	    "envelope_delete");
}

static int
queue_api_cb_envelope_update(void *ctx, uint64_t evpid, const char *buf,
    size_t len)
{
	if (queue_api.on_envelope_update == NULL)
		return QUEUE_TEMPFAIL;
	return queue_api_cb_result(queue_api.on_envelope_update(evpid, buf,
	    len), "envelope_update");
}

static int
queue_api_cb_envelope_load(void *ctx, uint64_t evpid, char *buf,
    size_t bufsz, size_t *lenp)
{
	int	n = 0;

	if (queue_api.on_envelope_load)
		n = queue_api.on_envelope_load(evpid, buf, bufsz);
	if (n < 0 || (size_t)n > bufsz) {
		if (n != -1)
			api_log_warnx("queue-api: envelope_load returned %d, "
			    "answering not found", n);
		n = 0;
	}
	if (n == 0)
		return QUEUE_NOTFOUND;
	*lenp = (size_t)n;
	return QUEUE_OK;
}

/* the cursor of a message walk: the extras' done flag and data */
struct queue_api_mwalk {
	int	 done;
	void	*data;
};

static int
queue_api_cb_walk_open(void *ctx, struct queue_walk *w)
{
	if (w->msgid == 0) {
		w->data = NULL;
		return QUEUE_OK;
	}
	if ((w->data = calloc(1, sizeof(struct queue_api_mwalk))) == NULL) {
		api_log_warn("queue-api: message_walk");
		return QUEUE_TEMPFAIL;
	}
	return QUEUE_OK;
}

static void
queue_api_cb_walk_close(void *ctx, struct queue_walk *w)
{
	free(w->data);
	w->data = NULL;
}

/* queue_api_cb_walk_next - a callback's > 0, 0 or -1 as QUEUE_OK, a
 * temporary failure ("call again") or QUEUE_NOTFOUND (the end) */
static int
queue_api_cb_walk_next(void *ctx, struct queue_walk *w, uint64_t *evpid,
    char *buf, size_t bufsz, size_t *lenp)
{
	struct queue_api_mwalk	*mw = w->data;
	int			 r = -1;

	if (w->msgid == 0 && queue_api.on_envelope_walk)
		r = queue_api.on_envelope_walk(evpid, buf, bufsz);
	else if (w->msgid != 0 && queue_api.on_message_walk && !mw->done)
		r = queue_api.on_message_walk(evpid, buf, bufsz, w->msgid,
		    &mw->done, &mw->data);
	if (r > 0 && (size_t)r > bufsz) {
		/* the driver moved on: "call again" gets the next one */
		api_log_warnx("queue-api: walk callback returned %d, "
		    "answering 0", r);
		return QUEUE_TEMPFAIL;
	}
	if (r < -1)
		api_log_warnx("queue-api: walk callback returned %d, "
		    "answering -1", r);
	if (r < 0)
		return QUEUE_NOTFOUND;
	if (r == 0)
		return QUEUE_TEMPFAIL;
	*lenp = (size_t)r;
	return QUEUE_OK;
}

static const struct queue_backend queue_api_callbacks = {
	.version = QUEUE_BACKEND_V1,
	.name = "callbacks",
	.open = queue_api_cb_open,
	.close = queue_api_cb_close,
	.finish = queue_api_cb_finish,
	.message_create = queue_api_cb_message_create,
	.message_commit = queue_api_cb_message_commit,
	.message_delete = queue_api_cb_message_delete,
	.message_fd_r = queue_api_cb_message_fd_r,
	.message_corrupt = queue_api_cb_message_corrupt,
	.message_uncorrupt = queue_api_cb_message_uncorrupt,
	.envelope_create = queue_api_cb_envelope_create,
	.envelope_delete = queue_api_cb_envelope_delete,
	.envelope_update = queue_api_cb_envelope_update,
	.envelope_load = queue_api_cb_envelope_load,
	.walk_open = queue_api_cb_walk_open,
	.walk_next = queue_api_cb_walk_next,
	.walk_close = queue_api_cb_walk_close,
};

/*
 * The serving side: each request decoded with queue_proto, handed to
 * the backend, its result encoded as the protocol's reply.
 */

/* queue_api_reply - encode m as the reply to its op and send it */
static int
queue_api_reply(struct api_proc *p, const struct queue_msg *m)
{
	unsigned char		buf[QUEUE_API_PAYLOAD_MAX];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	if (queue_proto_encode_reply(m, &w) == -1) {
		api_log_warnx("%s: %s reply does not fit", p->prefix,
		    queue_proto_name(m->op));
		return -1;
	}
	return api_proc_reply(p, m->fd, w.buf, w.len);
}

/* queue_api_envelope_ok - an envelope the glue will store: 1 or 0 */
static int
queue_api_envelope_ok(size_t len, const char *what)
{
	if (len == 0 || len > QUEUE_API_ENVELOPE_MAX) {
		api_log_warnx("queue-api: %s: envelope of %zu bytes refused",
		    what, len);
		return 0;
	}
	return 1;
}

void
queue_backend_walks_close(const struct queue_backend *b, void *ctx,
    struct queue_walks *walks)
{
	if (walks->env_open && b->walk_close != NULL)
		b->walk_close(ctx, &walks->env);
	if (walks->msg_open && b->walk_close != NULL)
		b->walk_close(ctx, &walks->msg);
	walks->env_open = walks->msg_open = 0;
}

/* queue_backend_walk - one step of the queue walk (msgid 0) or of a
 * message walk, opened on demand and closed at its end; the reply's r,
 * evpid and bytes and the backend's result in out */
static void
queue_backend_walk(const struct queue_backend *b, void *ctx,
    struct queue_walks *walks, uint32_t msgid, struct queue_msg *out,
    char *env, size_t envsz)
{
	struct queue_walk	*w;
	int			*open;
	size_t			 len = 0;
	int			 r;

	w = msgid ? &walks->msg : &walks->env;
	open = msgid ? &walks->msg_open : &walks->env_open;
	out->r = -1;
	out->status = QUEUE_NOTFOUND;
	if (*open && w->msgid != msgid) {
		b->walk_close(ctx, w);
		*open = 0;
	}
	if (!*open) {
		if (b->walk_open == NULL || b->walk_next == NULL ||
		    b->walk_close == NULL)
			return;
		w->msgid = msgid;
		w->data = NULL;
		if ((r = b->walk_open(ctx, w)) != QUEUE_OK) {
			out->r = 0;	/* call again */
			out->status = r < 0 ? r : QUEUE_TEMPFAIL;
			return;
		}
		*open = 1;
	}
	r = b->walk_next(ctx, w, &out->evpid, env, envsz, &len);
	if (r == QUEUE_OK && len > 0 && len <= envsz) {
		out->r = (int32_t)len;
		out->data = env;
		out->len = len;
		out->status = QUEUE_OK;
		return;
	}
	if (r == QUEUE_OK || r < 0) {
		out->r = 0;
		out->status = r < 0 ? r : QUEUE_TEMPFAIL;
		return;
	}
	b->walk_close(ctx, w);
	*open = 0;
}

/* queue_backend_method - the backend's method m, or the failure of a
 * NULL one */
#define queue_backend_method(b, ctx, m, ...) \
	((b)->m != NULL ? (b)->m((ctx), __VA_ARGS__) : QUEUE_TEMPFAIL)

/* queue_backend_ok - a backend result as the protocol's r, and kept */
static void
queue_backend_ok(struct queue_msg *out, int status)
{
	out->status = status;
	out->r = status == QUEUE_OK;
}

/* one request on its way through queue_backend_call */
struct queue_call {
	const struct queue_backend	*b;
	void				*ctx;
	struct queue_walks		*walks;
	const struct queue_msg		*m;
	int				 fd;
	struct queue_msg		*out;
	char				*env;
	size_t				 envsz;
};

static void
queue_call_init(struct queue_call *c)
{
	c->out->status = QUEUE_OK;
}

static void
queue_call_close(struct queue_call *c)
{
	queue_backend_ok(c->out, c->b->finish == NULL ? QUEUE_OK :
	    c->b->finish(c->ctx));
}

static void
queue_call_message_create(struct queue_call *c)
{
	queue_backend_ok(c->out, queue_backend_method(c->b, c->ctx,
	    message_create, &c->out->msgid));
	if (c->out->r == 1 && c->out->msgid == 0) {
		api_log_warnx("queue-api: message_create gave msgid 0, "
		    "answering 0");
		queue_backend_ok(c->out, QUEUE_TEMPFAIL);
	}
}

static void
queue_call_message_commit(struct queue_call *c)
{
	queue_backend_ok(c->out, c->fd == -1 ? QUEUE_TEMPFAIL :
	    queue_backend_method(c->b, c->ctx, message_commit, c->m->msgid,
	    c->fd));
}

static void
queue_call_message_delete(struct queue_call *c)
{
	queue_backend_ok(c->out, queue_backend_method(c->b, c->ctx,
	    message_delete, c->m->msgid));
}

static void
queue_call_message_corrupt(struct queue_call *c)
{
	queue_backend_ok(c->out, queue_backend_method(c->b, c->ctx,
	    message_corrupt, c->m->msgid));
}

static void
queue_call_message_uncorrupt(struct queue_call *c)
{
	queue_backend_ok(c->out, queue_backend_method(c->b, c->ctx,
	    message_uncorrupt, c->m->msgid));
}

/* queue_call_message_fd_r - an fd at offset 0 (section 5.2), or none */
static void
queue_call_message_fd_r(struct queue_call *c)
{
	struct queue_msg	*out = c->out;

	out->status = queue_backend_method(c->b, c->ctx, message_fd_r,
	    c->m->msgid, &out->fd);
	if (out->status != QUEUE_OK)
		out->fd = -1;
	if (out->fd != -1 && lseek(out->fd, 0, SEEK_SET) == -1 &&
	    errno != ESPIPE)
		api_log_warn("queue-api: msgid=%08x: rewinding", c->m->msgid);
}

/* queue_call_envelope_create - an evpid of the message, or a failure */
static void
queue_call_envelope_create(struct queue_call *c)
{
	const struct queue_msg	*m = c->m;
	struct queue_msg	*out = c->out;

	if (!queue_api_envelope_ok(m->len, "envelope_create"))
		return;
	queue_backend_ok(out, queue_backend_method(c->b, c->ctx,
	    envelope_create, m->msgid, m->data, m->len, &out->evpid));
	if (out->r == 1 && ((out->evpid >> 32) != m->msgid ||
	    (uint32_t)out->evpid == 0)) {
		api_log_warnx("queue-api: envelope_create gave evpid %016llx "
		    "for msgid %08x, answering 0",
		    (unsigned long long)out->evpid, m->msgid);
		queue_backend_ok(out, QUEUE_TEMPFAIL);
	}
}

static void
queue_call_envelope_delete(struct queue_call *c)
{
	queue_backend_ok(c->out, queue_backend_method(c->b, c->ctx,
	    envelope_delete, c->m->evpid));
}

static void
queue_call_envelope_update(struct queue_call *c)
{
	if (queue_api_envelope_ok(c->m->len, "envelope_update"))
		queue_backend_ok(c->out, queue_backend_method(c->b, c->ctx,
		    envelope_update, c->m->evpid, c->m->data, c->m->len));
}

/* queue_call_envelope_load - the bytes in env; none is not found */
static void
queue_call_envelope_load(struct queue_call *c)
{
	size_t	len = 0;

	c->out->status = queue_backend_method(c->b, c->ctx, envelope_load,
	    c->m->evpid, c->env, c->envsz, &len);
	if (c->out->status == QUEUE_OK && (len == 0 || len > c->envsz))
		c->out->status = QUEUE_NOTFOUND;
	if (c->out->status == QUEUE_OK) {
		c->out->data = c->env;
		c->out->len = len;
	}
}

static void
queue_call_envelope_walk(struct queue_call *c)
{
	queue_backend_walk(c->b, c->ctx, c->walks, 0, c->out, c->env,
	    c->envsz);
}

static void
queue_call_message_walk(struct queue_call *c)
{
	queue_backend_walk(c->b, c->ctx, c->walks, c->m->msgid, c->out,
	    c->env, c->envsz);
}

/* what each request means, by op */
static void (*const queue_calls[QUEUE_OP__MAX])(struct queue_call *) = {
	[QUEUE_OP_INIT] = queue_call_init,
	[QUEUE_OP_CLOSE] = queue_call_close,
	[QUEUE_OP_MESSAGE_CREATE] = queue_call_message_create,
	[QUEUE_OP_MESSAGE_DELETE] = queue_call_message_delete,
	[QUEUE_OP_MESSAGE_COMMIT] = queue_call_message_commit,
	[QUEUE_OP_MESSAGE_FD_R] = queue_call_message_fd_r,
	[QUEUE_OP_MESSAGE_CORRUPT] = queue_call_message_corrupt,
	[QUEUE_OP_MESSAGE_UNCORRUPT] = queue_call_message_uncorrupt,
	[QUEUE_OP_ENVELOPE_CREATE] = queue_call_envelope_create,
	[QUEUE_OP_ENVELOPE_DELETE] = queue_call_envelope_delete,
	[QUEUE_OP_ENVELOPE_LOAD] = queue_call_envelope_load,
	[QUEUE_OP_ENVELOPE_UPDATE] = queue_call_envelope_update,
	[QUEUE_OP_ENVELOPE_WALK] = queue_call_envelope_walk,
	[QUEUE_OP_MESSAGE_WALK] = queue_call_message_walk,
};

void
queue_backend_call(const struct queue_backend *b, void *ctx,
    struct queue_walks *walks, const struct queue_msg *m, int fd,
    struct queue_msg *out, char *env, size_t envsz)
{
	struct queue_call	c = { b, ctx, walks, m, fd, out, env, envsz };

	memset(out, 0, sizeof *out);
	out->op = m->op;
	out->fd = -1;
	out->status = QUEUE_TEMPFAIL;
	if ((unsigned int)m->op < QUEUE_OP__MAX && queue_calls[m->op] != NULL)
		queue_calls[m->op](&c);
}

/* queue_api_handle - one request, decoded, served and answered */
static int
queue_api_handle(struct api_proc *p, struct queue_msg *m, int fd,
    char *env, size_t envsz)
{
	struct queue_msg	out;

	if (m->op == QUEUE_OP_INIT && m->version != PROC_QUEUE_API_VERSION) {
		api_log_warnx("queue-api: bad API version %u (want %d)",
		    m->version, PROC_QUEUE_API_VERSION);
		return -1;
	}
	/* the daemon opened the file: start from its first byte */
	if (m->op == QUEUE_OP_MESSAGE_COMMIT && lseek(fd, 0, SEEK_SET) == -1 &&
	    errno != ESPIPE)
		api_log_warn("queue-api: msgid=%08x: rewinding", m->msgid);
	queue_backend_call(queue_api.b, queue_api.ctx, &queue_api.walks, m,
	    fd, &out, env, envsz);
	api_log_debug("queue-api: %s msgid=%08x evpid=%016llx len=%zu -> r=%d "
	    "msgid=%08x evpid=%016llx len=%zu%s", queue_proto_name(m->op),
	    m->msgid, (unsigned long long)m->evpid, m->len, out.r, out.msgid,
	    (unsigned long long)out.evpid, out.len, out.fd != -1 ? " fd" : "");
	return queue_api_reply(p, &out);
}

/* queue_api_on_request - the handler of every request type */
static int
queue_api_on_request(struct api_proc *p, struct imsg *imsg)
{
	char			env[QUEUE_API_ENVELOPE_MAX];
	struct queue_msg	m;
	int			op;

	if ((op = queue_proto_op(queue_api.extras, imsg->hdr.type)) == -1)
		return -1;
	if (queue_proto_decode_request(op, imsg->data, imsg->datalen, &m) ==
	    -1)
		return api_proc_bad_len(p, imsg, queue_proto_name(op));
	return queue_api_handle(p, &m, imsg->fd, env, sizeof env);
}

int
queue_api_serve_fd(const struct queue_backend *b, void *ctx, int fd)
{
	struct api_proc_handler	handlers[QUEUE_OP__MAX];
	size_t			n = 0;
	int			op, type, status;

	if (b == NULL || b->version != QUEUE_BACKEND_V1) {
		api_log_warnx("queue-api: backend %s has version %d",
		    b != NULL ? b->name : "-", b != NULL ? b->version : 0);
		return 1;
	}
	/* the handler table of the numbering in use */
	for (op = 0; op < QUEUE_OP__MAX; op++) {
		if ((type = queue_proto_type(queue_api.extras, op)) < 0)
			continue;
		handlers[n].type = (uint32_t)type;
		handlers[n].name = queue_proto_name(op);
		handlers[n].flags = op == QUEUE_OP_INIT ? API_PROC_HANDSHAKE :
		    queue_proto_request_fd(op) ? API_PROC_FD : 0;
		handlers[n++].fn = queue_api_on_request;
	}
	queue_api.b = b;
	queue_api.ctx = ctx;
	memset(&queue_api.walks, 0, sizeof queue_api.walks);
	status = api_proc_dispatch(&queue_api.proc, fd, handlers, n);
	queue_backend_walks_close(b, ctx, &queue_api.walks);
	return status;
}

int
queue_api_serve(const struct queue_backend *b, void *ctx)
{
	return queue_api_serve_fd(b, ctx, 0);
}

int
queue_api_dispatch_fd(int fd)
{
	return queue_api_serve_fd(&queue_api_callbacks, &queue_api, fd);
}

int
queue_api_dispatch(void)
{
	return queue_api_dispatch_fd(0);
}
