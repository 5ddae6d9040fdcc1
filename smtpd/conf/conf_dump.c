/*
 * conf_dump.c -- print a configuration back in canonical modern grammar.
 *
 * Used by `smtpd -n -v` and, through conf_serialize(), as the form in
 * which parent ships the configuration to the other processes; so the
 * output must parse back to the same configuration, and printing it
 * again must give the same text.  Order: global options, pki, ca,
 * tables, procs, filters, listeners, actions, rules (declarations always
 * precede their uses).  Options equal to their default are omitted.
 * conf_dump_redacted() leaves out what a given process must not hold.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"
#include "imsg.h"

struct conf_out {
	FILE			*fp;
	const struct smtpd_conf	*conf;
	int			 proc;	/* -1: everything */
};

/* conf_visible - may process PROC hold what is SEEN by those named */
static int
conf_visible(const struct conf_out *o, enum conf_seen seen)
{
	if (o->proc < 0 || o->proc == PROC_PARENT)
		return 1;
	switch (seen) {
	case CONF_SEEN_ALL:
		return 1;
	case CONF_SEEN_LOOKUP:
		return o->proc == PROC_LOOKUP;
	case CONF_SEEN_CA:
		return o->proc == PROC_CA;
	case CONF_SEEN_QUEUE:
		return o->proc == PROC_QUEUE;
	}
	return 0;
}

/* conf_dump_wordlike - would S read back as one unquoted word */
static int
conf_dump_wordlike(const char *s)
{
	size_t	i;

	if (!(isalnum((unsigned char)s[0]) || s[0] == '_' || s[0] == ':' ||
	    s[0] == '-') || conf_is_reserved(s))
		return 0;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f ||
		    strchr("(){}<>!=,", s[i]) != NULL)
			return 0;
	return 1;
}

/*
 * conf_dump_str - a string the lexer reads back unchanged.  Inside
 * quotes a backslash before the quote, a space or a tab is dropped, so
 * such a character that follows a literal backslash is escaped too.
 * A quoted string cannot end with a backslash at all; a value that does
 * came from a word, and is written as one, followed by a blank so that
 * the backslash does not join the next line.
 */
static void
conf_dump_str(FILE *fp, const char *s)
{
	size_t	i, n = strlen(s);

	if (n > 0 && s[n - 1] == '\\' && conf_dump_wordlike(s)) {
		fputs(s, fp);
		fputc(' ', fp);
		return;
	}
	fputc('"', fp);
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || (i > 0 && s[i - 1] == '\\' &&
		    (s[i] == ' ' || s[i] == '\t')))
			fputc('\\', fp);
		fputc(s[i], fp);
	}
	fputc('"', fp);
}

/* conf_dump_name - a name, bare when that reads back the same */
static void
conf_dump_name(FILE *fp, const char *s)
{
	size_t	i;

	if (!(isalnum((unsigned char)s[0]) || s[0] == ':') ||
	    conf_is_reserved(s))
		goto quote;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-:+", s[i]))
			goto quote;
	fputs(s, fp);
	return;
quote:
	conf_dump_str(fp, s);
}

/* conf_dump_delay - seconds in the largest exact unit */
static void
conf_dump_delay(FILE *fp, long long v)
{
	char	buf[32];

	conf_format_delay(buf, sizeof(buf), v);
	fputs(buf, fp);
}

/* conf_table_secret - does table T hold credentials */
static int
conf_table_secret(const struct smtpd_conf *c, const struct conf_table *t)
{
	size_t	i;

	for (i = 0; i < c->nlisteners; i++)
		if (c->listeners[i]->auth_table == t)
			return 1;
	for (i = 0; i < c->nactions; i++)
		if (c->actions[i]->auth == t)
			return 1;
	return 0;
}

/* conf_dump_inline - { ... } of an inline table */
static void
conf_dump_inline(const struct conf_out *o, const struct conf_table *t)
{
	int	hide;
	size_t	i;

	hide = o->conf != NULL && conf_table_secret(o->conf, t) &&
	    !conf_visible(o, CONF_SEEN_LOOKUP);
	fputs("{ ", o->fp);
	for (i = 0; i < t->nentries; i++) {
		if (i)
			fputs(", ", o->fp);
		conf_dump_str(o->fp, t->entries[i].key);
		if (t->entries[i].value) {
			fputs(" = ", o->fp);
			conf_dump_str(o->fp, hide ? "" : t->entries[i].value);
		}
	}
	fputs(" }", o->fp);
}

