/*
 * table-redis.c -- table-redis: a table helper backed by Redis
 * (hiredis).
 *
 * Started by the daemon's lookup process as table-redis <config>, it
 * answers the proc table protocol through api/table_api.c.  The config
 * has the keys of OpenSMTPD-extras' table-redis (master, master_port,
 * slave, slave_port, database, password, query_<service>), every one
 * honoured (extras' binary reads none of them), plus fetch_source,
 * fetch_source_expire, fetch_source_refresh and query_timeout.  A
 * query is a Redis command line whose words are sent as separate
 * arguments, each "%s" replaced by the key: a key with spaces, quotes
 * or backslashes is one argument, never re-parsed.  Replies map to
 * answers as table-redis(5) says (nil or an empty array: not found).
 * Each request has a deadline (query_timeout, hiredis's timeouts); a
 * server that is down, refusing or frozen costs a temporary failure
 * (-1) and a log line naming the table, the slave is tried when the
 * master cannot be reached, and the next attempt waits for
 * api_backoff.  Nothing here exits because of the server.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "smtpd-api.h"
#include "api_backoff.h"
#include "api_deadline.h"
#include "table_format.h"
#include "table_rotation.h"

#define TABLE_REDIS_ARGS_MAX	64	/* words of one query */
#define TABLE_REDIS_PORT	6379
#define TABLE_REDIS_FETCH	TABLE_FORMAT_NSERVICES	/* query slot */
#define TABLE_REDIS_NQUERIES	(TABLE_FORMAT_NSERVICES + 1)

/* config keys besides those of table_format_queries */
static const char *const table_redis_keys[] = {
	"master", "master_port", "slave", "slave_port", "database",
	"password", NULL
};

/* the services extras' table-redis answers without a query_ key */
static const int table_redis_defaults[] = {
	K_ALIAS, K_DOMAIN, K_CREDENTIALS, K_NETADDR, K_USERINFO, K_SOURCE,
	K_MAILADDR, K_ADDRNAME
};

/* a query split in words; "%s" in a word is the key */
struct table_redis_query {
	char		*words[TABLE_REDIS_ARGS_MAX];
	int		 nwords;
};

struct table_redis_server {
	char		*host;		/* or "unix:/path" */
	int		 port;
};

struct table_redis {
	struct table_redis_server	 servers[2];	/* master, slave */
	int				 nservers;
	long long			 database;
	char				*password;
	struct table_queries		 q;
	struct table_redis_query	 queries[TABLE_REDIS_NQUERIES];
	redisContext			*ctx;		/* NULL: not connected */
	struct api_backoff		 backoff;
	struct table_rotation		 rotation;
};

static struct table_redis	*table_redis;
static const char		*table_redis_name;

/* table_redis_query_free - the words of one query */
static void
table_redis_query_free(struct table_redis_query *q)
{
	while (q->nwords > 0)
		free(q->words[--q->nwords]);
}

/* table_redis_disconnect - drop the connection, if any */
static void
table_redis_disconnect(struct table_redis *t)
{
	if (t->ctx != NULL)
		redisFree(t->ctx);
	t->ctx = NULL;
}

/* table_redis_free - the whole table */
static void
table_redis_free(struct table_redis **tp)
{
	struct table_redis	*t = *tp;
	int			 i;

	if (t == NULL)
		return;
	table_redis_disconnect(t);
	for (i = 0; i < TABLE_REDIS_NQUERIES; i++)
		table_redis_query_free(&t->queries[i]);
	for (i = 0; i < 2; i++)
		free(t->servers[i].host);
	if (t->password != NULL)
		explicit_bzero(t->password, strlen(t->password));
	free(t->password);
	table_format_queries_free(&t->q);
	table_rotation_clear(&t->rotation);
	free(t);
	*tp = NULL;
}

/* table_redis_split - SQL-less "prepare": the words of a query, each
 * checked: "%s" is the key, "%%" a '%', any other '%' an error */
