/*
 * api_ldap_socketmap_test.c -- unit tests for the parsers that
 * table-ldap and table-socketmap keep in api/: RFC 4515 escaping,
 * filter templates and attribute lists (api_ldap.c), and the socketmap
 * netstring codec and reply classifier (socketmap_proto.c).
 * Table-driven: one row per case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_ldap.h"
#include "socketmap_proto.h"
#include "test.h"

/* ldap_test_escape - RFC 4515 section 3 examples and our extras */
static void
ldap_test_escape(void)
{
	static const struct {
		const char	*in, *want;
	} rows[] = {
		{ "bob", "bob" },
		{ "*", "\\2a" },
		{ "a*b(c)\\d", "a\\2ab\\28c\\29\\5cd" },
		{ "Parens R Us (for all your parenthetical needs)",
		    "Parens R Us \\28for all your parenthetical needs\\29" },
		{ "\x01\x7f", "\\01\\7f" },
		{ "h\xc3\xa9llo", "h\xc3\xa9llo" },
		{ "", "" },
	};
	char	out[128];
	size_t	i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		CHECK(api_ldap_escape(rows[i].in, out, sizeof out) ==
		    (int)strlen(rows[i].want), rows[i].in);
		CHECK_STR(out, rows[i].want, rows[i].in);
	}
	CHECK(api_ldap_escape("**", out, 6) == -1, "escape: no room");
	CHECK(api_ldap_escape("**", out, 7) == 6, "escape: just fits");
}

/* ldap_test_filters - templates checked and expanded */
static void
ldap_test_filters(void)
{
	static const struct {
		const char	*tmpl, *key, *want;	/* want NULL: refused */
	} rows[] = {
		{ "(uid=%u)", "bob", "(uid=bob)" },
		{ "(uid=%s)", "bob", "(uid=bob)" },
		{ "(&(cn=%h)(uid=%u))", "x*", "(&(cn=tbl)(uid=x\\2a))" },
		{ "(uid=%u)", "*)(|(uid=*", "(uid=\\2a\\29\\28|\\28uid=\\2a)" },
		{ "(pct=100%%)", "k", "(pct=100%)" },
		{ "(a=\\28%u)", "k", "(a=\\28k)" },
		{ "(uid=%d)", "bob", NULL },
		{ "(uid=%", "bob", NULL },
		{ "(uid=%u", "bob", NULL },
		{ "uid=%u", "bob", NULL },
		{ "(uid=%u))(", "bob", NULL },
	};
	char	dst[API_LDAP_FILTER_MAX], err[256];
	size_t	i;
	int	ok;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err[0] = '\0';
		ok = api_ldap_filter_check(rows[i].tmpl, err, sizeof err) == 0;
		if (rows[i].want == NULL) {
			CHECK(!ok && err[0] != '\0', rows[i].tmpl);
			continue;
		}
		CHECK(ok, rows[i].tmpl);
		CHECK(api_ldap_filter_expand(rows[i].tmpl, rows[i].key, "tbl",
		    dst, sizeof dst, err, sizeof err) == 0, rows[i].tmpl);
		CHECK_STR(dst, rows[i].want, rows[i].tmpl);
	}
	CHECK(api_ldap_filter_expand("(uid=%u)", "abcdef", "t", dst, 10, err,
	    sizeof err) == -1 && strstr(err, "longer") != NULL,
	    "expand: too long for the buffer");
}

/* ldap_test_attrs - attribute lists */
static void
ldap_test_attrs(void)
{
	static const struct {
		const char	*in;
		size_t		 n;		/* 0: refused */
		const char	*last;
	} rows[] = {
		{ "mail", 1, "mail" },
		{ "uid,userPassword", 2, "userPassword" },
		{ " uidNumber , gidNumber,\thomeDirectory ", 3,
		    "homeDirectory" },
		{ "a;lang-en", 1, "a;lang-en" },
		{ "2.5.4.3", 1, "2.5.4.3" },
		{ "a,b,c,d", 0, NULL },
		{ "a,,b", 0, NULL },
		{ "", 0, NULL },
		{ "ho st", 0, NULL },
		{ "uid,", 0, NULL },
	};
	char	*attrs[API_LDAP_ATTRS_MAX + 1], err[256];
	size_t	 i, n;
	int	 r;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err[0] = '\0';
		r = api_ldap_attrs_parse(rows[i].in, attrs, &n, err,
		    sizeof err);
		if (rows[i].n == 0) {
			CHECK(r == -1 && err[0] != '\0' && attrs[0] == NULL,
			    rows[i].in);
			continue;
		}
		CHECK(r == 0 && n == rows[i].n && attrs[n] == NULL,
		    rows[i].in);
		if (r == 0) {
			CHECK_STR(attrs[n - 1], rows[i].last, rows[i].in);
			api_ldap_attrs_free(attrs);
		}
	}
}

