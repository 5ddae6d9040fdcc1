/*
 * api_conf_test.c -- unit tests for the helper glue's dictionary,
 * config-file parser and bounded line reader (api/api_dict.c,
 * api/api_conf.c).  Table-driven: one row per config line shape.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "test.h"

/* conf_test_dict - set, replace, get, pop, iterate in key order */
static void
conf_test_dict(void)
{
	struct dict	 d;
	const char	*k;
	void		*v;
	size_t		 cur = 0;
	int		 err, a = 1, b = 2, c = 3, ordered = 1;
	const char	*prev = "";

	dict_init(&d);
	CHECK(api_dict_set(&d, "beta", &b, &err) == NULL && err == 0,
	    "dict: insert beta");
	CHECK(dict_set(&d, "alpha", &a) == NULL, "dict: insert alpha");
	CHECK(dict_set(&d, "gamma", &c) == NULL, "dict: insert gamma");
	CHECK(dict_set(&d, "beta", &c) == &b, "dict: replace returns old value");
	CHECK(dict_count(&d) == 3, "dict: three entries");
	CHECK(dict_get(&d, "beta") == &c && dict_get(&d, "alpha") == &a,
	    "dict: get");
	CHECK(dict_get(&d, "delta") == NULL && !dict_check(&d, "delta"),
	    "dict: missing key");
	while (api_dict_iter(&d, &cur, &k, &v)) {
		if (strcmp(prev, k) >= 0)
			ordered = 0;
		prev = k;
	}
	CHECK(ordered && cur == 3, "dict: iteration in key order");
	CHECK(dict_pop(&d, "alpha") == &a && dict_count(&d) == 2 &&
	    !dict_check(&d, "alpha"), "dict: pop");
	CHECK(dict_pop(&d, "alpha") == NULL, "dict: pop missing key");
	api_dict_clear(&d, NULL);
	CHECK(dict_count(&d) == 0 && d.entries == NULL, "dict: clear");
}

/* conf_test_split - the line shapes of the extras config files */
static void
conf_test_split(void)
{
	static const struct {
		const char	*line;
		int		 r;
		const char	*key;
		const char	*value;
	} rows[] = {
		{ "dbpath /var/db/x.db",	1, "dbpath", "/var/db/x.db" },
		{ "dbpath: /var/db/x.db",	1, "dbpath", "/var/db/x.db" },
		{ "dbpath:/var/db/x.db",	1, "dbpath", "/var/db/x.db" },
		{ "dbpath : /x",		1, "dbpath", "/x" },
		{ "  dbpath\t\t/x  \t",		1, "dbpath", "/x" },
		{ "query_alias SELECT a FROM t WHERE k=? # x",
		    1, "query_alias", "SELECT a FROM t WHERE k=? # x" },
		{ "key a:b:c",			1, "key", "a:b:c" },
		{ "",				0, NULL, NULL },
		{ "   \t ",			0, NULL, NULL },
		{ "# comment",			0, NULL, NULL },
		{ "   # indented comment",	0, NULL, NULL },
		{ "lonely",			-1, "lonely", NULL },
		{ "lonely:",			-1, "lonely", NULL },
		{ "lonely :  ",			-1, "lonely", NULL },
	};
	char	 buf[256], what[300];
	char	*k, *v;
	size_t	 i;
	int	 r;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		strlcpy(buf, rows[i].line, sizeof buf);
		k = v = NULL;
		r = api_conf_split(buf, &k, &v);
		snprintf(what, sizeof what, "split: \"%s\"", rows[i].line);
		CHECK(r == rows[i].r &&
		    (rows[i].key == NULL || (k && !strcmp(k, rows[i].key))) &&
		    (rows[i].value == NULL || (v && !strcmp(v, rows[i].value))),
		    what);
	}
}

/* conf_test_write - a temp file with the given contents; path in buf */
static void
conf_test_write(char *path, size_t size, const char *text)
{
	int	fd;

	strlcpy(path, "/tmp/api_conf_test.XXXXXX", size);
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("mkstemp/write");
		exit(2);
	}
	close(fd);
}

