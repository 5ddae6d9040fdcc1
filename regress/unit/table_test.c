/*
 * table_test.c -- unit tests of the table layer and its in-process
 * backends (smtpd/table/table*.c): static, file, db and getpwnam, every
 * service's matching rule, key normalisation and refusal, the value
 * parsers with good and bad values, fetch rotation, duplicate keys, and
 * the bad files a parser must survive (1 MiB line, binary bytes, a db
 * that is not a db, a missing file).  The proc backend has its own
 * program, table_proc_test.c.  Files are made in a private temporary
 * directory, removed at the end; the makemap fixtures come from
 * Debian's 6.8 makemap (regress/tables/fixtures).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <db_185.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"
#include "table.h"
#include "tabletest.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;
static char		test_dir[64];

/* test_path - NAME inside the temporary directory */
static const char *
test_path(const char *name, char *buf, size_t bufsz)
{
	if ((size_t)snprintf(buf, bufsz, "%s/%s", test_dir, name) >= bufsz)
		buf[0] = '\0';
	return buf;
}

/* test_write - a file NAME with LEN bytes of DATA; its path in BUF */
static const char *
test_write(const char *name, const void *data, size_t len, char *buf,
    size_t bufsz)
{
	FILE	*fp;

	test_path(name, buf, bufsz);
	if ((fp = fopen(buf, "w")) == NULL)
		return buf;
	fwrite(data, 1, len, fp);
	fclose(fp);
	return buf;
}

/* test_static - an opened static table from a NULL-ended array */
static struct table *
test_static(const char *name, const char **kv, int mapping)
{
	struct table	*t;
	char		 err[256];
	size_t		 i;

	t = table_create(name, "static", NULL, NULL, err, sizeof err);
	if (t == NULL)
		return NULL;
	for (i = 0; kv[i] != NULL; i += mapping ? 2 : 1)
		if (table_add(t, kv[i], mapping ? kv[i + 1] : NULL, err,
		    sizeof err) == -1)
			printf("# add %s: %s\n", kv[i], err);
	if (table_open(t, NULL, err, sizeof err) == -1)
		table_free(&t);
	return t;
}

static void
test_services(void)
{
	CHECK_STR(table_service_name(K_MAILADDRMAP), "mailaddrmap",
	    "service name");
	CHECK(table_service_from_name("regex") == K_REGEX, "service by name");
	CHECK(table_service_from_name("bogus") == K_NONE, "unknown service");
	CHECK_STR(table_service_name(K_ANY), "unknown", "K_ANY has no name");
}

static void
test_normalize(void)
{
	char	dst[TABLE_KEY_MAX], err[128], big[2048];

	CHECK(table_normalize_key("Bob@Example.COM", dst, sizeof dst, err,
	    sizeof err) == 0 && strcmp(dst, "bob@example.com") == 0,
	    "keys are lower-cased");
	CHECK(table_normalize_key("a\rb", dst, sizeof dst, err,
	    sizeof err) == -1, "CR refused");
	CHECK(table_normalize_key("a\nb", dst, sizeof dst, err,
	    sizeof err) == -1 && strstr(err, "CR or LF") != NULL,
	    "LF refused with a reason");
	memset(big, 'a', 1023);
	big[1023] = '\0';
	CHECK(table_normalize_key(big, dst, sizeof dst, err, sizeof err) == 0,
	    "1023-byte key accepted");
	memset(big, 'a', 1024);
	big[1024] = '\0';
	CHECK(table_normalize_key(big, dst, sizeof dst, err, sizeof err) == -1,
	    "1024-byte key refused");
}

static void
test_domain(void)
{
	const char	*list[] = { "example.com", "*.example.org", "Mixed.NET",
			    NULL };
	const char	*any[] = { "*", NULL };
	struct table	*t, *a;
	char		 big[2048];

	t = test_static("domains", list, 0);
	CHECK(t != NULL, "static domain list created");
	if (t == NULL)
		return;
	CHECK(table_shape(t) == TABLE_SHAPE_LIST, "inline values: a list");
	CHECK(tt_check(t, K_DOMAIN, "example.com") == 1, "domain exact");
	CHECK(tt_check(t, K_DOMAIN, "EXAMPLE.Com") == 1,
	    "domain case-insensitive");
	CHECK(tt_check(t, K_DOMAIN, "mixed.net") == 1,
	    "entries lower-cased at load");
	CHECK(tt_check(t, K_DOMAIN, "mx.example.org") == 1,
	    "domain wildcard");
	CHECK(tt_check(t, K_DOMAIN, "a.b.example.org") == 1,
	    "domain wildcard, deeper");
	CHECK(tt_check(t, K_DOMAIN, "example.org") == 0,
	    "*.x does not match x");
	CHECK(tt_check(t, K_DOMAIN, "example.net") == 0, "domain absent");
	CHECK(tt_check(t, K_DOMAIN, "example.com.evil") == 0,
	    "no prefix match");
	CHECK(tt_check(t, K_DOMAIN, "bad\r\nkey") == -1,
	    "key with CR/LF: temporary failure");
	memset(big, 'a', 1500);
	big[1500] = '\0';
	CHECK(tt_check(t, K_DOMAIN, big) == -1, "oversized key refused");
	CHECK(tt_check(t, 0x1000, "x") == -1, "invalid service refused");
	table_free(&t);
	CHECK(t == NULL, "table_free NULLs the pointer");
	table_free(&t);

	a = test_static("any", any, 0);
	CHECK(a != NULL && tt_check(a, K_DOMAIN, "whatever.example") == 1,
	    "* matches every domain");
	table_free(&a);
}

