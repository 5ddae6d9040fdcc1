/*
 * conf_legacy.c -- the OpenSMTPD 5.x grammar, translated on the fly into
 * the modern action + match form (smtpd-conf.md sections 10 and 11).
 *
 * Runs inside the parser (parent, smtpd -n).  Each `accept` rule becomes
 * one action (named legacy-N after the first rule that produced the
 * same action text) and one or two match rules; each `reject` rule
 * becomes match ... reject.  "Authenticated counts as local" is kept by
 * pairing `from local` with `from any auth`.  Legacy global keywords are
 * mapped to their modern options.  A file mixing this grammar with
 * match/action is refused by conf_mode_mark().  Never fatal() on input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

enum legacy_from {
	LEGACY_FROM_DEFAULT, LEGACY_FROM_ANY, LEGACY_FROM_LOCAL,
	LEGACY_FROM_SOURCE
};

struct legacy_rule {
	int			 line;
	int			 from_set;
	enum legacy_from	 from;
	int			 from_neg;
	struct conf_table	*from_table;
	struct conf_criterion	 crit[CONF_CRIT__MAX];	/* for, tags, addrs */
	int			 auth;		/* 0, 1, -1 (! authenticated) */
	int			 delivery;	/* deliver to / relay seen */
	int			 forward_only;
	struct conf_action	*action;
};

/* legacy_once - a decision or parameter given twice */
static void
legacy_once(struct conf_parser *p, int isset, const char *what, int line)
{
	if (isset)
		conf_error(p, line, "%s already specified for this rule",
		    what);
}

/* legacy_neg - the '!' written after the keyword */
static int
legacy_neg(struct conf_parser *p)
{
	if (conf_peek(p)->type != T_BANG)
		return 0;
	conf_next(p);
	return 1;
}

/* legacy_crit - set a criterion of the rule being read */
static void
legacy_crit(struct conf_parser *p, struct legacy_rule *r, int slot,
    const char *what, enum conf_svc svc, int line)
{
	struct conf_criterion	*c = &r->crit[slot];

	legacy_once(p, c->present, what, line);
	c->present = 1;
	c->negate = legacy_neg(p);
	c->table = conf_parse_tables(p, svc);
}

/* legacy_url - relay via URL into host / tls options of A */
static void
legacy_url(struct conf_parser *p, struct conf_action *a, const char *url,
    int *need_auth, int line)
{
	static const struct {
		const char	*scheme;
		const char	*modern;	/* NULL: backup */
		int		 no_verify;
		int		 auth;
		int		 fallback;
	} map[] = {
		{ "smtp", "smtp", 0, 0, 0 },
		{ "smtp+tls", "smtp", 0, 0, 0 },
		{ "tls", "smtp+tls", 1, 0, 0 },
		{ "smtps", "smtps", 1, 0, 0 },
		{ "tls+auth", "smtp+tls", 1, 1, 0 },
		{ "smtps+auth", "smtps", 1, 1, 0 },
		{ "ssl", "smtps", 1, 0, 1 },
		{ "secure", "smtps", 1, 0, 1 },
		{ "ssl+auth", "smtps", 1, 1, 1 },
		{ "secure+auth", "smtps", 1, 1, 1 },
		{ "lmtp", "lmtp", 0, 0, 0 },
		{ "backup", NULL, 0, 0, 0 },
		{ "tls+backup", NULL, 0, 0, 0 },
		{ NULL, NULL, 0, 0, 0 }
	};
	const char	*sep, *rest;
	char		*m;
	size_t		 n, i;

	if ((sep = strstr(url, "://")) == NULL) {
		rest = url;
		i = 0;
	} else {
		n = (size_t)(sep - url);
		for (i = 0; map[i].scheme; i++)
			if (strlen(map[i].scheme) == n &&
			    strncmp(map[i].scheme, url, n) == 0)
				break;
		if (map[i].scheme == NULL) {
			conf_error(p, line, "relay URL %s: unknown scheme",
			    url);
			return;
		}
		rest = sep + 3;
	}
	if (map[i].modern == NULL) {
		conf_warn(p, line, "relay via %s translated to relay backup "
		    "mx", url);
		a->backup = 1;
		a->backup_mx = conf_strdup(p->a, rest);
		return;
	}
	if (map[i].fallback)
		conf_warn(p, line, "relay via %s: fallback to STARTTLS not "
		    "supported, using smtps", url);
	m = conf_alloc(p->a, strlen(map[i].modern) + strlen(rest) + 4);
	sprintf(m, "%s://%s", map[i].modern, rest);
	if (conf_check_relay_url(p, m, line) == 0)
		a->host = conf_table_single(p, m);
	else
		a->host = conf_table_single(p, "invalid");
	if (map[i].no_verify)
		a->relay_tls = CONF_RELAY_TLS_NO_VERIFY;
	*need_auth = map[i].auth;
}

