/*
 * conf_parse.c -- the modern smtpd.conf grammar (OpenSMTPD 6.4 to 7.x):
 * macros, include, tables, pki/ca, global options, filters, listeners,
 * actions and match rules, with every parse-time check.
 *
 * A hand-written recursive descent parser over conf_lex.c tokens; runs in
 * parent and `smtpd -n`.  Each statement is one line.  A syntax error
 * unwinds (longjmp) to the statement loop, which skips to the next line;
 * semantic errors are reported and the parse goes on, so one run shows
 * every independent error.  Names must be declared before use.  Legacy
 * statements are handed to conf_legacy.c.  Never fatal() on input.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"

#ifndef PATH_SMTPD_LIBEXEC
#define PATH_SMTPD_LIBEXEC	"/usr/local/libexec/smtpd"
#endif

/* conf_verror - print one "FILE:LINE: message" */
static void
conf_verror(struct conf_parser *p, const char *file, int line,
    const char *prefix, const char *fmt, va_list ap)
{
	if (p->errors == NULL)
		return;
	if (line > 0)
		fprintf(p->errors, "%s:%d: %s", file, line, prefix);
	else
		fprintf(p->errors, "%s: %s", file, prefix);
	vfprintf(p->errors, fmt, ap);
	fputc('\n', p->errors);
}

/* conf_error - report a semantic error of the current statement */
void
conf_error(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_verror(p, p->stmt_file ? p->stmt_file : p->lastfile, line, "",
	    fmt, ap);
	va_end(ap);
	if (++p->nerrors >= CONF_ERRORS_MAX)
		conf_fatal(p, "%s: too many errors, giving up",
		    p->stmt_file ? p->stmt_file : p->lastfile);
}

/* conf_warn - report something suspicious that is not an error */
void
conf_warn(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list	ap;

	if (p->trusted)
		return;
	va_start(ap, fmt);
	conf_verror(p, p->stmt_file ? p->stmt_file : p->lastfile, line,
	    "warning: ", fmt, ap);
	va_end(ap);
}

/* conf_syntax - report at the current token and skip the statement */
void
conf_syntax(struct conf_parser *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_verror(p, p->lastfile, p->lastline, "syntax error: ", fmt, ap);
	va_end(ap);
	if (++p->nerrors >= CONF_ERRORS_MAX)
		conf_fatal(p, "%s: too many errors, giving up", p->lastfile);
	longjmp(p->recover, 1);
}

/* conf_fatal - report and abandon the whole parse */
void
conf_fatal(struct conf_parser *p, const char *fmt, ...)
{
	va_list	ap;

	if (p->errors != NULL) {
		va_start(ap, fmt);
		vfprintf(p->errors, fmt, ap);
		va_end(ap);
		fputc('\n', p->errors);
	}
	p->nerrors++;
	longjmp(p->abort, 1);
}

/* conf_tok_desc - a token for messages */
static const char *
conf_tok_desc(struct conf_tok *t, char *buf, size_t size)
{
	switch (t->type) {
	case T_EOF:	return "end of file";
	case T_NL:	return "end of line";
	case T_LBRACE:	return "'{'";
	case T_RBRACE:	return "'}'";
	case T_LT:	return "'<'";
	case T_GT:	return "'>'";
	case T_BANG:	return "'!'";
	case T_COMMA:	return "','";
	case T_EQ:	return "'='";
	case T_ARROW:	return "'=>'";
	default:
		snprintf(buf, size, "%s'%.40s%s'", t->type == T_QSTR ?
		    "string " : "", t->s, t->len > 40 ? "..." : "");
		return buf;
	}
}

/* conf_unexpected - syntax error naming what was expected */
void
conf_unexpected(struct conf_parser *p, struct conf_tok *t, const char *want)
{
	char	buf[64];

	conf_syntax(p, "expected %s, got %s", want,
	    conf_tok_desc(t, buf, sizeof(buf)));
}

int
conf_peek_kw(struct conf_parser *p, const char *kw)
{
	struct conf_tok	*t = conf_peek(p);

	return t->type == T_WORD && strcmp(t->s, kw) == 0;
}

int
conf_accept_kw(struct conf_parser *p, const char *kw)
{
	if (!conf_peek_kw(p, kw))
		return 0;
	conf_next(p);
	return 1;
}

void
conf_expect_kw(struct conf_parser *p, const char *kw)
{
	char	want[64];

	if (conf_accept_kw(p, kw))
		return;
	snprintf(want, sizeof(want), "'%s'", kw);
	conf_unexpected(p, conf_next(p), want);
}

/* conf_expect_nl - the statement must end here */
void
conf_expect_nl(struct conf_parser *p, const char *after)
{
	struct conf_tok	*t = conf_peek(p);
	char		 want[128];

	if (t->type == T_NL || t->type == T_EOF) {
		if (t->type == T_NL)
			conf_next(p);
		return;
	}
	snprintf(want, sizeof(want), "end of line after %s", after);
	conf_unexpected(p, conf_next(p), want);
}

/* conf_expect_string - a word or quoted string that is not a keyword */
char *
conf_expect_string(struct conf_parser *p, const char *what)
{
	struct conf_tok	*t = conf_next(p);

	if (t->type == T_WORD && conf_is_reserved(t->s))
		conf_syntax(p, "expected %s, got keyword '%s' (quote it to "
		    "use it as a name)", what, t->s);
	if (t->type != T_WORD && t->type != T_QSTR)
		conf_unexpected(p, t, what);
	return conf_strndup(p->a, t->s, t->len);
}

/* conf_expect_value - a word (keywords allowed) or quoted string */
char *
conf_expect_value(struct conf_parser *p, const char *what)
{
	struct conf_tok	*t = conf_next(p);

	if (t->type != T_WORD && t->type != T_QSTR)
		conf_unexpected(p, t, what);
	return conf_strndup(p->a, t->s, t->len);
}

