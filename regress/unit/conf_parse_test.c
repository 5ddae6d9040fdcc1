/*
 * conf_parse_test.c -- the configuration API: what the parser builds,
 * hostile input, -D macros, the embedded default, and the serialized
 * form shipped to each process with its secrets left out.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
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

/* elapsed - seconds since T0 */
static double
elapsed(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * a FIFO (or any file that is not regular) as the configuration or as
 * an include is refused at once: opening it for reading would block
 * until a writer comes, for ever with no log line (issue 7, bad input).
 * The alarm bounds the test if the parser ever blocks again.
 */
static void
test_not_regular(void)
{
	struct smtpd_conf	*c;
	char			 dir[64], fifo[128], text[256], want[256];
	char			 err[1024];
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;

	snprintf(dir, sizeof(dir), "/tmp/conf_parse_test.XXXXXX");
	if (!CHECK(mkdtemp(dir) != NULL, "fifo: temporary directory"))
		return;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	if (!CHECK(mkfifo(fifo, 0600) == 0, "fifo: made"))
		goto done;
	alarm(20);
	snprintf(text, sizeof(text), "include \"%s\"\naction \"l\" mbox\n"
	    "match for local action \"l\"\n", fifo);
	snprintf(want, sizeof(want), "t.conf:1: %s: not a regular file", fifo);
	refused("include of a FIFO", text, strlen(text), want);
	snprintf(text, sizeof(text), "include \"%s\"\naction \"l\" mbox\n"
	    "match for local action \"l\"\n", dir);
	snprintf(want, sizeof(want), "t.conf:1: %s: not a regular file", dir);
	refused("include of a directory", text, strlen(text), want);

	fp = open_memstream(&buf, &len);
	c = conf_load(fifo, NULL, 0, fp, test_libexec);
	fclose(fp);
	snprintf(err, sizeof(err), "%s", buf ? buf : "");
	err[strcspn(err, "\n")] = '\0';
	snprintf(want, sizeof(want), "%s: not a regular file", fifo);
	CHECK(c == NULL && strcmp(err, want) == 0,
	    "a FIFO as the configuration file (-f FIFO) refused at once");
	free(buf);
	conf_free(&c);
	alarm(0);
done:
	unlink(fifo);
	rmdir(dir);
}

/*
 * m0 = "a", m1 = "$m0 $m0", ...: each level doubles the text.  Depth 24
 * took 12 s and 1 GB; depth 30 would take hours.  The expanded text is
 * bounded and the parse given up.
 */
static void
test_macro_bomb(void)
{
	struct timespec	 t0;
	char		*text, err[1024], what[128];
	size_t		 cap = 4096, n = 0;
	int		 i;

	text = malloc(cap);
	n += (size_t)snprintf(text + n, cap - n, "m0 = \"a\"\n");
	for (i = 1; i <= 30; i++)
		n += (size_t)snprintf(text + n, cap - n, "m%d = \"$m%d $m%d\"\n",
		    i, i - 1, i - 1);
	n += (size_t)snprintf(text + n, cap - n, "table t { $m30 }\n"
	    "action \"l\" mbox\nmatch for local action \"l\"\n");
	snprintf(err, sizeof(err), "t.conf:32: macros expand to more than "
	    "%d bytes", CONF_EXPAND_MAX);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	refused("macros doubling 30 times", text, n, err);
	snprintf(what, sizeof(what), "macro bomb refused in %.2f s (< 10 s)",
	    elapsed(&t0));
	CHECK(elapsed(&t0) < 10.0, what);
	free(text);

	/* a deep but small chain is still fine up to CONF_MACRO_DEPTH */
	text = malloc(cap);
	n = (size_t)snprintf(text, cap, "d0 = \"25\"\n");
	for (i = 1; i < CONF_MACRO_DEPTH; i++)
		n += (size_t)snprintf(text + n, cap - n, "d%d = \"$d%d\"\n", i,
		    i - 1);
	n += (size_t)snprintf(text + n, cap - n, "listen on 127.0.0.1 port "
	    "$d%d\naction \"l\" mbox\nmatch for local action \"l\"\n",
	    CONF_MACRO_DEPTH - 1);
	{
		struct smtpd_conf *c = parse(text, n, err, sizeof(err));

		CHECK(c != NULL && c->listeners[0]->port == 25,
		    "macros nested CONF_MACRO_DEPTH deep still expand");
		conf_free(&c);
	}
	free(text);
	n = 0;
	text = malloc(cap);
	n = (size_t)snprintf(text, cap, "d0 = \"25\"\n");
	for (i = 1; i <= CONF_MACRO_DEPTH; i++)
		n += (size_t)snprintf(text + n, cap - n, "d%d = \"$d%d\"\n", i,
		    i - 1);
	n += (size_t)snprintf(text + n, cap - n, "listen on 127.0.0.1 port "
	    "$d%d\n", CONF_MACRO_DEPTH);
	snprintf(what, sizeof(what), "t.conf:%d: syntax error: macros nested "
	    "deeper than %d", CONF_MACRO_DEPTH + 2, CONF_MACRO_DEPTH);
	refused("macros nested one level too deep", text, n, what);
	free(text);
}

/* 100,000 macro definitions took over 10 s (a list searched per
 * definition): definitions are hashed, the parse is linear */
static void
test_many_macros(void)
{
	struct smtpd_conf	*c;
	struct timespec		 t0, t1;
	char			*text, err[1024], what[128];
	size_t			 cap = 100000 * 32 + 256, n = 0;
	double			 cpu;
	int			 i;

	text = malloc(cap);
	for (i = 0; i < 100000; i++)
		n += (size_t)snprintf(text + n, cap - n, "macro_%d = \"%d\"\n",
		    i, i);
	n += (size_t)snprintf(text + n, cap - n, "listen on 127.0.0.1 port "
	    "$macro_2525 tag $macro_0\naction \"l\" mbox\n"
	    "match for local action \"l\"\n");
	/* CPU time, so that a loaded machine does not fail the test: the
	 * quadratic version took over 10 s, the linear one 0.1 s (1 s
	 * under the sanitizers) */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	c = parse(text, n, err, sizeof(err));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	cpu = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	snprintf(what, sizeof(what), "100,000 macro definitions parse in "
	    "%.2f s of CPU (< 5 s)", cpu);
	CHECK(cpu < 5.0, what);
	CHECK(c != NULL && c->listeners[0]->port == 2525 &&
	    strcmp(c->listeners[0]->tag, "0") == 0,
	    "100,000 macros: the right ones expand");
	conf_free(&c);
	free(text);
}

/*
 * what lookup refuses at start, -n refuses too: an empty table name, a
 * name longer than the table layer takes, an inline key too long
 */
static void
test_table_names(void)
{
	char	*text, *name;
	size_t	 cap = 20000;

	refused("empty table name", "table \"\" { a }\n", 15,
	    "t.conf:1: table name is empty");
	text = malloc(cap);
	name = malloc(8001);
	memset(name, 'x', 8000);
	name[8000] = '\0';
	snprintf(text, cap, "table \"%s\" { a }\n", name);
	refused("8,000-character table name", text, strlen(text),
	    "t.conf:1: table name longer than 255 bytes: \"xxxxxxxx");
	name[256] = '\0';
	snprintf(text, cap, "table \"%s\" { a }\n", name);
	refused("256-character table name", text, strlen(text),
	    "t.conf:1: table name longer than 255 bytes");
	name[255] = '\0';
	snprintf(text, cap, "table \"%s\" { a }\naction \"l\" mbox\n"
	    "match for local action \"l\"\n", name);
	{
		struct smtpd_conf *c = parse(text, strlen(text), NULL, 0);

		CHECK(c != NULL && c->ntables == 1,
		    "255-character table name accepted");
		conf_free(&c);
	}
	memset(name, 'k', 1500);
	name[1500] = '\0';
	snprintf(text, cap, "table t { \"%s\" = v }\n", name);
	refused("inline key longer than the table layer takes", text,
	    strlen(text), "t.conf:1: table \"t\": key longer than 1023 bytes");
	free(name);
	free(text);
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

/* dumped - the canonical text of C (not inlined: gcc then takes the
 * returned buffer for a pointer to the local that held it) */
static __attribute__((noinline)) char *
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
	static const char *const macros[] = {
		"smtpd_port=2525",
		"smtpd_maildir=\"/tmp/run dir/Maildir\"",
		"smtpd_mailuser=nobody",
	};
	struct smtpd_conf	*c;

	c = conf_load_string("default", conf_default_text,
	    strlen(conf_default_text), macros, 3, stderr, test_libexec);
	CHECK(c != NULL && c->nrules == 2 && c->listeners[0]->port == 2525,
	    "embedded default configuration parses");
	CHECK(c != NULL && c->actions[0]->method == CONF_METHOD_MAILDIR &&
	    strcmp(c->actions[0]->path, "/tmp/run dir/Maildir") == 0 &&
	    c->actions[0]->virtual != NULL,
	    "embedded default: a Maildir under the run directory, virtual");
	conf_free(&c);
	c = conf_load_string("default", conf_default_text,
	    strlen(conf_default_text), NULL, 0, fopen("/dev/null", "w"),
	    test_libexec);
	CHECK(c == NULL, "embedded default: refused without its macros");
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

/*
 * one line setting each global statement off its default, and a piece
 * of its value as the dump writes it; every row of CONF_OPTIONS must be
 * here, so a new option cannot go untested
 */
static const struct {
	const char	*words;
	const char	*line;
	const char	*value;
} option_lines[] = {
	{ "admd", "admd \"mx.example.org\"", "mx.example.org" },
	{ "bounce warn-interval", "bounce warn-interval 1h, 2h, 3h",
	    "1h, 2h, 3h" },
	{ "mda limit", "mda limit max-session 10 task-hiwat 40",
	    "max-session 10 task-hiwat 40" },
	{ "scheduler limit", "scheduler limit max-inflight 100",
	    "max-inflight 100" },
	{ "smtp limit", "smtp limit max-mails 5", "max-mails 5" },
	{ "mda wrapper", "mda wrapper \"w\" \"/usr/bin/env\"",
	    "\"/usr/bin/env\"" },
	{ "mta max-deferred", "mta max-deferred 50", "50" },
	{ "mta limit", "mta limit for domain \"x.example\" "
	    "max-conn-per-host 3 inet4", "max-conn-per-host 3" },
	{ "queue compression", "queue compression", "" },
	{ "queue encryption", "queue encryption "
	    "0123456789abcdef0123456789abcdef", "0123456789abcdef" },
	{ "queue ttl", "queue ttl 3d", "3d" },
	{ "smtp ciphers", "smtp ciphers \"HIGH:!MD5\"", "HIGH:!MD5" },
	{ "smtp max-message-size", "smtp max-message-size 10M", "10485760" },
	{ "smtp sub-addr-delim", "smtp sub-addr-delim \"-\"", "\"-\"" },
	{ "srs key", "srs key \"srs-current-key\"", "srs-current-key" },
	{ "srs key backup", "srs key backup \"srs-backup-key\"",
	    "srs-backup-key" },
	{ "srs ttl", "srs ttl 2d", "2d" },
};

/* option_line - the test line of statement WORDS, or NULL */
static int
option_line(const char *words)
{
	size_t	i;

	for (i = 0; i < sizeof(option_lines) / sizeof(option_lines[0]); i++)
		if (strcmp(option_lines[i].words, words) == 0)
			return (int)i;
	return -1;
}

/*
 * the option table drives parse, defaults, dump, redaction and
 * conf_equal: each row set alone differs from the defaults, is dumped,
 * parses back equal, and reaches only the processes it names
 */
static void
test_options(void)
{
	static const int procs[] = { PROC_PARENT, PROC_LOOKUP, PROC_CA,
	    PROC_QUEUE, PROC_DISPATCHER, PROC_CONTROL, PROC_SCHEDULER };
	static const char *const rules = "action \"l\" mbox\n"
	    "match for local action \"l\"\n";
	const struct conf_option	*o;
	struct smtpd_conf		*def, *c, *c2;
	unsigned char			*buf;
	char				 text[1024], what[512], why[256];
	char				*d, *shown;
	size_t				 i, k, len;
	int				 n, seen, want;

	/* the words of every statement are keywords (quote them as names) */
	for (i = 0; i < conf_noptions; i++) {
		o = &conf_options[i];
		snprintf(text, sizeof(text), "%s", o->words);
		for (shown = strtok(text, " "), n = 1; shown != NULL;
		    shown = strtok(NULL, " "))
			n = n && conf_is_reserved(shown);
		snprintf(what, sizeof(what), "option %s: its words are "
		    "reserved", o->words);
		CHECK(n, what);
	}
	def = parse(rules, strlen(rules), NULL, 0);
	if (!CHECK(def != NULL, "options: the defaults parse"))
		return;
	d = dumped(def);
	CHECK(d && strncmp(d, "action", 6) == 0,
	    "options: nothing global is dumped at the defaults");
	free(d);
	CHECK(def->max_message_size == CONF_DEFAULT_MAX_MESSAGE_SIZE &&
	    def->queue_ttl == CONF_DEFAULT_QUEUE_TTL &&
	    def->bounce_warn.n == 1 &&
	    def->bounce_warn.v[0] == CONF_DEFAULT_BOUNCE_WARN &&
	    def->sub_addr_delim == '+' &&
	    strcmp(def->smtp_ciphers, CONF_DEFAULT_CIPHERS) == 0 &&
	    def->mda_limits.max_session == 50 && def->srs_key == NULL,
	    "options: defaults come from the table");
	for (i = 0; i < conf_noptions; i++) {
		o = &conf_options[i];
		snprintf(what, sizeof(what), "option %s: has a test line",
		    o->words);
		if (!CHECK((n = option_line(o->words)) >= 0, what))
			continue;
		snprintf(text, sizeof(text), "%s\n%s", option_lines[n].line,
		    rules);
		c = parse(text, strlen(text), why, sizeof(why));
		snprintf(what, sizeof(what), "option %s: parses %s", o->words,
		    why);
		if (!CHECK(c != NULL, what))
			continue;
		snprintf(what, sizeof(what), "option %s: differs from the "
		    "defaults", o->words);
		CHECK(!conf_equal(def, c, why, sizeof(why)), what);
		d = dumped(c);
		snprintf(what, sizeof(what), "option %s: dumped with its "
		    "value", o->words);
		CHECK(d && strncmp(d, o->words, strlen(o->words)) == 0 &&
		    strstr(d, option_lines[n].value) != NULL, what);
		c2 = d ? parse(d, strlen(d), NULL, 0) : NULL;
		snprintf(what, sizeof(what), "option %s: parse(dump) equal",
		    o->words);
		CHECK(c2 && conf_equal(c, c2, why, sizeof(why)), what);
		conf_free(&c2);
		free(d);
		for (k = 0; k < sizeof(procs) / sizeof(procs[0]); k++) {
			if (*option_lines[n].value == '\0' ||
			    conf_serialize(c, procs[k], &buf, &len) == -1)
				continue;
			shown = strndup((char *)buf, len);
			free(buf);
			seen = strstr(shown, option_lines[n].value) != NULL;
			want = procs[k] == PROC_PARENT ||
			    o->seen == CONF_SEEN_ALL ||
			    (o->seen == CONF_SEEN_LOOKUP &&
			    procs[k] == PROC_LOOKUP) ||
			    (o->seen == CONF_SEEN_QUEUE &&
			    procs[k] == PROC_QUEUE);
			snprintf(what, sizeof(what), "option %s: %s to %s",
			    o->words, want ? "shipped" : "withheld",
			    proc_name(procs[k]));
			CHECK(seen == want, what);
			free(shown);
		}
		conf_free(&c);
	}
	conf_free(&def);
}

/* the 5.x keywords of the option table mean their modern statement */
static void
test_legacy_options(void)
{
	static const struct {
		const char	*legacy;
		const char	*modern;
	} rows[] = {
		{ "expire 2d", "queue ttl 2d" },
		{ "bounce-warn 1h, 2h", "bounce warn-interval 1h, 2h" },
		{ "max-message-size 5M", "smtp max-message-size 5M" },
		{ "max-mta-deferred 7", "mta max-deferred 7" },
		{ "subaddressing-delimiter \"-\"", "smtp sub-addr-delim \"-\"" },
		{ "ciphers \"X\"", "smtp ciphers \"X\"" },
		{ "limit session max-rcpt 10", "smtp limit max-rcpt 10" },
	};
	struct smtpd_conf	*a, *b;
	char			 ta[512], tb[512], what[512], why[256];
	size_t			 i, k, nlegacy = 0;

	for (i = 0; i < conf_noptions; i++)
		if (conf_options[i].legacy != NULL)
			nlegacy++;
	CHECK(nlegacy == 6, "legacy options: six 5.x keywords in the table");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(ta, sizeof(ta), "%s\naccept for local deliver to "
		    "mbox\n", rows[i].legacy);
		snprintf(tb, sizeof(tb), "%s\nlisten on socket tag \"local\"\n"
		    "action \"legacy-1\" mbox\n"
		    "match from local for local action \"legacy-1\"\n"
		    "match from any auth for local action \"legacy-1\"\n",
		    rows[i].modern);
		a = parse(ta, strlen(ta), why, sizeof(why));
		b = parse(tb, strlen(tb), why, sizeof(why));
		k = a && b && conf_equal(a, b, why, sizeof(why));
		snprintf(what, sizeof(what), "legacy '%s' is '%s' %s",
		    rows[i].legacy, rows[i].modern, why);
		CHECK(k, what);
		conf_free(&a);
		conf_free(&b);
	}
}

/* conf_equal finds a one-field difference anywhere, and names it */
static void
test_equal(void)
{
	static const char *const base =
	    "table t { a.example }\n"
	    "listen on 127.0.0.1 port 2525 tag T\n"
	    "action \"r\" relay host smtp://mx.example helo h.example\n"
	    "match from any for domain <t> action \"r\"\n";
	static const struct {
		const char	*from, *to, *field;
	} rows[] = {
		{ "port 2525", "port 2526", "listener 0 port" },
		{ "tag T", "tag U", "listener 0 tag" },
		{ "a.example", "b.example", "table 0 key" },
		{ "helo h.example", "helo i.example", "action 0 helo" },
		{ "smtp://", "smtps://", "action 0 host key" },
		{ "from any", "from local", "rule 0 criterion 0 what" },
		{ "for domain <t>", "for any", "rule 0 criterion 1 what" },
	};
	struct smtpd_conf	*a, *b;
	char			 text[1024], what[512], why[256], *at;
	size_t			 i;
	int			 k;

	a = parse(base, strlen(base), NULL, 0);
	if (!CHECK(a != NULL, "equal: base parses"))
		return;
	b = parse(base, strlen(base), NULL, 0);
	CHECK(b && conf_equal(a, b, why, sizeof(why)) && why[0] == '\0',
	    "equal: a configuration equals itself parsed again");
	conf_free(&b);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		at = strstr(base, rows[i].from);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - base), base,
		    rows[i].to, at + strlen(rows[i].from));
		b = parse(text, strlen(text), why, sizeof(why));
		k = b && !conf_equal(a, b, why, sizeof(why)) &&
		    strncmp(why, rows[i].field, strlen(rows[i].field)) == 0;
		snprintf(what, sizeof(what), "equal: '%s' -> '%s' found (%s)",
		    rows[i].from, rows[i].to, why);
		CHECK(k, what);
		conf_free(&b);
	}
	conf_free(&a);

	/* the copy a process rebuilds knows a host listener is a host
	 * (it took it for an interface before conf_equal looked) */
	snprintf(text, sizeof(text), "listen on mx.example.org\n"
	    "action \"l\" mbox\nmatch for local action \"l\"\n");
	a = parse(text, strlen(text), why, sizeof(why));
	if (CHECK(a != NULL, "equal: host listener parses")) {
		unsigned char	*buf;
		size_t		 len;

		b = NULL;
		if (conf_serialize(a, PROC_DISPATCHER, &buf, &len) == 0) {
			b = conf_deserialize(buf, len);
			free(buf);
		}
		CHECK(a->listeners[0]->kind == CONF_LISTEN_HOST && b &&
		    conf_equal(a, b, why, sizeof(why)),
		    "equal: a host listener stays a host in the dispatcher");
		conf_free(&b);
	}
	conf_free(&a);
}

