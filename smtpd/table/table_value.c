/*
 * table_value.c -- parsers of the values a table returns.
 *
 * Every user of a table (expansion, auth, userbase, relaying, rules)
 * parses what it gets back with these functions, and the table layer
 * runs them on every returned value first, so that a malformed value is
 * a temporary failure with a logged reason instead of a wrong delivery
 * (libexec-protocols.md 4.6).  Values come from files and helpers:
 * outside input.  Every copy is bounded and checked for truncation;
 * nothing here logs, allocates or exits.  Each parser returns 0, or -1
 * with a reason in err.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define TABLE_ID_MAX	4294967294ULL	/* (uid_t)-1 is not an id */

/* table_value_error - format a reason, return -1 */
static int
table_value_error(char *err, size_t errsz, const char *what)
{
	if (errsz > 0)
		snprintf(err, errsz, "%s", what);
	return -1;
}

/* table_parse_credentials - "user:password" (or the key is the user) */
int
table_parse_credentials(const char *key, const char *value,
    struct table_credentials *c, char *err, size_t errsz)
{
	const char	*colon;
	size_t		 len = strlen(value), ulen;

	memset(c, 0, sizeof *c);
	if (len < 3 || len >= TABLE_PASSWORD_MAX)
		return table_value_error(err, errsz,
		    "credentials must be 3 to 2047 characters");
	colon = strchr(value, ':');
	if (colon == NULL) {
		if (key == NULL || key[0] == '\0')
			return table_value_error(err, errsz,
			    "credentials without a user name");
		if (strlcpy(c->username, key, sizeof c->username) >=
		    sizeof c->username)
			return table_value_error(err, errsz,
			    "user name too long");
		(void)strlcpy(c->password, value, sizeof c->password);
		return 0;
	}
	ulen = (size_t)(colon - value);
	if (ulen == 0 || colon[1] == '\0')
		return table_value_error(err, errsz,
		    "empty user name or password");
	if (ulen >= sizeof c->username)
		return table_value_error(err, errsz, "user name too long");
	memcpy(c->username, value, ulen);
	c->username[ulen] = '\0';
	(void)strlcpy(c->password, colon + 1, sizeof c->password);
	return 0;
}

/* table_parse_id - a decimal uid or gid ending at ':' */
static int
table_parse_id(const char *s, unsigned long long *id, const char **end)
{
	unsigned long long	v = 0;
	const char		*p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > TABLE_ID_MAX)
			return -1;
	}
	if (*p != ':')
		return -1;
	*id = v;
	*end = p + 1;
	return 0;
}

/* table_parse_userinfo - "uid:gid:directory" */
int
table_parse_userinfo(const char *value, struct table_userinfo *u,
    char *err, size_t errsz)
{
	unsigned long long	 uid, gid;
	const char		*p;

	memset(u, 0, sizeof *u);
	if (table_parse_id(value, &uid, &p) == -1)
		return table_value_error(err, errsz, "userinfo: bad uid");
	if (table_parse_id(p, &gid, &p) == -1)
		return table_value_error(err, errsz, "userinfo: bad gid");
	if (*p == '\0')
		return table_value_error(err, errsz,
		    "userinfo: empty directory");
	if (strlcpy(u->directory, p, sizeof u->directory) >=
	    sizeof u->directory)
		return table_value_error(err, errsz,
		    "userinfo: directory too long");
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	return 0;
}