/* conf_parse_number - S as an integer in [min, max], -1 when it is not */
static int
conf_parse_number(const char *s, long long min, long long max,
    long long *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || !(isdigit((unsigned char)*s) || *s == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

long long
conf_expect_number(struct conf_parser *p, const char *what,
    long long min, long long max)
{
	struct conf_tok	*t = conf_next(p);
	long long	 v;

	if (t->type != T_WORD && t->type != T_QSTR)
		conf_unexpected(p, t, what);
	if (conf_parse_number(t->s, min, max, &v) == -1) {
		conf_error(p, t->line, "invalid %s: %s", what, t->s);
		return min;
	}
	return v;
}

/* conf_parse_delay - "4d" etc. to seconds, -1 when invalid */
static long long
conf_parse_delay(const char *s)
{
	long long	 v, mult;
	char		*end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	if (v <= 0 || v > LLONG_MAX / mult / 2)
		return -1;
	return v * mult;
}

long long
conf_expect_delay(struct conf_parser *p, const char *what)
{
	struct conf_tok	*t = conf_next(p);
	long long	 v;

	if (t->type != T_WORD && t->type != T_QSTR)
		conf_unexpected(p, t, "a delay (e.g. 4h)");
	if ((v = conf_parse_delay(t->s)) == -1) {
		conf_error(p, t->line, "invalid %s delay: %s", what, t->s);
		return 1;
	}
	return v;
}

/* conf_parse_size - "35M" etc. to bytes, -1 when invalid */
static long long
conf_parse_size(const char *s)
{
	static const char	 units[] = "KMGTPE";
	const char		*u;
	long long		 v;
	char			*end;
	int			 shift;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0')
		return v;
	if (end[1] != '\0' && !(end[1] == 'B' && end[2] == '\0'))
		return -1;
	if ((u = strchr(units, toupper((unsigned char)*end))) == NULL ||
	    *end == '\0')
		return -1;
	shift = 10 * (int)(u - units + 1);
	if (shift >= 62 || v > (LLONG_MAX >> shift))
		return -1;
	return v << shift;
}

/* conf_parse_port - a number or a well-known service name, -1 if bad */
static int
conf_parse_port(const char *s)
{
	static const struct { const char *name; int port; } svc[] = {
		{ "smtp", 25 }, { "smtps", 465 }, { "submissions", 465 },
		{ "submission", 587 }, { "lmtp", 24 }, { NULL, 0 }
	};
	long long	v;
	int		i;

	for (i = 0; svc[i].name != NULL; i++)
		if (strcmp(svc[i].name, s) == 0)
			return svc[i].port;
	if (conf_parse_number(s, 1, 65535, &v) == -1)
		return -1;
	return (int)v;
}

/* ---- tables ---------------------------------------------------------- */

static const struct {
	const char	*name;
	int		 list_ok;
	int		 map_ok;
} conf_svc_info[] = {
	[SVC_ALIAS] =		{ "alias", 0, 1 },
	[SVC_USERINFO] =	{ "userinfo", 0, 1 },
	[SVC_CREDENTIALS] =	{ "credentials", 0, 1 },
	[SVC_MAILADDRMAP] =	{ "mailaddrmap", 0, 1 },
	[SVC_ADDRNAME] =	{ "addrname", 0, 1 },
	[SVC_SOURCE] =		{ "source", 1, 1 },
	[SVC_RELAYHOST] =	{ "relayhost", 1, 0 },
	[SVC_RELAYMAP] =	{ "relayhost", 0, 1 },
	[SVC_NETADDR] =		{ "netaddr", 1, 0 },
	[SVC_DOMAIN] =		{ "domain", 1, 0 },
	[SVC_MAILADDR] =	{ "mailaddr", 1, 1 },
	[SVC_AUTH] =		{ "auth", 1, 1 },
	[SVC_STRING] =		{ "string", 1, 0 },
	[SVC_REGEX] =		{ "regex", 1, 0 },
};

/* conf_table_add_entry - append KEY [= VALUE] to an inline table */
static void
conf_table_add_entry(struct conf_parser *p, struct conf_table *t,
    char *key, char *value)
{
	struct conf_table_entry	*ne;

	if (t->nentries == 0 || (t->nentries >= 4 &&
	    (t->nentries & (t->nentries - 1)) == 0)) {
		ne = conf_alloc(p->a, (t->nentries == 0 ? 4 :
		    t->nentries * 2) * sizeof(*ne));
		if (t->nentries)
			memcpy(ne, t->entries, t->nentries * sizeof(*ne));
		t->entries = ne;
	}
	t->entries[t->nentries].key = key;
	t->entries[t->nentries].value = value;
	t->nentries++;
}

/* conf_skip_nl - newlines allowed inside braces (7.5+) */
static struct conf_tok *
conf_skip_nl(struct conf_parser *p)
{
	while (conf_peek(p)->type == T_NL)
		conf_next(p);
	return conf_peek(p);
}

/* conf_parse_inline - the body of { ... } after the opening brace */
static void
conf_parse_inline(struct conf_parser *p, struct conf_table *t)
{
	struct conf_tok	*n;
	char		*key, *value;
	int		 ismap;

	t->backend = "inline";
	for (;;) {
		n = conf_skip_nl(p);
		if (n->type == T_RBRACE) {
			conf_next(p);
			break;
		}
		if (n->type == T_EOF)
			conf_syntax(p, "unterminated '{' table");
		key = conf_expect_string(p, "a table value");
		value = NULL;
		n = conf_peek(p);
		if (n->type == T_EQ || n->type == T_ARROW) {
			conf_next(p);
			value = conf_expect_string(p, "a table value");
		}
		ismap = value != NULL;
		if (t->nentries > 0 && ismap != (t->kind == CONF_TABLE_MAP))
			conf_syntax(p, "a table holds either values or "
			    "key = value pairs, not both");
		t->kind = ismap ? CONF_TABLE_MAP : CONF_TABLE_LIST;
		conf_table_add_entry(p, t, key, value);
		n = conf_skip_nl(p);
		if (n->type == T_COMMA)
			conf_next(p);
	}
	if (t->nentries == 0)
		conf_syntax(p, "empty table");
}

/* conf_table_single - anonymous one-element list */
struct conf_table *
conf_table_single(struct conf_parser *p, const char *value)
{
	struct conf_table	*t;

	t = conf_alloc(p->a, sizeof(*t));
	t->backend = "inline";
	t->kind = CONF_TABLE_LIST;
	t->single = 1;
	conf_table_add_entry(p, t, conf_strdup(p->a, value), NULL);
	return t;
}

/* conf_peek_table - does a table operand follow */
int
conf_peek_table(struct conf_parser *p)
{
	struct conf_tok	*t = conf_peek(p);

	if (t->type == T_LT || t->type == T_LBRACE || t->type == T_QSTR)
		return 1;
	if (t->type != T_WORD || conf_is_reserved(t->s))
		return 0;
	return strcmp(t->s, "certificate") && strcmp(t->s, "mask-source") &&
	    strcmp(t->s, "secure") && strcmp(t->s, "ssl") &&
	    strcmp(t->s, "deliver") && strcmp(t->s, "expire") &&
	    strcmp(t->s, "sender") && strcmp(t->s, "tagged") &&
	    strcmp(t->s, "authenticated");
}

/* conf_parse_tables - <name>, { ... } or a single string, fit for SVC */
struct conf_table *
conf_parse_tables(struct conf_parser *p, enum conf_svc svc)
{
	struct conf_table	*t;
	struct conf_tok		*n;
	char			*name;
	int			 line;

	n = conf_next(p);
	line = n->line;
	if (n->type == T_LT) {
		name = conf_expect_string(p, "a table name");
		if ((n = conf_next(p))->type != T_GT)
			conf_unexpected(p, n, "'>'");
		if ((t = conf_table_find(p->conf, name)) == NULL) {
			conf_error(p, line, "no such table: %s", name);
			t = conf_alloc(p->a, sizeof(*t));
			t->name = name;
			t->backend = "missing";
			t->kind = CONF_TABLE_ANY;
			return t;
		}
	} else if (n->type == T_LBRACE) {
		t = conf_alloc(p->a, sizeof(*t));
		conf_parse_inline(p, t);
	} else if (n->type == T_WORD || n->type == T_QSTR) {
		if (n->type == T_WORD && conf_is_reserved(n->s))
			conf_syntax(p, "expected a table, got keyword '%s'",
			    n->s);
		t = conf_table_single(p, n->s);
	} else
		conf_unexpected(p, n, "a table (<name>, { ... } or a value)");

	if ((t->kind == CONF_TABLE_LIST && !conf_svc_info[svc].list_ok) ||
	    (t->kind == CONF_TABLE_MAP && !conf_svc_info[svc].map_ok)) {
		if (t->name)
			conf_error(p, line, "table \"%s\" may not be used for "
			    "%s lookups", t->name, conf_svc_info[svc].name);
		else
			conf_error(p, line, "this %s may not be used for %s "
			    "lookups", t->kind == CONF_TABLE_MAP ? "mapping" :
			    "list", conf_svc_info[svc].name);
	}
	return t;
}

/* conf_check_regex - compile every inline entry of a regex table */
static void
conf_check_regex(struct conf_parser *p, struct conf_table *t, int line)
{
	regex_t		 re;
	const char	*s;
	size_t		 i;
	int		 flags;

	for (i = 0; i < t->nentries; i++) {
		s = t->entries[i].key;
		flags = REG_EXTENDED | REG_NOSUB;
		if (strncmp(s, "(?i)", 4) == 0) {
			s += 4;
			flags |= REG_ICASE;
		}
		if (regcomp(&re, s, flags) != 0) {
			conf_error(p, line, "invalid regular expression: %s",
			    t->entries[i].key);
			continue;
		}
		regfree(&re);
	}
}

/* conf_check_netaddr - every inline entry is an address or a CIDR */
void
conf_check_netaddr(struct conf_parser *p, struct conf_table *t, int line)
{
	unsigned char	 buf[16];
	char		 addr[64], *slash;
	const char	*s;
	long long	 bits;
	size_t		 i, n;
	int		 v6;

	for (i = 0; i < t->nentries; i++) {
		s = t->entries[i].key;
		if (strcmp(s, "local") == 0)
			continue;
		if (*s == '[') {
			s++;
			n = strcspn(s, "]");
		} else
			n = strcspn(s, "/");
		if (n >= sizeof(addr))
			goto bad;
		memcpy(addr, s, n);
		addr[n] = '\0';
		slash = strchr(s + n, '/');
		if (strncmp(addr, "ipv6:", 5) == 0)
			memmove(addr, addr + 5, strlen(addr + 5) + 1);
		v6 = inet_pton(AF_INET6, addr, buf) == 1;
		if (!v6 && inet_pton(AF_INET, addr, buf) != 1)
			goto bad;
		if (slash && conf_parse_number(slash + 1, 0, v6 ? 128 : 32,
		    &bits) == -1)
			goto bad;
		continue;
	bad:
		conf_error(p, line, "invalid network address: %s",
		    t->entries[i].key);
	}
}

/* conf_table_scan - list or mapping of a file table; -1 when unusable */
static int
conf_table_scan(struct conf_parser *p, struct conf_table *t, int line)
{
	FILE	*fp;
	char	 buf[CONF_LINE_MAX + 2], *s, *e;
	int	 n = 0, kind = -1, bad = 0;
	size_t	 len;

	if ((fp = fopen(t->config, "r")) == NULL) {
		conf_error(p, line, "table %s: cannot open %s: %s", t->name,
		    t->config, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		n++;
		len = strlen(buf);
		if (len > CONF_LINE_MAX) {
			conf_error(p, line, "table %s: %s line %d too long",
			    t->name, t->config, n);
			bad = 1;
			break;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		s = buf + strspn(buf, " \t");
		for (e = s + strlen(s); e > s && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			*--e = '\0', e++;
		if (*s == '#') {
			if (kind == -1 && strcmp(s, "# @list") == 0)
				kind = CONF_TABLE_LIST;
			continue;
		}
		if (*s == '\0')
			continue;
		if (kind == -1)
			kind = s[strcspn(s, " \t:")] != '\0' ?
			    CONF_TABLE_MAP : CONF_TABLE_LIST;
		if (kind == CONF_TABLE_MAP) {
			s += strcspn(s, " \t:");
			s += strspn(s, " \t:");
			if (*s == '\0') {
				conf_error(p, line, "table %s: invalid map "
				    "entry line %d of %s", t->name, n,
				    t->config);
				bad = 1;
				break;
			}
		}
	}
	fclose(fp);
	if (bad)
		return -1;
	t->kind = kind == -1 ? CONF_TABLE_MAP : kind;
	return 0;
}

/* conf_backend_known - is NAME a table backend we can run */
static int
conf_backend_known(struct conf_parser *p, const char *name)
{
	static const char *const helpers[] = {
		"sqlite", "postgres", "mysql", "redis", "ldap", "socketmap",
		"passwd", "python", "proc", NULL
	};
	char	path[PATH_MAX];
	int	i;

	for (i = 0; helpers[i] != NULL; i++)
		if (strcmp(helpers[i], name) == 0)
			return 1;
	if (p->trusted)
		return 1;
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
	    strlen(name))
		return 0;
	snprintf(path, sizeof(path), "%s/table-%s", PATH_SMTPD_LIBEXEC, name);
	return access(path, X_OK) == 0;
}

/* conf_parse_table - table NAME ( BACKEND[:CONFIG] | "/path" | { ... } ) */
static void
conf_parse_table(struct conf_parser *p, int line)
{
	struct conf_table	*t;
	struct conf_tok		*n;
	char			*name, *spec, *colon;
	int			 quoted;

	name = conf_expect_string(p, "a table name");
	t = conf_alloc(p->a, sizeof(*t));
	t->name = name;
	if (conf_peek(p)->type == T_LBRACE) {
		conf_next(p);
		conf_parse_inline(p, t);
		conf_expect_nl(p, "the table");
		goto add;
	}
	n = conf_peek(p);
	quoted = n->type == T_QSTR;
	spec = conf_expect_string(p, "a table backend or \"/path\"");
	conf_expect_nl(p, "the table");
	t->kind = CONF_TABLE_ANY;
	if (quoted && spec[0] == '/') {
		t->backend = "file";
		t->config = spec;
	} else if ((colon = strchr(spec, ':')) != NULL) {
		*colon = '\0';
		t->backend = spec;
		t->config = colon + 1;
	} else
		t->backend = spec;
	if (strcmp(t->backend, "static") == 0)
		t->backend = "file";
	if (!p->trusted && t->config && t->config[0] != '/' &&
	    (strcmp(t->backend, "file") == 0 ||
	    strcmp(t->backend, "db") == 0)) {
		conf_error(p, line, "table %s: path must be absolute: %s",
		    name, t->config);
		goto add;
	}
	if (strcmp(t->backend, "file") == 0) {
		if (t->config == NULL && !p->trusted)
			conf_error(p, line, "table %s: file: needs a path",
			    name);
		else if (!p->trusted)
			conf_table_scan(p, t, line);
	} else if (strcmp(t->backend, "db") == 0) {
		if (t->config == NULL && !p->trusted)
			conf_error(p, line, "table %s: db: needs a path", name);
		else if (!p->trusted && access(t->config, R_OK) == -1)
			conf_error(p, line, "table %s: cannot open %s: %s",
			    name, t->config, strerror(errno));
	} else if (strcmp(t->backend, "getpwnam") == 0) {
		t->kind = CONF_TABLE_MAP;
	} else if (!conf_backend_known(p, t->backend))
		conf_error(p, line, "table backend \"%s\" does not exist",
		    t->backend);
add:
	if (conf_table_find(p->conf, name) != NULL) {
		conf_error(p, line, "table %s already defined", name);
		return;
	}
	conf_push(p->a, &p->conf->tables, &p->conf->ntables, t);
}

/* ---- pki, ca ----------------------------------------------------------- */

struct conf_pki *
conf_pki_get(struct conf_parser *p, const char *name, int create)
{
	struct conf_pki	*k;
	size_t		 i;

	for (i = 0; i < p->conf->npkis; i++)
		if (strcmp(p->conf->pkis[i]->name, name) == 0)
			return p->conf->pkis[i];
	if (!create)
		return NULL;
	k = conf_alloc(p->a, sizeof(*k));
	k->name = conf_strdup(p->a, name);
	conf_push(p->a, &p->conf->pkis, &p->conf->npkis, k);
	return k;
}

struct conf_ca *
conf_ca_get(struct conf_parser *p, const char *name, int create)
{
	struct conf_ca	*c;
	size_t		 i;

	for (i = 0; i < p->conf->ncas; i++)
		if (strcmp(p->conf->cas[i]->name, name) == 0)
			return p->conf->cas[i];
	if (!create)
		return NULL;
	c = conf_alloc(p->a, sizeof(*c));
	c->name = conf_strdup(p->a, name);
	conf_push(p->a, &p->conf->cas, &p->conf->ncas, c);
	return c;
}

/* conf_parse_pki - pki NAME { cert F | key F | dhe P }, legacy words too */
static void
conf_parse_pki(struct conf_parser *p, int line)
{
	struct conf_pki	*k;
	struct conf_ca	*ca;
	char		*name, *v;
	int		 any = 0;

	name = conf_expect_string(p, "a pki name");
	k = conf_pki_get(p, name, 0);
	for (;;) {
		if (conf_accept_kw(p, "cert") ||
		    (conf_peek_kw(p, "certificate") && conf_next(p) &&
		    (conf_mode_mark(p, 1, line, "pki certificate"), 1))) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			k->cert = conf_expect_string(p, "a certificate path");
		} else if (conf_accept_kw(p, "key")) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			k->key = conf_expect_string(p, "a key path");
		} else if (conf_accept_kw(p, "dhe")) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			v = conf_expect_string(p, "none, auto or legacy");
			if (strcmp(v, "none") && strcmp(v, "auto") &&
			    strcmp(v, "legacy"))
				conf_error(p, line, "invalid dhe value: %s", v);
			k->dhe = v;
		} else if (conf_accept_kw(p, "ca")) {
			/* 5.4: pki H ca F -> ca H cert F */
			conf_mode_mark(p, 1, line, "pki ca");
			ca = conf_ca_get(p, name, 1);
			ca->cert = conf_expect_string(p, "a CA file path");
			conf_push(p->a, &p->legacy_cas, &p->nlegacy_cas, ca);
		} else if (conf_accept_kw(p, "dhparams")) {
			conf_mode_mark(p, 1, line, "pki dhparams");
			conf_expect_string(p, "a dhparams path");
			conf_warn(p, line, "pki dhparams ignored, use "
			    "\"pki %s dhe auto\"", name);
		} else
			break;
		any = 1;
	}
	if (!any)
		conf_unexpected(p, conf_next(p), "cert, key or dhe");
	conf_expect_nl(p, "the pki");
}

/* conf_parse_ca - ca NAME cert FILE */
static void
conf_parse_ca(struct conf_parser *p, int line)
{
	char	*name;

	name = conf_expect_string(p, "a ca name");
	if (!conf_accept_kw(p, "cert")) {
		conf_expect_kw(p, "certificate");
		conf_mode_mark(p, 1, line, "ca certificate");
	}
	conf_ca_get(p, name, 1)->cert = conf_expect_string(p,
	    "a CA file path");
	conf_expect_nl(p, "the ca");
}

/* ---- global options ---------------------------------------------------- */

/* conf_limit_set - KEY N of one of the fixed limit families */
static int
conf_limit_set(struct smtpd_conf *c, const char *which, const char *key,
    long long v)
{
#define X(field, k, def) if (strcmp(key, k) == 0) { s->field = v; return 0; }
	if (strcmp(which, "mda") == 0) {
		struct conf_mda_limits *s = &c->mda_limits;
		CONF_MDA_LIMITS(X)
	} else if (strcmp(which, "scheduler") == 0) {
		struct conf_scheduler_limits *s = &c->scheduler_limits;
		CONF_SCHEDULER_LIMITS(X)
	} else if (strcmp(which, "smtp") == 0) {
		struct conf_smtp_limits *s = &c->smtp_limits;
		CONF_SMTP_LIMITS(X)
	}
#undef X
	return -1;
}

/* conf_mta_key - the canonical spelling of an mta limit key, or NULL */
static const char *
conf_mta_key(const char *key)
{
#define X(field, k, def) if (strcmp(key, k) == 0) return k;
	CONF_MTA_LIMITS(X)
#undef X
	if (strcmp(key, "inet4") == 0)
		return "inet4";
	if (strcmp(key, "inet6") == 0)
		return "inet6";
	return NULL;
}

/* conf_parse_global_limit - the KEY N list after "<which> limit" */
void
conf_parse_global_limit(struct conf_parser *p, const char *which)
{
	struct conf_mta_limit	*l;
	struct conf_tok		*t;
	const char		*key;
	char			*domain = NULL, *k;
	long long		 v;
	int			 n = 0, line;

	if (strcmp(which, "mta") == 0 && conf_accept_kw(p, "for")) {
		conf_expect_kw(p, "domain");
		domain = conf_expect_string(p, "a domain");
	}
	for (;;) {
		t = conf_peek(p);
		if (t->type == T_NL || t->type == T_EOF)
			break;
		line = t->line;
		k = conf_expect_value(p, "a limit keyword");
		n++;
		if (strcmp(which, "mta") == 0) {
			if ((key = conf_mta_key(k)) == NULL) {
				conf_error(p, line, "invalid mta limit "
				    "keyword: %s", k);
				conf_expect_value(p, "a number");
				continue;
			}
			v = 0;
			if (strcmp(key, "inet4") && strcmp(key, "inet6"))
				v = conf_expect_number(p, "limit value", 0,
				    LLONG_MAX / 2);
			l = conf_alloc(p->a, sizeof(*l));
			if (p->conf->nmta_limits == 0 ||
			    (p->conf->nmta_limits >= 4 &&
			    (p->conf->nmta_limits &
			    (p->conf->nmta_limits - 1)) == 0)) {
				l = conf_alloc(p->a, (p->conf->nmta_limits ?
				    p->conf->nmta_limits * 2 : 4) * sizeof(*l));
				if (p->conf->nmta_limits)
					memcpy(l, p->conf->mta_limits,
					    p->conf->nmta_limits * sizeof(*l));
				p->conf->mta_limits = l;
			}
			l = &p->conf->mta_limits[p->conf->nmta_limits++];
			l->domain = domain;
			l->key = key;
			l->value = v;
			continue;
		}
		v = conf_expect_number(p, "limit value", 0, LLONG_MAX / 2);
		if (conf_limit_set(p->conf, which, k, v) == -1)
			conf_error(p, line, "invalid %s limit keyword: %s",
			    which, k);
	}
	if (n == 0)
		conf_unexpected(p, conf_next(p), "a limit keyword");
}

/* conf_parse_global - admd, bounce, mda, mta, queue, scheduler, smtp, srs */
void
conf_parse_global(struct conf_parser *p, const char *kw, const char *sub,
    int line)
{
	struct smtpd_conf	*c = p->conf;
	struct conf_wrapper	*w;
	long long		 v;
	size_t			 i;
	char			*s;

	if (sub == NULL && strcmp(kw, "admd") != 0)
		sub = conf_expect_value(p, "an option name");
	if (strcmp(kw, "admd") == 0) {
		s = conf_expect_string(p, "an authserv-id");
		for (i = 0; s[i]; i++)
			if (!isprint((unsigned char)s[i]) || s[i] == ' ')
				break;
		if (s[i] != '\0' || i == 0)
			conf_error(p, line, "admd must be printable "
			    "characters without spaces");
		c->admd = s;
	} else if (strcmp(kw, "bounce") == 0) {
		if (strcmp(sub, "warn-interval"))
			conf_syntax(p, "unknown bounce option '%s'", sub);
		c->nbounce_warn = 0;
		do {
			v = conf_expect_delay(p, "warn-interval");
			if (c->nbounce_warn < CONF_BOUNCE_WARN_MAX)
				c->bounce_warn[c->nbounce_warn++] = v;
			else
				conf_warn(p, line, "only %d warn-interval "
				    "values are kept", CONF_BOUNCE_WARN_MAX);
		} while (conf_peek(p)->type == T_COMMA && conf_next(p));
	} else if (strcmp(kw, "mda") == 0) {
		if (strcmp(sub, "limit") == 0)
			conf_parse_global_limit(p, "mda");
		else {
			if (strcmp(sub, "wrapper"))
				conf_syntax(p, "unknown mda option '%s'", sub);
			w = conf_alloc(p->a, sizeof(*w));
			w->name = conf_expect_string(p, "a wrapper name");
			w->command = conf_expect_string(p, "a command");
			for (i = 0; i < c->nwrappers; i++)
				if (strcmp(c->wrappers[i]->name, w->name) == 0)
					break;
			if (i < c->nwrappers)
				conf_error(p, line, "mda wrapper already "
				    "declared with that name: %s", w->name);
			else
				conf_push(p->a, &c->wrappers, &c->nwrappers, w);
		}
	} else if (strcmp(kw, "mta") == 0) {
		if (strcmp(sub, "max-deferred") == 0)
			c->mta_max_deferred = conf_expect_number(p,
			    "max-deferred", 0, INT_MAX);
		else {
			if (strcmp(sub, "limit"))
				conf_syntax(p, "unknown mta option '%s'", sub);
			conf_parse_global_limit(p, "mta");
		}
	} else if (strcmp(kw, "queue") == 0) {
		if (strcmp(sub, "compression") == 0)
			c->queue_compression = 1;
		else if (strcmp(sub, "ttl") == 0)
			c->queue_ttl = conf_expect_delay(p, "ttl");
		else {
			if (strcmp(sub, "encryption"))
				conf_syntax(p, "unknown queue option '%s'",
				    sub);
			c->queue_encryption = 1;
			c->queue_key = NULL;
			if (conf_accept_kw(p, "key"))
				conf_mode_mark(p, 1, line,
				    "queue encryption key");
			if (conf_peek(p)->type == T_WORD ||
			    conf_peek(p)->type == T_QSTR) {
				s = conf_expect_value(p, "a key");
				if (strcmp(s, "-") == 0)
					s = "stdin";
				if (strcmp(s, "stdin") && strlen(s) != 32)
					conf_error(p, line, "invalid key for "
					    "queue encryption (need 32 "
					    "characters)");
				c->queue_key = conf_strdup(p->a, s);
			}
		}
	} else if (strcmp(kw, "scheduler") == 0) {
		if (strcmp(sub, "limit"))
			conf_syntax(p, "unknown scheduler option '%s'", sub);
		conf_parse_global_limit(p, "scheduler");
	} else if (strcmp(kw, "smtp") == 0) {
		if (strcmp(sub, "limit") == 0)
			conf_parse_global_limit(p, "smtp");
		else if (strcmp(sub, "ciphers") == 0)
			c->smtp_ciphers = conf_expect_string(p, "a cipher list");
		else if (strcmp(sub, "max-message-size") == 0) {
			s = conf_expect_value(p, "a size");
			if ((v = conf_parse_size(s)) < 0)
				conf_error(p, line, "invalid size: %s", s);
			else
				c->max_message_size = v;
		} else {
			if (strcmp(sub, "sub-addr-delim"))
				conf_syntax(p, "unknown smtp option '%s'", sub);
			s = conf_expect_value(p, "one character");
			if (strlen(s) != 1 || !isprint((unsigned char)s[0]) ||
			    s[0] == ' ' || s[0] == '@')
				conf_error(p, line, "sub-addr-delim uses "
				    "invalid character");
			else
				c->sub_addr_delim = s[0];
		}
	} else if (strcmp(kw, "srs") == 0) {
		if (strcmp(sub, "ttl") == 0) {
			v = conf_expect_delay(p, "ttl");
			if (v < 86400)
				conf_error(p, line, "ttl delay %llds is too "
				    "short (at least 1d)", v);
			c->srs_ttl = v / 86400 * 86400;
		} else {
			if (strcmp(sub, "key"))
				conf_syntax(p, "unknown srs option '%s'", sub);
			if (conf_accept_kw(p, "backup"))
				c->srs_key_backup = conf_expect_string(p,
				    "a key");
			else
				c->srs_key = conf_expect_string(p, "a key");
		}
	}
	conf_expect_nl(p, kw);
}

/* ---- filters ------------------------------------------------------------ */

static struct conf_filter *
conf_filter_find(struct smtpd_conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nfilters; i++)
		if (strcmp(c->filters[i]->name, name) == 0)
			return c->filters[i];
	return NULL;
}

