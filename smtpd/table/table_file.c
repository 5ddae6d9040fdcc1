/*
 * table_file.c -- the file backend: `table NAME file:/path` (and a
 * quoted absolute path), in the format of smtpd-conf.md 4.1.
 *
 * One entry per line, blanks around it ignored, empty lines and `#`
 * comment lines skipped; the first entry decides list or mapping (a
 * blank, tab or `:` in it makes a mapping) unless a `# @list` comment
 * before it forces a list.  There is no line continuation.  Keys are
 * lower-cased.  The file is loaded when the table is created (parse
 * time, so a bad file is a configuration error) and again on update,
 * where a failure keeps the old content.  A file is outside input: an
 * over-long line, binary bytes or an unreadable file is an error naming
 * the table and file:line, never a crash and never fatal.  Written
 * against api/ only (table_backends.h): the same object serves smtpd
 * and the table-file helper (libexec/table-file.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_log.h"
#include "table_backends.h"

#define TABLE_FILE_MAX	(256 * 1024 * 1024)	/* bytes in one table file */

/* table_file_is_blank - space or tab */
static int
table_file_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * table_file_split - split a mapping line in place (smtpd-conf.md 4.1):
 * the key ends at the first blank or ':'; then one ':', blanks, and one
 * more ':' if it directly follows the first or a blank follows it, so
 * "k::v" and "k : : v" give "v" while "staff: :include:/x" keeps
 * ":include:/x" whole.  Trailing blanks are cut.  Returns the value, or
 * NULL when the line has none.  Shared with makemap.
 */
char *
table_file_split(char *line)
{
	char	*val, *end, *sep;
	size_t	 klen;

	klen = strcspn(line, " \t:");
	val = line + klen;
	if (*val == ':')
		val++;
	sep = val;
	while (table_file_is_blank(*val))
		val++;
	/* "k::v" and "k : v" separate; "k: :include:" starts a value */
	if (val[0] == ':' && (val == sep || table_file_is_blank(val[1]))) {
		val++;
		while (table_file_is_blank(*val))
			val++;
	}
	if (*val == '\0')
		return NULL;
	line[klen] = '\0';
	end = val + strlen(val);
	while (end > val && table_file_is_blank(end[-1]))
		*--end = '\0';
	return val;
}

/* table_file_parse_line - one trimmed, non-comment line into E */
static int
table_file_parse_line(struct table_entries *e, char *line, unsigned int ln,
    int force_list, char *why, size_t whysz)
{
	char	*val;

	if (e->shape == TABLE_SHAPE_NONE && !force_list &&
	    strpbrk(line, " \t:") != NULL)
		e->shape = TABLE_SHAPE_MAPPING;
	if (e->shape != TABLE_SHAPE_MAPPING)
		return table_entries_add(e, line, NULL, ln, why, whysz);
	if ((val = table_file_split(line)) == NULL) {
		snprintf(why, whysz, "invalid map entry (no value)");
		return -1;
	}
	return table_entries_add(e, line, val, ln, why, whysz);
}

/* table_file_is_list_marker - the "# @list" comment */
static int
table_file_is_list_marker(const char *comment)
{
	comment++;
	while (table_file_is_blank(*comment))
		comment++;
	if (strncmp(comment, "@list", 5) != 0)
		return 0;
	comment += 5;
	while (table_file_is_blank(*comment))
		comment++;
	return *comment == '\0';
}

/*
 * table_file_parse - parse LEN bytes of TEXT (not NUL-terminated) into
 * E (emptied first).  PATH and TNAME only name things in errors.
 */
