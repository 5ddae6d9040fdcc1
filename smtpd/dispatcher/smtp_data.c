/*
 * smtp_data.c -- the DATA state machine: framing (CRLF.CRLF, dot
 * unstuffing, bare CR / LF), size and line limits, and the header pass
 * (Received: count for the loop guard SMTP-21, Bcc: removal SMTP-23,
 * Date: and Message-ID: completion SMTP-22).
 *
 * Runs in the dispatcher (smtp_session.c), the unit tests and the fuzz
 * target; pure, byte by byte, so a message may arrive in any split.
 * The framing and the header pass are two layers: the framing hands
 * content bytes and line ends to the header pass, which writes the
 * file's bytes.  The policy on bare CR / LF is in smtp_data.h.
 * What it must never do: end a message on anything but CRLF.CRLF,
 * write a CR, or write anything after the first error.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hdraddr.h"
#include "smtp_data.h"

enum {
	SMTP_DATA_S_BOL,	/* at the start of a line */
	SMTP_DATA_S_DOT,	/* "." at the start of a line */
	SMTP_DATA_S_DOTCR,	/* ".\r" at the start of a line */
	SMTP_DATA_S_LINE,	/* inside a line */
	SMTP_DATA_S_CR		/* "\r" inside a line */
};

enum {
	SMTP_DATA_H_START,	/* start of a header line */
	SMTP_DATA_H_START_DROP,	/* same, after a dropped (Bcc:) line */
	SMTP_DATA_H_PFX,	/* collecting a header name */
	SMTP_DATA_H_EMIT,	/* writing a header line */
	SMTP_DATA_H_DROP,	/* dropping a Bcc: line */
	SMTP_DATA_H_FIELD,	/* keeping a From/To/Cc value to qualify */
	SMTP_DATA_H_START_FIELD, /* start of a line after one */
	SMTP_DATA_H_BODY	/* after the empty line */
};

#define SMTP_DATA_SEEN_DATE	0x01
#define SMTP_DATA_SEEN_MSGID	0x02

#define SMTP_DATA_ERRORS	(SMTP_DATA_BARE | SMTP_DATA_TOO_BIG | \
				 SMTP_DATA_LOOP | SMTP_DATA_LINE | \
				 SMTP_DATA_BADHDR)