static struct conf_proc *
conf_proc_find(struct smtpd_conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nprocs; i++)
		if (strcmp(c->procs[i]->name, name) == 0)
			return c->procs[i];
	return NULL;
}

/* conf_parse_proc_params - { user U | group G | chroot DIR } */
static void
conf_parse_proc_params(struct conf_parser *p, struct conf_proc *pr)
{
	for (;;) {
		if (conf_accept_kw(p, "user") && !pr->user)
			pr->user = conf_expect_string(p, "a user name");
		else if (conf_accept_kw(p, "group") && !pr->group)
			pr->group = conf_expect_string(p, "a group name");
		else if (conf_accept_kw(p, "chroot") && !pr->chroot)
			pr->chroot = conf_expect_string(p, "a directory");
		else
			return;
	}
}

/* conf_check_chain - members exist, are no chains, repeat no process */
static void
conf_check_chain(struct conf_parser *p, struct conf_filter_ref *r, int line)
{
	struct conf_filter	*f, *g;
	size_t			 i, j;

	for (i = 0; i < r->nnames; i++) {
		if ((f = conf_filter_find(p->conf, r->names[i])) == NULL) {
			conf_error(p, line, "no filter exist with that name: "
			    "%s", r->names[i]);
			continue;
		}
		if (f->type == CONF_FILTER_CHAIN && r->inline_chain)
			conf_error(p, line, "no filter chain allowed within a "
			    "filter chain: %s", f->name);
		for (j = 0; j < i; j++) {
			if (strcmp(r->names[j], r->names[i]) == 0)
				conf_error(p, line, "filter %s appears twice "
				    "in a chain", f->name);
			else if (f->type == CONF_FILTER_PROC &&
			    (g = conf_filter_find(p->conf, r->names[j])) &&
			    g->type == CONF_FILTER_PROC &&
			    strcmp(f->proc, g->proc) == 0)
				conf_error(p, line, "filters %s and %s of a "
				    "chain use the same proc", g->name,
				    f->name);
		}
	}
}