/* conf_dump_tref - a table operand: <name>, { ... } or a string */
static void
conf_dump_tref(const struct conf_out *o, const struct conf_table *t)
{
	if (t->name) {
		fputc('<', o->fp);
		conf_dump_name(o->fp, t->name);
		fputc('>', o->fp);
	} else if (t->single)
		conf_dump_str(o->fp, t->entries[0].key);
	else
		conf_dump_inline(o, t);
}

/* conf_dump_table - a table declaration */
static void
conf_dump_table(const struct conf_out *o, const struct conf_table *t)
{
	int	hide;
	size_t	i;

	fputs("table ", o->fp);
	conf_dump_name(o->fp, t->name);
	fputc(' ', o->fp);
	if (strcmp(t->backend, "inline") == 0) {
		conf_dump_inline(o, t);
		fputc('\n', o->fp);
		return;
	}
	hide = conf_table_secret(o->conf, t) &&
	    !conf_visible(o, CONF_SEEN_LOOKUP) &&
	    strcmp(t->backend, "file") && strcmp(t->backend, "db");
	if (t->config == NULL || hide) {
		conf_dump_name(o->fp, t->backend);
		fputc('\n', o->fp);
		return;
	}
	for (i = 0; t->config[i]; i++)
		if (!isgraph((unsigned char)t->config[i]) ||
		    strchr("(){}<>!=,#\"'", t->config[i]))
			break;
	if (t->config[i] == '\0' && isalpha((unsigned char)t->backend[0]))
		fprintf(o->fp, "%s:%s\n", t->backend, t->config);
	else if (strcmp(t->backend, "file") == 0 && t->config[0] == '/') {
		conf_dump_str(o->fp, t->config);
		fputc('\n', o->fp);
	} else {
		fprintf(o->fp, "\"%s:", t->backend);
		for (i = 0; t->config[i]; i++) {
			if (t->config[i] == '"')
				fputc('\\', o->fp);
			fputc(t->config[i], o->fp);
		}
		fputs("\"\n", o->fp);
	}
}

/* conf_dump_filter_ref - filter NAME or filter { A, B } */
static void
conf_dump_filter_ref(FILE *fp, const char *prefix,
    const struct conf_filter_ref *r)
{
	size_t	i;

	if (r->nnames == 0)
		return;
	fputs(prefix, fp);
	if (!r->inline_chain) {
		conf_dump_str(fp, r->names[0]);
		return;
	}
	fputs("{ ", fp);
	for (i = 0; i < r->nnames; i++) {
		if (i)
			fputs(", ", fp);
		conf_dump_str(fp, r->names[i]);
	}
	fputs(" }", fp);
}

/* conf_dump_limits - "mda limit KEY N ..." of the keys off their default */
static void
conf_dump_limits(const struct conf_out *o, const struct conf_option *opt)
{
	const struct smtpd_conf	*c = o->conf;
	int			 n = 0;

#define LIMIT(field, key, def)						\
	if (l->field != def) {						\
		if (n++ == 0)						\
			fputs(opt->words, o->fp);			\
		fprintf(o->fp, " %s %lld", key, l->field);		\
	}
	if (opt->offset == offsetof(struct smtpd_conf, mda_limits)) {
		const struct conf_mda_limits *l = &c->mda_limits;
		CONF_MDA_LIMITS(LIMIT)
	} else if (opt->offset == offsetof(struct smtpd_conf,
	    scheduler_limits)) {
		const struct conf_scheduler_limits *l = &c->scheduler_limits;
		CONF_SCHEDULER_LIMITS(LIMIT)
	} else {
		const struct conf_smtp_limits *l = &c->smtp_limits;
		CONF_SMTP_LIMITS(LIMIT)
	}
#undef LIMIT
	if (n)
		fputc('\n', o->fp);
}