/* legacy_pki_cert - pki declared by a 5.3 `certificate NAME` */
static char *
legacy_pki_cert(struct conf_parser *p, const char *name)
{
	struct conf_pki	*k;

	if ((k = conf_pki_get(p, name, 0)) == NULL) {
		k = conf_pki_get(p, name, 1);
		k->cert = conf_alloc(p->a, strlen(name) + 32);
		sprintf(k->cert, "/etc/mail/certs/%s.crt", name);
		k->key = conf_alloc(p->a, strlen(name) + 32);
		sprintf(k->key, "/etc/mail/certs/%s.key", name);
	}
	return k->name;
}

/* legacy_relay - the options after `relay` */
static void
legacy_relay(struct conf_parser *p, struct conf_action *a, int line)
{
	char	*url = NULL;
	int	 need_auth = 0, verify = 0, tls = 0;

	a->method = CONF_METHOD_RELAY;
	if (conf_accept_kw(p, "via"))
		url = conf_expect_value(p, "a relay URL");
	for (;;) {
		if (conf_accept_kw(p, "as"))
			a->mail_from = conf_expect_value(p, "an address");
		else if (conf_accept_kw(p, "source"))
			a->src = conf_parse_tables(p, SVC_SOURCE);
		else if (conf_accept_kw(p, "hostname"))
			a->helo = conf_expect_value(p, "a host name");
		else if (conf_accept_kw(p, "hostnames") ||
		    conf_accept_kw(p, "helo"))
			a->helo_src = conf_parse_tables(p, SVC_ADDRNAME);
		else if (conf_accept_kw(p, "pki"))
			a->pki = conf_expect_value(p, "a pki name");
		else if (conf_accept_kw(p, "ca"))
			a->ca = conf_expect_value(p, "a ca name");
		else if (conf_accept_kw(p, "verify"))
			verify = 1;
		else if (url && conf_accept_kw(p, "auth"))
			a->auth = conf_parse_tables(p, SVC_CREDENTIALS);
		else if (url && conf_accept_kw(p, "certificate"))
			a->pki = legacy_pki_cert(p, conf_expect_value(p,
			    "a certificate name"));
		else if (!url && conf_accept_kw(p, "backup")) {
			a->backup = 1;
			if (conf_peek_table(p) && !conf_peek_kw(p, "as") &&
			    !conf_peek_kw(p, "source") &&
			    !conf_peek_kw(p, "via"))
				a->backup_mx = conf_expect_value(p, "an MX");
		} else if (!url && conf_accept_kw(p, "tls")) {
			tls = 1;
			if (conf_accept_kw(p, "verify"))
				verify = 1;
		} else
			break;
	}
	if (url) {
		legacy_url(p, a, url, &need_auth, line);
		if (verify && a->relay_tls == CONF_RELAY_TLS_NO_VERIFY)
			a->relay_tls = CONF_RELAY_TLS_DEFAULT;
		if (need_auth && a->auth == NULL)
			conf_error(p, line, "auth without auth table");
		if (!need_auth && a->auth != NULL)
			conf_error(p, line, "auth table given but the URL has "
			    "no +auth scheme");
	} else if (tls || verify)
		a->relay_tls = verify ? CONF_RELAY_TLS_VERIFY :
		    CONF_RELAY_TLS_NO_VERIFY;
}

/* legacy_deliver - deliver to mbox | maildir [P] | lmtp D | mda C */
static void
legacy_deliver(struct conf_parser *p, struct conf_action *a)
{
	conf_expect_kw(p, "to");
	if (conf_accept_kw(p, "mbox"))
		a->method = CONF_METHOD_MBOX;
	else if (conf_accept_kw(p, "maildir")) {
		a->method = CONF_METHOD_MAILDIR;
		if (conf_peek(p)->type == T_QSTR)
			a->path = conf_expect_value(p, "a maildir path");
	} else if (conf_accept_kw(p, "lmtp")) {
		a->method = CONF_METHOD_LMTP;
		a->path = conf_expect_value(p, "an LMTP destination");
		if (conf_accept_kw(p, "rcpt-to"))
			a->rcpt_to = 1;
		if (conf_accept_kw(p, "as"))
			a->user = conf_expect_value(p, "a user");
	} else if (conf_accept_kw(p, "mda")) {
		a->method = CONF_METHOD_MDA;
		a->path = conf_expect_value(p, "a command");
		if (conf_accept_kw(p, "as"))
			a->user = conf_expect_value(p, "a user");
	} else
		conf_unexpected(p, conf_next(p), "mbox, maildir, lmtp or mda");
}