static void
test_netaddr(void)
{
	const char	*list[] = { "192.0.2.0/24", "198.51.100.7", "[2001:db8::]/32",
			    "ipv6:2001:db9::/48", "::1", "[2001:dba::1]", "local",
			    "10.0.0.0/8", NULL };
	struct table	*t;

	t = test_static("nets", list, 0);
	if (!CHECK(t != NULL, "static netaddr list"))
		return;
	CHECK(tt_check(t, K_NETADDR, "192.0.2.55") == 1, "v4 /24");
	CHECK(tt_check(t, K_NETADDR, "192.0.3.1") == 0, "v4 outside /24");
	CHECK(tt_check(t, K_NETADDR, "198.51.100.7") == 1, "v4 host");
	CHECK(tt_check(t, K_NETADDR, "198.51.100.8") == 0, "v4 other host");
	CHECK(tt_check(t, K_NETADDR, "10.200.1.1") == 1, "v4 /8");
	CHECK(tt_check(t, K_NETADDR, "2001:db8:ffff::1") == 1,
	    "[v6]/32 entry");
	CHECK(tt_check(t, K_NETADDR, "[2001:DB8::25]") == 1,
	    "[v6] key, upper case");
	CHECK(tt_check(t, K_NETADDR, "2001:db9:1::1") == 0,
	    "ipv6: /48 outside");
	CHECK(tt_check(t, K_NETADDR, "2001:db9::5") == 1, "ipv6: /48");
	CHECK(tt_check(t, K_NETADDR, "IPv6:2001:dba::1") == 1,
	    "IPv6: key prefix, [v6] entry");
	CHECK(tt_check(t, K_NETADDR, "::1") == 1, "bare v6 entry");
	CHECK(tt_check(t, K_NETADDR, "local") == 1, "local");
	CHECK(tt_check(t, K_NETADDR, "::ffff:192.0.2.1") == 0,
	    "no family mixing");
	table_free(&t);
}

static void
test_mailaddr(void)
{
	const char	*list[] = { "bob@example.com", "@example.org", "carol",
			    "dave@*.example.net", "eve+list@example.com", NULL };
	const char	*all[] = { "@", NULL };
	struct table	*t;

	t = test_static("senders", list, 0);
	if (!CHECK(t != NULL, "static mailaddr list"))
		return;
	CHECK(tt_check(t, K_MAILADDR, "Bob@Example.com") == 1,
	    "user@domain");
	CHECK(tt_check(t, K_MAILADDR, "bob+tag@example.com") == 1,
	    "untagged entry matches tagged key");
	CHECK(tt_check(t, K_MAILADDR, "bob@example.net") == 0,
	    "user@domain: other domain");
	CHECK(tt_check(t, K_MAILADDR, "anyone@example.org") == 1,
	    "@domain");
	CHECK(tt_check(t, K_MAILADDR, "carol@anywhere.test") == 1,
	    "user alone");
	CHECK(tt_check(t, K_MAILADDR, "dave@mx.example.net") == 1,
	    "domain wildcard in mailaddr");
	CHECK(tt_check(t, K_MAILADDR, "eve+list@example.com") == 1,
	    "tagged entry, same tag");
	CHECK(tt_check(t, K_MAILADDR, "eve@example.com") == 0,
	    "tagged entry, untagged key");
	CHECK(tt_check(t, K_MAILADDR, "mallory@example.com") == 0,
	    "mailaddr absent");
	table_free(&t);
	t = test_static("all", all, 0);
	CHECK(t != NULL && tt_check(t, K_MAILADDR, "x@y.z") == 1,
	    "@ matches every address");
	table_free(&t);
}

static void
test_regex_string(void)
{
	const char	*list[] = { "^admin@", "(?i)\\.example\\.(com|net)$",
			    NULL };
	const char	*bad[] = { "([unclosed", NULL };
	const char	*tags[] = { "Trusted", "relay", NULL };
	struct table	*t;

	t = test_static("re", list, 0);
	if (!CHECK(t != NULL, "static regex list"))
		return;
	CHECK(tt_check(t, K_REGEX, "ADMIN@foo") == 1,
	    "regex, case-insensitive");
	CHECK(tt_check(t, K_REGEX, "x@mail.example.net") == 1,
	    "regex with (?i) prefix");
	CHECK(tt_check(t, K_REGEX, "x@mail.example.org") == 0,
	    "regex no match");
	CHECK(tt_check(t, K_STRING, "^admin@") == 1,
	    "string: exact entry");
	table_free(&t);
	t = test_static("badre", bad, 0);
	CHECK(t != NULL && tt_check(t, K_REGEX, "x") == -1,
	    "invalid regex: temporary failure, not a silent miss");
	table_free(&t);
	t = test_static("tags", tags, 0);
	CHECK(t != NULL && tt_check(t, K_STRING, "TRUSTED") == 1 &&
	    tt_check(t, K_STRING, "trust") == 0, "string exact, no prefix");
	table_free(&t);
}

