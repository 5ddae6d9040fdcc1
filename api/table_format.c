/*
 * table_format.c -- records to values for database table helpers
 * (table_format.h).
 *
 * Runs in helper programs on every answer of a database server, which
 * is outside input: every field is checked (NULL, NUL bytes, numbers,
 * length) and a bad one is an error with a reason, never a truncated
 * or invented value.  Formatting never logs, allocates or exits: the
 * driver logs the reason with table_format_warnx, naming its table.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "api_log.h"
#include "table_api.h"
#include "table_format.h"
#include "table_rotation.h"

int
table_format_query_key(enum table_service service, char *buf, size_t bufsz)
{
	const char	*name = table_service_name(service);
	int		 n;

	if (strcmp(name, "unknown") == 0)
		return -1;
	n = snprintf(buf, bufsz, "query_%s", name);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

int
table_format_columns(enum table_service service)
{
	switch (service) {
	case K_CREDENTIALS:
		return 2;
	case K_USERINFO:
		return 3;
	default:
		return 1;
	}
}

int
table_format_is_list(enum table_service service)
{
	return service == K_ALIAS || service == K_MAILADDRMAP;
}

int
table_format_index(enum table_service service)
{
	int	i;

	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++)
		if ((unsigned int)service == 1U << i)
			return i;
	return -1;
}

/* the keys of table_format_queries besides query_<service> */
static const char *const table_format_common_keys[] = {
	"fetch_source", "fetch_source_expire", "fetch_source_refresh",
	"query_timeout", NULL
};

#define TABLE_FORMAT_KEYS_MAX	64	/* accepted keys of one driver */

int
table_format_conf_load(const char *path, const char *const *own,
    struct dict *conf)
{
	char		 qkeys[TABLE_FORMAT_NSERVICES][TABLE_FORMAT_KEY_MAX];
	const char	*keys[TABLE_FORMAT_KEYS_MAX + 1];
	size_t		 n = 0, i;

	for (i = 0; own != NULL && own[i] != NULL; i++)
		if (n < TABLE_FORMAT_KEYS_MAX)
			keys[n++] = own[i];
	for (i = 0; table_format_common_keys[i] != NULL; i++)
		if (n < TABLE_FORMAT_KEYS_MAX)
			keys[n++] = table_format_common_keys[i];
	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++)
		if (table_format_query_key((enum table_service)(1 << i),
		    qkeys[i], sizeof qkeys[i]) == 0 &&
		    n < TABLE_FORMAT_KEYS_MAX)
			keys[n++] = qkeys[i];
	keys[n] = NULL;
	return api_conf_load(path, keys, conf);
}

void
table_format_queries_free(struct table_queries *q)
{
	size_t	i;

	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++) {
		free(q->query[i]);
		q->query[i] = NULL;
	}
	free(q->fetch);
	q->fetch = NULL;
}

int
table_format_queries(struct dict *conf, const char *path,
    struct table_queries *q)
{
	char		 key[TABLE_FORMAT_KEY_MAX];
	const char	*v;
	long long	 timeout;
	size_t		 i;

	memset(q, 0, sizeof *q);
	if (api_conf_number(conf, path, "fetch_source_expire", 0, INT_MAX,
	    TABLE_ROTATION_EXPIRE, &q->expire) == -1 ||
	    api_conf_number(conf, path, "fetch_source_refresh", 0, INT_MAX,
	    TABLE_ROTATION_REFRESH, &q->refresh) == -1 ||
	    api_conf_number(conf, path, "query_timeout", 1, 3600,
	    TABLE_FORMAT_TIMEOUT, &timeout) == -1)
		return -1;
	q->timeout_ms = (int)timeout * 1000;
	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++) {
		if (table_format_query_key((enum table_service)(1 << i), key,
		    sizeof key) == -1 ||
		    (v = api_dict_get(conf, key)) == NULL)
			continue;
		if ((q->query[i] = strdup(v)) == NULL)
			goto nomem;
	}
	if ((v = api_dict_get(conf, "fetch_source")) != NULL &&
	    (q->fetch = strdup(v)) == NULL)
		goto nomem;
	return 0;
nomem:
	api_log_warn("%s: strdup", path);
	table_format_queries_free(q);
	return -1;
}