/* conf_dump_lists - mda wrapper and mta limit lines, in file order */
static void
conf_dump_lists(const struct conf_out *o, const struct conf_option *opt)
{
	const struct smtpd_conf	*c = o->conf;
	FILE			*fp = o->fp;
	const char		*dom, *key;
	size_t			 i;

	if (opt->type == CONF_OPT_WRAPPERS) {
		for (i = 0; i < c->nwrappers; i++) {
			fprintf(fp, "%s ", opt->words);
			conf_dump_str(fp, c->wrappers[i]->name);
			fputc(' ', fp);
			conf_dump_str(fp, c->wrappers[i]->command);
			fputc('\n', fp);
		}
		return;
	}
	for (i = 0; i < c->nmta_limits; i++) {
		fprintf(fp, "%s ", opt->words);
		if ((dom = c->mta_limits[i].domain) != NULL) {
			fputs("for domain ", fp);
			conf_dump_str(fp, dom);
			fputc(' ', fp);
		}
		key = c->mta_limits[i].key;
		fputs(key, fp);
		if (strcmp(key, "inet4") != 0 && strcmp(key, "inet6") != 0)
			fprintf(fp, " %lld", c->mta_limits[i].value);
		fputc('\n', fp);
	}
}

/* conf_dump_option - statement OPT when its value is not the default */
static void
conf_dump_option(const struct conf_out *o, const struct conf_option *opt)
{
	const struct smtpd_conf		*c = o->conf;
	const struct conf_delays	*d;
	const struct conf_keyflag	*k;
	const char			*s;
	FILE				*fp = o->fp;
	long long			 v;
	int				 i;
	char				 ch;

	switch (opt->type) {
	case CONF_OPT_FLAG:
		if (*CONF_OPT_CPTR(c, opt, int) != opt->ndef)
			fprintf(fp, "%s\n", opt->words);
		break;
	case CONF_OPT_NUMBER:
	case CONF_OPT_SIZE:
		if ((v = *CONF_OPT_CPTR(c, opt, long long)) != opt->ndef)
			fprintf(fp, "%s %lld\n", opt->words, v);
		break;
	case CONF_OPT_DELAY:
		if ((v = *CONF_OPT_CPTR(c, opt, long long)) != opt->ndef) {
			fprintf(fp, "%s ", opt->words);
			conf_dump_delay(fp, v);
			fputc('\n', fp);
		}
		break;
	case CONF_OPT_STRING:
	case CONF_OPT_WORD:
		s = *CONF_OPT_CPTR(c, opt, char *);
		if (s != NULL && (opt->sdef == NULL || strcmp(s, opt->sdef))) {
			fprintf(fp, "%s ", opt->words);
			conf_dump_str(fp, s);
			fputc('\n', fp);
		}
		break;
	case CONF_OPT_CHAR:
		if ((ch = *CONF_OPT_CPTR(c, opt, char)) != opt->ndef)
			fprintf(fp, "%s \"%s%c\"\n", opt->words,
			    ch == '"' ? "\\" : "", ch);
		break;
	case CONF_OPT_DELAYS:
		d = CONF_OPT_CPTR(c, opt, struct conf_delays);
		if (d->n == 1 && d->v[0] == opt->ndef)
			break;
		fprintf(fp, "%s ", opt->words);
		for (i = 0; i < d->n; i++) {
			if (i)
				fputs(", ", fp);
			conf_dump_delay(fp, d->v[i]);
		}
		fputc('\n', fp);
		break;
	case CONF_OPT_KEYFLAG:
		/* the flag is for everyone, the key only for SEEN */
		k = CONF_OPT_CPTR(c, opt, struct conf_keyflag);
		if (!k->on)
			break;
		fputs(opt->words, fp);
		if (k->key && conf_visible(o, opt->seen)) {
			fputc(' ', fp);
			conf_dump_str(fp, k->key);
		}
		fputc('\n', fp);
		break;
	case CONF_OPT_LIMITS:
		conf_dump_limits(o, opt);
		break;
	case CONF_OPT_WRAPPERS:
	case CONF_OPT_MTA_LIMITS:
		conf_dump_lists(o, opt);
		break;
	}
}

/*
 * conf_dump_globals - every global statement off its default, in the
 * order of CONF_OPTIONS; a value PROC may not see is left out whole
 * (a flag with a secret argument keeps the flag)
 */
static void
conf_dump_globals(const struct conf_out *o)
{
	const struct conf_option	*opt;
	size_t				 i;

	for (i = 0; i < conf_noptions; i++) {
		opt = &conf_options[i];
		if (opt->type != CONF_OPT_KEYFLAG &&
		    !conf_visible(o, opt->seen))
			continue;
		conf_dump_option(o, opt);
	}
}