static int
table_redis_split(const char *path, const char *key, const char *text,
    struct table_redis_query *q)
{
	char		*copy, *w, *p, *save = NULL;

	if ((copy = strdup(text)) == NULL)
		return -1;
	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		for (p = strchr(w, '%'); p != NULL; p = strchr(p + 2, '%'))
			if (p[1] != 's' && p[1] != '%') {
				api_log_warnx("%s: %s: only %%s and %%%% may "
				    "follow a %%", path, key);
				goto fail;
			}
		if (q->nwords == TABLE_REDIS_ARGS_MAX) {
			api_log_warnx("%s: %s: more than %d words", path, key,
			    TABLE_REDIS_ARGS_MAX);
			goto fail;
		}
		if ((q->words[q->nwords] = strdup(w)) == NULL)
			goto fail;
		q->nwords++;
	}
	free(copy);
	if (q->nwords == 0) {
		api_log_warnx("%s: %s: empty query", path, key);
		return -1;
	}
	return 0;
fail:
	free(copy);
	table_redis_query_free(q);
	return -1;
}

/* table_redis_server_conf - host (or unix:path) and port of one server */
static int
table_redis_server_conf(struct dict *conf, const char *path,
    const char *hkey, const char *pkey, const char *dflt,
    struct table_redis_server *s)
{
	const char	*h = api_dict_get(conf, hkey);
	long long	 port;

	if (h == NULL)
		h = dflt;
	if (api_conf_number(conf, path, pkey, 1, 65535, TABLE_REDIS_PORT,
	    &port) == -1)
		return -1;
	if (strncmp(h, "unix:", 5) == 0 && h[5] == '\0') {
		api_log_warnx("%s: %s: no socket path after unix:", path, hkey);
		return -1;
	}
	s->port = (int)port;
	return (s->host = strdup(h)) == NULL ? -1 : 0;
}

/* table_redis_queries - each configured query, or extras' default */
static int
table_redis_queries(struct table_redis *t, const char *path)
{
	char		 key[TABLE_FORMAT_KEY_MAX], dflt[64];
	const char	*text;
	size_t		 i, d;
	int		 bit;

	for (d = 0; d < sizeof table_redis_defaults /
	    sizeof table_redis_defaults[0]; d++) {
		bit = table_format_index(table_redis_defaults[d]);
		if (t->q.query[bit] != NULL)
			continue;
		snprintf(dflt, sizeof dflt, "GET %s:%%s", table_service_name(
		    (enum table_service)table_redis_defaults[d]));
		if ((t->q.query[bit] = strdup(dflt)) == NULL)
			return -1;
	}
	for (i = 0; i < TABLE_REDIS_NQUERIES; i++) {
		if (i == TABLE_REDIS_FETCH) {
			text = t->q.fetch;
			strlcpy(key, "fetch_source", sizeof key);
		} else {
			text = t->q.query[i];
			table_format_query_key((enum table_service)(1 << i),
			    key, sizeof key);
		}
		if (text != NULL && table_redis_split(path, key, text,
		    &t->queries[i]) == -1)
			return -1;
	}
	return 0;
}

