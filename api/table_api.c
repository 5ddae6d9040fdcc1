/*
 * table_api.c -- helper side of the proc table protocol (table_api.h).
 *
 * Runs inside a table helper (libexec/table-*), started by the daemon's
 * lookup process with the socket on fd 0.  Two protocols, told apart by
 * the daemon's first byte: OpenSMTPD 6.x's imsg protocol, a synchronous
 * RPC (libexec-protocols.md 1.3 and 4): one request, one reply of type
 * PROC_TABLE_OK; or the 7.6+ text lines (section 7, codec
 * api/table_text.c), served by the same backend methods.  Requests are decoded and replies encoded
 * by api/table_proto.c, the codec smtpd's table_proc.c shares, so a
 * short, oversized or unterminated field is a protocol
 * violation that ends the loop with status 1; it is never a crash and
 * never reaches a backend.  It serves any struct table_backend
 * (table_api_serve); drivers that register callbacks (table_api_on_*)
 * are served through a backend that calls them.  Backend errors are
 * answered -1 and the helper keeps serving.  Nothing here calls exit.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "api_proc.h"
#include "table_proto.h"
#include "table_text.h"

struct table_api_request {
	int32_t		 service;
	struct dict	 params;	/* key -> value, both inside the payload */
	const char	*key;		/* NULL for FETCH */
};

static struct {
	int	(*on_update)(void);
	int	(*on_check)(int, struct dict *, const char *);
	int	(*on_lookup)(int, struct dict *, const char *, char *, size_t);
	int	(*on_fetch)(int, struct dict *, char *, size_t);
	char				 name[API_NAME_MAX];
	struct api_proc			 proc;
	/* what table_api_serve_fd serves, for the message handlers */
	const struct table_backend	*backend;
	void				*ctx;
	struct dict			*params;	/* of the request */
} table_api = {
	/* tables are not chrooted: their drivers read files and sockets */
	.proc = { .name = "table-api", .ok_type = PROC_TABLE_OK },
};


void
table_api_on_update(int (*cb)(void))
{
	table_api.on_update = cb;
}

void
table_api_on_check(int (*cb)(int, struct dict *, const char *))
{
	table_api.on_check = cb;
}

void
table_api_on_lookup(int (*cb)(int, struct dict *, const char *, char *,
    size_t))
{
	table_api.on_lookup = cb;
}

void
table_api_on_fetch(int (*cb)(int, struct dict *, char *, size_t))
{
	table_api.on_fetch = cb;
}

const char *
table_api_get_name(void)
{
	return table_api.name;
}

const char *
table_api_service_name(int service)
{
	const char	*name = table_service_name((enum table_service)service);

	return strcmp(name, "unknown") == 0 ? NULL : name;
}

/* table_api_reply - send the reply to TYPE: r, and value when r is 1
 * for a lookup or a fetch; 0 sent, 1 the daemon is gone, -1 error */
static int
table_api_reply(struct api_proc *p, uint32_t type, int32_t r,
    const char *value)
{
	unsigned char		buf[IMSG_MAX_PAYLOAD];
	struct wire_writer	w;
	struct table_msg	m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.r = r;
	m.value = value;
	wire_writer_init(&w, buf, sizeof buf);
	if (table_proto_encode_reply(&m, &w) == -1) {
		api_log_warnx("%s: %s reply cannot be encoded", p->prefix,
		    table_proto_name(type));
		return -1;
	}
	return api_proc_reply_wire(p, &w);
}

/* table_api_decode - the request in IMSG into m; -1 logged if bad */
static int
table_api_decode(struct api_proc *p, struct imsg *imsg, struct table_msg *m)
{
	if (table_proto_decode_request(imsg->hdr.type, imsg->data,
	    imsg->datalen, m) == -1) {
		api_log_warnx("%s: %s: %s (len %zu)", p->prefix,
		    table_proto_name(imsg->hdr.type), m->error, imsg->datalen);
		return -1;
	}
	return 0;
}

