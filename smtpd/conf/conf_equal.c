/*
 * conf_equal.c -- compare two configurations field by field.
 *
 * conf_equal() walks every struct of a configuration (options through
 * the CONF_OPTIONS table, limits, pki, ca, tables, wrappers, procs,
 * filters, listeners, actions, rules) and reports the first difference
 * as "WHERE FIELD: A != B".  The round-trip tests use it to prove that
 * parse(dump(c)) rebuilds c, so a field the dump forgets cannot silently
 * miss the processes that rebuild their copy from the dump.  Left out on
 * purpose: where a thing was written (file and line numbers), whether it
 * came from the legacy grammar or was deserialized, and the shape of a
 * file: or db: table, which comes from the file and not from the text.
 * Pure: runs anywhere, allocates nothing, never fails.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

/*
 * A tripwire for the next field: a struct that grows must be compared
 * below before these sizes are updated (LP64 sizes; a field that fits
 * in padding slips through, so read the struct when touching it).  The
 * global options and limits need none: they are compared from their
 * tables.
 */
#if defined(__LP64__)
#define CONF_EQ_SIZE(s, n)	_Static_assert(sizeof(struct s) == (n),	\
	"struct " #s " changed: compare the new field in conf_equal.c")
CONF_EQ_SIZE(conf_table, 56);
CONF_EQ_SIZE(conf_table_entry, 16);
CONF_EQ_SIZE(conf_pki, 56);
CONF_EQ_SIZE(conf_ca, 32);
CONF_EQ_SIZE(conf_filter_ref, 24);
CONF_EQ_SIZE(conf_listener, 176);
CONF_EQ_SIZE(conf_action, 224);
CONF_EQ_SIZE(conf_criterion, 32);
CONF_EQ_SIZE(conf_rule, 280);
CONF_EQ_SIZE(conf_proc, 40);
CONF_EQ_SIZE(conf_filter, 128);
CONF_EQ_SIZE(conf_wrapper, 16);
CONF_EQ_SIZE(conf_mta_limit, 24);
#endif

struct conf_eq {
	char	*why;
	size_t	 whysz;
};

/* conf_eq_differ - record the difference; always 0 */
static int
conf_eq_differ(struct conf_eq *e, const char *where, const char *field,
    const char *a, const char *b)
{
	if (e->why != NULL && e->whysz > 0)
		snprintf(e->why, e->whysz, "%s%s%s: %.100s != %.100s", where,
		    *where && *field ? " " : "", field, a, b);
	return 0;
}

/* conf_eq_num - A == B, or the difference */
static int
conf_eq_num(struct conf_eq *e, const char *where, const char *field,
    long long a, long long b)
{
	char	sa[32], sb[32];

	if (a == b)
		return 1;
	snprintf(sa, sizeof(sa), "%lld", a);
	snprintf(sb, sizeof(sb), "%lld", b);
	return conf_eq_differ(e, where, field, sa, sb);
}

/* conf_eq_str - A and B the same string, or both NULL */
static int
conf_eq_str(struct conf_eq *e, const char *where, const char *field,
    const char *a, const char *b)
{
	char	sa[128], sb[128];

	if (a == NULL && b == NULL)
		return 1;
	if (a != NULL && b != NULL && strcmp(a, b) == 0)
		return 1;
	snprintf(sa, sizeof(sa), a ? "\"%s\"" : "NULL", a);
	snprintf(sb, sizeof(sb), b ? "\"%s\"" : "NULL", b);
	return conf_eq_differ(e, where, field, sa, sb);
}

