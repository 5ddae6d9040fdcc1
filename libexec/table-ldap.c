/*
 * table-ldap.c -- table-ldap: a table helper backed by an LDAP
 * directory (OpenLDAP's libldap).
 *
 * Started by the daemon's lookup process as table-ldap <config>, it
 * answers the proc table protocol through api/table_api.c.  The config
 * has the keys of OpenSMTPD's table-ldap (url, username, password,
 * basedn, <service>_filter and <service>_attributes), each honoured,
 * plus starttls, tls_ca_file, query_timeout, fetch_source_expire and
 * fetch_source_refresh (table-ldap(5) lists the differences).  Filters
 * are templates (api/api_ldap.c): the key is escaped as RFC 4515 says,
 * so a key holding * ( ) or \ only ever matches itself.  Each request
 * has a deadline (query_timeout) that bounds connect, bind and search;
 * referrals are never chased.  A directory that is down, frozen,
 * refusing the bind or answering what a service cannot use costs a
 * temporary failure (-1) and a log line naming the table, and the next
 * attempt to connect waits for api_backoff.  Nothing here exits
 * because of the directory, and the password is never logged.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "smtpd-api.h"
#include "api_backoff.h"
#include "api_deadline.h"
#include "api_ldap.h"
#include "table_format.h"
#include "table_rotation.h"

#define TABLE_LDAP_SIZELIMIT	TABLE_ROTATION_MAX	/* entries */

/* the services a filter can express: all but regex */
#define TABLE_LDAP_SERVICES	(K_ANY & ~K_REGEX)

struct table_ldap_query {
	char		*filter;	/* a template; NULL: none */
	char		*attrs[API_LDAP_ATTRS_MAX + 1];
	size_t		 nattrs;
};

struct table_ldap {
	char			*url;		/* as libldap takes it */
	int			 starttls;
	char			*cafile;
	char			*binddn;	/* NULL: anonymous */
	char			*password;
	char			*basedn;
	struct table_ldap_query	 q[TABLE_FORMAT_NSERVICES];	/* by bit */
	int			 timeout_ms;
	LDAP			*ld;		/* NULL: not connected */
	struct ldap_conncb	 conncb;	/* bounds the TLS handshake */
	const struct api_deadline *dl;		/* of the connect under way */
	struct api_backoff	 backoff;
	struct table_rotation	 rotation;
};

static struct table_ldap	*table_ldap;
static const char		*table_ldap_name;

#define table_ldap_warnx(...) \
	table_format_warnx(table_ldap_name, "ldap: " __VA_ARGS__)

/* the accepted config keys: a filter and attributes per service (all
 * but regex, which no filter expresses), the connection, our extras */
static const char *const table_ldap_keys[] = {
	"url", "username", "password", "basedn", "starttls", "tls_ca_file",
	"query_timeout", "fetch_source_expire", "fetch_source_refresh",
	"alias_filter", "alias_attributes",
	"domain_filter", "domain_attributes",
	"credentials_filter", "credentials_attributes",
	"netaddr_filter", "netaddr_attributes",
	"userinfo_filter", "userinfo_attributes",
	"source_filter", "source_attributes",
	"mailaddr_filter", "mailaddr_attributes",
	"addrname_filter", "addrname_attributes",
	"mailaddrmap_filter", "mailaddrmap_attributes",
	"relayhost_filter", "relayhost_attributes",
	"string_filter", "string_attributes",
	NULL
};

/* table_ldap_disconnect - drop the connection, if any */
static void
table_ldap_disconnect(struct table_ldap *t)
{
	if (t->ld != NULL)
		ldap_unbind_ext_s(t->ld, NULL, NULL);
	t->ld = NULL;
}

/* table_ldap_free - the whole table */
static void
table_ldap_free(struct table_ldap **tp)
{
	struct table_ldap	*t = *tp;
	int			 i;

	if (t == NULL)
		return;
	table_ldap_disconnect(t);
	for (i = 0; i < TABLE_FORMAT_NSERVICES; i++) {
		free(t->q[i].filter);
		api_ldap_attrs_free(t->q[i].attrs);
	}
	if (t->password != NULL)
		explicit_bzero(t->password, strlen(t->password));
	free(t->password);
	free(t->url);
	free(t->cafile);
	free(t->binddn);
	free(t->basedn);
	table_rotation_clear(&t->rotation);
	free(t);
	*tp = NULL;
}

