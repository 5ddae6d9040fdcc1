/*
 * conf_option.c -- the global statements of smtpd.conf as a table.
 *
 * conf_options[] is built from the CONF_OPTIONS rows of conf.h: each
 * row gives a statement's keywords, its 5.x spelling, the type, bounds
 * and default of its value, and which processes may receive it.  The
 * parser (conf_parse.c), the defaults (here), the canonical dump and the
 * redaction of what each process receives (conf_dump.c) and conf_equal()
 * (conf_equal.c) all walk this one table, so an option is added in one
 * place.  The options of actions and of listen on are rows of their
 * own tables below, walked the same way.  Runs wherever a configuration
 * is built; pure data and lookups, it never fails and never fatals.
 */
#include <stddef.h>
#include <string.h>

#include "conf_int.h"

/* a row's default: numbers go to ndef, strings to sdef */
#define CONF_OPT_DEF_FLAG(d)		.ndef = (d)
#define CONF_OPT_DEF_NUMBER(d)		.ndef = (d)
#define CONF_OPT_DEF_DELAY(d)		.ndef = (d)
#define CONF_OPT_DEF_SIZE(d)		.ndef = (d)
#define CONF_OPT_DEF_STRING(d)		.sdef = (d)
#define CONF_OPT_DEF_WORD(d)		.sdef = (d)
#define CONF_OPT_DEF_CHAR(d)		.ndef = (d)
#define CONF_OPT_DEF_DELAYS(d)		.ndef = (d)
#define CONF_OPT_DEF_KEYFLAG(d)		.ndef = (d)
#define CONF_OPT_DEF_LIMITS(d)		.ndef = (d)
#define CONF_OPT_DEF_WRAPPERS(d)	.ndef = (d)
#define CONF_OPT_DEF_MTA_LIMITS(d)	.ndef = (d)

const struct conf_option conf_options[] = {
#define X(field, w, leg, ty, wh, mn, mx, st, def, sn) {		\
	.words = w, .legacy = leg, .type = CONF_OPT_##ty, .what = wh,	\
	.offset = offsetof(struct smtpd_conf, field), .min = mn,	\
	.max = mx, .step = st, CONF_OPT_DEF_##ty(def),			\
	.seen = CONF_SEEN_##sn },
	CONF_OPTIONS(X)
#undef X
};
const size_t conf_noptions = sizeof(conf_options) / sizeof(conf_options[0]);

/*
 * The options of an action, in the order of the canonical dump: the
 * parser (conf_parse_action.c), the dump (conf_dump.c) and the checks
 * each value needs all come from these rows.
 */
#define A(k, ty, field, rel, sv, wh, ck) { .kw = k,			\
	.type = CONF_AOPT_##ty, .offset = offsetof(struct conf_action,	\
	field), .relay = rel, .svc = sv, .what = wh,			\
	.check = CONF_ACHECK_##ck }
const struct conf_action_option conf_action_options[] = {
	A("alias",	TABLE,	alias,		0, SVC_ALIAS, NULL, ALIAS),
	A("virtual",	TABLE,	virtual,	0, SVC_ALIAS, NULL, ALIAS),
	A("userbase",	TABLE,	userbase,	0, SVC_USERINFO, NULL, NONE),
	A("user",	STRING,	user,		0, 0, "a user name", NONE),
	A("wrapper",	STRING,	wrapper,	0, 0, "a wrapper name",
	    WRAPPER),
	A("backup",	BACKUP,	backup,		1, 0, "an MX name", NONE),
	A("host",	TABLE,	host,		1, SVC_RELAYHOST, NULL, URLS),
	A("domain",	TABLE,	domain,		1, SVC_RELAYMAP, NULL,
	    URL_VALUES),
	A("auth",	TABLE,	auth,		1, SVC_CREDENTIALS, NULL, NONE),
	A("tls",	TLS,	relay_tls,	1, 0, NULL, NONE),
	A("pki",	STRING,	pki,		1, 0, "a pki name", PKI),
	A("ca",		STRING,	ca,		1, 0, "a ca name", CA),
	A("ciphers",	STRING,	ciphers,	1, 0, "a cipher list", NONE),
	A("protocols",	STRING,	protocols,	1, 0, "a protocol list", NONE),
	A("helo",	STRING,	helo,		1, 0, "a host name", NONE),
	A("helo-src",	TABLE,	helo_src,	1, SVC_ADDRNAME, NULL, NONE),
	A("src",	TABLE,	src,		1, SVC_SOURCE, NULL, NONE),
	A("mail-from",	STRING,	mail_from,	1, 0, "an address", NONE),
	A("srs",	FLAG,	srs,		1, 0, NULL, NONE),
	A("filter",	FILTER,	filter,		1, 0, NULL, NONE),
};
#undef A
const size_t conf_naction_options = sizeof(conf_action_options) /
    sizeof(conf_action_options[0]);