static void
test_mapping(void)
{
	const char	*kv[] = {
		"Postmaster", "bob, alice@example.net",
		"bob", "bob@example.com",
		"badalias", "error:999 nope",
		"creds", "bob:$2b$08$hash",
		"nocolon", "secretpassword",
		"short", "ab",
		"vmail", "2000:2000:/var/vmail",
		"baduser", "x:2000:/home",
		NULL };
	struct table	*t;
	char		 buf[256], err[256];

	t = test_static("aliases", kv, 1);
	if (!CHECK(t != NULL, "static mapping"))
		return;
	CHECK(table_shape(t) == TABLE_SHAPE_MAPPING, "inline pairs: mapping");
	CHECK(tt_lookup(t, K_ALIAS, "POSTMASTER", buf, sizeof buf) == 1 &&
	    strcmp(buf, "bob, alice@example.net") == 0, "alias lookup");
	CHECK(tt_lookup(t, K_ALIAS, "nobody", buf, sizeof buf) == 0,
	    "alias not found");
	CHECK(tt_lookup(t, K_ALIAS, "badalias", buf, sizeof buf) == -1,
	    "unparsable alias value: temporary failure");
	CHECK(tt_lookup(t, K_CREDENTIALS, "creds", buf, sizeof buf) == 1,
	    "credentials lookup");
	CHECK(tt_lookup(t, K_CREDENTIALS, "nocolon", buf, sizeof buf) == 1,
	    "credentials without colon: key is the user");
	CHECK(tt_lookup(t, K_CREDENTIALS, "short", buf, sizeof buf) == -1,
	    "credentials too short");
	CHECK(tt_lookup(t, K_USERINFO, "vmail", buf, sizeof buf) == 1,
	    "userinfo lookup");
	CHECK(tt_lookup(t, K_USERINFO, "baduser", buf, sizeof buf) == -1,
	    "bad userinfo: temporary failure");
	CHECK(tt_check(t, K_ALIAS, "bob") == 1, "check on a mapping");
	CHECK(table_add(t, "x", NULL, err, sizeof err) == -1 &&
	    strstr(err, "aliases") != NULL,
	    "list entry in a mapping refused, naming the table");
	CHECK(table_check_use(t, K_ALIAS, TABLE_SHAPE_MAPPING, err,
	    sizeof err) == 0, "mapping usable for alias");
	CHECK(table_check_use(t, K_DOMAIN, TABLE_SHAPE_LIST, err,
	    sizeof err) == -1 && strstr(err, "may not be used for domain") !=
	    NULL, "mapping refused where a list is needed");
	table_free(&t);
}

static void
test_fetch(void)
{
	const char	*src[] = { "192.0.2.10", "192.0.2.11", "ipv6:2001:db8::1",
			    NULL };
	const char	*bad[] = { "not-an-address", NULL };
	struct table	*t;
	char		 a[64], b[64], c[64], d[64];

	t = test_static("sources", src, 0);
	if (!CHECK(t != NULL, "static source list"))
		return;
	CHECK(tt_fetch(t, K_SOURCE, a, sizeof a) == 1 &&
	    tt_fetch(t, K_SOURCE, b, sizeof b) == 1 &&
	    tt_fetch(t, K_SOURCE, c, sizeof c) == 1 &&
	    tt_fetch(t, K_SOURCE, d, sizeof d) == 1, "four fetches");
	CHECK(strcmp(a, "192.0.2.10") == 0 && strcmp(b, "192.0.2.11") == 0 &&
	    strcmp(c, "ipv6:2001:db8::1") == 0 && strcmp(d, a) == 0,
	    "fetch rotates in order and wraps");
	table_free(&t);
	t = test_static("badsrc", bad, 0);
	CHECK(t != NULL && tt_fetch(t, K_SOURCE, a, sizeof a) == -1,
	    "fetched value that is not an address: temporary failure");
	table_free(&t);
}