/* table_ldap_url - url as libldap takes it; ldap+tls:// is StartTLS
 * (the name OpenBSD's aldap gives it), a bare host is ldap://host */
static int
table_ldap_url(struct table_ldap *t, const char *path, const char *v)
{
	LDAPURLDesc	*lud;
	char		 url[1024];
	int		 n;

	if (strncmp(v, "ldap+tls://", 11) == 0) {
		t->starttls = 1;
		n = snprintf(url, sizeof url, "ldap://%s", v + 11);
	} else if (strstr(v, "://") == NULL)
		n = snprintf(url, sizeof url, "ldap://%s", v);
	else
		n = snprintf(url, sizeof url, "%s", v);
	if (n < 0 || (size_t)n >= sizeof url) {
		api_log_warnx("%s: url: too long", path);
		return -1;
	}
	if (ldap_url_parse(url, &lud) != LDAP_URL_SUCCESS) {
		api_log_warnx("%s: url: \"%s\" is not an LDAP URL", path, v);
		return -1;
	}
	ldap_free_urldesc(lud);
	return (t->url = strdup(url)) == NULL ? -1 : 0;
}

/* table_ldap_columns - attributes a service wants: 1 or its fields */
static int
table_ldap_columns_ok(enum table_service s, size_t n)
{
	return n == (size_t)table_format_columns(s) ||
	    (n == 1 && (s == K_CREDENTIALS || s == K_USERINFO));
}

/* table_ldap_query_conf - <service>_filter and _attributes of bit b */
static int
table_ldap_query_conf(struct table_ldap *t, struct dict *conf,
    const char *path, int b)
{
	enum table_service	 s = (enum table_service)(1 << b);
	struct table_ldap_query	*q = &t->q[b];
	char			 fkey[TABLE_FORMAT_KEY_MAX];
	char			 akey[TABLE_FORMAT_KEY_MAX], err[256];
	const char		*f, *a;

	snprintf(fkey, sizeof fkey, "%s_filter", table_service_name(s));
	snprintf(akey, sizeof akey, "%s_attributes", table_service_name(s));
	f = api_dict_get(conf, fkey);
	a = api_dict_get(conf, akey);
	if (f == NULL) {
		if (a != NULL) {
			api_log_warnx("%s: %s without %s", path, akey, fkey);
			return -1;
		}
		return 0;
	}
	if (api_ldap_filter_check(f, err, sizeof err) == -1) {
		api_log_warnx("%s: %s: %s", path, fkey, err);
		return -1;
	}
	if ((q->filter = strdup(f)) == NULL)
		return -1;
	if (a == NULL)
		return 0;	/* CHECK only */
	if (api_ldap_attrs_parse(a, q->attrs, &q->nattrs, err,
	    sizeof err) == -1) {
		api_log_warnx("%s: %s: %s", path, akey, err);
		return -1;
	}
	if (!table_ldap_columns_ok(s, q->nattrs)) {
		api_log_warnx("%s: %s: %zu attribute%s, %s wants %d", path,
		    akey, q->nattrs, q->nattrs > 1 ? "s" : "",
		    table_service_name(s), table_format_columns(s));
		return -1;
	}
	return 0;
}

/* table_ldap_strings - url, bind dn, password, basedn, TLS keys */
static int
table_ldap_strings(struct table_ldap *t, struct dict *conf, const char *path)
{
	const char	*v;

	if ((v = api_dict_get(conf, "url")) == NULL) {
		api_log_warnx("%s: no url", path);
		return -1;
	}
	if (table_ldap_url(t, path, v) == -1)
		return -1;
	if ((v = api_dict_get(conf, "basedn")) == NULL) {
		api_log_warnx("%s: no basedn", path);
		return -1;
	}
	if ((t->basedn = strdup(v)) == NULL)
		return -1;
	if ((v = api_dict_get(conf, "username")) != NULL &&
	    (t->binddn = strdup(v)) == NULL)
		return -1;
	if ((v = api_dict_get(conf, "password")) != NULL) {
		if (t->binddn == NULL) {
			api_log_warnx("%s: password without username", path);
			return -1;
		}
		if ((t->password = strdup(v)) == NULL)
			return -1;
	}
	if ((v = api_dict_get(conf, "starttls")) != NULL) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
			api_log_warnx("%s: starttls: yes or no, not \"%s\"",
			    path, v);
			return -1;
		}
		t->starttls |= strcmp(v, "yes") == 0;
	}
	if (t->starttls && strncmp(t->url, "ldap://", 7) != 0) {
		api_log_warnx("%s: starttls wants an ldap:// url", path);
		return -1;
	}
	if ((v = api_dict_get(conf, "tls_ca_file")) != NULL &&
	    (t->cafile = strdup(v)) == NULL)
		return -1;
	return 0;
}

