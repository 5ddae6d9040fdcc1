/*
 * table-socketmap.c -- table-socketmap: a table helper that asks a
 * socketmap server (the protocol of Sendmail's and Postfix's socketmap
 * tables) for each look-up.
 *
 * Started by the daemon's lookup process as table-socketmap <config>,
 * it answers the proc table protocol through api/table_api.c.  The
 * config (table-socketmap(5); OpenSMTPD's extras have no such driver)
 * names the server (server: host:port, [v6]:port, inet:host:port, a
 * path or unix:path), the socketmap map asked for each service
 * (<service>_map) and the time a request may take (timeout).  Requests
 * and replies go through api/socketmap_proto.c on one connection kept
 * open between requests.  A server that is down, frozen, closing the
 * connection or answering garbage costs a temporary failure (-1) and a
 * log line naming the table; the broken connection is dropped and the
 * next attempt waits for api_backoff.  Nothing here exits because of
 * the server.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "api_backoff.h"
#include "api_deadline.h"
#include "socketmap_proto.h"
#include "table_format.h"

#define TABLE_SOCKETMAP_TIMEOUT_MAX	300	/* seconds */
#define TABLE_SOCKETMAP_REQUEST_MAX	(API_LINE_MAX + 1024)
#define TABLE_SOCKETMAP_REASON_MAX	200	/* bytes of a reason logged */

/* config keys: the server, the timeout, a map per service */
static const char *const table_socketmap_keys[] = {
	"server", "timeout",
	"alias_map", "domain_map", "credentials_map", "netaddr_map",
	"userinfo_map", "source_map", "mailaddr_map", "addrname_map",
	"mailaddrmap_map", "relayhost_map", "string_map", "regex_map",
	NULL
};

struct table_socketmap {
	char		*host;		/* NULL: a unix socket */
	char		*port;
	char		*path;		/* the unix socket */
	char		*maps[TABLE_FORMAT_NSERVICES];	/* by bit */
	int		 timeout_ms;
	int		 fd;		/* -1: not connected */
	struct api_backoff backoff;
	char		*buf;		/* a reply being read */
	size_t		 buflen;
};

static struct table_socketmap	*table_socketmap;
static const char		*table_socketmap_name;

/* table_socketmap_disconnect - drop the connection, if any */
static void
table_socketmap_disconnect(struct table_socketmap *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	t->buflen = 0;
}

/* table_socketmap_free - the whole table */
static void
table_socketmap_free(struct table_socketmap **tp)
{
	struct table_socketmap	*t = *tp;
	int			 i;

	if (t == NULL)
		return;
	table_socketmap_disconnect(t);
	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++)
		free(t->maps[i]);
	free(t->host);
	free(t->port);
	free(t->path);
	free(t->buf);
	free(t);
	*tp = NULL;
}

/* table_socketmap_server - parse the server key into host/port or path */
static int
table_socketmap_server(struct table_socketmap *t, const char *path,
    const char *v)
{
	const char	*colon, *host;
	size_t		 hlen;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "inet:", 5) == 0)
		v += 5;
	if (v[0] == '/') {
		if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			api_log_warnx("%s: server: socket path too long", path);
			return -1;
		}
		return (t->path = strdup(v)) == NULL ? -1 : 0;
	}
	if ((colon = strrchr(v, ':')) == NULL || colon[1] == '\0' ||
	    colon == v) {
		api_log_warnx("%s: server: want host:port, [address]:port or "
		    "a socket path, not \"%s\"", path, v);
		return -1;
	}
	if (strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535 ||
	    strlen(colon + 1) > 5) {
		api_log_warnx("%s: server: bad port \"%s\"", path, colon + 1);
		return -1;
	}
	host = v;
	hlen = (size_t)(colon - v);
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if ((t->host = strndup(host, hlen)) == NULL ||
	    (t->port = strdup(colon + 1)) == NULL)
		return -1;
	return 0;
}

