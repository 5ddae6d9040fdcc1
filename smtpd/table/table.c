/*
 * table.c -- the table layer: create, open, update and query tables.
 *
 * Runs in the parser (create, add, config-time load of files) and in the
 * lookup process (open, lookup, check, fetch, update, close).  The layer
 * picks the backend, normalises every key before a backend sees it
 * (lower case, no CR or LF, at most TABLE_KEY_MAX - 1 bytes, as the 6.8
 * daemon does) and validates every value a backend returns with the
 * parsers of table_value.c, so that a bad value is a temporary failure
 * (-1), never a silent match.  It must never call fatal because of a
 * key, a table file or a helper: those are outside input.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "table.h"
#include "table_api.h"
#include "xmalloc.h"

/* one query of a helper-hosted table, until its completion */
struct table_req {
	struct table		*t;
	enum table_service	 service;
	const char		*op;		/* "lookup", "check", ... */
	int			 want_value;
	int			 has_key;
	char			 key[TABLE_KEY_MAX];	/* normalised */
	table_done_fn		 done;
	void			*arg;
};

static struct table_req	*table_req_new(struct table *, enum table_service,
			    const char *, table_done_fn, void *);

/*
 * The embedded backends' methods (struct table_backend, api/) are called
 * from these few functions alone, each with the table's context.
 */
static int
table_backend_open(struct table *t, char *err, size_t errsz)
{
	if (t->backend->open == NULL)
		return 0;	/* no state: the context stays NULL */
	t->ctx = t->backend->open(t->name, t->config, err, errsz);
	return t->ctx != NULL ? 0 : -1;
}

static int
table_backend_update(struct table *t)
{
	return t->backend->update != NULL ?
	    (t->backend->update(t->ctx) == 1) : 1;
}

static void
table_backend_close(struct table *t)
{
	if (t->backend->close != NULL)
		t->backend->close(t->ctx);
	t->ctx = NULL;
}

static int
table_backend_lookup(struct table *t, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	if (t->backend->lookup == NULL)
		return -1;
	return t->backend->lookup(t->ctx, service, key, dst, dstsz);
}

static int
table_backend_check(struct table *t, enum table_service service,
    const char *key)
{
	if (t->backend->check == NULL)
		return -1;
	return t->backend->check(t->ctx, service, key);
}

static int
table_backend_fetch(struct table *t, enum table_service service, char *dst,
    size_t dstsz)
{
	if (t->backend->fetch == NULL)
		return -1;
	return t->backend->fetch(t->ctx, service, dst, dstsz);
}

/* table_backend_shape - the shape the backend reports, NONE if none */
static enum table_shape
table_backend_shape(const struct table *t)
{
	if (t->backend == NULL || t->backend->shape == NULL)
		return TABLE_SHAPE_NONE;
	return t->backend->shape(t->ctx);
}

/* table_service_valid - exactly one known bit */
static int
table_service_valid(enum table_service service)
{
	return strcmp(table_service_name(service), "unknown") != 0;
}

/* table_find_helper - PATH of the helper table-BACKEND, or -1 with ERR */
int
table_find_helper(const char *libexec, const char *backend, char *path,
    size_t pathsz, char *err, size_t errsz)
{
	const char	*dirs[2];
	size_t		 i;
	int		 r;

	/* proc-NAME runs table-NAME, built-in names included; text-NAME
	 * too, in the 7.6+ protocol */
	if (strncmp(backend, TABLE_PROC_PREFIX, strlen(TABLE_PROC_PREFIX)) ==
	    0 && backend[strlen(TABLE_PROC_PREFIX)] != '\0')
		backend += strlen(TABLE_PROC_PREFIX);
	else if (table_text_backend(backend))
		backend += strlen(TABLE_TEXT_PREFIX);
	dirs[0] = libexec != NULL && libexec[0] != '\0' ? libexec :
	    PATH_SMTPD_LIBEXEC;
	dirs[1] = TABLE_HELPER_DIR_DEBIAN;
	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		r = snprintf(path, pathsz, "%s/table-%s", dirs[i], backend);
		if (r < 0 || (size_t)r >= pathsz)
			continue;
		if (access(path, X_OK) == 0)
			return 0;
	}
	snprintf(err, errsz, "no helper table-%s in %s or %s", backend,
	    dirs[0], dirs[1]);
	return -1;
}

