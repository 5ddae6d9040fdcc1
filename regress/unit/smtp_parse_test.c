/*
 * smtp_parse_test.c -- unit tests of the SMTP server's pure parsers
 * (smtpd/dispatcher/smtp_parse.c): verbs, domains and address
 * literals, paths (null sender, source routes, quoted local parts, no
 * domain, every refused shape), MAIL and RCPT parameters (SIZE at the
 * limit -1/0/+1 and far beyond, BODY, AUTH, RET, ENVID, NOTIFY, ORCPT,
 * no-dsn), xtext and the sanitising of echoed text.  Table-driven.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "smtp_parse.h"
#include "test.h"

struct smtpd_env	*env;

static void
test_verbs(void)
{
	static const struct { const char *line; enum smtp_verb v;
	    const char *args; } t[] = {
		{ "HELO a.b", SMTP_VERB_HELO, "a.b" },
		{ "ehlo   a.b", SMTP_VERB_EHLO, "a.b" },
		{ "MAIL FROM:<a@b>", SMTP_VERB_MAIL, "FROM:<a@b>" },
		{ "rcpt TO:<a@b>", SMTP_VERB_RCPT, "TO:<a@b>" },
		{ "DATA", SMTP_VERB_DATA, "" },
		{ "RSET", SMTP_VERB_RSET, "" },
		{ "NOOP x y", SMTP_VERB_NOOP, "x y" },
		{ "HELP", SMTP_VERB_HELP, "" },
		{ "QUIT", SMTP_VERB_QUIT, "" },
		{ "VRFY root", SMTP_VERB_VRFY, "root" },
		{ "EXPN list", SMTP_VERB_EXPN, "list" },
		{ "WIZ", SMTP_VERB_WIZ, "" },
		{ "MAILX", SMTP_VERB_UNKNOWN, "" },
		{ "", SMTP_VERB_UNKNOWN, "" },
		{ "BDAT 10", SMTP_VERB_UNKNOWN, "10" },
		{ "STARTTLS", SMTP_VERB_STARTTLS, "" },	/* tls */
		{ "starttls x", SMTP_VERB_STARTTLS, "x" },
		{ "STARTTLSX", SMTP_VERB_UNKNOWN, "" },
	};
	const char	*args;
	char		 what[128];
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(what, sizeof what, "verb \"%s\"", t[i].line);
		CHECK(smtp_parse_verb(t[i].line, &args) == t[i].v &&
		    strcmp(args, t[i].args) == 0, what);
	}
}

static void
test_domains(void)
{
	static const struct { const char *d; int ok; } t[] = {
		{ "example.org", 1 }, { "a", 1 }, { "a-b.c", 1 },
		{ "x1.y2.z3", 1 }, { "[127.0.0.1]", 1 }, { "[IPv6:::1]", 1 },
		{ "[IPv6:2001:db8::1]", 1 }, { "", 0 }, { "x..y", 0 },
		{ ".x", 0 }, { "x.", 0 }, { "-x", 0 }, { "x-", 0 },
		{ "x-.y", 0 }, { "a b", 0 }, { "a@b", 0 }, { "[1.2.3]", 0 },
		{ "[256.1.1.1]", 0 }, { "[IPv6:zz]", 0 }, { "[::1]", 0 },
		{ "[127.0.0.1", 0 }, { "a\rb", 0 }, { "caf\xc3\xa9", 0 },
	};
	char	what[128], label[70], big[300];
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(what, sizeof what, "domain \"%s\" %s", t[i].d,
		    t[i].ok ? "ok" : "refused");
		smtp_sanitize(what, sizeof what, what, strlen(what));
		CHECK(smtp_parse_domain(t[i].d, strlen(t[i].d)) == t[i].ok,
		    what);
	}
	memset(label, 'a', sizeof label);
	CHECK(smtp_parse_domain(label, 63), "label of 63");
	CHECK(!smtp_parse_domain(label, 64), "label of 64 refused");
	for (i = 0; i < sizeof big; i++)
		big[i] = i % 2 ? '.' : 'a';
	CHECK(smtp_parse_domain(big, 255), "domain of 255");
	CHECK(!smtp_parse_domain(big, 257), "domain of 257 refused");
}

