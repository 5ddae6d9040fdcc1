/*
 * api_conf.c -- helper config files and bounded line input (api_conf.h).
 *
 * Runs in helper programs at startup and on UPDATE (reload).  It reads
 * files named by the operator, so every line is bounded by the caller's
 * buffer and an over-long line is an error, never a silent cut.  It
 * never exits: the driver decides what an unusable config means.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_conf.h"
#include "api_log.h"
#include "api_proc.h"

static struct {
	const char	*path;
} api_conf;

int
api_init(const char *progname, int argc, char *argv[])
{
	int	first;

	/* a table helper takes -v only: it is never chrooted */
	if ((first = api_proc_init(NULL, progname, argc, argv,
	    "[-v] file")) == -1)
		return -1;
	if (argc - first != 1) {
		api_log_warnx("bogus argument(s): usage: %s [-v] file",
		    progname);
		return -1;
	}
	api_conf.path = argv[first];
	/* a server or daemon that closed its end is an error to answer
	 * (EPIPE), never a signal that kills the helper */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

const char *
api_conf_path(void)
{
	return api_conf.path;
}

int
api_line_read(FILE *fp, char *buf, size_t size, size_t *lineno)
{
	size_t	len;
	int	c;

	if (size < 2) {
		errno = EINVAL;
		return -1;
	}
	if (fgets(buf, (int)(size > INT_MAX ? INT_MAX : size), fp) == NULL)
		return ferror(fp) ? -1 : 0;
	(*lineno)++;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
		return 1;
	}
	if (feof(fp))			/* last line without newline */
		return 1;
	/* too long: skip to the end of this line so the next read is sane */
	while ((c = fgetc(fp)) != EOF && c != '\n')
		;
	errno = EMSGSIZE;
	return -1;
}

/* api_conf_trim - strip white space at both ends, in place */
static char *
api_conf_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int
api_conf_split(char *line, char **key, char **value)
{
	char	*k, *v;

	k = api_conf_trim(line);
	if (*k == '\0' || *k == '#')
		return 0;
	v = k + strcspn(k, " \t:");
	if (*v == ':') {
		*v++ = '\0';
	} else if (*v != '\0') {
		*v++ = '\0';
		v += strspn(v, " \t");
		if (*v == ':')		/* "key : value" */
			v++;
	}
	v = api_conf_trim(v);
	*key = k;
	*value = v;
	return *v == '\0' ? -1 : 1;
}

/* api_conf_known - is key in the NULL-terminated list (NULL: any) */
static int
api_conf_known(const char *const *keys, const char *key)
{
	if (keys == NULL)
		return 1;
	for (; *keys; keys++)
		if (strcmp(*keys, key) == 0)
			return 1;
	return 0;
}

int
api_file_lines(const char *path, int (*fn)(char *, size_t, void *),
    void *arg)
{
	char	 line[API_LINE_MAX];
	size_t	 lineno = 0;
	FILE	*fp;
	int	 r;

	if ((fp = fopen(path, "r")) == NULL) {
		api_log_warn("%s: cannot open", path);
		return -1;
	}
	while ((r = api_line_read(fp, line, sizeof line, &lineno)) != 0) {
		if (r == -1) {
			if (errno == EMSGSIZE)
				api_log_warnx("%s:%zu: line longer than %zu bytes",
				    path, lineno, sizeof line - 1);
			else
				api_log_warn("%s:%zu: read error", path, lineno);
			break;
		}
		if (fn(line, lineno, arg) == -1)
			break;
	}
	fclose(fp);
	return r == 0 ? 0 : -1;
}

struct api_conf_load_state {
	const char		*path;
	const char *const	*keys;
	struct dict		*conf;
};

/* api_conf_load_line - one "key value" line into the dict */
static int
api_conf_load_line(char *line, size_t lineno, void *arg)
{
	struct api_conf_load_state	*st = arg;
	char				*key, *value, *copy;
	int				 err;

	switch (api_conf_split(line, &key, &value)) {
	case 0:
		return 0;
	case -1:
		api_log_warnx("%s:%zu: missing value for key %s", st->path,
		    lineno, key);
		return -1;
	}
	if (!api_conf_known(st->keys, key)) {
		api_log_warnx("%s:%zu: unknown key %s", st->path, lineno, key);
		return -1;
	}
	if (api_dict_check(st->conf, key)) {
		api_log_warnx("%s:%zu: duplicate key %s", st->path, lineno,
		    key);
		return -1;
	}
	if ((copy = strdup(value)) == NULL) {
		api_log_warn("%s: strdup", st->path);
		return -1;
	}
	api_dict_set(st->conf, key, copy, &err);
	if (err == -1) {
		free(copy);
		api_log_warn("%s: dict", st->path);
		return -1;
	}
	return 0;
}

int
api_conf_load(const char *path, const char *const *keys, struct dict *conf)
{
	struct api_conf_load_state	st = { path, keys, conf };

	api_dict_init(conf);
	if (api_file_lines(path, api_conf_load_line, &st) == -1) {
		api_conf_free(conf);
		return -1;
	}
	return 0;
}

void
api_conf_free(struct dict *conf)
{
	api_dict_clear(conf, free);
}

int
api_conf_number(struct dict *conf, const char *path, const char *key,
    long long min, long long max, long long dflt, long long *out)
{
	const char	*s;
	char		*end;
	long long	 v;

	*out = dflt;
	if ((s = api_dict_get(conf, key)) == NULL)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		api_log_warnx("%s: %s: not a number from %lld to %lld: %s",
		    path, key, min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}
