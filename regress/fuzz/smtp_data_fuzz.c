/*
 * smtp_data_fuzz.c -- libFuzzer target for the DATA state machine
 * (smtpd/dispatcher/smtp_data.c).
 *
 * The first byte picks the limits and a chunk size; the rest is the
 * client's bytes after DATA.  Fed at once and in chunks, the results
 * must agree; the output must never hold a CR; the end of data must
 * be found only right after CRLF "." CRLF; with a bare CR or LF in the
 * consumed input the machine must say so.  Inputs of odd size run
 * with masquerade set (From: headers rewritten).  Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_feed - everything, in CHUNK pieces; bytes consumed */
static size_t
fuzz_feed(struct smtp_data *d, struct smtp_buf *out, const char *p,
    size_t len, size_t chunk, size_t line_max, long long size_max)
{
	static const struct mailaddr	masq = { "alice", "example.org" };
	size_t				off = 0, n, c;

	smtp_data_init(d, line_max, size_max);
	if (line_max & 8) {		/* header completion (SMTP-22) */
		strcpy(d->add_date, "Date: D\n");
		strcpy(d->add_msgid, "Message-ID: <M>\n");
		strcpy(d->qualify, "h.example");
	}
	if (len & 1)
		d->masquerade = &masq;
	while (off < len && !d->done && !(d->flags & SMTP_DATA_LINE)) {
		c = len - off < chunk ? len - off : chunk;
		n = smtp_data_feed(d, p + off, c, out);
		if (n > c)
			abort();
		off += n;
		if (n < c)
			break;
	}
	return off;
}

/* fuzz_bare - a CR not before LF, or an LF not after CR, in P */
static int
fuzz_bare(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' && (i + 1 >= len || p[i + 1] != '\n'))
			return 1;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data	d1, d2;
	struct smtp_buf		o1 = { 0 }, o2 = { 0 };
	const char		*p = (const char *)data + 1;
	size_t			len, n1, n2, line_max;
	long long		size_max;

	if (size < 1 || size > 65536)
		return 0;
	len = size - 1;
	line_max = 1 + (data[0] & 0x0f) * 8;
	size_max = (data[0] & 0x10) ? 64 : 1 << 20;
	n1 = fuzz_feed(&d1, &o1, p, len, len ? len : 1, line_max, size_max);
	n2 = fuzz_feed(&d2, &o2, p, len, 1 + (data[0] >> 5), line_max,
	    size_max);
	if (n1 != n2 || d1.done != d2.done || d1.flags != d2.flags ||
	    o1.len != o2.len || (o1.len && memcmp(o1.data, o2.data, o1.len)))
		abort();
	if (o1.len && memchr(o1.data, '\r', o1.len) != NULL)
		abort();
	if (d1.done && (n1 < 3 || memcmp(p + n1 - 3, ".\r\n", 3) != 0 ||
	    (n1 > 3 && (n1 < 5 || memcmp(p + n1 - 5, "\r\n", 2) != 0))))
		abort();
	if (!(d1.flags & (SMTP_DATA_LINE | SMTP_DATA_TOO_BIG |
	    SMTP_DATA_LOOP)) && fuzz_bare(p, (!d1.done && n1 > 0 &&
	    p[n1 - 1] == '\r') ? n1 - 1 : n1) != !!(d1.flags &
	    SMTP_DATA_BARE))
		abort();
	smtp_buf_free(&o1);
	smtp_buf_free(&o2);
	return 0;
}
