/*
 * conf_parse_test.c -- the configuration API: what the parser builds,
 * hostile input, -D macros, the embedded default, and the serialized
 * form shipped to each process with its secrets left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "imsg.h"
#include "log.h"
#include "smtpd.h"
#include "test.h"

/* the tests link the core objects but not smtpd.c */
struct smtpd_env	*env;
static char		 test_libexec[4096];	/* the build's helpers */

/* parse - TEXT through conf_load_string; first error line into ERR */
static struct smtpd_conf *
parse(const char *text, size_t len, char *err, size_t errsz)
{
	struct smtpd_conf	*c;
	char			*buf = NULL;
	size_t			 blen = 0;
	FILE			*fp = open_memstream(&buf, &blen);

	c = conf_load_string("t.conf", text, len, NULL, 0, fp, test_libexec);
	fclose(fp);
	if (err) {
		snprintf(err, errsz, "%s", buf ? buf : "");
		err[strcspn(err, "\n")] = '\0';
	}
	free(buf);
	return c;
}

/* refused - TEXT is refused with a message starting with WANT */
static void
refused(const char *name, const char *text, size_t len, const char *want)
{
	struct smtpd_conf	*c;
	char			 err[1024], what[1200];

	c = parse(text, len, err, sizeof(err));
	snprintf(what, sizeof(what), "%s refused: %s", name, err);
	CHECK(c == NULL && strncmp(err, want, strlen(want)) == 0, what);
	conf_free(&c);
}

static void
test_structure(void)
{
	const char *text =
	    "table d { a.example, b.example }\n"
	    "listen on 127.0.0.1 port 2525 tag T\n"
	    "action \"l\" maildir \"/m/%{rcpt.user}\" junk\n"
	    "action \"r\" relay host smtps://x.example tls no-verify ttl 1h\n"
	    "match from any for domain <d> action \"l\"\n"
	    "match !from src 10.0.0.0/8 auth for any reject\n"
	    "match from local for any action \"r\"\n";
	struct smtpd_conf	*c;
	struct conf_action	*a;

	c = parse(text, strlen(text), NULL, 0);
	if (!CHECK(c != NULL, "structure: parses"))
		return;
	CHECK(c->ntables == 1 && c->tables[0]->kind == CONF_TABLE_LIST &&
	    c->tables[0]->nentries == 2, "structure: inline list table");
	CHECK(c->nlisteners == 2 && c->listeners[0]->port == 2525 &&
	    strcmp(c->listeners[0]->tag, "T") == 0 &&
	    c->listeners[1]->implicit, "structure: listener and implicit "
	    "socket");
	a = conf_action_find(c, "l");
	CHECK(a && a->method == CONF_METHOD_MAILDIR && a->junk &&
	    strcmp(a->path, "/m/%{rcpt.user}") == 0, "structure: maildir");
	a = conf_action_find(c, "r");
	CHECK(a && a->method == CONF_METHOD_RELAY && a->ttl == 3600 &&
	    a->relay_tls == CONF_RELAY_TLS_NO_VERIFY &&
	    a->host && a->host->single, "structure: relay");
	CHECK(c->nrules == 3 && c->rules[0]->action == conf_action_find(c,
	    "l") && c->rules[0]->crit[CONF_CRIT_FOR].table == c->tables[0],
	    "structure: rule 1 refers to action and table");
	CHECK(c->rules[1]->reject && c->rules[1]->crit[CONF_CRIT_FROM].negate &&
	    c->rules[1]->crit[CONF_CRIT_FROM].what == CONF_FROM_SRC &&
	    c->rules[1]->crit[CONF_CRIT_AUTH].present,
	    "structure: rule 2 negated source, auth, reject");
	CHECK(c->rules[2]->crit[CONF_CRIT_FROM].what == CONF_FROM_LOCAL,
	    "structure: rules kept in order");
	conf_free(&c);
	CHECK(c == NULL, "conf_free clears the pointer");
}