/* smtp_buf_add - append, growing by doubling */
int
smtp_buf_add(struct smtp_buf *b, const void *p, size_t len)
{
	char	*n;
	size_t	 cap;

	if (len == 0)		/* nothing: b->data may still be NULL */
		return 0;
	if (len > b->cap - b->len) {
		cap = b->cap ? b->cap : 4096;
		while (cap - b->len < len) {
			if (cap > (size_t)-1 / 2)
				return -1;
			cap *= 2;
		}
		if ((n = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

/* smtp_buf_free - release the buffer's memory */
void
smtp_buf_free(struct smtp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* smtp_data_init - ready for a new message */
void
smtp_data_init(struct smtp_data *d, size_t line_max, long long size_max)
{
	memset(d, 0, sizeof *d);
	d->state = SMTP_DATA_S_BOL;
	d->hstate = SMTP_DATA_H_START;
	d->line_max = line_max;
	d->size_max = size_max;
}

/* smtp_data_out - write bytes unless an error already stopped output */
static void
smtp_data_out(struct smtp_data *d, struct smtp_buf *out, const char *p,
    size_t len)
{
	if (d->flags & SMTP_DATA_ERRORS)
		return;
	if (smtp_buf_add(out, p, len) == -1)
		d->oom = 1;
}

/* smtp_data_count - account for N bytes of the message */
static int
smtp_data_count(struct smtp_data *d, int n)
{
	if (d->flags & SMTP_DATA_ERRORS)
		return -1;
	d->size += n;
	if (d->size > d->size_max) {
		d->flags |= SMTP_DATA_TOO_BIG;
		return -1;
	}
	return 0;
}

/* smtp_data_classify - the collected header name decides the line */
static void
smtp_data_classify(struct smtp_data *d, struct smtp_buf *out)
{
	if (d->npfx == 4 && strncasecmp(d->pfx, "bcc:", 4) == 0) {
		d->hstate = SMTP_DATA_H_DROP;
		return;
	}
	if (d->masquerade != NULL && d->npfx == 5 &&
	    strncasecmp(d->pfx, "from:", 5) == 0) {
		smtp_data_out(d, out, "From: ", 6);
		smtp_data_out(d, out, d->masquerade->user,
		    strlen(d->masquerade->user));
		smtp_data_out(d, out, "@", 1);
		smtp_data_out(d, out, d->masquerade->domain,
		    strlen(d->masquerade->domain));
		smtp_data_out(d, out, "\n", 1);
		d->hstate = SMTP_DATA_H_DROP;	/* the old one's text */
		return;
	}
	if (d->npfx == 5 && strncasecmp(d->pfx, "date:", 5) == 0)
		d->seen |= SMTP_DATA_SEEN_DATE;
	if (d->npfx == 11 && strncasecmp(d->pfx, "message-id:", 11) == 0)
		d->seen |= SMTP_DATA_SEEN_MSGID;
	if (d->npfx == 9 && strncasecmp(d->pfx, "received:", 9) == 0 &&
	    ++d->nreceived >= SMTP_DATA_RECEIVED_MAX)
		d->flags |= SMTP_DATA_LOOP;
	smtp_data_out(d, out, d->pfx, d->npfx);
	d->hstate = SMTP_DATA_H_EMIT;
	if (d->qualify[0] != '\0' && ((d->npfx == 5 &&
	    strncasecmp(d->pfx, "from:", 5) == 0) || (d->npfx == 3 &&
	    (strncasecmp(d->pfx, "to:", 3) == 0 ||
	    strncasecmp(d->pfx, "cc:", 3) == 0)))) {
		d->hstate = SMTP_DATA_H_FIELD;
		d->nfield = 0;
	}
}

/* smtp_data_bare_addr - the unbracketed address of A in S is one word
 * (blanks outside quotes and comments make it a display name alone) */
static int
smtp_data_bare_addr(const char *s, const struct hdraddr *a)
{
	size_t	i;
	int	quoted = 0, depth = 0;

	for (i = a->addr_off; i < a->addr_off + a->addr_len; i++) {
		if (s[i] == '\\' && (quoted || depth)) {
			i++;
			continue;
		}
		if (s[i] == '"' && depth == 0)
			quoted = !quoted;
		else if (!quoted && s[i] == '(')
			depth++;
		else if (!quoted && s[i] == ')' && depth > 0)
			depth--;
		else if (!quoted && depth == 0 && (s[i] == ' ' ||
		    s[i] == '\t' || s[i] == '\n'))
			return 0;
	}
	return 1;
}

/* smtp_data_field_end - the kept From/To/Cc value, each address without
 * a domain given "@qualify" (SMTP-22) */
static void
smtp_data_field_end(struct smtp_data *d, struct smtp_buf *out)
{
	struct hdraddr	a;
	size_t		pos = 0, done = 0, at;

	while (hdraddr_next(d->field, d->nfield, &pos, &a)) {
		if (a.addr_len == 0 || hdraddr_has_domain(d->field, &a) ||
		    (!a.angle && !smtp_data_bare_addr(d->field, &a)))
			continue;
		at = a.addr_off + a.addr_len;
		smtp_data_out(d, out, d->field + done, at - done);
		smtp_data_out(d, out, "@", 1);
		smtp_data_out(d, out, d->qualify, strlen(d->qualify));
		done = at;
	}
	smtp_data_out(d, out, d->field + done, d->nfield - done);
	d->nfield = 0;
}

/* smtp_data_field_add - keep byte C of a From/To/Cc value; a value too
 * long to keep goes out as is */
static void
smtp_data_field_add(struct smtp_data *d, char c, struct smtp_buf *out)
{
	if (d->nfield < sizeof d->field) {
		d->field[d->nfield++] = c;
		return;
	}
	smtp_data_out(d, out, d->field, d->nfield);
	d->nfield = 0;
	smtp_data_out(d, out, &c, 1);
	d->hstate = c == '\n' ? SMTP_DATA_H_START : SMTP_DATA_H_EMIT;
}

/* smtp_data_complete - the end of the header block: the completion
 * lines of what the message lacks (SMTP-22) */
static void
smtp_data_complete(struct smtp_data *d, struct smtp_buf *out)
{
	if (!(d->seen & SMTP_DATA_SEEN_DATE))
		smtp_data_out(d, out, d->add_date, strlen(d->add_date));
	if (!(d->seen & SMTP_DATA_SEEN_MSGID))
		smtp_data_out(d, out, d->add_msgid, strlen(d->add_msgid));
}

/* smtp_data_byte - one content byte through the header pass */
static void
smtp_data_byte(struct smtp_data *d, char c, struct smtp_buf *out)
{
	if (smtp_data_count(d, 1) == -1)
		return;
	if (d->hstate == SMTP_DATA_H_START_FIELD) {
		if (c == ' ' || c == '\t') {	/* the value goes on */
			d->hstate = SMTP_DATA_H_FIELD;
			smtp_data_field_add(d, c, out);
			return;
		}
		smtp_data_field_end(d, out);
		d->hstate = SMTP_DATA_H_START;
	}
	switch (d->hstate) {
	case SMTP_DATA_H_FIELD:
		smtp_data_field_add(d, c, out);
		return;
	case SMTP_DATA_H_START:
	case SMTP_DATA_H_START_DROP:
		if (c == ' ' || c == '\t') {	/* a continuation line */
			if (d->nheaders == 0) {	/* of nothing (SMTP-24) */
				d->flags |= SMTP_DATA_BADHDR;
				return;
			}
			if (d->hstate == SMTP_DATA_H_START_DROP) {
				d->hstate = SMTP_DATA_H_DROP;
				return;
			}
			d->hstate = SMTP_DATA_H_EMIT;
			break;
		}
		d->npfx = 0;
		d->nheaders++;
		d->hstate = SMTP_DATA_H_PFX;
		/* FALLTHROUGH */
	case SMTP_DATA_H_PFX:
		d->pfx[d->npfx++] = c;
		if (c == ':' || d->npfx == sizeof d->pfx - 1)
			smtp_data_classify(d, out);
		return;
	case SMTP_DATA_H_DROP:
		return;
	default:
		break;
	}
	smtp_data_out(d, out, &c, 1);
}

/* smtp_data_eol - a CRLF through the header pass: an LF in the file */
static void
smtp_data_eol(struct smtp_data *d, struct smtp_buf *out)
{
	if (smtp_data_count(d, 2) == -1)
		return;
	switch (d->hstate) {
	case SMTP_DATA_H_FIELD:
		smtp_data_field_add(d, '\n', out);
		if (d->hstate == SMTP_DATA_H_FIELD)
			d->hstate = SMTP_DATA_H_START_FIELD;
		return;
	case SMTP_DATA_H_START_FIELD:	/* the empty line after a value */
		smtp_data_field_end(d, out);
		/* FALLTHROUGH */
	case SMTP_DATA_H_START:
	case SMTP_DATA_H_START_DROP:	/* the empty line: the body */
		smtp_data_complete(d, out);
		d->hstate = SMTP_DATA_H_BODY;
		break;
	case SMTP_DATA_H_PFX:		/* no colon: written as is */
		smtp_data_out(d, out, d->pfx, d->npfx);
		d->hstate = SMTP_DATA_H_START;
		break;
	case SMTP_DATA_H_DROP:
		d->hstate = SMTP_DATA_H_START_DROP;
		return;
	case SMTP_DATA_H_EMIT:
		d->hstate = SMTP_DATA_H_START;
		break;
	default:
		break;
	}
	smtp_data_out(d, out, "\n", 1);
}

/* smtp_data_inline - byte C inside a line (state S_LINE) */
static void
smtp_data_inline(struct smtp_data *d, char c, struct smtp_buf *out)
{
	if (c == '\r') {		/* a CRLF is not counted */
		d->state = SMTP_DATA_S_CR;
		return;
	}
	if (++d->linelen > d->line_max) {
		d->flags |= SMTP_DATA_LINE;
		return;
	}
	if (c == '\n') {		/* bare LF: part of the line */
		d->flags |= SMTP_DATA_BARE;
		return;
	}
	smtp_data_byte(d, c, out);
}

/* smtp_data_step - one byte of input through the framing */
static void
smtp_data_step(struct smtp_data *d, char c, struct smtp_buf *out)
{
	switch (d->state) {
	case SMTP_DATA_S_BOL:
		d->linelen = 0;
		if (c == '.') {
			d->state = SMTP_DATA_S_DOT;
			return;
		}
		break;
	case SMTP_DATA_S_DOT:		/* the dot is dropped (unstuffing) */
		if (c == '\r') {
			d->state = SMTP_DATA_S_DOTCR;
			return;
		}
		break;
	case SMTP_DATA_S_DOTCR:
		if (c == '\n') {
			d->done = 1;
			return;
		}
		d->flags |= SMTP_DATA_BARE;	/* ".\r" then not LF */
		break;
	case SMTP_DATA_S_CR:
		if (c == '\n') {
			smtp_data_eol(d, out);
			d->state = SMTP_DATA_S_BOL;
			return;
		}
		d->flags |= SMTP_DATA_BARE;	/* CR then not LF */
		d->linelen++;
		break;
	default:
		break;
	}
	d->state = SMTP_DATA_S_LINE;
	smtp_data_inline(d, c, out);
}

/* smtp_data_run - the fast path: the plain bytes at P inside a body
 * line, written at once; how many (0: take the byte by byte path) */
static size_t
smtp_data_run(struct smtp_data *d, const char *p, size_t len,
    struct smtp_buf *out)
{
	size_t	n, room;

	if (d->state != SMTP_DATA_S_LINE || d->hstate != SMTP_DATA_H_BODY ||
	    (d->flags & SMTP_DATA_ERRORS) || d->linelen >= d->line_max)
		return 0;
	room = d->line_max - d->linelen;
	if (len > room)
		len = room;
	for (n = 0; n < len && p[n] != '\r' && p[n] != '\n'; n++)
		;
	if (n == 0 || (long long)n > d->size_max - d->size)
		return 0;
	d->linelen += n;
	d->size += n;
	smtp_data_out(d, out, p, n);
	return n;
}

/* smtp_data_feed - consume input up to the end of data */
size_t
smtp_data_feed(struct smtp_data *d, const char *p, size_t len,
    struct smtp_buf *out)
{
	size_t	i, n;

	for (i = 0; i < len && !d->done; i++) {
		if ((n = smtp_data_run(d, p + i, len - i, out)) > 0) {
			i += n - 1;
			continue;
		}
		smtp_data_step(d, p[i], out);
		if (d->flags & SMTP_DATA_LINE)
			return i + 1;
	}
	/* a message of header lines only: completed at its end */
	if (d->done && d->hstate != SMTP_DATA_H_BODY) {
		if (d->hstate == SMTP_DATA_H_START_FIELD)
			smtp_data_field_end(d, out);
		smtp_data_complete(d, out);
		d->hstate = SMTP_DATA_H_BODY;
	}
	return i;
}