/* table_api_on_open - the handshake: version 2, the table's name */
static int
table_api_on_open(struct api_proc *p, struct imsg *imsg)
{
	struct table_msg	m;

	if (table_api_decode(p, imsg, &m) == -1)
		return -1;
	if (m.version != PROC_TABLE_API_VERSION) {
		api_log_warnx("table-api: bad API version %u (want %d)",
		    m.version, PROC_TABLE_API_VERSION);
		return -1;
	}
	strlcpy(table_api.name, m.name, sizeof table_api.name);
	api_proc_set_object(p, "table=%s", table_api.name);
	api_log_debug("%s: opened", p->prefix);
	return api_proc_reply(p, -1, NULL, 0);
}

/* table_api_on_close - the daemon is done: leave the loop, no reply */
static int
table_api_on_close(struct api_proc *p, struct imsg *imsg)
{
	struct table_msg	m;

	return table_api_decode(p, imsg, &m) == -1 ? -1 : 1;
}

/* table_api_on_update_msg - reload: r from the backend, 1 if it has none */
static int
table_api_on_update_msg(struct api_proc *p, struct imsg *imsg)
{
	struct table_msg	m;
	int32_t			r = 1;

	if (table_api_decode(p, imsg, &m) == -1)
		return -1;
	if (table_api.backend->update)
		r = api_proc_result(p, table_api.backend->update(table_api.ctx),
		    "update", -1, -1);
	return table_api_reply(p, PROC_TABLE_UPDATE, r, NULL);
}

/*
 * table_api_resolve - the backend's answer to a CHECK, LOOKUP or FETCH
 * of SERVICE for KEY (NULL for FETCH), either protocol: r (1, 0, -1)
 * and, when r is 1 for a lookup or a fetch, the value in VALUE
 */
static int32_t
table_api_resolve(struct api_proc *p, uint32_t type, int32_t service,
    const char *key, struct dict *params, char *value, size_t valuesz)
{
	const struct table_backend	*b = table_api.backend;
	enum table_service		 svc = (enum table_service)service;
	const char			*sname;
	int32_t				 r = -1;

	value[0] = '\0';
	table_api.params = params;
	sname = table_api_service_name(service);
	if (sname == NULL) {
		api_log_warnx("%s: unknown service %d", p->prefix, service);
	} else if ((b->services & (unsigned int)svc) == 0) {
		api_log_warnx("%s: service %s not served", p->prefix, sname);
	} else if (type == PROC_TABLE_CHECK && b->check) {
		r = api_proc_result(p, b->check(table_api.ctx, svc, key),
		    "check", -1, -1);
	} else if (type == PROC_TABLE_LOOKUP && b->lookup) {
		r = api_proc_result(p, b->lookup(table_api.ctx, svc, key,
		    value, valuesz), "lookup", -1, -1);
	} else if (type == PROC_TABLE_FETCH && b->fetch) {
		r = api_proc_result(p, b->fetch(table_api.ctx, svc, value,
		    valuesz), "fetch", -1, -1);
	}
	table_api.params = NULL;
	if (r == 1 && type != PROC_TABLE_CHECK &&
	    memchr(value, '\0', valuesz) == NULL) {
		api_log_warnx("%s: %s value not terminated, answering -1",
		    p->prefix, sname);
		r = -1;
	}
	api_log_debug("%s: %s service=%s -> %d", p->prefix,
	    type == PROC_TABLE_CHECK ? "check" :
	    type == PROC_TABLE_LOOKUP ? "lookup" : "fetch",
	    sname ? sname : "?", r);
	return r;
}

/* table_api_answer - answer CHECK, LOOKUP or FETCH once parsed */
static int
table_api_answer(struct api_proc *p, uint32_t type,
    struct table_api_request *req)
{
	char	value[API_TABLE_VALUE_MAX];
	int32_t	r;

	r = table_api_resolve(p, type, req->service, req->key, &req->params,
	    value, sizeof value);
	return table_api_reply(p, type, r, value);
}

/* table_api_on_request - CHECK, LOOKUP or FETCH */
static int
table_api_on_request(struct api_proc *p, struct imsg *imsg)
{
	struct table_api_request	 req;
	struct table_msg		 m;
	const char			*k, *v;
	size_t				 off = 0;
	int				 ret, err;

	if (table_api_decode(p, imsg, &m) == -1)
		return -1;
	api_dict_init(&req.params);
	req.service = m.service;
	req.key = m.key;
	ret = 0;
	while (ret == 0 && table_proto_param_next(&m, &off, &k, &v)) {
		api_dict_set(&req.params, k, (void *)(uintptr_t)v, &err);
		if (err == -1) {
			api_log_warn("%s: parameters", p->prefix);
			ret = -1;
		}
	}
	if (ret == 0)
		ret = table_api_answer(p, imsg->hdr.type, &req);
	api_dict_clear(&req.params, NULL);
	return ret;
}