/* conf_parse_filter_list - "{ a, b }" after the brace, or one name */
static void
conf_parse_filter_ref(struct conf_parser *p, struct conf_filter_ref *r,
    int chain_only, int line)
{
	struct conf_tok	*n;

	if (r->nnames)
		conf_syntax(p, "filter already specified");
	if (!chain_only && conf_peek(p)->type != T_LBRACE) {
		conf_push(p->a, &r->names, &r->nnames,
		    conf_expect_string(p, "a filter name"));
		conf_check_chain(p, r, line);
		return;
	}
	if ((n = conf_next(p))->type != T_LBRACE)
		conf_unexpected(p, n, "'{'");
	r->inline_chain = 1;
	for (;;) {
		n = conf_skip_nl(p);
		if (n->type == T_RBRACE && r->nnames > 0) {
			conf_next(p);
			break;
		}
		conf_push(p->a, &r->names, &r->nnames,
		    conf_expect_string(p, "a filter name"));
		n = conf_skip_nl(p);
		if (n->type == T_COMMA)
			conf_next(p);
	}
	conf_check_chain(p, r, line);
}

static const char *const conf_phase_names[] = {
	"connect", "helo", "ehlo", "auth", "mail-from", "rcpt-to", "data",
	"commit", NULL
};

/* conf_parse_filter_phase - phase P match [!]COND DECISION */
static void
conf_parse_filter_phase(struct conf_parser *p, struct conf_filter *f,
    int line)
{
	static const char *const conds[] = { "fcrdns", "rdns", "src", "helo",
	    "auth", "mail-from", "rcpt-to", NULL };
	static const char *const decisions[] = { "bypass", "junk", "reject",
	    "disconnect", "rewrite", "report", NULL };
	/* conditions allowed per phase, bit i = conds[i] */
	static const unsigned allowed[] = { 0x07, 0x0f, 0x0f, 0x1f, 0x3f,
	    0x7f, 0x3f, 0x3f };
	const char	*kw;
	char		*s;
	int		 i;

	kw = conf_expect_value(p, "a filter phase");
	for (i = 0; conf_phase_names[i] && strcmp(conf_phase_names[i], kw);
	    i++)
		;
	if (conf_phase_names[i] == NULL)
		conf_syntax(p, "invalid filter phase: %s", kw);
	f->phase = (enum conf_phase)i;
	conf_expect_kw(p, "match");
	if (conf_peek(p)->type == T_BANG) {
		conf_next(p);
		f->negate = 1;
	}
	kw = conf_expect_value(p, "a filter condition");
	for (i = 0; conds[i] && strcmp(conds[i], kw); i++)
		;
	if (conds[i] == NULL)
		conf_syntax(p, "invalid filter condition: %s", kw);
	f->cond = (enum conf_fcond)i;
	if (!(allowed[f->phase] & (1u << i)))
		conf_error(p, line, "filter condition %s not allowed in phase "
		    "%s", kw, conf_phase_names[f->phase]);
	if (f->cond != CONF_FCOND_FCRDNS) {
		if (conf_accept_kw(p, "regex"))
			f->regex = 1;
		if (f->regex || f->cond == CONF_FCOND_SRC ||
		    f->cond == CONF_FCOND_HELO ||
		    f->cond == CONF_FCOND_MAIL_FROM ||
		    f->cond == CONF_FCOND_RCPT_TO || conf_peek_table(p)) {
			f->table = conf_parse_tables(p, f->regex ? SVC_REGEX :
			    f->cond == CONF_FCOND_SRC ? SVC_NETADDR :
			    f->cond == CONF_FCOND_RDNS ||
			    f->cond == CONF_FCOND_HELO ? SVC_DOMAIN :
			    f->cond == CONF_FCOND_AUTH ? SVC_AUTH :
			    SVC_MAILADDR);
			if (f->regex)
				conf_check_regex(p, f->table, line);
		}
	}
	kw = conf_expect_value(p, "a filter decision");
	for (i = 0; decisions[i] && strcmp(decisions[i], kw); i++)
		;
	if (decisions[i] == NULL)
		conf_syntax(p, "invalid filter decision: %s", kw);
	f->decision = (enum conf_decision)i;
	if (f->decision == CONF_DECISION_JUNK &&
	    f->phase == CONF_PHASE_COMMIT)
		conf_error(p, line, "junk is not allowed at commit");
	if (f->decision >= CONF_DECISION_REJECT) {
		s = conf_expect_string(p, "a message");
		if ((f->decision == CONF_DECISION_REJECT ||
		    f->decision == CONF_DECISION_DISCONNECT) &&
		    ((s[0] != '4' && s[0] != '5') ||
		    !isdigit((unsigned char)s[1]) ||
		    !isdigit((unsigned char)s[2]) ||
		    (s[3] != ' ' && s[3] != '\0')))
			conf_error(p, line, "invalid response, it must start "
			    "with a 4xx or 5xx code: %s", s);
		f->message = s;
	}
}