/* table_redis_load - read the config; an owned table, not connected */
static struct table_redis *
table_redis_load(const char *path)
{
	struct table_redis	*t;
	struct dict		 conf;
	const char		*pw;

	if (table_format_conf_load(path, table_redis_keys, &conf) == -1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		api_log_warn("%s: calloc", path);
		goto fail;
	}
	api_backoff_init(&t->backoff, API_BACKOFF_MIN_MS, API_BACKOFF_MAX_MS);
	if (table_redis_server_conf(&conf, path, "master", "master_port",
	    "127.0.0.1", &t->servers[0]) == -1)
		goto fail;
	t->nservers = 1;
	if (api_dict_get(&conf, "slave") != NULL) {
		if (table_redis_server_conf(&conf, path, "slave", "slave_port",
		    NULL, &t->servers[1]) == -1)
			goto fail;
		t->nservers = 2;
	} else if (api_dict_get(&conf, "slave_port") != NULL) {
		api_log_warnx("%s: slave_port without slave", path);
		goto fail;
	}
	if (api_conf_number(&conf, path, "database", 0, INT_MAX, 0,
	    &t->database) == -1)
		goto fail;
	if ((pw = api_dict_get(&conf, "password")) != NULL &&
	    (t->password = strdup(pw)) == NULL)
		goto fail;
	if (table_format_queries(&conf, path, &t->q) == -1 ||
	    table_redis_queries(t, path) == -1)
		goto fail;
	table_rotation_init(&t->rotation, t->q.expire, t->q.refresh);
	api_conf_free(&conf);
	return t;
fail:
	api_conf_free(&conf);
	table_redis_free(&t);
	return NULL;
}

/* table_redis_command - one command within the deadline: the reply, or
 * NULL after logging (the connection dropped: it is out of step) */
static redisReply *
table_redis_command(struct table_redis *t, int argc, const char **argv,
    const size_t *lens, const struct api_deadline *dl)
{
	redisReply	*reply;

	if (redisSetTimeout(t->ctx, api_deadline_timeval(dl)) != REDIS_OK ||
	    (reply = redisCommandArgv(t->ctx, argc, argv, lens)) == NULL) {
		table_format_warnx(table_redis_name, "redis: %s: %s", argv[0],
		    t->ctx->err == REDIS_ERR_IO && api_deadline_left(dl) == 0 ?
		    "no answer in time" : t->ctx->errstr[0] ?
		    t->ctx->errstr : "connection lost");
		table_redis_disconnect(t);
		return NULL;
	}
	return reply;
}

/* table_redis_simple - AUTH or SELECT: 1 accepted, 0 refused/failed */
static int
table_redis_simple(struct table_redis *t, const char *cmd, const char *arg,
    const struct api_deadline *dl)
{
	const char	*argv[2] = { cmd, arg };
	size_t		 lens[2] = { strlen(cmd), strlen(arg) };
	redisReply	*reply;
	int		 ok;

	if ((reply = table_redis_command(t, 2, argv, lens, dl)) == NULL)
		return 0;
	ok = reply->type == REDIS_REPLY_STATUS;
	if (!ok)	/* never log AUTH's argument */
		table_format_warnx(table_redis_name, "redis: %s refused: %.*s",
		    cmd, reply->type == REDIS_REPLY_ERROR ? (int)reply->len : 0,
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "");
	freeReplyObject(reply);
	return ok;
}

/* table_redis_connect_one - connect to server i, AUTH, SELECT */
static int
table_redis_connect_one(struct table_redis *t, int i,
    const struct api_deadline *dl)
{
	const struct table_redis_server	*s = &t->servers[i];
	char				 db[32];

	if (strncmp(s->host, "unix:", 5) == 0)
		t->ctx = redisConnectUnixWithTimeout(s->host + 5,
		    api_deadline_timeval(dl));
	else
		t->ctx = redisConnectWithTimeout(s->host, s->port,
		    api_deadline_timeval(dl));
	if (t->ctx == NULL || t->ctx->err) {
		table_format_warnx(table_redis_name, "redis: connect to %s "
		    "%s:%d: %s", i ? "slave" : "master", s->host, s->port,
		    t->ctx ? t->ctx->errstr : "out of memory");
		table_redis_disconnect(t);
		return 0;
	}
	if (t->password != NULL &&
	    !table_redis_simple(t, "AUTH", t->password, dl))
		goto fail;
	snprintf(db, sizeof db, "%lld", t->database);
	if (t->database != 0 && !table_redis_simple(t, "SELECT", db, dl))
		goto fail;
	return 1;
fail:
	table_redis_disconnect(t);
	return 0;
}

