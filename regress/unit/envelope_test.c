/*
 * envelope_test.c -- unit tests for smtpd/common/envelope*.c and
 * mailaddr.c: the version 3 envelope text (spec libexec-protocols.md
 * 5.6), the ids of spec 3.3 and the user@domain form.
 *
 * The text captured from the real 6.8 daemon loads and dumps back byte
 * for byte; each envelope type round-trips fully populated; the writer's
 * omission rules hold; every reader rule refuses with a reason naming
 * the field or line; no line break in any field ever reaches the text
 * (SEC-09).  Inputs are exact-size heap copies, so ASan builds catch a
 * read past the length.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "mailaddr.h"
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;

#define ERRSZ	256

/* captured from the real 6.8 daemon (spec 5.6), local delivery */
static const char	example68[] =
    "version: 3\n"
    "dispatcher: local\n"
    "type: mda\n"
    "smtpname: mx.example.org\n"
    "helo: client.example\n"
    "hostname: localhost\n"
    "sockaddr: 127.0.0.1\n"
    "sender: alice@client.example\n"
    "rcpt: bob@example.com\n"
    "dest: bob@example.com\n"
    "ctime: 1795302356\n"
    "last-try: 0\n"
    "last-bounce: 0\n"
    "ttl: 0\n"
    "retry: 0\n"
    "dsn-notify: 0\n"
    "mda-user: vmail\n";

static char	test_err[ERRSZ];
static char	test_out[ENVELOPE_TEXT_MAX + 1];

/* test_load - load N bytes of TEXT from an exact-size heap copy */
static int
test_load(struct envelope *evp, const char *text, size_t n)
{
	char	*copy;
	int	 r;

	if ((copy = malloc(n ? n : 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(copy, text, n);
	test_err[0] = '\0';
	r = envelope_load(evp, copy, n, test_err, sizeof test_err);
	free(copy);
	return r;
}

/* test_load_str - load a C string's bytes (without its NUL) */
static int
test_load_str(struct envelope *evp, const char *text)
{
	return test_load(evp, text, strlen(text));
}

/* test_edit - EXAMPLE68 with the line of FIELD replaced by REPL ("" drops
 * it); appended when FIELD has no line */
static void
test_edit(char *out, size_t outsz, const char *field, const char *repl)
{
	const char	*p, *nl;
	size_t		 flen = strlen(field);
	int		 found = 0;

	out[0] = '\0';
	for (p = example68; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
			strlcat(out, repl, outsz);
			found = 1;
		} else
			strncat(out, p, (size_t)(nl - p) + 1);
	}
	if (!found)
		strlcat(out, repl, outsz);
}

/* test_example68 - the 6.8 capture loads and dumps back byte for byte */
static void
test_example68(void)
{
	struct envelope	*evp;
	int		 n;

	evp = envelope_new();
	CHECK(evp != NULL, "envelope_new");
	CHECK(test_load_str(evp, example68) == 0, "6.8 example loads");
	CHECK(evp->version == 3, "example: version 3");
	CHECK(evp->type == ENVELOPE_MDA, "example: type mda");
	CHECK_STR(evp->dispatcher, "local", "example: dispatcher");
	CHECK_STR(evp->sender.user, "alice", "example: sender user");
	CHECK_STR(evp->sender.domain, "client.example", "example: sender dom");
	CHECK(evp->ss.ss_family == AF_INET, "example: sockaddr is IPv4");
	CHECK(evp->creation == 1795302356, "example: ctime");
	CHECK_STR(evp->mda_user, "vmail", "example: mda-user");
	n = envelope_dump(evp, test_out, sizeof test_out);
	CHECK(n == (int)strlen(example68), "example: dump length");
	CHECK(n > 0 && memcmp(test_out, example68, n) == 0,
	    "example: dump is byte-identical to the 6.8 text");
	CHECK(memchr(test_out, '\0', n > 0 ? n : 0) == NULL, "dump has no NUL");
	/* an exact-size buffer is too small: the NUL needs room */
	CHECK(envelope_dump(evp, test_out, (size_t)n) == -1,
	    "dump refuses a buffer without room for the NUL");
	CHECK(envelope_dump(evp, test_out, (size_t)n + 1) == n,
	    "dump fits a buffer of length + 1");
	CHECK(envelope_dump(evp, test_out, 10) == -1, "dump: no room");
	CHECK(envelope_dump(evp, test_out, 0) == -1, "dump: size 0");
	envelope_free(&evp);
	CHECK(evp == NULL, "envelope_free clears the pointer");
	envelope_free(&evp);
}

/* test_fill_common - every field shared by the three types */
static void
test_fill_common(struct envelope *evp)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&evp->ss;

	evp->evpid = 0x1234abcd00000042ULL;
	strlcpy(evp->dispatcher, "relay-out", sizeof evp->dispatcher);
	strlcpy(evp->tag, "TAGGED", sizeof evp->tag);
	strlcpy(evp->smtpname, "mx.example.org", sizeof evp->smtpname);
	strlcpy(evp->helo, "[192.0.2.7]", sizeof evp->helo);
	strlcpy(evp->hostname, "<unknown>", sizeof evp->hostname);
	strlcpy(evp->username, "alice@example.org", sizeof evp->username);
	strlcpy(evp->errorline, "451 4.3.0 try: again: later\t(tab kept)",
	    sizeof evp->errorline);
	sin6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", &sin6->sin6_addr);
	strlcpy(evp->sender.user, "\"odd@user\"", sizeof evp->sender.user);
	strlcpy(evp->sender.domain, "example.org", sizeof evp->sender.domain);
	strlcpy(evp->rcpt.user, "bob+tag", sizeof evp->rcpt.user);
	strlcpy(evp->rcpt.domain, "example.com", sizeof evp->rcpt.domain);
	strlcpy(evp->dest.user, "bob", sizeof evp->dest.user);
	strlcpy(evp->dest.domain, "example.com", sizeof evp->dest.domain);
	evp->creation = 1795302356;
	evp->lasttry = 1795302400;
	evp->lastbounce = 1795302500;
	evp->ttl = 345600;
	evp->retry = 65535;
	evp->flags = ENVELOPE_F_AUTHENTICATED | ENVELOPE_F_BOUNCE |
	    ENVELOPE_F_INTERNAL;
	evp->dsn_notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE |
	    DSN_NOTIFY_DELAY;
	evp->dsn_ret = DSN_RET_HDRS;
	strlcpy(evp->dsn_envid, "QQ314159", sizeof evp->dsn_envid);
	strlcpy(evp->dsn_orcpt.user, "orig", sizeof evp->dsn_orcpt.user);
	strlcpy(evp->dsn_orcpt.domain, "example.net",
	    sizeof evp->dsn_orcpt.domain);
	evp->esc_class = 4;
	evp->esc_code = 47;
}

/* test_oneline - S for a test name: line breaks shown as '|' */
static const char *
test_oneline(const char *s)
{
	static char	buf[256];
	size_t		i;

	strlcpy(buf, s, sizeof buf);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '\n')
			buf[i] = '|';
	return buf;
}