/* table_ldap_load - read the config; an owned table, not connected */
static struct table_ldap *
table_ldap_load(const char *path)
{
	struct table_ldap	*t;
	struct dict		 conf;
	long long		 n, expire, refresh;
	int			 b;

	if (api_conf_load(path, table_ldap_keys, &conf) == -1)
		return NULL;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		api_log_warn("%s: calloc", path);
		goto fail;
	}
	api_backoff_init(&t->backoff, API_BACKOFF_MIN_MS, API_BACKOFF_MAX_MS);
	if (table_ldap_strings(t, &conf, path) == -1)
		goto fail;
	for (b = 0; b < TABLE_FORMAT_NSERVICES; b++)
		if (((1 << b) & TABLE_LDAP_SERVICES) &&
		    table_ldap_query_conf(t, &conf, path, b) == -1)
			goto fail;
	if (api_conf_number(&conf, path, "query_timeout", 1, 300,
	    TABLE_FORMAT_TIMEOUT, &n) == -1 ||
	    api_conf_number(&conf, path, "fetch_source_expire", 0, 86400,
	    TABLE_ROTATION_EXPIRE, &expire) == -1 ||
	    api_conf_number(&conf, path, "fetch_source_refresh", 0,
	    1000000000, TABLE_ROTATION_REFRESH, &refresh) == -1)
		goto fail;
	t->timeout_ms = (int)n * 1000;
	table_rotation_init(&t->rotation, expire, refresh);
	api_conf_free(&conf);
	return t;
fail:
	api_conf_free(&conf);
	table_ldap_free(&t);
	return NULL;
}

/* table_ldap_timeouts - bound libldap's waits by the deadline */
static void
table_ldap_timeouts(struct table_ldap *t, const struct api_deadline *dl)
{
	struct timeval	tv = api_deadline_timeval(dl);

	ldap_set_option(t->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(t->ld, LDAP_OPT_TIMEOUT, &tv);
}

/* table_ldap_why - a failed operation's reason, "no answer in time"
 * for a timeout so that operators grep one phrase */
static const char *
table_ldap_why(int rc, const struct api_deadline *dl)
{
	if (rc == LDAP_TIMEOUT || api_deadline_left(dl) == 0)
		return "no answer in time";
	return ldap_err2string(rc);
}

/*
 * The connection layer: while a connect is under way (t->dl set),
 * reads and writes that would block wait on the socket until the
 * deadline, then fail.  libldap 2.5 runs the TLS handshake of ldaps://
 * on a non-blocking socket and retries it without polling, so a server
 * that accepts and then sends nothing (frozen) would make the helper
 * spin for ever; below the TLS layer, this bounds it.
 */
static int
table_ldap_io_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	sbiod->sbiod_pvt = arg;
	return 0;
}

static int
table_ldap_io_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

/* table_ldap_io_wait - 1 when FD is ready before the connect deadline */
static int
table_ldap_io_wait(Sockbuf_IO_Desc *sbiod, int events)
{
	struct table_ldap	*t = sbiod->sbiod_pvt;
	ber_socket_t		 fd;

	if (t->dl == NULL)
		return 0;	/* connected: libldap polls itself */
	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 ||
	    api_deadline_wait(t->dl, fd, events) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 1;
}