/* legacy_from - from [!] ( any | local | source <t> | <t> ) */
static void
legacy_from(struct conf_parser *p, struct legacy_rule *r, int line)
{
	legacy_once(p, r->from_set, "from", line);
	r->from_set = 1;
	r->from_neg = legacy_neg(p);
	if (conf_accept_kw(p, "any"))
		r->from = LEGACY_FROM_ANY;
	else if (conf_accept_kw(p, "local"))
		r->from = LEGACY_FROM_LOCAL;
	else {
		conf_accept_kw(p, "source");
		r->from = LEGACY_FROM_SOURCE;
		r->from_table = conf_parse_tables(p, SVC_NETADDR);
		conf_check_netaddr(p, r->from_table, line);
	}
}

/* legacy_for - for [!] ( any | local | domain <t> ) */
static void
legacy_for(struct conf_parser *p, struct legacy_rule *r, int line)
{
	struct conf_criterion	*c = &r->crit[CONF_CRIT_FOR];

	legacy_once(p, c->present, "for", line);
	c->present = 1;
	c->negate = legacy_neg(p);
	if (conf_accept_kw(p, "any"))
		c->what = CONF_FOR_ANY;
	else if (conf_accept_kw(p, "local"))
		c->what = CONF_FOR_LOCAL;
	else {
		conf_expect_kw(p, "domain");
		c->what = CONF_FOR_DOMAIN;
		c->table = conf_parse_tables(p, SVC_DOMAIN);
	}
}

/* legacy_action_name - legacy-N, shared by rules with the same action */
static void
legacy_action_name(struct conf_parser *p, struct conf_action *a, int n,
    int line)
{
	FILE	*fp;
	char	*mine = NULL, *other = NULL;
	size_t	 len, olen, i;

	if ((fp = open_memstream(&mine, &len)) == NULL)
		conf_fatal(p, "out of memory");
	conf_dump_action_body(fp, a);
	fclose(fp);
	for (i = 0; i < p->conf->nactions; i++) {
		if (strncmp(p->conf->actions[i]->name, "legacy-", 7) != 0)
			continue;
		if ((fp = open_memstream(&other, &olen)) == NULL)
			break;
		conf_dump_action_body(fp, p->conf->actions[i]);
		fclose(fp);
		if (strcmp(mine, other) == 0) {
			free(other);
			free(mine);
			a->name = p->conf->actions[i]->name;
			return;
		}
		free(other);
		other = NULL;
	}
	free(mine);
	a->name = conf_alloc(p->a, 32);
	snprintf(a->name, 32, "legacy-%d", n);
	conf_action_add(p, a, line);
}

/* legacy_emit - one translated match rule */
static void
legacy_emit(struct conf_parser *p, struct legacy_rule *lr, int reject,
    int from_what, int from_neg, struct conf_table *from_table, int auth)
{
	struct conf_rule	*r;

	r = conf_alloc(p->a, sizeof(*r));
	memcpy(r->crit, lr->crit, sizeof(r->crit));
	r->line = lr->line;
	r->crit[CONF_CRIT_FROM].present = 1;
	r->crit[CONF_CRIT_FROM].what = from_what;
	r->crit[CONF_CRIT_FROM].negate = from_neg;
	r->crit[CONF_CRIT_FROM].table = from_table;
	if (auth) {
		r->crit[CONF_CRIT_AUTH].present = 1;
		r->crit[CONF_CRIT_AUTH].negate = auth < 0;
	}
	r->reject = reject;
	r->action = lr->action;
	conf_rule_finish(p, r);
}

