/*
 * mda_util.c -- helpers shared by the local delivery programs in
 * libexec/ (mail.maildir, mail.mboxfile, mail.lmtp).
 *
 * Runs only in those programs, as the recipient.  It must never print
 * more than one line for a failure, nor a control character in it: the
 * parent copies that line into the envelope.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* mda_util_read - read(2), EINTR retried */
ssize_t
mda_util_read(int fd, void *buf, size_t len)
{
	ssize_t	n;

	do {
		n = read(fd, buf, len);
	} while (n == -1 && errno == EINTR);
	return n;
}