/* socketmap_test_decode - netstrings as a server sends them */
static void
socketmap_test_decode(void)
{
	static const struct {
		const char	*what, *in;
		size_t		 max;
		int		 want;		/* 1, 0 more, -1 refused */
		const char	*data;
	} rows[] = {
		{ "ok", "9:NOTFOUND ,", 100, 1, "NOTFOUND " },
		{ "empty", "0:,", 100, 1, "" },
		{ "extra bytes after", "2:OK,3:abc,", 100, 1, "OK" },
		{ "partial length", "12", 100, 0, NULL },
		{ "partial payload", "5:OK a", 100, 0, NULL },
		{ "no comma yet", "2:OK", 100, 0, NULL },
		{ "nothing", "", 100, 0, NULL },
		{ "no comma", "2:OK;", 100, -1, NULL },
		{ "letters", "x:OK,", 100, -1, NULL },
		{ "no length", ":OK,", 100, -1, NULL },
		{ "leading zero", "02:OK,", 100, -1, NULL },
		{ "over the limit", "101:", 100, -1, NULL },
		{ "just the limit", "3:abc,", 3, 1, "abc" },
		{ "too many digits", "00000000001", 100, -1, NULL },
		{ "huge length", "99999999999:", SOCKETMAP_REPLY_MAX, -1, NULL },
		{ "newline", "2\n:OK,", 100, -1, NULL },
	};
	const char	*data, *err;
	size_t		 i, dlen, used;
	int		 r;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err = NULL;
		r = socketmap_decode(rows[i].in, strlen(rows[i].in),
		    rows[i].max, &data, &dlen, &used, &err);
		CHECK(r == rows[i].want, rows[i].what);
		if (r == -1)
			CHECK(err != NULL, rows[i].what);
		if (r == 1)
			CHECK(dlen == strlen(rows[i].data) &&
			    memcmp(data, rows[i].data, dlen) == 0 &&
			    used == dlen + (size_t)(strchr(rows[i].in, ':') -
			    rows[i].in) + 2, rows[i].what);
	}
}

/* socketmap_test_reply - status words */
static void
socketmap_test_reply(void)
{
	static const struct {
		const char		*in;
		int			 ok;
		enum socketmap_status	 st;
		const char		*text;
	} rows[] = {
		{ "OK bob@example.com", 1, SOCKETMAP_OK, "bob@example.com" },
		{ "OK ", 1, SOCKETMAP_OK, "" },
		{ "OK", 1, SOCKETMAP_OK, "" },
		{ "NOTFOUND ", 1, SOCKETMAP_NOTFOUND, "" },
		{ "NOTFOUND", 1, SOCKETMAP_NOTFOUND, "" },
		{ "TEMP busy now", 1, SOCKETMAP_TEMP, "busy now" },
		{ "TIMEOUT slow", 1, SOCKETMAP_TIMEOUT, "slow" },
		{ "PERM gone", 1, SOCKETMAP_PERM, "gone" },
		{ "OKAY x", 0, SOCKETMAP_OK, NULL },
		{ "ok x", 0, SOCKETMAP_OK, NULL },
		{ "", 0, SOCKETMAP_OK, NULL },
		{ " OK x", 0, SOCKETMAP_OK, NULL },
	};
	enum socketmap_status	 st;
	const char		*text, *err;
	size_t			 i, tlen;
	int			 r;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		r = socketmap_reply(rows[i].in, strlen(rows[i].in), &st, &text,
		    &tlen, &err);
		if (!rows[i].ok) {
			CHECK(r == -1, rows[i].in);
			continue;
		}
		CHECK(r == 0 && st == rows[i].st && tlen ==
		    strlen(rows[i].text) && memcmp(text, rows[i].text,
		    tlen) == 0, rows[i].in);
	}
	CHECK_STR(socketmap_status_name(SOCKETMAP_TIMEOUT), "TIMEOUT",
	    "status name");
}

/* socketmap_test_encode - requests */
static void
socketmap_test_encode(void)
{
	char	req[32];

	CHECK(socketmap_encode("aliases", "bob", req, sizeof req) == 15 &&
	    strcmp(req, "11:aliases bob,") == 0, "encode");
	CHECK(socketmap_encode("m", "a b,c:", req, sizeof req) > 0 &&
	    strcmp(req, "8:m a b,c:,") == 0, "encode: odd key");
	CHECK(socketmap_encode("m", "", req, sizeof req) > 0 &&
	    strcmp(req, "2:m ,") == 0, "encode: empty key");
	CHECK(socketmap_encode("a b", "k", req, sizeof req) == -1,
	    "encode: map name with a space");
	CHECK(socketmap_encode("", "k", req, sizeof req) == -1,
	    "encode: empty map name");
	CHECK(socketmap_encode("m", "0123456789012345678901234567", req,
	    sizeof req) == -1, "encode: no room");
}

int
main(void)
{
	ldap_test_escape();
	ldap_test_filters();
	ldap_test_attrs();
	socketmap_test_decode();
	socketmap_test_reply();
	socketmap_test_encode();
	return test_done();
}
