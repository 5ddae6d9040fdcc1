/*
 * mda_util.c -- helpers shared by the local delivery programs in
 * libexec/ (mail.maildir, mail.mboxfile, mail.lmtp).
 *
 * Besides the exit helpers, the three parsers of outside input they
 * share, kept pure so that regress/fuzz/mda_util_fuzz.c reaches them:
 * the mboxrd escaper, the X-Spam header test and the reply line.
 * Runs only in those programs, as the recipient.  It must never print
 * more than one line for a failure, nor a control character in it: the
 * parent copies that line into the envelope.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "mda_util.h"

static const char	*mda_util_name = "mda";
static void		(*mda_util_hook)(void);

/* mda_util_on_fail - the clean-up before a failure's exit */
void
mda_util_on_fail(void (*fn)(void))
{
	mda_util_hook = fn;
}

/* mda_util_setname - the program name mda_util_fail prints */
void
mda_util_setname(const char *name)
{
	const char	*slash = strrchr(name, '/');

	mda_util_name = slash != NULL ? slash + 1 : name;
}

/* mda_util_clean - copy, each control or non-ASCII byte as '?' */
void
mda_util_clean(char *dst, size_t dstsz, const char *src)
{
	size_t	i;

	for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++) {
		unsigned char	c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* mda_util_fail - the one report line, then exit */
void
mda_util_fail(int code, const char *fmt, ...)
{
	char	raw[MDA_UTIL_LINE_MAX], line[MDA_UTIL_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	mda_util_clean(line, sizeof(line), raw);
	dprintf(STDERR_FILENO, "%s: %s\n", mda_util_name, line);
	if (mda_util_hook != NULL)
		mda_util_hook();
	_exit(code);
}

/* mda_util_errno_code - sysexits code of a failed file operation */
int
mda_util_errno_code(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return EX_NOPERM;
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case EEXIST:
		return EX_CANTCREAT;
	default:
		/* ENOSPC, EDQUOT, EIO, EMFILE, ENOMEM...: try again later */
		return EX_TEMPFAIL;
	}
}

/* mda_util_write_all - write everything */
int
mda_util_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static unsigned long long	mda_util_stdin_bytes;

/* mda_util_read - read(2), EINTR retried */
ssize_t
mda_util_read(int fd, void *buf, size_t len)
{
	ssize_t	n;

	do {
		n = read(fd, buf, len);
	} while (n == -1 && errno == EINTR);
	if (fd == STDIN_FILENO && n > 0)
		mda_util_stdin_bytes += (unsigned long long)n;
	return n;
}

int
mda_util_input_complete(void)
{
	const char		*s = getenv(MDA_UTIL_SIZE_ENV);
	char			*end;
	unsigned long long	 want;

	if (s == NULL || *s == '\0')
		return 1;
	errno = 0;
	want = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-')
		return 0;	/* a size we cannot read: do not trust it */
	return want == mda_util_stdin_bytes;
}

/* mda_util_mbox_init - a new escaper */
void
mda_util_mbox_init(struct mda_util_mbox *m,
    int (*put)(void *, const char *, size_t), void *arg)
{
	memset(m, 0, sizeof(*m));
	m->bol = 1;
	m->put = put;
	m->arg = arg;
}

/* mda_util_mbox_release - the held line start, with one more '>' when
 * it is a From_ line */
static int
mda_util_mbox_release(struct mda_util_mbox *m, int escape)
{
	if (escape && m->put(m->arg, ">", 1) == -1)
		return -1;
	for (; m->ngt > 0; m->ngt--)
		if (m->put(m->arg, ">", 1) == -1)
			return -1;
	if (m->nfrom > 0 && m->put(m->arg, "From ", m->nfrom) == -1)
		return -1;
	m->nfrom = 0;
	m->bol = 0;
	return 0;
}

/* mda_util_mbox_escape - one chunk, escaped */
int
mda_util_mbox_escape(struct mda_util_mbox *m, const char *p, size_t n)
{
	size_t	i, run;

	for (i = 0; i < n; ) {
		if (m->bol) {
			if (m->nfrom == 0 && p[i] == '>') {
				m->ngt++;
				i++;
				continue;
			}
			if (p[i] == "From "[m->nfrom]) {
				i++;
				if (++m->nfrom == 5 &&
				    mda_util_mbox_release(m, 1) == -1)
					return -1;
				continue;
			}
			if (mda_util_mbox_release(m, 0) == -1)
				return -1;
		}
		/* the rest of the line at once */
		for (run = i; run < n && p[run] != '\n'; run++)
			;
		if (run < n)
			run++;
		if (m->put(m->arg, p + i, run - i) == -1)
			return -1;
		m->bol = p[run - 1] == '\n';
		i = run;
	}
	return 0;
}

/* mda_util_mbox_end - what is held at the end */
int
mda_util_mbox_end(struct mda_util_mbox *m)
{
	if (m->bol && (m->ngt > 0 || m->nfrom > 0))
		return mda_util_mbox_release(m, 0);
	return 0;
}

/* mda_util_is_spam - "X-Spam: yes" in the header */
int
mda_util_is_spam(const char *head, size_t len)
{
	const char	*p = head, *end = head + len, *eol, *v;

	while (p < end && *p != '\n' && *p != '\r') {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol - p > 7 && strncasecmp(p, "X-Spam:", 7) == 0) {
			for (v = p + 7; v < eol && (*v == ' ' || *v == '\t');
			    v++)
				;
			if (eol - v >= 3 && strncasecmp(v, "yes", 3) == 0) {
				for (v += 3; v < eol && (*v == ' ' ||
				    *v == '\t' || *v == '\r'); v++)
					;
				if (v == eol)
					return 1;
			}
		}
		if (eol == end)
			break;
		p = eol + 1;
	}
	return 0;
}

/* mda_util_reply_code - NNN[ -]text or NNN alone */
int
mda_util_reply_code(const char *r, int *last)
{
	if (r[0] < '2' || r[0] > '5' || r[1] < '0' || r[1] > '9' ||
	    r[2] < '0' || r[2] > '9' ||
	    (r[3] != '\0' && r[3] != ' ' && r[3] != '-'))
		return -1;
	*last = r[3] != '-';
	return (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
}
