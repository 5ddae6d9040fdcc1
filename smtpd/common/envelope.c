/*
 * envelope.c -- envelope objects and the message and envelope ids.
 *
 * Used by every process that handles envelopes, and by smtpctl.  The
 * text codec lives beside it in envelope_text.c.  Ids follow spec 3.3:
 * a msgid is nonzero, an evpid is msgid << 32 | a nonzero random half;
 * their text forms are exactly "%08x" and "%016llx", lowercase, and the
 * parsers refuse anything else (an upper-case or short name would be a
 * second spelling of one queue file).  Nothing here allocates except
 * envelope_new, which returns NULL on failure and lets the caller
 * tempfail; nothing here is fatal.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

/* envelope_new - a zeroed envelope of the current version, or NULL */
struct envelope *
envelope_new(void)
{
	struct envelope	*evp;

	if ((evp = calloc(1, sizeof *evp)) == NULL)
		return NULL;
	evp->version = ENVELOPE_VERSION;
	evp->ss.ss_family = AF_UNSPEC;
	return evp;
}

/* envelope_free - release *EVPP and clear the caller's pointer */
void
envelope_free(struct envelope **evpp)
{
	if (*evpp == NULL)
		return;
	free(*evpp);
	*evpp = NULL;
}

/*
 * envelope_set_errorline - the last delivery error, made fit to write:
 * text longer than the field ends in "...", control characters (a
 * remote reply may hold CR LF) become spaces and leading blanks go, so
 * envelope_dump never refuses what was set here.
 */
void
envelope_set_errorline(struct envelope *evp, const char *fmt, ...)
{
	char		 line[ENVELOPE_ERRORLINE_SIZE];
	const char	*p;
	va_list		 ap;
	int		 n;
	size_t		 i;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		line[0] = '\0';
	else if ((size_t)n >= sizeof line)
		memcpy(line + sizeof line - 4, "...", 4);
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	for (p = line; *p == ' '; p++)
		;
	/* cannot truncate: P is a suffix of LINE, as large as the field */
	(void)strlcpy(evp->errorline, p, sizeof evp->errorline);
}

/* evpid_to_msgid - the message an envelope belongs to */
uint32_t
evpid_to_msgid(uint64_t evpid)
{
	return (uint32_t)(evpid >> 32);
}

/* msgid_to_evpid - an evpid in MSGID; 0 if either half is 0 (draw again) */
uint64_t
msgid_to_evpid(uint32_t msgid, uint32_t rnd)
{
	if (msgid == 0 || rnd == 0)
		return 0;
	return (uint64_t)msgid << 32 | rnd;
}

/* msgid_format - "%08x" into BUF; 8, or -1 (msgid 0, no room) */
int
msgid_format(uint32_t msgid, char *buf, size_t bufsz)
{
	if (msgid == 0 || bufsz < MSGID_TEXT_SIZE)
		return -1;
	return snprintf(buf, bufsz, "%08" PRIx32, msgid);
}

/* evpid_format - "%016llx" into BUF; 16, or -1 (invalid evpid, no room) */
int
evpid_format(uint64_t evpid, char *buf, size_t bufsz)
{
	if (evpid_to_msgid(evpid) == 0 || (uint32_t)evpid == 0 ||
	    bufsz < EVPID_TEXT_SIZE)
		return -1;
	return snprintf(buf, bufsz, "%016" PRIx64, evpid);
}

/* envelope_parse_hex - exactly NDIGITS lowercase hex digits and a NUL */
static int
envelope_parse_hex(const char *s, size_t ndigits, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;
	int		d;

	for (i = 0; i < ndigits; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;	/* also the NUL of a short string */
		v = v << 4 | (uint64_t)d;
	}
	if (s[ndigits] != '\0')
		return -1;
	*out = v;
	return 0;
}

/* msgid_parse - the "%08x" form of a nonzero msgid */
int
msgid_parse(const char *s, uint32_t *msgid)
{
	uint64_t	v;

	if (envelope_parse_hex(s, MSGID_TEXT_SIZE - 1, &v) == -1 || v == 0)
		return -1;
	*msgid = (uint32_t)v;
	return 0;
}

/* evpid_parse - the "%016llx" form of an evpid with both halves nonzero */
int
evpid_parse(const char *s, uint64_t *evpid)
{
	uint64_t	v;

	if (envelope_parse_hex(s, EVPID_TEXT_SIZE - 1, &v) == -1 ||
	    evpid_to_msgid(v) == 0 || (uint32_t)v == 0)
		return -1;
	*evpid = v;
	return 0;
}
