/*
 * table-postgres.c -- table-postgres: a table helper backed by
 * PostgreSQL (libpq).
 *
 * Started by the daemon's lookup process as table-postgres <config>,
 * it answers the proc table protocol through api/table_api.c.  The
 * config has the keys of OpenSMTPD-extras' table-postgres (conninfo,
 * query_<service>, fetch_source, fetch_source_expire,
 * fetch_source_refresh) and query_timeout; every query is a prepared
 * statement taking the key as $1, checked for its column count when
 * prepared.  Each request has a deadline (query_timeout) covering the
 * connection, the statement and the reply: a server that is down,
 * refusing, or frozen costs that request a temporary failure (-1) and
 * a log line naming the table, and the next attempt to connect waits
 * for api_backoff.  The helper never exits because of its server;
 * only a config it cannot use stops it, at start-up.  Values are built
 * by api/table_format.c, FETCH lists kept by api/table_rotation.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <postgresql/libpq-fe.h>

#include "smtpd-api.h"
#include "api_backoff.h"
#include "api_deadline.h"
#include "table_format.h"
#include "table_rotation.h"

#define TABLE_POSTGRES_FETCH	TABLE_FORMAT_NSERVICES	/* statement slot */
#define TABLE_POSTGRES_NSTMTS	(TABLE_FORMAT_NSERVICES + 1)

/* config keys besides those of table_format_queries */
static const char *const table_postgres_keys[] = { "conninfo", NULL };

struct table_postgres {
	char			*conninfo;
	struct table_queries	 q;
	PGconn			*conn;		/* NULL: not connected */
	struct api_backoff	 backoff;
	struct table_rotation	 rotation;
};

/* the one table this helper serves, and its name before OPEN */
static struct table_postgres	*table_postgres;
static const char		*table_postgres_name;

/* table_postgres_sql - the SQL of statement slot i, or NULL */
static const char *
table_postgres_sql(struct table_postgres *t, int i)
{
	return i == TABLE_POSTGRES_FETCH ? t->q.fetch : t->q.query[i];
}

/* table_postgres_stmt_name - "s<slot>" */
static void
table_postgres_stmt_name(int i, char *buf, size_t sz)
{
	snprintf(buf, sz, "s%d", i);
}

/* table_postgres_disconnect - drop the connection, if any */
static void
table_postgres_disconnect(struct table_postgres *t)
{
	if (t->conn != NULL)
		PQfinish(t->conn);
	t->conn = NULL;
}

/* table_postgres_free - the whole table */
static void
table_postgres_free(struct table_postgres **tp)
{
	struct table_postgres	*t = *tp;

	if (t == NULL)
		return;
	table_postgres_disconnect(t);
	table_format_queries_free(&t->q);
	table_rotation_clear(&t->rotation);
	free(t->conninfo);
	free(t);
	*tp = NULL;
}

