/*
 * sendmail_msg_fuzz.c -- libFuzzer target for what sendmail parses of
 * its standard input (smtpd/ctl/sendmail_msg.c, compiled in here: the
 * smtpctl binary's files are not in the core library).
 *
 * The first input byte picks the flags (dot ends, extract, strip Bcc);
 * the rest is the message.  The parse must end in 0 or -1 with a reason,
 * never read past the input (exact-size heap copy); the text is LF-only
 * with no CR before LF, the header block lies inside it, every
 * recipient is non-empty and shorter than SENDMAIL_ADDR_MAX, and with
 * Bcc stripped no header line of the block starts "Bcc:".  The
 * dot-stuffed output ends every line in CRLF and never has a lone "."
 * line.  Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../smtpd/ctl/sendmail_msg.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_out {
	char	*p;
	size_t	 len, cap;
};

static int
fuzz_put(void *arg, const char *s, size_t n)
{
	struct fuzz_out	*o = arg;

	if (o->len + n > o->cap)
		abort();
	memcpy(o->p + o->len, s, n);
	o->len += n;
	return 0;
}

/* fuzz_check_stuffed - CRLF lines, none of them a lone dot */
static void
fuzz_check_stuffed(const struct fuzz_out *o)
{
	size_t	pos = 0, end;

	while (pos < o->len) {
		for (end = pos; end + 1 < o->len &&
		    !(o->p[end] == '\r' && o->p[end + 1] == '\n'); end++)
			;
		if (end + 1 >= o->len)
			abort();	/* a line without CRLF */
		if (end - pos == 1 && o->p[pos] == '.')
			abort();
		pos = end + 2;
	}
}

static void
fuzz_check(const struct sendmail_msg *m, int strip)
{
	struct fuzz_out	 o;
	size_t		 i, pos;

	if (m->hdrlen > m->len || m->text[m->len] != '\0')
		abort();
	for (i = 0; i + 1 < m->len; i++)
		if (m->text[i] == '\r' && m->text[i + 1] == '\n')
			abort();
	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i][0] == '\0' ||
		    strlen(m->rcpts[i]) >= SENDMAIL_ADDR_MAX)
			abort();
	for (pos = 0; strip && pos < m->hdrlen; pos++)
		if ((pos == 0 || m->text[pos - 1] == '\n') &&
		    strncasecmp(m->text + pos, "bcc:", 4) == 0)
			abort();
	o.cap = m->len * 3 + 16;
	o.len = 0;
	if ((o.p = malloc(o.cap)) == NULL)
		return;
	if (sendmail_dot_stuff(m->text, m->len, fuzz_put, &o) != 0)
		abort();
	fuzz_check_stuffed(&o);
	free(o.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sendmail_msg	 m;
	const char		*why = NULL;
	char			*in;
	int			 flags;

	if (size == 0)
		return 0;
	flags = data[0];
	if ((in = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(in, data + 1, size - 1);
	if (sendmail_msg_parse(&m, in, size - 1, flags & 1, (flags & 2) != 0,
	    (flags & 4) != 0, &why) == 0)
		fuzz_check(&m, (flags & 4) != 0);
	else if (why == NULL)
		abort();
	sendmail_msg_free(&m);
	free(in);
	return 0;
}
