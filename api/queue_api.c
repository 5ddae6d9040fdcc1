/*
 * queue_api.c -- helper side of the proc queue protocol (queue_api.h).
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
#include <unistd.h>

#include "smtpd-api.h"
#include "queue_api.h"
#include "api_proc.h"

#ifndef PATH_SMTPD_SPOOL
#define PATH_SMTPD_SPOOL	"/var/spool/smtpd"
#endif
#ifndef SMTPQ_USER
#define SMTPQ_USER		"_smtpq"
#endif

static int	queue_api_on_option(int, const char *);

/* a request's type in each numbering (-1: absent) and its handler */
struct queue_api_route {
	int			daemon_type;
	int			extras_type;
	struct api_proc_handler	h;
};

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
	/* the message walk in progress (extras numbering) */
	int		 mwalk_active;
	uint32_t	 mwalk_msgid;
	int		 mwalk_done;
	void		*mwalk_data;
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

/* queue_api_reply_r - the common reply: r, then an id iff r == 1 */
static int
queue_api_reply_r(struct api_proc *p, int32_t r, const void *id,
    size_t idlen)
{
	unsigned char		buf[4 + 8];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	if (r == 1 && id != NULL)
		wire_put_raw(&w, id, idlen);
	return api_proc_reply_wire(p, &w);
}

/* queue_api_result - a callback's answer as the protocol's 1 or 0 */
static int32_t
queue_api_result(struct api_proc *p, int r, const char *what)
{
	return api_proc_result(p, r, what, 0, 0);
}

/* queue_api_on_init - the handshake: version 2, empty reply */
static int
queue_api_on_init(struct api_proc *p, struct imsg *imsg)
{
	uint32_t	version;

	if (api_proc_get_u32(p, imsg, "INIT", &version) == -1)
		return -1;
	if (version != PROC_QUEUE_API_VERSION) {
		api_log_warnx("queue-api: bad API version %u (want %d)",
		    version, PROC_QUEUE_API_VERSION);
		return -1;
	}
	api_log_debug("queue-api: init");
	return api_proc_reply(p, -1, NULL, 0);
}

/* queue_api_on_close_msg - r from the driver, 1 if it has none; the
 * daemon closes the socket next, which ends the loop */
static int
queue_api_on_close_msg(struct api_proc *p, struct imsg *imsg)
{
	int32_t	r = 1;

	if (api_proc_get_none(p, imsg, "CLOSE") == -1)
		return -1;
	if (queue_api.on_close)
		r = queue_api_result(p, queue_api.on_close(), "close");
	api_log_debug("queue-api: close -> %d", r);
	return queue_api_reply_r(p, r, NULL, 0);
}