/* table_text_backend - does BACKEND speak the 7.6+ text protocol:
 * text-NAME (the helper table-NAME) or proc (CONFIG its path) */
int
table_text_backend(const char *backend)
{
	if (strcmp(backend, TABLE_TEXT_PROC) == 0)
		return 1;
	return strncmp(backend, TABLE_TEXT_PREFIX,
	    strlen(TABLE_TEXT_PREFIX)) == 0 &&
	    backend[strlen(TABLE_TEXT_PREFIX)] != '\0';
}

/* table_text_proc_path - proc:PATH's executable PATH; 0, or -1 with ERR */
int
table_text_proc_path(const char *config, char *err, size_t errsz)
{
	if (config == NULL || config[0] != '/') {
		snprintf(err, errsz, "proc: needs the absolute path of a "
		    "program");
		return -1;
	}
	if (access(config, X_OK) == -1) {
		snprintf(err, errsz, "proc:%s: %s", config, strerror(errno));
		return -1;
	}
	return 0;
}

/* table_backend_valid_name - backend names are [a-z0-9_-] words */
static int
table_backend_valid_name(const char *backend)
{
	size_t	i;

	if (backend[0] == '\0')
		return 0;
	for (i = 0; backend[i] != '\0'; i++)
		if (!isalnum((unsigned char)backend[i]) &&
		    backend[i] != '-' && backend[i] != '_')
			return 0;
	return 1;
}

/* table_backend_find - the embedded backend called NAME, or NULL */
static const struct table_backend *
table_backend_find(const char *name)
{
	static const struct table_backend *const embedded[] = {
		&table_backend_static, &table_backend_file, &table_backend_db,
		&table_backend_getpwnam,
	};
	size_t	i;

	for (i = 0; i < sizeof embedded / sizeof embedded[0]; i++)
		if (strcmp(embedded[i]->name, name) == 0)
			return embedded[i];
	return NULL;
}

/* table_is_helper - is BACKEND served by a helper program */
int
table_is_helper(const char *backend)
{
	return table_backend_find(backend) == NULL;
}

/* table_create - a table of BACKEND named NAME; NULL with err if bad */
struct table *
table_create(const char *name, const char *backend, const char *config,
    const char *libexec, char *err, size_t errsz)
{
	const struct table_backend	*b = NULL;
	struct table			*t;
	char				 path[PATH_MAX], why[PATH_MAX + 64];

	if (config == NULL)
		config = "";
	if (name[0] == '\0' || strlen(name) >= TABLE_NAME_MAX) {
		snprintf(err, errsz, "invalid table name");
		return NULL;
	}
	if ((b = table_backend_find(backend)) != NULL)
		;
	else if (strcmp(backend, TABLE_TEXT_PROC) == 0) {
		if (table_text_proc_path(config, why, sizeof why) == -1) {
			snprintf(err, errsz, "table \"%s\": %s", name, why);
			return NULL;
		}
		(void)strlcpy(path, config, sizeof path);
		config = "";	/* the program runs without an argument */
	} else if (!table_backend_valid_name(backend) ||
	    strlen(backend) >= TABLE_NAME_MAX) {
		snprintf(err, errsz, "table \"%s\": invalid backend name",
		    name);
		return NULL;
	} else if (table_find_helper(libexec, backend, path, sizeof path, why,
	    sizeof why) == -1) {
		snprintf(err, errsz, "table \"%s\": unknown backend \"%s\": "
		    "%s", name, backend, why);
		return NULL;
	}

	t = xcalloc(1, sizeof *t);
	t->backend = b;
	t->timeout_ms = TABLE_PROC_TIMEOUT_MS;
	t->backoff_ms = TABLE_PROC_BACKOFF_MS;
	t->backoff_max_ms = TABLE_PROC_BACKOFF_MAX_MS;
	(void)strlcpy(t->name, name, sizeof t->name);
	(void)strlcpy(t->backend_name, backend, sizeof t->backend_name);
	if (strlcpy(t->config, config, sizeof t->config) >= sizeof t->config) {
		snprintf(err, errsz, "table \"%s\": configuration too long",
		    name);
		free(t);
		return NULL;
	}
	/* a helper's executable is pinned now, while it can be opened */
	if (b == NULL && (t->proc = table_proc_new(t->name, path, t->config,
	    table_text_backend(backend), err, errsz)) == NULL) {
		free(t);
		return NULL;
	}
	if (b != NULL && table_backend_open(t, err, errsz) == -1) {
		table_free(&t);
		return NULL;
	}
	log_trace(TRACE_TABLES, "table %s: created backend=%s config=%s",
	    t->name, t->backend_name, t->config);
	return t;
}

