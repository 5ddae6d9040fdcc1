/*
 * table-sqlite.c -- table-sqlite: a table helper backed by an SQLite db.
 *
 * Started by the daemon's lookup process as table-sqlite <config>, it
 * answers the proc table protocol through api/table_api.c.  The config
 * has the keys of OpenSMTPD's table-sqlite (dbpath, query_<service>,
 * fetch_source, fetch_source_expire, fetch_source_refresh); each query
 * binds the key once as '?' and must return the number of columns its
 * service needs, or the load fails.  CHECK is "the query returned a
 * row"; values are built by api/table_format.c (alias and mailaddrmap
 * rows joined with ", "), FETCH served by api/table_rotation.c (the
 * distinct values in sorted order, as the extras driver does).  The db
 * is opened read-only.  A query error answers -1 and the helper goes on:
 * it never exits because of a lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "smtpd-api.h"
#include "table_format.h"
#include "table_rotation.h"

#define TABLE_SQLITE_NQUERIES		9	/* alias .. mailaddrmap */

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
	struct table_rotation	 rotation;	/* FETCH's list */
};

static struct table_sqlite	*table_sqlite;

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
	table_rotation_clear(&t->rotation);
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

/* table_sqlite_load - read the config and open the db; owned result */
static struct table_sqlite *
table_sqlite_load(const char *path)
{
	struct table_sqlite	*t;
	struct dict		 conf;
	const char		*dbpath, *sql;
	long long		 expire, refresh;
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
	if (api_conf_number(&conf, path, "fetch_source_expire", 1, INT_MAX,
	    TABLE_ROTATION_EXPIRE, &expire) == -1 ||
	    api_conf_number(&conf, path, "fetch_source_refresh", 1, INT_MAX,
	    TABLE_ROTATION_REFRESH, &refresh) == -1)
		goto done;
	table_rotation_init(&t->rotation, expire, refresh);
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

/* table_sqlite_field - column i of the current row */
static struct table_field
table_sqlite_field(sqlite3_stmt *stmt, int i)
{
	struct table_field	f;

	f.data = (const char *)sqlite3_column_text(stmt, i);
	f.len = f.data ? (size_t)sqlite3_column_bytes(stmt, i) : 0;
	return f;
}

/* table_sqlite_value - the value of SERVICE from the current row and,
 * for lists, every further row */
static int
table_sqlite_value(int service, sqlite3_stmt *stmt, char *dst, size_t sz)
{
	struct table_field	f[3];
	char			err[256];
	int			i, n = sqlite3_column_count(stmt), r;

	if (n > 3)
		n = 3;
	if (table_format_is_list((enum table_service)service)) {
		dst[0] = '\0';
		do {
			f[0] = table_sqlite_field(stmt, 0);
			if (table_format_list_add(&f[0], dst, sz, err,
			    sizeof err) == -1)
				goto bad;
		} while ((r = sqlite3_step(stmt)) == SQLITE_ROW);
		if (r == SQLITE_DONE)
			return 0;
		snprintf(err, sizeof err, "%s",
		    sqlite3_errmsg(sqlite3_db_handle(stmt)));
		goto bad;
	}
	for (i = 0; i < n; i++)
		f[i] = table_sqlite_field(stmt, i);
	if (table_format_record((enum table_service)service, f, (size_t)n,
	    dst, sz, err, sizeof err) == 0)
		return 0;
bad:
	api_log_warnx("table-sqlite: lookup %s: %s",
	    table_api_service_name(service), err);
	dst[0] = '\0';
	return -1;
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
	if (r == -1)
		api_log_warnx("table-sqlite: lookup %s failed: %s",
		    table_api_service_name(service),
		    sqlite3_errmsg(table_sqlite->db));
	else if (r == 1 && table_sqlite_value(service, stmt, dst, sz) == -1)
		r = -1;
	sqlite3_reset(stmt);
	return r;
}

/* table_sqlite_reload_sources - run fetch_source into the rotation */
static int
table_sqlite_reload_sources(struct table_sqlite *t)
{
	struct table_field	*f = NULL, *nf;
	char			 err[256];
	size_t			 n = 0, i;
	int			 r, ret = -1;

	snprintf(err, sizeof err, "out of memory");
	sqlite3_reset(t->fetch);
	while ((r = sqlite3_step(t->fetch)) == SQLITE_ROW &&
	    n <= TABLE_ROTATION_MAX) {
		if ((nf = reallocarray(f, n + 1, sizeof *f)) == NULL)
			goto done;
		f = nf;
		f[n] = table_sqlite_field(t->fetch, 0);
		/* the row's memory goes with the next step: keep a copy */
		if (f[n].data != NULL &&
		    (f[n].data = strndup(f[n].data, f[n].len)) == NULL)
			goto done;
		n++;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		snprintf(err, sizeof err, "%s", sqlite3_errmsg(t->db));
	else
		ret = table_rotation_load(&t->rotation, f, n, err, sizeof err);
done:
	if (ret == -1)
		api_log_warnx("table-sqlite: fetch_source: %s", err);
	sqlite3_reset(t->fetch);
	for (i = 0; i < n; i++)
		free((char *)(uintptr_t)f[i].data);
	free(f);
	return ret;
}

/* table_sqlite_fetch - FETCH source: the next value in turn */
static int
table_sqlite_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	struct table_sqlite	*t = table_sqlite;

	if (service != K_SOURCE || t->fetch == NULL)
		return -1;
	if (table_rotation_due(&t->rotation) &&
	    table_sqlite_reload_sources(t) == -1)
		return -1;
	return table_rotation_next(&t->rotation, dst, sz);
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
