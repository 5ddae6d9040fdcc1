/*
 * conf_parse_match.c -- `match` rules of smtpd.conf: criteria, their
 * negation and operands, and the action or reject that ends a rule.
 *
 * Runs in parent and `smtpd -n`.  Each criterion slot is taken at most
 * once per rule; the implicit `from local` / `for local` are filled in
 * when the rule is kept.  Nothing here fatals on input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

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
void
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
