/*
 * table_api.c -- helper side of the proc table protocol (table_api.h).
 *
 * Runs inside a table helper (libexec/table-*), started by the daemon's
 * lookup process with the socket on fd 0.  The conversation is a
 * synchronous RPC (libexec-protocols.md 1.3 and 4): one request, one
 * reply of type PROC_TABLE_OK.  Requests are parsed with the wire
 * reader, so a short, oversized or unterminated field is a protocol
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

/* table_api_reply - send OK with r, and value when r == 1 and given;
 * 0 sent, 1 the daemon is gone, -1 error */
static int
table_api_reply(struct api_proc *p, int32_t r, const char *value)
{
	unsigned char		buf[IMSG_MAX_PAYLOAD];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	if (r == 1 && value != NULL)
		wire_put_cstr(&w, value);
	return api_proc_reply_wire(p, &w);
}

/* table_api_parse - service, params and (with_key) the key of a request */
static int
table_api_parse(struct imsg *imsg, int with_key,
    struct table_api_request *req)
{
	struct wire_reader	 r;
	const char		*k, *v;
	size_t			 n, i;
	int			 err;

	req->key = NULL;
	wire_reader_init(&r, imsg->data, imsg->datalen);
	wire_get_i32(&r, &req->service);
	wire_get_sz(&r, &n);
	if (r.error) {
		api_log_warnx("table-api: bad msg len %zu", imsg->datalen);
		return -1;
	}
	/* each pair takes at least two bytes: never trust n further */
	if (n > API_TABLE_PARAMS_MAX || n > wire_remaining(&r) / 2) {
		api_log_warnx("table-api: bogus parameter count %zu", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (wire_get_cstr(&r, &k) == -1 ||
		    wire_get_cstr(&r, &v) == -1) {
			api_log_warnx("table-api: bogus parameter %zu", i);
			return -1;
		}
		api_dict_set(&req->params, k, (void *)(uintptr_t)v, &err);
		if (err == -1) {
			api_log_warn("table-api: parameters");
			return -1;
		}
	}
	if (with_key) {
		if (imsg->datalen == 0 ||
		    ((const char *)imsg->data)[imsg->datalen - 1] != '\0' ||
		    wire_get_cstr(&r, &req->key) == -1) {
			api_log_warnx("table-api: key not NUL-terminated");
			return -1;
		}
	}
	if (wire_end(&r) == -1) {
		api_log_warnx("table-api: %zu bytes of garbage after request",
		    wire_remaining(&r));
		return -1;
	}
	return 0;
}

/* table_api_on_open - the handshake: version 2, the table's name */
static int
table_api_on_open(struct api_proc *p, struct imsg *imsg)
{
	const char	*name;
	uint32_t	 version;

	if (imsg->datalen != TABLE_OPEN_PARAMS_SIZE)
		return api_proc_bad_len(p, imsg, "OPEN");
	memcpy(&version, imsg->data, sizeof version);
	if (version != PROC_TABLE_API_VERSION) {
		api_log_warnx("table-api: bad API version %u (want %d)",
		    version, PROC_TABLE_API_VERSION);
		return -1;
	}
	name = (const char *)imsg->data + sizeof version;
	if (memchr(name, '\0', API_NAME_MAX) == NULL) {
		api_log_warnx("table-api: table name not NUL-terminated");
		return -1;
	}
	strlcpy(table_api.name, name, sizeof table_api.name);
	api_proc_set_object(p, "table=%s", table_api.name);
	api_log_debug("%s: opened", p->prefix);
	return api_proc_reply(p, -1, NULL, 0);
}

/* table_api_on_close - the daemon is done: leave the loop, no reply */
static int
table_api_on_close(struct api_proc *p, struct imsg *imsg)
{
	return api_proc_get_none(p, imsg, "CLOSE") == -1 ? -1 : 1;
}

/* table_api_on_update_msg - reload: r from the backend, 1 if it has none */
static int
table_api_on_update_msg(struct api_proc *p, struct imsg *imsg)
{
	int32_t	r = 1;

	if (api_proc_get_none(p, imsg, "UPDATE") == -1)
		return -1;
	if (table_api.backend->update)
		r = api_proc_result(p, table_api.backend->update(table_api.ctx),
		    "update", -1, -1);
	return table_api_reply(p, r, NULL);
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
	return table_api_reply(p, r, type == PROC_TABLE_CHECK ? NULL : value);
}

/* table_api_on_request - CHECK, LOOKUP or FETCH */
static int
table_api_on_request(struct api_proc *p, struct imsg *imsg)
{
	struct table_api_request	req;
	int				ret;

	api_dict_init(&req.params);
	ret = table_api_parse(imsg, imsg->hdr.type != PROC_TABLE_FETCH, &req);
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