static void
test_hostile(void)
{
	char	*big, nul[] = "listen on lo\0\naction \"l\" mbox\n";
	char	 path[64], inc[256];
	FILE	*fp;
	int	 fd;

	refused("unterminated string", "listen on \"lo\n", 14,
	    "t.conf:1: syntax error: unterminated quoted string");
	refused("unterminated brace", "table t { a, b\n", 15,
	    "t.conf:2: syntax error: unterminated '{' table");
	big = malloc(100 * 1024 + 1);
	memset(big, 'a', 100 * 1024);
	big[100 * 1024] = '\0';
	refused("100 KiB line", big, strlen(big), "t.conf:1: line longer");
	free(big);
	refused("NUL byte", nul, sizeof(nul) - 1,
	    "t.conf:1: NUL byte in configuration");
	refused("non-UTF-8", "listen on lo\ntag \xff\n", 18,
	    "t.conf:2: invalid UTF-8 byte 0xff");
	refused("macro expanding to itself", "a = \"$a\"\nlisten on $a\n",
	    22, "t.conf:2: syntax error: macro 'a' expands to itself");
	refused("mutually recursive macros",
	    "a = \"$b\"\nb = \"$a\"\nlisten on $a\n", 31,
	    "t.conf:3: syntax error: macro 'a' expands to itself");
	refused("undefined macro", "listen on $nope\n", 16,
	    "t.conf:1: syntax error: macro 'nope' not defined");
	refused("no rules", "listen on lo\n", 13, "t.conf:2: no rules");

	/* an include of itself */
	snprintf(path, sizeof(path), "/tmp/conf_parse_test.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return;
	fp = fdopen(fd, "w");
	fprintf(fp, "include \"%s\"\n", path);
	fclose(fp);
	snprintf(inc, sizeof(inc), "include \"%s\"\n", path);
	refused("recursive include", inc, strlen(inc), path);
	unlink(path);
}

static void
test_macros(void)
{
	const char *text =
	    "p25 = 25\n"
	    "listen on 127.0.0.1 port $p25\n"
	    "action \"l\" mbox\n"
	    "match for local action \"l\"\n";
	const char *const defs[] = { "p25=2526" };
	struct smtpd_conf	*c;

	c = conf_load_string("t.conf", text, strlen(text), defs, 1, stderr,
	    test_libexec);
	CHECK(c && c->listeners[0]->port == 2526,
	    "-D macro wins over the file's definition");
	conf_free(&c);
	c = conf_load_string("t.conf", text, strlen(text), NULL, 0, stderr,
	    test_libexec);
	CHECK(c && c->listeners[0]->port == 25, "file macro expands");
	conf_free(&c);
}

/* dumped - the canonical text of C */
static char *
dumped(const struct smtpd_conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	conf_dump(fp, c);
	fclose(fp);
	return buf;
}

/* a backslash before a blank, a quote or the end survives dump + parse */
static void
test_backslash(void)
{
	static const struct {
		const char	*src;	/* as written in the file */
		const char	*value;	/* what the parser keeps */
	} cases[] = {
		{ "\"a\\\\ b\"", "a\\ b" },
		{ "\"a\\\\\tb\"", "a\\\tb" },
		{ "\"a\\\\\\\\ b\"", "a\\\\\\ b" },
		{ "\"a\\\\\\\" b\"", "a\\\\\" b" },
		{ "\"\\\\ \"", "\\ " },
		{ "word\\ ", "word\\" },
		{ "'a\\\\ b'", "a\\ b" },
	};
	struct smtpd_conf	*c, *c2;
	struct conf_action	*a;
	char			 text[512], what[256], *d1, *d2;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "action \"m\" mda %s\n"
		    "match for local action \"m\"\n", cases[i].src);
		c = parse(text, strlen(text), NULL, 0);
		a = c ? conf_action_find(c, "m") : NULL;
		snprintf(what, sizeof(what), "backslash %zu: %s parses to "
		    "the expected value", i, cases[i].src);
		CHECK(a != NULL && strcmp(a->path, cases[i].value) == 0,
		    what);
		d1 = c ? dumped(c) : NULL;
		c2 = d1 ? parse(d1, strlen(d1), NULL, 0) : NULL;
		a = c2 ? conf_action_find(c2, "m") : NULL;
		d2 = c2 ? dumped(c2) : NULL;
		snprintf(what, sizeof(what), "backslash %zu: value and dump "
		    "survive dump + parse", i);
		CHECK(a != NULL && strcmp(a->path, cases[i].value) == 0 &&
		    strcmp(d1, d2) == 0, what);
		free(d1);
		free(d2);
		conf_free(&c);
		conf_free(&c2);
	}
}

