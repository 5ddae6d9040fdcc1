/*
 * mta_reply_fuzz.c -- libFuzzer target for what the MTA reads from a
 * next hop and from its configuration: SMTP replies (mta_reply.c,
 * multi-line, codes, enhanced codes, any byte) and relay URLs
 * (mta_route.c).
 *
 * The input is cut into lines at LF (a CR before it removed, as the
 * session does) and fed to one reply after another.  Nothing may crash
 * or read past the input; a taken line leaves a code of 200..599, a
 * text that fits its buffer and holds printable ASCII only; a reply
 * never grows past MTA_REPLY_LINES_MAX lines; the last line taken, read
 * as an EHLO capability, offers no AUTH bit but PLAIN and LOGIN
 * (mta_reply_auth).  The first line, up to a
 * NUL, is also parsed as a relay URL: an accepted one has a host and a
 * port in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_printable - S is terminated within SIZE and printable */
static void
fuzz_printable(const char *s, size_t size)
{
	size_t	i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
	if (i == size)
		abort();
}

static void
fuzz_url(const uint8_t *data, size_t size)
{
	struct mta_url	 u;
	char		*s, err[256];

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mta_url_parse(s, &u, err, sizeof err) == 0) {
		if (u.host[0] == '\0' || memchr(u.host, '\0',
		    sizeof u.host) == NULL)
			abort();
		if (mta_url_port(&u) < 1 || mta_url_port(&u) > 65535)
			abort();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_reply	 r;
	const uint8_t		*p = data, *nl;
	char			 err[128];
	size_t			 len, first = size;
	int			 ret;

	if (size > 1 << 20)
		return 0;
	mta_reply_init(&r);
	while (p < data + size) {
		nl = memchr(p, '\n', (size_t)(data + size - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(data + size - p);
		if (first == size)
			first = len;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		ret = mta_reply_feed(&r, (const char *)p, len, err,
		    sizeof err);
		if (ret == MTA_REPLY_ERROR) {
			fuzz_printable(err, sizeof err);
			mta_reply_init(&r);
		} else {
			if (r.code < 200 || r.code > 599 ||
			    r.nlines > MTA_REPLY_LINES_MAX ||
			    r.textlen != strlen(r.text))
				abort();
			fuzz_printable(r.text, sizeof r.text);
			fuzz_printable(r.line, sizeof r.line);
			(void)mta_reply_status(r.code);
			/* an EHLO capability: only the two known bits */
			if (mta_reply_auth(r.line) & ~(unsigned int)
			    (MTA_AUTH_PLAIN | MTA_AUTH_LOGIN))
				abort();
			if (ret == MTA_REPLY_DONE)
				mta_reply_init(&r);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	fuzz_url(data, first);
	return 0;
}