/* table_add - one inline entry: VALUE NULL for a list */
int
table_add(struct table *t, const char *key, const char *value, char *err,
    size_t errsz)
{
	char	e[256];

	if (t->backend != &table_backend_static) {
		snprintf(err, errsz, "table \"%s\": entries can only be added "
		    "to a static table", t->name);
		return -1;
	}
	if (t->backend->add(t->ctx, key, value, e, sizeof e) == -1) {
		snprintf(err, errsz, "table \"%s\": %s", t->name, e);
		return -1;
	}
	return 0;
}

/* table_open - make the table usable in this process */
int
table_open(struct table *t, struct event_base *evb, char *err, size_t errsz)
{
	if (t->opened)
		return 0;
	if (t->proc != NULL) {
		table_proc_set_limits(t->proc, t->timeout_ms, t->backoff_ms,
		    t->backoff_max_ms);
		/* a helper that fails now is retried later: not an error */
		if (table_proc_start(t->proc, evb) == -1) {
			snprintf(err, errsz, "table \"%s\": a helper needs an "
			    "event loop", t->name);
			return -1;
		}
		t->opened = 1;
		return 0;
	}
	/* an embedded backend was opened by table_create */
	t->opened = 1;
	return 0;
}

/* table_open_all - open N tables; stops at the first failure */
int
table_open_all(struct table **tables, size_t n, struct event_base *evb,
    char *err, size_t errsz)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (tables[i] != NULL &&
		    table_open(tables[i], evb, err, errsz) == -1)
			return -1;
	return 0;
}

/* table_update_log - one line for the outcome of a reload */
static void
table_update_log(const struct table *t, int r)
{
	if (r == 1)
		log_event(0, "table", "updated", "table=%s", t->name);
	else
		log_warnx("table %s: update failed, keeping the old content",
		    t->name);
}

/* table_on_update - a helper's reload answer */
static void
table_on_update(void *arg, int r, const char *value)
{
	struct table_req	*req = arg;

	(void)value;
	r = r == 1 ? 1 : 0;
	table_update_log(req->t, r);
	req->done(req->arg, r, NULL);
	free(req);
}

/* table_update - reload; DONE gets 1 done, 0 failed (old content stays) */
void
table_update(struct table *t, table_done_fn done, void *arg)
{
	struct table_req	*req;
	int			 r;

	if (t->proc != NULL) {
		if (!t->opened) {
			table_update_log(t, 0);
			done(arg, 0, NULL);
			return;
		}
		req = table_req_new(t, K_NONE, "update", done, arg);
		table_proc_request(t->proc, PROC_TABLE_UPDATE, K_NONE, NULL,
		    table_on_update, req);
		return;
	}
	r = table_backend_update(t);
	if (t->backend->update != NULL)
		table_update_log(t, r);
	done(arg, r, NULL);
}

/* table_close - stop what the table runs; DONE (r 1) once stopped */
void
table_close(struct table *t, table_done_fn done, void *arg)
{
	if (t == NULL || !t->opened) {
		if (done != NULL)
			done(arg, 1, NULL);
		return;
	}
	t->opened = 0;
	if (t->proc != NULL) {
		table_proc_close(t->proc, done, arg);
		return;
	}
	/* an embedded backend keeps its context until table_free */
	if (done != NULL)
		done(arg, 1, NULL);
}

/* table_free - close and release a table; NULLs the pointer */
void
table_free(struct table **tp)
{
	struct table	*t = *tp;

	if (t == NULL)
		return;
	if (t->proc != NULL)
		table_proc_free(&t->proc);	/* kills and reaps its helper */
	else {
		table_close(t, NULL, NULL);
		if (t->backend != NULL && t->ctx != NULL)
			table_backend_close(t);
	}
	free(t);
	*tp = NULL;
}