/* table_socketmap_maps - <service>_map keys, each a valid map name */
static int
table_socketmap_maps(struct table_socketmap *t, struct dict *conf,
    const char *path)
{
	char		 key[TABLE_FORMAT_KEY_MAX];
	const char	*v;
	int		 i;

	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++) {
		snprintf(key, sizeof key, "%s_map",
		    table_service_name((enum table_service)(1 << i)));
		if ((v = api_dict_get(conf, key)) == NULL)
			continue;
		if (strpbrk(v, " \t:,") != NULL) {
			api_log_warnx("%s: %s: a map name holds no blank, ':' "
			    "or ','", path, key);
			return -1;
		}
		if ((t->maps[i] = strdup(v)) == NULL)
			return -1;
	}
	return 0;
}

/* table_socketmap_load - read the config; an owned table, not connected */
static struct table_socketmap *
table_socketmap_load(const char *path)
{
	struct table_socketmap	*t;
	struct dict		 conf;
	const char		*server;
	long long		 timeout;

	if (api_conf_load(path, table_socketmap_keys, &conf) == -1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		api_log_warn("%s: calloc", path);
		goto fail;
	}
	t->fd = -1;
	api_backoff_init(&t->backoff, API_BACKOFF_MIN_MS, API_BACKOFF_MAX_MS);
	if ((server = api_dict_get(&conf, "server")) == NULL) {
		api_log_warnx("%s: no server", path);
		goto fail;
	}
	if (table_socketmap_server(t, path, server) == -1 ||
	    table_socketmap_maps(t, &conf, path) == -1)
		goto fail;
	if (api_conf_number(&conf, path, "timeout", 1,
	    TABLE_SOCKETMAP_TIMEOUT_MAX, TABLE_FORMAT_TIMEOUT, &timeout) == -1)
		goto fail;
	t->timeout_ms = (int)timeout * 1000;
	if ((t->buf = malloc(SOCKETMAP_REPLY_MAX + SOCKETMAP_LEN_DIGITS +
	    2)) == NULL)
		goto fail;
	api_conf_free(&conf);
	return t;
fail:
	api_conf_free(&conf);
	table_socketmap_free(&t);
	return NULL;
}

/* table_socketmap_warnx - "table NAME: socketmap: ..." */
#define table_socketmap_warnx(...) \
	table_format_warnx(table_socketmap_name, "socketmap: " __VA_ARGS__)

/* table_socketmap_connect_fd - one non-blocking connect, within DL */
static int
table_socketmap_connect_fd(const struct sockaddr *sa, socklen_t salen,
    const struct api_deadline *dl, const char **why)
{
	int		fd, r, soerr = 0;
	socklen_t	len = sizeof soerr;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (connect(fd, sa, salen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*why = strerror(errno);
		goto fail;
	}
	if ((r = api_deadline_wait(dl, fd, API_DEADLINE_WRITE)) <= 0) {
		*why = r == 0 ? "timed out" : strerror(errno);
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 ||
	    soerr != 0) {
		*why = strerror(soerr ? soerr : errno);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* table_socketmap_connect - reach the server; backoff when it fails */
static int
table_socketmap_connect(struct table_socketmap *t,
    const struct api_deadline *dl)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res = NULL, *ai;
	const char		*why = "no address";
	int			 e;

	table_socketmap_disconnect(t);
	if (t->path != NULL) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		strlcpy(sun.sun_path, t->path, sizeof sun.sun_path);
		t->fd = table_socketmap_connect_fd((struct sockaddr *)&sun,
		    sizeof sun, dl, &why);
	} else {
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		if ((e = getaddrinfo(t->host, t->port, &hints, &res)) != 0)
			why = gai_strerror(e);
		for (ai = res; ai != NULL && t->fd == -1; ai = ai->ai_next)
			t->fd = table_socketmap_connect_fd(ai->ai_addr,
			    ai->ai_addrlen, dl, &why);
		if (res != NULL)
			freeaddrinfo(res);
	}
	if (t->fd == -1) {
		table_socketmap_warnx("connect to %s%s%s: %s",
		    t->path ? t->path : t->host, t->path ? "" : " port",
		    t->path ? "" : t->port, why);
		api_backoff_failed(&t->backoff);
		return 0;
	}
	api_backoff_succeeded(&t->backoff);
	return 1;
}

/* table_socketmap_send - the whole request within DL: 1, or 0 */
static int
table_socketmap_send(struct table_socketmap *t, const char *req,
    size_t len, const struct api_deadline *dl)
{
	ssize_t	n;
	size_t	off = 0;
	int	r;

	while (off < len) {
		n = send(t->fd, req + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = api_deadline_wait(dl, t->fd,
			    API_DEADLINE_WRITE)) == 1)
				continue;
			errno = r == 0 ? ETIMEDOUT : errno;
		}
		return 0;
	}
	return 1;
}