#define EQ_NUM(e, w, a, b, f)	\
	conf_eq_num(e, w, #f, (long long)(a)->f, (long long)(b)->f)
#define EQ_STR(e, w, a, b, f)	conf_eq_str(e, w, #f, (a)->f, (b)->f)

/* conf_eq_option - the value of global statement O */
static int
conf_eq_option(struct conf_eq *e, const struct conf_option *o,
    const struct smtpd_conf *a, const struct smtpd_conf *b)
{
	const struct conf_delays	*da, *db;
	const struct conf_keyflag	*ka, *kb;
	int				 i;

	switch (o->type) {
	case CONF_OPT_FLAG:
		return conf_eq_num(e, "", o->words, *CONF_OPT_CPTR(a, o, int),
		    *CONF_OPT_CPTR(b, o, int));
	case CONF_OPT_NUMBER:
	case CONF_OPT_DELAY:
	case CONF_OPT_SIZE:
		return conf_eq_num(e, "", o->words,
		    *CONF_OPT_CPTR(a, o, long long),
		    *CONF_OPT_CPTR(b, o, long long));
	case CONF_OPT_STRING:
	case CONF_OPT_WORD:
		return conf_eq_str(e, "", o->words,
		    *CONF_OPT_CPTR(a, o, char *), *CONF_OPT_CPTR(b, o, char *));
	case CONF_OPT_CHAR:
		return conf_eq_num(e, "", o->words,
		    *CONF_OPT_CPTR(a, o, char), *CONF_OPT_CPTR(b, o, char));
	case CONF_OPT_DELAYS:
		da = CONF_OPT_CPTR(a, o, struct conf_delays);
		db = CONF_OPT_CPTR(b, o, struct conf_delays);
		if (!conf_eq_num(e, o->words, "count", da->n, db->n))
			return 0;
		for (i = 0; i < da->n; i++)
			if (!conf_eq_num(e, o->words, "value", da->v[i],
			    db->v[i]))
				return 0;
		return 1;
	case CONF_OPT_KEYFLAG:
		ka = CONF_OPT_CPTR(a, o, struct conf_keyflag);
		kb = CONF_OPT_CPTR(b, o, struct conf_keyflag);
		return conf_eq_num(e, o->words, "", ka->on, kb->on) &&
		    conf_eq_str(e, o->words, "key", ka->key, kb->key);
	case CONF_OPT_LIMITS:
	case CONF_OPT_WRAPPERS:
	case CONF_OPT_MTA_LIMITS:
		return 1;	/* lists: compared by conf_eq_lists() */
	}
	return 1;
}

/* conf_eq_lists - limits, mda wrappers, mta limits */
static int
conf_eq_lists(struct conf_eq *e, const struct smtpd_conf *a,
    const struct smtpd_conf *b)
{
	char	w[64];
	size_t	i;

#define LIMIT(field, key, def)						\
	if (!conf_eq_num(e, w, key, la->field, lb->field))		\
		return 0;
	{
		const struct conf_mda_limits *la = &a->mda_limits,
		    *lb = &b->mda_limits;
		snprintf(w, sizeof(w), "mda limit");
		CONF_MDA_LIMITS(LIMIT)
	}
	{
		const struct conf_scheduler_limits *la = &a->scheduler_limits,
		    *lb = &b->scheduler_limits;
		snprintf(w, sizeof(w), "scheduler limit");
		CONF_SCHEDULER_LIMITS(LIMIT)
	}
	{
		const struct conf_smtp_limits *la = &a->smtp_limits,
		    *lb = &b->smtp_limits;
		snprintf(w, sizeof(w), "smtp limit");
		CONF_SMTP_LIMITS(LIMIT)
	}
#undef LIMIT
	if (!conf_eq_num(e, "mta limit", "count", a->nmta_limits,
	    b->nmta_limits))
		return 0;
	for (i = 0; i < a->nmta_limits; i++) {
		snprintf(w, sizeof(w), "mta limit %zu", i);
		if (!EQ_STR(e, w, &a->mta_limits[i], &b->mta_limits[i],
		    domain) ||
		    !EQ_STR(e, w, &a->mta_limits[i], &b->mta_limits[i], key) ||
		    !EQ_NUM(e, w, &a->mta_limits[i], &b->mta_limits[i], value))
			return 0;
	}
	if (!conf_eq_num(e, "mda wrapper", "count", a->nwrappers,
	    b->nwrappers))
		return 0;
	for (i = 0; i < a->nwrappers; i++) {
		snprintf(w, sizeof(w), "mda wrapper %zu", i);
		if (!EQ_STR(e, w, a->wrappers[i], b->wrappers[i], name) ||
		    !EQ_STR(e, w, a->wrappers[i], b->wrappers[i], command))
			return 0;
	}
	return 1;
}

/* conf_eq_table - a table: by name when named, whole when anonymous */
static int
conf_eq_table(struct conf_eq *e, const char *where, const char *field,
    const struct conf_table *a, const struct conf_table *b, int decl)
{
	char	w[192];
	size_t	i;

	if (a == NULL || b == NULL)
		return conf_eq_str(e, where, field, a ? "a table" : NULL,
		    b ? "a table" : NULL);
	snprintf(w, sizeof(w), "%.96s%s%.64s", where, *where && *field ? " " :
	    "", field);
	if (!EQ_STR(e, w, a, b, name))
		return 0;
	if (a->name != NULL && !decl)
		return 1;	/* the declaration is compared on its own */
	if (!EQ_STR(e, w, a, b, backend) || !EQ_STR(e, w, a, b, config) ||
	    !EQ_NUM(e, w, a, b, single) || !EQ_NUM(e, w, a, b, redacted) ||
	    !EQ_NUM(e, w, a, b, nentries))
		return 0;
	/* a file or db table's shape comes from the file, read where used */
	if (a->backend != NULL && (strcmp(a->backend, "file") == 0 ||
	    strcmp(a->backend, "db") == 0)) {
		if (a->kind == CONF_TABLE_MAP && b->kind == CONF_TABLE_LIST)
			return EQ_NUM(e, w, a, b, kind);
		if (a->kind == CONF_TABLE_LIST && b->kind == CONF_TABLE_MAP)
			return EQ_NUM(e, w, a, b, kind);
	} else if (!EQ_NUM(e, w, a, b, kind))
		return 0;
	for (i = 0; i < a->nentries; i++)
		if (!EQ_STR(e, w, &a->entries[i], &b->entries[i], key) ||
		    !EQ_STR(e, w, &a->entries[i], &b->entries[i], value))
			return 0;
	return 1;
}

/* conf_eq_names - two arrays of strings */
static int
conf_eq_names(struct conf_eq *e, const char *where, const char *field,
    char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	i;

	if (!conf_eq_num(e, where, field, (long long)na, (long long)nb))
		return 0;
	for (i = 0; i < na; i++)
		if (!conf_eq_str(e, where, field, a[i], b[i]))
			return 0;
	return 1;
}

/* conf_eq_filter_ref - filter NAME or filter { A, B } */
static int
conf_eq_filter_ref(struct conf_eq *e, const char *where,
    const struct conf_filter_ref *a, const struct conf_filter_ref *b)
{
	return conf_eq_names(e, where, "filter", a->names, a->nnames,
	    b->names, b->nnames) &&
	    conf_eq_num(e, where, "filter chain", a->inline_chain,
	    b->inline_chain);
}

/* conf_eq_proc - proc NAME CMD user/group/chroot */
static int
conf_eq_proc(struct conf_eq *e, const char *w, const struct conf_proc *a,
    const struct conf_proc *b)
{
	return EQ_STR(e, w, a, b, name) && EQ_STR(e, w, a, b, command) &&
	    EQ_STR(e, w, a, b, user) && EQ_STR(e, w, a, b, group) &&
	    EQ_STR(e, w, a, b, chroot);
}

/* conf_eq_pki - pki and ca declarations */
static int
conf_eq_pki(struct conf_eq *e, const struct smtpd_conf *a,
    const struct smtpd_conf *b)
{
	char	w[128];
	size_t	i;

	if (!conf_eq_num(e, "pki", "count", a->npkis, b->npkis))
		return 0;
	for (i = 0; i < a->npkis; i++) {
		snprintf(w, sizeof(w), "pki %zu", i);
		if (!EQ_STR(e, w, a->pkis[i], b->pkis[i], name) ||
		    !EQ_STR(e, w, a->pkis[i], b->pkis[i], cert) ||
		    !EQ_STR(e, w, a->pkis[i], b->pkis[i], key) ||
		    !EQ_STR(e, w, a->pkis[i], b->pkis[i], dhe))
			return 0;
	}
	if (!conf_eq_num(e, "ca", "count", a->ncas, b->ncas))
		return 0;
	for (i = 0; i < a->ncas; i++) {
		snprintf(w, sizeof(w), "ca %zu", i);
		if (!EQ_STR(e, w, a->cas[i], b->cas[i], name) ||
		    !EQ_STR(e, w, a->cas[i], b->cas[i], cert))
			return 0;
	}
	return 1;
}

/* conf_eq_filters - proc and filter declarations */
static int
conf_eq_filters(struct conf_eq *e, const struct smtpd_conf *a,
    const struct smtpd_conf *b)
{
	const struct conf_filter	*fa, *fb;
	char				 w[128];
	size_t				 i;

	if (!conf_eq_num(e, "proc", "count", a->nprocs, b->nprocs))
		return 0;
	for (i = 0; i < a->nprocs; i++) {
		snprintf(w, sizeof(w), "proc %zu", i);
		if (!conf_eq_proc(e, w, a->procs[i], b->procs[i]))
			return 0;
	}
	if (!conf_eq_num(e, "filter", "count", a->nfilters, b->nfilters))
		return 0;
	for (i = 0; i < a->nfilters; i++) {
		fa = a->filters[i];
		fb = b->filters[i];
		snprintf(w, sizeof(w), "filter %zu", i);
		if (!EQ_STR(e, w, fa, fb, name) || !EQ_NUM(e, w, fa, fb, type) ||
		    !EQ_STR(e, w, fa, fb, proc) ||
		    !conf_eq_proc(e, w, &fa->exec, &fb->exec) ||
		    !EQ_NUM(e, w, fa, fb, phase) || !EQ_NUM(e, w, fa, fb, cond) ||
		    !EQ_NUM(e, w, fa, fb, negate) ||
		    !EQ_NUM(e, w, fa, fb, regex) ||
		    !conf_eq_table(e, w, "table", fa->table, fb->table, 0) ||
		    !EQ_NUM(e, w, fa, fb, decision) ||
		    !EQ_STR(e, w, fa, fb, message) ||
		    !conf_eq_filter_ref(e, w, &fa->chain, &fb->chain))
			return 0;
	}
	return 1;
}

/* conf_eq_listen_opt - the field(s) of listener row O */
static int
conf_eq_listen_opt(struct conf_eq *e, const char *w,
    const struct conf_listen_option *o, const struct conf_listener *a,
    const struct conf_listener *b)
{
	const void	*fa = (const char *)a + o->offset;
	const void	*fb = (const char *)b + o->offset;
	const void	*ga = (const char *)a + o->offset2;
	const void	*gb = (const char *)b + o->offset2;

	switch (o->type) {
	case CONF_LOPT_FLAG:
	case CONF_LOPT_PORT:
		return conf_eq_num(e, w, o->field, *(const int *)fa,
		    *(const int *)fb);
	case CONF_LOPT_ENUM:
		return conf_eq_num(e, w, o->field, *(const int *)fa,
		    *(const int *)fb) && conf_eq_num(e, w, o->field2,
		    *(const int *)ga, *(const int *)gb);
	case CONF_LOPT_AUTH:
		return conf_eq_num(e, w, o->field, *(const int *)fa,
		    *(const int *)fb) && conf_eq_table(e, w, o->field2,
		    *(struct conf_table *const *)ga,
		    *(struct conf_table *const *)gb, 0);
	case CONF_LOPT_NAME:
	case CONF_LOPT_STRING:
	case CONF_LOPT_TAG:
		return conf_eq_str(e, w, o->field, *(char *const *)fa,
		    *(char *const *)fb);
	case CONF_LOPT_PKIS:
		return conf_eq_names(e, w, o->field, *(char **const *)fa,
		    *(const size_t *)ga, *(char **const *)fb,
		    *(const size_t *)gb);
	case CONF_LOPT_TABLE:
		return conf_eq_table(e, w, o->field,
		    *(struct conf_table *const *)fa,
		    *(struct conf_table *const *)fb, 0) &&
		    (o->sub == NULL || conf_eq_num(e, w, o->field2,
		    *(const int *)ga, *(const int *)gb));
	case CONF_LOPT_FILTER:
		return conf_eq_filter_ref(e, w, fa, fb);
	case CONF_LOPT_DUAL:
	case CONF_LOPT_CERT:
		break;		/* parse only */
	}
	return 1;
}

/* conf_eq_listener - one listen on: what it listens on, then each row
 * of conf_listen_options[] */
static int
conf_eq_listener(struct conf_eq *e, const char *w,
    const struct conf_listener *a, const struct conf_listener *b)
{
	const struct conf_listen_option	*o;
	size_t				 i;

	if (!EQ_NUM(e, w, a, b, kind) || !EQ_STR(e, w, a, b, on) ||
	    !EQ_NUM(e, w, a, b, implicit))
		return 0;
	for (i = 0; i < conf_nlisten_options; i++) {
		o = &conf_listen_options[i];
		if (!(o->flags & CONF_LOPT_ALIAS) &&
		    !conf_eq_listen_opt(e, w, o, a, b))
			return 0;
	}
	return 1;
}

/* conf_eq_action - one action: its method, then each row of
 * conf_action_options[] */
static int
conf_eq_action(struct conf_eq *e, const char *w, const struct conf_action *a,
    const struct conf_action *b)
{
	const struct conf_action_option	*o;
	const void			*fa, *fb;
	size_t				 i;
	int				 ok = 1;

	if (!EQ_STR(e, w, a, b, name) || !EQ_NUM(e, w, a, b, method) ||
	    !EQ_NUM(e, w, a, b, ttl) || !EQ_STR(e, w, a, b, path) ||
	    !EQ_NUM(e, w, a, b, junk) || !EQ_NUM(e, w, a, b, rcpt_to))
		return 0;
	for (i = 0; i < conf_naction_options && ok; i++) {
		o = &conf_action_options[i];
		fa = (const char *)a + o->offset;
		fb = (const char *)b + o->offset;
		switch (o->type) {
		case CONF_AOPT_FLAG:
			ok = conf_eq_num(e, w, o->kw, *(const int *)fa,
			    *(const int *)fb);
			break;
		case CONF_AOPT_STRING:
			ok = conf_eq_str(e, w, o->kw, *(char *const *)fa,
			    *(char *const *)fb);
			break;
		case CONF_AOPT_TABLE:
			ok = conf_eq_table(e, w, o->kw,
			    *(struct conf_table *const *)fa,
			    *(struct conf_table *const *)fb, 0);
			break;
		case CONF_AOPT_BACKUP:
			ok = EQ_NUM(e, w, a, b, backup) &&
			    EQ_STR(e, w, a, b, backup_mx);
			break;
		case CONF_AOPT_TLS:
			ok = EQ_NUM(e, w, a, b, relay_tls);
			break;
		case CONF_AOPT_FILTER:
			ok = conf_eq_filter_ref(e, w, &a->filter, &b->filter);
			break;
		}
	}
	return ok;
}

/* conf_eq_rule - one match line (its action by name) */
static int
conf_eq_rule(struct conf_eq *e, const char *where, const struct conf_rule *a,
    const struct conf_rule *b)
{
	const struct conf_criterion	*ca, *cb;
	char				 w[128];
	int				 i;

	for (i = 0; i < CONF_CRIT__MAX; i++) {
		ca = &a->crit[i];
		cb = &b->crit[i];
		snprintf(w, sizeof(w), "%.64s criterion %d", where, i);
		if (!EQ_NUM(e, w, ca, cb, present) ||
		    !EQ_NUM(e, w, ca, cb, negate) ||
		    !EQ_NUM(e, w, ca, cb, what) || !EQ_NUM(e, w, ca, cb, regex) ||
		    !conf_eq_table(e, w, "table", ca->table, cb->table, 0) ||
		    !EQ_NUM(e, w, ca, cb, implied))
			return 0;
	}
	return EQ_NUM(e, where, a, b, reject) &&
	    conf_eq_str(e, where, "action", a->action ? a->action->name : NULL,
	    b->action ? b->action->name : NULL);
}

/*
 * conf_equal - 1 if A and B are the same configuration field by field;
 * else 0 with the first difference in WHY
 */
int
conf_equal(const struct smtpd_conf *a, const struct smtpd_conf *b,
    char *why, size_t whysz)
{
	struct conf_eq	 e = { why, whysz };
	char		 w[128];
	size_t		 i;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	for (i = 0; i < conf_noptions; i++)
		if (!conf_eq_option(&e, &conf_options[i], a, b))
			return 0;
	if (!conf_eq_lists(&e, a, b) || !conf_eq_pki(&e, a, b))
		return 0;
	if (!conf_eq_num(&e, "table", "count", a->ntables, b->ntables))
		return 0;
	for (i = 0; i < a->ntables; i++) {
		snprintf(w, sizeof(w), "table %zu", i);
		if (!conf_eq_table(&e, w, "", a->tables[i], b->tables[i], 1))
			return 0;
	}
	if (!conf_eq_filters(&e, a, b))
		return 0;
	if (!conf_eq_num(&e, "listener", "count", a->nlisteners,
	    b->nlisteners))
		return 0;
	for (i = 0; i < a->nlisteners; i++) {
		snprintf(w, sizeof(w), "listener %zu", i);
		if (!conf_eq_listener(&e, w, a->listeners[i], b->listeners[i]))
			return 0;
	}
	if (!conf_eq_num(&e, "action", "count", a->nactions, b->nactions))
		return 0;
	for (i = 0; i < a->nactions; i++) {
		snprintf(w, sizeof(w), "action %zu", i);
		if (!conf_eq_action(&e, w, a->actions[i], b->actions[i]))
			return 0;
	}
	if (!conf_eq_num(&e, "rule", "count", a->nrules, b->nrules))
		return 0;
	for (i = 0; i < a->nrules; i++) {
		snprintf(w, sizeof(w), "rule %zu", i);
		if (!conf_eq_rule(&e, w, a->rules[i], b->rules[i]))
			return 0;
	}
	return 1;
}