/* conf_parse_filter - filter NAME ( proc | proc-exec | phase | chain ) */
static void
conf_parse_filter(struct conf_parser *p, int line)
{
	struct conf_filter	*f;
	struct conf_tok		*t;

	f = conf_alloc(p->a, sizeof(*f));
	f->name = conf_expect_string(p, "a filter name");
	t = conf_peek(p);
	if (t->type == T_QSTR)
		conf_syntax(p, "legacy in-process filters are not supported");
	if (conf_accept_kw(p, "proc")) {
		f->type = CONF_FILTER_PROC;
		f->proc = conf_expect_string(p, "a proc name");
		if (conf_proc_find(p->conf, f->proc) == NULL)
			conf_error(p, line, "no processor exist with that "
			    "name: %s", f->proc);
	} else if (conf_accept_kw(p, "proc-exec")) {
		f->type = CONF_FILTER_PROC_EXEC;
		f->exec.name = f->name;
		f->exec.command = conf_expect_string(p, "a command");
		conf_parse_proc_params(p, &f->exec);
	} else if (conf_accept_kw(p, "phase")) {
		f->type = CONF_FILTER_PHASE;
		conf_parse_filter_phase(p, f, line);
	} else if (conf_accept_kw(p, "chain")) {
		f->type = CONF_FILTER_CHAIN;
		conf_parse_filter_ref(p, &f->chain, 1, line);
	} else
		conf_unexpected(p, conf_next(p),
		    "proc, proc-exec, phase or chain");
	conf_expect_nl(p, "the filter");
	if (conf_filter_find(p->conf, f->name) != NULL) {
		conf_error(p, line, "filter already exists with that name: %s",
		    f->name);
		return;
	}
	conf_push(p->a, &p->conf->filters, &p->conf->nfilters, f);
}

/* conf_parse_proc - proc NAME "COMMAND" [user U] [group G] [chroot D] */
static void
conf_parse_proc(struct conf_parser *p, int line)
{
	struct conf_proc	*pr;

	pr = conf_alloc(p->a, sizeof(*pr));
	pr->name = conf_expect_string(p, "a proc name");
	pr->command = conf_expect_string(p, "a command");
	conf_parse_proc_params(p, pr);
	conf_expect_nl(p, "the proc");
	if (conf_proc_find(p->conf, pr->name) != NULL ||
	    conf_filter_find(p->conf, pr->name) != NULL) {
		conf_error(p, line, "processor already exists with that name: "
		    "%s", pr->name);
		return;
	}
	conf_push(p->a, &p->conf->procs, &p->conf->nprocs, pr);
}

/* ---- listen ------------------------------------------------------------- */

/* conf_listen_kind - what the name after "listen on" designates */
static int
conf_listen_kind(struct conf_parser *p, struct conf_listener *l, int line)
{
	unsigned char	buf[16];

	if (inet_pton(AF_INET, l->on, buf) == 1 ||
	    inet_pton(AF_INET6, l->on, buf) == 1)
		l->kind = CONF_LISTEN_ADDRESS;
	else if (strcmp(l->on, "all") == 0 || strcmp(l->on, "egress") == 0 ||
	    strcmp(l->on, "localhost") == 0 || strcmp(l->on, "lo0") == 0)
		l->kind = CONF_LISTEN_GROUP;
	else if (p->trusted || if_nametoindex(l->on) != 0)
		l->kind = CONF_LISTEN_IFACE;
	else if (strchr(l->on, '.') != NULL)
		l->kind = CONF_LISTEN_HOST;
	else {
		conf_error(p, line, "invalid listen address or interface: %s",
		    l->on);
		return -1;
	}
	return 0;
}

/* conf_add_listener - checks common to both grammars, then keep it */
void
conf_add_listener(struct conf_parser *p, struct conf_listener *l, int line)
{
	struct conf_pki	*k;
	size_t		 i;

	for (i = 0; i < l->npki && !p->trusted; i++) {
		k = conf_pki_get(p, l->pki[i], 0);
		if (k == NULL)
			conf_error(p, line, "pki name not found: %s",
			    l->pki[i]);
		else if (k->cert == NULL || k->key == NULL)
			conf_error(p, line, "pki %s needs both cert and key",
			    k->name);
	}
	if (l->ca && conf_ca_get(p, l->ca, 0) == NULL)
		conf_error(p, line, "ca name not found: %s", l->ca);
	if (l->npki && l->tls == CONF_TLS_NONE)
		conf_error(p, line, "pki requires tls/smtps");
	if (!l->npki && l->tls != CONF_TLS_NONE)
		conf_error(p, line, "pki required for tls/smtps");
	if (l->auth != CONF_AUTH_NONE && l->tls == CONF_TLS_NONE)
		conf_error(p, line, "auth requires tls/smtps");
	conf_push(p->a, &p->conf->listeners, &p->conf->nlisteners, l);
}

/* conf_listen_once - refuse a second occurrence of an option */
static void
conf_listen_once(struct conf_parser *p, unsigned *seen, int bit,
    const char *what, int line)
{
	if (*seen & (1u << bit))
		conf_error(p, line, "%s already specified", what);
	*seen |= 1u << bit;
}