/* errors_of - everything conf_load_string prints for TEXT */
static char *
errors_of(const char *text, const char *const *defs, int ndefs, int *ok)
{
	struct smtpd_conf	*c;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp = open_memstream(&buf, &len);

	c = conf_load_string("t.conf", text, strlen(text), defs, ndefs, fp,
	    test_libexec);
	fclose(fp);
	*ok = c != NULL;
	conf_free(&c);
	return buf;
}

/* -v reports macros that were never expanded, as warnings only */
static void
test_unused_macros(void)
{
	const char *text =
	    "used = 25\n"
	    "unused = \"x\"\n"
	    "quoted = 1\n"
	    "listen on 127.0.0.1 port $used tag \"$quoted\"\n"
	    "action \"l\" mbox\n"
	    "match for local action \"l\"\n";
	const char *const defs[] = { "cli=1", "used=26" };
	char	*out;
	int	 ok;

	log_setverbose(1);
	out = errors_of(text, defs, 2, &ok);
	CHECK(ok, "unused macros: still a valid configuration");
	CHECK(out && strstr(out, "t.conf:2: warning: macro 'unused' not "
	    "used\n") != NULL, "unused macros: reported with file:line");
	CHECK(out && strstr(out, "t.conf:3: warning: macro 'quoted' not "
	    "used\n") != NULL, "unused macros: $x inside quotes is no use");
	CHECK(out && strstr(out, "warning: macro 'cli' (-D) not used\n") !=
	    NULL, "unused macros: -D macros too");
	CHECK(out && strstr(out, "'used'") == NULL,
	    "unused macros: an expanded macro is not reported");
	free(out);
	log_setverbose(0);
	out = errors_of(text, NULL, 0, &ok);
	CHECK(ok && (out == NULL || *out == '\0'),
	    "unused macros: silent without -v");
	free(out);
}

static void
test_default(void)
{
	struct smtpd_conf	*c;

	c = conf_load_string("default", conf_default_text,
	    strlen(conf_default_text), NULL, 0, stderr, test_libexec);
	CHECK(c != NULL && c->nrules == 2 && c->listeners[0]->port == 2525,
	    "embedded default configuration parses");
	conf_free(&c);
}

/* serialized - conf_serialize text for PROC */
static char *
serialized(const struct smtpd_conf *c, int proc)
{
	unsigned char	*buf;
	size_t		 len;
	char		*s;

	if (conf_serialize(c, proc, &buf, &len) == -1)
		return NULL;
	s = malloc(len + 1);
	memcpy(s, buf, len);
	s[len] = '\0';
	free(buf);
	return s;
}