int
table_file_parse(const char *tname, const char *path, const char *text,
    size_t len, struct table_entries *e, char *err, size_t errsz)
{
	char		*line, *p, why[256];
	const char	*nl;
	size_t		 off = 0, n, i;
	unsigned int	 ln = 0;
	int		 force_list = 0;

	table_entries_clear(e);
	if ((line = malloc(TABLE_LINE_MAX + 1)) == NULL) {
		snprintf(err, errsz, "table \"%s\": %s: out of memory", tname,
		    path);
		return -1;
	}
	while (off < len) {
		ln++;
		nl = memchr(text + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (n > 0 && text[off + n - 1] == '\r')
			n--;		/* CRLF files */
		if (n > TABLE_LINE_MAX) {
			snprintf(why, sizeof why, "line longer than %d bytes",
			    TABLE_LINE_MAX);
			goto bad;
		}
		for (i = 0; i < n; i++) {
			unsigned char	c = (unsigned char)text[off + i];

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				snprintf(why, sizeof why, "binary data "
				    "(byte 0x%02x at column %zu)", c, i + 1);
				goto bad;
			}
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += nl != NULL ? (size_t)(nl - (text + off)) + 1 : len - off;

		p = line;
		while (table_file_is_blank(*p))
			p++;
		i = strlen(p);
		while (i > 0 && table_file_is_blank(p[i - 1]))
			p[--i] = '\0';
		if (*p == '\0')
			continue;
		if (*p == '#') {
			if (e->n == 0 && table_file_is_list_marker(p))
				force_list = 1;
			continue;
		}
		if (table_file_parse_line(e, p, ln, force_list, why,
		    sizeof why) == -1)
			goto bad;
	}
	free(line);
	if (e->shape == TABLE_SHAPE_NONE)
		e->shape = force_list ? TABLE_SHAPE_LIST : TABLE_SHAPE_MAPPING;
	table_entries_finish(e, tname, path);
	return 0;
bad:
	free(line);
	table_entries_clear(e);
	snprintf(err, errsz, "table \"%s\": %s:%u: %s", tname, path, ln, why);
	return -1;
}

/* table_file_load - read PATH whole and parse it into E */
static int
table_file_load(const char *tname, const char *path,
    struct table_entries *e, char *err, size_t errsz)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n = 0;
	int		 fd, r;

	if (path[0] != '/') {
		snprintf(err, errsz, "table \"%s\": %s: the path must be "
		    "absolute", tname, path);
		return -1;
	}
	/* non-blocking: a FIFO named as a table must not hang the open */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(err, errsz, "table \"%s\": %s: %s", tname, path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TABLE_FILE_MAX) {
		snprintf(err, errsz, "table \"%s\": %s: %s", tname, path,
		    fstat(fd, &st) == -1 ? strerror(errno) :
		    !S_ISREG(st.st_mode) ? "not a regular file" :
		    "file too large");
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "table \"%s\": %s: out of memory", tname,
		    path);
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (n == -1) {
		snprintf(err, errsz, "table \"%s\": %s: %s", tname, path,
		    strerror(errno));
		close(fd);
		free(buf);
		return -1;
	}
	close(fd);
	r = table_file_parse(tname, path, buf, off, e, err, errsz);
	free(buf);
	return r;
}

/* table_file_open - backend open: load the file */
static void *
table_file_open(const char *tname, const char *config, char *err,
    size_t errsz)
{
	struct table_static	*s;

	if ((s = table_static_new(tname, config, err, errsz)) == NULL)
		return NULL;
	if (table_file_load(tname, config, &s->entries, err, errsz) == -1) {
		table_static_close(s);
		return NULL;
	}
	s->indexed = 1;
	api_log_debug("table %s: loaded %zu entries from %s", tname,
	    s->entries.n, config);
	return s;
}

/* table_file_update - reload; on failure the old entries stay */
static int
table_file_update(void *ctx)
{
	struct table_static	*s = ctx;
	struct table_entries	 fresh;
	char			 err[512];

	memset(&fresh, 0, sizeof fresh);
	if (table_file_load(s->name, s->source, &fresh, err, sizeof err) ==
	    -1) {
		api_log_warnx("%s", err);
		return 0;
	}
	table_entries_move(&s->entries, &fresh);
	s->indexed = 1;
	return 1;
}

const struct table_backend table_backend_file = {
	.version = TABLE_BACKEND_V1,
	.name = "file",
	.services = K_ANY,
	.open = table_file_open,
	.update = table_file_update,
	.close = table_static_close,
	/* the loaded entries answer as inline ones do */
	.lookup = table_static_lookup,
	.check = table_static_check,
	.fetch = table_static_fetch,
	.shape = table_static_shape,
};