/* test_roundtrip_one - dump, load, compare whole structs, dump again */
static void
test_roundtrip_one(const char *what, const struct envelope *evp,
    const char *must_have, const char *must_not_have)
{
	struct envelope	*back;
	char		 name[512], text2[ENVELOPE_TEXT_MAX + 1];
	int		 n, n2;

	back = envelope_new();
	back->evpid = evp->evpid;
	n = envelope_dump(evp, test_out, sizeof test_out);
	snprintf(name, sizeof name, "%s: dumps", what);
	CHECK(n > 0, name);
	snprintf(name, sizeof name, "%s: loads back", what);
	CHECK(n > 0 && test_load(back, test_out, (size_t)n) == 0, name);
	if (test_err[0])
		printf("# %s\n", test_err);
	snprintf(name, sizeof name, "%s: every field equal", what);
	CHECK(memcmp(back, evp, sizeof *evp) == 0, name);
	n2 = envelope_dump(back, text2, sizeof text2);
	snprintf(name, sizeof name, "%s: second dump identical", what);
	CHECK(n2 == n && memcmp(text2, test_out, n) == 0, name);
	snprintf(name, sizeof name, "%s: has %s", what,
	    test_oneline(must_have));
	CHECK(strstr(test_out, must_have) != NULL, name);
	if (must_not_have != NULL) {
		snprintf(name, sizeof name, "%s: has no %s", what,
		    must_not_have);
		CHECK(strstr(test_out, must_not_have) == NULL, name);
	}
	envelope_free(&back);
}

/* test_roundtrip - a fully populated envelope of each type */
static void
test_roundtrip(void)
{
	struct envelope		*evp;
	struct sockaddr_in	*sin;

	evp = envelope_new();
	test_fill_common(evp);
	evp->type = ENVELOPE_MDA;
	strlcpy(evp->mda_exec, "/usr/bin/procmail -f -- \"%{sender}\"",
	    sizeof evp->mda_exec);
	strlcpy(evp->mda_subaddress, "tag", sizeof evp->mda_subaddress);
	strlcpy(evp->mda_user, "vmail", sizeof evp->mda_user);
	test_roundtrip_one("mda", evp, "\nmda-exec: /usr/bin/procmail -f -- "
	    "\"%{sender}\"\nmda-subaddress: tag\nmda-user: vmail\n",
	    "bounce-");
	test_roundtrip_one("mda", evp, "\nsockaddr: [2001:db8::7]\n", NULL);
	test_roundtrip_one("mda", evp,
	    "\nflags: authenticated bounce internal\n", NULL);
	test_roundtrip_one("mda", evp,
	    "\nsender: \"odd@user\"@example.org\n", NULL);
	envelope_free(&evp);

	evp = envelope_new();
	test_fill_common(evp);
	evp->type = ENVELOPE_MTA;
	sin = (struct sockaddr_in *)&evp->ss;
	memset(&evp->ss, 0, sizeof evp->ss);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr);
	test_roundtrip_one("mta", evp, "\ntype: mta\n", "mda-");
	test_roundtrip_one("mta", evp, "\nsockaddr: 192.0.2.7\n", "bounce-");
	envelope_free(&evp);

	evp = envelope_new();
	test_fill_common(evp);
	evp->type = ENVELOPE_BOUNCE;
	evp->bounce_type = BOUNCE_DELAYED;
	evp->bounce_ttl = 604800;
	evp->bounce_delay = 14400;
	memset(&evp->ss, 0, sizeof evp->ss);
	evp->ss.ss_family = AF_UNIX;
	test_roundtrip_one("bounce delayed", evp,
	    "\nbounce-ttl: 604800\nbounce-delay: 14400\n"
	    "bounce-type: delayed\n", "mda-");
	test_roundtrip_one("bounce delayed", evp, "\nsockaddr: local\n",
	    NULL);
	envelope_free(&evp);

	evp = envelope_new();
	test_fill_common(evp);
	evp->type = ENVELOPE_BOUNCE;
	evp->bounce_type = BOUNCE_FAILED;
	memset(&evp->sender, 0, sizeof evp->sender);	/* <> */
	test_roundtrip_one("bounce failed", evp,
	    "\nsender: @\n", "bounce-ttl");
	test_roundtrip_one("bounce failed", evp,
	    "\nesc-code: 47\nbounce-type: failed\n", "bounce-delay");
	evp->bounce_type = BOUNCE_DELIVERED;
	test_roundtrip_one("bounce delivered", evp,
	    "\nbounce-type: delivered\n", "bounce-ttl");
	evp->bounce_type = BOUNCE_RELAYED;
	test_roundtrip_one("bounce relayed (MTA-18)", evp,
	    "\nbounce-type: relayed\n", "bounce-ttl");
	envelope_free(&evp);
}