/* legacy_translate - the match rules of one legacy rule (section 11.4) */
static void
legacy_translate(struct conf_parser *p, struct legacy_rule *r, int reject)
{
	struct conf_table	*t = r->from_table;
	int			 auth = r->auth;

	switch (r->from) {
	case LEGACY_FROM_DEFAULT:
	case LEGACY_FROM_LOCAL:
		if (r->from_neg) {
			if (auth == 1)
				goto never;
			legacy_emit(p, r, reject, CONF_FROM_LOCAL, 1, NULL, -1);
		} else if (auth == 0) {
			legacy_emit(p, r, reject, CONF_FROM_LOCAL, 0, NULL, 0);
			legacy_emit(p, r, reject, CONF_FROM_ANY, 0, NULL, 1);
		} else if (auth == 1)
			legacy_emit(p, r, reject, CONF_FROM_ANY, 0, NULL, 1);
		else
			legacy_emit(p, r, reject, CONF_FROM_LOCAL, 0, NULL, -1);
		break;
	case LEGACY_FROM_ANY:
		if (r->from_neg)
			conf_warn(p, r->line, "from ! any never matches");
		legacy_emit(p, r, reject, CONF_FROM_ANY, r->from_neg, NULL,
		    auth);
		break;
	case LEGACY_FROM_SOURCE:
		if (!r->from_neg) {
			if (auth == 1)
				goto never;
			legacy_emit(p, r, reject, CONF_FROM_SRC, 0, t, -1);
		} else if (auth == 0) {
			legacy_emit(p, r, reject, CONF_FROM_SRC, 1, t, 0);
			legacy_emit(p, r, reject, CONF_FROM_ANY, 0, NULL, 1);
		} else if (auth == 1)
			legacy_emit(p, r, reject, CONF_FROM_ANY, 0, NULL, 1);
		else
			legacy_emit(p, r, reject, CONF_FROM_SRC, 1, t, -1);
		break;
	}
	return;
never:
	conf_warn(p, r->line, "rule can never match (authenticated sessions "
	    "were 'local' in 5.x); dropped");
}

/* legacy_rule - accept ... | reject ... */
static void
legacy_rule(struct conf_parser *p, int reject, int line)
{
	struct legacy_rule	 r;
	struct conf_action	*a;
	struct conf_tok		*t;
	int			 neg, lookups = 0;
	char			 kw[32];

	memset(&r, 0, sizeof(r));
	r.line = line;
	a = conf_alloc(p->a, sizeof(*a));
	a->method = CONF_METHOD_EXPAND_ONLY;
	for (;;) {
		t = conf_peek(p);
		if (t->type == T_NL || t->type == T_EOF)
			break;
		line = t->line;
		neg = 0;
		if (t->type == T_BANG) {
			conf_next(p);
			neg = 1;
			if (!conf_peek_kw(p, "authenticated"))
				conf_unexpected(p, conf_next(p), "authenticated");
		}
		t = conf_next(p);
		if (t->type != T_WORD)
			conf_unexpected(p, t, "a rule keyword");
		strlcpy(kw, t->s, sizeof(kw));
		if (strcmp(kw, "from") == 0)
			legacy_from(p, &r, line);
		else if (strcmp(kw, "for") == 0)
			legacy_for(p, &r, line);
		else if (strcmp(kw, "sender") == 0)
			legacy_crit(p, &r, CONF_CRIT_MAIL_FROM, kw, SVC_MAILADDR,
			    line);
		else if (strcmp(kw, "recipient") == 0)
			legacy_crit(p, &r, CONF_CRIT_RCPT_TO, kw, SVC_MAILADDR,
			    line);
		else if (strcmp(kw, "tagged") == 0) {
			legacy_once(p, r.crit[CONF_CRIT_TAG].present, kw,
			    line);
			r.crit[CONF_CRIT_TAG].present = 1;
			r.crit[CONF_CRIT_TAG].negate = legacy_neg(p);
			r.crit[CONF_CRIT_TAG].table = conf_table_single(p,
			    conf_expect_value(p, "a tag"));
		} else if (strcmp(kw, "authenticated") == 0) {
			legacy_once(p, r.auth != 0, kw, line);
			r.auth = neg ? -1 : 1;
		} else if (reject)
			conf_syntax(p, "reject rules take only from, for, "
			    "sender, recipient, tagged and authenticated, "
			    "not '%s'", kw);
		else if (strcmp(kw, "alias") == 0 || strcmp(kw, "virtual") == 0) {
			legacy_once(p, a->alias || a->virtual, kw, line);
			if (strcmp(kw, "alias") == 0)
				a->alias = conf_parse_tables(p, SVC_ALIAS);
			else
				a->virtual = conf_parse_tables(p, SVC_ALIAS);
			lookups = 1;
		} else if (strcmp(kw, "userbase") == 0) {
			legacy_once(p, a->userbase != NULL, kw, line);
			a->userbase = conf_parse_tables(p, SVC_USERINFO);
			lookups = 1;
		} else if (strcmp(kw, "deliver") == 0) {
			legacy_once(p, r.delivery, "delivery", line);
			r.delivery = 1;
			legacy_deliver(p, a);
		} else if (strcmp(kw, "relay") == 0) {
			legacy_once(p, r.delivery, "delivery", line);
			r.delivery = 1;
			legacy_relay(p, a, line);
		} else if (strcmp(kw, "expire") == 0) {
			legacy_once(p, a->ttl != 0, kw, line);
			a->ttl = conf_expect_delay(p, "expire");
		} else if (strcmp(kw, "forward-only") == 0) {
			legacy_once(p, r.forward_only, kw, line);
			r.forward_only = 1;
		} else
			conf_syntax(p, "unknown keyword '%s' in %s rule", kw,
			    reject ? "reject" : "accept");
	}
	conf_expect_nl(p, "the rule");
	p->nlegacy_rules++;
	if (!reject) {
		if (a->method == CONF_METHOD_RELAY && lookups)
			conf_error(p, r.line, "relay rules may not have alias, "
			    "virtual or userbase");
		if (!r.delivery && r.forward_only)
			a->method = CONF_METHOD_FORWARD_ONLY;
		legacy_action_name(p, a, p->nlegacy_rules, r.line);
		r.action = a;
	}
	if (!r.crit[CONF_CRIT_FOR].present) {
		r.crit[CONF_CRIT_FOR].present = 1;
		r.crit[CONF_CRIT_FOR].what = CONF_FOR_LOCAL;
	}
	legacy_translate(p, &r, reject);
}