/* the table glue never refused an fd: one that comes is closed unused */
static const struct api_proc_handler table_api_handlers[] = {
	{ PROC_TABLE_OPEN, "OPEN", API_PROC_HANDSHAKE | API_PROC_FD_ANY,
	    table_api_on_open },
	{ PROC_TABLE_CLOSE, "CLOSE", API_PROC_FD_ANY, table_api_on_close },
	{ PROC_TABLE_UPDATE, "UPDATE", API_PROC_FD_ANY,
	    table_api_on_update_msg },
	{ PROC_TABLE_CHECK, "CHECK", API_PROC_FD_ANY, table_api_on_request },
	{ PROC_TABLE_LOOKUP, "LOOKUP", API_PROC_FD_ANY, table_api_on_request },
	{ PROC_TABLE_FETCH, "FETCH", API_PROC_FD_ANY, table_api_on_request },
};

/*
 * The 7.6+ text protocol (libexec-protocols.md 7), served by the same
 * backend methods.  A 7.6 daemon writes its config| lines at once; a
 * 6.x daemon writes an OPEN frame, whose first byte is the low byte of
 * the type, 2 (or 0 on a big-endian host), never 'c'.  So the first
 * byte decides, peeked without consuming it.
 */
struct table_api_text {
	struct api_proc	*p;
	int		 in;		/* the daemon's lines */
	int		 out;		/* our lines: fd 1 when it is fd 0's
					 * socket too (7.6 puts it on both) */
	char		 buf[TABLE_TEXT_LINE_MAX];
	size_t		 len;
	char		 obuf[TABLE_TEXT_LINE_MAX];	/* a reply */
};

/* table_api_text_first - 1 if the daemon speaks text first, 0 if imsg,
 * -1 on EOF (nothing to serve) */