/* test_omission - what the writer leaves out and what it always writes */
static void
test_omission(void)
{
	struct envelope	*evp;
	int		 n;

	evp = envelope_new();
	evp->type = ENVELOPE_MTA;
	n = envelope_dump(evp, test_out, sizeof test_out);
	CHECK_STR(test_out,
	    "version: 3\n"
	    "type: mta\n"
	    "sender: @\n"
	    "rcpt: @\n"
	    "dest: @\n"
	    "ctime: 0\n"
	    "last-try: 0\n"
	    "last-bounce: 0\n"
	    "ttl: 0\n"
	    "retry: 0\n"
	    "dsn-notify: 0\n",
	    "empty envelope: only the always-written fields");
	CHECK(n == (int)strlen(test_out), "empty envelope: length");

	evp->esc_class = 5;
	evp->esc_code = 0;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "\nesc-class: 5\nesc-code: 0\n") != NULL,
	    "esc-code written when esc-class != 0, even if 0");
	evp->esc_class = 0;
	evp->esc_code = 11;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "esc-") == NULL,
	    "esc-* not written when esc-class is 0");

	evp->flags = 0x10 | 0x20;	/* runtime bits only */
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "flags") == NULL,
	    "flags not written without a text flag");
	evp->flags = ENVELOPE_F_INTERNAL | 0x80;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "\nflags: internal\n") != NULL,
	    "flags: only the text flags");
	evp->flags = ENVELOPE_F_AUTHENTICATED | ENVELOPE_F_INTERNAL;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "\nflags: authenticated internal\n") != NULL,
	    "flags: words separated by one space");
	evp->flags = 0;

	strlcpy(evp->dsn_orcpt.user, "x", sizeof evp->dsn_orcpt.user);
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "dsn-orcpt") == NULL,
	    "dsn-orcpt not written without a domain");
	memset(&evp->dsn_orcpt, 0, sizeof evp->dsn_orcpt);
	strlcpy(evp->dsn_orcpt.domain, "x", sizeof evp->dsn_orcpt.domain);
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "dsn-orcpt") == NULL,
	    "dsn-orcpt not written without a user");
	memset(&evp->dsn_orcpt, 0, sizeof evp->dsn_orcpt);

	evp->dsn_ret = DSN_RET_FULL;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "\ndsn-notify: 0\ndsn-ret: FULL\n") != NULL,
	    "dsn-ret FULL after dsn-notify");
	evp->dsn_ret = DSN_RET_UNSET;

	strlcpy(evp->mda_user, "vmail", sizeof evp->mda_user);
	strlcpy(evp->mda_exec, "x", sizeof evp->mda_exec);
	evp->bounce_type = BOUNCE_DELAYED;
	evp->bounce_ttl = 5;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "mda-") == NULL && strstr(test_out, "bounce-")
	    == NULL, "mta: neither mda-* nor bounce-* written");
	evp->type = ENVELOPE_MDA;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "\nmda-exec: x\nmda-user: vmail\n") != NULL &&
	    strstr(test_out, "mda-subaddress") == NULL &&
	    strstr(test_out, "bounce-") == NULL,
	    "mda: non-empty mda-* only");
	evp->type = ENVELOPE_BOUNCE;
	evp->bounce_type = BOUNCE_FAILED;
	envelope_dump(evp, test_out, sizeof test_out);
	CHECK(strstr(test_out, "\nbounce-type: failed\n") != NULL &&
	    strstr(test_out, "bounce-ttl") == NULL &&
	    strstr(test_out, "bounce-delay") == NULL &&
	    strstr(test_out, "mda-") == NULL,
	    "bounce failed: bounce-type only");

	evp->type = 7;
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses an unknown type");
	evp->type = ENVELOPE_BOUNCE;
	evp->bounce_type = 9;
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses an unknown bounce type");
	evp->bounce_type = BOUNCE_FAILED;
	evp->dsn_ret = 3;
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses an unknown dsn-ret");
	evp->dsn_ret = DSN_RET_UNSET;
	evp->ttl = -1;
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses a negative time");
	evp->ttl = 0;
	evp->ss.ss_family = AF_APPLETALK;
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses an address family the text cannot carry");
	evp->ss.ss_family = AF_UNSPEC;
	memset(evp->helo, 'h', sizeof evp->helo);
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses an unterminated string");
	envelope_free(&evp);
}