/* conf_legacy_statement - a legacy-only statement; 0 if T is not one */
int
conf_legacy_statement(struct conf_parser *p, struct conf_tok *t)
{
	const struct conf_option	*o;
	char				 kw[32];
	int				 line = t->line;

	if (strlen(t->s) >= sizeof(kw))
		return 0;
	strlcpy(kw, t->s, sizeof(kw));
	if (strcmp(kw, "accept") == 0 || strcmp(kw, "reject") == 0) {
		conf_mode_mark(p, 1, line, strcmp(kw, "accept") == 0 ?
		    "accept" : "reject");
		legacy_rule(p, strcmp(kw, "reject") == 0, line);
		return 1;
	}
	if (strcmp(kw, "filterchain") == 0)
		conf_syntax(p, "legacy in-process filters are not supported");
	/* expire, bounce-warn, ciphers...: the CONF_OPTIONS legacy column */
	if ((o = conf_option_find_legacy(kw)) != NULL) {
		conf_mode_mark(p, 1, line, o->legacy);
		conf_parse_option_line(p, o, line);
		return 1;
	}
	if (strcmp(kw, "limit") == 0) {
		conf_mode_mark(p, 1, line, "limit");
		if (conf_accept_kw(p, "session"))
			conf_parse_global(p, "smtp", "limit", line);
		else if (conf_accept_kw(p, "mda"))
			conf_parse_global(p, "mda", "limit", line);
		else if (conf_accept_kw(p, "mta"))
			conf_parse_global(p, "mta", "limit", line);
		else if (conf_accept_kw(p, "scheduler"))
			conf_parse_global(p, "scheduler", "limit", line);
		else
			conf_unexpected(p, conf_next(p), "session, mda, mta or "
			    "scheduler");
		return 1;
	}
	return 0;
}

/* conf_legacy_finish - the tagged local socket and 5.4 pki CAs */
void
conf_legacy_finish(struct conf_parser *p)
{
	struct conf_listener	*l;
	size_t			 i, j, k;

	if (p->modern_line)
		return;		/* mixed: already refused */
	for (i = 0; i < p->conf->nlisteners; i++) {
		l = p->conf->listeners[i];
		if (l->kind == CONF_LISTEN_SOCKET) {
			if (l->filter.nnames)
				conf_error(p, 0, "legacy filters on the socket "
				    "are not supported");
			if (l->tag == NULL)
				l->tag = "local";
			continue;
		}
		if (l->ca || !l->tls_verify)
			continue;
		for (j = 0; j < l->npki && !l->ca; j++)
			for (k = 0; k < p->nlegacy_cas; k++)
				if (strcmp(p->legacy_cas[k]->name,
				    l->pki[j]) == 0)
					l->ca = p->legacy_cas[k]->name;
	}
	if (!p->socket_seen) {
		l = conf_alloc(p->a, sizeof(*l));
		l->kind = CONF_LISTEN_SOCKET;
		l->on = "socket";
		l->tag = "local";
		conf_push(p->a, &p->conf->listeners, &p->conf->nlisteners, l);
		p->socket_seen = 1;
	}
	p->conf->legacy = 1;
}
