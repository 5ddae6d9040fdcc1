/*
 * smtp_data_test.c -- unit tests of the DATA state machine
 * (smtpd/dispatcher/smtp_data.c): the end of data, dot-unstuffing, LF
 * line ends, the SMTP smuggling shapes (bare LF / CR around a dot),
 * the size and line limits at -1/0/+1, the Received: loop guard at
 * 99/100, Bcc: removal, a folded first line (SMTP-24), NULs, huge lines, input without newline,
 * header completion (SMTP-22), and
 * that every split of the input gives the same result.  Table-driven.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"
#include "test.h"

struct smtpd_env	*env;

struct result {
	struct smtp_data	d;
	struct smtp_buf		out;
	size_t			consumed;
};

static int	complete;	/* feed: ask for header completion */

/* feed - the input in chunks of STEP bytes (0: at once) */
static void
feed(struct result *r, const char *in, size_t len, size_t line_max,
    long long size_max, size_t step)
{
	size_t	n, chunk;

	memset(r, 0, sizeof *r);
	smtp_data_init(&r->d, line_max, size_max);
	if (complete) {
		strcpy(r->d.add_date, "Date: D\n");
		strcpy(r->d.add_msgid, "Message-ID: <M>\n");
		strcpy(r->d.qualify, "h.example");
	}
	while (r->consumed < len && !r->d.done &&
	    !(r->d.flags & SMTP_DATA_LINE)) {
		chunk = step == 0 ? len - r->consumed : step;
		if (chunk > len - r->consumed)
			chunk = len - r->consumed;
		n = smtp_data_feed(&r->d, in + r->consumed, chunk, &r->out);
		r->consumed += n;
		if (n < chunk)
			break;
	}
}

static int
same(const struct result *r, const char *out, size_t outlen)
{
	return r->out.len == outlen &&
	    (outlen == 0 || memcmp(r->out.data, out, outlen) == 0);
}