/* table_parse_source - an IP literal for relay src: v4, [ipv6:]v6[%s] */
int
table_parse_source(const char *value, struct table_netaddr *n, char *err,
    size_t errsz)
{
	struct addrinfo		 hints, *res = NULL;
	const char		*p = value;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;

	memset(n, 0, sizeof *n);
	if (strncasecmp(p, "ipv6:", 5) == 0)
		p += 5;
	if (*p == '\0' || strlen(p) > INET6_ADDRSTRLEN + IF_NAMESIZE)
		return table_value_error(err, errsz,
		    "source: not an IP address");
	memset(&hints, 0, sizeof hints);
	hints.ai_family = p == value ? AF_UNSPEC : AF_INET6;
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(p, NULL, &hints, &res) != 0 || res == NULL)
		return table_value_error(err, errsz,
		    "source: not an IP address");
	if (res->ai_family == AF_INET) {
		sin = (const struct sockaddr_in *)res->ai_addr;
		n->family = AF_INET;
		n->bits = 32;
		memcpy(n->addr, &sin->sin_addr, 4);
	} else {
		sin6 = (const struct sockaddr_in6 *)res->ai_addr;
		n->family = AF_INET6;
		n->bits = 128;
		n->scope = sin6->sin6_scope_id;
		memcpy(n->addr, &sin6->sin6_addr, 16);
	}
	freeaddrinfo(res);
	return 0;
}

/* table_value_is_hostchar - characters of a name, `*` for patterns */
static int
table_value_is_hostchar(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*' ||
	    c == ':' || c == '[' || c == ']';
}

/* table_parse_hostname - a host or domain name (addrname, domain) */
int
table_parse_hostname(const char *value, char *err, size_t errsz)
{
	size_t	i, len = strlen(value);

	if (len == 0 || len >= TABLE_DOMAIN_MAX)
		return table_value_error(err, errsz,
		    "host name empty or too long");
	for (i = 0; i < len; i++)
		if (!table_value_is_hostchar((unsigned char)value[i]))
			return table_value_error(err, errsz,
			    "invalid character in host name");
	return 0;
}

/* table_value_is_userchar - a local part: atext and dots */
static int
table_value_is_userchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.",
	    c) != NULL);
}

/* table_parse_mailaddr - "user@domain" (last @), "@domain" or "user" */
int
table_parse_mailaddr(const char *value, struct mailaddr *m,
    char *err, size_t errsz)
{
	const char	*at;
	size_t		 ulen, i;

	memset(m, 0, sizeof *m);
	if (value[0] == '\0')
		return table_value_error(err, errsz, "empty address");
	at = strrchr(value, '@');
	ulen = at != NULL ? (size_t)(at - value) : strlen(value);
	if (ulen >= sizeof m->user)
		return table_value_error(err, errsz, "user part too long");
	for (i = 0; i < ulen; i++)
		if (!table_value_is_userchar((unsigned char)value[i]) &&
		    value[i] != '@')
			return table_value_error(err, errsz,
			    "invalid character in user part");
	memcpy(m->user, value, ulen);
	m->user[ulen] = '\0';
	if (at == NULL || at[1] == '\0')
		return 0;
	if (table_parse_hostname(at + 1, err, errsz) == -1)
		return -1;
	(void)strlcpy(m->domain, at + 1, sizeof m->domain);
	return 0;
}

/* table_value_trim - copy of [s, e) without surrounding blanks */
static void
table_value_trim(char *s)
{
	size_t	len = strlen(s), i = 0;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, len - i + 1);
}

/*
 * table_split_list - call CB for each element of a comma list.  A
 * backslash escapes the next character; "..." and '...' quote commas.
 * Quotes and escaping backslashes are removed, blanks around elements
 * trimmed, empty elements skipped.  CB returns 0 or -1 (stop, error).
 */
int
table_split_list(const char *value, int (*cb)(const char *, void *),
    void *arg, char *err, size_t errsz)
{
	char		 elem[TABLE_LINE_MAX];
	const char	*p;
	size_t		 n = 0;
	char		 quote = '\0';

	for (p = value;; p++) {
		if (*p == '\0' || (*p == ',' && quote == '\0')) {
			if (quote != '\0')
				return table_value_error(err, errsz,
				    "unterminated quote in list");
			elem[n] = '\0';
			table_value_trim(elem);
			if (elem[0] != '\0' && cb(elem, arg) == -1)
				return -1;
			n = 0;
			if (*p == '\0')
				return 0;
			continue;
		}
		if (*p == '\\') {
			if (*++p == '\0')
				return table_value_error(err, errsz,
				    "backslash at the end of a list");
		} else if (quote == '\0' && (*p == '"' || *p == '\'')) {
			quote = *p;
			continue;
		} else if (*p == quote) {
			quote = '\0';
			continue;
		}
		if (n + 1 >= sizeof elem)
			return table_value_error(err, errsz,
			    "list element too long");
		elem[n++] = *p;
	}
}