/* table_format_field_ok - a field that may go into a value */
static int
table_format_field_ok(const struct table_field *f, size_t i, char *err,
    size_t errsz)
{
	if (f->data == NULL) {
		snprintf(err, errsz, "field %zu is NULL", i + 1);
		return 0;
	}
	if (memchr(f->data, '\0', f->len) != NULL) {
		snprintf(err, errsz, "field %zu holds a NUL byte", i + 1);
		return 0;
	}
	return 1;
}

/* table_format_id - a uid or gid: 1 to 10 decimal digits */
static int
table_format_id(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > 10)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len < 10 || strncmp(s, "4294967295", 10) <= 0;
}

/* table_format_userinfo_ok - a joined value is uid:gid:home */
static int
table_format_userinfo_ok(const char *v, char *err, size_t errsz)
{
	const char	*c1, *c2;

	if ((c1 = strchr(v, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL) {
		snprintf(err, errsz, "userinfo is not uid:gid:home");
		return 0;
	}
	if (!table_format_id(v, (size_t)(c1 - v)) ||
	    !table_format_id(c1 + 1, (size_t)(c2 - c1 - 1))) {
		snprintf(err, errsz, "userinfo uid or gid is not a number");
		return 0;
	}
	if (c2[1] == '\0') {
		snprintf(err, errsz, "userinfo home directory is empty");
		return 0;
	}
	return 1;
}

/* table_format_join - fields joined by SEP into dst */
static int
table_format_join(const struct table_field *f, size_t n, char sep,
    char *dst, size_t dstsz, char *err, size_t errsz)
{
	size_t	i, len = 0, need = 0;

	for (i = 0; i < n; i++)
		need += f[i].len + (i > 0);
	if (need >= dstsz) {
		snprintf(err, errsz, "value of %zu bytes is over the limit of "
		    "%zu", need, dstsz - 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			dst[len++] = sep;
		memcpy(dst + len, f[i].data, f[i].len);
		len += f[i].len;
	}
	dst[len] = '\0';
	return 0;
}

int
table_format_record(enum table_service service, const struct table_field *f,
    size_t n, char *dst, size_t dstsz, char *err, size_t errsz)
{
	size_t	i, want = (size_t)table_format_columns(service);

	if (dstsz == 0) {
		snprintf(err, errsz, "no room for a value");
		return -1;
	}
	dst[0] = '\0';
	if (n != want && !(n == 1 && want > 1)) {
		snprintf(err, errsz, "%zu fields for %s, want %zu", n,
		    table_service_name(service), want);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!table_format_field_ok(&f[i], i, err, errsz))
			return -1;
	if (service == K_USERINFO && n == 3 &&
	    (!table_format_id(f[0].data, f[0].len) ||
	    !table_format_id(f[1].data, f[1].len) || f[2].len == 0)) {
		snprintf(err, errsz, "userinfo wants a numeric uid and gid "
		    "and a home directory");
		return -1;
	}
	if (table_format_join(f, n, ':', dst, dstsz, err, errsz) == -1)
		return -1;
	if (service == K_USERINFO &&
	    !table_format_userinfo_ok(dst, err, errsz)) {
		dst[0] = '\0';
		return -1;
	}
	if (service == K_CREDENTIALS && n == 2 &&
	    (f[0].len == 0 || f[1].len == 0)) {
		snprintf(err, errsz, "credentials with an empty user or "
		    "password");
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

int
table_format_list_add(const struct table_field *f, char *dst, size_t dstsz,
    char *err, size_t errsz)
{
	size_t	len = strnlen(dst, dstsz), sep = len > 0 ? 2 : 0;

	if (!table_format_field_ok(f, 0, err, errsz))
		return -1;
	if (len >= dstsz || len + sep + f->len >= dstsz) {
		snprintf(err, errsz, "list value over the limit of %zu bytes",
		    dstsz - 1);
		return -1;
	}
	if (sep)
		memcpy(dst + len, ", ", 2);
	memcpy(dst + len + sep, f->data, f->len);
	dst[len + sep + f->len] = '\0';
	return 0;
}

void
table_format_warnx(const char *fallback, const char *fmt, ...)
{
	char		 msg[1024];
	const char	*name = table_api_get_name();
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (name == NULL || name[0] == '\0')
		name = fallback ? fallback : "?";
	api_log_warnx("table %s: %s", name, msg);
}
