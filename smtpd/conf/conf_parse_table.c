/*
 * conf_parse_table.c -- tables in smtpd.conf: `table NAME ...`
 * declarations, inline `{ ... }` bodies, anonymous operands, and the
 * parse-time checks that a table fits the lookup it is used for.
 *
 * Runs in parent and `smtpd -n`.  Named tables must be declared before
 * they are used.  Files behind file: and db: tables are opened through
 * the table layer (smtpd/table/table.h) so that a bad file is a
 * FILE:LINE error; nothing here fatals on a table's contents.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"
#include "table.h"

/* what each use needs: a list, a mapping or either, and its lookup
 * service in the table layer (smtpd-conf.md 4.2) */
static const struct {
	const char		*name;
	int			 list_ok;
	int			 map_ok;
	enum table_service	 service;
} conf_svc_info[] = {
	[SVC_ALIAS] =		{ "alias", 0, 1, K_ALIAS },
	[SVC_USERINFO] =	{ "userinfo", 0, 1, K_USERINFO },
	[SVC_CREDENTIALS] =	{ "credentials", 0, 1, K_CREDENTIALS },
	[SVC_MAILADDRMAP] =	{ "mailaddrmap", 0, 1, K_MAILADDRMAP },
	[SVC_ADDRNAME] =	{ "addrname", 0, 1, K_ADDRNAME },
	[SVC_SOURCE] =		{ "source", 1, 1, K_SOURCE },
	[SVC_RELAYHOST] =	{ "relayhost", 1, 0, K_RELAYHOST },
	[SVC_RELAYMAP] =	{ "relayhost", 0, 1, K_RELAYHOST },
	[SVC_NETADDR] =		{ "netaddr", 1, 0, K_NETADDR },
	[SVC_DOMAIN] =		{ "domain", 1, 0, K_DOMAIN },
	[SVC_MAILADDR] =	{ "mailaddr", 1, 1, K_MAILADDR },
	[SVC_AUTH] =		{ "auth", 1, 1, K_STRING },
	[SVC_STRING] =		{ "string", 1, 0, K_STRING },
	[SVC_REGEX] =		{ "regex", 1, 0, K_REGEX },
};

/*
 * A file: or db: table opened through the table layer while parsing,
 * kept until the parse ends so that each use can be checked against
 * what the file really holds.
 */
struct conf_table_handle {
	struct conf_table	*ct;
	struct table		*t;
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
struct conf_tok *
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

/* conf_table_handle_find - the table layer's handle of T, or NULL */
static struct table *
conf_table_handle_find(struct conf_parser *p, const struct conf_table *t)
{
	struct conf_table_handle	*h;
	size_t				 i;

	for (i = 0; i < p->nhandles; i++) {
		h = p->handles[i];
		if (h->ct == t)
			return h->t;
	}
	return NULL;
}

/* conf_table_fits - may T serve SVC; 0 or -1 */
static int
conf_table_fits(struct conf_parser *p, const struct conf_table *t,
    enum conf_svc svc)
{
	struct table		*h;
	enum table_shape	 shape = TABLE_SHAPE_NONE;
	char			 err[512];

	if ((h = conf_table_handle_find(p, t)) != NULL) {
		/* a file is shape-checked like an inline table; a db, like
		 * every dynamic table of 6.8, only for its service */
		if (strcmp(t->backend, "file") == 0 &&
		    conf_svc_info[svc].list_ok != conf_svc_info[svc].map_ok)
			shape = conf_svc_info[svc].list_ok ? TABLE_SHAPE_LIST :
			    TABLE_SHAPE_MAPPING;
		return table_check_use(h, conf_svc_info[svc].service, shape,
		    err, sizeof(err));
	}
	if ((t->kind == CONF_TABLE_LIST && !conf_svc_info[svc].list_ok) ||
	    (t->kind == CONF_TABLE_MAP && !conf_svc_info[svc].map_ok))
		return -1;
	return 0;
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