struct test_reader_case {
	const char	*what;
	const char	*field;		/* line replaced, or appended */
	const char	*line;
	const char	*err;		/* NULL: must load */
};

static const struct test_reader_case test_reader_cases[] = {
	{ "name in capitals", "helo", "HELO: x\n", NULL },
	{ "name in mixed case", "dsn-notify", "Dsn-Notify: 2\n", NULL },
	{ "blanks before ':'", "helo", "helo \t : x\n", NULL },
	{ "no blank after ':'", "helo", "helo:x\n", NULL },
	{ "tabs after ':'", "helo", "helo:\t\t x\n", NULL },
	{ "empty string value", "helo", "helo:\n", NULL },
	{ "type any case", "type", "type: BoUnCe\n", NULL },
	{ "dsn-ret any case", "", "dsn-ret: hdrs\n", NULL },
	{ "flags with , and |", "",
	    "flags: authenticated,bounce|internal\n", NULL },
	{ "flags enqueued ignored", "", "flags: enqueued\n", NULL },
	{ "flags any case", "", "flags: Internal\n", NULL },
	{ "bounce-type error", "", "bounce-type: error\n", NULL },
	{ "bounce-type warn", "", "bounce-type: WARN\n", NULL },
	{ "bounce-type dsn", "", "bounce-type: dsn\n", NULL },
	{ "sockaddr [v6]", "sockaddr", "sockaddr: [::1]\n", NULL },
	{ "sockaddr IPv6:", "sockaddr", "sockaddr: IPv6:2001:db8::1\n",
	    NULL },
	{ "sockaddr ipv6: any case", "sockaddr", "sockaddr: ipv6:::1\n",
	    NULL },
	{ "sockaddr scoped", "sockaddr", "sockaddr: [fe80::1%3]\n", NULL },
	{ "sockaddr local", "sockaddr", "sockaddr: local\n", NULL },
	{ "sockaddr absent", "sockaddr", "", NULL },
	{ "mailaddr without @", "rcpt", "rcpt: postmaster\n", NULL },
	{ "retry 65535", "retry", "retry: 65535\n", NULL },
	{ "u8 255", "dsn-notify", "dsn-notify: 255\n", NULL },
	{ "time LLONG_MAX", "ttl", "ttl: 9223372036854775807\n", NULL },
	{ "leading zeros", "retry", "retry: 007\n", NULL },
	{ "per-type field on another type", "", "bounce-ttl: 5\n", NULL },

	{ "unknown name", "", "color: blue\n", "unknown field \"color\"" },
	{ "6.6 name expire", "", "expire: 5\n", "unknown field \"expire\"" },
	{ "missing version", "version", "", "version: missing" },
	{ "version 2", "version", "version: 2\n",
	    "version: 2 is not supported" },
	{ "version 4", "version", "version: 4\n",
	    "version: 4 is not supported" },
	{ "version too big", "version", "version: 4294967299\n",
	    "version: 4294967299 out of range" },
	{ "missing type", "type", "", "type: missing" },
	{ "missing dest", "dest", "", "dest: missing" },
	{ "missing ctime", "ctime", "", "ctime: missing" },
	{ "missing dsn-notify", "dsn-notify", "", "dsn-notify: missing" },
	{ "retry 65536", "retry", "retry: 65536\n",
	    "retry: 65536 out of range 0..65535" },
	{ "u8 256", "dsn-notify", "dsn-notify: 256\n",
	    "dsn-notify: 256 out of range 0..255" },
	{ "esc-class 300", "", "esc-class: 300\n", "esc-class: 300 out" },
	{ "time overflow", "ttl", "ttl: 9223372036854775808\n",
	    "ttl: 9223372036854775808 out of range" },
	{ "time huge", "ctime", "ctime: 99999999999999999999999999999999\n",
	    "ctime: 999999999999999999999999... out of range" },
	{ "negative", "ttl", "ttl: -1\n", "ttl: not a decimal number" },
	{ "plus sign", "ttl", "ttl: +1\n", "ttl: not a decimal number" },
	{ "trailing blank", "retry", "retry: 1 \n",
	    "retry: not a decimal number" },
	{ "long digits then garbage", "retry", "retry: 99999999999x\n",
	    "retry: not a decimal number" },
	{ "hex", "retry", "retry: 0x10\n", "retry: not a decimal number" },
	{ "empty number", "retry", "retry:\n", "retry: empty value" },
	{ "bad type", "type", "type: lmtp\n", "type: not mda, mta or bounce" },
	{ "bad dsn-ret", "", "dsn-ret: ALL\n", "dsn-ret: not FULL or HDRS" },
	{ "bad bounce-type", "", "bounce-type: late\n", "bounce-type: not" },
	{ "bad flag", "", "flags: authenticated secret\n",
	    "flags: unknown flag \"secret\"" },
	{ "unprintable flag not quoted", "", "flags: \x80\x81\n",
	    "flags: unknown flag word" },
	{ "empty flag word", "", "flags: bounce  internal\n",
	    "flags: empty flag word" },
	{ "empty flags", "", "flags:\n", "flags: empty flag word" },
	{ "bad sockaddr", "sockaddr", "sockaddr: 300.1.1.1\n", "sockaddr: " },
	{ "bad [v6]", "sockaddr", "sockaddr: [1.2.3.4]\n", "sockaddr: " },
	{ "sockaddr host name", "sockaddr", "sockaddr: localhost\n",
	    "sockaddr: " },
	{ "sockaddr LOCAL", "sockaddr", "sockaddr: LOCAL\n", "sockaddr: " },
	{ "sockaddr empty", "sockaddr", "sockaddr:\n", "sockaddr: " },
	{ "sockaddr bad scope", "sockaddr", "sockaddr: [fe80::1%]\n",
	    "sockaddr: " },
	{ "sockaddr no such interface", "sockaddr",
	    "sockaddr: [fe80::1%nosuchif9]\n", "sockaddr: " },
	{ "duplicate field", "", "helo: again\n",
	    "line 18: duplicate field \"helo\"" },
	{ "duplicate in other case", "", "Version: 3\n",
	    "duplicate field \"version\"" },
	{ "line without ':'", "helo", "helo x\n",
	    "line 5: no ':' after the field name" },
	{ "empty line", "", "\n", "line 18: no field name" },
	{ "blank line", "", " \n", "line 18: no field name" },
	{ "name with '_'", "", "mda_user: x\n", "line 18: no ':'" },
	{ "CR at end of value", "helo", "helo: x\r\n",
	    "helo: CR in the value" },
	{ "CR in value", "rcpt", "rcpt: a\rb@x\n", "rcpt: CR in the value" },
	{ "CR before ':'", "helo", "helo\r: x\n", "line 5: no ':'" },
	{ "control char in mailaddr", "rcpt", "rcpt: a\x01" "b@x\n",
	    "rcpt: control character in user part" },
	{ "tab in mailaddr", "dest", "dest: a@x\ty\n",
	    "dest: control character in domain part" },
};

