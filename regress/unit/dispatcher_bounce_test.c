/*
 * dispatcher_bounce_test.c -- unit tests of the report builder
 * (smtpd/dispatcher/dispatcher_bounce_report.c): the diagnostic
 * sanitiser (control characters, 8-bit bytes, blanks, the length limit
 * at -1/0/+1, unterminated input), the RFC 3463 status chosen per report
 * type, and whole reports written to memory: their parts, per-recipient
 * fields, RET=HDRS / full original, and a diagnostic that tries to
 * inject header lines.  Table-driven where it can be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher.h"
#include "envelope.h"
#include "mailaddr.h"
#include "test.h"

struct smtpd_env	*env;

static void
test_sanitize(void)
{
	static const struct {
		const char	*in, *want, *what;
	} rows[] = {
		{ "550 5.1.1 no such user", "550 5.1.1 no such user", "plain" },
		{ "a\r\nBcc: x", "a Bcc: x", "CR LF become one blank" },
		{ "  lead  and   trail  ", "lead and trail", "blanks" },
		{ "t\tab\x7f" "del", "t ab del", "tab and DEL" },
		{ "caf\xc3\xa9", "caf??", "8-bit bytes" },
		{ "", "", "empty" },
		{ "\r\n\t ", "", "only blanks" },
	};
	char	out[BOUNCE_DIAG_MAX + 1], big[BOUNCE_DIAG_MAX + 2];
	size_t	i, n;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		n = dispatcher_bounce_sanitize(out, sizeof out, rows[i].in,
		    strlen(rows[i].in) + 1);
		CHECK_STR(out, rows[i].want, rows[i].what);
		CHECK(n == strlen(rows[i].want), rows[i].what);
	}
	/* the limit at -1, 0, +1 */
	for (i = BOUNCE_DIAG_MAX - 1; i <= BOUNCE_DIAG_MAX + 1; i++) {
		memset(big, 'x', i);
		big[i] = '\0';
		n = dispatcher_bounce_sanitize(out, sizeof out, big, i + 1);
		CHECK(n == (i < BOUNCE_DIAG_MAX + 1 ? i : BOUNCE_DIAG_MAX),
		    "length at the limit");
		CHECK((i <= BOUNCE_DIAG_MAX) == (strstr(out, "...") == NULL),
		    "a cut text ends in ...");
	}
	/* unterminated input is read only to SRCLEN */
	n = dispatcher_bounce_sanitize(out, sizeof out, "abcdef", 3);
	CHECK_STR(out, "abc", "srclen bounds the read");
	/* a small destination */
	n = dispatcher_bounce_sanitize(out, 5, "abcdefgh", 9);
	CHECK_STR(out, "a...", "dstsz bounds the write");
	CHECK(dispatcher_bounce_sanitize(out, 0, "x", 2) == 0, "dstsz 0");
}