static ber_slen_t
table_ldap_io_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	ber_slen_t	n;
	int		r;

	while ((n = LBER_SBIOD_READ_NEXT(sbiod, buf, len)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if ((r = table_ldap_io_wait(sbiod, API_DEADLINE_READ)) != 1) {
			if (r == 0)
				errno = EAGAIN;
			return -1;
		}
	}
	return n;
}

static ber_slen_t
table_ldap_io_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	ber_slen_t	n;
	int		r;

	while ((n = LBER_SBIOD_WRITE_NEXT(sbiod, buf, len)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if ((r = table_ldap_io_wait(sbiod, API_DEADLINE_WRITE)) != 1) {
			if (r == 0)
				errno = EAGAIN;
			return -1;
		}
	}
	return n;
}

static Sockbuf_IO table_ldap_io = {
	table_ldap_io_setup, NULL, table_ldap_io_ctrl, table_ldap_io_read,
	table_ldap_io_write, NULL
};

/* table_ldap_conn_add - libldap's connect callback: once TCP is up and
 * before TLS, our layer goes between the two */
static int
table_ldap_conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv,
    struct sockaddr *addr, struct ldap_conncb *cb)
{
	if (ber_sockbuf_add_io(sb, &table_ldap_io,
	    LBER_SBIOD_LEVEL_PROVIDER + 1, cb->lc_arg) == -1)
		table_ldap_warnx("cannot bound the connection's waits");
	return 0;
}

/* table_ldap_conn_del - the layer goes with the connection */
static void
table_ldap_conn_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *cb)
{
}