/* test_reader_big - the overlong-string and errorline-limit cases */
static void
test_reader_big(void)
{
	struct envelope	*evp = envelope_new();
	char		*line, *text;
	size_t		 sz = ENVELOPE_TEXT_MAX + 64;

	line = malloc(sz);
	text = malloc(sz + sizeof example68);
	memcpy(line, "errorline: ", 11);
	memset(line + 11, 'e', ENVELOPE_ERRORLINE_SIZE - 1);
	strcpy(line + 11 + ENVELOPE_ERRORLINE_SIZE - 1, "\n");
	test_edit(text, sz + sizeof example68, "errorline", line);
	CHECK(test_load_str(evp, text) == 0, "errorline of 2047 bytes loads");
	CHECK(strlen(evp->errorline) == ENVELOPE_ERRORLINE_SIZE - 1,
	    "errorline of 2047 bytes kept whole");
	strcpy(line + 11 + ENVELOPE_ERRORLINE_SIZE - 1, "e\n");
	test_edit(text, sz + sizeof example68, "errorline", line);
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "errorline: value longer than 2047 bytes"),
	    "errorline of 2048 bytes refused");

	snprintf(line, sz, "helo: %0*d\n", ENVELOPE_NAME_SIZE, 0);
	test_edit(text, sz + sizeof example68, "helo", line);
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "helo: value longer than 255 bytes"),
	    "helo of 256 bytes refused");
	snprintf(line, sz, "tag: %0*d\n", ENVELOPE_TAG_SIZE, 0);
	test_edit(text, sz + sizeof example68, "tag", line);
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "tag: value longer than 32 bytes"),
	    "tag of 33 bytes refused");
	snprintf(line, sz, "dsn-envid: %0*d\n", ENVELOPE_DSN_ENVID_SIZE, 0);
	test_edit(text, sz + sizeof example68, "dsn-envid", line);
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "dsn-envid: value longer than 100 bytes"),
	    "dsn-envid of 101 bytes refused");
	snprintf(line, sz, "sender: %0*d@x\n", MAILADDR_USER_SIZE, 0);
	test_edit(text, sz + sizeof example68, "sender", line);
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "sender: user part longer than 255 bytes"),
	    "sender user of 256 bytes refused");
	snprintf(line, sz, "dest: u@%0*d\n", MAILADDR_DOMAIN_SIZE, 0);
	test_edit(text, sz + sizeof example68, "dest", line);
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "dest: domain part longer than 255 bytes"),
	    "dest domain of 256 bytes refused");

	/* one text over the limit, made of valid lines */
	memset(text, 0, sz + sizeof example68);
	memcpy(text, example68, strlen(example68));
	while (strlen(text) <= ENVELOPE_TEXT_MAX)
		strcat(text, "X: y\n");
	CHECK(ENVELOPE_TEXT_MAX == 16360, "ENVELOPE_TEXT_MAX is 16368 - 8");
	CHECK(test_load_str(evp, text) == -1 &&
	    strstr(test_err, "more than 16360"),
	    "text over ENVELOPE_TEXT_MAX refused");
	free(line);
	free(text);
	envelope_free(&evp);
}

