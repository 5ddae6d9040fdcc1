/*
 * table_text_test.c -- unit tests for api/table_text.c, the one codec of
 * the OpenSMTPD 7.6+ text table protocol (libexec-protocols.md 7).
 *
 * The handshake lines both ways, every request and reply encoded to the
 * exact lines of the spec and decoded back, keys holding '|' (the last
 * field), CR and LF refused in keys and values, an empty found| value
 * refused both ways, and a table of malformed lines each refused with a
 * reason.  Decoded lines are exact-size heap copies so that ASan builds
 * catch any overread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table_text.h"
#include "test.h"

static char	tt_buf[TABLE_TEXT_LINE_MAX];

/* tt_dup - exact-size heap copy of S, so an overread trips ASan */
static char *
tt_dup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		perror("strdup");
		exit(2);
	}
	return p;
}

static void
test_handshake(void)
{
	const char	*key, *value, *why;
	unsigned int	 svc;
	char		*l;

	CHECK(table_text_encode_config(tt_buf, sizeof tt_buf, "0.1", "aliases")
	    > 0 && strcmp(tt_buf, "config|smtpd-version|0.1\n"
	    "config|protocol|0.1\nconfig|tablename|aliases\nconfig|ready\n")
	    == 0, "config lines as the 7.6 daemon writes them");
	CHECK(table_text_encode_config(tt_buf, sizeof tt_buf, "0.1",
	    "a\nb") == -1, "a table name with LF is refused");
	CHECK(table_text_encode_config(tt_buf, 20, "0.1", "aliases") == -1,
	    "config lines that do not fit are refused");
	CHECK(table_text_encode_register(tt_buf, sizeof tt_buf,
	    K_ALIAS | K_DOMAIN | TABLE_TEXT_K_AUTH) > 0 &&
	    strcmp(tt_buf, "register|alias\nregister|domain\n"
	    "register|auth\nregister|ready\n") == 0, "register lines");
	CHECK(table_text_encode_register(tt_buf, sizeof tt_buf, 0) == -1,
	    "registering nothing is refused");

	l = tt_dup("config|tablename|a|b");
	CHECK(table_text_decode_config(l, &key, &value, &why) == 0 &&
	    strcmp(key, "tablename") == 0 && strcmp(value, "a|b") == 0,
	    "config value is the rest of the line");
	free(l);
	l = tt_dup("config|ready");
	CHECK(table_text_decode_config(l, &key, &value, &why) == 0 &&
	    strcmp(key, "ready") == 0 && value == NULL, "config|ready");
	free(l);
	l = tt_dup("config|smtpd-version");
	CHECK(table_text_decode_config(l, &key, &value, &why) == -1 &&
	    why != NULL, "config key without value refused");
	free(l);
	l = tt_dup("table|0.1|1.0|t|update|1");
	CHECK(table_text_decode_config(l, &key, &value, &why) == -1,
	    "a request is not a config line");
	free(l);

	l = tt_dup("register|credentials");
	CHECK(table_text_decode_register(l, &svc, &why) == 0 &&
	    svc == K_CREDENTIALS, "register|credentials");
	free(l);
	l = tt_dup("register|auth");
	CHECK(table_text_decode_register(l, &svc, &why) == 0 &&
	    svc == TABLE_TEXT_K_AUTH, "register|auth (7.6)");
	free(l);
	l = tt_dup("register|ready");
	CHECK(table_text_decode_register(l, &svc, &why) == 0 && svc == 0,
	    "register|ready");
	free(l);
	l = tt_dup("register|frobnicate");
	CHECK(table_text_decode_register(l, &svc, &why) == -1 &&
	    strstr(why, "unknown") != NULL, "unknown service refused");
	free(l);
	l = tt_dup("register|alias|domain");
	CHECK(table_text_decode_register(l, &svc, &why) == -1,
	    "two services on one line refused");
	free(l);
}

/* tt_request - M encoded must be WANT and decode back to M */
static void
tt_request(const struct table_text_request *m, const char *want,
    const char *what)
{
	struct table_text_request	 d;
	char				*l;
	int				 n, ok;

	n = table_text_encode_request(tt_buf, sizeof tt_buf, m);
	ok = n > 0 && strcmp(tt_buf, want) == 0;
	if (ok) {
		tt_buf[n - 1] = '\0';
		l = tt_dup(tt_buf);
		ok = table_text_decode_request(l, &d) == 0 && d.op == m->op &&
		    d.service == m->service && strcmp(d.id, m->id) == 0 &&
		    strcmp(d.table, m->table) == 0 && d.sec == m->sec &&
		    d.usec == m->usec && (m->key == NULL ? d.key == NULL :
		    strcmp(d.key, m->key) == 0);
		free(l);
	}
	CHECK(ok, what);
}