/* table_ldap_handle - a new handle with the options every one needs */
static int
table_ldap_handle(struct table_ldap *t, const struct api_deadline *dl)
{
	int	v3 = LDAP_VERSION3, rc, newctx = 0;

	if ((rc = ldap_initialize(&t->ld, t->url)) != LDAP_SUCCESS) {
		table_ldap_warnx("%s: %s", t->url, ldap_err2string(rc));
		t->ld = NULL;
		return 0;
	}
	ldap_set_option(t->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(t->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(t->ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
	table_ldap_timeouts(t, dl);
	t->conncb.lc_add = table_ldap_conn_add;
	t->conncb.lc_del = table_ldap_conn_del;
	t->conncb.lc_arg = t;
	ldap_set_option(t->ld, LDAP_OPT_CONNECT_CB, &t->conncb);
	if (t->cafile != NULL &&
	    (ldap_set_option(t->ld, LDAP_OPT_X_TLS_CACERTFILE,
	    t->cafile) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(t->ld, LDAP_OPT_X_TLS_NEWCTX, &newctx) !=
	    LDAP_OPT_SUCCESS)) {
		table_ldap_warnx("tls_ca_file %s: not usable", t->cafile);
		table_ldap_disconnect(t);
		return 0;
	}
	return 1;
}

/* table_ldap_bind - StartTLS if asked, then the bind (anonymous too,
 * so that an unreachable server shows here) */
static int
table_ldap_bind(struct table_ldap *t, const struct api_deadline *dl)
{
	struct berval	cred;
	int		rc;

	if (t->starttls &&
	    (rc = ldap_start_tls_s(t->ld, NULL, NULL)) != LDAP_SUCCESS) {
		table_ldap_warnx("connect to %s: StartTLS: %s", t->url,
		    table_ldap_why(rc, dl));
		return 0;
	}
	table_ldap_timeouts(t, dl);
	cred.bv_val = t->password ? t->password : "";
	cred.bv_len = t->password ? strlen(t->password) : 0;
	rc = ldap_sasl_bind_s(t->ld, t->binddn ? t->binddn : "",
	    LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return 1;
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
	    rc == LDAP_TIMEOUT || api_deadline_left(dl) == 0)
		table_ldap_warnx("connect to %s: %s", t->url,
		    table_ldap_why(rc, dl));
	else	/* never the password */
		table_ldap_warnx("bind as \"%s\" refused: %s",
		    t->binddn ? t->binddn : "", ldap_err2string(rc));
	return 0;
}

/* table_ldap_connect - handle, TLS, bind; backoff when it fails */
static int
table_ldap_connect(struct table_ldap *t, const struct api_deadline *dl)
{
	table_ldap_disconnect(t);
	t->dl = dl;
	if (table_ldap_handle(t, dl) && table_ldap_bind(t, dl)) {
		t->dl = NULL;
		api_backoff_succeeded(&t->backoff);
		return 1;
	}
	t->dl = NULL;
	table_ldap_disconnect(t);
	api_backoff_failed(&t->backoff);
	return 0;
}

/* table_ldap_search_once - one search on the open connection */
static int
table_ldap_search_once(struct table_ldap *t, const char *filter,
    char **attrs, const struct api_deadline *dl, LDAPMessage **res)
{
	struct timeval	tv = api_deadline_timeval(dl);

	table_ldap_timeouts(t, dl);
	*res = NULL;
	return ldap_search_ext_s(t->ld, t->basedn, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, TABLE_LDAP_SIZELIMIT, res);
}

/*
 * table_ldap_search - FILTER within one deadline: the result chain
 * (entries only; NULL when none), or -1 logged.  One retry on a
 * connection that broke since the last request.
 */
static int
table_ldap_search(struct table_ldap *t, const char *filter, char **attrs,
    LDAPMessage **res)
{
	struct api_deadline	dl;
	int			attempt, fresh, rc = LDAP_OTHER;

	api_deadline_set(&dl, t->timeout_ms);
	for (attempt = 0; attempt < 2; attempt++) {
		fresh = t->ld == NULL;
		if (fresh) {
			if (!api_backoff_due(&t->backoff)) {
				table_ldap_warnx("server unavailable, next "
				    "attempt in %d ms",
				    api_backoff_wait(&t->backoff));
				return -1;
			}
			if (!table_ldap_connect(t, &dl))
				return -1;
		}
		rc = table_ldap_search_once(t, filter, attrs, &dl, res);
		if (rc == LDAP_SUCCESS)
			return 0;
		ldap_msgfree(*res);
		*res = NULL;
		if (rc != LDAP_SERVER_DOWN || fresh)
			break;
		table_ldap_disconnect(t);	/* stale: once more */
	}
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ||
	    api_deadline_left(&dl) == 0 || rc == LDAP_CONNECT_ERROR)
		table_ldap_disconnect(t);	/* out of step or gone */
	table_ldap_warnx("search %s: %s%s", filter, table_ldap_why(rc, &dl),
	    rc == LDAP_REFERRAL ? " (referrals are not followed)" : "");
	return -1;
}

/* table_ldap_references - -1 logged when the result holds a search
 * reference (part of the answer lives elsewhere: not followed) */
static int
table_ldap_references(struct table_ldap *t, LDAPMessage *res,
    const char *filter)
{
	if (ldap_first_reference(t->ld, res) == NULL)
		return 0;
	table_ldap_warnx("search %s: the answer holds a referral, which is "
	    "not followed", filter);
	return -1;
}

/* table_ldap_run - the service's filter with KEY: the result, or -1 */
static int
table_ldap_run(int service, const char *key, int want_attrs,
    LDAPMessage **res, const struct table_ldap_query **qp)
{
	static char			*noattrs[] = { LDAP_NO_ATTRS, NULL };
	struct table_ldap		*t = table_ldap;
	const struct table_ldap_query	*q;
	char				 filter[API_LDAP_FILTER_MAX], err[256];
	int				 b;

	b = table_format_index((enum table_service)service);
	if (b == -1 || t->q[b].filter == NULL ||
	    (want_attrs && t->q[b].nattrs == 0)) {
		table_ldap_warnx("no %s for service %s", b != -1 &&
		    t->q[b].filter ? "attributes" : "filter",
		    table_service_name((enum table_service)service));
		return -1;
	}
	q = *qp = &t->q[b];
	if (api_ldap_filter_expand(q->filter, key, table_api_get_name(),
	    filter, sizeof filter, err, sizeof err) == -1) {
		table_ldap_warnx("%s: %s", table_service_name(
		    (enum table_service)service), err);
		return -1;
	}
	if (table_ldap_search(t, filter, want_attrs ?
	    (char **)q->attrs : noattrs, res) == -1)
		return -1;
	if (table_ldap_references(t, *res, filter) == -1) {
		ldap_msgfree(*res);
		return -1;
	}
	return 0;
}

/* table_ldap_check - CHECK: at least one entry matches */
static int
table_ldap_check(int service, struct dict *params, const char *key)
{
	const struct table_ldap_query	*q;
	LDAPMessage			*res;
	int				 n;

	if (table_ldap_run(service, key, 0, &res, &q) == -1)
		return -1;
	n = ldap_count_entries(table_ldap->ld, res);
	ldap_msgfree(res);
	return n > 0;
}

/* table_ldap_list - alias, mailaddrmap, source: every value of the
 * attribute in every entry, added by fn */
static int
table_ldap_list(LDAPMessage *res, const char *attr,
    int (*fn)(const struct table_field *, void *), void *arg)
{
	LDAP		 *ld = table_ldap->ld;
	LDAPMessage	 *e;
	struct berval	**v;
	struct table_field f;
	int		  i, n = 0;

	for (e = ldap_first_entry(ld, res); e != NULL;
	    e = ldap_next_entry(ld, e)) {
		if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
			continue;
		for (i = 0; v[i] != NULL; i++, n++) {
			f.data = v[i]->bv_val;
			f.len = v[i]->bv_len;
			if (fn(&f, arg) == -1) {
				ldap_value_free_len(v);
				return -1;
			}
		}
		ldap_value_free_len(v);
	}
	return n;
}

struct table_ldap_dst {
	enum table_service	 service;
	char			*dst;
	size_t			 sz;
	char			 err[256];
};

/* table_ldap_list_add - one more element of a list value */
static int
table_ldap_list_add(const struct table_field *f, void *arg)
{
	struct table_ldap_dst	*d = arg;

	return table_format_list_add(f, d->dst, d->sz, d->err, sizeof d->err);
}

/* table_ldap_record - the last entry holding every attribute, the
 * first value of each (as OpenSMTPD's table-ldap does): 1, 0 or -1 */
static int
table_ldap_record(LDAPMessage *res, const struct table_ldap_query *q,
    struct table_ldap_dst *d)
{
	LDAP		 *ld = table_ldap->ld;
	LDAPMessage	 *e;
	struct berval	**v[API_LDAP_ATTRS_MAX], **keep[API_LDAP_ATTRS_MAX];
	struct table_field f[API_LDAP_ATTRS_MAX];
	size_t		  i, have;
	int		  entries = 0, r;

	memset(keep, 0, sizeof keep);
	for (e = ldap_first_entry(ld, res); e != NULL;
	    e = ldap_next_entry(ld, e), entries++) {
		for (i = have = 0; i < q->nattrs; i++)
			if ((v[i] = ldap_get_values_len(ld, e, q->attrs[i])) !=
			    NULL && v[i][0] != NULL)
				have++;
		for (i = 0; i < q->nattrs; i++) {
			if (have == q->nattrs) {
				if (keep[i] != NULL)
					ldap_value_free_len(keep[i]);
				keep[i] = v[i];
			} else if (v[i] != NULL)
				ldap_value_free_len(v[i]);
		}
	}
	if (entries == 0)
		return 0;
	if (keep[0] == NULL) {
		snprintf(d->err, sizeof d->err, "no entry holds every "
		    "attribute of %s", table_service_name(d->service));
		return -1;
	}
	for (i = 0; i < q->nattrs; i++) {
		f[i].data = keep[i][0]->bv_val;
		f[i].len = keep[i][0]->bv_len;
	}
	r = table_format_record(d->service, f, q->nattrs, d->dst, d->sz,
	    d->err, sizeof d->err) == -1 ? -1 : 1;
	for (i = 0; i < q->nattrs; i++)
		ldap_value_free_len(keep[i]);
	return r;
}

/* table_ldap_lookup - LOOKUP */
static int
table_ldap_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	const struct table_ldap_query	*q;
	struct table_ldap_dst		 d;
	LDAPMessage			*res;
	int				 r;

	dst[0] = '\0';
	if (table_ldap_run(service, key, 1, &res, &q) == -1)
		return -1;
	memset(&d, 0, sizeof d);
	d.service = (enum table_service)service;
	d.dst = dst;
	d.sz = sz;
	if (table_format_is_list(d.service)) {
		r = table_ldap_list(res, q->attrs[0], table_ldap_list_add, &d);
		r = r > 0 ? 1 : r;
	} else
		r = table_ldap_record(res, q, &d);
	ldap_msgfree(res);
	if (r == -1) {
		table_ldap_warnx("%s: %s", table_service_name(d.service),
		    d.err);
		dst[0] = '\0';
	}
	return r;
}

struct table_ldap_sources {
	struct table_field	*f;
	size_t			 n;
	char			**keep;	/* copies: the values are freed */
};

/* table_ldap_source_add - one more source address, copied */
static int
table_ldap_source_add(const struct table_field *f, void *arg)
{
	struct table_ldap_sources	*s = arg;
	char				*copy;

	if (s->n == TABLE_ROTATION_MAX || (copy = malloc(f->len + 1)) == NULL)
		return -1;
	memcpy(copy, f->data, f->len);
	copy[f->len] = '\0';
	s->keep[s->n] = copy;
	s->f[s->n].data = copy;
	s->f[s->n].len = f->len;
	s->n++;
	return 0;
}

/* table_ldap_reload_sources - source_filter's values into the rotation */
static int
table_ldap_reload_sources(struct table_ldap *t)
{
	const struct table_ldap_query	*q;
	struct table_ldap_sources	 s;
	LDAPMessage			*res;
	char				 err[256];
	size_t				 i;
	int				 ret = -1;

	if (table_ldap_run(K_SOURCE, "", 1, &res, &q) == -1)
		return -1;
	memset(&s, 0, sizeof s);
	if ((s.f = calloc(TABLE_ROTATION_MAX, sizeof *s.f)) == NULL ||
	    (s.keep = calloc(TABLE_ROTATION_MAX, sizeof *s.keep)) == NULL)
		goto done;
	if (table_ldap_list(res, q->attrs[0], table_ldap_source_add,
	    &s) == -1) {
		table_ldap_warnx("source: too many values");
		goto done;
	}
	if ((ret = table_rotation_load(&t->rotation, s.f, s.n, err,
	    sizeof err)) == -1)
		table_ldap_warnx("source: %s", err);
done:
	for (i = 0; i < s.n; i++)
		free(s.keep[i]);
	free(s.keep);
	free(s.f);
	ldap_msgfree(res);
	return ret;
}

/* table_ldap_fetch - FETCH source: the next value in turn */
static int
table_ldap_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	struct table_ldap	*t = table_ldap;

	if (service != K_SOURCE) {
		table_ldap_warnx("fetch of %s: only source is listed",
		    table_service_name((enum table_service)service));
		return -1;
	}
	if (table_rotation_due(&t->rotation) &&
	    table_ldap_reload_sources(t) == -1)
		return -1;
	return table_rotation_next(&t->rotation, dst, sz);
}

