/*
 * sendmail_msg.c -- the message sendmail reads on its standard input:
 * line ends made LF, the end at a lone "." line (unless -i), the header
 * block found, To/Cc/Bcc addresses taken (-t), Bcc lines removed, and
 * whether From is missing noted (COMPAT-01, COMPAT-04; Date and
 * Message-ID are completed by the server, SMTP-22).
 *
 * Pure functions on a buffer, used by sendmail.c in the smtpctl binary
 * and by regress/fuzz/sendmail_msg_fuzz.c.  The input is anything a
 * user pipes in: every size is bounded (SENDMAIL_RCPT_MAX recipients,
 * SENDMAIL_ADDR_MAX bytes an address), and nothing here exits, prints
 * or reads a global; errors are -1 with a reason.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "hdraddr.h"

/* sendmail_buf_add - append; -1 when out of memory or over the limit */
static int
sendmail_buf_add(struct sendmail_msg *m, const char *s, size_t n)
{
	char	*p;
	size_t	 cap;

	if (m->len + n + 1 > SENDMAIL_MESSAGE_MAX)
		return -1;
	if (m->len + n + 1 > m->cap) {
		cap = m->cap ? m->cap : 4096;
		while (cap < m->len + n + 1)
			cap *= 2;
		if ((p = realloc(m->text, cap)) == NULL)
			return -1;
		m->text = p;
		m->cap = cap;
	}
	memcpy(m->text + m->len, s, n);
	m->len += n;
	m->text[m->len] = '\0';
	return 0;
}

/* sendmail_header_name_len - length of "Name" when LINE is "Name:",
 * else 0 */
static size_t
sendmail_header_name_len(const char *line, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (line[i] == ':')
			return i;
		if ((unsigned char)line[i] <= ' ' ||
		    (unsigned char)line[i] >= 0x7f)
			return 0;
	}
	return 0;
}

/* sendmail_is_header - LINE starts NAME's header (case-insensitive) */
static int
sendmail_is_header(const char *line, size_t len, const char *name)
{
	size_t	n = sendmail_header_name_len(line, len);

	return n != 0 && n == strlen(name) && strncasecmp(line, name, n) == 0;
}

/* sendmail_rcpt_add - one address found in a header */
static int
sendmail_rcpt_add(struct sendmail_msg *m, const char *a, size_t n,
    const char **why)
{
	char	**v;
	size_t	  i;

	while (n > 0 && isspace((unsigned char)*a))
		a++, n--;
	while (n > 0 && isspace((unsigned char)a[n - 1]))
		n--;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] < ' ' || a[i] == 0x7f) {
			*why = "control character in a recipient header";
			return -1;
		}
	if (n >= SENDMAIL_ADDR_MAX) {
		*why = "address too long in a recipient header";
		return -1;
	}
	if (m->nrcpts >= SENDMAIL_RCPT_MAX) {
		*why = "too many recipients in the headers";
		return -1;
	}
	if ((v = reallocarray(m->rcpts, m->nrcpts + 1, sizeof *v)) == NULL ||
	    (v[m->nrcpts] = strndup(a, n)) == NULL) {
		if (v != NULL)
			m->rcpts = v;
		*why = "out of memory";
		return -1;
	}
	m->rcpts = v;
	m->nrcpts++;
	return 0;
}

/* sendmail_addr_item - the address of one mailbox A of S: inside its
 * <...>, else without (comments) */