static void
test_requests(void)
{
	struct table_text_request	m;

	memset(&m, 0, sizeof m);
	m.id = "0badcafe";
	m.table = "aliases";
	m.sec = 1700000000;
	m.usec = 42;
	m.op = TABLE_TEXT_UPDATE;
	tt_request(&m, "table|0.1|1700000000.000042|aliases|update|"
	    "0badcafe\n", "update request");
	m.op = TABLE_TEXT_LOOKUP;
	m.service = K_ALIAS;
	m.key = "postmaster";
	tt_request(&m, "table|0.1|1700000000.000042|aliases|lookup|alias|"
	    "0badcafe|postmaster\n", "lookup request");
	m.op = TABLE_TEXT_CHECK;
	m.service = K_DOMAIN;
	m.key = "a|b|c";
	tt_request(&m, "table|0.1|1700000000.000042|aliases|check|domain|"
	    "0badcafe|a|b|c\n", "a key holding '|' is the last field");
	m.key = "";
	tt_request(&m, "table|0.1|1700000000.000042|aliases|check|domain|"
	    "0badcafe|\n", "an empty key");
	m.op = TABLE_TEXT_FETCH;
	m.service = K_SOURCE;
	m.key = NULL;
	tt_request(&m, "table|0.1|1700000000.000042|aliases|fetch|source|"
	    "0badcafe\n", "fetch request");

	m.op = TABLE_TEXT_LOOKUP;
	m.service = K_ALIAS;
	m.key = "a\nb";
	CHECK(table_text_encode_request(tt_buf, sizeof tt_buf, &m) == -1,
	    "a key with LF is refused");
	m.key = "a\rb";
	CHECK(table_text_encode_request(tt_buf, sizeof tt_buf, &m) == -1,
	    "a key with CR is refused");
	m.key = "k";
	m.service = 0x3;
	CHECK(table_text_encode_request(tt_buf, sizeof tt_buf, &m) == -1,
	    "two services at once refused");
	m.service = K_ALIAS;
	m.table = "a|b";
	CHECK(table_text_encode_request(tt_buf, sizeof tt_buf, &m) == -1,
	    "a table name with '|' refused");
	m.table = "t";
	CHECK(table_text_encode_request(tt_buf, 30, &m) == -1,
	    "a request that does not fit refused");
}

static const struct {
	const char	*line;
	const char	*what;
} tt_bad_requests[] = {
	{ "", "empty line" },
	{ "table", "no fields" },
	{ "table|0.2|1.0|t|update|1", "unknown protocol version" },
	{ "table|0.1|x|t|update|1", "bad timestamp" },
	{ "table|0.1|1|t|update|1", "timestamp without usec" },
	{ "table|0.1|1.1234567|t|update|1", "usec of 7 digits" },
	{ "table|0.1|1.0||update|1", "empty table name" },
	{ "table|0.1|1.0|t|delete|1", "unknown operation" },
	{ "table|0.1|1.0|t|update|", "empty id" },
	{ "table|0.1|1.0|t|update|1|x", "field after update's id" },
	{ "table|0.1|1.0|t|lookup|alias|1", "lookup without key" },
	{ "table|0.1|1.0|t|fetch|source|1|k", "fetch with a key" },
	{ "table|0.1|1.0|t|check|domain", "check without id" },
	{ "table|0.1|1.0|t|lookup|alias|1|a\rb", "CR in a key" },
	{ "filter|0.1|1.0|t|update|1", "not a table line" },
};

static void
test_bad_requests(void)
{
	struct table_text_request	m;
	size_t				i;
	char				*l, what[128];

	for (i = 0; i < sizeof tt_bad_requests / sizeof tt_bad_requests[0];
	    i++) {
		l = tt_dup(tt_bad_requests[i].line);
		snprintf(what, sizeof what, "request refused: %s",
		    tt_bad_requests[i].what);
		CHECK(table_text_decode_request(l, &m) == -1 &&
		    m.error != NULL, what);
		free(l);
	}
	l = tt_dup("table|0.1|1.0|t|lookup|nosuch|1|k");
	CHECK(table_text_decode_request(l, &m) == 0 && m.service == K_NONE,
	    "an unknown service decodes, for the helper to answer error");
	free(l);
}