static void
test_file(void)
{
	const char	 list[] = "# domains\n\n  example.com  \n*.example.org\n"
			    "\t# indented comment\nMIXED.example\n";
	const char	 map[] = "# aliases\nroot: bob\nbob  bob@example.com\n"
			    "carol : carol@example.net\ndave:dave@example.org\n"
			    "list  a, \"|/bin/cmd x, y\", :include:/etc/a\\,b\n"
			    "bob other@example.com\n";
	const char	 urls[] = "# @list\nsmtp+tls://relay.example.com:587\n"
			    "lmtp://[::1]:24\n";
	const char	 noval[] = "key value\nlonely\n";
	const char	 crlf[] = "a b\r\nc d\r\n";
	struct table	*t;
	char		 p[PATH_MAX], buf[256], err[512], *big;
	size_t		 n;

	test_write("list", list, sizeof list - 1, p, sizeof p);
	t = table_create("flist", "file", p, NULL, err, sizeof err);
	if (CHECK(t != NULL, "file list loaded")) {
		table_open(t, NULL, err, sizeof err);
		CHECK(table_shape(t) == TABLE_SHAPE_LIST, "file list shape");
		CHECK(tt_check(t, K_DOMAIN, "example.com") == 1,
		    "file: blanks trimmed");
		CHECK(tt_check(t, K_DOMAIN, "a.example.org") == 1,
		    "file: wildcard");
		CHECK(tt_check(t, K_DOMAIN, "mixed.EXAMPLE") == 1,
		    "file: lower-cased");
		CHECK(tt_check(t, K_DOMAIN, "# domains") == 0,
		    "file: comments skipped");
		table_free(&t);
	}

	test_write("map", map, sizeof map - 1, p, sizeof p);
	t = table_create("fmap", "file", p, NULL, err, sizeof err);
	if (CHECK(t != NULL, "file mapping loaded")) {
		table_open(t, NULL, err, sizeof err);
		CHECK(table_shape(t) == TABLE_SHAPE_MAPPING, "file map shape");
		CHECK(tt_lookup(t, K_ALIAS, "root", buf, sizeof buf) == 1 &&
		    strcmp(buf, "bob") == 0, "key: value");
		CHECK(tt_lookup(t, K_ALIAS, "carol", buf, sizeof buf) == 1 &&
		    strcmp(buf, "carol@example.net") == 0, "key : value");
		CHECK(tt_lookup(t, K_ALIAS, "dave", buf, sizeof buf) == 1 &&
		    strcmp(buf, "dave@example.org") == 0, "key:value");
		CHECK(tt_lookup(t, K_ALIAS, "bob", buf, sizeof buf) == 1 &&
		    strcmp(buf, "bob@example.com") == 0,
		    "duplicate key: the first one wins");
		CHECK(tt_lookup(t, K_ALIAS, "list", buf, sizeof buf) == 1 &&
		    strcmp(buf, "a, \"|/bin/cmd x, y\", :include:/etc/a\\,b") == 0,
		    "quoted and escaped commas in an alias list");
		table_free(&t);
	}

	test_write("urls", urls, sizeof urls - 1, p, sizeof p);
	t = table_create("furls", "file", p, NULL, err, sizeof err);
	if (CHECK(t != NULL, "# @list file loaded")) {
		table_open(t, NULL, err, sizeof err);
		CHECK(table_shape(t) == TABLE_SHAPE_LIST,
		    "# @list forces a list despite colons");
		CHECK(tt_fetch(t, K_RELAYHOST, buf, sizeof buf) == 1 &&
		    strcmp(buf, "smtp+tls://relay.example.com:587") == 0,
		    "relayhost fetch 1");
		CHECK(tt_fetch(t, K_RELAYHOST, buf, sizeof buf) == 1 &&
		    strcmp(buf, "lmtp://[::1]:24") == 0, "relayhost fetch 2");
		CHECK(tt_fetch(t, K_RELAYHOST, buf, sizeof buf) == 1 &&
		    strcmp(buf, "smtp+tls://relay.example.com:587") == 0,
		    "relayhost fetch wraps");
		table_free(&t);
	}

	test_write("empty", "", 0, p, sizeof p);
	t = table_create("fempty", "file", p, NULL, err, sizeof err);
	CHECK(t != NULL && table_shape(t) == TABLE_SHAPE_MAPPING,
	    "empty file: empty mapping");
	if (t != NULL) {
		table_open(t, NULL, err, sizeof err);
		CHECK(tt_check(t, K_DOMAIN, "x") == 0, "empty file: absent");
	}
	table_free(&t);

	test_write("crlf", crlf, sizeof crlf - 1, p, sizeof p);
	t = table_create("fcrlf", "file", p, NULL, err, sizeof err);
	if (CHECK(t != NULL, "CRLF file loaded")) {
		table_open(t, NULL, err, sizeof err);
		CHECK(tt_lookup(t, K_ALIAS, "a", buf, sizeof buf) == 1 &&
		    strcmp(buf, "b") == 0, "CR stripped at end of line");
		table_free(&t);
	}

	test_write("noval", noval, sizeof noval - 1, p, sizeof p);
	t = table_create("fnoval", "file", p, NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "fnoval") != NULL &&
	    strstr(err, "noval:2:") != NULL, "map line without value: "
	    "error names table and file:line");
	printf("# %s\n", err);

	n = 1024 * 1024;
	big = malloc(n + 32);
	memcpy(big, "ok value\n", 9);
	memset(big + 9, 'x', n);
	memcpy(big + 9 + n, "\nlast one\n", 10);
	test_write("huge", big, n + 19, p, sizeof p);
	free(big);
	t = table_create("fhuge", "file", p, NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "huge:2:") != NULL &&
	    strstr(err, "longer") != NULL, "1 MiB line: clear error");
	printf("# %s\n", err);

	test_write("binary", "a b\nc \001d\n", 10, p, sizeof p);
	t = table_create("fbin", "file", p, NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "binary:2:") != NULL &&
	    strstr(err, "binary data") != NULL, "control byte: clear error");
	printf("# %s\n", err);

	test_write("nul", "a b\nc\0d\n", 8, p, sizeof p);
	t = table_create("fnul", "file", p, NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "nul:2:") != NULL, "NUL byte refused");

	t = table_create("fmissing", "file", "/nonexistent/table", NULL, err,
	    sizeof err);
	CHECK(t == NULL && strstr(err, "No such file") != NULL &&
	    strstr(err, "fmissing") != NULL, "missing file: error");
	t = table_create("fdir", "file", test_dir, NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "not a regular file") != NULL,
	    "directory refused");
	t = table_create("frel", "file", "relative/path", NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "absolute") != NULL,
	    "relative path refused");
}

static void
test_file_update(void)
{
	struct table	*t;
	char		 p[PATH_MAX], err[512];

	test_write("upd", "example.com\n", 12, p, sizeof p);
	t = table_create("fupd", "file", p, NULL, err, sizeof err);
	if (!CHECK(t != NULL, "update: loaded"))
		return;
	table_open(t, NULL, err, sizeof err);
	CHECK(tt_check(t, K_DOMAIN, "example.net") == 0, "before update");
	test_write("upd", "example.com\nexample.net\n", 24, p, sizeof p);
	CHECK(tt_update(t) == 1, "update succeeds");
	CHECK(tt_check(t, K_DOMAIN, "example.net") == 1,
	    "update: new entry visible");
	test_write("upd", "ok\n\001\n", 5, p, sizeof p);
	CHECK(tt_update(t) == 0, "update of a broken file fails");
	CHECK(tt_check(t, K_DOMAIN, "example.net") == 1,
	    "failed update keeps the old content");
	unlink(p);
	CHECK(tt_update(t) == 0 && tt_check(t, K_DOMAIN,
	    "example.com") == 1, "update of a removed file keeps content");
	table_free(&t);
}