/* conf_parse_listen - listen on ( socket | IF ) [ options ] */
void
conf_parse_listen(struct conf_parser *p, int line)
{
	struct conf_listener	*l, *l2;
	struct conf_pki		*k;
	struct conf_tok		*t;
	unsigned		 seen = 0;
	char			*s, *cert = NULL;
	int			 dual = 0;

	conf_expect_kw(p, "on");
	l = conf_alloc(p->a, sizeof(*l));
	if (conf_accept_kw(p, "socket")) {
		l->kind = CONF_LISTEN_SOCKET;
		l->on = "socket";
	} else
		l->on = conf_expect_string(p, "an address, interface or "
		    "host name");
	for (;;) {
		t = conf_peek(p);
		if (t->type == T_NL || t->type == T_EOF)
			break;
		line = t->line;
		if (t->type != T_WORD)
			conf_unexpected(p, conf_next(p), "a listen option");
		s = conf_strdup(p->a, conf_next(p)->s);
		if (strcmp(s, "filter") == 0) {
			conf_parse_filter_ref(p, &l->filter, 0, line);
		} else if (strcmp(s, "mask-src") == 0 ||
		    strcmp(s, "mask-source") == 0) {
			if (s[5] == 's' && s[6] == 'o')
				conf_mode_mark(p, 1, line, "mask-source");
			conf_listen_once(p, &seen, 0, "mask-src", line);
			l->mask_src = 1;
		} else if (strcmp(s, "no-dsn") == 0) {
			conf_listen_once(p, &seen, 1, s, line);
			l->no_dsn = 1;
		} else if (strcmp(s, "tag") == 0) {
			conf_listen_once(p, &seen, 2, s, line);
			l->tag = conf_expect_value(p, "a tag");
			if (strlen(l->tag) > CONF_TAG_MAX)
				conf_error(p, line, "tag name too long");
		} else if (l->kind == CONF_LISTEN_SOCKET)
			conf_syntax(p, "'%s' is not an option of listen on "
			    "socket", s);
		else if (strcmp(s, "inet4") == 0 || strcmp(s, "inet6") == 0) {
			conf_listen_once(p, &seen, 3, "address family", line);
			l->family = s[4] - '0';
		} else if (strcmp(s, "port") == 0) {
			conf_listen_once(p, &seen, 4, s, line);
			s = conf_expect_value(p, "a port");
			if ((l->port = conf_parse_port(s)) == -1) {
				conf_error(p, line, "invalid port: %s", s);
				l->port = 0;
			}
		} else if (strcmp(s, "tls") == 0 ||
		    strcmp(s, "tls-require") == 0 || strcmp(s, "smtps") == 0 ||
		    strcmp(s, "secure") == 0 || strcmp(s, "ssl") == 0) {
			if (seen & (1u << 5))
				conf_error(p, line, "TLS mode already "
				    "specified");
			seen |= 1u << 5;
			if (s[0] == 's' && s[1] != 'm') {
				conf_mode_mark(p, 1, line, s);
				dual = 1;
				l->tls = CONF_TLS_STARTTLS;
				continue;
			}
			l->tls = strcmp(s, "tls") == 0 ? CONF_TLS_STARTTLS :
			    strcmp(s, "smtps") == 0 ? CONF_TLS_SMTPS :
			    CONF_TLS_REQUIRE;
			if (l->tls != CONF_TLS_STARTTLS &&
			    conf_accept_kw(p, "verify"))
				l->tls_verify = 1;
		} else if (strcmp(s, "pki") == 0) {
			if (l->npki >= CONF_PKI_PER_LISTENER)
				conf_error(p, line, "too many pki");
			conf_push(p->a, &l->pki, &l->npki,
			    conf_expect_string(p, "a pki name"));
		} else if (strcmp(s, "certificate") == 0) {
			conf_mode_mark(p, 1, line, "certificate");
			conf_listen_once(p, &seen, 6, "pki", line);
			cert = conf_expect_value(p, "a certificate name");
		} else if (strcmp(s, "ca") == 0) {
			conf_listen_once(p, &seen, 7, s, line);
			l->ca = conf_expect_string(p, "a ca name");
		} else if (strcmp(s, "ciphers") == 0) {
			conf_listen_once(p, &seen, 8, s, line);
			l->ciphers = conf_expect_string(p, "a cipher list");
		} else if (strcmp(s, "protocols") == 0) {
			conf_listen_once(p, &seen, 9, s, line);
			l->protocols = conf_expect_string(p, "a protocol list");
		} else if (strcmp(s, "auth") == 0 ||
		    strcmp(s, "auth-optional") == 0) {
			conf_listen_once(p, &seen, 10, "auth", line);
			l->auth = s[4] ? CONF_AUTH_OPTIONAL : CONF_AUTH_REQUIRE;
			if (conf_peek_table(p))
				l->auth_table = conf_parse_tables(p,
				    SVC_CREDENTIALS);
		} else if (strcmp(s, "senders") == 0) {
			conf_listen_once(p, &seen, 11, s, line);
			l->senders = conf_parse_tables(p, SVC_MAILADDRMAP);
			if (conf_accept_kw(p, "masquerade"))
				l->masquerade = 1;
		} else if (strcmp(s, "hostname") == 0) {
			conf_listen_once(p, &seen, 12, s, line);
			l->hostname = conf_expect_string(p, "a host name");
		} else if (strcmp(s, "hostnames") == 0) {
			conf_listen_once(p, &seen, 13, s, line);
			l->hostnames = conf_parse_tables(p, SVC_ADDRNAME);
		} else if (strcmp(s, "received-auth") == 0) {
			conf_listen_once(p, &seen, 14, s, line);
			l->received_auth = 1;
		} else if (strcmp(s, "proxy-v2") == 0) {
			conf_listen_once(p, &seen, 15, s, line);
			l->proxy_v2 = 1;
		} else
			conf_syntax(p, "unknown listen option '%s'", s);
	}
	conf_expect_nl(p, "the listen options");
	if (l->kind == CONF_LISTEN_SOCKET) {
		if (p->socket_seen++) {
			conf_error(p, line, "socket listener already "
			    "configured");
			return;
		}
		conf_push(p->a, &p->conf->listeners, &p->conf->nlisteners, l);
		return;
	}
	if (conf_listen_kind(p, l, line) == -1)
		return;
	if (cert != NULL) {
		/* 5.3: certificate NAME = /etc/mail/certs/NAME.{crt,key} */
		if ((k = conf_pki_get(p, cert, 0)) == NULL) {
			k = conf_pki_get(p, cert, 1);
			k->cert = conf_alloc(p->a, strlen(cert) + 32);
			sprintf(k->cert, "/etc/mail/certs/%s.crt", cert);
			k->key = conf_alloc(p->a, strlen(cert) + 32);
			sprintf(k->key, "/etc/mail/certs/%s.key", cert);
		}
		conf_push(p->a, &l->pki, &l->npki, k->name);
	}
	if (dual) {
		if (l->port) {
			conf_error(p, line, "ssl/secure may not be used with "
			    "port");
			return;
		}
		l2 = conf_alloc(p->a, sizeof(*l2));
		*l2 = *l;
		l->port = 25;
		l2->tls = CONF_TLS_SMTPS;
		l2->port = 465;
		conf_add_listener(p, l, line);
		conf_add_listener(p, l2, line);
		return;
	}
	conf_add_listener(p, l, line);
}

/* ---- relay URLs ---------------------------------------------------------- */