/*
 * table_socketmap_recv - one reply netstring within DL into *data.
 * 1 done; 0 the connection closed before a byte came (stale, worth
 * one retry); -1 logged (timeout, reset, garbage).
 */
static int
table_socketmap_recv(struct table_socketmap *t, const struct api_deadline *dl,
    const char **data, size_t *dlen)
{
	const size_t	 cap = SOCKETMAP_REPLY_MAX + SOCKETMAP_LEN_DIGITS + 2;
	const char	*err;
	size_t		 used;
	ssize_t		 n;
	int		 r;

	t->buflen = 0;
	for (;;) {
		r = socketmap_decode(t->buf, t->buflen, SOCKETMAP_REPLY_MAX,
		    data, dlen, &used, &err);
		if (r == -1) {
			table_socketmap_warnx("garbled reply: %s", err);
			return -1;
		}
		if (r == 1) {
			if (used != t->buflen) {
				table_socketmap_warnx("garbled reply: bytes "
				    "after the reply");
				return -1;
			}
			return 1;
		}
		if ((r = api_deadline_wait(dl, t->fd, API_DEADLINE_READ)) <= 0) {
			table_socketmap_warnx("%s", r == 0 ? "no answer in "
			    "time" : strerror(errno));
			return -1;
		}
		n = recv(t->fd, t->buf + t->buflen, cap - t->buflen, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* closed (or reset, if our request met the close) before
		 * a byte of reply: the server dropped an idle connection */
		if ((n == 0 || (n == -1 && errno == ECONNRESET)) &&
		    t->buflen == 0)
			return 0;
		if (n <= 0) {
			table_socketmap_warnx("reading the reply: %s", n == 0 ?
			    "connection closed by the server" :
			    strerror(errno));
			return -1;
		}
		t->buflen += (size_t)n;
	}
}

/*
 * table_socketmap_ask - MAP KEY on the server within the timeout: 1
 * with the reply payload, -1 logged.  One retry on a connection that
 * the server closed since the last request.
 */
static int
table_socketmap_ask(struct table_socketmap *t, const char *map,
    const char *key, const char **data, size_t *dlen)
{
	char			req[TABLE_SOCKETMAP_REQUEST_MAX];
	struct api_deadline	dl;
	int			len, attempt, fresh, r;

	if ((len = socketmap_encode(map, key, req, sizeof req)) == -1) {
		table_socketmap_warnx("map %s: key too long", map);
		return -1;
	}
	api_deadline_set(&dl, t->timeout_ms);
	for (attempt = 0; attempt < 2; attempt++) {
		fresh = t->fd == -1;
		if (fresh) {
			if (!api_backoff_due(&t->backoff)) {
				table_socketmap_warnx("server unavailable, "
				    "next attempt in %d ms",
				    api_backoff_wait(&t->backoff));
				return -1;
			}
			if (!table_socketmap_connect(t, &dl))
				return -1;
		}
		if (!table_socketmap_send(t, req, (size_t)len, &dl)) {
			table_socketmap_disconnect(t);
			if (!fresh)
				continue;	/* stale connection: once more */
			table_socketmap_warnx("sending the request: %s",
			    errno == ETIMEDOUT ? "no answer in time" :
			    strerror(errno));
			return -1;
		}
		if ((r = table_socketmap_recv(t, &dl, data, dlen)) == 1)
			return 1;
		table_socketmap_disconnect(t);
		if (r == 0 && !fresh)
			continue;	/* closed while idle: once more */
		if (r == 0)
			table_socketmap_warnx("connection closed by the server");
		return -1;
	}
	return -1;
}

/* table_socketmap_reason - a reason from the server, printable */
static void
table_socketmap_reason(const char *text, size_t len, char *dst,
    size_t dstsz)
{
	size_t	i;

	if (len > dstsz - 1)
		len = dstsz - 1;
	for (i = 0; i < len; i++)
		dst[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	dst[len] = '\0';
}

/* table_socketmap_query - service's map for KEY: the status and text */
static int
table_socketmap_query(int service, const char *key,
    enum socketmap_status *st, const char **text, size_t *tlen)
{
	struct table_socketmap	*t = table_socketmap;
	const char		*data, *err;
	char			 reason[TABLE_SOCKETMAP_REASON_MAX + 1];
	size_t			 dlen;
	int			 i;

	i = table_format_index((enum table_service)service);
	if (i == -1 || t->maps[i] == NULL) {
		table_socketmap_warnx("no map for service %s",
		    table_service_name((enum table_service)service));
		return -1;
	}
	if (table_socketmap_ask(t, t->maps[i], key, &data, &dlen) == -1)
		return -1;
	if (socketmap_reply(data, dlen, st, text, tlen, &err) == -1) {
		table_socketmap_warnx("map %s: garbled reply: %s", t->maps[i],
		    err);
		table_socketmap_disconnect(t);
		return -1;
	}
	if (*st == SOCKETMAP_OK || *st == SOCKETMAP_NOTFOUND)
		return 0;
	table_socketmap_reason(*text, *tlen, reason, sizeof reason);
	table_socketmap_warnx("map %s: %s %s", t->maps[i],
	    socketmap_status_name(*st), reason);
	return -1;
}

/* table_socketmap_check - CHECK: OK is present, NOTFOUND absent */
static int
table_socketmap_check(int service, struct dict *params, const char *key)
{
	enum socketmap_status	 st;
	const char		*text;
	size_t			 tlen;

	if (table_socketmap_query(service, key, &st, &text, &tlen) == -1)
		return -1;
	return st == SOCKETMAP_OK;
}

/* table_socketmap_lookup - LOOKUP: OK's value, checked for the service */
static int
table_socketmap_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	enum socketmap_status	 st;
	struct table_field	 f;
	char			 err[256];

	dst[0] = '\0';
	if (table_socketmap_query(service, key, &st, &f.data, &f.len) == -1)
		return -1;
	if (st == SOCKETMAP_NOTFOUND)
		return 0;
	if (table_format_record((enum table_service)service, &f, 1, dst, sz,
	    err, sizeof err) == -1) {
		table_socketmap_warnx("%s: %s", table_service_name(
		    (enum table_service)service), err);
		dst[0] = '\0';
		return -1;
	}
	return 1;
}

/* table_socketmap_fetch - FETCH: a socketmap cannot list its keys */
static int
table_socketmap_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	table_socketmap_warnx("fetch of %s: a socketmap cannot be listed",
	    table_service_name((enum table_service)service));
	return -1;
}