/* table_ldap_update - UPDATE: reload the config and bind with it; on
 * any failure the previous configuration and connection stay */
static int
table_ldap_update(void)
{
	struct table_ldap	*t;
	struct api_deadline	 dl;

	if ((t = table_ldap_load(api_conf_path())) == NULL) {
		table_ldap_warnx("%s: reload failed, keeping the previous "
		    "configuration", api_conf_path());
		return 0;
	}
	api_deadline_set(&dl, t->timeout_ms);
	if (!table_ldap_connect(t, &dl)) {
		table_ldap_warnx("reload failed, keeping the previous "
		    "configuration");
		table_ldap_free(&t);
		return 0;
	}
	table_ldap_free(&table_ldap);
	table_ldap = t;
	return 1;
}

int
main(int argc, char *argv[])
{
	struct api_deadline	dl;

	table_ldap_name = argc > 0 ? argv[0] : "table-ldap";
	if (api_init("table-ldap", argc, argv) == -1)
		return 1;
	if ((table_ldap = table_ldap_load(api_conf_path())) == NULL)
		api_fatalx("%s: unusable configuration", api_conf_path());
	/* a directory down now is retried at the first request */
	api_deadline_set(&dl, table_ldap->timeout_ms);
	table_ldap_connect(table_ldap, &dl);
	table_api_on_update(table_ldap_update);
	table_api_on_check(table_ldap_check);
	table_api_on_lookup(table_ldap_lookup);
	table_api_on_fetch(table_ldap_fetch);
	return table_api_dispatch();
}
