/*
 * table_api.c -- helper side of the proc table protocol (table_api.h).
 *
 * Runs inside a table helper (libexec/table-*), started by the daemon's
 * lookup process with the socket on fd 0.  The conversation is a
 * synchronous RPC (libexec-protocols.md 1.3 and 4): one request, one
 * reply of type PROC_TABLE_OK.  Requests are decoded and replies encoded
 * by api/table_proto.c, the codec smtpd's table_proc.c shares, so a
 * short, oversized or unterminated field is a protocol
 * violation that ends the loop with status 1; it is never a crash and
 * never reaches a backend.  It serves any struct table_backend
 * (table_api_serve); drivers that register callbacks (table_api_on_*)
 * are served through a backend that calls them.  Backend errors are
 * answered -1 and the helper keeps serving.  Nothing here calls exit.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "smtpd-api.h"
#include "api_proc.h"
#include "table_proto.h"

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

/* table_api_answer - answer CHECK, LOOKUP or FETCH once parsed */
static int
table_api_answer(struct api_proc *p, uint32_t type,
    struct table_api_request *req)
{
	char		 value[API_TABLE_VALUE_MAX];
	const struct table_backend	*b = table_api.backend;
	enum table_service		 svc = (enum table_service)req->service;
	const char			*sname;
	int32_t				 r = -1;

	value[0] = '\0';
	table_api.params = &req->params;
	sname = table_api_service_name(req->service);
	if (sname == NULL) {
		api_log_warnx("%s: unknown service %d", p->prefix,
		    req->service);
	} else if ((b->services & (unsigned int)svc) == 0) {
		api_log_warnx("%s: service %s not served", p->prefix, sname);
	} else if (type == PROC_TABLE_CHECK && b->check) {
		r = api_proc_result(p, b->check(table_api.ctx, svc,
		    req->key), "check", -1, -1);
	} else if (type == PROC_TABLE_LOOKUP && b->lookup) {
		r = api_proc_result(p, b->lookup(table_api.ctx, svc,
		    req->key, value, sizeof value), "lookup", -1, -1);
	} else if (type == PROC_TABLE_FETCH && b->fetch) {
		r = api_proc_result(p, b->fetch(table_api.ctx, svc,
		    value, sizeof value), "fetch", -1, -1);
	}
	table_api.params = NULL;
	if (r == 1 && type != PROC_TABLE_CHECK &&
	    memchr(value, '\0', sizeof value) == NULL) {
		api_log_warnx("%s: %s value not terminated, answering -1",
		    p->prefix, sname);
		r = -1;
	}
	api_log_debug("%s: %s service=%s -> %d", p->prefix,
	    type == PROC_TABLE_CHECK ? "check" :
	    type == PROC_TABLE_LOOKUP ? "lookup" : "fetch",
	    sname ? sname : "?", r);
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
	r = api_proc_dispatch(&table_api.proc, fd, table_api_handlers,
	    sizeof table_api_handlers / sizeof table_api_handlers[0]);
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