/* test_reader - every reader rule, table-driven on the 6.8 example */
static void
test_reader(void)
{
	const struct test_reader_case	*c;
	struct envelope			*evp = envelope_new();
	char				 text[4096], name[256];
	size_t				 i, n;
	int				 r;

	for (i = 0; i < sizeof test_reader_cases / sizeof *c; i++) {
		c = &test_reader_cases[i];
		if (c->field[0] == '\0') {
			strlcpy(text, example68, sizeof text);
			strlcat(text, c->line, sizeof text);
		} else
			test_edit(text, sizeof text, c->field, c->line);
		r = test_load_str(evp, text);
		if (c->err == NULL) {
			snprintf(name, sizeof name, "reader: %s: loads",
			    c->what);
			if (!CHECK(r == 0, name))
				printf("# got: %s\n", test_err);
		} else {
			snprintf(name, sizeof name, "reader: %s: refused: %s",
			    c->what, c->err);
			if (!CHECK(r == -1 && strstr(test_err, c->err) != NULL,
			    name))
				printf("# got: %s\n", test_err);
		}
	}

	/* field order does not matter: the example reversed */
	{
		const char	*lines[32], *p;
		size_t		 nl = 0;

		for (p = example68; *p; p = strchr(p, '\n') + 1)
			lines[nl++] = p;
		text[0] = '\0';
		while (nl-- > 0)
			strncat(text, lines[nl],
			    (size_t)(strchr(lines[nl], '\n') - lines[nl]) + 1);
		CHECK(test_load_str(evp, text) == 0, "reader: reversed order");
		n = (size_t)envelope_dump(evp, test_out, sizeof test_out);
		CHECK(n == strlen(example68) &&
		    memcmp(test_out, example68, n) == 0,
		    "reader: reversed order dumps in writer order");
	}

	/* 6.8 writes the scope of a link-local address as an interface
	 * name; it is read, and written back as the number */
	{
		char		want[64];
		unsigned int	lo = if_nametoindex("lo");

		test_edit(text, sizeof text, "sockaddr",
		    "sockaddr: [fe80::1%lo]\n");
		snprintf(want, sizeof want, "\nsockaddr: [fe80::1%%%u]\n", lo);
		CHECK(lo != 0 && test_load_str(evp, text) == 0 &&
		    envelope_dump(evp, test_out, sizeof test_out) > 0 &&
		    strstr(test_out, want) != NULL,
		    "reader: scope by interface name, written as a number");
	}

	/* loaded values */
	test_edit(text, sizeof text, "sender", "sender: @\n");
	CHECK(test_load_str(evp, text) == 0 && mailaddr_is_null(&evp->sender),
	    "reader: sender @ is the null sender");
	test_edit(text, sizeof text, "rcpt", "rcpt: \"a@b\"@c@d.example\n");
	CHECK(test_load_str(evp, text) == 0 &&
	    strcmp(evp->rcpt.user, "\"a@b\"@c") == 0 &&
	    strcmp(evp->rcpt.domain, "d.example") == 0,
	    "reader: mailaddr splits at the last @");
	test_edit(text, sizeof text, "helo", "helo:   spaced  out  \n");
	CHECK(test_load_str(evp, text) == 0 &&
	    strcmp(evp->helo, "spaced  out  ") == 0,
	    "reader: leading blanks skipped, the rest kept");
	strlcpy(text, example68, sizeof text);
	strlcat(text, "flags: authenticated,enqueued|internal\n", sizeof text);
	CHECK(test_load_str(evp, text) == 0 && evp->flags ==
	    (ENVELOPE_F_AUTHENTICATED | ENVELOPE_F_INTERNAL),
	    "reader: flags words");

	/* NUL anywhere, length handling */
	strlcpy(text, example68, sizeof text);
	text[20] = '\0';
	CHECK(test_load(evp, text, strlen(example68)) == -1 &&
	    strstr(test_err, "NUL byte at offset 20"), "reader: NUL refused");
	CHECK(test_load(evp, example68, strlen(example68) + 1) == -1 &&
	    strstr(test_err, "NUL byte"), "reader: a trailing NUL refused");
	CHECK(test_load(evp, example68, strlen(example68) - 1) == -1 &&
	    strstr(test_err, "line 17: no final newline"),
	    "reader: missing final newline refused");
	CHECK(test_load(evp, example68, strlen(example68) - 3) == -1,
	    "reader: truncated inside a line refused");
	CHECK(test_load(evp, example68, 0) == -1 &&
	    strstr(test_err, "version: missing"), "reader: empty text");
	/* bytes after LEN are never looked at */
	strlcpy(text, example68, sizeof text);
	strlcat(text, "garbage without newline", sizeof text);
	CHECK(test_load(evp, text, strlen(example68)) == 0,
	    "reader: stops at LEN");

	/* a failed load leaves a zeroed envelope, evpid kept */
	evp->evpid = 0x1111111122222222ULL;
	CHECK(test_load_str(evp, "version: 2\n") == -1 &&
	    evp->evpid == 0x1111111122222222ULL && evp->helo[0] == '\0',
	    "reader: failure zeroes all but the evpid");
	CHECK(envelope_load(evp, "x", 1, NULL, 0) == -1,
	    "reader: NULL err buffer");
	CHECK(envelope_load(evp, NULL, 0, NULL, 0) == -1,
	    "reader: NULL buffer of length 0");
	envelope_free(&evp);
	test_reader_big();
}

/* test_injection_one - the string at OFF set to VALUE must not dump */
static void
test_injection_one(const char *what, size_t off, size_t size,
    const char *value)
{
	struct envelope	*evp = envelope_new();
	char		 name[160];

	test_fill_common(evp);
	evp->type = ENVELOPE_MDA;
	strlcpy((char *)evp + off, value, size);
	snprintf(name, sizeof name, "SEC-09: %s refused by dump", what);
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1, name);
	envelope_free(&evp);
}

