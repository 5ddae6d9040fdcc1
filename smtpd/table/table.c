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
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

/* table_service_valid - exactly one known bit */
static int
table_service_valid(enum table_service service)
{
	return strcmp(table_service_name(service), "unknown") != 0;
}

/*
 * table_find_helper - PATH of the proc helper table-BACKEND, or -1.  A
 * backend proc-NAME runs the helper table-NAME, built-in names included:
 * `proc-file:` and `proc-db:` host those backends out of process.
 */
int
table_find_helper(const char *backend, char *path, size_t pathsz)
{
	const char	*dirs[3];
	size_t		 i, n = 0;
	int		 r;

	if (strncmp(backend, TABLE_PROC_PREFIX, strlen(TABLE_PROC_PREFIX)) ==
	    0 && backend[strlen(TABLE_PROC_PREFIX)] != '\0')
		backend += strlen(TABLE_PROC_PREFIX);

	if (env != NULL && env->opts.libexec[0] != '\0')
		dirs[n++] = env->opts.libexec;
	else
		dirs[n++] = PATH_SMTPD_LIBEXEC;
	dirs[n++] = "/usr/libexec/opensmtpd";
	for (i = 0; i < n; i++) {
		r = snprintf(path, pathsz, "%s/table-%s", dirs[i], backend);
		if (r < 0 || (size_t)r >= pathsz)
			continue;
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -1;
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

/* table_create - a table of BACKEND named NAME; NULL with err if bad */
struct table *
table_create(const char *name, const char *backend, const char *config,
    char *err, size_t errsz)
{
	const struct table_backend	*b;
	struct table			*t;
	char				 path[PATH_MAX];

	if (config == NULL)
		config = "";
	if (name[0] == '\0' || strlen(name) >= TABLE_NAME_MAX) {
		snprintf(err, errsz, "invalid table name");
		return NULL;
	}
	if (strcmp(backend, "static") == 0)
		b = &table_backend_static;
	else if (strcmp(backend, "file") == 0)
		b = &table_backend_file;
	else if (strcmp(backend, "db") == 0)
		b = &table_backend_db;
	else if (strcmp(backend, "getpwnam") == 0)
		b = &table_backend_getpwnam;
	else if (!table_backend_valid_name(backend) ||
	    strlen(backend) >= TABLE_NAME_MAX) {
		snprintf(err, errsz, "table \"%s\": invalid backend name",
		    name);
		return NULL;
	} else if (table_find_helper(backend, path, sizeof path) == -1) {
		snprintf(err, errsz, "table \"%s\": unknown backend \"%s\": "
		    "no helper table-%s in %s or /usr/libexec/opensmtpd",
		    name, backend, backend, env != NULL &&
		    env->opts.libexec[0] ? env->opts.libexec :
		    PATH_SMTPD_LIBEXEC);
		return NULL;
	} else
		b = NULL;	/* a helper: table_proc_ops */

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
	if (b != NULL && b->open != NULL && (t->ctx = b->open(t->name,
	    t->config, err, errsz)) == NULL) {
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
table_open(struct table *t, char *err, size_t errsz)
{
	if (t->opened)
		return 0;
	/* embedded backends opened at create; helpers start here */
	if (t->backend == NULL && table_proc_ops.open(t) == -1) {
		snprintf(err, errsz, "table \"%s\": cannot open", t->name);
		return -1;
	}
	t->opened = 1;
	return 0;
}

/* table_open_all - open N tables; stops at the first failure */
int
table_open_all(struct table **tables, size_t n, char *err, size_t errsz)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (tables[i] != NULL &&
		    table_open(tables[i], err, errsz) == -1)
			return -1;
	return 0;
}

/* table_update - reload; 1 done, 0 failed (the old content stays) */
int
table_update(struct table *t)
{
	int	r;

	if (t->backend == NULL)
		r = table_proc_ops.update(t);
	else if (t->backend->update == NULL)
		return 1;
	else
		r = t->backend->update(t->ctx);
	if (r == 1)
		log_event(0, "table", "updated", "table=%s", t->name);
	else
		log_warnx("table %s: update failed, keeping the old content",
		    t->name);
	return r == 1 ? 1 : 0;
}

/* table_close - stop what the table runs (helpers) */
void
table_close(struct table *t)
{
	if (t == NULL || !t->opened)
		return;
	if (t->backend == NULL)
		table_proc_ops.close(t);
	t->opened = 0;
}

/* table_free - close and release a table; NULLs the pointer */
void
table_free(struct table **tp)
{
	struct table	*t = *tp;

	if (t == NULL)
		return;
	table_close(t);
	if (t->backend == NULL && t->handle != NULL)
		table_proc_ops.close(t);
	if (t->backend != NULL && t->backend->close != NULL)
		t->backend->close(t->ctx);
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
	enum table_shape	shape;

	if (t->backend == NULL || t->backend->shape == NULL)
		return TABLE_SHAPE_NONE;
	shape = t->backend->shape(t->ctx);
	/* an empty file is an empty mapping (smtpd-conf.md 4.1) */
	if (shape == TABLE_SHAPE_NONE && t->backend == &table_backend_file)
		return TABLE_SHAPE_MAPPING;
	return shape;
}

/* table_services - what the backend can answer at all */
unsigned int
table_services(const struct table *t)
{
	return t->backend != NULL ? t->backend->services : K_ANY;
}

/* table_check_use - may T serve SERVICE with SHAPE (smtpd-conf 4.2) */
int
table_check_use(const struct table *t, enum table_service service,
    enum table_shape shape, char *err, size_t errsz)
{
	enum table_shape	have;
	int			ok = 1;

	/* helpers are not shape-checked; an empty table fits any shape */
	have = t->backend != NULL && t->backend->shape != NULL ?
	    t->backend->shape(t->ctx) : TABLE_SHAPE_NONE;
	if ((table_services(t) & service) != service)
		ok = 0;
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
}

/* table_set_backoff - first and largest helper restart delays */
void
table_set_backoff(struct table *t, int first_ms, int max_ms)
{
	t->backoff_ms = first_ms > 0 ? first_ms : TABLE_PROC_BACKOFF_MS;
	t->backoff_max_ms = max_ms >= t->backoff_ms ? max_ms : t->backoff_ms;
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

/* table_backend_lookup - the backend's lookup, embedded or helper */
static int
table_backend_lookup(struct table *t, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	if (t->backend == NULL)
		return table_proc_ops.lookup(t, service, key, dst, dstsz);
	if (t->backend->lookup == NULL)
		return -1;
	return t->backend->lookup(t->ctx, service, key, dst, dstsz);
}

/* table_backend_check - the backend's check, embedded or helper */
static int
table_backend_check(struct table *t, enum table_service service,
    const char *key)
{
	if (t->backend == NULL)
		return table_proc_ops.check(t, service, key);
	if (t->backend->check == NULL)
		return -1;
	return t->backend->check(t->ctx, service, key);
}

/* table_backend_fetch - the backend's fetch, embedded or helper */
static int
table_backend_fetch(struct table *t, enum table_service service, char *dst,
    size_t dstsz)
{
	if (t->backend == NULL)
		return table_proc_ops.fetch(t, service, dst, dstsz);
	if (t->backend->fetch == NULL)
		return -1;
	return t->backend->fetch(t->ctx, service, dst, dstsz);
}

/* table_lookup - the value of KEY for SERVICE: 1, 0 or -1 (tempfail) */
int
table_lookup(struct table *t, enum table_service service, const char *key,
    char *dst, size_t dstsz)
{
	char	lkey[TABLE_KEY_MAX], err[256];
	int	r;

	if (dstsz == 0 || table_prepare(t, service, "lookup", key, lkey,
	    sizeof lkey) == -1)
		return -1;
	dst[0] = '\0';
	r = table_backend_lookup(t, service, lkey, dst, dstsz);
	if (r == 1 && memchr(dst, '\0', dstsz) == NULL) {
		log_warnx("table %s: %s lookup: value not terminated",
		    t->name, table_service_name(service));
		dst[0] = '\0';
		return -1;
	}
	if (r == 1 && table_parse_value(service, lkey, dst, err,
	    sizeof err) == -1) {
		log_warnx("table %s: %s lookup of \"%s\": bad value: %s",
		    t->name, table_service_name(service), lkey, err);
		dst[0] = '\0';
		return -1;
	}
	log_trace(TRACE_TABLES, "table %s: lookup %s \"%s\" -> %d", t->name,
	    table_service_name(service), lkey, r);
	if (r != 1 && r != 0)
		return -1;
	return r;
}

/* table_check - is KEY present (matched) for SERVICE: 1, 0 or -1 */
int
table_check(struct table *t, enum table_service service, const char *key)
{
	char	lkey[TABLE_KEY_MAX];
	int	r;

	if (table_prepare(t, service, "check", key, lkey, sizeof lkey) == -1)
		return -1;
	r = table_backend_check(t, service, lkey);
	log_trace(TRACE_TABLES, "table %s: check %s \"%s\" -> %d", t->name,
	    table_service_name(service), lkey, r);
	if (r != 1 && r != 0)
		return -1;
	return r;
}

/* table_fetch - the next value for SERVICE, wrapping: 1, 0 or -1 */
int
table_fetch(struct table *t, enum table_service service, char *dst,
    size_t dstsz)
{
	char	err[256];
	int	r;

	if (dstsz == 0 || table_prepare(t, service, "fetch", NULL, NULL,
	    0) == -1)
		return -1;
	dst[0] = '\0';
	r = table_backend_fetch(t, service, dst, dstsz);
	if (r == 1 && (memchr(dst, '\0', dstsz) == NULL ||
	    table_parse_value(service, NULL, dst, err, sizeof err) == -1)) {
		if (memchr(dst, '\0', dstsz) == NULL)
			(void)strlcpy(err, "value not terminated", sizeof err);
		log_warnx("table %s: %s fetch: bad value: %s", t->name,
		    table_service_name(service), err);
		dst[0] = '\0';
		return -1;
	}
	if (r != 1 && r != 0)
		return -1;
	return r;
}