/* conf_dump_pki - pki and ca declarations */
static void
conf_dump_pki(const struct conf_out *o)
{
	const struct smtpd_conf	*c = o->conf;
	const struct conf_pki	*k;
	size_t			 i;

	for (i = 0; i < c->npkis; i++) {
		k = c->pkis[i];
		if (k->cert) {
			fputs("pki ", o->fp);
			conf_dump_name(o->fp, k->name);
			fputs(" cert ", o->fp);
			conf_dump_str(o->fp, k->cert);
			fputc('\n', o->fp);
		}
		if (k->key && conf_visible(o, CONF_SEEN_CA)) {
			fputs("pki ", o->fp);
			conf_dump_name(o->fp, k->name);
			fputs(" key ", o->fp);
			conf_dump_str(o->fp, k->key);
			fputc('\n', o->fp);
		}
		if (k->dhe) {
			fputs("pki ", o->fp);
			conf_dump_name(o->fp, k->name);
			fprintf(o->fp, " dhe %s\n", k->dhe);
		}
	}
	for (i = 0; i < c->ncas; i++) {
		fputs("ca ", o->fp);
		conf_dump_name(o->fp, c->cas[i]->name);
		fputs(" cert ", o->fp);
		conf_dump_str(o->fp, c->cas[i]->cert);
		fputc('\n', o->fp);
	}
}

/* conf_dump_proc_params - user / group / chroot */
static void
conf_dump_proc_params(FILE *fp, const struct conf_proc *pr)
{
	if (pr->user) {
		fputs(" user ", fp);
		conf_dump_str(fp, pr->user);
	}
	if (pr->group) {
		fputs(" group ", fp);
		conf_dump_str(fp, pr->group);
	}
	if (pr->chroot) {
		fputs(" chroot ", fp);
		conf_dump_str(fp, pr->chroot);
	}
}

/* conf_dump_filters - proc and filter declarations */
static void
conf_dump_filters(const struct conf_out *o)
{
	static const char *const phases[] = { "connect", "helo", "ehlo",
	    "auth", "mail-from", "rcpt-to", "data", "commit" };
	static const char *const conds[] = { "fcrdns", "rdns", "src", "helo",
	    "auth", "mail-from", "rcpt-to" };
	static const char *const decisions[] = { "bypass", "junk", "reject",
	    "disconnect", "rewrite", "report" };
	const struct smtpd_conf	*c = o->conf;
	const struct conf_filter *f;
	FILE			*fp = o->fp;
	size_t			 i;

	for (i = 0; i < c->nprocs; i++) {
		fputs("proc ", fp);
		conf_dump_str(fp, c->procs[i]->name);
		fputc(' ', fp);
		conf_dump_str(fp, c->procs[i]->command);
		conf_dump_proc_params(fp, c->procs[i]);
		fputc('\n', fp);
	}
	for (i = 0; i < c->nfilters; i++) {
		f = c->filters[i];
		fputs("filter ", fp);
		conf_dump_str(fp, f->name);
		switch (f->type) {
		case CONF_FILTER_PROC:
			fputs(" proc ", fp);
			conf_dump_str(fp, f->proc);
			break;
		case CONF_FILTER_PROC_EXEC:
			fputs(" proc-exec ", fp);
			conf_dump_str(fp, f->exec.command);
			conf_dump_proc_params(fp, &f->exec);
			break;
		case CONF_FILTER_PHASE:
			fprintf(fp, " phase %s match %s%s%s", phases[f->phase],
			    f->negate ? "!" : "", conds[f->cond],
			    f->regex ? " regex" : "");
			if (f->table) {
				fputc(' ', fp);
				conf_dump_tref(o, f->table);
			}
			fprintf(fp, " %s", decisions[f->decision]);
			if (f->message) {
				fputc(' ', fp);
				conf_dump_str(fp, f->message);
			}
			break;
		case CONF_FILTER_CHAIN:
			conf_dump_filter_ref(fp, " chain ", &f->chain);
			break;
		}
		fputc('\n', fp);
	}
}