/* test_injection - no line break ever reaches the text (SEC-09) */
static void
test_injection(void)
{
	/* LEADS: the member starts its line's value, so a leading blank
	 * would be skipped by the reader */
	static const struct {
		const char	*name;
		size_t		 off, size;
		int		 leads;
	} strs[] = {
#define S(m, leads) { #m, offsetof(struct envelope, m), \
	    sizeof(((struct envelope *)0)->m), leads }
		S(dispatcher, 1), S(tag, 1), S(smtpname, 1), S(helo, 1),
		S(hostname, 1), S(username, 1), S(errorline, 1),
		S(dsn_envid, 1), S(mda_exec, 1), S(mda_subaddress, 1),
		S(mda_user, 1),
		S(sender.user, 1), S(sender.domain, 0), S(rcpt.user, 1),
		S(rcpt.domain, 0), S(dest.user, 1), S(dest.domain, 0),
		S(dsn_orcpt.user, 1), S(dsn_orcpt.domain, 0),
#undef S
	};
	static const char	*evil[] = {
		"x\nrcpt: evil@x", "x\r\nrcpt: evil@x", "x\r", "\n", "x\n",
		" leading blank", "\tleading tab",
	};
	struct envelope	*evp;
	char		 what[128];
	size_t		 i, j;

	for (i = 0; i < sizeof strs / sizeof strs[0]; i++)
		for (j = 0; j < sizeof evil / sizeof evil[0]; j++) {
			if (j >= 5 && !strs[i].leads)
				continue;
			snprintf(what, sizeof what, "%s %s #%zu",
			    strs[i].name,
			    j < 5 ? "line break" : "leading blank", j);
			test_injection_one(what, strs[i].off, strs[i].size,
			    evil[j]);
		}

	/* mailaddr parts refuse every control character, not only CR LF */
	evp = envelope_new();
	test_fill_common(evp);
	strlcpy(evp->rcpt.user, "a\x1b" "b", sizeof evp->rcpt.user);
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses ESC in a mailaddr");
	test_fill_common(evp);
	strlcpy(evp->dest.domain, "x@y", sizeof evp->dest.domain);
	CHECK(envelope_dump(evp, test_out, sizeof test_out) == -1,
	    "dump refuses @ in a domain (would split elsewhere)");

	/* envelope_set_errorline makes remote text writable */
	test_fill_common(evp);
	envelope_set_errorline(evp, "  %s", "550 5.1.1 no\r\nrcpt: evil@x");
	CHECK_STR(evp->errorline, "550 5.1.1 no  rcpt: evil@x",
	    "set_errorline: CR LF become spaces, leading blanks dropped");
	CHECK(envelope_dump(evp, test_out, sizeof test_out) > 0 &&
	    strstr(test_out, "\nrcpt: evil@x") == NULL,
	    "set_errorline: no injected line");
	{
		char	big[3000];

		memset(big, 'z', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		envelope_set_errorline(evp, "%s", big);
		CHECK(strlen(evp->errorline) == ENVELOPE_ERRORLINE_SIZE - 1 &&
		    strcmp(evp->errorline + ENVELOPE_ERRORLINE_SIZE - 4,
		    "...") == 0, "set_errorline: long text ends in ...");
	}
	envelope_free(&evp);
}

/* test_ids - msgid/evpid rules and text forms (spec 3.3) */
static void
test_ids(void)
{
	char		buf[EVPID_TEXT_SIZE];
	uint64_t	evpid;
	uint32_t	msgid;

	CHECK(msgid_to_evpid(0x9a1b2c3d, 1) == 0x9a1b2c3d00000001ULL,
	    "msgid_to_evpid");
	CHECK(msgid_to_evpid(0, 1) == 0, "msgid_to_evpid: msgid 0");
	CHECK(msgid_to_evpid(5, 0) == 0, "msgid_to_evpid: random 0");
	CHECK(evpid_to_msgid(0x9a1b2c3d00000001ULL) == 0x9a1b2c3d,
	    "evpid_to_msgid");
	CHECK(msgid_format(0xab, buf, sizeof buf) == 8 &&
	    strcmp(buf, "000000ab") == 0, "msgid_format %08x");
	CHECK(msgid_format(0, buf, sizeof buf) == -1, "msgid_format 0");
	CHECK(msgid_format(1, buf, 8) == -1, "msgid_format no room");
	CHECK(evpid_format(0x00000001000000ffULL, buf, sizeof buf) == 16 &&
	    strcmp(buf, "00000001000000ff") == 0, "evpid_format %016llx");
	CHECK(evpid_format(0x00000000000000ffULL, buf, sizeof buf) == -1,
	    "evpid_format: msgid half 0");
	CHECK(evpid_format(0x0000000100000000ULL, buf, sizeof buf) == -1,
	    "evpid_format: random half 0");
	CHECK(evpid_format(0x0000000100000001ULL, buf, 16) == -1,
	    "evpid_format: no room");
	CHECK(msgid_parse("9a1b2c3d", &msgid) == 0 && msgid == 0x9a1b2c3d,
	    "msgid_parse");
	CHECK(msgid_parse("9A1B2C3D", &msgid) == -1, "msgid_parse upper");
	CHECK(msgid_parse("9a1b2c3", &msgid) == -1, "msgid_parse short");
	CHECK(msgid_parse("9a1b2c3d0", &msgid) == -1, "msgid_parse long");
	CHECK(msgid_parse("00000000", &msgid) == -1, "msgid_parse zero");
	CHECK(msgid_parse("9a1b2c3g", &msgid) == -1, "msgid_parse non-hex");
	CHECK(msgid_parse(" 9a1b2c3", &msgid) == -1, "msgid_parse blank");
	CHECK(msgid_parse("", &msgid) == -1, "msgid_parse empty");
	CHECK(evpid_parse("9a1b2c3d00000001", &evpid) == 0 &&
	    evpid == 0x9a1b2c3d00000001ULL, "evpid_parse");
	CHECK(evpid_parse("9a1b2c3d00000000", &evpid) == -1,
	    "evpid_parse random half 0");
	CHECK(evpid_parse("0000000000000001", &evpid) == -1,
	    "evpid_parse msgid half 0");
	CHECK(evpid_parse("9a1b2c3d0000001", &evpid) == -1,
	    "evpid_parse short");
	CHECK(evpid_parse("9a1b2c3d000000011", &evpid) == -1,
	    "evpid_parse long");
	CHECK(evpid_parse("-a1b2c3d00000001", &evpid) == -1,
	    "evpid_parse sign");
	CHECK(evpid_parse("9a1b2c3d0000000F", &evpid) == -1,
	    "evpid_parse upper");
}