/* test_db_make - a db like makemap writes (keys and values with NUL) */
static int
test_db_make(const char *path, DBTYPE type, const char **kv)
{
	DB	*db;
	DBT	 k, v;
	size_t	 i;

	db = dbopen(path, O_CREAT | O_TRUNC | O_RDWR, 0644, type, NULL);
	if (db == NULL)
		return -1;
	for (i = 0; kv[i] != NULL; i += 2) {
		k.data = (void *)(uintptr_t)kv[i];
		k.size = strlen(kv[i]) + 1;
		v.data = (void *)(uintptr_t)kv[i + 1];
		v.size = strlen(kv[i + 1]) + 1;
		if (db->put(db, &k, &v, R_NOOVERWRITE) == -1) {
			db->close(db);
			return -1;
		}
	}
	db->close(db);
	return 0;
}

static void
test_db(void)
{
	const char	*map[] = { "root", "bob", "vmail", "2000:2000:/var/vmail",
			    NULL };
	const char	*set[] = { "example.com", "<set>", "*.example.org", "<set>",
			    "192.0.2.0/24", "<set>", NULL };
	struct table	*t;
	char		 p[PATH_MAX], buf[256], err[512];
	int		 i, seen;

	test_path("map.db", p, sizeof p);
	CHECK(test_db_make(p, DB_HASH, map) == 0, "hash db written");
	t = table_create("dbmap", "db", p, NULL, err, sizeof err);
	if (CHECK(t != NULL, "hash db opened")) {
		table_open(t, NULL, err, sizeof err);
		CHECK(table_shape(t) == TABLE_SHAPE_MAPPING, "db mapping");
		CHECK(tt_lookup(t, K_ALIAS, "ROOT", buf, sizeof buf) == 1 &&
		    strcmp(buf, "bob") == 0, "db alias lookup");
		CHECK(tt_lookup(t, K_USERINFO, "vmail", buf, sizeof buf) ==
		    1, "db userinfo lookup");
		CHECK(tt_lookup(t, K_ALIAS, "nobody", buf, sizeof buf) == 0,
		    "db not found");
		CHECK(tt_update(t) == 1, "db update reopens");
		CHECK(tt_lookup(t, K_ALIAS, "root", buf, sizeof buf) == 1,
		    "db lookup after update");
		table_free(&t);
	}

	test_path("set.db", p, sizeof p);
	CHECK(test_db_make(p, DB_BTREE, set) == 0, "btree set db written");
	t = table_create("dbset", "db", p, NULL, err, sizeof err);
	if (CHECK(t != NULL, "btree db opened")) {
		table_open(t, NULL, err, sizeof err);
		CHECK(table_shape(t) == TABLE_SHAPE_LIST, "<set> db is a list");
		CHECK(tt_check(t, K_DOMAIN, "example.com") == 1,
		    "db domain exact");
		CHECK(tt_check(t, K_DOMAIN, "mx.example.org") == 1,
		    "db domain wildcard (scan)");
		CHECK(tt_check(t, K_DOMAIN, "example.net") == 0,
		    "db domain absent");
		CHECK(tt_check(t, K_NETADDR, "192.0.2.9") == 1,
		    "db netaddr CIDR");
		seen = 0;
		for (i = 0; i < 4; i++)
			if (tt_fetch(t, K_STRING, buf, sizeof buf) == 1 &&
			    strcmp(buf, "example.com") == 0)
				seen++;
		CHECK(seen == 1 || seen == 2, "db fetch rotates and wraps");
		table_free(&t);
	}

	t = table_create("mmhash", "db",
	    "regress/tables/fixtures/makemap-hash.db", NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "absolute") != NULL,
	    "db path must be absolute");
	if (getcwd(buf, sizeof buf) != NULL) {
		if ((size_t)snprintf(p, sizeof p, "%s/regress/tables/"
		    "fixtures/makemap-hash.db", buf) >= sizeof p)
			p[0] = '\0';
		t = table_create("mmhash", "db", p, NULL, err, sizeof err);
		if (CHECK(t != NULL, "Debian makemap hash db opened")) {
			table_open(t, NULL, err, sizeof err);
			CHECK(tt_lookup(t, K_ALIAS, "Foo", buf,
			    sizeof buf) == 1 && strcmp(buf, "bar") == 0,
			    "makemap hash: foo -> bar");
			CHECK(tt_lookup(t, K_STRING, "baz", buf,
			    sizeof buf) == 1 && strcmp(buf, "qux quux") == 0,
			    "makemap hash: value with a blank");
			table_free(&t);
		}
		if (getcwd(buf, sizeof buf) == NULL ||
		    (size_t)snprintf(p, sizeof p, "%s/regress/tables/"
		    "fixtures/makemap-set-btree.db", buf) >= sizeof p)
			p[0] = '\0';
		t = table_create("mmset", "db", p, NULL, err, sizeof err);
		if (CHECK(t != NULL, "Debian makemap set btree opened")) {
			table_open(t, NULL, err, sizeof err);
			CHECK(table_shape(t) == TABLE_SHAPE_LIST &&
			    tt_check(t, K_DOMAIN, "www.example.org") == 1 &&
			    tt_check(t, K_DOMAIN, "example.com") == 1,
			    "makemap set: list with wildcard");
			table_free(&t);
		}
	}

	test_write("notdb", "this is not a database at all\n", 30, p,
	    sizeof p);
	t = table_create("dbbad", "db", p, NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "not a Berkeley DB") != NULL &&
	    strstr(err, "dbbad") != NULL, "not a db: clear error");
	printf("# %s\n", err);
	t = table_create("dbmissing", "db", "/nonexistent.db", NULL, err,
	    sizeof err);
	CHECK(t == NULL && strstr(err, "No such file") != NULL,
	    "missing db: error");
}