/* tt_reply - M encoded must be WANT and decode back to M */
static void
tt_reply(const struct table_text_reply *m, const char *want,
    const char *what)
{
	struct table_text_reply	 d;
	char			*l;
	int			 n, ok;

	n = table_text_encode_reply(tt_buf, sizeof tt_buf, m);
	ok = n > 0 && strcmp(tt_buf, want) == 0;
	if (ok) {
		tt_buf[n - 1] = '\0';
		l = tt_dup(tt_buf);
		ok = table_text_decode_reply(l, &d) == 0 && d.op == m->op &&
		    d.result == m->result && strcmp(d.id, m->id) == 0 &&
		    (d.value == NULL) == (m->value == NULL ||
		    m->result != TABLE_TEXT_FOUND || m->op == TABLE_TEXT_CHECK
		    || m->op == TABLE_TEXT_UPDATE) &&
		    (d.value == NULL || strcmp(d.value, m->value) == 0);
		free(l);
	}
	CHECK(ok, what);
}

static void
test_replies(void)
{
	struct table_text_reply	m;

	memset(&m, 0, sizeof m);
	m.id = "1234abcd";
	m.op = TABLE_TEXT_UPDATE;
	m.result = TABLE_TEXT_FOUND;
	tt_reply(&m, "update-result|1234abcd|ok\n", "update ok");
	m.result = TABLE_TEXT_ERROR;
	m.message = "db down";
	tt_reply(&m, "update-result|1234abcd|error|db down\n",
	    "update error with a message");
	m.message = NULL;
	m.op = TABLE_TEXT_CHECK;
	tt_reply(&m, "check-result|1234abcd|error\n", "check error");
	m.result = TABLE_TEXT_FOUND;
	tt_reply(&m, "check-result|1234abcd|found\n", "check found");
	m.result = TABLE_TEXT_NOT_FOUND;
	tt_reply(&m, "check-result|1234abcd|not-found\n", "check not-found");
	m.op = TABLE_TEXT_LOOKUP;
	m.result = TABLE_TEXT_FOUND;
	m.value = "bob, |alice";
	tt_reply(&m, "lookup-result|1234abcd|found|bob, |alice\n",
	    "lookup found: the value is the rest, '|' included");
	m.op = TABLE_TEXT_FETCH;
	m.value = "192.0.2.1";
	tt_reply(&m, "fetch-result|1234abcd|found|192.0.2.1\n",
	    "fetch found");
	m.value = "";
	CHECK(table_text_encode_reply(tt_buf, sizeof tt_buf, &m) == -1,
	    "an empty found value is never sent");
	m.value = "a\nb";
	CHECK(table_text_encode_reply(tt_buf, sizeof tt_buf, &m) == -1,
	    "a value with LF is never sent");
	m.op = TABLE_TEXT_UPDATE;
	m.result = TABLE_TEXT_NOT_FOUND;
	CHECK(table_text_encode_reply(tt_buf, sizeof tt_buf, &m) == -1,
	    "update has no not-found");
}

static const struct {
	const char	*line;
	const char	*what;
} tt_bad_replies[] = {
	{ "", "empty line" },
	{ "lookup-result", "no id" },
	{ "lookup-result|1", "no result" },
	{ "lookup-result||found|x", "empty id" },
	{ "lookup-result|1|found|", "empty found| value" },
	{ "lookup-result|1|found", "found without a value" },
	{ "check-result|1|found|x", "check found with a value" },
	{ "lookup-result|1|maybe", "unknown result" },
	{ "lookup-result|1|not-found|x", "not-found with a value" },
	{ "update-result|1|found", "update answered found" },
	{ "delete-result|1|ok", "unknown result name" },
	{ "lookup|1|found|x", "result name without -result" },
	{ "register|alias", "a register line" },
	{ "lookup-result|1|found|a\rb", "CR in a value" },
};

static void
test_bad_replies(void)
{
	struct table_text_reply	m;
	size_t			i;
	char			*l, what[128];

	for (i = 0; i < sizeof tt_bad_replies / sizeof tt_bad_replies[0];
	    i++) {
		l = tt_dup(tt_bad_replies[i].line);
		snprintf(what, sizeof what, "reply refused: %s",
		    tt_bad_replies[i].what);
		CHECK(table_text_decode_reply(l, &m) == -1 && m.error != NULL,
		    what);
		free(l);
	}
	l = tt_dup("lookup-result|1|error|db|down");
	CHECK(table_text_decode_reply(l, &m) == 0 &&
	    m.result == TABLE_TEXT_ERROR && strcmp(m.message, "db|down") == 0,
	    "error message is the rest of the line");
	free(l);
}

int
main(void)
{
	test_handshake();
	test_requests();
	test_bad_requests();
	test_replies();
	test_bad_replies();
	return test_done();
}