/* action_line_has - the dump of C's action "x" has option KW */
static int
action_line_has(const struct smtpd_conf *c, const char *kw)
{
	char	*d, *line, *at;
	size_t	 n = strlen(kw);
	int	 found = 0;

	if ((d = dumped(c)) == NULL)
		return 0;
	if ((line = strstr(d, "action \"x\"")) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (at = strstr(line, kw); at != NULL && !found;
		    at = strstr(at + 1, kw))
			found = at[-1] == ' ' && (at[n] == ' ' ||
			    at[n] == '\0');
	}
	free(d);
	return found;
}

/*
 * every row of conf_action_options[] parses, is dumped, parses back
 * equal and makes a difference conf_equal() sees; in trusted mode (as a
 * process rebuilds its copy) so that pki and ca need no files
 */
static void
test_action_options(void)
{
	static const char *const decls =
	    "pki p cert \"/c.crt\"\npki p key \"/c.key\"\n"
	    "ca c cert \"/ca.pem\"\nmda wrapper \"w\" \"/bin/env\"\n"
	    "filter \"f1\" proc-exec \"/bin/cat\"\nsrs key \"k\"\n";
	static const struct {
		const char	*kw, *method, *fragment;
	} rows[] = {
		{ "alias", "maildir", "alias { root = alice }" },
		{ "virtual", "maildir", "virtual { \"a@b\" = c }" },
		{ "userbase", "maildir", "userbase { bob = \"1:1:/h\" }" },
		{ "user", "maildir", "user bob" },
		{ "wrapper", "maildir", "wrapper \"w\"" },
		{ "backup", "relay", "backup mx \"mx.example\"" },
		{ "host", "relay", "host \"smtp://mx.example\"" },
		{ "domain", "relay", "domain { a.example = "
		    "\"smtp://mx.example\" }" },
		{ "auth", "relay", "host \"smtps://l@mx.example\" "
		    "auth { l = \"u:p\" }" },
		{ "tls", "relay", "tls no-verify" },
		{ "pki", "relay", "pki p" },
		{ "ca", "relay", "ca c" },
		{ "ciphers", "relay", "ciphers \"HIGH\"" },
		{ "protocols", "relay", "protocols \"tlsv1.3\"" },
		{ "helo", "relay", "helo \"h.example\"" },
		{ "helo-src", "relay", "helo-src { 192.0.2.1 = h.example }" },
		{ "src", "relay", "src { 192.0.2.1 }" },
		{ "mail-from", "relay", "mail-from \"@x.example\"" },
		{ "srs", "relay", "srs" },
		{ "filter", "relay", "filter \"f1\"" },
	};
	const struct conf_action_option	*o;
	struct smtpd_conf		*c, *plain, *c2;
	char				 text[1024], what[512], why[256];
	char				 *d;
	size_t				 i, k, n = sizeof(rows) / sizeof(rows[0]);

	for (i = 0; i < conf_naction_options; i++) {
		o = &conf_action_options[i];
		for (k = 0; k < n && strcmp(rows[k].kw, o->kw); k++)
			;
		snprintf(what, sizeof(what), "action option %s: has a test "
		    "line", o->kw);
		if (!CHECK(k < n, what))
			continue;
		snprintf(text, sizeof(text), "%saction \"x\" %s\n"
		    "match for local action \"x\"\n", decls, rows[k].method);
		plain = conf_deserialize((unsigned char *)text, strlen(text));
		snprintf(text, sizeof(text), "%saction \"x\" %s %s\n"
		    "match for local action \"x\"\n", decls, rows[k].method,
		    rows[k].fragment);
		c = conf_deserialize((unsigned char *)text, strlen(text));
		snprintf(what, sizeof(what), "action option %s: parses",
		    o->kw);
		if (!CHECK(c != NULL && plain != NULL, what)) {
			conf_free(&c);
			conf_free(&plain);
			continue;
		}
		snprintf(what, sizeof(what), "action option %s: a difference "
		    "conf_equal sees", o->kw);
		CHECK(!conf_equal(plain, c, why, sizeof(why)), what);
		snprintf(what, sizeof(what), "action option %s: dumped",
		    o->kw);
		CHECK(action_line_has(c, o->kw), what);
		d = dumped(c);
		c2 = d ? conf_deserialize((unsigned char *)d, strlen(d)) : NULL;
		snprintf(what, sizeof(what), "action option %s: parse(dump) "
		    "equal", o->kw);
		CHECK(c2 && conf_equal(c, c2, why, sizeof(why)), what);
		conf_free(&c2);
		free(d);
		conf_free(&c);
		conf_free(&plain);
	}
}