static int
sendmail_addr_item(struct sendmail_msg *m, const char *s,
    const struct hdraddr *a, const char **why)
{
	char	 buf[SENDMAIL_ADDR_MAX];
	size_t	 i, o = 0, end = a->addr_off + a->addr_len;
	int	 depth = 0, quoted = 0;

	if (a->angle)
		return sendmail_rcpt_add(m, s + a->addr_off, a->addr_len, why);
	for (i = a->addr_off; i < end; i++) {
		if (s[i] == '"' && depth == 0)
			quoted = !quoted;
		else if (!quoted && s[i] == '(') {
			depth++;
			continue;
		} else if (!quoted && s[i] == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (o + 1 >= sizeof buf) {
			*why = "address too long in a recipient header";
			return -1;
		}
		buf[o++] = s[i];
	}
	return sendmail_rcpt_add(m, buf, o, why);
}

/* sendmail_addr_list - the addresses of one To/Cc/Bcc value, as the
 * server reads them (hdraddr.h) */
int
sendmail_addr_list(struct sendmail_msg *m, const char *s, size_t n,
    const char **why)
{
	struct hdraddr	a;
	size_t		pos = 0;

	while (hdraddr_next(s, n, &pos, &a))
		if (sendmail_addr_item(m, s, &a, why) == -1)
			return -1;
	return 0;
}

/* sendmail_msg_header - one header of LEN bytes (continuations
 * included) at S: its flags; the addresses of To/Cc/Bcc when EXTRACT;
 * 1 when it is a Bcc, 0 not, -1 refused */
static int
sendmail_msg_header(struct sendmail_msg *m, const char *s, size_t len,
    int extract, const char **why)
{
	size_t	name = sendmail_header_name_len(s, len);
	int	bcc, rcpt;

	m->has_from |= sendmail_is_header(s, len, "From");
	bcc = sendmail_is_header(s, len, "Bcc");
	rcpt = bcc || sendmail_is_header(s, len, "To") ||
	    sendmail_is_header(s, len, "Cc");
	m->has_to |= rcpt && !bcc;
	if (extract && rcpt && sendmail_addr_list(m, s + name + 1,
	    len - name - 1, why) == -1)
		return -1;
	return bcc;
}

/* sendmail_msg_headers - the header block: flags, recipients (EXTRACT),
 * Bcc lines taken out (STRIP_BCC); the body follows at m->hdrlen */
static int
sendmail_msg_headers(struct sendmail_msg *m, int extract, int strip_bcc,
    const char **why)
{
	size_t	 pos = 0, end, next;
	int	 bcc;
	char	*nl;

	while (pos < m->len) {
		nl = memchr(m->text + pos, '\n', m->len - pos);
		end = nl ? (size_t)(nl - m->text) : m->len;
		if (end == pos) {		/* the blank line */
			m->hdrlen = pos;
			m->blank = 1;
			return 0;
		}
		if (sendmail_header_name_len(m->text + pos, end - pos) == 0)
			break;			/* no header: the body */
		/* the header and its continuation lines */
		next = nl ? end + 1 : m->len;
		while (next < m->len && (m->text[next] == ' ' ||
		    m->text[next] == '\t')) {
			nl = memchr(m->text + next, '\n', m->len - next);
			next = nl ? (size_t)(nl - m->text) + 1 : m->len;
		}
		if ((bcc = sendmail_msg_header(m, m->text + pos, next - pos,
		    extract, why)) == -1)
			return -1;
		if (bcc && strip_bcc) {
			memmove(m->text + pos, m->text + next, m->len - next);
			m->len -= next - pos;
			m->text[m->len] = '\0';
			continue;
		}
		pos = next;
	}
	m->hdrlen = pos;
	m->blank = 0;
	return 0;
}

/*
 * sendmail_msg_parse - IN (LEN bytes, as read) into M: LF line ends
 * (the CRs before LF dropped), cut at a lone "." line when DOT_ENDS, then
 * the headers.  0, or -1 with *why (too big, out of memory, a header
 * address too long, too many recipients).
 */
int
sendmail_msg_parse(struct sendmail_msg *m, const char *in, size_t len,
    int dot_ends, int extract, int strip_bcc, const char **why)
{
	size_t		 pos = 0, end, n;
	const char	*nl;

	memset(m, 0, sizeof *m);
	if (sendmail_buf_add(m, "", 0) == -1) {
		*why = "out of memory";
		return -1;
	}
	while (pos < len) {
		nl = memchr(in + pos, '\n', len - pos);
		end = nl ? (size_t)(nl - in) : len;
		n = end - pos;
		while (n > 0 && in[pos + n - 1] == '\r')
			n--;	/* CRLF, and CR CR LF of a twice-converted file */
		if (dot_ends && n == 1 && in[pos] == '.')
			break;
		if (sendmail_buf_add(m, in + pos, n) == -1 ||
		    sendmail_buf_add(m, "\n", 1) == -1) {
			*why = "message too big or out of memory";
			return -1;
		}
		pos = nl ? end + 1 : len;
	}
	return sendmail_msg_headers(m, extract, strip_bcc, why);
}

/* sendmail_msg_free - what parse took */
void
sendmail_msg_free(struct sendmail_msg *m)
{
	size_t	i;

	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->text);
	memset(m, 0, sizeof *m);
}

/*
 * sendmail_dot_stuff - LEN bytes of LF-ended lines as SMTP DATA lines
 * (CRLF, a leading "." doubled) through OUT; the closing "." is not
 * written.  Returns what OUT returned last (-1 stops).
 */
int
sendmail_dot_stuff(const char *s, size_t len,
    int (*out)(void *, const char *, size_t), void *arg)
{
	size_t		 pos = 0, end;
	const char	*nl;

	while (pos < len) {
		nl = memchr(s + pos, '\n', len - pos);
		end = nl ? (size_t)(nl - s) : len;
		if (s[pos] == '.' && out(arg, ".", 1) == -1)
			return -1;
		if (out(arg, s + pos, end - pos) == -1 ||
		    out(arg, "\r\n", 2) == -1)
			return -1;
		pos = nl ? end + 1 : len;
	}
	return 0;
}