	if (conf_table_fits(p, t, svc) == -1) {
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
void
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

/* conf_table_open - load a file: or db: table through the table layer */
static void
conf_table_open(struct conf_parser *p, struct conf_table *ct, int line)
{
	struct conf_table_handle	*h;
	struct table			*t;
	char				 err[1024];

	if ((t = table_create(ct->name, ct->backend, ct->config, p->libexec,
	    err, sizeof(err))) == NULL) {
		conf_error(p, line, "%s", err);
		return;
	}
	if (strcmp(ct->backend, "file") == 0)
		ct->kind = table_shape(t) == TABLE_SHAPE_LIST ?
		    CONF_TABLE_LIST : CONF_TABLE_MAP;
	h = conf_alloc(p->a, sizeof(*h));
	h->ct = ct;
	h->t = t;
	conf_push(p->a, &p->handles, &p->nhandles, h);
}

/* conf_table_close_all - release what conf_table_open created */
void
conf_table_close_all(struct conf_parser *p)
{
	struct conf_table_handle	*h;
	size_t				 i;

	for (i = 0; i < p->nhandles; i++) {
		h = p->handles[i];
		table_free(&h->t);
	}
	p->nhandles = 0;
}

/* conf_backend_known - is NAME a helper we can run; ERR says where not */
static int
conf_backend_known(struct conf_parser *p, const char *name, char *err,
    size_t errsz)
{
	char	path[PATH_MAX];

	if (p->trusted)
		return 1;
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
	    strlen(name)) {
		snprintf(err, errsz, "invalid backend name");
		return 0;
	}
	return table_find_helper(p->libexec, name, path, sizeof(path), err,
	    errsz) == 0;
}

/*
 * conf_table_name_ok - NAME fits the table layer (lookup refuses at
 * start what does not, so -n must refuse it too); 1 or 0
 */
static int
conf_table_name_ok(struct conf_parser *p, const char *name, int line)
{
	if (name[0] == '\0') {
		conf_error(p, line, "table name is empty");
		return 0;
	}
	if (strlen(name) >= TABLE_NAME_MAX) {
		conf_error(p, line, "table name longer than %d bytes: "
		    "\"%.40s...\"", TABLE_NAME_MAX - 1, name);
		return 0;
	}
	return 1;
}

/*
 * conf_table_check_inline - the entries of inline table T, as lookup
 * loads them at start: what the table layer refuses there (a key too
 * long, say) is refused here, so -n and start-up agree
 */
static void
conf_table_check_inline(struct conf_parser *p, const struct conf_table *ct,
    int line)
{
	struct table	*t;
	char		 err[512];
	size_t		 i;

	if ((t = table_create(ct->name, "static", NULL, p->libexec, err,
	    sizeof(err))) == NULL) {
		conf_error(p, line, "%s", err);
		return;
	}
	for (i = 0; i < ct->nentries; i++)
		if (table_add(t, ct->entries[i].key, ct->entries[i].value,
		    err, sizeof(err)) == -1) {
			conf_error(p, line, "%s", err);
			break;
		}
	table_free(&t);
}

/* conf_parse_table - table NAME ( BACKEND[:CONFIG] | "/path" | { ... } ) */
void
conf_parse_table(struct conf_parser *p, int line)
{
	struct conf_table	*t;
	struct conf_tok		*n;
	char			*name, *spec, *colon;
	char			 why[PATH_MAX + 64];
	int			 quoted, named;

	name = conf_expect_string(p, "a table name");
	t = conf_alloc(p->a, sizeof(*t));
	t->name = name;
	named = conf_table_name_ok(p, name, line);
	if (conf_peek(p)->type == T_LBRACE) {
		conf_next(p);
		conf_parse_inline(p, t);
		conf_expect_nl(p, "the table");
		if (named && !p->trusted)
			conf_table_check_inline(p, t, line);
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
	if (!named)
		goto add;
	if (strcmp(t->backend, "file") == 0 ||
	    strcmp(t->backend, "db") == 0) {
		if (t->config == NULL && !p->trusted)
			conf_error(p, line, "table %s: %s: needs a path",
			    name, t->backend);
		else if (!p->trusted)
			conf_table_open(p, t, line);
	} else if (strcmp(t->backend, "getpwnam") == 0) {
		t->kind = CONF_TABLE_MAP;
	} else if (strcmp(t->backend, TABLE_TEXT_PROC) == 0) {
		if (!p->trusted && table_text_proc_path(t->config, why,
		    sizeof(why)) == -1)
			conf_error(p, line, "table %s: %s", name, why);
	} else if (!conf_backend_known(p, t->backend, why, sizeof(why)))
		conf_error(p, line, "table backend \"%s\" does not exist: %s",
		    t->backend, why);
add:
	if (conf_table_find(p->conf, name) != NULL) {
		conf_error(p, line, "table %s already defined", name);
		return;
	}
	conf_push(p->a, &p->conf->tables, &p->conf->ntables, t);
}
