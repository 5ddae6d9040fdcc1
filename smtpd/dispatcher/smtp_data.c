/*
 * smtp_data.c -- the DATA state machine: framing (CRLF.CRLF, dot
 * unstuffing, bare CR / LF), size and line limits, and the header pass
 * (Received: count for the loop guard SMTP-21, Bcc: removal SMTP-23).
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
	SMTP_DATA_H_BODY	/* after the empty line */
};

#define SMTP_DATA_ERRORS	(SMTP_DATA_BARE | SMTP_DATA_TOO_BIG | \
				 SMTP_DATA_LOOP | SMTP_DATA_LINE | \
				 SMTP_DATA_BADHDR)

/* smtp_buf_add - append, growing by doubling */
int
smtp_buf_add(struct smtp_buf *b, const void *p, size_t len)
{
	char	*n;
	size_t	 cap;

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
	if (d->npfx == 9 && strncasecmp(d->pfx, "received:", 9) == 0 &&
	    ++d->nreceived >= SMTP_DATA_RECEIVED_MAX)
		d->flags |= SMTP_DATA_LOOP;
	smtp_data_out(d, out, d->pfx, d->npfx);
	d->hstate = SMTP_DATA_H_EMIT;
}

/* smtp_data_byte - one content byte through the header pass */
static void
smtp_data_byte(struct smtp_data *d, char c, struct smtp_buf *out)
{
	if (smtp_data_count(d, 1) == -1)
		return;
	switch (d->hstate) {
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
	case SMTP_DATA_H_START:
	case SMTP_DATA_H_START_DROP:	/* the empty line: the body */
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
	return i;
}
