/*
 * api_table_format_test.c -- unit tests for what the database table
 * helpers share in api/: records to values per service
 * (table_format.c), the FETCH rotation (table_rotation.c), the config
 * keys and numbers (table_format_conf_load, api_conf_number), the
 * reconnection backoff (api_backoff.c) and request deadlines
 * (api_deadline.c).  Table-driven where there are rows.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "api_backoff.h"
#include "api_deadline.h"
#include "table_format.h"
#include "table_rotation.h"
#include "test.h"

#define F(s)	{ (s), sizeof(s) - 1 }
#define FNULL	{ NULL, 0 }

/* format_test_records - one row per record shape */
static void
format_test_records(void)
{
	static const struct {
		const char		*what;
		enum table_service	 service;
		struct table_field	 f[3];
		size_t			 n;
		const char		*want;	/* NULL: an error */
	} rows[] = {
		{ "domain", K_DOMAIN, { F("example.com") }, 1, "example.com" },
		{ "credentials joined", K_CREDENTIALS,
		    { F("bob"), F("$2b$x:y") }, 2, "bob:$2b$x:y" },
		{ "credentials prejoined", K_CREDENTIALS, { F("bob:pw") }, 1,
		    "bob:pw" },
		{ "credentials empty user", K_CREDENTIALS, { F(""), F("pw") },
		    2, NULL },
		{ "userinfo", K_USERINFO, { F("2000"), F("2001"), F("/v:m") },
		    3, "2000:2001:/v:m" },
		{ "userinfo prejoined", K_USERINFO, { F("1:2:/h") }, 1,
		    "1:2:/h" },
		{ "userinfo uid not a number", K_USERINFO,
		    { F("x"), F("1"), F("/h") }, 3, NULL },
		{ "userinfo gid with a colon", K_USERINFO,
		    { F("1"), F("2:3"), F("/h") }, 3, NULL },
		{ "userinfo uid too big", K_USERINFO,
		    { F("4294967296"), F("1"), F("/h") }, 3, NULL },
		{ "userinfo no home", K_USERINFO, { F("1"), F("2"), F("") },
		    3, NULL },
		{ "userinfo prejoined short", K_USERINFO, { F("1:2") }, 1,
		    NULL },
		{ "userinfo two fields", K_USERINFO, { F("1"), F("2") }, 2,
		    NULL },
		{ "domain two fields", K_DOMAIN, { F("a"), F("b") }, 2, NULL },
		{ "NULL field", K_ADDRNAME, { FNULL }, 1, NULL },
		{ "NUL byte", K_DOMAIN, { { "a\0b", 3 } }, 1, NULL },
		{ "odd bytes kept", K_STRING, { F("'\"\\ %s") }, 1,
		    "'\"\\ %s" },
	};
	char	dst[64], err[128], what[128];
	size_t	i;
	int	r;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		r = table_format_record(rows[i].service, rows[i].f, rows[i].n,
		    dst, sizeof dst, err, sizeof err);
		snprintf(what, sizeof what, "record: %s", rows[i].what);
		if (rows[i].want)
			CHECK(r == 0 && strcmp(dst, rows[i].want) == 0, what);
		else
			CHECK(r == -1 && err[0] != '\0' && dst[0] == '\0',
			    what);
	}
}

/* format_test_limits - values at and over the buffer, lists */
static void
format_test_limits(void)
{
	struct table_field	f;
	char			dst[8], err[128], big[9];

	memset(big, 'x', sizeof big);
	f.data = big;
	f.len = 7;
	CHECK(table_format_record(K_DOMAIN, &f, 1, dst, sizeof dst, err,
	    sizeof err) == 0 && strlen(dst) == 7, "limit: 7 bytes fit in 8");
	f.len = 8;
	CHECK(table_format_record(K_DOMAIN, &f, 1, dst, sizeof dst, err,
	    sizeof err) == -1 && strstr(err, "over the limit"),
	    "limit: 8 bytes do not");
	dst[0] = '\0';
	f.data = "ab";
	f.len = 2;
	CHECK(table_format_list_add(&f, dst, sizeof dst, err, sizeof err) ==
	    0 && table_format_list_add(&f, dst, sizeof dst, err,
	    sizeof err) == 0 && strcmp(dst, "ab, ab") == 0,
	    "list: two elements");
	CHECK(table_format_list_add(&f, dst, sizeof dst, err, sizeof err) ==
	    -1 && strcmp(dst, "ab, ab") == 0,
	    "list: the third does not fit, the value is unchanged");
	f.data = NULL;
	dst[0] = '\0';
	CHECK(table_format_list_add(&f, dst, sizeof dst, err, sizeof err) ==
	    -1, "list: a NULL element is an error");
}