static void
test_table(void)
{
	static const struct {
		const char	*name, *in, *out;
		int		 done;
		unsigned int	 flags;
		size_t		 consumed;	/* 0: all */
	} t[] = {
		{ "simple", "Subject: x\r\n\r\nhello\r\n.\r\n",
		    "Subject: x\n\nhello\n", 1, 0, 0 },
		{ "empty message", ".\r\n", "", 1, 0, 0 },
		{ "no header", "\r\nbody\r\n.\r\n", "\nbody\n", 1, 0, 0 },
		{ "dot-stuffed line", "\r\n..x\r\n.\r\n", "\n.x\n", 1, 0, 0 },
		{ "dot-stuffed lone dot", "\r\n..\r\n.\r\n", "\n.\n", 1, 0, 0 },
		{ "leading dot dropped", "\r\n.x\r\n.\r\n", "\nx\n", 1, 0, 0 },
		{ "commands after end", "\r\na\r\n.\r\nQUIT\r\n", "\na\n", 1,
		    0, 8 },
		{ "no end yet", "\r\nabc", "\nabc", 0, 0, 0 },
		{ "dot no end yet", "\r\n.", "\n", 0, 0, 0 },
		{ "dot CR no end yet", "\r\n.\r", "\n", 0, 0, 0 },
		{ "smuggle LF.LF", "\r\na\n.\nb\r\n.\r\n", "\na", 1,
		    SMTP_DATA_BARE, 0 },
		{ "smuggle CR.CR", "\r\na\r.\rb\r\n.\r\n", "\na", 1,
		    SMTP_DATA_BARE, 0 },
		{ "smuggle CRLF.LF", "\r\na\r\n.\nb\r\n.\r\n", "\na\n", 1,
		    SMTP_DATA_BARE, 0 },
		{ "smuggle LF.CRLF", "\r\na\n.\r\nMAIL FROM:<x@y>\r\n.\r\n",
		    "\na", 1, SMTP_DATA_BARE, 0 },
		{ "smuggle LF.CRLF not ended", "\r\na\n.\r\n", "\na", 0,
		    SMTP_DATA_BARE, 0 },
		{ "smuggle CRLF.CR", "\r\na\r\n.\rb\r\n.\r\n", "\na\n", 1,
		    SMTP_DATA_BARE, 0 },
		{ "bare LF at start", "\n.\n.\r\n", "", 0,
		    SMTP_DATA_BARE, 0 },
		{ "bare CR in header", "A: b\rc\r\n\r\n.\r\n", "A: b", 1,
		    SMTP_DATA_BARE, 0 },
		{ "NUL passed", "\r\na\0b\r\n.\r\n", "\na\0b\n", 1, 0, 0 },
		{ "Bcc removed", "To: x\r\nBcc: y\r\n z\r\nSubject: s\r\n"
		    "\r\nBcc: body\r\n.\r\n", "To: x\nSubject: s\n\n"
		    "Bcc: body\n", 1, 0, 0 },
		{ "BCC any case", "bCC:y\r\n\r\n.\r\n", "\n", 1, 0, 0 },
		{ "Bcc-like kept", "Bccx: y\r\n\r\n.\r\n", "Bccx: y\n\n",
		    1, 0, 0 },
		{ "continuation kept", "A: b\r\n c\r\n\r\n.\r\n",
		    "A: b\n c\n\n", 1, 0, 0 },
		{ "first line folded", " X: y\r\n\r\n.\r\n", "", 1,
		    SMTP_DATA_BADHDR, 0 },
		{ "folded after a header", "A: b\r\n\tc\r\n\r\n.\r\n",
		    "A: b\n\tc\n\n", 1, 0, 0 },
		{ "short header line", "Ab\r\n\r\n.\r\n", "Ab\n\n", 1, 0, 0 },
	};
	struct result	r, rb;
	char		what[128];
	size_t		i, len, outlen, want;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		len = strlen(t[i].in);
		outlen = strlen(t[i].out);
		if (strcmp(t[i].name, "NUL passed") == 0) {
			len = 10;
			outlen = 5;
		}
		want = t[i].consumed ? t[i].consumed : len;
		feed(&r, t[i].in, len, 1000, 1000000, 0);
		snprintf(what, sizeof what, "data %s", t[i].name);
		CHECK(r.d.done == t[i].done && r.d.flags == t[i].flags &&
		    r.consumed == want && (t[i].flags != 0 ||
		    same(&r, t[i].out, outlen)) &&
		    memchr(r.out.data ? r.out.data : "", '\r', r.out.len)
		    == NULL, what);
		if (t[i].flags & SMTP_DATA_BARE)	/* nothing past it */
			CHECK(same(&r, t[i].out, outlen), what);
		feed(&rb, t[i].in, len, 1000, 1000000, 1);
		snprintf(what, sizeof what, "data %s, byte by byte",
		    t[i].name);
		CHECK(rb.d.done == r.d.done && rb.d.flags == r.d.flags &&
		    rb.consumed == r.consumed &&
		    same(&rb, r.out.data, r.out.len), what);
		smtp_buf_free(&r.out);
		smtp_buf_free(&rb.out);
	}
}