/* listen_line_has - the dump D has word KW on its first listen line */
static int
listen_line_has(const char *d, const char *kw)
{
	const char	*l = strstr(d, "listen on "), *end, *at;
	size_t		 n = strlen(kw);

	if (l == NULL || (end = strchr(l, '\n')) == NULL)
		return 0;
	for (at = strstr(l, kw); at != NULL && at < end;
	    at = strstr(at + 1, kw))
		if (at[-1] == ' ' && (at[n] == ' ' || at[n] == '\n'))
			return 1;
	return 0;
}

/*
 * every dumped row of conf_listen_options[] parses, is dumped, parses
 * back equal and makes a difference conf_equal() names by its field;
 * trusted mode, as in test_action_options, so pki and ca need no files
 */
static void
test_listen_options(void)
{
	static const char *const decls =
	    "pki p cert \"/c.crt\"\npki p key \"/c.key\"\n"
	    "pki q cert \"/q.crt\"\npki q key \"/q.key\"\n"
	    "ca c cert \"/ca.pem\"\nfilter \"f1\" proc-exec \"/bin/cat\"\n"
	    "table creds { u = \"p\" }\ntable snd { \"a@b.example\" = u }\n";
	static const struct {
		const char	*kw, *on, *base, *fragment, *field;
	} rows[] = {
		{ "inet4", "127.0.0.1", "", "inet4", "family" },
		{ "inet6", "::1", "", "inet6", "family" },
		{ "port", "127.0.0.1", "", "port 2525", "port" },
		{ "tls", "127.0.0.1", "", "tls pki p", "tls" },
		{ "tls-require", "127.0.0.1", "", "tls-require verify pki p",
		    "tls" },
		{ "smtps", "127.0.0.1", "", "smtps verify pki p", "tls" },
		{ "pki", "127.0.0.1", "tls pki p", "pki q", "pki" },
		{ "ca", "127.0.0.1", "tls pki p", "ca c", "ca" },
		{ "ciphers", "127.0.0.1", "", "ciphers \"HIGH\"", "ciphers" },
		{ "protocols", "127.0.0.1", "", "protocols \"tlsv1.3\"",
		    "protocols" },
		{ "auth", "127.0.0.1", "tls pki p", "auth <creds>", "auth" },
		{ "auth-optional", "127.0.0.1", "tls pki p auth-optional",
		    "<creds>", "auth_table" },
		{ "senders", "127.0.0.1", "senders <snd>", "masquerade",
		    "masquerade" },
		{ "tag", "socket", "", "tag T", "tag" },
		{ "hostname", "127.0.0.1", "", "hostname h.example",
		    "hostname" },
		{ "hostnames", "127.0.0.1", "",
		    "hostnames { 192.0.2.1 = h.example }", "hostnames" },
		{ "mask-src", "socket", "", "mask-src", "mask_src" },
		{ "received-auth", "127.0.0.1", "", "received-auth",
		    "received_auth" },
		{ "no-dsn", "socket", "", "no-dsn", "no_dsn" },
		{ "proxy-v2", "127.0.0.1", "", "proxy-v2", "proxy_v2" },
		{ "filter", "127.0.0.1", "", "filter \"f1\"", "filter" },
	};
	const struct conf_listen_option	*o;
	struct smtpd_conf		*c, *plain, *c2;
	char				 text[1024], what[512], why[256];
	char				 *d;
	size_t				 i, k, n = sizeof(rows) / sizeof(rows[0]);

	for (i = 0; i < conf_nlisten_options; i++) {
		o = &conf_listen_options[i];
		if (o->flags & CONF_LOPT_ALIAS)
			continue;	/* 5.x words: the corpus tests */
		for (k = 0; k < n && strcmp(rows[k].kw, o->kw); k++)
			;
		snprintf(what, sizeof(what), "listen option %s: has a test "
		    "line", o->kw);
		if (!CHECK(k < n, what))
			continue;
		snprintf(text, sizeof(text), "%slisten on %s %s\n"
		    "action \"x\" mbox\nmatch for local action \"x\"\n",
		    decls, rows[k].on, rows[k].base);
		plain = conf_deserialize((unsigned char *)text, strlen(text));
		snprintf(text, sizeof(text), "%slisten on %s %s %s\n"
		    "action \"x\" mbox\nmatch for local action \"x\"\n",
		    decls, rows[k].on, rows[k].base, rows[k].fragment);
		c = conf_deserialize((unsigned char *)text, strlen(text));
		snprintf(what, sizeof(what), "listen option %s: parses",
		    o->kw);
		if (!CHECK(c != NULL && plain != NULL, what)) {
			conf_free(&c);
			conf_free(&plain);
			continue;
		}
		why[0] = '\0';
		snprintf(what, sizeof(what), "listen option %s: conf_equal "
		    "names the field %s", o->kw, rows[k].field);
		CHECK(!conf_equal(plain, c, why, sizeof(why)) &&
		    strncmp(why, "listener 0 ", 11) == 0 &&
		    strncmp(why + 11, rows[k].field,
		    strlen(rows[k].field)) == 0, what);
		d = dumped(c);
		snprintf(what, sizeof(what), "listen option %s: dumped",
		    o->kw);
		CHECK(d && listen_line_has(d, o->kw), what);
		c2 = d ? conf_deserialize((unsigned char *)d, strlen(d)) : NULL;
		snprintf(what, sizeof(what), "listen option %s: parse(dump) "
		    "equal", o->kw);
		CHECK(c2 && conf_equal(c, c2, why, sizeof(why)), what);
		conf_free(&c2);
		free(d);
		conf_free(&c);
		conf_free(&plain);
	}
}

int
main(void)
{
	test_build_path("libexec", test_libexec, sizeof test_libexec);
	test_structure();
	test_hostile();
	test_not_regular();
	test_macro_bomb();
	test_many_macros();
	test_table_names();
	test_macros();
	test_backslash();
	test_unused_macros();
	test_default();
	test_serialize();
	test_options();
	test_legacy_options();
	test_action_options();
	test_listen_options();
	test_equal();
	return test_done();
}