/* format_test_keys - service keys, columns, config loading */
static void
format_test_keys(void)
{
	static const char *const own[] = { "conninfo", NULL };
	struct table_queries	 q;
	struct dict		 conf;
	char			 key[TABLE_FORMAT_KEY_MAX];
	char			 path[] = "/tmp/api_table_format_test.XXXXXX";
	FILE			*fp;
	int			 fd;

	CHECK(table_format_query_key(K_MAILADDRMAP, key, sizeof key) == 0 &&
	    strcmp(key, "query_mailaddrmap") == 0, "keys: query_mailaddrmap");
	CHECK(table_format_query_key(K_ANY, key, sizeof key) == -1,
	    "keys: no key for K_ANY");
	CHECK(table_format_index(K_REGEX) == 11 &&
	    table_format_index(K_ANY) == -1, "keys: bit numbers");
	CHECK(table_format_columns(K_USERINFO) == 3 &&
	    table_format_columns(K_CREDENTIALS) == 2 &&
	    table_format_columns(K_ALIAS) == 1, "keys: columns");
	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		CHECK(0, "keys: temporary file");
		return;
	}
	fprintf(fp, "conninfo host=x\nquery_regex SELECT 1 WHERE $1 ~ r\n"
	    "fetch_source_refresh 0\nquery_timeout 2\n");
	fclose(fp);
	CHECK(table_format_conf_load(path, own, &conf) == 0 &&
	    table_format_queries(&conf, path, &q) == 0 &&
	    q.query[11] != NULL && q.query[0] == NULL && q.refresh == 0 &&
	    q.expire == TABLE_ROTATION_EXPIRE && q.timeout_ms == 2000,
	    "keys: a config with common and own keys");
	table_format_queries_free(&q);
	api_conf_free(&conf);
	CHECK(table_format_conf_load(path, NULL, &conf) == -1,
	    "keys: conninfo unknown without it in OWN");
	if ((fp = fopen(path, "w")) != NULL) {
		fprintf(fp, "query_timeout 0\n");
		fclose(fp);
	}
	CHECK(table_format_conf_load(path, NULL, &conf) == 0 &&
	    table_format_queries(&conf, path, &q) == -1,
	    "keys: query_timeout 0 refused");
	api_conf_free(&conf);
	unlink(path);
}

/* format_test_rotation - sorted, distinct, wrapping, reload rules */
static void
format_test_rotation(void)
{
	struct table_rotation	r;
	struct table_field	f[4] = { F("192.0.2.11"), F("192.0.2.10"),
				    F("192.0.2.11"), F("192.0.2.12") };
	struct table_field	bad[1] = { FNULL };
	char			dst[32], err[128], small[4];

	table_rotation_init(&r, 60, 3);
	CHECK(table_rotation_due(&r), "rotation: due before the first load");
	CHECK(table_rotation_load(&r, f, 4, err, sizeof err) == 0 && r.n == 3,
	    "rotation: duplicates dropped");
	CHECK(!table_rotation_due(&r), "rotation: fresh after a load");
	CHECK(table_rotation_next(&r, dst, sizeof dst) == 1 &&
	    strcmp(dst, "192.0.2.10") == 0 &&
	    table_rotation_next(&r, dst, sizeof dst) == 1 &&
	    strcmp(dst, "192.0.2.11") == 0 &&
	    table_rotation_next(&r, dst, sizeof dst) == 1 &&
	    strcmp(dst, "192.0.2.12") == 0, "rotation: sorted order");
	CHECK(table_rotation_due(&r), "rotation: due after refresh FETCHes");
	CHECK(table_rotation_next(&r, dst, sizeof dst) == 1 &&
	    strcmp(dst, "192.0.2.10") == 0, "rotation: wraps around");
	CHECK(table_rotation_next(&r, small, sizeof small) == -1,
	    "rotation: a value that does not fit is an error");
	CHECK(table_rotation_load(&r, bad, 1, err, sizeof err) == -1 &&
	    table_rotation_due(&r) && r.n == 0,
	    "rotation: a bad reload drops the old list");
	CHECK(table_rotation_load(&r, f, 0, err, sizeof err) == 0 &&
	    table_rotation_next(&r, dst, sizeof dst) == 0,
	    "rotation: empty list answers 0");
	table_rotation_clear(&r);
	table_rotation_init(&r, 0, 1000);
	table_rotation_load(&r, f, 1, err, sizeof err);
	CHECK(table_rotation_due(&r), "rotation: expire 0 reloads always");
	table_rotation_clear(&r);
}

/* format_test_backoff - doubling to the ceiling, reset on success */
static void
format_test_backoff(void)
{
	struct api_backoff	b;

	api_backoff_init(&b, 100, 350);
	CHECK(api_backoff_due(&b) && api_backoff_wait(&b) == 0,
	    "backoff: due at first");
	CHECK(api_backoff_failed(&b) == 100 && !api_backoff_due(&b) &&
	    api_backoff_wait(&b) > 50, "backoff: 100 ms after a failure");
	CHECK(api_backoff_failed(&b) == 200, "backoff: doubles");
	CHECK(api_backoff_failed(&b) == 350 && api_backoff_failed(&b) == 350,
	    "backoff: stops at the ceiling");
	CHECK(b.failures == 4, "backoff: failures counted");
	api_backoff_succeeded(&b);
	CHECK(api_backoff_due(&b) && b.failures == 0,
	    "backoff: due again after a success");
}

/* format_test_deadline - a wait that times out, one that is ready */
static void
format_test_deadline(void)
{
	struct api_deadline	dl;
	struct timespec		t0, t1;
	long			ms;
	int			sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		CHECK(0, "deadline: socketpair");
		return;
	}
	api_deadline_set(&dl, 150);
	CHECK(api_deadline_left(&dl) > 100 && api_deadline_left(&dl) <= 150,
	    "deadline: time left");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(api_deadline_wait(&dl, sv[0], API_DEADLINE_READ) == 0,
	    "deadline: nothing to read times out");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 140 && ms < 1000, "deadline: after about 150 ms");
	CHECK(api_deadline_left(&dl) == 0, "deadline: none left");
	api_deadline_set(&dl, 1000);
	CHECK(write(sv[1], "x", 1) == 1 &&
	    api_deadline_wait(&dl, sv[0], API_DEADLINE_READ) == 1,
	    "deadline: readable at once");
	CHECK(api_deadline_wait(&dl, -1, API_DEADLINE_READ) == -1,
	    "deadline: a bad descriptor is an error");
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	format_test_records();
	format_test_limits();
	format_test_keys();
	format_test_rotation();
	format_test_backoff();
	format_test_deadline();
	return test_done();
}