static void
test_status(void)
{
	static const struct {
		enum envelope_bounce_type	 type;
		int				 class, code;
		const char			*line, *want;
	} rows[] = {
		{ BOUNCE_FAILED, 0, 0, "550 5.1.1 no such user", "5.1.1" },
		{ BOUNCE_FAILED, 0, 0, "5.7.1 refused", "5.7.1" },
		{ BOUNCE_FAILED, 0, 0, "550-5.2.2 mailbox full", "5.2.2" },
		{ BOUNCE_FAILED, 0, 0, "exited with status 67", "5.0.0" },
		{ BOUNCE_FAILED, 0, 0, "550 5.1 short", "5.0.0" },
		{ BOUNCE_FAILED, 0, 0, "550 5.1.1x", "5.0.0" },
		{ BOUNCE_FAILED, 0, 0, "250 2.0.0 ok", "5.0.0" },
		{ BOUNCE_FAILED, 0, 0, "421 4.4.2 timeout", "4.4.2" },
		{ BOUNCE_FAILED, 4, 47, "exited with status 75", "4.4.7" },
		{ BOUNCE_FAILED, 5, 46, "", "5.4.6" },
		{ BOUNCE_FAILED, 2, 0, "", "5.0.0" },
		{ BOUNCE_DELAYED, 0, 0, "451 4.3.0 busy", "4.3.0" },
		{ BOUNCE_DELAYED, 0, 0, "550 5.1.1 no", "4.0.0" },
		{ BOUNCE_DELIVERED, 0, 0, "delivered", "2.0.0" },
		{ BOUNCE_RELAYED, 0, 0, "250 2.0.0 ok", "2.0.0" },
		{ BOUNCE_FAILED, 0, 0, "550 5.123.456 long", "5.123.456" },
		{ BOUNCE_FAILED, 0, 0, "550 5.1234.1 too long", "5.0.0" },
		/* a sign or a blank is no digit (found by the fuzzer: "2.2.-2"
		 * became "2.2.4294967294") */
		{ BOUNCE_DELIVERED, 0, 0, "2.2.-2", "2.0.0" },
		{ BOUNCE_FAILED, 0, 0, "550 5.+1.1 x", "5.0.0" },
		{ BOUNCE_FAILED, 0, 0, "550 5. 1.1 x", "5.0.0" },
		{ BOUNCE_FAILED, 0, 0, "550 5.1. 1 x", "5.0.0" },
	};
	struct envelope	e;
	char		buf[16];
	size_t		i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(&e, 0, sizeof e);
		e.bounce_type = rows[i].type;
		e.esc_class = (uint8_t)rows[i].class;
		e.esc_code = (uint8_t)rows[i].code;
		strlcpy(e.errorline, rows[i].line, sizeof e.errorline);
		dispatcher_bounce_status(&e, buf, sizeof buf);
		CHECK_STR(buf, rows[i].want, rows[i].line);
	}
}

static void
addr(struct mailaddr *a, const char *user, const char *domain)
{
	strlcpy(a->user, user, sizeof a->user);
	strlcpy(a->domain, domain, sizeof a->domain);
}

/* report - the report of N envelopes over ORIGINAL; a malloc'd string */
static char *
report(struct envelope *evps, size_t n, int full, const char *original)
{
	const struct envelope	*v[4];
	struct bounce_report	 r;
	FILE			*out, *in;
	char			*text = NULL;
	size_t			 len = 0, i;

	for (i = 0; i < n; i++)
		v[i] = &evps[i];
	in = fmemopen((void *)(uintptr_t)original, strlen(original), "r");
	out = open_memstream(&text, &len);
	memset(&r, 0, sizeof r);
	r.reporting_mta = "mx.example.com";
	r.now = 86400;
	r.id = 0x1122334455667788ULL;
	r.type = evps[0].bounce_type;
	r.evps = v;
	r.nevps = n;
	r.full = full;
	r.original = in;
	CHECK(dispatcher_bounce_report_write(&r, out) == 0, "report written");
	fclose(out);
	fclose(in);
	return text;
}

