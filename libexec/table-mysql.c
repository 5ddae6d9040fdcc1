/*
 * table-mysql.c -- table-mysql: a table helper backed by MySQL or
 * MariaDB (MariaDB Connector/C).
 *
 * Started by the daemon's lookup process as table-mysql <config>, it
 * answers the proc table protocol through api/table_api.c.  The config
 * has the keys of OpenSMTPD-extras' table-mysql (host, username,
 * password, database, query_<service>, fetch_source,
 * fetch_source_expire, fetch_source_refresh) and ours: port, socket,
 * ssl_ca, query_timeout.  Every query is a prepared statement taking the
 * key as its one '?', checked for its column count when prepared.  The
 * connection has connect, read and write timeouts of query_timeout: a
 * server that is down, refusing or frozen costs a request a temporary
 * failure (-1) and a log line naming the table, and the next attempt
 * waits for api_backoff.  The helper never exits because of its server;
 * only a config it cannot use stops it, at start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/errmsg.h>
#include <mariadb/mysql.h>

#include "smtpd-api.h"
#include "api_backoff.h"
#include "api_deadline.h"
#include "table_format.h"
#include "table_rotation.h"

#define TABLE_MYSQL_FETCH	TABLE_FORMAT_NSERVICES	/* statement slot */
#define TABLE_MYSQL_NSTMTS	(TABLE_FORMAT_NSERVICES + 1)
#define TABLE_MYSQL_COLS	3	/* the most a service has */

/* config keys besides those of table_format_queries */
static const char *const table_mysql_keys[] = {
	"host", "username", "password", "database", "port", "socket",
	"ssl_ca", NULL
};

struct table_mysql {
	char			*host, *user, *password, *database;
	char			*socket, *ssl_ca;
	unsigned int		 port;
	struct table_queries	 q;
	MYSQL			*db;		/* NULL: not connected */
	MYSQL_STMT		*stmts[TABLE_MYSQL_NSTMTS];
	struct api_backoff	 backoff;
	struct table_rotation	 rotation;
	/* the current row of a statement */
	char			 col[TABLE_MYSQL_COLS][API_TABLE_VALUE_MAX];
	unsigned long		 len[TABLE_MYSQL_COLS];
	my_bool			 isnull[TABLE_MYSQL_COLS];
	my_bool			 trunc[TABLE_MYSQL_COLS];
};

static struct table_mysql	*table_mysql;
static const char		*table_mysql_name;

/* table_mysql_sql - the SQL of statement slot i, or NULL */
static const char *
table_mysql_sql(struct table_mysql *t, int i)
{
	return i == TABLE_MYSQL_FETCH ? t->q.fetch : t->q.query[i];
}

/* table_mysql_disconnect - drop statements and connection */
static void
table_mysql_disconnect(struct table_mysql *t)
{
	int	i;

	for (i = 0; i < TABLE_MYSQL_NSTMTS; i++) {
		if (t->stmts[i] != NULL)
			mysql_stmt_close(t->stmts[i]);
		t->stmts[i] = NULL;
	}
	if (t->db != NULL)
		mysql_close(t->db);
	t->db = NULL;
}

/* table_mysql_free - the whole table */
static void
table_mysql_free(struct table_mysql **tp)
{
	struct table_mysql	*t = *tp;

	if (t == NULL)
		return;
	table_mysql_disconnect(t);
	table_format_queries_free(&t->q);
	table_rotation_clear(&t->rotation);
	free(t->host);
	free(t->user);
	if (t->password != NULL)
		explicit_bzero(t->password, strlen(t->password));
	free(t->password);
	free(t->database);
	free(t->socket);
	free(t->ssl_ca);
	free(t);
	*tp = NULL;
}

/* table_mysql_broken - an error that leaves the connection unusable */
static int
table_mysql_broken(unsigned int err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
	    err == CR_SERVER_LOST_EXTENDED || err == CR_CONNECTION_ERROR ||
	    err == CR_CONN_HOST_ERROR;
}

/* table_mysql_prepare - statement slot i: 1 done, 0 the server failed,
 * -1 the query is wrong (a config error) */
