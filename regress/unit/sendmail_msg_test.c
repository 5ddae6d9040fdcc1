/*
 * sendmail_msg_test.c -- unit tests of what sendmail parses of its
 * standard input (smtpd/ctl/sendmail_msg.c, compiled in here: the
 * smtpctl binary's files are not in the core library): the address
 * lists of To/Cc/Bcc, the header block, Bcc removal, the lone dot, line
 * ends, dot-stuffing, and the refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "../../smtpd/ctl/sendmail_msg.c"

/* one To/Cc/Bcc value and the addresses it gives, "|"-joined */
static const struct {
	const char	*value;
	const char	*want;		/* NULL: refused */
} test_lists[] = {
	{ "a@x", "a@x" },
	{ " a@x , b@y ", "a@x|b@y" },
	{ "Jane Doe <j@x>", "j@x" },
	{ "\"Doe, Jane\" <j@x>, b@y", "j@x|b@y" },
	{ "j@x (Jane, Doe)", "j@x" },
	{ "undisclosed-recipients:;", "" },
	{ "team: a@x, B <b@y>;, c@z", "a@x|b@y|c@z" },
	{ "<a@x>,\n\t<b@y>", "a@x|b@y" },	/* folded */
	{ "", "" },
	{ ",,,", "" },
	{ "a@x\001", NULL },
};

static void
test_addr_lists(void)
{
	struct sendmail_msg	 m;
	const char		*why;
	char			 got[512], what[64];
	size_t			 i, j;
	int			 r;

	for (i = 0; i < sizeof test_lists / sizeof test_lists[0]; i++) {
		memset(&m, 0, sizeof m);
		why = NULL;
		r = sendmail_addr_list(&m, test_lists[i].value,
		    strlen(test_lists[i].value), &why);
		got[0] = '\0';
		for (j = 0; j < m.nrcpts; j++) {
			if (j)
				strlcat(got, "|", sizeof got);
			strlcat(got, m.rcpts[j], sizeof got);
		}
		snprintf(what, sizeof what, "address list %zu: %s", i,
		    test_lists[i].want ? test_lists[i].want : "refused");
		if (test_lists[i].want == NULL)
			CHECK(r == -1 && why != NULL, what);
		else
			CHECK(r == 0 && strcmp(got, test_lists[i].want) == 0,
			    what);
		sendmail_msg_free(&m);
	}
}

static int
test_put(void *arg, const char *s, size_t n)
{
	strncat(arg, s, n);
	return 0;
}

static void
test_parse(void)
{
	struct sendmail_msg	 m;
	const char		*why = NULL, *in;
	char			 out[256] = "";

	in = "To: a@x\r\nBcc: b@y,\r\n c@z\r\nSubject: s\r\n\r\n.a\r\n.\r\n"
	    "lost\r\n";
	CHECK(sendmail_msg_parse(&m, in, strlen(in), 1, 1, 1, &why) == 0,
	    "parse: CRLF message with Bcc");
	CHECK(m.nrcpts == 3 && strcmp(m.rcpts[2], "c@z") == 0,
	    "parse: To and folded Bcc extracted");
	CHECK(strcmp(m.text, "To: a@x\nSubject: s\n\n.a\n") == 0,
	    "parse: LF ends, Bcc removed, cut at the lone dot");
	CHECK(m.hdrlen == 19 && m.blank && m.has_to && !m.has_from,
	    "parse: the header block");
	sendmail_dot_stuff(m.text, m.len, test_put, out);
	CHECK(strcmp(out, "To: a@x\r\nSubject: s\r\n\r\n..a\r\n") == 0,
	    "dot-stuffing");
	sendmail_msg_free(&m);

	in = "body only\n.\nkept\n";
	CHECK(sendmail_msg_parse(&m, in, strlen(in), 0, 0, 0, &why) == 0 &&
	    m.hdrlen == 0 && !m.blank && strcmp(m.text, in) == 0,
	    "parse: no headers, -i keeps the dot line");
	sendmail_msg_free(&m);

	in = "From: me\nDate: now\nMessage-Id: <x>\nX-A: b";
	CHECK(sendmail_msg_parse(&m, in, strlen(in), 1, 0, 0, &why) == 0 &&
	    m.has_from && m.hdrlen == m.len,
	    "parse: headers found, case-insensitive, no final LF");
	sendmail_msg_free(&m);

	in = "To: a\001@x\n\nx\n";
	why = NULL;
	CHECK(sendmail_msg_parse(&m, in, strlen(in), 1, 1, 1, &why) == -1 &&
	    why != NULL, "parse: a control character in To refused");
	sendmail_msg_free(&m);
}

int
main(void)
{
	test_addr_lists();
	test_parse();
	return test_done();
}