/* test_mailaddr - the user@domain form on its own */
static void
test_mailaddr(void)
{
	struct mailaddr	ma;
	char		err[ERRSZ], buf[MAILADDR_TEXT_SIZE];
	char		big[600];

	CHECK(mailaddr_parse(&ma, "u@d.example", 11, err, sizeof err) == 0 &&
	    strcmp(ma.user, "u") == 0 && strcmp(ma.domain, "d.example") == 0,
	    "mailaddr_parse user@domain");
	CHECK(mailaddr_parse(&ma, "@", 1, err, sizeof err) == 0 &&
	    mailaddr_is_null(&ma), "mailaddr_parse @ is null");
	CHECK(mailaddr_parse(&ma, "", 0, err, sizeof err) == 0 &&
	    mailaddr_is_null(&ma), "mailaddr_parse empty is null");
	CHECK(mailaddr_parse(&ma, "postmaster", 10, err, sizeof err) == 0 &&
	    strcmp(ma.user, "postmaster") == 0 && ma.domain[0] == '\0',
	    "mailaddr_parse bare user");
	CHECK(mailaddr_parse(&ma, "@d", 2, err, sizeof err) == 0 &&
	    ma.user[0] == '\0' && strcmp(ma.domain, "d") == 0,
	    "mailaddr_parse @domain");
	CHECK(mailaddr_parse(&ma, "u@dXXX", 3, err, sizeof err) == 0 &&
	    strcmp(ma.domain, "d") == 0, "mailaddr_parse stops at len");
	CHECK(mailaddr_parse(&ma, "u\n@d", 4, err, sizeof err) == -1 &&
	    strstr(err, "line break in user part"), "mailaddr_parse LF");
	CHECK(mailaddr_parse(&ma, "u@d\r", 4, err, sizeof err) == -1 &&
	    strstr(err, "line break in domain part"), "mailaddr_parse CR");
	CHECK(mailaddr_parse(&ma, "u\0@d", 4, err, sizeof err) == -1 &&
	    strstr(err, "NUL byte in user part"), "mailaddr_parse NUL");
	CHECK(mailaddr_parse(&ma, "u@d\x7f", 4, err, sizeof err) == -1,
	    "mailaddr_parse DEL");
	memset(big, 'a', sizeof big);
	CHECK(mailaddr_parse(&ma, big, 255, err, sizeof err) == 0,
	    "mailaddr_parse 255-byte user");
	CHECK(mailaddr_parse(&ma, big, 256, err, sizeof err) == -1 &&
	    strstr(err, "user part longer than 255"),
	    "mailaddr_parse 256-byte user");
	big[0] = '@';
	CHECK(mailaddr_parse(&ma, big, 256, err, sizeof err) == 0 &&
	    strlen(ma.domain) == 255, "mailaddr_parse 255-byte domain");
	CHECK(mailaddr_parse(&ma, big, 257, err, sizeof err) == -1 &&
	    strstr(err, "domain part longer than 255"),
	    "mailaddr_parse 256-byte domain");
	CHECK(mailaddr_parse(&ma, big, 257, NULL, 0) == -1,
	    "mailaddr_parse NULL err");

	memset(&ma, 0, sizeof ma);
	CHECK(mailaddr_format(&ma, buf, sizeof buf) == 1 &&
	    strcmp(buf, "@") == 0, "mailaddr_format null sender is @");
	memset(ma.user, 'u', sizeof ma.user - 1);
	memset(ma.domain, 'd', sizeof ma.domain - 1);
	CHECK(mailaddr_format(&ma, buf, sizeof buf) == 511,
	    "mailaddr_format longest fits MAILADDR_TEXT_SIZE");
	CHECK(mailaddr_format(&ma, buf, 511) == -1, "mailaddr_format no room");
	memset(ma.user, 'u', sizeof ma.user);
	CHECK(mailaddr_format(&ma, buf, sizeof buf) == -1,
	    "mailaddr_format unterminated user");
	memset(&ma, 0, sizeof ma);
	strlcpy(ma.user, "a\nb", sizeof ma.user);
	CHECK(mailaddr_format(&ma, buf, sizeof buf) == -1,
	    "mailaddr_format LF");
}

int
main(void)
{
	test_example68();
	test_roundtrip();
	test_omission();
	test_reader();
	test_injection();
	test_ids();
	test_mailaddr();
	return test_done();
}
