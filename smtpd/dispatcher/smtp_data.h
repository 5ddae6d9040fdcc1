/*
 * smtp_data.h -- the DATA state machine of the SMTP server: raw bytes
 * from the client in, the message file's bytes out (LF line ends,
 * dot-unstuffed, Bcc: header lines removed), the end of data found.
 *
 * Used by smtp_session.c, the unit tests and the fuzz target.  Pure:
 * no I/O, the output goes to a caller-owned growing buffer.
 *
 * Policy on bare CR and bare LF (SMTP smuggling): the end of data is
 * CRLF "." CRLF and nothing else.  A CR not followed by LF, or an LF
 * not preceded by CR, is an ordinary byte of the current line for the
 * framing (it never ends a line, so it never starts a "." line and
 * never ends the message); it sets SMTP_DATA_BARE and from then on
 * nothing more is written: the message is refused at its end (550
 * 5.6.11) after reading up to CRLF.CRLF.  The same for a message above
 * its size limit (SMTP_DATA_TOO_BIG) and for 100 or more Received:
 * headers (SMTP_DATA_LOOP), and for a message whose first line starts
 * with a space or a tab (SMTP_DATA_BADHDR).  A line above the line limit is
 * SMTP_DATA_LINE, on which the session closes at once (SMTP-11).
 * A NUL byte is 8-bit data like any other and is written as is.
 * Header completion (SMTP-22): the lines a caller puts in add_date and
 * add_msgid are written at the end of the header block (before the
 * empty line, or at the end of a message that has none) unless the
 * message has a Date: or Message-ID: header of its own; with qualify
 * set, an address without a domain in From:, To: or Cc: gets
 * "@qualify" (a field longer than SMTP_DATA_FIELD_MAX is left as is).
 * With masquerade set (`senders ... masquerade`, an authenticated
 * sender), every From: header, continuation lines included, is written
 * as "From: " and that address instead.
 * What it must never do: write a CR or a byte past the first error.
 */
#ifndef SMTPD_SMTP_DATA_H
#define SMTPD_SMTP_DATA_H

#include <stddef.h>

#include "mailaddr.h"

#define SMTP_DATA_BARE		0x01	/* bare CR or LF seen */
#define SMTP_DATA_TOO_BIG	0x02	/* above the size limit */
#define SMTP_DATA_LOOP		0x04	/* >= SMTP_DATA_RECEIVED_MAX */
#define SMTP_DATA_LINE		0x08	/* a line above the line limit */
#define SMTP_DATA_BADHDR	0x10	/* starts with a continuation line
					 * (SMTP-24: not RFC 5322) */

#define SMTP_DATA_RECEIVED_MAX	100	/* SMTP-21 */
#define SMTP_DATA_FIELD_MAX	2048	/* a From/To/Cc value qualified */

/* a growing output buffer */
struct smtp_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* smtp_buf_add - append LEN bytes; -1 when out of memory */
int	smtp_buf_add(struct smtp_buf *, const void *, size_t len);
void	smtp_buf_free(struct smtp_buf *);

struct smtp_data {
	int		 state;		/* private */
	int		 hstate;	/* private: header state */
	char		 pfx[16];	/* private: header line prefix */
	size_t		 npfx;
	size_t		 linelen;
	size_t		 line_max;
	long long	 size;		/* bytes of the message, unstuffed */
	long long	 size_max;
	unsigned int	 nreceived;
	unsigned int	 nheaders;	/* header lines begun */
	unsigned int	 flags;		/* SMTP_DATA_* */
	int		 done;		/* end of data seen */
	int		 oom;		/* output buffer allocation failed */
	/* header completion: whole lines ("Date: ...\n"), "" for none;
	 * set by the caller after smtp_data_init */
	char		 add_date[64];
	char		 add_msgid[320];
	char		 qualify[256];	/* a domain, "" for none */
	unsigned int	 seen;		/* private: SMTP_DATA_SEEN_* */
	size_t		 nfield;	/* private: bytes in field */
	char		 field[SMTP_DATA_FIELD_MAX]; /* private */
	/* added (auth): the From: header's address, or NULL (set after
	 * smtp_data_init; must live until the end of data) */
	const struct mailaddr *masquerade;
};

/* smtp_data_init - a new message: LINE_MAX bytes per line (without the
 * CRLF), SIZE_MAX bytes in all */
void	smtp_data_init(struct smtp_data *, size_t line_max,
	    long long size_max);
/*
 * smtp_data_feed - consume bytes until the end of data (inclusive) or
 * the end of the input; append the file's bytes to OUT.  Returns the
 * number of bytes consumed; d->done says the end was found, and the
 * bytes after it (not consumed) are the next commands.  Stops at once
 * on SMTP_DATA_LINE.
 */
size_t	smtp_data_feed(struct smtp_data *, const char *, size_t,
	    struct smtp_buf *out);

#endif