/* table_redis_connect - the master, else the slave; backoff if neither */
static int
table_redis_connect(struct table_redis *t, const struct api_deadline *dl)
{
	int	i;

	table_redis_disconnect(t);
	for (i = 0; i < t->nservers; i++)
		if (table_redis_connect_one(t, i, dl)) {
			api_backoff_succeeded(&t->backoff);
			return 1;
		}
	api_backoff_failed(&t->backoff);
	return 0;
}

/* table_redis_subst - WORD with "%s" replaced by KEY and "%%" by '%' */
static char *
table_redis_subst(const char *word, const char *key)
{
	size_t	 klen = key ? strlen(key) : 0, len = 0, i;
	char	*out;

	/* at worst every two bytes of WORD are a "%s" */
	if ((out = malloc(strlen(word) + (strlen(word) / 2 + 1) * klen + 1)) ==
	    NULL)
		return NULL;
	for (i = 0; word[i] != '\0'; i++) {
		if (word[i] == '%' && word[i + 1] == 's') {
			if (key != NULL)
				memcpy(out + len, key, klen);
			len += klen;
			i++;
		} else if (word[i] == '%' && word[i + 1] == '%') {
			out[len++] = '%';
			i++;
		} else
			out[len++] = word[i];
	}
	out[len] = '\0';
	return out;
}

/* table_redis_run - query slot i with KEY within one deadline; one
 * retry on a connection that broke since the last request */
static redisReply *
table_redis_run(struct table_redis *t, int i, const char *key)
{
	const struct table_redis_query	*q = &t->queries[i];
	const char			*argv[TABLE_REDIS_ARGS_MAX];
	size_t				 lens[TABLE_REDIS_ARGS_MAX];
	char				*words[TABLE_REDIS_ARGS_MAX];
	struct api_deadline		 dl;
	redisReply			*reply = NULL;
	int				 w, attempt, n = 0;

	for (w = 0; w < q->nwords; w++) {
		if ((words[w] = table_redis_subst(q->words[w], key)) == NULL)
			goto done;
		n++;
		argv[w] = words[w];
		lens[w] = strlen(words[w]);
	}
	api_deadline_set(&dl, t->q.timeout_ms);
	for (attempt = 0; attempt < 2 && reply == NULL; attempt++) {
		if (t->ctx == NULL) {
			if (!api_backoff_due(&t->backoff)) {
				table_format_warnx(table_redis_name, "redis: "
				    "server unavailable, next attempt in %d "
				    "ms", api_backoff_wait(&t->backoff));
				break;
			}
			if (!table_redis_connect(t, &dl))
				break;
		}
		reply = table_redis_command(t, n, argv, lens, &dl);
		if (reply == NULL && api_deadline_left(&dl) == 0)
			break;
	}
done:
	for (w = 0; w < n; w++)
		free(words[w]);
	return reply;
}

/* table_redis_field - a string or integer element as a field */
static int
table_redis_field(redisReply *r, char *num, size_t numsz,
    struct table_field *f)
{
	switch (r->type) {
	case REDIS_REPLY_STRING:
		f->data = r->str;
		f->len = r->len;
		return 0;
	case REDIS_REPLY_INTEGER:
		snprintf(num, numsz, "%lld", r->integer);
		f->data = num;
		f->len = strlen(num);
		return 0;
	default:
		return -1;
	}
}

/* table_redis_reply_error - log why a reply is no answer; -1 */
static int
table_redis_reply_error(int service, redisReply *r, const char *why)
{
	table_format_warnx(table_redis_name, "redis: %s: %s%s%.*s",
	    table_service_name((enum table_service)service), why,
	    r->type == REDIS_REPLY_ERROR ? ": " : "",
	    r->type == REDIS_REPLY_ERROR ? (int)r->len : 0,
	    r->type == REDIS_REPLY_ERROR ? r->str : "");
	return -1;
}