static void
test_paths(void)
{
	static const struct { const char *p; int flags; int ok;
	    const char *user, *domain, *rest; } t[] = {
		{ "<a@b.c>", 0, 1, "a", "b.c", "" },
		{ "<a@b.c> SIZE=1", 0, 1, "a", "b.c", " SIZE=1" },
		{ "<>", SMTP_PATH_NULL_OK, 1, "", "", "" },
		{ "<>", 0, 0, NULL, NULL, NULL },
		{ "<root>", 0, 1, "root", "mx.test", "" },
		{ "<\"a b\"@c.d>", 0, 1, "\"a b\"", "c.d", "" },
		{ "<\"a@b\"@c.d>", 0, 1, "\"a@b\"", "c.d", "" },
		{ "<\"a\\\"b\"@c.d>", 0, 1, "\"a\\\"b\"", "c.d", "" },
		{ "<@a,@b:u@d>", 0, 1, "u", "d", "" },
		{ "<@a:u@d>", 0, 1, "u", "d", "" },
		{ "<u%v@d>", 0, 1, "u%v", "d", "" },
		{ "<a!b!c@d>", 0, 1, "a!b!c", "d", "" },
		{ "<a.b+c@[127.0.0.1]>", 0, 1, "a.b+c", "[127.0.0.1]", "" },
		{ "<u@[IPv6:::1]>", 0, 1, "u", "[IPv6:::1]", "" },
		{ "<a@b@c>", 0, 0, NULL, NULL, NULL },
		{ "<@bleh>", 0, 0, NULL, NULL, NULL },
		{ "<@a,@b:>", 0, 0, NULL, NULL, NULL },
		{ "<@a,b:u@d>", 0, 0, NULL, NULL, NULL },
		{ "<\"ab@c.d>", 0, 0, NULL, NULL, NULL },
		{ "<a\"b@c.d>", 0, 0, NULL, NULL, NULL },
		{ "<a\rb@c.d>", 0, 0, NULL, NULL, NULL },
		{ "<a\nb@c.d>", 0, 0, NULL, NULL, NULL },
		{ "<\"a\rb\"@c.d>", 0, 0, NULL, NULL, NULL },
		{ "<a@b.c", 0, 0, NULL, NULL, NULL },
		{ "a@b.c", 0, 0, NULL, NULL, NULL },
		{ "<a..b@c>", 0, 0, NULL, NULL, NULL },
		{ "<.a@c>", 0, 0, NULL, NULL, NULL },
		{ "<a.@c>", 0, 0, NULL, NULL, NULL },
		{ "<a@>", 0, 0, NULL, NULL, NULL },
		{ "<@>", 0, 0, NULL, NULL, NULL },
		{ "<a@b..c>", 0, 0, NULL, NULL, NULL },
		{ "<a@[1.2.3.4>", 0, 0, NULL, NULL, NULL },
		{ "<a b@c>", 0, 0, NULL, NULL, NULL },
		{ "<\xc3\xa9@c>", 0, 0, NULL, NULL, NULL },
		{ "", 0, 0, NULL, NULL, NULL },
		{ "<", 0, 0, NULL, NULL, NULL },
	};
	struct mailaddr	 ma;
	const char	*end;
	char		 what[160], big[400];
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(what, sizeof what, "path \"%s\" %s", t[i].p,
		    t[i].ok ? "ok" : "refused");
		smtp_sanitize(what, sizeof what, what, strlen(what));
		r = smtp_parse_path(t[i].p, &end, t[i].flags, "mx.test", &ma);
		if (!t[i].ok)
			CHECK(r == -1, what);
		else
			CHECK(r == 0 && strcmp(ma.user, t[i].user) == 0 &&
			    strcmp(ma.domain, t[i].domain) == 0 &&
			    strcmp(end, t[i].rest) == 0, what);
	}
	CHECK(smtp_parse_path("<root>", &end, 0, NULL, &ma) == -1,
	    "no domain and no default: refused");
	/* a local part of 255 fits, 256 does not (mailaddr user[256]) */
	big[0] = '<';
	memset(big + 1, 'u', 255);
	strcpy(big + 256, "@d>");
	CHECK(smtp_parse_path(big, &end, 0, "x", &ma) == 0 &&
	    strlen(ma.user) == 255, "local part of 255");
	memset(big + 1, 'u', 256);
	strcpy(big + 257, "@d>");
	CHECK(smtp_parse_path(big, &end, 0, "x", &ma) == -1,
	    "local part of 256 refused");
}

