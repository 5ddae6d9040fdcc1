/*
 * conf_parse.c -- the statement loop of the smtpd.conf parser (OpenSMTPD
 * 6.4 to 7.x grammar), error reporting, the token helpers and value
 * parsers every statement uses, macros, include and global options.
 *
 * A hand-written recursive descent parser over conf_lex.c tokens; runs in
 * parent and `smtpd -n`.  Each statement is one line.  A syntax error
 * unwinds (longjmp) to the statement loop, which skips to the next line;
 * semantic errors are reported and the parse goes on, so one run shows
 * every independent error.  Names must be declared before use.  Tables,
 * pki/ca, filters, listeners, actions and rules have their own
 * conf_parse_*.c; legacy statements go to conf_legacy.c.  Never fatal()
 * on input.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

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
int
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

/* conf_format_delay - seconds in the largest exact unit: 4d, 90m */
void
conf_format_delay(char *buf, size_t size, long long v)
{
	if (v % 86400 == 0)
		snprintf(buf, size, "%lldd", v / 86400);
	else if (v % 3600 == 0)
		snprintf(buf, size, "%lldh", v / 3600);
	else if (v % 60 == 0)
		snprintf(buf, size, "%lldm", v / 60);
	else
		snprintf(buf, size, "%llds", v);
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
long long
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
int
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

/* conf_parse_first_word - the first keyword of row O, into BUF */
static const char *
conf_parse_first_word(const struct conf_option *o, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strcspn(o->words, " "), o->words);
	return buf;
}

/* conf_parse_wrapper - mda wrapper NAME COMMAND */
static void
conf_parse_wrapper(struct conf_parser *p, const struct conf_option *o,
    int line)
{
	struct smtpd_conf	*c = p->conf;
	struct conf_wrapper	*w;
	size_t			 i;

	w = conf_alloc(p->a, sizeof(*w));
	w->name = conf_expect_string(p, o->what);
	w->command = conf_expect_string(p, "a command");
	for (i = 0; i < c->nwrappers; i++)
		if (strcmp(c->wrappers[i]->name, w->name) == 0)
			break;
	if (i < c->nwrappers)
		conf_error(p, line, "mda wrapper already declared with that "
		    "name: %s", w->name);
	else
		conf_push(p->a, &c->wrappers, &c->nwrappers, w);
}

/* conf_parse_keyflag - queue encryption [key] [KEY] */
static void
conf_parse_keyflag(struct conf_parser *p, const struct conf_option *o,
    int line)
{
	struct conf_keyflag	*k;
	char			*s, legacy[64];

	k = CONF_OPT_PTR(p->conf, o, struct conf_keyflag);
	k->on = 1;
	k->key = NULL;
	if (conf_accept_kw(p, "key")) {
		/* 5.x spelled it "queue encryption key KEY" */
		snprintf(legacy, sizeof(legacy), "%s key", o->words);
		conf_mode_mark(p, 1, line, conf_strdup(p->a, legacy));
	}
	if (conf_peek(p)->type != T_WORD && conf_peek(p)->type != T_QSTR)
		return;
	s = conf_expect_value(p, o->what);
	if (strcmp(s, "-") == 0)
		s = "stdin";
	if (strcmp(s, "stdin") && strlen(s) != 32)
		conf_error(p, line, "invalid key for %s (need 32 characters)",
		    o->words);
	k->key = conf_strdup(p->a, s);
}

/* conf_parse_option - the value(s) of global statement O, by its type */
void
conf_parse_option(struct conf_parser *p, const struct conf_option *o,
    int line)
{
	struct conf_delays	*d;
	char			*s, buf[32], min[32];
	long long		 v;
	size_t			 i;

	switch (o->type) {
	case CONF_OPT_FLAG:
		*CONF_OPT_PTR(p->conf, o, int) = 1;
		break;
	case CONF_OPT_NUMBER:
		*CONF_OPT_PTR(p->conf, o, long long) = conf_expect_number(p,
		    o->what, o->min, o->max);
		break;
	case CONF_OPT_DELAY:
		v = conf_expect_delay(p, o->what);
		if (v < o->min) {
			conf_format_delay(min, sizeof(min), o->min);
			conf_error(p, line, "%s delay %llds is too short (at "
			    "least %s)", o->what, v, min);
		}
		*CONF_OPT_PTR(p->conf, o, long long) = v / o->step * o->step;
		break;
	case CONF_OPT_SIZE:
		s = conf_expect_value(p, o->what);
		if ((v = conf_parse_size(s)) < o->min || v > o->max)
			conf_error(p, line, "invalid size: %s", s);
		else
			*CONF_OPT_PTR(p->conf, o, long long) = v;
		break;
	case CONF_OPT_STRING:
		*CONF_OPT_PTR(p->conf, o, char *) = conf_expect_string(p,
		    o->what);
		break;
	case CONF_OPT_WORD:
		s = conf_expect_string(p, o->what);
		for (i = 0; s[i]; i++)
			if (!isprint((unsigned char)s[i]) || s[i] == ' ')
				break;
		if (s[i] != '\0' || i == 0)
			conf_error(p, line, "%s must be printable characters "
			    "without spaces", o->words);
		*CONF_OPT_PTR(p->conf, o, char *) = s;
		break;
	case CONF_OPT_CHAR:
		/* an address delimiter: printable, not a blank, not '@' */
		s = conf_expect_value(p, o->what);
		if (strlen(s) != 1 || !isprint((unsigned char)*s) ||
		    *s == ' ' || *s == '@')
			conf_error(p, line, "%s uses invalid character",
			    conf_option_last_word(o));
		else
			*CONF_OPT_PTR(p->conf, o, char) = *s;
		break;
	case CONF_OPT_DELAYS:
		d = CONF_OPT_PTR(p->conf, o, struct conf_delays);
		d->n = 0;
		do {
			v = conf_expect_delay(p, o->what);
			if (d->n < CONF_BOUNCE_WARN_MAX)
				d->v[d->n++] = v;
			else
				conf_warn(p, line, "only %d %s values are "
				    "kept", CONF_BOUNCE_WARN_MAX, o->what);
		} while (conf_peek(p)->type == T_COMMA && conf_next(p));
		break;
	case CONF_OPT_KEYFLAG:
		conf_parse_keyflag(p, o, line);
		break;
	case CONF_OPT_LIMITS:
	case CONF_OPT_MTA_LIMITS:
		conf_parse_global_limit(p, conf_parse_first_word(o, buf,
		    sizeof(buf)));
		break;
	case CONF_OPT_WRAPPERS:
		conf_parse_wrapper(p, o, line);
		break;
	}
}