/* table_redis_nils - the array's nil elements: 0, some, or all (n) */
static size_t
table_redis_nils(redisReply *r)
{
	size_t	i, n = 0;

	for (i = 0; i < r->elements; i++)
		if (r->element[i] == NULL ||
		    r->element[i]->type == REDIS_REPLY_NIL)
			n++;
	return n;
}

/* table_redis_array - the value of SERVICE from an array reply */
static int
table_redis_array(int service, redisReply *r, char *dst, size_t sz)
{
	struct table_field	 f[3];
	char			 num[3][32], err[256];
	size_t			 i, nils = table_redis_nils(r);

	if (r->elements == 0 || nils == r->elements)
		return 0;
	if (nils > 0)
		return table_redis_reply_error(service, r, "some fields of "
		    "the record are missing");
	if (table_format_is_list((enum table_service)service)) {
		dst[0] = '\0';
		for (i = 0; i < r->elements; i++)
			if (table_redis_field(r->element[i], num[0],
			    sizeof num[0], &f[0]) == -1)
				return table_redis_reply_error(service, r,
				    "an element is not a string");
			else if (table_format_list_add(&f[0], dst, sz, err,
			    sizeof err) == -1)
				return table_redis_reply_error(service, r, err);
		return 1;
	}
	if (r->elements > 3)
		return table_redis_reply_error(service, r, "too many fields");
	for (i = 0; i < r->elements; i++)
		if (table_redis_field(r->element[i], num[i], sizeof num[i],
		    &f[i]) == -1)
			return table_redis_reply_error(service, r, "a field "
			    "is not a string");
	if (table_format_record((enum table_service)service, f, r->elements,
	    dst, sz, err, sizeof err) == -1)
		return table_redis_reply_error(service, r, err);
	return 1;
}

/* table_redis_value - LOOKUP's answer from any reply */
static int
table_redis_value(int service, redisReply *r, char *dst, size_t sz)
{
	struct table_field	f;
	char			err[256];

	switch (r->type) {
	case REDIS_REPLY_NIL:
		return 0;
	case REDIS_REPLY_STRING:
		f.data = r->str;
		f.len = r->len;
		if (table_format_record((enum table_service)service, &f, 1,
		    dst, sz, err, sizeof err) == -1)
			return table_redis_reply_error(service, r, err);
		return 1;
	case REDIS_REPLY_ARRAY:
		return table_redis_array(service, r, dst, sz);
	case REDIS_REPLY_INTEGER:
		return table_redis_reply_error(service, r, "an integer "
		    "reply answers CHECK only");
	default:
		return table_redis_reply_error(service, r, "error reply");
	}
}

/* table_redis_slot - the query of a service, or -1 logged */
static int
table_redis_slot(int service)
{
	int	i = table_format_index((enum table_service)service);

	if (i == -1 || table_redis->queries[i].nwords == 0) {
		table_format_warnx(table_redis_name, "redis: no query for "
		    "service %s", table_service_name(
		    (enum table_service)service));
		return -1;
	}
	return i;
}

/* table_redis_check - CHECK: a value, a non-empty array, a non-zero
 * integer */
static int
table_redis_check(int service, struct dict *params, const char *key)
{
	redisReply	*r;
	int		 i, ret;

	if ((i = table_redis_slot(service)) == -1 ||
	    (r = table_redis_run(table_redis, i, key)) == NULL)
		return -1;
	switch (r->type) {
	case REDIS_REPLY_NIL:
		ret = 0;
		break;
	case REDIS_REPLY_STRING:
		ret = 1;
		break;
	case REDIS_REPLY_INTEGER:
		ret = r->integer != 0;
		break;
	case REDIS_REPLY_ARRAY:
		ret = r->elements > table_redis_nils(r);
		break;
	default:
		ret = table_redis_reply_error(service, r, "error reply");
		break;
	}
	freeReplyObject(r);
	return ret;
}