/* table_name - for logs */
const char *
table_name(const struct table *t)
{
	return t->name;
}

/* table_shape - list, mapping, or NONE when the backend cannot tell */
enum table_shape
table_shape(const struct table *t)
{
	enum table_shape	shape = table_backend_shape(t);

	/* an empty file is an empty mapping (smtpd-conf.md 4.1) */
	if (shape == TABLE_SHAPE_NONE && t->backend == &table_backend_file)
		return TABLE_SHAPE_MAPPING;
	return shape;
}

/* table_services - what the backend can answer at all */
unsigned int
table_services(const struct table *t)
{
	return t->proc != NULL ? K_ANY : t->backend->services;
}

/* table_check_use - may T serve SERVICE with SHAPE (smtpd-conf 4.2) */
int
table_check_use(const struct table *t, enum table_service service,
    enum table_shape shape, char *err, size_t errsz)
{
	enum table_shape	have = table_backend_shape(t);
	int			ok = 1;

	/* helpers are not shape-checked; an empty table fits any shape */
	if ((table_services(t) & service) != service)
		ok = 0;
	else if (t->proc != NULL)
		ok = 1;
	else if (shape != TABLE_SHAPE_NONE && have != TABLE_SHAPE_NONE &&
	    have != shape)
		ok = 0;
	if (!ok)
		snprintf(err, errsz, "table \"%s\" may not be used for %s "
		    "lookups", t->name, table_service_name(service));
	return ok ? 0 : -1;
}

/* table_set_timeout - how long one helper request may take */
void
table_set_timeout(struct table *t, int timeout_ms)
{
	t->timeout_ms = timeout_ms > 0 ? timeout_ms : TABLE_PROC_TIMEOUT_MS;
	if (t->proc != NULL)
		table_proc_set_limits(t->proc, t->timeout_ms, t->backoff_ms,
		    t->backoff_max_ms);
}

/* table_set_backoff - first and largest helper restart delays */
void
table_set_backoff(struct table *t, int first_ms, int max_ms)
{
	t->backoff_ms = first_ms > 0 ? first_ms : TABLE_PROC_BACKOFF_MS;
	t->backoff_max_ms = max_ms >= t->backoff_ms ? max_ms : t->backoff_ms;
	if (t->proc != NULL)
		table_proc_set_limits(t->proc, t->timeout_ms, t->backoff_ms,
		    t->backoff_max_ms);
}

/* table_prepare - common checks of a query; 0 with KEY normalised */
static int
table_prepare(struct table *t, enum table_service service, const char *op,
    const char *key, char *lkey, size_t lkeysz)
{
	char	err[128];

	if (!table_service_valid(service)) {
		log_warnx("table %s: %s for an invalid service 0x%x", t->name,
		    op, (unsigned int)service);
		return -1;
	}
	if ((table_services(t) & service) == 0) {
		log_warnx("table %s: backend %s cannot serve %s lookups",
		    t->name, t->backend_name, table_service_name(service));
		return -1;
	}
	if (!t->opened) {
		log_warnx("table %s: %s before the table was opened",
		    t->name, op);
		return -1;
	}
	if (key != NULL &&
	    table_normalize_key(key, lkey, lkeysz, err, sizeof err) == -1) {
		log_warnx("table %s: %s %s refused: %s", t->name,
		    table_service_name(service), op, err);
		return -1;
	}
	return 0;
}

/*
 * table_value_ok - is VALUE, answered by a backend for SERVICE and KEY
 * (NULL for fetch), a value the daemon may use; logs why not.
 */
static int
table_value_ok(const struct table *t, enum table_service service,
    const char *op, const char *key, const char *value)
{
	char	err[256];

	if (strlen(value) >= TABLE_VALUE_MAX) {
		log_warnx("table %s: %s %s: value of %zu bytes, over the limit "
		    "of %d", t->name, table_service_name(service), op,
		    strlen(value), TABLE_VALUE_MAX - 1);
		return 0;
	}
	if (table_parse_value(service, key, value, err, sizeof err) == -1) {
		if (key != NULL)
			log_warnx("table %s: %s %s of \"%s\": bad value: %s",
			    t->name, table_service_name(service), op, key,
			    err);
		else
			log_warnx("table %s: %s %s: bad value: %s", t->name,
			    table_service_name(service), op, err);
		return 0;
	}
	return 1;
}

