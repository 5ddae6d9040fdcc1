/*
 * table-sqlite.c -- table-sqlite: a table helper backed by an SQLite db.
 *
 * Started by the daemon's lookup process as table-sqlite <config>, it
 * answers the proc table protocol through api/table_api.c.  The config
 * has the keys of OpenSMTPD's table-sqlite (dbpath, query_<service>,
 * fetch_source, fetch_source_expire, fetch_source_refresh); each query
 * binds the key once as '?' and must return the number of columns its
 * service needs, or the load fails.  CHECK is "the query returned a
 * row"; alias and mailaddrmap rows are joined with ", ".  The db is
 * opened read-only.  A query error answers -1 and the helper goes on:
 * it never exits because of a lookup.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "smtpd-api.h"

#define TABLE_SQLITE_NQUERIES		9	/* alias .. mailaddrmap */
#define TABLE_SQLITE_EXPIRE_DEFAULT	60	/* seconds */
#define TABLE_SQLITE_REFRESH_DEFAULT	1000	/* fetch calls */
#define TABLE_SQLITE_SOURCES_MAX	4096	/* rows kept for fetch */

/* one query per service bit, in bit order, with its column count */
static const struct {
	const char	*key;
	int		 service;
	int		 columns;
} table_sqlite_queries[TABLE_SQLITE_NQUERIES] = {
	{ "query_alias",	K_ALIAS,	1 },
	{ "query_domain",	K_DOMAIN,	1 },
	{ "query_credentials",	K_CREDENTIALS,	2 },
	{ "query_netaddr",	K_NETADDR,	1 },
	{ "query_userinfo",	K_USERINFO,	3 },
	{ "query_source",	K_SOURCE,	1 },
	{ "query_mailaddr",	K_MAILADDR,	1 },
	{ "query_addrname",	K_ADDRNAME,	1 },
	{ "query_mailaddrmap",	K_MAILADDRMAP,	1 },
};

static const char *const table_sqlite_keys[] = {
	"dbpath", "query_alias", "query_domain", "query_credentials",
	"query_netaddr", "query_userinfo", "query_source", "query_mailaddr",
	"query_addrname", "query_mailaddrmap", "fetch_source",
	"fetch_source_expire", "fetch_source_refresh", NULL
};

struct table_sqlite {
	sqlite3		*db;
	sqlite3_stmt	*stmts[TABLE_SQLITE_NQUERIES];
	sqlite3_stmt	*fetch;
	long long	 expire;	/* seconds a fetched list is kept */
	long long	 refresh;	/* fetch calls a fetched list serves */
	/* the fetched list, rotated through by FETCH */
	char		**sources;
	size_t		 nsources;
	size_t		 next;
	time_t		 loaded;
	long long	 served;
};

static struct table_sqlite	*table_sqlite;

/* table_sqlite_free_sources - drop the fetched list */
static void
table_sqlite_free_sources(struct table_sqlite *t)
{
	size_t	i;

	for (i = 0; i < t->nsources; i++)
		free(t->sources[i]);
	free(t->sources);
	t->sources = NULL;
	t->nsources = t->next = 0;
}

/* table_sqlite_free - finalize statements and close the db */
static void
table_sqlite_free(struct table_sqlite **tp)
{
	struct table_sqlite	*t = *tp;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < TABLE_SQLITE_NQUERIES; i++)
		sqlite3_finalize(t->stmts[i]);
	sqlite3_finalize(t->fetch);
	table_sqlite_free_sources(t);
	sqlite3_close(t->db);
	free(t);
	*tp = NULL;
}

/* table_sqlite_prepare - compile one query and check its shape */
static int
table_sqlite_prepare(struct table_sqlite *t, const char *key,
    const char *sql, int columns, sqlite3_stmt **stmtp)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(t->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		api_log_warnx("%s: %s", key, sqlite3_errmsg(t->db));
		return -1;
	}
	if (stmt == NULL) {
		api_log_warnx("%s: empty query", key);
		return -1;
	}
	if (sqlite3_column_count(stmt) != columns) {
		api_log_warnx("%s: query returns %d columns, want %d", key,
		    sqlite3_column_count(stmt), columns);
		sqlite3_finalize(stmt);
		return -1;
	}
	*stmtp = stmt;
	return 0;
}