/* table_parse_alias_error - "error:NNN message", NNN 4xx or 5xx */
static int
table_parse_alias_error(const char *s, struct table_alias *a, char *err,
    size_t errsz)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || (s[0] != '4' && s[0] != '5') ||
	    (s[3] != '\0' && s[3] != ' '))
		return table_value_error(err, errsz,
		    "alias error: needs a 4xx or 5xx code");
	a->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (strlcpy(a->text, s[3] ? s + 4 : "", sizeof a->text) >=
	    sizeof a->text)
		return table_value_error(err, errsz, "alias error too long");
	a->kind = TABLE_ALIAS_ERROR;
	return 0;
}

/* table_parse_alias - one expansion element of an alias list */
int
table_parse_alias(const char *e, struct table_alias *a, char *err,
    size_t errsz)
{
	size_t	i;

	memset(a, 0, sizeof *a);
	if (strncasecmp(e, "error:", 6) == 0)
		return table_parse_alias_error(e + 6, a, err, errsz);
	if (strncasecmp(e, ":include:", 9) == 0) {
		a->kind = TABLE_ALIAS_INCLUDE;
		e += 9;
		if (*e != '/')
			return table_value_error(err, errsz,
			    ":include: needs an absolute path");
	} else if (e[0] == '|') {
		a->kind = TABLE_ALIAS_COMMAND;
		e++;
		if (*e == '\0')
			return table_value_error(err, errsz, "empty command");
	} else if (e[0] == '/')
		a->kind = TABLE_ALIAS_FILENAME;
	else if (strchr(e, '@') != NULL) {
		a->kind = TABLE_ALIAS_ADDRESS;
		if (table_parse_mailaddr(e, &a->addr, err, errsz) == -1)
			return -1;
		if (a->addr.user[0] == '\0' || a->addr.domain[0] == '\0')
			return table_value_error(err, errsz,
			    "address needs a user and a domain");
		return 0;
	} else {
		a->kind = TABLE_ALIAS_USERNAME;
		for (i = 0; e[i] != '\0'; i++)
			if (!table_value_is_userchar((unsigned char)e[i]))
				return table_value_error(err, errsz,
				    "invalid character in user name");
		if (strlcpy(a->addr.user, e, sizeof a->addr.user) >=
		    sizeof a->addr.user)
			return table_value_error(err, errsz,
			    "user name too long");
		return 0;
	}
	if (strlcpy(a->text, e, sizeof a->text) >= sizeof a->text)
		return table_value_error(err, errsz, "alias element too long");
	return 0;
}

static const char *table_relay_schemes[] = {
	"smtp", "smtp+tls", "smtp+notls", "smtps", "lmtp",
	"smtp+auth", "smtps+auth", "tls", "tls+auth",
};