/*
 * The options of listen on, in the order of the canonical dump: the
 * parser (conf_parse_listen.c), the dump (conf_dump.c) and conf_equal()
 * (conf_equal.c) all walk these rows.  L(keyword, type, field, second
 * field, value, word after, uniqueness group, what, service, flags).
 */
#define LOFF(f)		offsetof(struct conf_listener, f)
#define L(k, ty, f, f2, v, sb, on, wh, sv, fl) { .kw = k,		\
	.type = CONF_LOPT_##ty, .offset = LOFF(f), .offset2 = LOFF(f2),	\
	.val = v, .sub = sb, .once = on, .what = wh, .svc = sv,		\
	.flags = fl, .field = #f, .field2 = #f2 }
#define SOCK	CONF_LOPT_SOCKET
#define LEG	(CONF_LOPT_LEGACY | CONF_LOPT_ALIAS)
_Static_assert(sizeof(enum conf_tls_mode) == sizeof(int) &&
    sizeof(enum conf_auth_mode) == sizeof(int),
    "listener option rows store these enums through an int");
const struct conf_listen_option conf_listen_options[] = {
	L("inet4", ENUM, family, family, 4, NULL, "address family", NULL,
	    0, 0),
	L("inet6", ENUM, family, family, 6, NULL, "address family", NULL,
	    0, 0),
	L("port", PORT, port, port, 0, NULL, "port", "a port", 0, 0),
	L("tls", ENUM, tls, tls_verify, CONF_TLS_STARTTLS, NULL, "TLS mode",
	    NULL, 0, 0),
	L("tls-require", ENUM, tls, tls_verify, CONF_TLS_REQUIRE, "verify",
	    "TLS mode", NULL, 0, 0),
	L("smtps", ENUM, tls, tls_verify, CONF_TLS_SMTPS, "verify",
	    "TLS mode", NULL, 0, 0),
	L("pki", PKIS, pki, npki, 0, NULL, NULL, "a pki name", 0, 0),
	L("ca", NAME, ca, ca, 0, NULL, "ca", "a ca name", 0, 0),
	L("ciphers", STRING, ciphers, ciphers, 0, NULL, "ciphers",
	    "a cipher list", 0, 0),
	L("protocols", STRING, protocols, protocols, 0, NULL, "protocols",
	    "a protocol list", 0, 0),
	L("auth", AUTH, auth, auth_table, CONF_AUTH_REQUIRE, NULL, "auth",
	    NULL, SVC_CREDENTIALS, 0),
	L("auth-optional", AUTH, auth, auth_table, CONF_AUTH_OPTIONAL, NULL,
	    "auth", NULL, SVC_CREDENTIALS, 0),
	L("senders", TABLE, senders, masquerade, 0, "masquerade", "senders",
	    NULL, SVC_MAILADDRMAP, 0),
	L("tag", TAG, tag, tag, 0, NULL, "tag", "a tag", 0, SOCK),
	L("hostname", STRING, hostname, hostname, 0, NULL, "hostname",
	    "a host name", 0, 0),
	L("hostnames", TABLE, hostnames, hostnames, 0, NULL, "hostnames",
	    NULL, SVC_ADDRNAME, 0),
	L("mask-src", FLAG, mask_src, mask_src, 0, NULL, "mask-src", NULL,
	    0, SOCK),
	L("received-auth", FLAG, received_auth, received_auth, 0, NULL,
	    "received-auth", NULL, 0, 0),
	L("no-dsn", FLAG, no_dsn, no_dsn, 0, NULL, "no-dsn", NULL, 0, SOCK),
	L("proxy-v2", FLAG, proxy_v2, proxy_v2, 0, NULL, "proxy-v2", NULL,
	    0, 0),
	L("filter", FILTER, filter, filter, 0, NULL, NULL, NULL, 0, SOCK),
	/* 5.x spellings (smtpd-conf.md): parsed, never dumped */
	L("mask-source", FLAG, mask_src, mask_src, 0, NULL, "mask-src", NULL,
	    0, SOCK | LEG),
	L("secure", DUAL, tls, tls, CONF_TLS_STARTTLS, NULL, "TLS mode",
	    NULL, 0, CONF_LOPT_ALIAS),
	L("ssl", DUAL, tls, tls, CONF_TLS_STARTTLS, NULL, "TLS mode", NULL,
	    0, CONF_LOPT_ALIAS),
	L("certificate", CERT, pki, pki, 0, NULL, "pki",
	    "a certificate name", 0, LEG),
};
#undef L
#undef LOFF
#undef SOCK
#undef LEG
const size_t conf_nlisten_options = sizeof(conf_listen_options) /
    sizeof(conf_listen_options[0]);