/* table_redis_lookup - LOOKUP */
static int
table_redis_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	redisReply	*r;
	int		 i, ret;

	if ((i = table_redis_slot(service)) == -1 ||
	    (r = table_redis_run(table_redis, i, key)) == NULL)
		return -1;
	ret = table_redis_value(service, r, dst, sz);
	if (ret != 1)
		dst[0] = '\0';
	freeReplyObject(r);
	return ret;
}

/* table_redis_reload_sources - fetch_source's reply into the rotation */
static int
table_redis_reload_sources(struct table_redis *t)
{
	struct table_field	*f = NULL;
	redisReply		*r;
	char			 err[256];
	size_t			 i, n = 0;
	int			 ret = -1;

	if ((r = table_redis_run(t, TABLE_REDIS_FETCH, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY)
		n = r->elements;
	else if (r->type == REDIS_REPLY_STRING)
		n = 1;
	else if (r->type != REDIS_REPLY_NIL) {
		table_redis_reply_error(K_SOURCE, r, "fetch_source wants "
		    "strings");
		goto done;
	}
	if ((f = calloc(n ? n : 1, sizeof *f)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		redisReply *e = r->type == REDIS_REPLY_ARRAY ? r->element[i] : r;

		if (e == NULL || e->type != REDIS_REPLY_STRING) {
			table_redis_reply_error(K_SOURCE, r, "fetch_source "
			    "wants strings");
			goto done;
		}
		f[i].data = e->str;
		f[i].len = e->len;
	}
	if ((ret = table_rotation_load(&t->rotation, f, n, err,
	    sizeof err)) == -1)
		table_format_warnx(table_redis_name, "redis: fetch_source: %s",
		    err);
done:
	free(f);
	freeReplyObject(r);
	return ret;
}

/* table_redis_fetch - FETCH source: the next value in turn */
static int
table_redis_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	struct table_redis	*t = table_redis;

	if (service != K_SOURCE || t->queries[TABLE_REDIS_FETCH].nwords == 0) {
		table_format_warnx(table_redis_name, "redis: no fetch_source "
		    "for service %s", table_service_name(
		    (enum table_service)service));
		return -1;
	}
	if (table_rotation_due(&t->rotation) &&
	    table_redis_reload_sources(t) == -1)
		return -1;
	return table_rotation_next(&t->rotation, dst, sz);
}

/* table_redis_update - UPDATE: reload the config and connect with it;
 * on any failure the previous configuration and link stay */
static int
table_redis_update(void)
{
	struct table_redis	*t;
	struct api_deadline	 dl;

	if ((t = table_redis_load(api_conf_path())) == NULL) {
		table_format_warnx(table_redis_name, "redis: %s: reload "
		    "failed, keeping the previous configuration",
		    api_conf_path());
		return 0;
	}
	api_deadline_set(&dl, t->q.timeout_ms);
	if (!table_redis_connect(t, &dl)) {
		table_format_warnx(table_redis_name, "redis: reload failed, "
		    "keeping the previous configuration");
		table_redis_free(&t);
		return 0;
	}
	table_redis_free(&table_redis);
	table_redis = t;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct api_deadline	dl;

	table_redis_name = argc > 0 ? argv[0] : "table-redis";
	if (api_init("table-redis", argc, argv) == -1)
		return 1;
	if ((table_redis = table_redis_load(api_conf_path())) == NULL)
		api_fatalx("%s: unusable configuration", api_conf_path());
	/* a server down now is retried at the first request */
	api_deadline_set(&dl, table_redis->q.timeout_ms);
	table_redis_connect(table_redis, &dl);
	table_api_on_update(table_redis_update);
	table_api_on_check(table_redis_check);
	table_api_on_lookup(table_redis_lookup);
	table_api_on_fetch(table_redis_fetch);
	return table_api_dispatch();
}