/* table_parse_relayhost - [scheme://][label@]host[:port] */
int
table_parse_relayhost(const char *value, struct table_relayhost *r,
    char *err, size_t errsz)
{
	const char	*p = value, *sep, *at, *close, *colon;
	size_t		 i, len;
	long		 port;
	char		*end;

	memset(r, 0, sizeof *r);
	if ((sep = strstr(p, "://")) != NULL) {
		len = (size_t)(sep - p);
		for (i = 0; i < sizeof table_relay_schemes /
		    sizeof table_relay_schemes[0]; i++)
			if (strlen(table_relay_schemes[i]) == len &&
			    strncasecmp(p, table_relay_schemes[i], len) == 0)
				break;
		if (i == sizeof table_relay_schemes /
		    sizeof table_relay_schemes[0])
			return table_value_error(err, errsz,
			    "relayhost: unknown scheme");
		memcpy(r->scheme, p, len);
		r->scheme[len] = '\0';
		p = sep + 3;
	} else
		(void)strlcpy(r->scheme, "smtp", sizeof r->scheme);
	if ((at = strchr(p, '@')) != NULL) {
		len = (size_t)(at - p);
		if (len == 0 || len >= sizeof r->label)
			return table_value_error(err, errsz,
			    "relayhost: bad label");
		for (i = 0; i < len; i++)
			if (!isalnum((unsigned char)p[i]) &&
			    strchr("-_.+", p[i]) == NULL)
				return table_value_error(err, errsz,
				    "relayhost: bad label");
		memcpy(r->label, p, len);
		r->label[len] = '\0';
		p = at + 1;
	}
	if (*p == '[') {
		if ((close = strchr(p, ']')) == NULL)
			return table_value_error(err, errsz,
			    "relayhost: missing ]");
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return table_value_error(err, errsz,
			    "relayhost: junk after ]");
		len = (size_t)(close - p + 1);
	} else {
		colon = strchr(p, ':');
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
	}
	if (len == 0 || len >= sizeof r->host)
		return table_value_error(err, errsz,
		    "relayhost: bad host");
	memcpy(r->host, p, len);
	r->host[len] = '\0';
	if (table_parse_hostname(r->host, err, errsz) == -1 ||
	    strchr(r->host, '*') != NULL)
		return table_value_error(err, errsz, "relayhost: bad host");
	if (colon != NULL) {
		errno = 0;
		if (!isdigit((unsigned char)colon[1]))
			return table_value_error(err, errsz,
			    "relayhost: bad port");
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
			return table_value_error(err, errsz,
			    "relayhost: bad port");
		r->port = (int)port;
	}
	return 0;
}

/* table_value_check_alias - list callback: one alias element */
static int
table_value_check_alias(const char *element, void *arg)
{
	struct table_alias	a;
	char			*err = arg;

	return table_parse_alias(element, &a, err, 256);
}

/* table_value_check_mailaddr - list callback: one mailaddr element */
static int
table_value_check_mailaddr(const char *element, void *arg)
{
	struct mailaddr	m;
	char			*err = arg;

	return table_parse_mailaddr(element, &m, err, 256);
}

/* table_value_count - list callback: count elements */
static int
table_value_count(const char *element, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

/* table_parse_value - does a looked-up VALUE of SERVICE for KEY parse */
int
table_parse_value(enum table_service service, const char *key,
    const char *value, char *err, size_t errsz)
{
	struct table_credentials	*c;
	struct table_userinfo		 u;
	struct table_netaddr		 n;
	struct mailaddr		 m;
	struct table_relayhost		 r;
	char				 e[256];
	size_t				 count = 0;
	int				 ret;

	switch (service) {
	case K_ALIAS:
	case K_MAILADDRMAP:
		e[0] = '\0';
		if (table_split_list(value, service == K_ALIAS ?
		    table_value_check_alias : table_value_check_mailaddr, e,
		    err, errsz) == -1) {
			if (e[0] != '\0')
				snprintf(err, errsz, "%s", e);
			return -1;
		}
		(void)table_split_list(value, table_value_count, &count,
		    err, errsz);
		if (count == 0)
			return table_value_error(err, errsz, "empty list");
		return 0;
	case K_CREDENTIALS:
		/* 4 KiB: kept off the stack of deep callers */
		if ((c = malloc(sizeof *c)) == NULL)
			return table_value_error(err, errsz, "out of memory");
		ret = table_parse_credentials(key, value, c, err, errsz);
		explicit_bzero(c, sizeof *c);
		free(c);
		return ret;
	case K_USERINFO:
		return table_parse_userinfo(value, &u, err, errsz);
	case K_NETADDR:
		if (strcmp(value, "local") == 0)
			return 0;
		return table_parse_netaddr(value, &n, err, errsz);
	case K_SOURCE:
		return table_parse_source(value, &n, err, errsz);
	case K_MAILADDR:
		return table_parse_mailaddr(value, &m, err, errsz);
	case K_DOMAIN:
	case K_ADDRNAME:
		return table_parse_hostname(value, err, errsz);
	case K_RELAYHOST:
		return table_parse_relayhost(value, &r, err, errsz);
	default:
		return 0;
	}
}
