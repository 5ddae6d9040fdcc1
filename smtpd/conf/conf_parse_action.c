/*
 * conf_parse_action.c -- `action` statements of smtpd.conf: local
 * delivery methods and relays, their options, and relay URLs, which
 * are validated at parse time (OpenSMTPD waits for the first envelope).
 *
 * Runs in parent and `smtpd -n`.  Each option appears at most once per
 * action and `ttl` comes last.  Nothing here fatals on input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

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

/* conf_action_check - what the value of option O must also satisfy */
static void
conf_action_check(struct conf_parser *p, struct conf_action *a,
    const struct conf_action_option *o, int line)
{
	const struct conf_table	*t;
	size_t			 i;

	switch (o->check) {
	case CONF_ACHECK_NONE:
	case CONF_ACHECK_ALIAS:
		break;
	case CONF_ACHECK_WRAPPER:
		for (i = 0; i < p->conf->nwrappers; i++)
			if (strcmp(p->conf->wrappers[i]->name, a->wrapper) == 0)
				break;
		if (i == p->conf->nwrappers)
			conf_error(p, line, "no mda wrapper with that name: %s",
			    a->wrapper);
		break;
	case CONF_ACHECK_PKI:
		if (!p->trusted && conf_pki_get(p, a->pki, 0) == NULL)
			conf_error(p, line, "pki name not found: %s", a->pki);
		break;
	case CONF_ACHECK_CA:
		if (conf_ca_get(p, a->ca, 0) == NULL)
			conf_error(p, line, "ca name not found: %s", a->ca);
		break;
	case CONF_ACHECK_URLS:
	case CONF_ACHECK_URL_VALUES:
		t = *(struct conf_table **)(void *)((char *)a + o->offset);
		for (i = 0; i < t->nentries; i++)
			if (o->check == CONF_ACHECK_URLS)
				conf_check_relay_url(p, t->entries[i].key,
				    line);
			else if (t->entries[i].value)
				conf_check_relay_url(p, t->entries[i].value,
				    line);
		break;
	}
}

/*
 * conf_parse_action_opt - option S of action A, a row of
 * conf_action_options[] for A's kind (relay or local delivery); 0 if
 * it is not one
 */
static int
conf_parse_action_opt(struct conf_parser *p, struct conf_action *a,
    const char *s, int line)
{
	const struct conf_action_option	*o = NULL;
	void				*f;
	size_t				 i;
	int				 relay = a->method == CONF_METHOD_RELAY;

	for (i = 0; i < conf_naction_options && o == NULL; i++)
		if (conf_action_options[i].relay == relay &&
		    strcmp(conf_action_options[i].kw, s) == 0)
			o = &conf_action_options[i];
	if (o == NULL)
		return 0;
	f = (char *)a + o->offset;
	switch (o->type) {
	case CONF_AOPT_FLAG:
		conf_action_once(p, *(int *)f, s, line);
		*(int *)f = 1;
		break;
	case CONF_AOPT_STRING:
		conf_action_once(p, *(char **)f != NULL, s, line);
		*(char **)f = conf_expect_string(p, o->what);
		break;
	case CONF_AOPT_TABLE:
		if (o->check == CONF_ACHECK_ALIAS) {
			if (a->alias || a->virtual)
				conf_error(p, line, "alias mapping already "
				    "specified for this dispatcher");
		} else
			conf_action_once(p, *(struct conf_table **)f != NULL,
			    s, line);
		*(struct conf_table **)f = conf_parse_tables(p, o->svc);
		break;
	case CONF_AOPT_BACKUP:
		conf_action_once(p, a->backup, s, line);
		a->backup = 1;
		if (conf_accept_kw(p, "mx"))
			a->backup_mx = conf_expect_string(p, o->what);
		break;
	case CONF_AOPT_TLS:
		conf_action_once(p, a->relay_tls != CONF_RELAY_TLS_DEFAULT,
		    s, line);
		a->relay_tls = conf_accept_kw(p, "no-verify") ?
		    CONF_RELAY_TLS_NO_VERIFY : CONF_RELAY_TLS_VERIFY;
		break;
	case CONF_AOPT_FILTER:
		conf_parse_filter_ref(p, &a->filter, 0, line);
		break;
	}
	conf_action_check(p, a, o, line);
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
void
conf_parse_action(struct conf_parser *p, int line)
{
	struct conf_action	*a;
	struct conf_tok		*t;
	const char		*s;

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
		if (!conf_parse_action_opt(p, a, s, line))
			conf_syntax(p, "'%s' is not an option of %s actions", s,
			    a->method == CONF_METHOD_RELAY ? "relay" :
			    "local delivery");
	}
	conf_action_add(p, a, line);
}