/* conf_check_relay_url - [scheme://][label@]host[:port]; 0 or -1 */
int
conf_check_relay_url(struct conf_parser *p, const char *url, int line)
{
	static const char *const schemes[] = { "smtp", "smtp+tls",
	    "smtp+notls", "smtps", "lmtp", NULL };
	const char	*s = url, *sep, *at, *host, *colon;
	char		 scheme[32];
	long long	 port;
	size_t		 n;
	int		 i = 0;

	if ((sep = strstr(s, "://")) != NULL) {
		n = (size_t)(sep - s);
		if (n >= sizeof(scheme))
			goto badscheme;
		memcpy(scheme, s, n);
		scheme[n] = '\0';
		for (i = 0; schemes[i] && strcmp(schemes[i], scheme); i++)
			;
		if (schemes[i] == NULL)
			goto badscheme;
		s = sep + 3;
	}
	if ((at = strchr(s, '@')) != NULL) {
		if (sep == NULL || !(i == 1 || i == 3)) {
			conf_error(p, line, "relay URL %s: a label is only "
			    "valid with smtp+tls:// and smtps://", url);
			return -1;
		}
		if (at == s)
			goto bad;
		s = at + 1;
	}
	host = s;
	if (*host == '[') {
		if ((s = strchr(host, ']')) == NULL || s == host + 1)
			goto bad;
		s++;
	} else {
		n = strspn(host, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (n == 0)
			goto bad;
		s = host + n;
	}
	colon = NULL;
	if (*s == ':') {
		colon = s;
		if (conf_parse_number(s + 1, 1, 65535, &port) == -1)
			goto bad;
	} else if (*s != '\0')
		goto bad;
	if (sep && i == 4 && colon == NULL) {
		conf_error(p, line, "relay URL %s: lmtp:// needs a port", url);
		return -1;
	}
	return 0;
badscheme:
	conf_error(p, line, "relay URL %s: unknown scheme", url);
	return -1;
bad:
	conf_error(p, line, "invalid relay URL: %s", url);
	return -1;
}

/* ---- actions ------------------------------------------------------------- */

/* conf_action_once - each option at most once per action */
static void
conf_action_once(struct conf_parser *p, int isset, const char *what,
    int line)
{
	if (isset)
		conf_error(p, line, "%s already specified for this "
		    "dispatcher", what);
}

/* conf_parse_action_relay_opt - one relay option; 0 if not one */
static int
conf_parse_action_relay_opt(struct conf_parser *p, struct conf_action *a,
    const char *s, int line)
{
	size_t	i;

	if (strcmp(s, "backup") == 0) {
		conf_action_once(p, a->backup, s, line);
		a->backup = 1;
		if (conf_accept_kw(p, "mx"))
			a->backup_mx = conf_expect_string(p, "an MX name");
	} else if (strcmp(s, "host") == 0) {
		conf_action_once(p, a->host != NULL, s, line);
		a->host = conf_parse_tables(p, SVC_RELAYHOST);
		for (i = 0; i < a->host->nentries; i++)
			conf_check_relay_url(p, a->host->entries[i].key, line);
	} else if (strcmp(s, "domain") == 0) {
		conf_action_once(p, a->domain != NULL, s, line);
		a->domain = conf_parse_tables(p, SVC_RELAYMAP);
		for (i = 0; i < a->domain->nentries; i++)
			if (a->domain->entries[i].value)
				conf_check_relay_url(p,
				    a->domain->entries[i].value, line);
	} else if (strcmp(s, "auth") == 0) {
		conf_action_once(p, a->auth != NULL, s, line);
		a->auth = conf_parse_tables(p, SVC_CREDENTIALS);
	} else if (strcmp(s, "tls") == 0) {
		conf_action_once(p, a->relay_tls != CONF_RELAY_TLS_DEFAULT,
		    s, line);
		a->relay_tls = conf_accept_kw(p, "no-verify") ?
		    CONF_RELAY_TLS_NO_VERIFY : CONF_RELAY_TLS_VERIFY;
	} else if (strcmp(s, "pki") == 0) {
		conf_action_once(p, a->pki != NULL, s, line);
		a->pki = conf_expect_string(p, "a pki name");
		if (!p->trusted && conf_pki_get(p, a->pki, 0) == NULL)
			conf_error(p, line, "pki name not found: %s", a->pki);
	} else if (strcmp(s, "ca") == 0) {
		conf_action_once(p, a->ca != NULL, s, line);
		a->ca = conf_expect_string(p, "a ca name");
		if (conf_ca_get(p, a->ca, 0) == NULL)
			conf_error(p, line, "ca name not found: %s", a->ca);
	} else if (strcmp(s, "ciphers") == 0) {
		conf_action_once(p, a->ciphers != NULL, s, line);
		a->ciphers = conf_expect_string(p, "a cipher list");
	} else if (strcmp(s, "protocols") == 0) {
		conf_action_once(p, a->protocols != NULL, s, line);
		a->protocols = conf_expect_string(p, "a protocol list");
	} else if (strcmp(s, "helo") == 0) {
		conf_action_once(p, a->helo != NULL, s, line);
		a->helo = conf_expect_string(p, "a host name");
	} else if (strcmp(s, "helo-src") == 0) {
		conf_action_once(p, a->helo_src != NULL, s, line);
		a->helo_src = conf_parse_tables(p, SVC_ADDRNAME);
	} else if (strcmp(s, "src") == 0) {
		conf_action_once(p, a->src != NULL, s, line);
		a->src = conf_parse_tables(p, SVC_SOURCE);
	} else if (strcmp(s, "mail-from") == 0) {
		conf_action_once(p, a->mail_from != NULL, s, line);
		a->mail_from = conf_expect_string(p, "an address");
	} else if (strcmp(s, "srs") == 0) {
		conf_action_once(p, a->srs, s, line);
		a->srs = 1;
	} else if (strcmp(s, "filter") == 0) {
		conf_parse_filter_ref(p, &a->filter, 0, line);
	} else
		return 0;
	return 1;
}

/* conf_parse_action_local_opt - one local delivery option; 0 if not */
static int
conf_parse_action_local_opt(struct conf_parser *p, struct conf_action *a,
    const char *s, int line)
{
	size_t	i;

	if (strcmp(s, "alias") == 0 || strcmp(s, "virtual") == 0) {
		if (a->alias || a->virtual)
			conf_error(p, line, "alias mapping already specified "
			    "for this dispatcher");
		if (s[0] == 'a')
			a->alias = conf_parse_tables(p, SVC_ALIAS);
		else
			a->virtual = conf_parse_tables(p, SVC_ALIAS);
	} else if (strcmp(s, "userbase") == 0) {
		conf_action_once(p, a->userbase != NULL, s, line);
		a->userbase = conf_parse_tables(p, SVC_USERINFO);
	} else if (strcmp(s, "user") == 0) {
		conf_action_once(p, a->user != NULL, s, line);
		a->user = conf_expect_string(p, "a user name");
	} else if (strcmp(s, "wrapper") == 0) {
		conf_action_once(p, a->wrapper != NULL, s, line);
		a->wrapper = conf_expect_string(p, "a wrapper name");
		for (i = 0; i < p->conf->nwrappers; i++)
			if (strcmp(p->conf->wrappers[i]->name, a->wrapper) == 0)
				break;
		if (i == p->conf->nwrappers)
			conf_error(p, line, "no mda wrapper with that name: %s",
			    a->wrapper);
	} else
		return 0;
	return 1;
}

/* conf_action_add - final checks, then keep (or refuse a duplicate) */
void
conf_action_add(struct conf_parser *p, struct conf_action *a, int line)
{
	if (a->user && (a->method == CONF_METHOD_MBOX ||
	    a->method == CONF_METHOD_FORWARD_ONLY ||
	    a->method == CONF_METHOD_EXPAND_ONLY))
		conf_error(p, line, "user may not be specified for this "
		    "dispatcher");
	if (a->backup && (a->host || a->domain))
		conf_error(p, line, "backup and host are mutually exclusive");
	if (a->auth && !a->host && !a->domain)
		conf_error(p, line, "auth may not be specified without host "
		    "on a dispatcher");
	if (a->srs && p->conf->srs_key == NULL && !p->trusted)
		conf_error(p, line, "an srs key is required for srs to be "
		    "specified in an action");
	if (conf_action_find(p->conf, a->name) != NULL) {
		conf_error(p, line, "dispatcher already declared with that "
		    "name: %s", a->name);
		return;
	}
	conf_push(p->a, &p->conf->actions, &p->conf->nactions, a);
}

/* conf_parse_action - action NAME METHOD [options] [ttl DELAY] */
static void
conf_parse_action(struct conf_parser *p, int line)
{
	struct conf_action	*a;
	struct conf_tok		*t;
	const char		*s;
	int			 ok;

	a = conf_alloc(p->a, sizeof(*a));
	a->name = conf_expect_string(p, "an action name");
	t = conf_next(p);
	if (t->type != T_WORD)
		conf_unexpected(p, t, "a delivery method or relay");
	s = t->s;
	if (strcmp(s, "mbox") == 0)
		a->method = CONF_METHOD_MBOX;
	else if (strcmp(s, "maildir") == 0) {
		a->method = CONF_METHOD_MAILDIR;
		t = conf_peek(p);
		if (t->type == T_QSTR || (t->type == T_WORD &&
		    !conf_is_reserved(t->s)))
			a->path = conf_expect_string(p, "a maildir path");
		if (conf_accept_kw(p, "junk"))
			a->junk = 1;
	} else if (strcmp(s, "lmtp") == 0) {
		a->method = CONF_METHOD_LMTP;
		a->path = conf_expect_string(p, "an LMTP destination");
		if (conf_accept_kw(p, "rcpt-to"))
			a->rcpt_to = 1;
	} else if (strcmp(s, "mda") == 0) {
		a->method = CONF_METHOD_MDA;
		a->path = conf_expect_string(p, "a command");
	} else if (strcmp(s, "forward-only") == 0)
		a->method = CONF_METHOD_FORWARD_ONLY;
	else if (strcmp(s, "expand-only") == 0)
		a->method = CONF_METHOD_EXPAND_ONLY;
	else if (strcmp(s, "relay") == 0)
		a->method = CONF_METHOD_RELAY;
	else
		conf_syntax(p, "unknown delivery method '%s'", s);
	for (;;) {
		t = conf_peek(p);
		if (t->type == T_NL || t->type == T_EOF)
			break;
		line = t->line;
		if (t->type != T_WORD)
			conf_unexpected(p, conf_next(p), "an action option");
		s = conf_strdup(p->a, conf_next(p)->s);
		if (strcmp(s, "ttl") == 0) {
			a->ttl = conf_expect_delay(p, "ttl");
			conf_expect_nl(p, "ttl (it must be the last option)");
			break;
		}
		if (a->method == CONF_METHOD_RELAY)
			ok = conf_parse_action_relay_opt(p, a, s, line);
		else
			ok = conf_parse_action_local_opt(p, a, s, line);
		if (!ok)
			conf_syntax(p, "'%s' is not an option of %s actions", s,
			    a->method == CONF_METHOD_RELAY ? "relay" :
			    "local delivery");
	}
	conf_action_add(p, a, line);
}

/* ---- match ---------------------------------------------------------------- */

static const char *const conf_crit_names[CONF_CRIT__MAX] = {
	"from", "for", "tag", "helo", "auth", "mail-from", "rcpt-to", "tls"
};

/* conf_crit_take - claim a criterion slot of a rule */
static struct conf_criterion *
conf_crit_take(struct conf_parser *p, struct conf_rule *r, int slot,
    int neg, int line)
{
	struct conf_criterion	*c = &r->crit[slot];

	if (c->present)
		conf_error(p, line, "%s already specified for this rule",
		    conf_crit_names[slot]);
	memset(c, 0, sizeof(*c));
	c->present = 1;
	c->negate = neg;
	return c;
}

/* conf_crit_operand - [regex] TABLE for criterion C */
static void
conf_crit_operand(struct conf_parser *p, struct conf_criterion *c,
    enum conf_svc svc, int optional, int line)
{
	if (conf_accept_kw(p, "regex"))
		c->regex = 1;
	else if (optional && !conf_peek_table(p))
		return;
	c->table = conf_parse_tables(p, c->regex ? SVC_REGEX : svc);
	if (c->regex)
		conf_check_regex(p, c->table, line);
	else if (svc == SVC_NETADDR)
		conf_check_netaddr(p, c->table, line);
}

/* conf_parse_criterion - one criterion of a match rule (after the '!') */
static void
conf_parse_criterion(struct conf_parser *p, struct conf_rule *r,
    const char *kw, int neg, int line)
{
	static const char *const froms[] = { "any", "local", "socket", "src",
	    "rdns", "auth", "mail-from", NULL };
	static const char *const fors[] = { "any", "local", "domain",
	    "rcpt-to", NULL };
	struct conf_criterion	*c, *c2;
	char			*w;
	int			 i;

	if (strcmp(kw, "from") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_FROM, neg, line);
		w = conf_expect_value(p, "any, local, socket, src, rdns, auth "
		    "or mail-from");
		for (i = 0; froms[i] && strcmp(froms[i], w); i++)
			;
		if (froms[i] == NULL)
			conf_syntax(p, "unknown 'from' criterion '%s'", w);
		c->what = i;
		if (i == CONF_FROM_SRC)
			conf_crit_operand(p, c, SVC_NETADDR, 0, line);
		else if (i == CONF_FROM_RDNS)
			conf_crit_operand(p, c, SVC_DOMAIN, 1, line);
		else if (i == CONF_FROM_AUTH || i == CONF_FROM_MAIL_FROM) {
			conf_crit_operand(p, c, i == CONF_FROM_AUTH ?
			    SVC_AUTH : SVC_MAILADDR, i == CONF_FROM_AUTH, line);
			c2 = conf_crit_take(p, r, i == CONF_FROM_AUTH ?
			    CONF_CRIT_AUTH : CONF_CRIT_MAIL_FROM, 0, line);
			c2->implied = 1;
		}
	} else if (strcmp(kw, "for") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_FOR, neg, line);
		w = conf_expect_value(p, "any, local, domain or rcpt-to");
		for (i = 0; fors[i] && strcmp(fors[i], w); i++)
			;
		if (fors[i] == NULL)
			conf_syntax(p, "unknown 'for' criterion '%s'", w);
		c->what = i;
		if (i == CONF_FOR_DOMAIN)
			conf_crit_operand(p, c, SVC_DOMAIN, 0, line);
		else if (i == CONF_FOR_RCPT_TO) {
			conf_crit_operand(p, c, SVC_MAILADDR, 0, line);
			c2 = conf_crit_take(p, r, CONF_CRIT_RCPT_TO, 0, line);
			c2->implied = 1;
		}
	} else if (strcmp(kw, "tag") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_TAG, neg, line);
		conf_crit_operand(p, c, SVC_STRING, 0, line);
	} else if (strcmp(kw, "helo") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_HELO, neg, line);
		conf_crit_operand(p, c, SVC_DOMAIN, 0, line);
	} else if (strcmp(kw, "auth") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_AUTH, neg, line);
		conf_crit_operand(p, c, SVC_AUTH, 1, line);
	} else if (strcmp(kw, "mail-from") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_MAIL_FROM, neg, line);
		conf_crit_operand(p, c, SVC_MAILADDR, 0, line);
	} else if (strcmp(kw, "rcpt-to") == 0) {
		c = conf_crit_take(p, r, CONF_CRIT_RCPT_TO, neg, line);
		conf_crit_operand(p, c, SVC_MAILADDR, 0, line);
	} else if (strcmp(kw, "tls") == 0) {
		conf_crit_take(p, r, CONF_CRIT_TLS, neg, line);
	} else
		conf_syntax(p, "expected a criterion, 'action' or 'reject', "
		    "got '%s'", kw);
}