static int
table_mysql_prepare(struct table_mysql *t, int i)
{
	char		 key[TABLE_FORMAT_KEY_MAX];
	const char	*sql = table_mysql_sql(t, i);
	MYSQL_STMT	*s;
	unsigned int	 want, params = i == TABLE_MYSQL_FETCH ? 0 : 1;

	if (i == TABLE_MYSQL_FETCH) {
		strlcpy(key, "fetch_source", sizeof key);
		want = 1;
	} else {
		table_format_query_key((enum table_service)(1 << i), key,
		    sizeof key);
		want = (unsigned int)table_format_columns(
		    (enum table_service)(1 << i));
	}
	if ((t->stmts[i] = s = mysql_stmt_init(t->db)) == NULL)
		return 0;
	if (mysql_stmt_prepare(s, sql, strlen(sql)) != 0) {
		table_format_warnx(table_mysql_name, "mysql: %s: %s", key,
		    mysql_stmt_error(s));
		return table_mysql_broken(mysql_stmt_errno(s)) ? 0 : -1;
	}
	if (mysql_stmt_param_count(s) != params) {
		table_format_warnx(table_mysql_name, "mysql: %s: the query "
		    "takes %lu parameters, want %u", key,
		    mysql_stmt_param_count(s), params);
		return -1;
	}
	if (mysql_stmt_field_count(s) != want) {
		table_format_warnx(table_mysql_name, "mysql: %s: the query "
		    "returns %u columns, want %u", key,
		    mysql_stmt_field_count(s), want);
		return -1;
	}
	return 1;
}