static void
test_getpwnam(void)
{
	struct table	*t;
	char		 buf[PATH_MAX + 64], err[256];

	t = table_create("<getpwnam>", "getpwnam", NULL, NULL, err, sizeof err);
	if (!CHECK(t != NULL, "getpwnam table"))
		return;
	table_open(t, NULL, err, sizeof err);
	CHECK(tt_lookup(t, K_USERINFO, "ROOT", buf, sizeof buf) == 1 &&
	    strncmp(buf, "0:0:", 4) == 0, "getpwnam root -> 0:0:home");
	CHECK(tt_lookup(t, K_USERINFO, "no-such-user-xyz", buf,
	    sizeof buf) == 0, "getpwnam unknown user");
	CHECK(tt_lookup(t, K_DOMAIN, "root", buf, sizeof buf) == -1,
	    "getpwnam serves only userinfo");
	CHECK(table_check_use(t, K_USERINFO, TABLE_SHAPE_MAPPING, err,
	    sizeof err) == 0, "getpwnam usable as userbase");
	CHECK(table_check_use(t, K_CREDENTIALS, TABLE_SHAPE_MAPPING, err,
	    sizeof err) == -1, "getpwnam not usable for credentials");
	table_free(&t);
}

static void
test_create_errors(void)
{
	struct table	*t;
	char		 err[512];

	t = table_create("x", "nosuchbackend", "/etc/x", NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "table-nosuchbackend") != NULL,
	    "unknown backend without helper: error at create");
	printf("# %s\n", err);
	t = table_create("x", "../evil", "/etc/x", NULL, err, sizeof err);
	CHECK(t == NULL && strstr(err, "invalid backend") != NULL,
	    "backend name with a slash refused");
	t = table_create("", "static", NULL, NULL, err, sizeof err);
	CHECK(t == NULL, "empty table name refused");
	t = table_create("s", "file", "/etc/hostname", NULL, err, sizeof err);
	if (t != NULL) {
		CHECK(table_add(t, "a", NULL, err, sizeof err) == -1,
		    "table_add only on static tables");
		table_free(&t);
	}
	t = table_create("notopen", "static", NULL, NULL, err, sizeof err);
	CHECK(t != NULL && tt_check(t, K_DOMAIN, "x") == -1,
	    "query before open: -1");
	table_free(&t);
}

/* test_list_cb - collects elements joined by '|' */
static int
test_list_cb(const char *e, void *arg)
{
	char	*out = arg;

	if (out[0] != '\0')
		strlcat(out, "|", 256);
	strlcat(out, e, 256);
	return 0;
}