/* table_socketmap_update - UPDATE: reload the config and connect with
 * it; on any failure the previous configuration and link stay */
static int
table_socketmap_update(void)
{
	struct table_socketmap	*t;
	struct api_deadline	 dl;

	if ((t = table_socketmap_load(api_conf_path())) == NULL) {
		table_socketmap_warnx("%s: reload failed, keeping the "
		    "previous configuration", api_conf_path());
		return 0;
	}
	api_deadline_set(&dl, t->timeout_ms);
	if (!table_socketmap_connect(t, &dl)) {
		table_socketmap_warnx("reload failed, keeping the previous "
		    "configuration");
		table_socketmap_free(&t);
		return 0;
	}
	table_socketmap_free(&table_socketmap);
	table_socketmap = t;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct api_deadline	dl;

	table_socketmap_name = argc > 0 ? argv[0] : "table-socketmap";
	if (api_init("table-socketmap", argc, argv) == -1)
		return 1;
	if ((table_socketmap = table_socketmap_load(api_conf_path())) == NULL)
		api_fatalx("%s: unusable configuration", api_conf_path());
	/* a server down now is retried at the first request */
	api_deadline_set(&dl, table_socketmap->timeout_ms);
	table_socketmap_connect(table_socketmap, &dl);
	table_api_on_update(table_socketmap_update);
	table_api_on_check(table_socketmap_check);
	table_api_on_lookup(table_socketmap_lookup);
	table_api_on_fetch(table_socketmap_fetch);
	return table_api_dispatch();
}