/* table_mysql_options - timeouts and TLS of a new handle */
static void
table_mysql_options(struct table_mysql *t, const struct api_deadline *dl)
{
	unsigned int	secs = (unsigned int)(api_deadline_left(dl) + 999) /
			    1000;
	my_bool		yes = 1;

	if (secs == 0)
		secs = 1;
	mysql_options(t->db, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	secs = (unsigned int)t->q.timeout_ms / 1000;
	mysql_options(t->db, MYSQL_OPT_READ_TIMEOUT, &secs);
	mysql_options(t->db, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	if (t->ssl_ca != NULL) {
		mysql_options(t->db, MYSQL_OPT_SSL_CA, t->ssl_ca);
		mysql_options(t->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
		mysql_options(t->db, MYSQL_OPT_SSL_ENFORCE, &yes);
	}
}

/* table_mysql_connect - connect and prepare every statement:
 * 1 ready, 0 the server failed (retry later), -1 the config is wrong */
static int
table_mysql_connect(struct table_mysql *t, const struct api_deadline *dl)
{
	int	i, r = 0;

	table_mysql_disconnect(t);
	if ((t->db = mysql_init(NULL)) == NULL) {
		table_format_warnx(table_mysql_name, "mysql: out of memory");
		goto fail;
	}
	table_mysql_options(t, dl);
	if (mysql_real_connect(t->db, t->host, t->user, t->password,
	    t->database, t->port, t->socket, 0) == NULL) {
		table_format_warnx(table_mysql_name, "mysql: connect: %s%s",
		    api_deadline_left(dl) == 0 ? "no answer in time: " : "",
		    mysql_error(t->db));
		goto fail;
	}
	for (i = 0; i < TABLE_MYSQL_NSTMTS; i++)
		if (table_mysql_sql(t, i) != NULL &&
		    (r = table_mysql_prepare(t, i)) != 1)
			goto fail;
	api_backoff_succeeded(&t->backoff);
	return 1;
fail:
	table_mysql_disconnect(t);
	api_backoff_failed(&t->backoff);
	return r == -1 ? -1 : 0;
}

/* table_mysql_bind - the result columns into t->col */
static int
table_mysql_bind(struct table_mysql *t, MYSQL_STMT *s)
{
	MYSQL_BIND	b[TABLE_MYSQL_COLS];
	unsigned int	c, n = mysql_stmt_field_count(s);

	memset(b, 0, sizeof b);
	for (c = 0; c < n && c < TABLE_MYSQL_COLS; c++) {
		b[c].buffer_type = MYSQL_TYPE_STRING;
		b[c].buffer = t->col[c];
		b[c].buffer_length = sizeof t->col[c];
		b[c].length = &t->len[c];
		b[c].is_null = &t->isnull[c];
		b[c].error = &t->trunc[c];
	}
	return mysql_stmt_bind_result(s, b) == 0 ? 0 : -1;
}

/* table_mysql_exec - run slot i with KEY (NULL: none) and store its
 * rows: 0, or -1 logged; *retry when the link broke (it is dropped) */
static int
table_mysql_exec(struct table_mysql *t, int i, const char *key,
    const struct api_deadline *dl, int *retry)
{
	MYSQL_STMT	*s = t->stmts[i];
	MYSQL_BIND	 p;
	unsigned long	 klen = key ? strlen(key) : 0;

	*retry = 0;
	memset(&p, 0, sizeof p);
	p.buffer_type = MYSQL_TYPE_STRING;
	p.buffer = (void *)(uintptr_t)key;
	p.buffer_length = klen;
	p.length = &klen;
	if ((key != NULL && mysql_stmt_bind_param(s, &p) != 0) ||
	    mysql_stmt_execute(s) != 0 || table_mysql_bind(t, s) == -1 ||
	    mysql_stmt_store_result(s) != 0) {
		table_format_warnx(table_mysql_name, "mysql: query: %s%s",
		    api_deadline_left(dl) == 0 ? "no answer in time: " : "",
		    mysql_stmt_error(s));
		if (table_mysql_broken(mysql_stmt_errno(s))) {
			*retry = 1;
			table_mysql_disconnect(t);
		} else
			mysql_stmt_free_result(s);
		return -1;
	}
	return 0;
}

/* table_mysql_run - slot i for KEY: connect if needed (when the backoff
 * allows), retry once on a link that broke since the last request;
 * the statement with its rows stored, or NULL */
static MYSQL_STMT *
table_mysql_run(struct table_mysql *t, int i, const char *key)
{
	struct api_deadline	dl;
	int			attempt, retry;

	api_deadline_set(&dl, t->q.timeout_ms);
	for (attempt = 0; attempt < 2; attempt++) {
		if (t->db == NULL) {
			if (!api_backoff_due(&t->backoff)) {
				table_format_warnx(table_mysql_name, "mysql: "
				    "server unavailable, next attempt in %d "
				    "ms", api_backoff_wait(&t->backoff));
				return NULL;
			}
			if (table_mysql_connect(t, &dl) != 1)
				return NULL;
		}
		if (table_mysql_exec(t, i, key, &dl, &retry) == 0)
			return t->stmts[i];
		if (!retry || api_deadline_left(&dl) == 0)
			return NULL;
	}
	return NULL;
}

/* table_mysql_row - the next row: 1, 0 at the end, -1 logged */
static int
table_mysql_row(struct table_mysql *t, MYSQL_STMT *s, int service)
{
	int	r = mysql_stmt_fetch(s);

	if (r == 0)
		return 1;
	if (r == MYSQL_NO_DATA)
		return 0;
	if (r == MYSQL_DATA_TRUNCATED)
		table_format_warnx(table_mysql_name, "mysql: %s: value over "
		    "the limit of %d bytes", table_service_name(
		    (enum table_service)service), API_TABLE_VALUE_MAX - 1);
	else
		table_format_warnx(table_mysql_name, "mysql: %s: %s",
		    table_service_name((enum table_service)service),
		    mysql_stmt_error(s));
	return -1;
}

/* table_mysql_field - column c of the current row */
static struct table_field
table_mysql_field(struct table_mysql *t, int c)
{
	struct table_field	f;

	f.data = t->isnull[c] ? NULL : t->col[c];
	f.len = t->isnull[c] ? 0 : t->len[c];
	return f;
}

/* table_mysql_value - the value of SERVICE from the stored rows */
static int
table_mysql_value(struct table_mysql *t, MYSQL_STMT *s, int service,
    char *dst, size_t sz)
{
	struct table_field	f[TABLE_MYSQL_COLS];
	char			err[256];
	unsigned int		c, n = mysql_stmt_field_count(s);
	int			r;

	dst[0] = '\0';
	if ((r = table_mysql_row(t, s, service)) != 1)
		return r;
	if (table_format_is_list((enum table_service)service)) {
		do {
			f[0] = table_mysql_field(t, 0);
			if (table_format_list_add(&f[0], dst, sz, err,
			    sizeof err) == -1)
				goto bad;
		} while ((r = table_mysql_row(t, s, service)) == 1);
		return r == 0 ? 1 : -1;
	}
	for (c = 0; c < n && c < TABLE_MYSQL_COLS; c++)
		f[c] = table_mysql_field(t, (int)c);
	if (table_format_record((enum table_service)service, f, c, dst, sz,
	    err, sizeof err) == 0)
		return 1;
bad:
	table_format_warnx(table_mysql_name, "mysql: %s: %s",
	    table_service_name((enum table_service)service), err);
	dst[0] = '\0';
	return -1;
}

/* table_mysql_slot - the statement of a service, or -1 logged */
static int
table_mysql_slot(int service)
{
	int	i = table_format_index((enum table_service)service);

	if (i == -1 || table_mysql->q.query[i] == NULL) {
		table_format_warnx(table_mysql_name, "mysql: no query for "
		    "service %s", table_service_name(
		    (enum table_service)service));
		return -1;
	}
	return i;
}

/* table_mysql_check - CHECK: does the query return a row */
static int
table_mysql_check(int service, struct dict *params, const char *key)
{
	MYSQL_STMT	*s;
	int		 i, r;

	if ((i = table_mysql_slot(service)) == -1 ||
	    (s = table_mysql_run(table_mysql, i, key)) == NULL)
		return -1;
	r = mysql_stmt_num_rows(s) > 0;
	mysql_stmt_free_result(s);
	return r;
}

/* table_mysql_lookup - LOOKUP: the first row, every row for lists */
static int
table_mysql_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	MYSQL_STMT	*s;
	int		 i, r;

	if ((i = table_mysql_slot(service)) == -1 ||
	    (s = table_mysql_run(table_mysql, i, key)) == NULL)
		return -1;
	r = table_mysql_value(table_mysql, s, service, dst, sz);
	mysql_stmt_free_result(s);
	return r;
}

/* table_mysql_reload_sources - fetch_source's rows into the rotation */
static int
table_mysql_reload_sources(struct table_mysql *t)
{
	MYSQL_STMT		*s;
	struct table_field	*f = NULL;
	char			**v = NULL, err[256];
	size_t			 n = 0, i, rows;
	int			 r, ret = -1;

	if ((s = table_mysql_run(t, TABLE_MYSQL_FETCH, NULL)) == NULL)
		return -1;
	rows = (size_t)mysql_stmt_num_rows(s);
	if (rows > TABLE_ROTATION_MAX) {
		table_format_warnx(table_mysql_name, "mysql: fetch_source: "
		    "%zu rows, more than %d", rows, TABLE_ROTATION_MAX);
		goto done;
	}
	if ((v = calloc(rows + 1, sizeof *v)) == NULL ||
	    (f = calloc(rows + 1, sizeof *f)) == NULL)
		goto done;
	while (n < rows && (r = table_mysql_row(t, s, K_SOURCE)) == 1) {
		if (t->isnull[0] || (v[n] = malloc(t->len[0] + 1)) == NULL) {
			table_format_warnx(table_mysql_name, "mysql: "
			    "fetch_source: a NULL value");
			goto done;
		}
		memcpy(v[n], t->col[0], t->len[0]);
		v[n][t->len[0]] = '\0';
		f[n].data = v[n];
		f[n].len = t->len[0];
		n++;
	}
	if ((ret = table_rotation_load(&t->rotation, f, n, err,
	    sizeof err)) == -1)
		table_format_warnx(table_mysql_name, "mysql: fetch_source: %s",
		    err);
done:
	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
	free(f);
	mysql_stmt_free_result(s);
	return ret;
}

/* table_mysql_fetch - FETCH source: the next value in turn */
static int
table_mysql_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	struct table_mysql	*t = table_mysql;

	if (service != K_SOURCE || t->q.fetch == NULL) {
		table_format_warnx(table_mysql_name, "mysql: no fetch_source "
		    "for service %s", table_service_name(
		    (enum table_service)service));
		return -1;
	}
	if (table_rotation_due(&t->rotation) &&
	    table_mysql_reload_sources(t) == -1)
		return -1;
	return table_rotation_next(&t->rotation, dst, sz);
}

/* table_mysql_string - copy an optional key of conf; -1 on no memory */
static int
table_mysql_string(struct dict *conf, const char *key, char **out)
{
	const char	*v = api_dict_get(conf, key);

	*out = NULL;
	return v != NULL && (*out = strdup(v)) == NULL ? -1 : 0;
}

/* table_mysql_load - read the config; an owned table, not connected */
static struct table_mysql *
table_mysql_load(const char *path)
{
	struct table_mysql	*t;
	struct dict		 conf;
	long long		 port;

	if (table_format_conf_load(path, table_mysql_keys, &conf) == -1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		api_log_warn("%s: calloc", path);
		goto fail;
	}
	api_backoff_init(&t->backoff, API_BACKOFF_MIN_MS, API_BACKOFF_MAX_MS);
	if (table_mysql_string(&conf, "host", &t->host) == -1 ||
	    table_mysql_string(&conf, "username", &t->user) == -1 ||
	    table_mysql_string(&conf, "password", &t->password) == -1 ||
	    table_mysql_string(&conf, "database", &t->database) == -1 ||
	    table_mysql_string(&conf, "socket", &t->socket) == -1 ||
	    table_mysql_string(&conf, "ssl_ca", &t->ssl_ca) == -1 ||
	    api_conf_number(&conf, path, "port", 0, 65535, 0, &port) == -1 ||
	    table_format_queries(&conf, path, &t->q) == -1)
		goto fail;
	t->port = (unsigned int)port;
	table_rotation_init(&t->rotation, t->q.expire, t->q.refresh);
	api_conf_free(&conf);
	return t;
fail:
	api_conf_free(&conf);
	table_mysql_free(&t);
	return NULL;
}

/* table_mysql_update - UPDATE: reload the config and reconnect with it;
 * on any failure the previous configuration and link stay */
static int
table_mysql_update(void)
{
	struct table_mysql	*t;
	struct api_deadline	 dl;

	if ((t = table_mysql_load(api_conf_path())) == NULL) {
		table_format_warnx(table_mysql_name, "mysql: %s: reload "
		    "failed, keeping the previous configuration",
		    api_conf_path());
		return 0;
	}
	api_deadline_set(&dl, t->q.timeout_ms);
	if (table_mysql_connect(t, &dl) != 1) {
		table_format_warnx(table_mysql_name, "mysql: reload failed, "
		    "keeping the previous configuration");
		table_mysql_free(&t);
		return 0;
	}
	table_mysql_free(&table_mysql);
	table_mysql = t;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct api_deadline	dl;

	table_mysql_name = argc > 0 ? argv[0] : "table-mysql";
	if (api_init("table-mysql", argc, argv) == -1)
		return 1;
	if (mysql_library_init(0, NULL, NULL) != 0)
		api_fatalx("mysql_library_init failed");
	if ((table_mysql = table_mysql_load(api_conf_path())) == NULL)
		api_fatalx("%s: unusable configuration", api_conf_path());
	/* a server down now is retried at the first request; a query it
	 * refuses is a config error, reported now */
	api_deadline_set(&dl, table_mysql->q.timeout_ms);
	if (table_mysql_connect(table_mysql, &dl) == -1)
		api_fatalx("%s: unusable configuration", api_conf_path());
	table_api_on_update(table_mysql_update);
	table_api_on_check(table_mysql_check);
	table_api_on_lookup(table_mysql_lookup);
	table_api_on_fetch(table_mysql_fetch);
	return table_api_dispatch();
}