/* queue_api_on_message_create_msg - a fresh nonzero msgid */
static int
queue_api_on_message_create_msg(struct api_proc *p, struct imsg *imsg)
{
	uint32_t	msgid = 0;
	int32_t		r = 0;

	if (api_proc_get_none(p, imsg, "MESSAGE_CREATE") == -1)
		return -1;
	if (queue_api.on_message_create)
		r = queue_api_result(p, queue_api.on_message_create(&msgid),
		    "message_create");
	if (r == 1 && msgid == 0) {
		api_log_warnx("queue-api: message_create gave msgid 0, "
		    "answering 0");
		r = 0;
	}
	api_log_debug("queue-api: message_create -> %d msgid=%08x", r, msgid);
	return queue_api_reply_r(p, r, &msgid, sizeof msgid);
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

/* queue_api_on_message_commit_msg - the daemon hands the message's fd */
static int
queue_api_on_message_commit_msg(struct api_proc *p, struct imsg *imsg)
{
	char		path[4096];
	uint32_t	msgid;
	int32_t		r = 0;

	if (api_proc_get_u32(p, imsg, "MESSAGE_COMMIT", &msgid) == -1)
		return -1;
	/* the daemon opened the file for us: start from its first byte */
	if (lseek(imsg->fd, 0, SEEK_SET) == -1 && errno != ESPIPE)
		api_log_warn("queue-api: msgid=%08x: rewinding", msgid);
	if (queue_api.on_message_commit_fd) {
		r = queue_api_result(p, queue_api.on_message_commit_fd(msgid,
		    imsg->fd), "message_commit");
	} else if (queue_api.on_message_commit) {
		if (queue_api_copy_fd(imsg->fd, path, sizeof path) == 0) {
			r = queue_api_result(p,
			    queue_api.on_message_commit(msgid, path),
			    "message_commit");
			if (unlink(path) == -1 && errno != ENOENT)
				api_log_warn("queue-api: unlink %s", path);
		}
	}
	api_log_debug("queue-api: message_commit msgid=%08x -> %d", msgid, r);
	return queue_api_reply_r(p, r, NULL, 0);
}

/* queue_api_on_msgid_op - DELETE, CORRUPT, UNCORRUPT: msgid in, r out */
static int
queue_api_on_msgid_op(struct api_proc *p, struct imsg *imsg,
    const char *what, int (*cb)(uint32_t))
{
	uint32_t	msgid;
	int32_t		r = 0;

	if (api_proc_get_u32(p, imsg, what, &msgid) == -1)
		return -1;
	if (cb)
		r = queue_api_result(p, cb(msgid), what);
	api_log_debug("queue-api: %s msgid=%08x -> %d", what, msgid, r);
	return queue_api_reply_r(p, r, NULL, 0);
}

static int
queue_api_on_message_delete_msg(struct api_proc *p, struct imsg *imsg)
{
	return queue_api_on_msgid_op(p, imsg, "MESSAGE_DELETE",
	    queue_api.on_message_delete);
}

static int
queue_api_on_message_corrupt_msg(struct api_proc *p, struct imsg *imsg)
{
	return queue_api_on_msgid_op(p, imsg, "MESSAGE_CORRUPT",
	    queue_api.on_message_corrupt);
}

static int
queue_api_on_message_uncorrupt_msg(struct api_proc *p, struct imsg *imsg)
{
	return queue_api_on_msgid_op(p, imsg, "MESSAGE_UNCORRUPT",
	    queue_api.on_message_uncorrupt);
}

/* queue_api_on_message_fd_r_msg - empty reply, with the fd on success */
static int
queue_api_on_message_fd_r_msg(struct api_proc *p, struct imsg *imsg)
{
	uint32_t	msgid;
	int		fd = -1;

	if (api_proc_get_u32(p, imsg, "MESSAGE_FD_R", &msgid) == -1)
		return -1;
	if (queue_api.on_message_fd_r)
		fd = queue_api.on_message_fd_r(msgid);
	if (fd < -1) {
		api_log_warnx("queue-api: message_fd_r returned %d", fd);
		fd = -1;
	}
	/* the reader starts at the first byte (section 5.2) */
	if (fd != -1 && lseek(fd, 0, SEEK_SET) == -1 && errno != ESPIPE)
		api_log_warn("queue-api: msgid=%08x: rewinding", msgid);
	api_log_debug("queue-api: message_fd_r msgid=%08x -> %s", msgid,
	    fd == -1 ? "no fd" : "fd");
	return api_proc_reply(p, fd, NULL, 0);
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

/* queue_api_on_envelope_create_msg - msgid + bytes in, evpid out */
static int
queue_api_on_envelope_create_msg(struct api_proc *p, struct imsg *imsg)
{
	struct wire_reader	 rd;
	const void		*buf;
	size_t			 len;
	uint64_t		 evpid = 0;
	uint32_t		 msgid;
	int32_t			 r = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u32(&rd, &msgid);
	wire_get_rest(&rd, &buf, &len);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "ENVELOPE_CREATE");
	if (queue_api.on_envelope_create &&
	    queue_api_envelope_ok(len, "envelope_create"))
		r = queue_api_result(p, queue_api.on_envelope_create(msgid, buf,
		    len, &evpid), "envelope_create");
	if (r == 1 && ((evpid >> 32) != msgid || (uint32_t)evpid == 0)) {
		api_log_warnx("queue-api: envelope_create gave evpid %016llx "
		    "for msgid %08x, answering 0", (unsigned long long)evpid,
		    msgid);
		r = 0;
	}
	api_log_debug("queue-api: envelope_create msgid=%08x len=%zu -> %d "
	    "evpid=%016llx", msgid, len, r, (unsigned long long)evpid);
	return queue_api_reply_r(p, r, &evpid, sizeof evpid);
}

/* queue_api_on_envelope_delete_msg - evpid in, r out */
static int
queue_api_on_envelope_delete_msg(struct api_proc *p, struct imsg *imsg)
{
	uint64_t	evpid;
	int32_t		r = 0;

	if (api_proc_get_u64(p, imsg, "ENVELOPE_DELETE", &evpid) == -1)
		return -1;
	if (queue_api.on_envelope_delete)
		r = queue_api_result(p, queue_api.on_envelope_delete(evpid),
		    "envelope_delete");
	api_log_debug("queue-api: envelope_delete evpid=%016llx -> %d",
	    (unsigned long long)evpid, r);
	return queue_api_reply_r(p, r, NULL, 0);
}

/* queue_api_on_envelope_update_msg - evpid + bytes in, r out */
static int
queue_api_on_envelope_update_msg(struct api_proc *p, struct imsg *imsg)
{
	struct wire_reader	 rd;
	const void		*buf;
	size_t			 len;
	uint64_t		 evpid;
	int32_t			 r = 0;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	wire_get_u64(&rd, &evpid);
	wire_get_rest(&rd, &buf, &len);
	if (wire_end(&rd) == -1)
		return api_proc_bad_len(p, imsg, "ENVELOPE_UPDATE");
	if (queue_api.on_envelope_update &&
	    queue_api_envelope_ok(len, "envelope_update"))
		r = queue_api_result(p, queue_api.on_envelope_update(evpid, buf,
		    len), "envelope_update");
	api_log_debug("queue-api: envelope_update evpid=%016llx len=%zu -> %d",
	    (unsigned long long)evpid, len, r);
	return queue_api_reply_r(p, r, NULL, 0);
}

/* queue_api_on_envelope_load_msg - the bytes are the whole reply */
static int
queue_api_on_envelope_load_msg(struct api_proc *p, struct imsg *imsg)
{
	char		buf[QUEUE_API_ENVELOPE_MAX];
	uint64_t	evpid;
	int		n = 0;

	if (api_proc_get_u64(p, imsg, "ENVELOPE_LOAD", &evpid) == -1)
		return -1;
	if (queue_api.on_envelope_load)
		n = queue_api.on_envelope_load(evpid, buf, sizeof buf);
	if (n < 0 || (size_t)n > sizeof buf) {
		if (n != -1)
			api_log_warnx("queue-api: envelope_load returned %d, "
			    "answering not found", n);
		n = 0;
	}
	api_log_debug("queue-api: envelope_load evpid=%016llx -> %d bytes",
	    (unsigned long long)evpid, n);
	return api_proc_reply(p, -1, buf, (size_t)n);
}

/* queue_api_reply_walk - r, then evpid and r bytes iff r > 0 */
static int
queue_api_reply_walk(struct api_proc *p, int r, uint64_t evpid,
    const char *env, size_t envsz)
{
	unsigned char		buf[4 + 8 + QUEUE_API_ENVELOPE_MAX];
	struct wire_writer	w;

	if (r > 0 && (size_t)r > envsz) {
		/* the driver moved on: "call again" gets the next one */
		api_log_warnx("queue-api: walk callback returned %d, "
		    "answering 0", r);
		r = 0;
	} else if (r < -1) {
		api_log_warnx("queue-api: walk callback returned %d, "
		    "answering -1", r);
		r = -1;
	}
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	if (r > 0) {
		wire_put_u64(&w, evpid);
		wire_put_raw(&w, env, (size_t)r);
	}
	return api_proc_reply_wire(p, &w);
}

/* queue_api_on_envelope_walk_msg - one step of the startup walk */
static int
queue_api_on_envelope_walk_msg(struct api_proc *p, struct imsg *imsg)
{
	char		env[QUEUE_API_ENVELOPE_MAX];
	uint64_t	evpid = 0;
	int		r = -1;

	if (api_proc_get_none(p, imsg, "ENVELOPE_WALK") == -1)
		return -1;
	if (queue_api.on_envelope_walk)
		r = queue_api.on_envelope_walk(&evpid, env, sizeof env);
	api_log_debug("queue-api: envelope_walk -> %d", r);
	return queue_api_reply_walk(p, r, evpid, env, sizeof env);
}

/* queue_api_on_message_walk_msg - one envelope of one message (extras) */
static int
queue_api_on_message_walk_msg(struct api_proc *p, struct imsg *imsg)
{
	char		env[QUEUE_API_ENVELOPE_MAX];
	uint64_t	evpid = 0;
	uint32_t	msgid;
	int		r = -1;

	if (api_proc_get_u32(p, imsg, "MESSAGE_WALK", &msgid) == -1)
		return -1;
	if (!queue_api.mwalk_active || queue_api.mwalk_msgid != msgid) {
		queue_api.mwalk_active = 1;
		queue_api.mwalk_msgid = msgid;
		queue_api.mwalk_done = 0;
		queue_api.mwalk_data = NULL;
	}
	if (queue_api.on_message_walk && !queue_api.mwalk_done)
		r = queue_api.on_message_walk(&evpid, env, sizeof env, msgid,
		    &queue_api.mwalk_done, &queue_api.mwalk_data);
	if (r < 0)
		queue_api.mwalk_active = 0;
	api_log_debug("queue-api: message_walk msgid=%08x -> %d", msgid, r);
	return queue_api_reply_walk(p, r, evpid, env, sizeof env);
}

static const struct queue_api_route queue_api_routes[] = {
	{ 2, 2, { 0, "INIT", API_PROC_HANDSHAKE, queue_api_on_init } },
	{ 3, 3, { 0, "CLOSE", 0, queue_api_on_close_msg } },
	{ 4, 4, { 0, "MESSAGE_CREATE", 0, queue_api_on_message_create_msg } },
	{ 5, 5, { 0, "MESSAGE_DELETE", 0, queue_api_on_message_delete_msg } },
	{ 6, 6, { 0, "MESSAGE_COMMIT", API_PROC_FD,
	    queue_api_on_message_commit_msg } },
	{ 7, 7, { 0, "MESSAGE_FD_R", 0, queue_api_on_message_fd_r_msg } },
	{ -1, 8, { 0, "MESSAGE_CORRUPT", 0,
	    queue_api_on_message_corrupt_msg } },
	{ -1, 9, { 0, "MESSAGE_UNCORRUPT", 0,
	    queue_api_on_message_uncorrupt_msg } },
	{ 8, 10, { 0, "ENVELOPE_CREATE", 0,
	    queue_api_on_envelope_create_msg } },
	{ 9, 11, { 0, "ENVELOPE_DELETE", 0,
	    queue_api_on_envelope_delete_msg } },
	{ 10, 12, { 0, "ENVELOPE_LOAD", 0, queue_api_on_envelope_load_msg } },
	{ 11, 13, { 0, "ENVELOPE_UPDATE", 0,
	    queue_api_on_envelope_update_msg } },
	{ 12, 14, { 0, "ENVELOPE_WALK", 0, queue_api_on_envelope_walk_msg } },
	{ -1, 15, { 0, "MESSAGE_WALK", 0, queue_api_on_message_walk_msg } },
};
#define QUEUE_API_NROUTES	(sizeof queue_api_routes / \
				    sizeof queue_api_routes[0])

int
queue_api_dispatch_fd(int fd)
{
	struct api_proc_handler	handlers[QUEUE_API_NROUTES];
	size_t			i, n = 0;
	int			type;

	/* the handler table of the numbering in use */
	for (i = 0; i < QUEUE_API_NROUTES; i++) {
		type = queue_api.extras ? queue_api_routes[i].extras_type :
		    queue_api_routes[i].daemon_type;
		if (type < 0)
			continue;
		handlers[n] = queue_api_routes[i].h;
		handlers[n++].type = (uint32_t)type;
	}
	queue_api.mwalk_active = 0;
	return api_proc_dispatch(&queue_api.proc, fd, handlers, n);
}

int
queue_api_dispatch(void)
{
	return queue_api_dispatch_fd(0);
}