/* conf_rule_finish - implicit from local / for local, then keep */
void
conf_rule_finish(struct conf_parser *p, struct conf_rule *r)
{
	if (!r->crit[CONF_CRIT_FROM].present) {
		r->crit[CONF_CRIT_FROM].present = 1;
		r->crit[CONF_CRIT_FROM].what = CONF_FROM_LOCAL;
	}
	if (!r->crit[CONF_CRIT_FOR].present) {
		r->crit[CONF_CRIT_FOR].present = 1;
		r->crit[CONF_CRIT_FOR].what = CONF_FOR_LOCAL;
	}
	conf_push(p->a, &p->conf->rules, &p->conf->nrules, r);
}

/* conf_parse_match - match { criterion } ( action NAME | reject ) */
static void
conf_parse_match(struct conf_parser *p, int line)
{
	struct conf_rule	*r;
	struct conf_tok		*t;
	char			*name;
	int			 neg, cline;

	r = conf_alloc(p->a, sizeof(*r));
	r->line = line;
	for (;;) {
		t = conf_next(p);
		cline = t->line;
		neg = 0;
		if (t->type == T_BANG) {
			neg = 1;
			t = conf_next(p);
		}
		if (t->type != T_WORD)
			conf_unexpected(p, t, "a criterion, 'action' or "
			    "'reject'");
		if (!neg && strcmp(t->s, "action") == 0) {
			name = conf_expect_string(p, "an action name");
			conf_expect_nl(p, "the action name");
			if ((r->action = conf_action_find(p->conf, name)) ==
			    NULL) {
				conf_error(p, cline, "no such dispatcher: %s",
				    name);
				return;
			}
			break;
		}
		if (!neg && strcmp(t->s, "reject") == 0) {
			conf_expect_nl(p, "reject");
			r->reject = 1;
			break;
		}
		name = conf_strdup(p->a, t->s);
		conf_parse_criterion(p, r, name, neg, cline);
	}
	conf_rule_finish(p, r);
}

/* ---- statements ------------------------------------------------------------ */

/* conf_mode_mark - note legacy or modern syntax; refuse a mix */
void
conf_mode_mark(struct conf_parser *p, int legacy, int line, const char *what)
{
	if (legacy && p->legacy_line == 0) {
		p->legacy_line = line;
		p->legacy_what = what;
	} else if (!legacy && p->modern_line == 0)
		p->modern_line = line;
	if (p->legacy_line == 0 || p->modern_line == 0 || p->mix_reported)
		return;
	p->mix_reported = 1;
	if (strcmp(p->legacy_what, "accept") == 0 ||
	    strcmp(p->legacy_what, "reject") == 0)
		conf_error(p, line, "cannot mix legacy accept/reject rules "
		    "with match/action rules");
	else
		conf_error(p, line, "cannot mix legacy syntax ('%s', line %d) "
		    "with match/action rules", p->legacy_what,
		    p->legacy_line);
}

/* conf_parse_statement - one statement starting with token T */
static void
conf_parse_statement(struct conf_parser *p, struct conf_tok *t)
{
	char	 kw[32], *name, *value;
	int	 line = t->line;

	if (t->type != T_WORD)
		conf_unexpected(p, t, "a statement");
	if (conf_peek(p)->type == T_EQ) {
		if (conf_is_reserved(t->s))
			conf_syntax(p, "keyword '%s' cannot be a macro name",
			    t->s);
		name = conf_strdup(p->a, t->s);
		conf_next(p);
		value = conf_expect_value(p, "a macro value");
		conf_expect_nl(p, "the macro value");
		if (conf_macro_define(p, name, value, 0) == -1)
			conf_error(p, line, "macro '%s' redefined while in "
			    "use", name);
		return;
	}
	if (strlen(t->s) >= sizeof(kw))
		conf_syntax(p, "unknown keyword '%.40s...'", t->s);
	strlcpy(kw, t->s, sizeof(kw));
	if (strcmp(kw, "include") == 0) {
		name = conf_expect_string(p, "a file name");
		conf_expect_nl(p, "the include file name");
		conf_lex_push_file(p, name, line);
	} else if (strcmp(kw, "table") == 0)
		conf_parse_table(p, line);
	else if (strcmp(kw, "pki") == 0)
		conf_parse_pki(p, line);
	else if (strcmp(kw, "ca") == 0)
		conf_parse_ca(p, line);
	else if (strcmp(kw, "proc") == 0)
		conf_parse_proc(p, line);
	else if (strcmp(kw, "filter") == 0)
		conf_parse_filter(p, line);
	else if (strcmp(kw, "listen") == 0)
		conf_parse_listen(p, line);
	else if (strcmp(kw, "action") == 0) {
		conf_mode_mark(p, 0, line, kw);
		conf_parse_action(p, line);
	} else if (strcmp(kw, "match") == 0) {
		conf_mode_mark(p, 0, line, kw);
		conf_parse_match(p, line);
	} else if (strcmp(kw, "admd") == 0 || strcmp(kw, "bounce") == 0 ||
	    strcmp(kw, "mda") == 0 || strcmp(kw, "mta") == 0 ||
	    strcmp(kw, "queue") == 0 || strcmp(kw, "scheduler") == 0 ||
	    strcmp(kw, "smtp") == 0 || strcmp(kw, "srs") == 0)
		conf_parse_global(p, kw, NULL, line);
	else if (!conf_legacy_statement(p, t))
		conf_syntax(p, "unknown keyword '%s'", kw);
}

/* conf_parse_finish - checks that need the whole file */
static void
conf_parse_finish(struct conf_parser *p)
{
	struct conf_listener	*l;

	p->stmt_line = p->lastline;
	if (p->legacy_line)
		conf_legacy_finish(p);
	if (p->conf->nrules == 0 && p->nerrors == 0)
		conf_error(p, p->lastline, "no rules, nothing to do: at least "
		    "one match rule is needed");
	if (!p->socket_seen) {
		l = conf_alloc(p->a, sizeof(*l));
		l->kind = CONF_LISTEN_SOCKET;
		l->on = "socket";
		l->implicit = 1;
		conf_push(p->a, &p->conf->listeners, &p->conf->nlisteners, l);
	}
}

/* conf_parse - every statement of the pushed input; 0 or -1 */
int
conf_parse(struct conf_parser *p)
{
	struct conf_tok	*t;

	if (setjmp(p->recover) != 0) {
		/* a syntax error: drop the rest of the statement, unless
		 * the offending token was its end */
		if (p->lex_error)
			conf_lex_skip_line(p);
		t = &p->tok;
		while (t->type != T_NL && t->type != T_EOF)
			t = conf_next(p);
		if (t->type == T_EOF)
			goto done;
	}
	for (;;) {
		t = conf_next(p);
		if (t->type == T_EOF)
			break;
		if (t->type == T_NL)
			continue;
		p->stmt_file = t->file;
		p->stmt_line = t->line;
		conf_parse_statement(p, t);
	}
done:
	p->stmt_file = p->lastfile;
	conf_parse_finish(p);
	return p->nerrors ? -1 : 0;
}