/* the parser keeps the uniqueness groups seen as bits of an unsigned */
_Static_assert(sizeof(conf_listen_options) / sizeof(conf_listen_options[0])
    <= 32, "too many listen options for the parser's seen bits");

/* conf_option_defaults - every option of C at its default */
void
conf_option_defaults(struct smtpd_conf *c)
{
	const struct conf_option	*o;
	struct conf_delays		*d;
	size_t				 i;

	for (i = 0; i < conf_noptions; i++) {
		o = &conf_options[i];
		switch (o->type) {
		case CONF_OPT_FLAG:
			*CONF_OPT_PTR(c, o, int) = (int)o->ndef;
			break;
		case CONF_OPT_NUMBER:
		case CONF_OPT_DELAY:
		case CONF_OPT_SIZE:
			*CONF_OPT_PTR(c, o, long long) = o->ndef;
			break;
		case CONF_OPT_STRING:
		case CONF_OPT_WORD:
			*CONF_OPT_PTR(c, o, char *) = conf_strdup(c->arena,
			    o->sdef);
			break;
		case CONF_OPT_CHAR:
			*CONF_OPT_PTR(c, o, char) = (char)o->ndef;
			break;
		case CONF_OPT_DELAYS:
			d = CONF_OPT_PTR(c, o, struct conf_delays);
			d->v[0] = o->ndef;
			d->n = 1;
			break;
		case CONF_OPT_KEYFLAG:
			CONF_OPT_PTR(c, o, struct conf_keyflag)->on =
			    (int)o->ndef;
			break;
		case CONF_OPT_LIMITS:
#define LIMIT(field, key, def)	l->field = def;
			if (o->offset == offsetof(struct smtpd_conf,
			    mda_limits)) {
				struct conf_mda_limits *l = &c->mda_limits;
				CONF_MDA_LIMITS(LIMIT)
			} else if (o->offset == offsetof(struct smtpd_conf,
			    scheduler_limits)) {
				struct conf_scheduler_limits *l =
				    &c->scheduler_limits;
				CONF_SCHEDULER_LIMITS(LIMIT)
			} else {
				struct conf_smtp_limits *l = &c->smtp_limits;
				CONF_SMTP_LIMITS(LIMIT)
			}
#undef LIMIT
			break;
		case CONF_OPT_WRAPPERS:
		case CONF_OPT_MTA_LIMITS:
			break;		/* empty lists */
		}
	}
}

/* conf_option_find - the row of the statement WORDS ("srs key"), or NULL */
const struct conf_option *
conf_option_find(const char *words)
{
	size_t	i;

	for (i = 0; i < conf_noptions; i++)
		if (strcmp(conf_options[i].words, words) == 0)
			return &conf_options[i];
	return NULL;
}

/* conf_option_find_legacy - the row a 5.x keyword stands for, or NULL */
const struct conf_option *
conf_option_find_legacy(const char *kw)
{
	size_t	i;

	for (i = 0; i < conf_noptions; i++)
		if (conf_options[i].legacy != NULL &&
		    strcmp(conf_options[i].legacy, kw) == 0)
			return &conf_options[i];
	return NULL;
}

/* conf_option_first_word - does some global statement start with KW */
int
conf_option_first_word(const char *kw)
{
	size_t	i, n = strlen(kw);

	for (i = 0; i < conf_noptions; i++)
		if (strncmp(conf_options[i].words, kw, n) == 0 &&
		    (conf_options[i].words[n] == ' ' ||
		    conf_options[i].words[n] == '\0'))
			return 1;
	return 0;
}

/* conf_option_last_word - "ttl" of "queue ttl" (messages name it so) */
const char *
conf_option_last_word(const struct conf_option *o)
{
	const char	*s = strrchr(o->words, ' ');

	return s != NULL ? s + 1 : o->words;
}