/* table_sqlite_number - a positive integer config value, or the default */
static int
table_sqlite_number(struct dict *conf, const char *key, long long dflt,
    long long *out)
{
	const char	*s;
	char		*end;
	long long	 v;

	*out = dflt;
	if ((s = api_dict_get(conf, key)) == NULL)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v <= 0) {
		api_log_warnx("%s: not a positive number: %s", key, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* table_sqlite_load - read the config and open the db; owned result */
static struct table_sqlite *
table_sqlite_load(const char *path)
{
	struct table_sqlite	*t;
	struct dict		 conf;
	const char		*dbpath, *sql;
	size_t			 i;
	int			 ok = 0;

	if (api_conf_load(path, table_sqlite_keys, &conf) == -1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		api_log_warn("%s: calloc", path);
		api_conf_free(&conf);
		return NULL;
	}
	if ((dbpath = api_dict_get(&conf, "dbpath")) == NULL) {
		api_log_warnx("%s: no dbpath", path);
		goto done;
	}
	if (sqlite3_open_v2(dbpath, &t->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		api_log_warnx("%s: %s", dbpath, t->db ?
		    sqlite3_errmsg(t->db) : "cannot open");
		goto done;
	}
	sqlite3_busy_timeout(t->db, 1000);
	for (i = 0; i < TABLE_SQLITE_NQUERIES; i++) {
		sql = api_dict_get(&conf, table_sqlite_queries[i].key);
		if (sql && table_sqlite_prepare(t, table_sqlite_queries[i].key,
		    sql, table_sqlite_queries[i].columns, &t->stmts[i]) == -1)
			goto done;
	}
	if ((sql = api_dict_get(&conf, "fetch_source")) != NULL &&
	    table_sqlite_prepare(t, "fetch_source", sql, 1, &t->fetch) == -1)
		goto done;
	if (table_sqlite_number(&conf, "fetch_source_expire",
	    TABLE_SQLITE_EXPIRE_DEFAULT, &t->expire) == -1 ||
	    table_sqlite_number(&conf, "fetch_source_refresh",
	    TABLE_SQLITE_REFRESH_DEFAULT, &t->refresh) == -1)
		goto done;
	ok = 1;
done:
	api_conf_free(&conf);
	if (!ok)
		table_sqlite_free(&t);
	return t;
}

/* table_sqlite_stmt - the statement serving a service, or NULL */
static sqlite3_stmt *
table_sqlite_stmt(int service)
{
	size_t	i;

	for (i = 0; i < TABLE_SQLITE_NQUERIES; i++)
		if (table_sqlite_queries[i].service == service)
			return table_sqlite->stmts[i];
	return NULL;
}

/* table_sqlite_run - bind key and take the first step */
static int
table_sqlite_run(sqlite3_stmt *stmt, const char *key)
{
	int	r;

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (key && sqlite3_bind_parameter_count(stmt) > 0 &&
	    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return -1;
	r = sqlite3_step(stmt);
	if (r == SQLITE_ROW)
		return 1;
	if (r == SQLITE_DONE)
		return 0;
	return -1;
}

/* table_sqlite_text - column i as text; NULL values are errors */
static const char *
table_sqlite_text(sqlite3_stmt *stmt, int i)
{
	return (const char *)sqlite3_column_text(stmt, i);
}

/* table_sqlite_format - render the current row for service into dst */
static int
table_sqlite_format(int service, sqlite3_stmt *stmt, char *dst, size_t sz)
{
	const char	*a, *b;
	int		 n;

	switch (service) {
	case K_CREDENTIALS:
		a = table_sqlite_text(stmt, 0);
		b = table_sqlite_text(stmt, 1);
		if (a == NULL || b == NULL)
			return -1;
		n = snprintf(dst, sz, "%s:%s", a, b);
		break;
	case K_USERINFO:
		a = table_sqlite_text(stmt, 2);
		if (a == NULL || sqlite3_column_type(stmt, 0) == SQLITE_NULL ||
		    sqlite3_column_type(stmt, 1) == SQLITE_NULL)
			return -1;
		n = snprintf(dst, sz, "%" PRId64 ":%" PRId64 ":%s",
		    (int64_t)sqlite3_column_int64(stmt, 0),
		    (int64_t)sqlite3_column_int64(stmt, 1), a);
		break;
	default:
		if ((a = table_sqlite_text(stmt, 0)) == NULL)
			return -1;
		n = snprintf(dst, sz, "%s", a);
		break;
	}
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/* table_sqlite_join - append every further row as ", value" */
static int
table_sqlite_join(sqlite3_stmt *stmt, char *dst, size_t sz)
{
	const char	*v;
	size_t		 len;
	int		 r;

	while ((r = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((v = table_sqlite_text(stmt, 0)) == NULL)
			return -1;
		len = strlen(dst);
		if (strlcat(dst, ", ", sz) >= sz || strlcat(dst, v, sz) >= sz) {
			dst[len] = '\0';
			return -1;
		}
	}
	return r == SQLITE_DONE ? 0 : -1;
}

/* table_sqlite_check - CHECK: does the service's query return a row */
static int
table_sqlite_check(int service, struct dict *params, const char *key)
{
	sqlite3_stmt	*stmt;
	int		 r;

	if ((stmt = table_sqlite_stmt(service)) == NULL)
		return -1;
	r = table_sqlite_run(stmt, key);
	if (r == -1)
		api_log_warnx("table-sqlite: check %s: %s",
		    table_api_service_name(service),
		    sqlite3_errmsg(table_sqlite->db));
	sqlite3_reset(stmt);
	return r;
}

/* table_sqlite_lookup - LOOKUP: the first row, or all rows for lists */
static int
table_sqlite_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	sqlite3_stmt	*stmt;
	int		 r;

	if ((stmt = table_sqlite_stmt(service)) == NULL)
		return -1;
	r = table_sqlite_run(stmt, key);
	if (r == 1 && table_sqlite_format(service, stmt, dst, sz) == -1)
		r = -1;
	if (r == 1 && (service == K_ALIAS || service == K_MAILADDRMAP) &&
	    table_sqlite_join(stmt, dst, sz) == -1)
		r = -1;
	if (r == -1)
		api_log_warnx("table-sqlite: lookup %s failed: %s",
		    table_api_service_name(service),
		    sqlite3_errmsg(table_sqlite->db));
	sqlite3_reset(stmt);
	return r;
}

/* table_sqlite_reload_sources - run fetch_source into the rotation list */
static int
table_sqlite_reload_sources(struct table_sqlite *t)
{
	const char	 *v;
	char		**list = NULL, **nlist;
	size_t		  n = 0;
	int		  r;

	sqlite3_reset(t->fetch);
	while ((r = sqlite3_step(t->fetch)) == SQLITE_ROW &&
	    n < TABLE_SQLITE_SOURCES_MAX) {
		if ((v = table_sqlite_text(t->fetch, 0)) == NULL)
			continue;
		if ((nlist = reallocarray(list, n + 1, sizeof *list)) == NULL)
			goto fail;
		list = nlist;
		if ((list[n] = strdup(v)) == NULL)
			goto fail;
		n++;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		goto fail;
	sqlite3_reset(t->fetch);
	table_sqlite_free_sources(t);
	t->sources = list;
	t->nsources = n;
	t->loaded = time(NULL);
	t->served = 0;
	return 0;
fail:
	api_log_warnx("table-sqlite: fetch_source: %s", sqlite3_errmsg(t->db));
	sqlite3_reset(t->fetch);
	while (n > 0)
		free(list[--n]);
	free(list);
	return -1;
}

/* table_sqlite_fetch - FETCH source: next value of the cached list */
static int
table_sqlite_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	struct table_sqlite	*t = table_sqlite;

	if (service != K_SOURCE || t->fetch == NULL)
		return -1;
	if (t->sources == NULL || t->served >= t->refresh ||
	    time(NULL) - t->loaded >= t->expire) {
		if (table_sqlite_reload_sources(t) == -1)
			return -1;
	}
	t->served++;
	if (t->nsources == 0)
		return 0;
	if (t->next >= t->nsources)
		t->next = 0;
	if (strlcpy(dst, t->sources[t->next++], sz) >= sz)
		return -1;
	return 1;
}

/* table_sqlite_update - UPDATE: reload config and db, keep old on failure */
static int
table_sqlite_update(void)
{
	struct table_sqlite	*t;

	if ((t = table_sqlite_load(api_conf_path())) == NULL) {
		api_log_warnx("table-sqlite: %s: reload failed, keeping the "
		    "previous configuration", api_conf_path());
		return 0;
	}
	table_sqlite_free(&table_sqlite);
	table_sqlite = t;
	return 1;
}

int
main(int argc, char *argv[])
{
	if (api_init("table-sqlite", argc, argv) == -1)
		return 1;
	if ((table_sqlite = table_sqlite_load(api_conf_path())) == NULL)
		api_fatalx("%s: unusable configuration", api_conf_path());
	table_api_on_update(table_sqlite_update);
	table_api_on_check(table_sqlite_check);
	table_api_on_lookup(table_sqlite_lookup);
	table_api_on_fetch(table_sqlite_fetch);
	return table_api_dispatch();
}