/* conf_dump_listen_opt - row O of listener L, when it is set */
static void
conf_dump_listen_opt(const struct conf_out *o, const struct conf_listener *l,
    const struct conf_listen_option *opt)
{
	const void	*f = (const char *)l + opt->offset;
	const void	*f2 = (const char *)l + opt->offset2;
	FILE		*fp = o->fp;
	size_t		 i;

	switch (opt->type) {
	case CONF_LOPT_FLAG:
		if (*(const int *)f)
			fprintf(fp, " %s", opt->kw);
		break;
	case CONF_LOPT_ENUM:
	case CONF_LOPT_AUTH:
		if (*(const int *)f != opt->val)
			break;
		fprintf(fp, " %s", opt->kw);
		if (opt->type == CONF_LOPT_AUTH && *(void *const *)f2) {
			fputc(' ', fp);
			conf_dump_tref(o, *(struct conf_table *const *)f2);
		} else if (opt->sub && opt->type == CONF_LOPT_ENUM &&
		    *(const int *)f2)
			fprintf(fp, " %s", opt->sub);
		break;
	case CONF_LOPT_PORT:
		if (*(const int *)f)
			fprintf(fp, " %s %d", opt->kw, *(const int *)f);
		break;
	case CONF_LOPT_NAME:
	case CONF_LOPT_STRING:
	case CONF_LOPT_TAG:
		if (*(char *const *)f == NULL)
			break;
		fprintf(fp, " %s ", opt->kw);
		if (opt->type == CONF_LOPT_NAME)
			conf_dump_name(fp, *(char *const *)f);
		else
			conf_dump_str(fp, *(char *const *)f);
		break;
	case CONF_LOPT_PKIS:
		for (i = 0; i < *(const size_t *)f2; i++) {
			fprintf(fp, " %s ", opt->kw);
			conf_dump_name(fp, (*(char **const *)f)[i]);
		}
		break;
	case CONF_LOPT_TABLE:
		if (*(void *const *)f == NULL)
			break;
		fprintf(fp, " %s ", opt->kw);
		conf_dump_tref(o, *(struct conf_table *const *)f);
		if (opt->sub && *(const int *)f2)
			fprintf(fp, " %s", opt->sub);
		break;
	case CONF_LOPT_FILTER:
		conf_dump_filter_ref(fp, " filter ", f);
		break;
	case CONF_LOPT_DUAL:
	case CONF_LOPT_CERT:
		break;		/* 5.x words: their effect is dumped */
	}
}

/* conf_dump_listener - one listen on line, the options in the order
 * of conf_listen_options[] */
static void
conf_dump_listener(const struct conf_out *o, const struct conf_listener *l)
{
	size_t	i;

	fputs("listen on ", o->fp);
	if (l->kind == CONF_LISTEN_SOCKET)
		fputs("socket", o->fp);
	else
		conf_dump_name(o->fp, l->on);
	for (i = 0; i < conf_nlisten_options; i++)
		if (!(conf_listen_options[i].flags & CONF_LOPT_ALIAS))
			conf_dump_listen_opt(o, l, &conf_listen_options[i]);
	fputc('\n', o->fp);
}

/* conf_dump_opt_str - " KEY "value"" when set */
static void
conf_dump_opt_str(FILE *fp, const char *key, const char *value)
{
	if (value == NULL)
		return;
	fprintf(fp, " %s ", key);
	conf_dump_str(fp, value);
}

/* conf_dump_opt_tref - " KEY <table>" when set */
static void
conf_dump_opt_tref(const struct conf_out *o, const char *key,
    const struct conf_table *t)
{
	if (t == NULL)
		return;
	fprintf(o->fp, " %s ", key);
	conf_dump_tref(o, t);
}

const char *
conf_method_name(enum conf_method m)
{
	static const char *const names[] = { "mbox", "maildir", "lmtp", "mda",
	    "forward-only", "expand-only", "relay" };

	return names[m];
}

/* conf_dump_action_out - method and options of an action, the options
 * in the order of conf_action_options[] */