static void
test_mail_params(void)
{
	static const struct { const char *s; int no_dsn;
	    enum smtp_param_err err; } t[] = {
		{ "", 0, SMTP_PARAM_OK },
		{ " SIZE=999", 0, SMTP_PARAM_OK },
		{ " SIZE=1000", 0, SMTP_PARAM_OK },
		{ " SIZE=1001", 0, SMTP_PARAM_TOO_BIG },
		{ " SIZE=99999999999999999999", 0, SMTP_PARAM_TOO_BIG },
		{ " SIZE=9223372036854775807", 0, SMTP_PARAM_TOO_BIG },
		{ " SIZE=9223372036854775808", 0, SMTP_PARAM_TOO_BIG },
		{ " SIZE=", 0, SMTP_PARAM_SYNTAX },
		{ " SIZE", 0, SMTP_PARAM_SYNTAX },
		{ " SIZE=-1", 0, SMTP_PARAM_SYNTAX },
		{ " SIZE=1x", 0, SMTP_PARAM_SYNTAX },
		{ " SIZE=1 SIZE=2", 0, SMTP_PARAM_SYNTAX },
		{ " BODY=7BIT", 0, SMTP_PARAM_OK },
		{ " body=8bitmime", 0, SMTP_PARAM_OK },
		{ " BODY=BINARYMIME", 0, SMTP_PARAM_SYNTAX },
		{ " AUTH=<>", 0, SMTP_PARAM_OK },
		{ " AUTH=a+2Bb", 1, SMTP_PARAM_OK },
		{ " RET=FULL", 0, SMTP_PARAM_OK },
		{ " RET=HDRS", 0, SMTP_PARAM_OK },
		{ " RET=ALL", 0, SMTP_PARAM_SYNTAX },
		{ " RET=FULL RET=HDRS", 0, SMTP_PARAM_SYNTAX },
		{ " RET=FULL", 1, SMTP_PARAM_UNKNOWN },
		{ " ENVID=abc+2B", 0, SMTP_PARAM_OK },
		{ " ENVID=a=b", 0, SMTP_PARAM_SYNTAX },
		{ " ENVID=a+2", 0, SMTP_PARAM_SYNTAX },
		{ " ENVID=a+2b", 0, SMTP_PARAM_SYNTAX },
		{ " ENVID=", 0, SMTP_PARAM_SYNTAX },
		{ " ENVID=x", 1, SMTP_PARAM_UNKNOWN },
		{ " FOO=1", 0, SMTP_PARAM_UNKNOWN },
		{ " SMTPUTF8", 0, SMTP_PARAM_UNKNOWN },
	};
	struct smtp_mail_params	p;
	char			bad[64], what[128], envid[120];
	size_t			i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(what, sizeof what, "MAIL params \"%s\"%s -> %d",
		    t[i].s, t[i].no_dsn ? " no-dsn" : "", t[i].err);
		CHECK(smtp_parse_mail_params(t[i].s, t[i].no_dsn, 1000, &p,
		    bad, sizeof bad) == t[i].err, what);
	}
	CHECK(smtp_parse_mail_params(" SIZE=12 BODY=8BITMIME RET=HDRS "
	    "ENVID=q+2Bz", 0, 1000, &p, bad, sizeof bad) == SMTP_PARAM_OK &&
	    p.size == 12 && p.body8 == 1 && p.dsn_ret == 2 &&
	    strcmp(p.envid, "q+2Bz") == 0, "MAIL params values");
	CHECK(smtp_parse_mail_params(" FOO=\r\n", 0, 1000, &p, bad,
	    sizeof bad) == SMTP_PARAM_UNKNOWN && strchr(bad, '\r') == NULL &&
	    strchr(bad, '\n') == NULL, "offending keyword sanitised");
	memcpy(envid, " ENVID=", 7);
	memset(envid + 7, 'e', 100);
	envid[107] = '\0';
	CHECK(smtp_parse_mail_params(envid, 0, 1000, &p, bad, sizeof bad)
	    == SMTP_PARAM_OK && strlen(p.envid) == 100, "ENVID of 100");
	envid[107] = 'e';
	envid[108] = '\0';
	CHECK(smtp_parse_mail_params(envid, 0, 1000, &p, bad, sizeof bad)
	    == SMTP_PARAM_SYNTAX, "ENVID of 101 refused");
}