/* conf_parse_option_line - statement O and the end of its line */
void
conf_parse_option_line(struct conf_parser *p, const struct conf_option *o,
    int line)
{
	char	first[32];

	conf_parse_option(p, o, line);
	conf_expect_nl(p, conf_parse_first_word(o, first, sizeof(first)));
}

/*
 * conf_parse_global - a global statement (a row of CONF_OPTIONS) whose
 * first keyword KW was read, SUB the second when the caller read it;
 * 0 if no global statement starts with KW
 */
int
conf_parse_global(struct conf_parser *p, const char *kw, const char *sub,
    int line)
{
	const struct conf_option	*o, *longer;
	struct conf_tok			*t;
	char				 words[128];

	if (!conf_option_first_word(kw))
		return 0;
	if ((o = conf_option_find(kw)) == NULL) {
		if (sub == NULL)
			sub = conf_expect_value(p, "an option name");
		snprintf(words, sizeof(words), "%s %.64s", kw, sub);
		if (strlen(sub) > 64 || (o = conf_option_find(words)) == NULL)
			conf_syntax(p, "unknown %s option '%s'", kw, sub);
	}
	/* "srs key backup" extends "srs key" */
	t = conf_peek(p);
	if (t->type == T_WORD && t->len <= 64) {
		snprintf(words, sizeof(words), "%s %s", o->words, t->s);
		if ((longer = conf_option_find(words)) != NULL) {
			conf_next(p);
			o = longer;
		}
	}
	conf_parse_option_line(p, o, line);
	return 1;
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

/* conf_parse_include - include "FILE" */
static void
conf_parse_include(struct conf_parser *p, int line)
{
	char	*name;

	name = conf_expect_string(p, "a file name");
	conf_expect_nl(p, "the include file name");
	conf_lex_push_file(p, name, line);
}

/* the statements of the modern grammar besides the global options;
 * modern: only in the modern grammar (refused mixed with legacy rules) */
static const struct {
	const char	*kw;
	void		(*parse)(struct conf_parser *, int line);
	int		 modern;
} conf_statements[] = {
	{ "include",	conf_parse_include,	0 },
	{ "table",	conf_parse_table,	0 },
	{ "pki",	conf_parse_pki,		0 },
	{ "ca",		conf_parse_ca,		0 },
	{ "proc",	conf_parse_proc,	0 },
	{ "filter",	conf_parse_filter,	0 },
	{ "listen",	conf_parse_listen,	0 },
	{ "action",	conf_parse_action,	1 },
	{ "match",	conf_parse_match,	1 },
};

/* conf_parse_statement - one statement starting with token T */
static void
conf_parse_statement(struct conf_parser *p, struct conf_tok *t)
{
	char	 kw[32], *name, *value;
	int	 line = t->line;
	size_t	 i;

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
	for (i = 0; i < sizeof(conf_statements) / sizeof(conf_statements[0]);
	    i++) {
		if (strcmp(kw, conf_statements[i].kw) != 0)
			continue;
		if (conf_statements[i].modern)
			conf_mode_mark(p, 0, line, kw);
		conf_statements[i].parse(p, line);
		return;
	}
	if (!conf_parse_global(p, kw, NULL, line) &&
	    !conf_legacy_statement(p, t))
		conf_syntax(p, "unknown keyword '%s'", kw);
}

/* conf_parse_finish - checks that need the whole file */
static void
conf_parse_finish(struct conf_parser *p)
{
	struct conf_listener	*l;

	p->stmt_line = p->lastline;
	conf_listen_finish(p);
	if (p->legacy_line)
		conf_legacy_finish(p);
	conf_pki_load_all(p);
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