static void
conf_dump_action_out(const struct conf_out *o, const struct conf_action *a)
{
	const struct conf_action_option	*opt;
	const void			*f;
	FILE				*fp = o->fp;
	size_t				 i;

	fputs(conf_method_name(a->method), fp);
	if (a->path) {
		fputc(' ', fp);
		conf_dump_str(fp, a->path);
	}
	if (a->junk)
		fputs(" junk", fp);
	if (a->rcpt_to)
		fputs(" rcpt-to", fp);
	for (i = 0; i < conf_naction_options; i++) {
		opt = &conf_action_options[i];
		f = (const char *)a + opt->offset;
		switch (opt->type) {
		case CONF_AOPT_FLAG:
			if (*(const int *)f)
				fprintf(fp, " %s", opt->kw);
			break;
		case CONF_AOPT_STRING:
			conf_dump_opt_str(fp, opt->kw, *(char *const *)f);
			break;
		case CONF_AOPT_TABLE:
			conf_dump_opt_tref(o, opt->kw,
			    *(struct conf_table *const *)f);
			break;
		case CONF_AOPT_BACKUP:
			if (a->backup) {
				fprintf(fp, " %s", opt->kw);
				conf_dump_opt_str(fp, "mx", a->backup_mx);
			}
			break;
		case CONF_AOPT_TLS:
			if (a->relay_tls == CONF_RELAY_TLS_VERIFY)
				fprintf(fp, " %s", opt->kw);
			else if (a->relay_tls == CONF_RELAY_TLS_NO_VERIFY)
				fprintf(fp, " %s no-verify", opt->kw);
			break;
		case CONF_AOPT_FILTER:
			conf_dump_filter_ref(fp, " filter ", &a->filter);
			break;
		}
	}
	if (a->ttl) {
		fputs(" ttl ", fp);
		conf_dump_delay(fp, a->ttl);
	}
}

/* conf_dump_action_body - the text after `action NAME` (legacy naming) */
void
conf_dump_action_body(FILE *fp, const struct conf_action *a)
{
	struct conf_out	o = { fp, NULL, -1 };

	conf_dump_action_out(&o, a);
}

/* conf_dump_rule - one match line */
static void
conf_dump_rule(const struct conf_out *o, const struct conf_rule *r)
{
	static const char *const froms[] = { "any", "local", "socket", "src",
	    "rdns", "auth", "mail-from" };
	static const char *const fors[] = { "any", "local", "domain",
	    "rcpt-to" };
	static const char *const names[CONF_CRIT__MAX] = { "from", "for",
	    "tag", "helo", "auth", "mail-from", "rcpt-to", "tls" };
	static const int order[CONF_CRIT__MAX] = { CONF_CRIT_FROM,
	    CONF_CRIT_AUTH, CONF_CRIT_FOR, CONF_CRIT_TAG, CONF_CRIT_HELO,
	    CONF_CRIT_MAIL_FROM, CONF_CRIT_RCPT_TO, CONF_CRIT_TLS };
	const struct conf_criterion	*c;
	FILE				*fp = o->fp;
	int				 i, k;

	fputs("match", fp);
	for (k = 0; k < CONF_CRIT__MAX; k++) {
		i = order[k];
		c = &r->crit[i];
		if (!c->present || c->implied)
			continue;
		fprintf(fp, " %s%s", c->negate ? "!" : "", names[i]);
		if (i == CONF_CRIT_FROM)
			fprintf(fp, " %s", froms[c->what]);
		else if (i == CONF_CRIT_FOR)
			fprintf(fp, " %s", fors[c->what]);
		if (c->regex)
			fputs(" regex", fp);
		if (c->table) {
			fputc(' ', fp);
			conf_dump_tref(o, c->table);
		}
	}
	if (r->reject)
		fputs(" reject\n", fp);
	else {
		fputs(" action ", fp);
		conf_dump_str(fp, r->action->name);
		fputc('\n', fp);
	}
}

/* conf_dump_redacted - canonical text for process PROC (-1: all) */
void
conf_dump_redacted(FILE *fp, const struct smtpd_conf *c, int proc)
{
	struct conf_out	o = { fp, c, proc };
	size_t		i;

	conf_dump_globals(&o);
	conf_dump_pki(&o);
	for (i = 0; i < c->ntables; i++)
		conf_dump_table(&o, c->tables[i]);
	conf_dump_filters(&o);
	for (i = 0; i < c->nlisteners; i++)
		if (!c->listeners[i]->implicit)
			conf_dump_listener(&o, c->listeners[i]);
	for (i = 0; i < c->nactions; i++) {
		fputs("action ", fp);
		conf_dump_str(fp, c->actions[i]->name);
		fputc(' ', fp);
		conf_dump_action_out(&o, c->actions[i]);
		fputc('\n', fp);
	}
	for (i = 0; i < c->nrules; i++)
		conf_dump_rule(&o, c->rules[i]);
}

void
conf_dump(FILE *fp, const struct smtpd_conf *c)
{
	conf_dump_redacted(fp, c, -1);
}