static void
test_report(void)
{
	static const char	original[] = "Subject: hi\nX-A: 1\n\nbody\n";
	struct envelope		e[2];
	char			*t;

	memset(e, 0, sizeof e);
	addr(&e[0].sender, "alice", "example.org");
	addr(&e[0].rcpt, "bob", "example.net");
	addr(&e[0].dsn_orcpt, "orig", "example.net");
	strlcpy(e[0].dsn_envid, "ENV-1", sizeof e[0].dsn_envid);
	strlcpy(e[0].errorline, "550 5.1.1 no\r\nBcc: evil@x",
	    sizeof e[0].errorline);
	e[0].creation = 3600;
	e[0].bounce_type = BOUNCE_FAILED;
	e[1] = e[0];
	addr(&e[1].rcpt, "carol", "example.net");
	memset(&e[1].dsn_orcpt, 0, sizeof e[1].dsn_orcpt);
	strlcpy(e[1].errorline, "exited with status 67", sizeof e[1].errorline);

	t = report(e, 2, 1, original);
	CHECK(t != NULL && strstr(t, "From: Mailer Daemon <MAILER-DAEMON@"
	    "mx.example.com>\n") != NULL, "From");
	CHECK(strstr(t, "To: <alice@example.org>\n") != NULL, "To");
	CHECK(strstr(t, "Subject: Delivery status notification: Error\n") !=
	    NULL, "Subject");
	CHECK(strstr(t, "Content-Type: multipart/report; report-type="
	    "delivery-status;\n\tboundary=\"1122334455667788/report\"\n") !=
	    NULL, "container");
	CHECK(strstr(t, "Reporting-MTA: dns; mx.example.com\n"
	    "Original-Envelope-Id: ENV-1\n"
	    "Arrival-Date: Thu, 01 Jan 1970 01:00:00 +0000\n") != NULL,
	    "per-message fields");
	CHECK(strstr(t, "\nOriginal-Recipient: rfc822; orig@example.net\n"
	    "Final-Recipient: rfc822; bob@example.net\n"
	    "Action: failed\nStatus: 5.1.1\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 no Bcc: evil@x\n") != NULL,
	    "first recipient");
	CHECK(strstr(t, "\n\nFinal-Recipient: rfc822; carol@example.net\n"
	    "Action: failed\nStatus: 5.0.0\n"
	    "Diagnostic-Code: X-Unix; exited with status 67\n") != NULL,
	    "second recipient, no ORCPT");
	CHECK(strstr(t, "\nBcc:") == NULL, "no injected header line");
	CHECK(strstr(t, "Content-Type: message/rfc822\n") != NULL &&
	    strstr(t, "\n\nSubject: hi\nX-A: 1\n\nbody\n\n"
	    "--1122334455667788/report--\n") != NULL, "full original");
	free(t);

	/* headers only (RET=HDRS or large), and no trailing newline */
	t = report(e, 1, 0, "Subject: hi\nX-A: 1\n\nbody\n");
	CHECK(strstr(t, "Content-Type: text/rfc822-headers\n") != NULL,
	    "headers part");
	CHECK(strstr(t, "body") == NULL, "no body");
	CHECK(strstr(t, "carol") == NULL, "one recipient");
	free(t);
	t = report(e, 1, 1, "Subject: no newline");
	CHECK(strstr(t, "Subject: no newline\n\n--1122334455667788/report--\n")
	    != NULL, "a last line without newline is closed");
	free(t);

	/* delayed and delivered */
	e[0].bounce_type = BOUNCE_DELAYED;
	strlcpy(e[0].errorline, "451 4.3.0 busy", sizeof e[0].errorline);
	e[0].bounce_ttl = 7200;
	t = report(e, 1, 0, original);
	CHECK(strstr(t, "Subject: Delivery status notification: Delay\n") !=
	    NULL && strstr(t, "Action: delayed\nStatus: 4.3.0\n") != NULL &&
	    strstr(t, "Will-Retry-Until: Thu, 01 Jan 1970 03:00:00 +0000\n")
	    != NULL, "delay report");
	free(t);
	e[0].bounce_type = BOUNCE_DELIVERED;
	strlcpy(e[0].errorline, "delivered", sizeof e[0].errorline);
	t = report(e, 1, 0, original);
	CHECK(strstr(t, "Action: delivered\nStatus: 2.0.0\n") != NULL &&
	    strstr(t, "Diagnostic-Code") == NULL, "success report");
	free(t);

	/* nothing to report */
	{
		struct bounce_report	r;

		memset(&r, 0, sizeof r);
		r.reporting_mta = "x";
		CHECK(dispatcher_bounce_report_write(&r, stdout) == -1,
		    "no envelope: refused");
	}
}

int
main(void)
{
	test_sanitize();
	test_status();
	test_report();
	return test_done();
}
