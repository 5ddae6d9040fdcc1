/*
 * dispatcher_bounce_fuzz.c -- libFuzzer target for what a report takes
 * from outside (smtpd/dispatcher/dispatcher_bounce_report.c): the
 * diagnostic (a remote reply or a program's output) through the
 * sanitiser and the status parser, and the original message through
 * the report writer.
 *
 * Input: the first byte picks the report type and RET, then up to the
 * first NUL the errorline, the rest the original message.  The
 * sanitised text must be printable ASCII without doubled, leading or
 * trailing blanks, at most BOUNCE_DIAG_MAX long; the status must be
 * C.S.D of the report type's class (or 4 for a failure); everything
 * the report says before the original's part must be printable ASCII,
 * tab or newline.  Any breach aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher.h"
#include "envelope.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check_text(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n' &&
		    s[i] != '\t') || (unsigned char)s[i] > 0x7e)
			abort();
}

static void
fuzz_check_sanitized(const struct envelope *e)
{
	char	out[BOUNCE_DIAG_MAX + 1];
	size_t	n, i;

	n = dispatcher_bounce_sanitize(out, sizeof out, e->errorline,
	    sizeof e->errorline);
	if (n != strlen(out) || n > BOUNCE_DIAG_MAX)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 ||
		    (unsigned char)out[i] > 0x7e ||
		    (out[i] == ' ' && (i == 0 || i == n - 1 ||
		    out[i - 1] == ' ')))
			abort();
}

static void
fuzz_check_status(const struct envelope *e)
{
	char		buf[16];
	unsigned int	c, s, d;
	int		want = e->bounce_type == BOUNCE_DELIVERED ||
			    e->bounce_type == BOUNCE_RELAYED ? 2 :
			    e->bounce_type == BOUNCE_DELAYED ? 4 : 5;

	dispatcher_bounce_status(e, buf, sizeof buf);
	if (sscanf(buf, "%u.%u.%u", &c, &s, &d) != 3 || s > 999 || d > 999 ||
	    ((int)c != want && !(want == 5 && c == 4)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envelope	 e;
	const struct envelope	*v[1] = { &e };
	struct bounce_report	 r;
	const uint8_t		*nul, *rest;
	size_t			 restlen;
	uint8_t			 flags;
	FILE			*in, *out;
	char			*text = NULL, *part;
	size_t			 len = 0, elen;

	if (size < 1)
		return 0;
	memset(&e, 0, sizeof e);
	flags = data[0];
	e.bounce_type = (enum envelope_bounce_type)(flags % 4);
	data++;
	size--;
	nul = memchr(data, '\0', size);
	elen = nul != NULL ? (size_t)(nul - data) : size;
	if (elen >= sizeof e.errorline)
		elen = sizeof e.errorline - 1;
	memcpy(e.errorline, data, elen);
	memcpy(e.dsn_envid, e.errorline, sizeof e.dsn_envid - 1);
	strcpy(e.sender.user, "a");
	strcpy(e.sender.domain, "example.org");
	strcpy(e.rcpt.user, "b");
	strcpy(e.rcpt.domain, "example.net");
	fuzz_check_sanitized(&e);
	fuzz_check_status(&e);

	rest = nul != NULL ? nul + 1 : data + size;
	restlen = size - (size_t)(rest - data);
	in = restlen > 0 ? fmemopen((void *)(uintptr_t)rest, restlen, "r") :
	    NULL;
	if ((out = open_memstream(&text, &len)) == NULL)
		abort();
	memset(&r, 0, sizeof r);
	r.reporting_mta = "mx.example.com";
	r.now = 1;
	r.id = 1;
	r.type = e.bounce_type;
	r.evps = v;
	r.nevps = 1;
	r.full = (flags & 4) != 0;
	r.original = in;
	if (dispatcher_bounce_report_write(&r, out) != 0)
		abort();
	fclose(out);
	if (in != NULL)
		fclose(in);
	part = strstr(text, r.full ? "Content-Type: message/rfc822\n" :
	    "Content-Type: text/rfc822-headers\n");
	if (part == NULL)
		abort();
	fuzz_check_text(text, (size_t)(part - text));
	free(text);
	return 0;
}