static int
table_api_text_first(int fd)
{
	ssize_t	n;
	char	c;

	do
		n = recv(fd, &c, 1, MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return -1;
	/* not a socket (a pipe in a test): imsg, as before */
	return n == 1 && c == 'c';
}

/* table_api_text_outfd - where replies go when reading FD */
static int
table_api_text_outfd(int fd)
{
	struct stat	a, b;

	if (fd == 0 && fstat(0, &a) == 0 && fstat(1, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 1;
	return fd;
}

/* table_api_text_write - one or more whole lines: 0, 1 the daemon is
 * gone, -1 error */
static int
table_api_text_write(struct table_api_text *t, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(t->out, s, len, MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(t->out, s, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EPIPE)
			return 1;
		if (n <= 0) {
			api_log_warn("%s: write", t->p->prefix);
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* table_api_text_line - the next line, without '\n', in place: 1, 0 on
 * EOF, -1 on error or a line over TABLE_TEXT_LINE_MAX (logged) */
static int
table_api_text_line(struct table_api_text *t, char **line, size_t *used)
{
	char	*nl;
	ssize_t	 n;

	if (*used > 0) {
		memmove(t->buf, t->buf + *used, t->len - *used);
		t->len -= *used;
		*used = 0;
	}
	while ((nl = memchr(t->buf, '\n', t->len)) == NULL) {
		if (t->len >= sizeof t->buf - 1) {
			api_log_warnx("%s: a line over %zu bytes",
			    t->p->prefix, sizeof t->buf - 1);
			return -1;
		}
		n = read(t->in, t->buf + t->len, sizeof t->buf - 1 - t->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 && t->len > 0)
			api_log_warnx("%s: end of input inside a line",
			    t->p->prefix);
		if (n == 0)
			return t->len > 0 ? -1 : 0;
		if (n == -1) {
			api_log_warn("%s: read", t->p->prefix);
			return -1;
		}
		t->len += (size_t)n;
	}
	*nl = '\0';
	if (memchr(t->buf, '\0', (size_t)(nl - t->buf)) != NULL) {
		api_log_warnx("%s: a NUL byte inside a line", t->p->prefix);
		return -1;
	}
	*line = t->buf;
	*used = (size_t)(nl - t->buf) + 1;
	return 1;
}

/* table_api_text_config - the handshake: config lines up to ready,
 * then our services; 0, 1 (EOF) or -1 */
static int
table_api_text_config(struct table_api_text *t, size_t *used)
{
	char		 out[1024], *line;
	const char	*key, *value, *why;
	int		 r, n;

	for (;;) {
		if ((r = table_api_text_line(t, &line, used)) != 1)
			return r == 0 ? 1 : -1;
		if (table_text_decode_config(line, &key, &value, &why) == -1) {
			api_log_warnx("%s: handshake: %s", t->p->prefix, why);
			return -1;
		}
		if (strcmp(key, "ready") == 0)
			break;
		if (strcmp(key, "protocol") == 0 &&
		    strcmp(value, TABLE_TEXT_PROTOCOL) != 0) {
			api_log_warnx("%s: protocol %s (want %s)",
			    t->p->prefix, value, TABLE_TEXT_PROTOCOL);
			return -1;
		}
		if (strcmp(key, "tablename") == 0) {
			strlcpy(table_api.name, value, sizeof table_api.name);
			api_proc_set_object(t->p, "table=%s", table_api.name);
		}
	}
	if ((n = table_text_encode_register(out, sizeof out,
	    table_api.backend->services & K_ANY)) == -1) {
		api_log_warnx("%s: no service to register", t->p->prefix);
		return -1;
	}
	api_log_debug("%s: opened (text protocol)", t->p->prefix);
	return table_api_text_write(t, out, (size_t)n);
}

/* table_api_text_answer - one request line: 0, 1 (daemon gone), -1 */
static int
table_api_text_answer(struct table_api_text *t, char *line)
{
	static const uint32_t		 types[] = {
		[TABLE_TEXT_CHECK] = PROC_TABLE_CHECK,
		[TABLE_TEXT_LOOKUP] = PROC_TABLE_LOOKUP,
		[TABLE_TEXT_FETCH] = PROC_TABLE_FETCH,
	};
	char				 value[API_TABLE_VALUE_MAX];
	struct table_text_request	 q;
	struct table_text_reply		 a;
	struct dict			 params;
	int32_t				 r = 1;
	int				 n;

	if (table_text_decode_request(line, &q) == -1) {
		api_log_warnx("%s: bad request: %s", t->p->prefix, q.error);
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.op = q.op;
	a.id = q.id;
	api_dict_init(&params);
	if (q.op == TABLE_TEXT_UPDATE) {
		if (table_api.backend->update)
			r = api_proc_result(t->p, table_api.backend->update(
			    table_api.ctx), "update", -1, -1);
	} else
		r = table_api_resolve(t->p, types[q.op], q.service, q.key,
		    &params, value, sizeof value);
	a.result = r == 1 ? TABLE_TEXT_FOUND : r == 0 && q.op !=
	    TABLE_TEXT_UPDATE ? TABLE_TEXT_NOT_FOUND : TABLE_TEXT_ERROR;
	a.value = value;
	if ((n = table_text_encode_reply(t->obuf, sizeof t->obuf, &a)) ==
	    -1) {
		/* a value with a line feed, or empty: not for this wire */
		api_log_warnx("%s: %s value cannot travel in a line, "
		    "answering error", t->p->prefix, table_text_op_name(q.op));
		a.result = TABLE_TEXT_ERROR;
		a.message = "value cannot be sent";
		n = table_text_encode_reply(t->obuf, sizeof t->obuf, &a);
	}
	if (n == -1)
		return -1;
	return table_api_text_write(t, t->obuf, (size_t)n);
}

/* table_api_text_serve - the text protocol on FD until EOF: 0 or 1 */
static int
table_api_text_serve(struct api_proc *p, int fd)
{
	static struct table_api_text	 t;
	char				*line;
	size_t				 used = 0;
	int				 r;

	memset(&t, 0, sizeof t);
	t.p = p;
	t.in = fd;
	t.out = table_api_text_outfd(fd);
	strlcpy(p->prefix, p->name, sizeof p->prefix);
	if ((r = table_api_text_config(&t, &used)) != 0)
		return r == 1 ? 0 : 1;
	while ((r = table_api_text_line(&t, &line, &used)) == 1)
		if ((r = table_api_text_answer(&t, line)) != 0)
			return r == 1 ? 0 : 1;
	if (r == 0)
		api_log_debug("%s: end of input", p->prefix);
	return r == 0 ? 0 : 1;
}

int
table_api_serve_fd(const struct table_backend *b, void *ctx, int fd)
{
	int	r;

	if (b == NULL || b->version < TABLE_BACKEND_V1) {
		api_log_warnx("table-api: no backend, or not version %d",
		    TABLE_BACKEND_V1);
		return 1;
	}
	table_api.backend = b;
	table_api.ctx = ctx;
	/* one call is one conversation: it starts with its own OPEN */
	table_api.name[0] = '\0';
	switch (table_api_text_first(fd)) {
	case -1:
		r = 0;		/* EOF before anything: nothing asked */
		break;
	case 1:
		r = table_api_text_serve(&table_api.proc, fd);
		break;
	default:
		r = api_proc_dispatch(&table_api.proc, fd, table_api_handlers,
		    sizeof table_api_handlers / sizeof table_api_handlers[0]);
		break;
	}
	table_api.backend = NULL;
	table_api.ctx = NULL;
	return r;
}

int
table_api_serve(const struct table_backend *b, void *ctx)
{
	return table_api_serve_fd(b, ctx, 0);
}

int
table_api_main(const struct table_backend *b, const char *progname,
    int argc, char *argv[])
{
	const char	*config;
	char		 err[1024];
	void		*ctx;
	int		 first, r;

	if ((first = api_proc_init(NULL, progname, argc, argv,
	    "[-v] [config]")) == -1)
		return 1;
	if (argc - first > 1) {
		api_log_warnx("bogus argument(s): usage: %s [-v] [config]",
		    progname);
		return 1;
	}
	/* the backend says whether it needs a config (a file does) */
	config = argc - first == 1 ? argv[first] : "";
	/* the daemon runs a helper with the table's name as argv[0]; a
	 * backend without open has no context */
	if (b->open == NULL)
		ctx = NULL;
	else if ((ctx = b->open(argc > 0 ? argv[0] : progname, config, err,
	    sizeof err)) == NULL) {
		api_log_warnx("%s", err);
		return 1;
	}
	r = table_api_serve(b, ctx);
	if (b->close != NULL)
		b->close(ctx);
	return r;
}

/*
 * The registration shim: a backend whose methods call what the driver
 * registered with table_api_on_*, passing the request's parameters.
 * Its context is unused: OpenSMTPD-style drivers keep their own state.
 */

/* table_api_compat_update - the registered update, 1 without one */
static int
table_api_compat_update(void *ctx)
{
	return table_api.on_update ? table_api.on_update() : 1;
}

/* table_api_compat_check - the registered check, -1 without one */
static int
table_api_compat_check(void *ctx, enum table_service service,
    const char *key)
{
	if (table_api.on_check == NULL)
		return -1;
	return table_api.on_check(service, table_api.params, key);
}

/* table_api_compat_lookup - the registered lookup, -1 without one */
static int
table_api_compat_lookup(void *ctx, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	if (table_api.on_lookup == NULL)
		return -1;
	return table_api.on_lookup(service, table_api.params, key, dst, dstsz);
}

/* table_api_compat_fetch - the registered fetch, -1 without one */
static int
table_api_compat_fetch(void *ctx, enum table_service service, char *dst,
    size_t dstsz)
{
	if (table_api.on_fetch == NULL)
		return -1;
	return table_api.on_fetch(service, table_api.params, dst, dstsz);
}

static const struct table_backend table_api_compat = {
	.version = TABLE_BACKEND_V1,
	.name = "registered",
	.services = K_ANY,
	.update = table_api_compat_update,
	.check = table_api_compat_check,
	.lookup = table_api_compat_lookup,
	.fetch = table_api_compat_fetch,
};

int
table_api_dispatch_fd(int fd)
{
	return table_api_serve_fd(&table_api_compat, NULL, fd);
}

int
table_api_dispatch(void)
{
	return table_api_dispatch_fd(0);
}
