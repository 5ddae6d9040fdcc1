/*
 * mta_reply.c -- SMTP replies as a client reads them (RFC 5321 4.2):
 * lines "CODE-text" then "CODE text" (or "CODE"), one code throughout.
 *
 * Pure functions on caller memory, used by the MTA session
 * (mta_session.c) and its fuzz target.  What it must never do: keep a
 * control byte, a byte above 0x7e or more than MTA_REPLY_TEXT_MAX
 * bytes of a peer's text, or accept a line it cannot classify.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imsg.h"
#include "mta.h"

#define MTA_REPLY_ERR(...)	do { snprintf(err, errsz, __VA_ARGS__); \
	return MTA_REPLY_ERROR; } while (0)

void
mta_reply_init(struct mta_reply *r)
{
	r->code = 0;
	r->nlines = 0;
	r->text[0] = '\0';
	r->textlen = 0;
	r->line[0] = '\0';
}

/* mta_reply_sanitize - printable ASCII only, always NUL-terminated */
size_t
mta_reply_sanitize(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t		i, n = 0;
	unsigned char	c;

	if (dstsz == 0)
		return 0;
	for (i = 0; i < srclen && n + 1 < dstsz; i++) {
		c = (unsigned char)src[i];
		dst[n++] = c == '\t' ? ' ' : (c < 0x20 || c > 0x7e) ? '?' :
		    (char)c;
	}
	dst[n] = '\0';
	return n;
}

/* mta_reply_append - TEXT gets " " and SRC, "..." when cut */
static void
mta_reply_append(struct mta_reply *r, const char *src, size_t len)
{
	size_t	room = sizeof r->text - r->textlen;

	if (r->textlen >= sizeof r->text - 4)
		return;		/* already cut */
	if (r->textlen > 0 && len > 0) {
		r->text[r->textlen++] = ' ';
		room--;
	}
	if (len + 1 > room - 3) {
		r->textlen += mta_reply_sanitize(r->text + r->textlen,
		    room - 3, src, len);
		memcpy(r->text + r->textlen, "...", 4);
		r->textlen += 3;
		return;
	}
	r->textlen += mta_reply_sanitize(r->text + r->textlen, room, src,
	    len);
}

int
mta_reply_feed(struct mta_reply *r, const char *line, size_t len,
    char *err, size_t errsz)
{
	int	code, last;

	if (len + 2 > MTA_REPLY_LINE_MAX)
		MTA_REPLY_ERR("reply line longer than %d bytes",
		    MTA_REPLY_LINE_MAX);
	if (memchr(line, '\0', len) != NULL)
		MTA_REPLY_ERR("NUL byte in a reply");
	if (memchr(line, '\r', len) != NULL)
		MTA_REPLY_ERR("bare CR in a reply");
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		MTA_REPLY_ERR("bad reply code");
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		MTA_REPLY_ERR("bad separator after the reply code");
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		MTA_REPLY_ERR("reply code changes from %d to %d", r->code,
		    code);
	if (r->nlines == MTA_REPLY_LINES_MAX)
		MTA_REPLY_ERR("reply longer than %d lines",
		    MTA_REPLY_LINES_MAX);
	last = len == 3 || line[3] == ' ';
	if (r->nlines == 0)
		mta_reply_append(r, line, 3);
	r->code = code;
	r->nlines++;
	mta_reply_sanitize(r->line, sizeof r->line, len > 4 ? line + 4 : "",
	    len > 4 ? len - 4 : 0);
	if (len > 4)
		mta_reply_append(r, line + 4, len - 4);
	return last ? MTA_REPLY_DONE : MTA_REPLY_MORE;
}

/* mta_reply_status - 2xx done, 5xx bounce, anything else retry */
int
mta_reply_status(int code)
{
	if (code >= 200 && code < 300)
		return DELIVERY_OK;
	if (code >= 500 && code < 600)
		return DELIVERY_PERMFAIL;
	return DELIVERY_TEMPFAIL;
}

/* mta_reply_auth - the mechanisms of an AUTH capability line */
unsigned int
mta_reply_auth(const char *line)
{
	unsigned int	 mechs = 0;
	const char	*p, *end;
	size_t		 n;

	if (strncasecmp(line, "AUTH", 4) != 0 ||
	    (line[4] != ' ' && line[4] != '='))
		return 0;
	for (p = line + 5; *p != '\0'; p = end) {
		while (*p == ' ')
			p++;
		for (end = p; *end != '\0' && *end != ' '; end++)
			;
		n = (size_t)(end - p);
		if (n == 5 && strncasecmp(p, "PLAIN", 5) == 0)
			mechs |= MTA_AUTH_PLAIN;
		else if (n == 5 && strncasecmp(p, "LOGIN", 5) == 0)
			mechs |= MTA_AUTH_LOGIN;
	}
	return mechs;
}
