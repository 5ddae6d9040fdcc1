/*
 * lookup_forward.c -- the content of ~/.forward and :include: files:
 * reading one bounded, judging a .forward's owner and mode (EXP-06),
 * and parsing it into alias elements.
 *
 * Used by lookup_expand.c in the lookup process and by the fuzz target.
 * The parent's opener (parent_forward.c) judges the home and the file
 * first, as the user; the check here is the lookup's own, on the
 * descriptor it was given.
 * The syntax is that of an alias value (table_parse_alias), one list
 * per line, blank lines and `#` comment lines skipped.  Files are user
 * input: a NUL byte, an over-long line or a bad element is -1 with a
 * reason, never a partial result taken for a whole one.  Nothing here
 * logs, blocks on anything but a regular file, or exits.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lookup_expand.h"

/* the state of one parse, handed to the list callback */
struct lookup_forward_parse {
	int	(*cb)(const struct table_alias *, void *);
	void	*arg;
	char	*err;
	size_t	 errsz;
};

/* lookup_forward_element - one element of a line's list */
static int
lookup_forward_element(const char *element, void *arg)
{
	struct lookup_forward_parse	*fp = arg;
	struct table_alias		 a;

	if (table_parse_alias(element, &a, fp->err, fp->errsz) == -1)
		return -1;
	if (fp->cb(&a, fp->arg) == -1) {
		if (fp->err[0] == '\0')
			snprintf(fp->err, fp->errsz, "refused element");
		return -1;
	}
	return 0;
}

/* lookup_forward_parse - every element of TEXT to CB */
int
lookup_forward_parse(const char *text, size_t len,
    int (*cb)(const struct table_alias *, void *), void *arg, char *err,
    size_t errsz)
{
	struct lookup_forward_parse	 fp = { cb, arg, err, errsz };
	char				 line[TABLE_LINE_MAX], why[256];
	const char			*p = text, *end = text + len, *nl;
	size_t				 n, i, lineno = 0;

	if (errsz > 0)
		err[0] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errsz, "NUL byte in file");
		return -1;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n >= sizeof line) {
			snprintf(err, errsz, "line %zu too long", lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		for (i = 0; isspace((unsigned char)line[i]); i++)
			;
		if (line[i] == '\0' || line[i] == '#')
			continue;
		/* CR or another control character never reaches an envelope */
		for (; i < n; i++)
			if (iscntrl((unsigned char)line[i]) && line[i] != '\t' &&
			    !(line[i] == '\r' && i + 1 == n)) {
				snprintf(err, errsz, "line %zu: control "
				    "character", lineno);
				return -1;
			}
		if (table_split_list(line, lookup_forward_element, &fp, err,
		    errsz) == -1) {
			if (errsz > 0 && strncmp(err, "line ", 5) != 0) {
				(void)strlcpy(why, err, sizeof why);
				snprintf(err, errsz, "line %zu: %s", lineno,
				    why);
			}
			return -1;
		}
	}
	return 0;
}

/* lookup_forward_check - the refusal rules of a .forward (EXP-06) */
int
lookup_forward_check(const struct stat *st, uid_t uid, char *why,
    size_t whysz)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whysz, "not a regular file");
		return -1;
	}
	if (st->st_uid != uid && st->st_uid != 0) {
		snprintf(why, whysz, "not owned by the user or root");
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whysz, "group or world writable");
		return -1;
	}
	return 0;
}

/* lookup_forward_read - a regular file's content, bounded */
ssize_t
lookup_forward_read(int fd, char *buf, char *why, size_t whysz)
{
	struct stat	st;
	size_t		len = 0;
	ssize_t		n;

	if (fstat(fd, &st) == -1) {
		snprintf(why, whysz, "fstat: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file");
		return -1;
	}
	if (st.st_size > LOOKUP_FILE_MAX) {
		snprintf(why, whysz, "larger than %d bytes", LOOKUP_FILE_MAX);
		return -1;
	}
	/* the file may grow meanwhile: read one byte more than allowed */
	while (len <= LOOKUP_FILE_MAX) {
		n = read(fd, buf + len, LOOKUP_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(why, whysz, "read: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > LOOKUP_FILE_MAX) {
		snprintf(why, whysz, "larger than %d bytes", LOOKUP_FILE_MAX);
		return -1;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}
