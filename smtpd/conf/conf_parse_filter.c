/*
 * conf_parse_filter.c -- `proc` and `filter` statements of smtpd.conf:
 * filter processes, built-in phase filters, chains, and the filter
 * references of listeners and relay actions.
 *
 * Runs in parent and `smtpd -n`.  Names are unique across procs and
 * filters and must be declared before use; a chain may not hold a chain,
 * the same filter twice or two filters of one process.  Nothing here
 * fatals on the configuration's contents.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

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
void
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
void
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
void
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