/* table_postgres_error - libpq's last message on one line */
static const char *
table_postgres_error(PGconn *conn, char *buf, size_t sz)
{
	char	*p;

	strlcpy(buf, conn ? PQerrorMessage(conn) : "no connection", sz);
	for (p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	while (p > buf && p[-1] == ' ')
		*--p = '\0';
	return buf[0] ? buf : "unknown error";
}

/* table_postgres_wait - the reply to what was sent: the first result
 * (others are dropped), or NULL on a broken connection or timeout */
static PGresult *
table_postgres_wait(PGconn *conn, const struct api_deadline *dl,
    int *timedout)
{
	PGresult	*res, *first = NULL;
	int		 f, r;

	*timedout = 0;
	while ((f = PQflush(conn)) == 1) {
		if ((r = api_deadline_wait(dl, PQsocket(conn),
		    API_DEADLINE_READ | API_DEADLINE_WRITE)) <= 0)
			goto wait_failed;
		if (!PQconsumeInput(conn))
			return NULL;
	}
	if (f == -1)
		return NULL;
	for (;;) {
		while (PQisBusy(conn)) {
			if ((r = api_deadline_wait(dl, PQsocket(conn),
			    API_DEADLINE_READ)) <= 0)
				goto wait_failed;
			if (!PQconsumeInput(conn))
				goto broken;
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		if (first == NULL)
			first = res;
		else
			PQclear(res);
	}
	return first;
wait_failed:
	*timedout = r == 0;
broken:
	PQclear(first);
	return NULL;
}

/* table_postgres_ok - a result of the wanted status, else log why */
static int
table_postgres_ok(struct table_postgres *t, PGresult *res,
    ExecStatusType want, const char *what, int timedout)
{
	char	err[512];

	if (res != NULL && PQresultStatus(res) == want)
		return 1;
	if (timedout)
		table_format_warnx(table_postgres_name, "postgres: %s: no "
		    "answer within %d ms", what, t->q.timeout_ms);
	else if (res != NULL && PQresultErrorMessage(res)[0] != '\0') {
		strlcpy(err, PQresultErrorMessage(res), sizeof err);
		err[strcspn(err, "\r\n")] = '\0';
		table_format_warnx(table_postgres_name, "postgres: %s: %s",
		    what, err);
	} else
		table_format_warnx(table_postgres_name, "postgres: %s: %s",
		    what, table_postgres_error(t->conn, err, sizeof err));
	return 0;
}

/* table_postgres_prepare - statement slot i on the new connection:
 * 1 done, 0 its server failed, -1 its query is wrong (config) */
static int
table_postgres_prepare(struct table_postgres *t, int i,
    const struct api_deadline *dl)
{
	char		 name[16], key[TABLE_FORMAT_KEY_MAX];
	PGresult	*res;
	int		 cols, want, to, ok;

	table_postgres_stmt_name(i, name, sizeof name);
	if (i == TABLE_POSTGRES_FETCH) {
		strlcpy(key, "fetch_source", sizeof key);
		want = 1;
	} else {
		table_format_query_key((enum table_service)(1 << i), key,
		    sizeof key);
		want = table_format_columns((enum table_service)(1 << i));
	}
	if (!PQsendPrepare(t->conn, name, table_postgres_sql(t, i),
	    i == TABLE_POSTGRES_FETCH ? 0 : 1, NULL))
		return table_postgres_ok(t, NULL, PGRES_COMMAND_OK, key, 0);
	res = table_postgres_wait(t->conn, dl, &to);
	ok = table_postgres_ok(t, res, PGRES_COMMAND_OK, key, to);
	PQclear(res);
	if (!ok)
		return PQstatus(t->conn) == CONNECTION_OK && !to ? -1 : 0;
	if (!PQsendDescribePrepared(t->conn, name))
		return table_postgres_ok(t, NULL, PGRES_COMMAND_OK, key, 0);
	res = table_postgres_wait(t->conn, dl, &to);
	if (!table_postgres_ok(t, res, PGRES_COMMAND_OK, key, to)) {
		PQclear(res);
		return 0;
	}
	cols = PQnfields(res);
	PQclear(res);
	if (cols != want) {
		table_format_warnx(table_postgres_name, "postgres: %s: the "
		    "query returns %d columns, want %d", key, cols, want);
		return -1;
	}
	return 1;
}

/* table_postgres_session - bound the server's side of each statement */
static int
table_postgres_session(struct table_postgres *t,
    const struct api_deadline *dl)
{
	char		 ms[32];
	const char	*v = ms;
	PGresult	*res;
	int		 to, ok;

	snprintf(ms, sizeof ms, "%d", t->q.timeout_ms);
	if (!PQsendQueryParams(t->conn,
	    "SELECT set_config('statement_timeout', $1, false)", 1, NULL,
	    &v, NULL, NULL, 0))
		return table_postgres_ok(t, NULL, PGRES_TUPLES_OK,
		    "statement_timeout", 0);
	res = table_postgres_wait(t->conn, dl, &to);
	ok = table_postgres_ok(t, res, PGRES_TUPLES_OK, "statement_timeout",
	    to);
	PQclear(res);
	return ok;
}

/* table_postgres_open_conn - start the connection and wait for it */
static int
table_postgres_open_conn(struct table_postgres *t,
    const struct api_deadline *dl)
{
	PostgresPollingStatusType	 st = PGRES_POLLING_WRITING;
	char				 err[512];
	int				 r;

	if ((t->conn = PQconnectStart(t->conninfo)) == NULL) {
		table_format_warnx(table_postgres_name, "postgres: out of "
		    "memory");
		return 0;
	}
	while (PQstatus(t->conn) != CONNECTION_BAD &&
	    st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		r = api_deadline_wait(dl, PQsocket(t->conn),
		    st == PGRES_POLLING_READING ? API_DEADLINE_READ :
		    API_DEADLINE_WRITE);
		if (r <= 0) {
			table_format_warnx(table_postgres_name, "postgres: "
			    "connect: %s", r == 0 ? "timed out" :
			    "poll failed");
			return 0;
		}
		st = PQconnectPoll(t->conn);
	}
	if (PQstatus(t->conn) != CONNECTION_OK) {
		table_format_warnx(table_postgres_name, "postgres: connect: %s",
		    table_postgres_error(t->conn, err, sizeof err));
		return 0;
	}
	if (PQsetnonblocking(t->conn, 1) == -1)
		return 0;
	return 1;
}

/* table_postgres_connect - connect and prepare every statement:
 * 1 ready, 0 the server failed (retry later), -1 the config is wrong */
static int
table_postgres_connect(struct table_postgres *t,
    const struct api_deadline *dl)
{
	int	i, r;

	table_postgres_disconnect(t);
	if (!table_postgres_open_conn(t, dl) || !table_postgres_session(t, dl))
		goto fail;
	for (i = 0; i < TABLE_POSTGRES_NSTMTS; i++) {
		if (table_postgres_sql(t, i) == NULL)
			continue;
		if ((r = table_postgres_prepare(t, i, dl)) != 1) {
			table_postgres_disconnect(t);
			api_backoff_failed(&t->backoff);
			return r;
		}
	}
	api_backoff_succeeded(&t->backoff);
	return 1;
fail:
	table_postgres_disconnect(t);
	api_backoff_failed(&t->backoff);
	return 0;
}

/* table_postgres_exec - run statement slot i with KEY (NULL: none);
 * the tuples, or NULL after logging (connection dropped if broken) */
static PGresult *
table_postgres_exec(struct table_postgres *t, int i, const char *key,
    const struct api_deadline *dl, int *retry)
{
	char		 name[16];
	PGresult	*res = NULL;
	int		 to = 0;

	*retry = 0;
	table_postgres_stmt_name(i, name, sizeof name);
	if (PQsendQueryPrepared(t->conn, name, key ? 1 : 0, &key, NULL, NULL,
	    0))
		res = table_postgres_wait(t->conn, dl, &to);
	if (table_postgres_ok(t, res, PGRES_TUPLES_OK, "query", to))
		return res;
	PQclear(res);
	if (to || PQstatus(t->conn) != CONNECTION_OK) {
		/* a statement may still run there: never reuse the link */
		*retry = !to;
		table_postgres_disconnect(t);
	}
	return NULL;
}

/* table_postgres_run - statement slot i for KEY within one deadline:
 * connect if needed (when the backoff allows), retry once on a link
 * that broke since the last request */
static PGresult *
table_postgres_run(struct table_postgres *t, int i, const char *key)
{
	struct api_deadline	 dl;
	PGresult		*res;
	int			 attempt, retry;

	api_deadline_set(&dl, t->q.timeout_ms);
	for (attempt = 0; attempt < 2; attempt++) {
		if (t->conn == NULL) {
			if (!api_backoff_due(&t->backoff)) {
				table_format_warnx(table_postgres_name,
				    "postgres: server unavailable, next "
				    "attempt in %d ms",
				    api_backoff_wait(&t->backoff));
				return NULL;
			}
			if (table_postgres_connect(t, &dl) != 1)
				return NULL;
		}
		if ((res = table_postgres_exec(t, i, key, &dl, &retry)) != NULL)
			return res;
		if (!retry)
			return NULL;
	}
	return NULL;
}

/* table_postgres_slot - the statement of a service, or -1 logged */
static int
table_postgres_slot(int service)
{
	int	i = table_format_index((enum table_service)service);

	if (i == -1 || table_postgres->q.query[i] == NULL) {
		table_format_warnx(table_postgres_name, "postgres: no query "
		    "for service %s", table_service_name(
		    (enum table_service)service));
		return -1;
	}
	return i;
}

/* table_postgres_field - column c of row r */
static struct table_field
table_postgres_field(PGresult *res, int r, int c)
{
	struct table_field	f;

	if (PQgetisnull(res, r, c)) {
		f.data = NULL;
		f.len = 0;
	} else {
		f.data = PQgetvalue(res, r, c);
		f.len = (size_t)PQgetlength(res, r, c);
	}
	return f;
}

/* table_postgres_value - the value of SERVICE from the rows */
static int
table_postgres_value(int service, PGresult *res, char *dst, size_t sz)
{
	struct table_field	f[3];
	char			err[256];
	int			c, r, n = PQnfields(res);

	if (n > 3)
		n = 3;
	if (table_format_is_list((enum table_service)service)) {
		dst[0] = '\0';
		for (r = 0; r < PQntuples(res); r++) {
			f[0] = table_postgres_field(res, r, 0);
			if (table_format_list_add(&f[0], dst, sz, err,
			    sizeof err) == -1)
				goto bad;
		}
		return 1;
	}
	for (c = 0; c < n; c++)
		f[c] = table_postgres_field(res, 0, c);
	if (table_format_record((enum table_service)service, f, (size_t)n,
	    dst, sz, err, sizeof err) == -1)
		goto bad;
	return 1;
bad:
	table_format_warnx(table_postgres_name, "postgres: %s: %s",
	    table_service_name((enum table_service)service), err);
	dst[0] = '\0';
	return -1;
}

/* table_postgres_check - CHECK: does the query return a row */
static int
table_postgres_check(int service, struct dict *params, const char *key)
{
	PGresult	*res;
	int		 i, r;

	if ((i = table_postgres_slot(service)) == -1)
		return -1;
	if ((res = table_postgres_run(table_postgres, i, key)) == NULL)
		return -1;
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

/* table_postgres_lookup - LOOKUP: the first row, every row for lists */
static int
table_postgres_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	PGresult	*res;
	int		 i, r;

	if ((i = table_postgres_slot(service)) == -1)
		return -1;
	if ((res = table_postgres_run(table_postgres, i, key)) == NULL)
		return -1;
	r = PQntuples(res) == 0 ? 0 : table_postgres_value(service, res, dst,
	    sz);
	PQclear(res);
	return r;
}

/* table_postgres_reload_sources - run fetch_source into the rotation */
static int
table_postgres_reload_sources(struct table_postgres *t)
{
	struct table_field	*f;
	PGresult		*res;
	char			 err[256];
	int			 r, n, ret = -1;

	if ((res = table_postgres_run(t, TABLE_POSTGRES_FETCH, NULL)) == NULL)
		return -1;
	n = PQntuples(res);
	if ((f = calloc(n ? (size_t)n : 1, sizeof *f)) == NULL)
		snprintf(err, sizeof err, "out of memory");
	else {
		for (r = 0; r < n; r++)
			f[r] = table_postgres_field(res, r, 0);
		ret = table_rotation_load(&t->rotation, f, (size_t)n, err,
		    sizeof err);
	}
	if (ret == -1)
		table_format_warnx(table_postgres_name, "postgres: "
		    "fetch_source: %s", err);
	free(f);
	PQclear(res);
	return ret;
}

/* table_postgres_fetch - FETCH source: the next value in turn */
static int
table_postgres_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	struct table_postgres	*t = table_postgres;

	if (service != K_SOURCE || t->q.fetch == NULL) {
		table_format_warnx(table_postgres_name, "postgres: no "
		    "fetch_source for service %s", table_service_name(
		    (enum table_service)service));
		return -1;
	}
	if (table_rotation_due(&t->rotation) &&
	    table_postgres_reload_sources(t) == -1)
		return -1;
	return table_rotation_next(&t->rotation, dst, sz);
}

/* table_postgres_load - read the config; an owned table, not connected */
static struct table_postgres *
table_postgres_load(const char *path)
{
	struct table_postgres	*t;
	struct dict		 conf;
	PQconninfoOption	*opts;
	char			*err = NULL;
	const char		*ci;

	if (table_format_conf_load(path, table_postgres_keys, &conf) == -1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		api_log_warn("%s: calloc", path);
		goto fail;
	}
	api_backoff_init(&t->backoff, API_BACKOFF_MIN_MS, API_BACKOFF_MAX_MS);
	if ((ci = api_dict_get(&conf, "conninfo")) == NULL) {
		api_log_warnx("%s: no conninfo", path);
		goto fail;
	}
	if ((opts = PQconninfoParse(ci, &err)) == NULL) {
		api_log_warnx("%s: conninfo: %s", path, err ? strtok(err,
		    "\n") : "out of memory");
		PQfreemem(err);
		goto fail;
	}
	PQconninfoFree(opts);
	if ((t->conninfo = strdup(ci)) == NULL ||
	    table_format_queries(&conf, path, &t->q) == -1)
		goto fail;
	table_rotation_init(&t->rotation, t->q.expire, t->q.refresh);
	api_conf_free(&conf);
	return t;
fail:
	api_conf_free(&conf);
	table_postgres_free(&t);
	return NULL;
}

/* table_postgres_update - UPDATE: reload the config and reconnect with
 * it; on any failure the previous configuration and link stay */
static int
table_postgres_update(void)
{
	struct table_postgres	*t;
	struct api_deadline	 dl;

	if ((t = table_postgres_load(api_conf_path())) == NULL) {
		table_format_warnx(table_postgres_name, "postgres: %s: "
		    "reload failed, keeping the previous configuration",
		    api_conf_path());
		return 0;
	}
	api_deadline_set(&dl, t->q.timeout_ms);
	if (table_postgres_connect(t, &dl) != 1) {
		table_format_warnx(table_postgres_name, "postgres: reload "
		    "failed, keeping the previous configuration");
		table_postgres_free(&t);
		return 0;
	}
	table_postgres_free(&table_postgres);
	table_postgres = t;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct api_deadline	dl;

	table_postgres_name = argc > 0 ? argv[0] : "table-postgres";
	if (api_init("table-postgres", argc, argv) == -1)
		return 1;
	if ((table_postgres = table_postgres_load(api_conf_path())) == NULL)
		api_fatalx("%s: unusable configuration", api_conf_path());
	/* a server that is down now is retried at the first request; a
	 * query it refuses is a config error, reported now */
	api_deadline_set(&dl, table_postgres->q.timeout_ms);
	if (table_postgres_connect(table_postgres, &dl) == -1)
		api_fatalx("%s: unusable configuration", api_conf_path());
	table_api_on_update(table_postgres_update);
	table_api_on_check(table_postgres_check);
	table_api_on_lookup(table_postgres_lookup);
	table_api_on_fetch(table_postgres_fetch);
	return table_api_dispatch();
}