static void
test_limits(void)
{
	struct result	r;
	char		*big, *p;
	size_t		i;

	/* "abc\r\n" is 5 bytes of message, a line of 3 */
	feed(&r, "abc\r\n.\r\n", 8, 1000, 4, 0);
	CHECK(r.d.done && r.d.flags == SMTP_DATA_TOO_BIG, "size limit -1");
	smtp_buf_free(&r.out);
	feed(&r, "abc\r\n.\r\n", 8, 1000, 5, 0);
	CHECK(r.d.done && r.d.flags == 0 && r.d.size == 5, "size limit 0");
	smtp_buf_free(&r.out);
	feed(&r, "abc\r\n.\r\n", 8, 1000, 6, 0);
	CHECK(r.d.done && r.d.flags == 0, "size limit +1");
	smtp_buf_free(&r.out);
	feed(&r, "abc\r\n.\r\n", 8, 2, 100, 0);
	CHECK(r.d.flags == SMTP_DATA_LINE && !r.d.done, "line limit -1");
	smtp_buf_free(&r.out);
	feed(&r, "abc\r\n.\r\n", 8, 3, 100, 0);
	CHECK(r.d.done && r.d.flags == 0, "line limit 0");
	smtp_buf_free(&r.out);
	feed(&r, "abc\r\n.\r\n", 8, 4, 100, 0);
	CHECK(r.d.done && r.d.flags == 0, "line limit +1");
	smtp_buf_free(&r.out);

	/* a huge line: stops at the limit, does not read the rest */
	big = malloc(70010);
	memset(big, 'x', 70000);
	memcpy(big + 70000, "\r\n.\r\n", 5);
	feed(&r, big, 70005, 65535, 1LL << 40, 0);
	CHECK(r.d.flags == SMTP_DATA_LINE && r.consumed == 65536,
	    "70000-byte line refused at 65536");
	smtp_buf_free(&r.out);
	free(big);

	/* Received: 99 pass, 100 is a loop */
	big = malloc(100 * 16 + 16);
	for (p = big, i = 0; i < 99; i++)
		p += sprintf(p, "Received: x\r\n");
	strcpy(p, "\r\n.\r\n");
	feed(&r, big, strlen(big), 1000, 1000000, 0);
	CHECK(r.d.done && r.d.flags == 0 && r.d.nreceived == 99,
	    "99 Received headers pass");
	smtp_buf_free(&r.out);
	sprintf(p, "received: x\r\n\r\n.\r\n");
	feed(&r, big, strlen(big), 1000, 1000000, 0);
	CHECK(r.d.done && r.d.flags == SMTP_DATA_LOOP,
	    "100 Received headers: loop");
	smtp_buf_free(&r.out);
	free(big);
}

/* test_long_field - a To: value above SMTP_DATA_FIELD_MAX goes out as
 * written, bytes intact */
static void
test_long_field(void)
{
	struct result	r;
	char		*in, *want, *p;
	size_t		i;

	in = malloc(3 * SMTP_DATA_FIELD_MAX);
	want = malloc(3 * SMTP_DATA_FIELD_MAX);
	p = in + sprintf(in, "Date: d\r\nMessage-ID: m\r\nTo: ");
	for (i = 0; i < SMTP_DATA_FIELD_MAX / 4 + 10; i++)
		p += sprintf(p, "a%c, ", 'a' + (int)(i % 26));
	strcpy(p, "z\r\n\r\n.\r\n");
	strcpy(want, in);
	for (p = want; (p = strstr(p, "\r\n")) != NULL; )
		memmove(p, p + 1, strlen(p + 1) + 1);
	want[strlen(want) - 2] = '\0';		/* no ".\n" */
	complete = 1;
	feed(&r, in, strlen(in), 100000, 100000, 0);
	CHECK(r.d.done && same(&r, want, strlen(want)),
	    "completion: a To: value too long to qualify is kept as is");
	smtp_buf_free(&r.out);
	feed(&r, in, strlen(in), 100000, 100000, 1);
	CHECK(r.d.done && same(&r, want, strlen(want)),
	    "completion: the same, byte by byte");
	smtp_buf_free(&r.out);
	complete = 0;
	free(in);
	free(want);
}

/* test_completion - Date: and Message-ID: added at the end of the header
 * block when absent, never twice, in any split (SMTP-22) */