static void
test_values(void)
{
	struct table_credentials	c;
	struct table_userinfo		u;
	struct table_netaddr		n, a;
	struct mailaddr		m;
	struct table_alias		al;
	struct table_relayhost		r;
	char				err[256], out[256];

	CHECK(table_parse_credentials("k", "bob:pa:ss", &c, err,
	    sizeof err) == 0 && strcmp(c.username, "bob") == 0 &&
	    strcmp(c.password, "pa:ss") == 0, "credentials split at first :");
	CHECK(table_parse_credentials("k", ":pw", &c, err, sizeof err) == -1,
	    "credentials empty user");
	CHECK(table_parse_credentials("k", "bob:", &c, err, sizeof err) == -1,
	    "credentials empty password");
	CHECK(table_parse_credentials("k", "ab", &c, err, sizeof err) == -1,
	    "credentials shorter than 3");
	CHECK(table_parse_credentials("label", "secret", &c, err,
	    sizeof err) == 0 && strcmp(c.username, "label") == 0,
	    "credentials without colon");

	CHECK(table_parse_userinfo("1000:100:/home/a:b", &u, err,
	    sizeof err) == 0 && u.uid == 1000 && u.gid == 100 &&
	    strcmp(u.directory, "/home/a:b") == 0, "userinfo");
	CHECK(table_parse_userinfo("-1:0:/x", &u, err, sizeof err) == -1,
	    "userinfo negative uid");
	CHECK(table_parse_userinfo("1:2", &u, err, sizeof err) == -1,
	    "userinfo missing directory");
	CHECK(table_parse_userinfo("1:2:", &u, err, sizeof err) == -1,
	    "userinfo empty directory");
	CHECK(table_parse_userinfo("99999999999:0:/x", &u, err,
	    sizeof err) == -1, "userinfo uid overflow");

	CHECK(table_parse_netaddr("10.1.2.3/12", &n, err, sizeof err) == 0 &&
	    n.bits == 12 && n.family == AF_INET, "netaddr v4 cidr");
	CHECK(table_parse_netaddr("10.1.2.3/33", &n, err, sizeof err) == -1,
	    "netaddr /33 refused");
	CHECK(table_parse_netaddr("10.1.2.3/", &n, err, sizeof err) == -1,
	    "netaddr empty prefix");
	CHECK(table_parse_netaddr("[::1]x", &n, err, sizeof err) == -1,
	    "netaddr junk after ]");
	CHECK(table_parse_netaddr("2001:db8::/129", &n, err, sizeof err) ==
	    -1, "netaddr /129 refused");
	CHECK(table_parse_netaddr("host.example", &n, err, sizeof err) == -1,
	    "netaddr hostname refused");
	CHECK(table_parse_netaddr("0.0.0.0/0", &n, err, sizeof err) == 0 &&
	    table_parse_address("203.0.113.9", &a, err, sizeof err) == 0 &&
	    table_netaddr_contains(&n, &a), "0.0.0.0/0 contains all v4");
	CHECK(table_parse_address("10.0.0.1/8", &a, err, sizeof err) == -1,
	    "an address has no prefix");

	CHECK(table_parse_source("192.0.2.1", &n, err, sizeof err) == 0,
	    "source v4");
	CHECK(table_parse_source("ipv6:fe80::1%lo", &n, err, sizeof err) == 0,
	    "source ipv6: with scope");
	CHECK(table_parse_source("ipv6:192.0.2.1", &n, err, sizeof err) == -1,
	    "source ipv6: with a v4 address");
	CHECK(table_parse_source("mx.example.com", &n, err, sizeof err) ==
	    -1, "source hostname refused");

	CHECK(table_parse_mailaddr("a@b@example.com", &m, err, sizeof err) ==
	    0 && strcmp(m.user, "a@b") == 0 &&
	    strcmp(m.domain, "example.com") == 0, "mailaddr last @");
	CHECK(table_parse_mailaddr("@example.com", &m, err, sizeof err) == 0 &&
	    m.user[0] == '\0', "mailaddr @domain");
	CHECK(table_parse_mailaddr("user", &m, err, sizeof err) == 0 &&
	    m.domain[0] == '\0', "mailaddr user");
	CHECK(table_parse_mailaddr("us er@x", &m, err, sizeof err) == -1,
	    "mailaddr blank in user");
	CHECK(table_parse_mailaddr("u@exa mple", &m, err, sizeof err) == -1,
	    "mailaddr blank in domain");

	out[0] = '\0';
	CHECK(table_split_list(" a , b\\,c,\"d, e\" ,, 'f,g' ", test_list_cb,
	    out, err, sizeof err) == 0 && strcmp(out, "a|b,c|d, e|f,g") == 0,
	    "list split: escapes, quotes, blanks, empty elements");
	printf("# %s\n", out);
	CHECK(table_split_list("a, \"b", test_list_cb, out, err, sizeof err) ==
	    -1, "list: unterminated quote");
	CHECK(table_split_list("a\\", test_list_cb, out, err, sizeof err) ==
	    -1, "list: trailing backslash");

	CHECK(table_parse_alias("error:550 no such user", &al, err,
	    sizeof err) == 0 && al.kind == TABLE_ALIAS_ERROR &&
	    al.code == 550 && strcmp(al.text, "no such user") == 0,
	    "alias error:");
	CHECK(table_parse_alias("error:250 ok", &al, err, sizeof err) == -1,
	    "alias error: 2xx refused");
	CHECK(table_parse_alias(":include:/etc/mail/list", &al, err,
	    sizeof err) == 0 && al.kind == TABLE_ALIAS_INCLUDE,
	    "alias :include:");
	CHECK(table_parse_alias(":include:rel", &al, err, sizeof err) == -1,
	    "alias :include: relative refused");
	CHECK(table_parse_alias("|/usr/bin/vacation bob", &al, err,
	    sizeof err) == 0 && al.kind == TABLE_ALIAS_COMMAND &&
	    strcmp(al.text, "/usr/bin/vacation bob") == 0, "alias |command");
	CHECK(table_parse_alias("/var/mail/archive", &al, err, sizeof err) ==
	    0 && al.kind == TABLE_ALIAS_FILENAME, "alias /file");
	CHECK(table_parse_alias("bob@example.com", &al, err, sizeof err) ==
	    0 && al.kind == TABLE_ALIAS_ADDRESS &&
	    strcmp(al.addr.domain, "example.com") == 0, "alias address");
	CHECK(table_parse_alias("bob@", &al, err, sizeof err) == -1,
	    "alias address without domain");
	CHECK(table_parse_alias("bob", &al, err, sizeof err) == 0 &&
	    al.kind == TABLE_ALIAS_USERNAME, "alias user name");
	CHECK(table_parse_alias("bo b", &al, err, sizeof err) == -1,
	    "alias user name with a blank");
	CHECK(table_parse_value(K_ALIAS, "k", "bob, |cmd, /f, x@y.z", err,
	    sizeof err) == 0, "alias value with every kind");
	CHECK(table_parse_value(K_ALIAS, "k", " , ", err, sizeof err) == -1,
	    "empty alias list refused");
	CHECK(table_parse_value(K_MAILADDRMAP, "k", "bob@example.com, "
	    "@example.net, carol", err, sizeof err) == 0, "mailaddrmap");

	CHECK(table_parse_relayhost("smtp+tls://label@mx.example.com:587",
	    &r, err, sizeof err) == 0 && strcmp(r.label, "label") == 0 &&
	    strcmp(r.host, "mx.example.com") == 0 && r.port == 587,
	    "relayhost full URL");
	CHECK(table_parse_relayhost("mx.example.com", &r, err, sizeof err) ==
	    0 && strcmp(r.scheme, "smtp") == 0, "relayhost bare host");
	CHECK(table_parse_relayhost("lmtp://[::1]:24", &r, err, sizeof err) ==
	    0 && r.port == 24, "relayhost [v6]:port");
	CHECK(table_parse_relayhost("gopher://x", &r, err, sizeof err) == -1,
	    "relayhost unknown scheme");
	CHECK(table_parse_relayhost("smtp://x:0", &r, err, sizeof err) == -1,
	    "relayhost port 0");
	CHECK(table_parse_relayhost("smtp://x:70000", &r, err, sizeof err) ==
	    -1, "relayhost port too big");
	CHECK(table_parse_relayhost("smtp://@x", &r, err, sizeof err) == -1,
	    "relayhost empty label");
	CHECK(table_parse_relayhost("smtp://", &r, err, sizeof err) == -1,
	    "relayhost no host");
	CHECK(table_parse_relayhost("smtp://a b", &r, err, sizeof err) == -1,
	    "relayhost blank in host");
	CHECK(table_parse_value(K_ADDRNAME, "k", "mx.example.com", err,
	    sizeof err) == 0 && table_parse_value(K_ADDRNAME, "k",
	    "bad name", err, sizeof err) == -1, "addrname values");
}