static void
test_serialize(void)
{
	const char *fmt =
	    "queue encryption 0123456789abcdef0123456789abcdef\n"
	    "srs key \"srs-secret\"\n"
	    "pki mx.example cert \"%s/mx.crt\"\n"
	    "pki mx.example key \"%s/mx.key\"\n"
	    "table creds { alice = \"pw-hash\" }\n"
	    "table ext sqlite:/etc/mail/pg.conf\n"
	    "listen on 127.0.0.1 tls pki mx.example auth <creds>\n"
	    "action \"r\" relay host smtps://l@x.example auth <ext> srs\n"
	    "match from any for any action \"r\"\n";
	static const struct {
		int		 proc;
		const char	*name;
		int		 creds, key, srs, qkey;
	} rows[] = {
		{ PROC_PARENT, "parent", 1, 1, 1, 1 },
		{ PROC_LOOKUP, "lookup", 1, 0, 1, 0 },
		{ PROC_CA, "ca", 0, 1, 0, 0 },
		{ PROC_QUEUE, "queue", 0, 0, 0, 1 },
		{ PROC_DISPATCHER, "dispatcher", 0, 0, 0, 0 },
		{ PROC_CONTROL, "control", 0, 0, 0, 0 },
		{ PROC_SCHEDULER, "scheduler", 0, 0, 0, 0 },
	};
	struct smtpd_conf	*c, *c2;
	char			*s, *s2, what[128], dir[64], cmd[512];
	char			 text[1024];
	size_t			 i;

	/* -n loads the pki: a real certificate and 0600 key (TLS-01) */
	snprintf(dir, sizeof(dir), "/tmp/conf_parse_test.XXXXXX");
	if (!CHECK(mkdtemp(dir) != NULL, "serialize: temporary directory"))
		return;
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=mx.example "
	    "-keyout %s/mx.key -out %s/mx.crt >/dev/null 2>&1", dir, dir);
	CHECK(system(cmd) == 0, "serialize: openssl made a certificate");
	snprintf(text, sizeof(text), fmt, dir, dir);
	c = parse(text, strlen(text), what, sizeof(what));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
	if (!CHECK(c != NULL, "serialize: source parses"))
		return;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = serialized(c, rows[i].proc);
		snprintf(what, sizeof(what), "serialize %s: credentials %s",
		    rows[i].name, rows[i].creds ? "kept" : "withheld");
		CHECK(s && (strstr(s, "pw-hash") != NULL) == rows[i].creds &&
		    (strstr(s, "pg.conf") != NULL) == rows[i].creds, what);
		snprintf(what, sizeof(what), "serialize %s: pki key %s",
		    rows[i].name, rows[i].key ? "kept" : "withheld");
		CHECK(s && (strstr(s, "mx.key") != NULL) == rows[i].key, what);
		snprintf(what, sizeof(what), "serialize %s: srs key %s",
		    rows[i].name, rows[i].srs ? "kept" : "withheld");
		CHECK(s && (strstr(s, "srs-secret") != NULL) == rows[i].srs,
		    what);
		snprintf(what, sizeof(what), "serialize %s: queue key %s",
		    rows[i].name, rows[i].qkey ? "kept" : "withheld");
		CHECK(s && (strstr(s, "0123456789abcdef0123") != NULL) ==
		    rows[i].qkey, what);
		c2 = conf_deserialize((unsigned char *)s, strlen(s));
		snprintf(what, sizeof(what), "deserialize %s: parses, same "
		    "rules and listeners", rows[i].name);
		CHECK(c2 && c2->nrules == c->nrules &&
		    c2->nlisteners == c->nlisteners && c2->redacted, what);
		s2 = c2 ? serialized(c2, rows[i].proc) : NULL;
		snprintf(what, sizeof(what), "serialize %s: stable round trip",
		    rows[i].name);
		CHECK(s2 && strcmp(s, s2) == 0, what);
		conf_free(&c2);
		free(s);
		free(s2);
	}
	c2 = conf_deserialize((const unsigned char *)"listen on {{{\n", 14);
	CHECK(c2 == NULL, "deserialize refuses garbage");
	c2 = conf_deserialize((const unsigned char *)"", 0);
	CHECK(c2 == NULL, "deserialize refuses empty input");
	conf_free(&c);
}

int
main(void)
{
	test_build_path("libexec", test_libexec, sizeof test_libexec);
	test_structure();
	test_hostile();
	test_macros();
	test_backslash();
	test_unused_macros();
	test_default();
	test_serialize();
	return test_done();
}