static void
test_completion(void)
{
	static const struct {
		const char	*name, *in, *out;
	} t[] = {
		{ "neither: both added before the empty line",
		  "Subject: s\r\n\r\nbody\r\n.\r\n",
		  "Subject: s\nDate: D\nMessage-ID: <M>\n\nbody\n" },
		{ "Date present: only Message-ID",
		  "DATE: x\r\nSubject: s\r\n\r\nb\r\n.\r\n",
		  "DATE: x\nSubject: s\nMessage-ID: <M>\n\nb\n" },
		{ "both present (any case): nothing added",
		  "message-id: <a@b>\r\nDate: y\r\n\r\nb\r\n.\r\n",
		  "message-id: <a@b>\nDate: y\n\nb\n" },
		{ "a folded Message-ID counts",
		  "Message-ID:\r\n <a@b>\r\n\r\n.\r\n",
		  "Message-ID:\n <a@b>\nDate: D\n\n" },
		{ "headers only, no empty line: added at the end",
		  "Subject: s\r\n.\r\n",
		  "Subject: s\nDate: D\nMessage-ID: <M>\n" },
		{ "empty message: both",
		  ".\r\n", "Date: D\nMessage-ID: <M>\n" },
		{ "a Date: in the body is not a header",
		  "Subject: s\r\n\r\nDate: z\r\n.\r\n",
		  "Subject: s\nDate: D\nMessage-ID: <M>\n\nDate: z\n" },
		{ "X-Date: is not Date:",
		  "X-Date: z\r\n\r\n.\r\n",
		  "X-Date: z\nDate: D\nMessage-ID: <M>\n\n" },
		{ "a dropped Bcc: before the empty line",
		  "Bcc: a@b\r\n\r\nx\r\n.\r\n",
		  "Date: D\nMessage-ID: <M>\n\nx\n" },
		{ "unqualified From: qualified",
		  "From: alice\r\nDate: d\r\nMessage-ID: m\r\n\r\n.\r\n",
		  "From: alice@h.example\nDate: d\nMessage-ID: m\n\n" },
		{ "To/Cc lists: only the addresses without a domain",
		  "To: Bob <bob>, c@d, \"x, y\" <e> (note)\r\n"
		  "cc: f (F), undisclosed:;\r\nDate: d\r\nMessage-ID: m\r\n"
		  "\r\n.\r\n",
		  "To: Bob <bob@h.example>, c@d, \"x, y\" <e@h.example> (note)\n"
		  "cc: f@h.example (F), undisclosed:;\nDate: d\nMessage-ID: m\n"
		  "\n" },
		{ "a folded To: value, and the last header before the body",
		  "Date: d\r\nMessage-ID: m\r\nTo: a,\r\n\tb@c,\r\n c\r\n"
		  "\r\nbody: x\r\n.\r\n",
		  "Date: d\nMessage-ID: m\nTo: a@h.example,\n\tb@c,\n"
		  " c@h.example\n\nbody: x\n" },
		{ "a display name alone, <>, a quoted @ are left alone",
		  "From: Alice Smith\r\nTo: <>, \"a@b\"@c, \"q\"\r\n"
		  "Date: d\r\nMessage-ID: m\r\n\r\n.\r\n",
		  "From: Alice Smith\nTo: <>, \"a@b\"@c, \"q\"@h.example\n"
		  "Date: d\nMessage-ID: m\n\n" },
		{ "headers only, ending in a To: value",
		  "Date: d\r\nMessage-ID: m\r\nTo: z\r\n.\r\n",
		  "Date: d\nMessage-ID: m\nTo: z@h.example\n" },
		{ "From: in the body is not a header",
		  "Date: d\r\nMessage-ID: m\r\n\r\nFrom: z\r\n.\r\n",
		  "Date: d\nMessage-ID: m\n\nFrom: z\n" },
	};
	static const size_t	steps[] = { 0, 1, 2, 5 };
	struct result		r;
	char			what[128];
	size_t			i, k;

	complete = 1;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
			feed(&r, t[i].in, strlen(t[i].in), 1000, 100000,
			    steps[k]);
			snprintf(what, sizeof what, "completion: %s (step %zu)",
			    t[i].name, steps[k]);
			CHECK(r.d.done && r.d.flags == 0 &&
			    same(&r, t[i].out, strlen(t[i].out)), what);
			smtp_buf_free(&r.out);
		}
	complete = 0;
	feed(&r, "Subject: s\r\n\r\n.\r\n", 17, 1000, 1000, 0);
	CHECK(same(&r, "Subject: s\n\n", 12),
	    "no completion unless asked (a listener that is not local)");
	smtp_buf_free(&r.out);
	feed(&r, "To: a\r\n\r\n.\r\n", 12, 1000, 1000, 0);
	CHECK(same(&r, "To: a\n\n", 7),
	    "no qualification unless asked");
	smtp_buf_free(&r.out);
	test_long_field();
}

int
main(void)
{
	test_table();
	test_limits();
	test_completion();
	return test_done();
}