static void
test_match(void)
{
	CHECK(table_match_domain("a*b*c", "axxbyyc") == 1, "glob two stars");
	CHECK(table_match_domain("a*b*c", "axxbyy") == 0, "glob no match");
	CHECK(table_match_domain("**", "") == 1, "glob stars vs empty");
	CHECK(table_match_domain("*a*a*a*a*a*a*a*a*b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == 0,
	    "glob pathological pattern terminates");
}

/* test_file_split - the key/value split of file tables and makemap */
static void
test_file_split(void)
{
	static const struct {
		const char	*line, *key, *value;
	} cases[] = {
		{ "k v", "k", "v" },
		{ "k:v", "k", "v" },
		{ "k : v", "k", "v" },
		{ "k3: : v3", "k3", "v3" },
		{ "k4::v4", "k4", "v4" },
		{ "staff:   :include:/etc/staff", "staff", ":include:/etc/staff" },
		{ "root:\talice, bob  ", "root", "alice, bob" },
		{ "vmail\t2000:2000:/var/vmail", "vmail", "2000:2000:/var/vmail" },
		{ "lonely", NULL, NULL },
		{ "lonely:  ", NULL, NULL },
	};
	char	line[128], what[160], *val;
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line, "%s", cases[i].line);
		val = table_file_split(line);
		snprintf(what, sizeof what, "split \"%s\"", cases[i].line);
		if (cases[i].value == NULL)
			CHECK(val == NULL, what);
		else
			CHECK(val != NULL && strcmp(line, cases[i].key) == 0 &&
			    strcmp(val, cases[i].value) == 0, what);
	}
}

/*
 * test_value_limits - the largest value is TABLE_VALUE_MAX - 1 bytes,
 * what IMSG_LOOKUP_TABLE_QUERY_RESULT can carry: at -1 and 0 it is
 * served, at +1 it is refused where it enters (inline entry, file line
 * naming table and line) or, from a db, a temporary failure at lookup.
 */
static void
test_value_limits(void)
{
	static const int	 deltas[] = { -1, 0, 1 };
	struct table		*t;
	const char		*kv[3];
	char			 p[PATH_MAX], err[512], what[128];
	char			*val, *line, *buf;
	size_t			 i, len;
	int			 r;

	/* reqid, r, value tag, the value, its NUL, the NULL error's tag */
	CHECK(8 + 4 + 1 + (TABLE_VALUE_MAX - 1) + 1 + 1 == IMSG_MAX_PAYLOAD,
	    "the longest value fills a result payload exactly");
	val = malloc(TABLE_VALUE_MAX + 2);
	line = malloc(TABLE_VALUE_MAX + 16);
	buf = malloc(TABLE_VALUE_MAX + 16);
	for (i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
		len = (size_t)(TABLE_VALUE_MAX - 1 + deltas[i]);
		memset(val, 'v', len);
		val[len] = '\0';

		t = table_create("vinline", "static", NULL, NULL, err,
		    sizeof err);
		r = table_add(t, "k", val, err, sizeof err);
		snprintf(what, sizeof what, "inline value at the limit %+d: "
		    "%s", deltas[i], deltas[i] > 0 ? "refused" : "kept");
		CHECK(deltas[i] > 0 ? r == -1 && strstr(err, "vinline") :
		    r == 0, what);
		table_free(&t);

		snprintf(line, TABLE_VALUE_MAX + 16, "a b\nk %s\n", val);
		test_write("vfile", line, strlen(line), p, sizeof p);
		t = table_create("vfile", "file", p, NULL, err, sizeof err);
		snprintf(what, sizeof what, "file value at the limit %+d: %s",
		    deltas[i], deltas[i] > 0 ? "refused with table and line" :
		    "served whole");
		if (deltas[i] > 0)
			CHECK(t == NULL && strstr(err, "vfile:2:") != NULL &&
			    strstr(err, "\"vfile\"") != NULL, what);
		else {
			table_open(t, NULL, err, sizeof err);
			CHECK(t != NULL && tt_lookup(t, K_STRING, "k", buf,
			    TABLE_VALUE_MAX + 16) == 1 && strlen(buf) == len,
			    what);
		}
		table_free(&t);

		kv[0] = "k";
		kv[1] = val;
		kv[2] = NULL;
		test_path("vdb.db", p, sizeof p);
		if (test_db_make(p, DB_HASH, kv) == -1)
			continue;
		t = table_create("vdb", "db", p, NULL, err, sizeof err);
		if (t != NULL)
			table_open(t, NULL, err, sizeof err);
		r = t != NULL ? tt_lookup(t, K_STRING, "k", buf,
		    TABLE_VALUE_MAX + 16) : -3;
		snprintf(what, sizeof what, "db value at the limit %+d: %s",
		    deltas[i], deltas[i] > 0 ? "temporary failure" : "served");
		CHECK(deltas[i] > 0 ? r == -1 : r == 1 && strlen(buf) == len,
		    what);
		table_free(&t);
	}
	free(val);
	free(line);
	free(buf);
}

int
main(void)
{
	char	cmd[PATH_MAX + 16];

	env = &test_env;
	log_init(1, 0);
	snprintf(test_dir, sizeof test_dir, "/tmp/table_test.XXXXXX");
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_services();
	test_normalize();
	test_domain();
	test_netaddr();
	test_mailaddr();
	test_regex_string();
	test_mapping();
	test_fetch();
	test_file();
	test_file_split();
	test_file_update();
	test_db();
	test_value_limits();
	test_getpwnam();
	test_create_errors();
	test_values();
	test_match();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", test_dir);
	return test_done();
}
