/*
 * mailaddr.c -- "user@domain" text to struct mailaddr and back.
 *
 * Used by the envelope codec (every process that loads or writes an
 * envelope) and later by the SMTP server once it has parsed a path.
 * The text is split at the last '@', as the 6.8 daemon does, so a quoted
 * user part may hold an '@'; text without '@' is a bare user.  The input
 * is a pointer and a length, never read past; it need not end in a NUL.
 * Parts longer than their buffer, NUL bytes and control characters (CR
 * and LF above all: SEC-09) are refused on both directions, so whatever
 * parses can be written back and whatever is written parses again.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mailaddr.h"

/* mailaddr_error - fill ERR (may be NULL) and fail */
static int __attribute__((format(printf, 3, 4)))
mailaddr_error(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* mailaddr_bad_char - why byte C may not appear in a part, or NULL */
static const char *
mailaddr_bad_char(unsigned char c)
{
	if (c == '\0')
		return "NUL byte";
	if (c == '\r' || c == '\n')
		return "line break";
	if (c < 0x20 || c == 0x7f)
		return "control character";
	return NULL;
}

/* mailaddr_check_part - LEN bytes at P fit a SIZE buffer, no bad byte */
static int
mailaddr_check_part(const char *p, size_t len, size_t size,
    const char *what, char *err, size_t errsz)
{
	const char	*why;
	size_t		 i;

	if (len >= size)
		return mailaddr_error(err, errsz,
		    "%s part longer than %zu bytes", what, size - 1);
	for (i = 0; i < len; i++)
		if ((why = mailaddr_bad_char((unsigned char)p[i])) != NULL)
			return mailaddr_error(err, errsz, "%s in %s part",
			    why, what);
	return 0;
}

/* mailaddr_parse - LEN bytes of "user@domain" (or "@", or "user") */
int
mailaddr_parse(struct mailaddr *ma, const char *buf, size_t len,
    char *err, size_t errsz)
{
	size_t	at, ulen, dlen;

	memset(ma, 0, sizeof *ma);
	for (at = len; at > 0; at--)
		if (buf[at - 1] == '@')
			break;
	if (at == 0) {			/* no '@': a bare user part */
		ulen = len;
		dlen = 0;
	} else {
		ulen = at - 1;
		dlen = len - at;
	}
	if (mailaddr_check_part(buf, ulen, sizeof ma->user, "user",
	    err, errsz) == -1)
		return -1;
	if (mailaddr_check_part(buf + len - dlen, dlen, sizeof ma->domain,
	    "domain", err, errsz) == -1)
		return -1;
	memcpy(ma->user, buf, ulen);
	memcpy(ma->domain, buf + len - dlen, dlen);
	return 0;
}

/* mailaddr_format - "user@domain" into BUF; length, or -1 (bad, no room) */
int
mailaddr_format(const struct mailaddr *ma, char *buf, size_t bufsz)
{
	size_t	ulen, dlen;

	ulen = strnlen(ma->user, sizeof ma->user);
	dlen = strnlen(ma->domain, sizeof ma->domain);
	if (mailaddr_check_part(ma->user, ulen, sizeof ma->user, "user",
	    NULL, 0) == -1 ||
	    mailaddr_check_part(ma->domain, dlen, sizeof ma->domain, "domain",
	    NULL, 0) == -1)
		return -1;
	/* read back, the text splits at the last '@' */
	if (memchr(ma->domain, '@', dlen) != NULL)
		return -1;
	if (ulen + 1 + dlen >= bufsz)
		return -1;
	memcpy(buf, ma->user, ulen);
	buf[ulen] = '@';
	memcpy(buf + ulen + 1, ma->domain, dlen);
	buf[ulen + 1 + dlen] = '\0';
	return (int)(ulen + 1 + dlen);
}

/* mailaddr_is_null - the null sender <>: both parts empty */
int
mailaddr_is_null(const struct mailaddr *ma)
{
	return ma->user[0] == '\0' && ma->domain[0] == '\0';
}

/* mailaddr_domain_ok - D is a domain name or an address literal as an
 * administrator types it (smtpctl): 1 to 255 bytes of letters, digits
 * and "-._:[]" */
int
mailaddr_domain_ok(const char *d)
{
	size_t	i;

	for (i = 0; d[i] != '\0'; i++)
		if (i == 255 || (!isalnum((unsigned char)d[i]) &&
		    strchr("-._:[]", d[i]) == NULL))
			return 0;
	return i > 0;
}