/* table_req_new - the state of one helper query until it completes */
static struct table_req *
table_req_new(struct table *t, enum table_service service, const char *op,
    table_done_fn done, void *arg)
{
	struct table_req	*req;

	req = xcalloc(1, sizeof *req);
	req->t = t;
	req->service = service;
	req->op = op;
	req->done = done;
	req->arg = arg;
	return req;
}

/* table_finish - trace, normalise R and complete a query */
static void
table_finish(struct table *t, enum table_service service, const char *op,
    const char *key, int r, const char *value, table_done_fn done,
    void *arg)
{
	log_trace(TRACE_TABLES, "table %s: %s %s \"%s\" -> %d", t->name, op,
	    table_service_name(service), key ? key : "", r);
	if (r != 1 && r != 0)
		r = -1;
	done(arg, r, r == 1 ? value : NULL);
}

/* table_on_answer - a helper's answer: validated as an embedded one */
static void
table_on_answer(void *arg, int r, const char *value)
{
	struct table_req	*req = arg;

	if (r == 1 && req->want_value && (value == NULL ||
	    !table_value_ok(req->t, req->service, req->op,
	    req->has_key ? req->key : NULL, value)))
		r = -1;
	table_finish(req->t, req->service, req->op,
	    req->has_key ? req->key : NULL, r, value, req->done, req->arg);
	free(req);
}

/* table_query - the one path of lookup, check and fetch */
static void
table_query(struct table *t, uint32_t type, enum table_service service,
    const char *op, const char *key, table_done_fn done, void *arg)
{
	struct table_req	*req;
	char			 lkey[TABLE_KEY_MAX];
	char			*value;
	int			 r, want_value = type != PROC_TABLE_CHECK;

	if (table_prepare(t, service, op, key, lkey, sizeof lkey) == -1) {
		done(arg, -1, NULL);
		return;
	}
	if (t->proc != NULL) {
		req = table_req_new(t, service, op, done, arg);
		req->want_value = want_value;
		if (key != NULL) {
			req->has_key = 1;
			(void)strlcpy(req->key, lkey, sizeof req->key);
		}
		table_proc_request(t->proc, type, service, key ? lkey : NULL,
		    table_on_answer, req);
		return;
	}
	/* embedded: at once, through the same completion */
	value = want_value ? xmalloc(TABLE_VALUE_MAX) : NULL;
	if (value != NULL)
		value[0] = '\0';
	if (type == PROC_TABLE_LOOKUP)
		r = table_backend_lookup(t, service, lkey, value,
		    TABLE_VALUE_MAX);
	else if (type == PROC_TABLE_CHECK)
		r = table_backend_check(t, service, lkey);
	else
		r = table_backend_fetch(t, service, value, TABLE_VALUE_MAX);
	if (r == 1 && value != NULL &&
	    memchr(value, '\0', TABLE_VALUE_MAX) == NULL) {
		log_warnx("table %s: %s %s: value not terminated", t->name,
		    table_service_name(service), op);
		r = -1;
	} else if (r == 1 && value != NULL && !table_value_ok(t, service, op,
	    key ? lkey : NULL, value))
		r = -1;
	table_finish(t, service, op, key ? lkey : NULL, r, value, done, arg);
	free(value);
}

/* table_lookup - the value of KEY for SERVICE: DONE gets 1, 0 or -1 */
void
table_lookup(struct table *t, enum table_service service, const char *key,
    table_done_fn done, void *arg)
{
	table_query(t, PROC_TABLE_LOOKUP, service, "lookup", key, done, arg);
}

/* table_check - is KEY present (matched) for SERVICE: 1, 0 or -1 */
void
table_check(struct table *t, enum table_service service, const char *key,
    table_done_fn done, void *arg)
{
	table_query(t, PROC_TABLE_CHECK, service, "check", key, done, arg);
}

/* table_fetch - the next value for SERVICE, wrapping: 1, 0 or -1 */
void
table_fetch(struct table *t, enum table_service service, table_done_fn done,
    void *arg)
{
	table_query(t, PROC_TABLE_FETCH, service, "fetch", NULL, done, arg);
}