/* conf_test_load - whole files: good, and each way of being bad */
static void
conf_test_load(void)
{
	static const char *const keys[] = { "dbpath", "query_alias", NULL };
	static const struct {
		const char	*text;
		int		 r;
		const char	*what;
	} rows[] = {
		{ "# sqlite\ndbpath /x.db\n\nquery_alias: SELECT 1\n", 0,
		    "load: good file" },
		{ "dbpath /x.db", 0, "load: last line without newline" },
		{ "dbpath /x.db\r\n", 0, "load: CRLF line" },
		{ "dbpath /x.db\ndbpath /y.db\n", -1, "load: duplicate key refused" },
		{ "dbpath /x.db\nbogus 1\n", -1, "load: unknown key refused" },
		{ "dbpath\n", -1, "load: key without value refused" },
	};
	struct dict	 conf;
	char		 path[64], *big;
	size_t		 i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		conf_test_write(path, sizeof path, rows[i].text);
		CHECK(api_conf_load(path, keys, &conf) == rows[i].r,
		    rows[i].what);
		if (rows[i].r == 0)
			CHECK_STR((char *)dict_get(&conf, "dbpath"), "/x.db",
			    "load: value of dbpath");
		else
			CHECK(dict_count(&conf) == 0,
			    "load: failed load leaves conf empty");
		api_conf_free(&conf);
		unlink(path);
	}

	conf_test_write(path, sizeof path,
	    "# sqlite\ndbpath /x.db\n\nquery_alias: SELECT 1\n");
	api_conf_load(path, keys, &conf);
	CHECK_STR((char *)dict_get(&conf, "query_alias"), "SELECT 1",
	    "load: value after ': '");
	CHECK(dict_count(&conf) == 2, "load: comments and blanks skipped");
	api_conf_free(&conf);
	unlink(path);

	CHECK(api_conf_load("/nonexistent/api_conf_test", keys, &conf) == -1,
	    "load: missing file refused");

	/* a line longer than API_LINE_MAX is an error, not a cut */
	big = malloc(API_LINE_MAX + 32);
	if (big == NULL)
		exit(2);
	memcpy(big, "dbpath ", 7);
	memset(big + 7, 'a', API_LINE_MAX + 10);
	big[API_LINE_MAX + 17] = '\n';
	big[API_LINE_MAX + 18] = '\0';
	conf_test_write(path, sizeof path, big);
	CHECK(api_conf_load(path, keys, &conf) == -1,
	    "load: over-long line refused");
	unlink(path);
	free(big);
}

/* conf_test_lines - api_line_read bounds and resynchronisation */
static void
conf_test_lines(void)
{
	char	 path[64], buf[8];
	size_t	 lineno = 0;
	FILE	*fp;
	int	 r1, r2, r3, r4, e2;

	conf_test_write(path, sizeof path, "abc\n0123456789\nxy\n");
	if ((fp = fopen(path, "r")) == NULL)
		exit(2);
	r1 = api_line_read(fp, buf, sizeof buf, &lineno);
	CHECK(r1 == 1 && !strcmp(buf, "abc"), "lines: short line read");
	r2 = api_line_read(fp, buf, sizeof buf, &lineno);
	e2 = errno;
	CHECK(r2 == -1 && e2 == EMSGSIZE, "lines: long line -1/EMSGSIZE");
	r3 = api_line_read(fp, buf, sizeof buf, &lineno);
	CHECK(r3 == 1 && !strcmp(buf, "xy") && lineno == 3,
	    "lines: next line read after the long one");
	r4 = api_line_read(fp, buf, sizeof buf, &lineno);
	CHECK(r4 == 0, "lines: EOF is 0");
	fclose(fp);
	unlink(path);
}

int
main(void)
{
	conf_test_dict();
	conf_test_split();
	conf_test_load();
	conf_test_lines();
	return test_done();
}