static void
test_rcpt_params(void)
{
	static const struct { const char *s; int no_dsn;
	    enum smtp_param_err err; int notify; } t[] = {
		{ "", 0, SMTP_PARAM_OK, 0 },
		{ " NOTIFY=NEVER", 0, SMTP_PARAM_OK, DSN_NOTIFY_NEVER },
		{ " NOTIFY=SUCCESS,FAILURE,DELAY", 0, SMTP_PARAM_OK,
		    DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE |
		    DSN_NOTIFY_DELAY },
		{ " notify=failure", 0, SMTP_PARAM_OK, DSN_NOTIFY_FAILURE },
		{ " NOTIFY=NEVER,SUCCESS", 0, SMTP_PARAM_NOTIFY, 0 },
		{ " NOTIFY=SUCCESS,", 0, SMTP_PARAM_NOTIFY, 0 },
		{ " NOTIFY=", 0, SMTP_PARAM_NOTIFY, 0 },
		{ " NOTIFY=SOMETIMES", 0, SMTP_PARAM_NOTIFY, 0 },
		{ " NOTIFY=NEVER", 1, SMTP_PARAM_UNKNOWN, 0 },
		{ " ORCPT=rfc822;a@b.c", 0, SMTP_PARAM_OK, 0 },
		{ " ORCPT=RFC822;a+40x@b.c", 0, SMTP_PARAM_OK, 0 },
		{ " ORCPT=x400;a@b", 0, SMTP_PARAM_ORCPT, 0 },
		{ " ORCPT=rfc822;", 0, SMTP_PARAM_ORCPT, 0 },
		{ " ORCPT=rfc822;a+0Db@c", 0, SMTP_PARAM_ORCPT, 0 },
		{ " ORCPT=rfc822;a+zz", 0, SMTP_PARAM_ORCPT, 0 },
		{ " ORCPT", 0, SMTP_PARAM_ORCPT, 0 },
		{ " FOO", 0, SMTP_PARAM_UNKNOWN, 0 },
		{ " SIZE=1", 0, SMTP_PARAM_UNKNOWN, 0 },
	};
	struct smtp_rcpt_params	p;
	char			bad[64], what[128];
	size_t			i;
	enum smtp_param_err	e;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(what, sizeof what, "RCPT params \"%s\"%s -> %d",
		    t[i].s, t[i].no_dsn ? " no-dsn" : "", t[i].err);
		e = smtp_parse_rcpt_params(t[i].s, t[i].no_dsn, &p, bad,
		    sizeof bad);
		CHECK(e == t[i].err && (e != SMTP_PARAM_OK ||
		    p.notify == t[i].notify), what);
	}
	CHECK(smtp_parse_rcpt_params(" ORCPT=rfc822;a+2Bb@c.d", 0, &p, bad,
	    sizeof bad) == SMTP_PARAM_OK && strcmp(p.orcpt.user, "a+b") == 0
	    && strcmp(p.orcpt.domain, "c.d") == 0, "ORCPT decoded");
}

static void
test_text(void)
{
	char	buf[16], out[8];

	smtp_sanitize(buf, sizeof buf, "a\rb\nc\x7f" "d", 8);
	CHECK_STR(buf, "a?b?c?d", "sanitize control bytes");
	smtp_sanitize(buf, 4, "abcdef", 6);
	CHECK_STR(buf, "abc", "sanitize truncates");
	CHECK(smtp_xtext_valid("ab+2B", 5), "xtext valid");
	CHECK(!smtp_xtext_valid("a b", 3), "xtext space refused");
	CHECK(!smtp_xtext_valid("+", 1), "xtext lone +");
	CHECK(smtp_xtext_decode("a+41", 4, out, sizeof out) == 0 &&
	    strcmp(out, "aA") == 0, "xtext decode");
	CHECK(smtp_xtext_decode("a+00", 4, out, sizeof out) == -1,
	    "xtext NUL refused");
	CHECK(smtp_xtext_decode("abcdefgh", 8, out, sizeof out) == -1,
	    "xtext too long refused");
}

int
main(void)
{
	test_verbs();
	test_domains();
	test_paths();
	test_mail_params();
	test_rcpt_params();
	test_text();
	return test_done();
}
