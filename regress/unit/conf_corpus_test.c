/*
 * conf_corpus_test.c -- every configuration file of the corpora through
 * the parser, as `smtpd -n` would see it.
 *
 * regress/config/ok/NAME.conf must parse, and its canonical dump must
 * equal NAME.dump when that file exists; dump, re-parse and dump again
 * must give the same text.  regress/config/bad/NAME.conf must be refused
 * and the first error line, with the directory stripped, must equal
 * NAME.err.  When ../shared/spec/conf-examples exists (run from the top
 * of the tree), every modern-* and seed-* file parses (fragments with
 * the additions the corpus README names) and every bad-* is refused with
 * a FILE:LINE: message.  Table fixtures are copied into a temporary
 * directory and /etc/mail/, /etc/ssl/ are rewritten to point there;
 * nothing is written outside that directory.
 *
 * With arguments, "conf_corpus_test -n [-v] -f FILE" behaves like
 * `smtpd -n` (used by regress/integ/test_config.py before smtpd exists).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <db_185.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "imsg.h"
#include "smtpd.h"
#include "test.h"

/* the tests link the core objects but not smtpd.c */
struct smtpd_env	*env;

static char	test_libexec[PATH_MAX];	/* the build's helpers */
#define SHARED	"../shared/spec/conf-examples"

static char	tmpdir[256];

/* read_file - whole file, NUL-terminated, or NULL */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	buf[n] = '\0';
	fclose(fp);
	if (lenp)
		*lenp = (size_t)n;
	return buf;
}

/* write_file - create PATH with TEXT */
static int
write_file(const char *path, const char *text)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

/* rewrite - TEXT with /etc/mail/ and /etc/ssl/ moved under tmpdir */
static char *
rewrite(const char *text)
{
	size_t	 n = strlen(text), cap = n * 4 + 1024, o = 0;
	char	*out = malloc(cap);

	while (*text) {
		if (strncmp(text, "/etc/mail/", 10) == 0 ||
		    strncmp(text, "/etc/ssl/", 9) == 0) {
			o += (size_t)snprintf(out + o, cap - o, "%s", tmpdir);
		}
		if (o + 2 >= cap)
			break;
		out[o++] = *text++;
	}
	out[o] = '\0';
	return out;
}

/* copy_to - copy SRC into tmpdir/DST */
static void
copy_to(const char *src, const char *dst)
{
	char	 path[1024], *text;

	if ((text = read_file(src, NULL)) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", tmpdir, dst);
	write_file(path, text);
	free(text);
}

/*
 * db_make - a Berkeley DB hash at tmpdir/DST from the text map SRC, laid
 * out as makemap writes it: lower-cased keys and values stored with
 * their NUL, "<set>" as the value of every entry of a set (-t set)
 */
static int
db_make(const char *src, const char *dst, int set)
{
	DB	*db;
	DBT	 k, v;
	FILE	*fp;
	char	 line[1024], path[1024], *key, *val, *e;
	size_t	 i;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, dst);
	if ((fp = fopen(src, "r")) == NULL)
		return -1;
	db = dbopen(path, O_CREAT | O_TRUNC | O_RDWR, 0600, DB_HASH, NULL);
	if (db == NULL) {
		fclose(fp);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		key = line + strspn(line, " \t");
		if (*key == '#' || *key == '\0')
			continue;
		e = key + strcspn(key, " \t:");
		val = e + strspn(e, " \t:");
		*e = '\0';
		for (i = 0; key[i]; i++)
			key[i] = (char)tolower((unsigned char)key[i]);
		if (set)
			val = "<set>";
		k.data = key;
		k.size = strlen(key) + 1;
		v.data = val;
		v.size = strlen(val) + 1;
		if (db->put(db, &k, &v, 0) != 0)
			break;
	}
	fclose(fp);
	return db->close(db);
}

/*
 * certs_make - a self-signed certificate and its 0600 key, generated
 * with the openssl command, under every name the corpora use (as
 * conf-examples/check.sh does); never stored in the tree
 */
static int
certs_make(void)
{
	static const char *const certs[] = { "mail.example.com.crt",
	    "mx.example.net.crt", "example.org.crt", "ca.pem", "myca.pem",
	    "mx.crt", "mx1.crt", "acme/poolp.org/fullchain.pem" };
	static const char *const keys[] = { "private/mail.example.com.key",
	    "private/mx.example.net.key", "private/example.org.key",
	    "private/mx.key", "mx1.key",
	    "acme/private/poolp.org/privkey.pem" };
	char	cmd[2048], src[512], dst[512];
	size_t	i;

	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj "
	    "/CN=mail.example.com -keyout %s/etc/ssl/base.key -out "
	    "%s/etc/ssl/base.crt >/dev/null 2>&1", tmpdir, tmpdir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -out %s/etc/ssl/private/other.key "
	    ">/dev/null 2>&1", tmpdir);
	if (system(cmd) != 0)
		return -1;
	snprintf(src, sizeof(src), "%s/etc/ssl/base.crt", tmpdir);
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		snprintf(dst, sizeof(dst), "etc/ssl/%s", certs[i]);
		copy_to(src, dst);
	}
	snprintf(src, sizeof(src), "%s/etc/ssl/base.key", tmpdir);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(dst, sizeof(dst), "etc/ssl/%s", keys[i]);
		copy_to(src, dst);
		snprintf(dst, sizeof(dst), "%s/etc/ssl/%s", tmpdir, keys[i]);
		if (chmod(dst, 0600) == -1)
			return -1;
	}
	return 0;
}

/* copy_to_mode - copy tmpdir/SRC to tmpdir/DST with permissions MODE */
static void
copy_to_mode(const char *src, const char *dst, mode_t mode)
{
	char	path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, src);
	copy_to(path, dst);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, dst);
	chmod(path, mode);
}

/* tmp_make - the temporary root every test writes under */
static int
tmp_make(void)
{
	static const char *const dirs[] = { "etc", "etc/mail",
	    "etc/mail/smtpd", "etc/ssl", "etc/ssl/private", "etc/ssl/acme",
	    "etc/ssl/acme/poolp.org", "etc/ssl/acme/private",
	    "etc/ssl/acme/private/poolp.org", "run" };
	char	path[512];
	size_t	i;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/conf_corpus.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, dirs[i]);
		if (mkdir(path, 0700) == -1)
			return -1;
	}
	return certs_make();
}

/* fixtures_make - the fixture tree of conf-examples/check.sh */
static int
fixtures_make(void)
{
	static const char *const extra[][2] = {
		{ "secrets", "etc/mail/secret" },
		{ "pdomains", "etc/mail/shithole" },
		{ "aliases", "etc/mail/smtpd/aliases" },
		{ "aliases2", "etc/mail/smtpd/aliases2" },
		{ "pdomains", "etc/mail/smtpd/primary-domains" },
		{ "vdomains", "etc/mail/smtpd/virtual-domains" },
		{ "virtual", "etc/mail/smtpd/virtual-users" },
		{ "bdomains", "etc/mail/smtpd/backup-domains" },
	};
	char		 path[512], src[512], *text, *re;
	struct dirent	*de;
	DIR		*d;
	size_t		 i;

	if ((d = opendir(SHARED "/fixtures/etc/mail")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(src, sizeof(src), SHARED "/fixtures/etc/mail/%s",
		    de->d_name);
		snprintf(path, sizeof(path), "etc/mail/%s", de->d_name);
		copy_to(src, path);
	}
	closedir(d);
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(src, sizeof(src), SHARED "/fixtures/etc/mail/%s",
		    extra[i][0]);
		copy_to(src, extra[i][1]);
	}
	/* Berkeley DB maps, made as check.sh makes them with makemap */
	if (db_make(SHARED "/fixtures/etc/mail/aliases", "etc/mail/aliases.db",
	    0) == -1 || db_make(SHARED "/fixtures/etc/mail/domains",
	    "etc/mail/domains.db", 1) == -1 || db_make(SHARED
	    "/fixtures/etc/mail/secrets", "etc/mail/secrets.db", 0) == -1)
		return -1;
	/* smtpd.conf.local is included by modern-02: rewrite its paths */
	snprintf(path, sizeof(path), "%s/etc/mail/smtpd.conf.local", tmpdir);
	if ((text = read_file(path, NULL)) != NULL) {
		re = rewrite(text);
		write_file(path, re);
		free(re);
		free(text);
	}
	return 0;
}

/* rm_tree - remove tmpdir (two levels are enough) */
static void
rm_tree(const char *dir)
{
	char		 path[1024];
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* load - parse PATH; the first error line goes to FIRST */
static struct smtpd_conf *
load(const char *path, char *first, size_t firstsz)
{
	struct smtpd_conf	*c;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*err;

	err = open_memstream(&buf, &len);
	c = conf_load(path, NULL, 0, err, test_libexec);
	fclose(err);
	if (first) {
		snprintf(first, firstsz, "%s", buf ? buf : "");
		first[strcspn(first, "\n")] = '\0';
	}
	free(buf);
	return c;
}

/* dump - canonical text of C */
static char *
dump(const struct smtpd_conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	conf_dump(fp, c);
	fclose(fp);
	return buf;
}

/*
 * check_roundtrip - dump, re-parse: the same configuration field by
 * field (conf_equal), and dumping again gives the same text; the form
 * shipped to the other processes (conf_serialize for parent, rebuilt by
 * conf_deserialize) is the same configuration too.  The first
 * difference goes to WHY.
 */
static int
check_roundtrip(const struct smtpd_conf *c, char *why, size_t whysz)
{
	struct smtpd_conf	*c2, *c3 = NULL;
	unsigned char		*buf;
	char			*d1, *d2 = NULL, path[512];
	size_t			 len;
	int			 ok;

	snprintf(why, whysz, "re-parse failed");
	d1 = dump(c);
	snprintf(path, sizeof(path), "%s/run/roundtrip.conf", tmpdir);
	write_file(path, d1);
	if ((c2 = load(path, NULL, 0)) != NULL)
		d2 = dump(c2);
	ok = c2 != NULL && conf_equal(c, c2, why, whysz);
	if (ok && strcmp(d1, d2) != 0) {
		snprintf(why, whysz, "second dump differs");
		ok = 0;
	}
	if (ok && conf_serialize(c, PROC_PARENT, &buf, &len) == 0) {
		c3 = conf_deserialize(buf, len);
		free(buf);
		if (c3 == NULL) {
			snprintf(why, whysz, "deserialize failed");
			ok = 0;
		} else if (!conf_equal(c, c3, why, whysz))
			ok = 0;
	}
	conf_free(&c2);
	conf_free(&c3);
	free(d1);
	free(d2);
	return ok;
}

/* strip_dir - "dir/x.conf:3: msg" -> "x.conf:3: msg" */
static const char *
strip_dir(const char *line, const char *dir)
{
	size_t	n = strlen(dir);

	if (strncmp(line, dir, n) == 0 && line[n] == '/')
		return line + n + 1;
	return line;
}

/* unroot - LINE with every occurrence of tmpdir removed, in place */
static char *
unroot(char *line)
{
	char	*p;
	size_t	 n = strlen(tmpdir);

	while ((p = strstr(line, tmpdir)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
	return line;
}

/*
 * load_copy - SRC copied to tmpdir/run/NAME with /etc/mail/ and /etc/ssl/
 * moved under tmpdir, parsed; the first message loses the directory
 */
static struct smtpd_conf *
load_copy(const char *src, const char *name, char *first, size_t firstsz)
{
	struct smtpd_conf	*c;
	char			 path[1024], dir[512], *text, *re;

	if ((text = read_file(src, NULL)) == NULL)
		return NULL;
	re = rewrite(text);
	snprintf(dir, sizeof(dir), "%s/run", tmpdir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, re);
	free(re);
	free(text);
	c = load(path, first, firstsz);
	memmove(first, strip_dir(first, dir), strlen(strip_dir(first, dir)) +
	    1);
	unroot(first);
	return c;
}

/*
 * check_translation - ok/NAME.dump is the modern translation of
 * ok/NAME.conf (for a legacy file, what the translator must produce):
 * both parse to the same configuration, field by field
 */
static void
check_translation(const char *name, const struct smtpd_conf *c)
{
	struct smtpd_conf	*t;
	char			 src[512], first[1024], what[2048], why[512];
	char			 dname[256];
	size_t			 n = strlen(name);

	snprintf(src, sizeof(src), "regress/config/ok/%.*s.dump",
	    (int)(n - 5), name);
	if (access(src, R_OK) == -1)
		return;
	snprintf(dname, sizeof(dname), "%.*s-dump.conf", (int)(n - 5), name);
	t = load_copy(src, dname, first, sizeof(first));
	snprintf(why, sizeof(why), "%.400s", t == NULL ? first : "");
	snprintf(what, sizeof(what), "ok/%s%s and its .dump parse to the "
	    "same configuration %s", name, c->legacy ? " (legacy)" : "",
	    why);
	CHECK(t != NULL && conf_equal(c, t, why, sizeof(why)), what);
	if (t != NULL && !conf_equal(c, t, why, sizeof(why)))
		printf("# %s: %s\n", name, why);
	conf_free(&t);
}

/* project_corpus - regress/config/ok and bad */
static void
project_corpus(void)
{
	struct smtpd_conf	*c;
	struct dirent		*de;
	DIR			*d;
	char			 path[512], exp[512], first[1024], what[2048];
	char			 why[512];
	char			*want, *got;
	size_t			 n;
	int			 ok;

	if ((d = opendir("regress/config/ok")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".conf") != 0)
				continue;
			snprintf(path, sizeof(path), "regress/config/ok/%s",
			    de->d_name);
			c = load_copy(path, de->d_name, first, sizeof(first));
			snprintf(what, sizeof(what), "ok/%s parses (%s)",
			    de->d_name, first);
			CHECK(c != NULL, what);
			if (c == NULL)
				continue;
			snprintf(exp, sizeof(exp), "regress/config/ok/%.*s.dump",
			    (int)(n - 5), de->d_name);
			if ((want = read_file(exp, NULL)) != NULL) {
				got = unroot(dump(c));
				snprintf(what, sizeof(what), "ok/%s dump equals "
				    "its .dump", de->d_name);
				CHECK(strcmp(got, want) == 0, what);
				if (strcmp(got, want) != 0)
					printf("# got:\n%s", got);
				free(got);
				free(want);
			}
			ok = check_roundtrip(c, why, sizeof(why));
			snprintf(what, sizeof(what), "ok/%s: parse(dump) equals "
			    "it field by field %s", de->d_name, why);
			CHECK(ok, what);
			check_translation(de->d_name, c);
			conf_free(&c);
		}
		closedir(d);
	}
	if ((d = opendir("regress/config/bad")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			n = strlen(de->d_name);
			if (n < 6 || strcmp(de->d_name + n - 5, ".conf") != 0)
				continue;
			snprintf(path, sizeof(path), "regress/config/bad/%s",
			    de->d_name);
			c = load_copy(path, de->d_name, first, sizeof(first));
			snprintf(what, sizeof(what), "bad/%s refused",
			    de->d_name);
			CHECK(c == NULL, what);
			conf_free(&c);
			snprintf(exp, sizeof(exp), "regress/config/bad/%.*s.err",
			    (int)(n - 5), de->d_name);
			want = read_file(exp, NULL);
			if (want)
				want[strcspn(want, "\n")] = '\0';
			snprintf(what, sizeof(what), "bad/%s message: %s",
			    de->d_name, first);
			CHECK(want != NULL && strcmp(want, first) == 0, what);
			free(want);
		}
		closedir(d);
	}
}

/* shared_one - one corpus file, with optional text around it */
static void
shared_one(const char *name, const char *prefix, const char *suffix,
    int want_ok)
{
	struct smtpd_conf	*c;
	char			 src[512], path[512], first[1024], what[2048];
	char			 why[512];
	char			*text, *re, *all, *colon;
	size_t			 n;
	int			 ok;

	snprintf(src, sizeof(src), SHARED "/%s", name);
	if ((text = read_file(src, NULL)) == NULL)
		return;
	n = strlen(text) + strlen(prefix) + strlen(suffix) + 4;
	all = malloc(n);
	snprintf(all, n, "%s%s%s%s", prefix, text,
	    text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "", suffix);
	re = rewrite(all);
	snprintf(path, sizeof(path), "%s/run/%s", tmpdir, name);
	write_file(path, re);
	c = load(path, first, sizeof(first));
	if (want_ok) {
		snprintf(what, sizeof(what), "%s%s parses %s", name,
		    *prefix || *suffix ? " (completed)" : "", first);
		CHECK(c != NULL, what);
		if (c != NULL) {
			ok = check_roundtrip(c, why, sizeof(why));
			snprintf(what, sizeof(what), "%s: parse(dump) equals "
			    "it field by field %s", name, why);
			CHECK(ok, what);
		}
	} else {
		/* refused, and the message is FILE:LINE: ... */
		colon = strstr(first, ".conf:");
		snprintf(what, sizeof(what), "%s refused with a line number: "
		    "%s", name, strip_dir(first, tmpdir));
		CHECK(c == NULL && colon != NULL &&
		    colon[6] >= '0' && colon[6] <= '9', what);
	}
	conf_free(&c);
	free(text);
	free(all);
	free(re);
}

/* shared_corpus - ../shared/spec/conf-examples, verdicts of its README */
static void
shared_corpus(void)
{
	static const char *const seed_fail[] = { "seed-10", "seed-16",
	    "seed-17", "seed-18", "seed-19", "seed-22", "seed-25", NULL };
	static const char *const seed_fragment[] = { "seed-11", "seed-12",
	    "seed-13", "seed-14", "seed-15", "seed-20", "seed-21", "seed-23",
	    "seed-24", "seed-26", NULL };
	static const char *const legacy_certs[][2] = {
		{ "seed-06", "my.cert" }, { "seed-11", "example" },
		{ "seed-12", "example" }, { "seed-30", "mail.mydomain.org" },
		{ NULL, NULL } };
	const char	*rule = "accept for local deliver to mbox\n", *cert;
	char		*seed13 = NULL, name[256], pki[512];
	struct dirent	**list;
	int		 n, i, k, fail, frag;

	if ((n = scandir(SHARED, &list, NULL, alphasort)) < 0) {
		test_not_run(SHARED " absent: the shared corpus checks");
		return;
	}
	CHECK(fixtures_make() == 0, "fixture root created");
	seed13 = read_file(SHARED "/seed-13-blog-pki-declaration.conf", NULL);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s", list[i]->d_name);
		free(list[i]);
		if (strlen(name) < 6 ||
		    strcmp(name + strlen(name) - 5, ".conf") != 0)
			continue;
		if (strncmp(name, "modern-", 7) == 0)
			shared_one(name, "", "", 1);
		else if (strncmp(name, "bad-", 4) == 0)
			shared_one(name, "", "", 0);
		else if (strncmp(name, "seed-", 5) == 0) {
			for (fail = 0, k = 0; seed_fail[k]; k++)
				if (strncmp(name, seed_fail[k], 7) == 0)
					fail = 1;
			for (frag = 0, k = 0; seed_fragment[k]; k++)
				if (strncmp(name, seed_fragment[k], 7) == 0)
					frag = 1;
			for (cert = NULL, k = 0; legacy_certs[k][0]; k++)
				if (strncmp(name, legacy_certs[k][0], 7) == 0)
					cert = legacy_certs[k][1];
			if (cert != NULL) {
				/*
				 * `certificate NAME` means the files
				 * /etc/mail/certs/NAME.{crt,key}, which -n
				 * loads: refused here, where they do not
				 * exist; fine with the pki declared first
				 */
				shared_one(name, "", "", 0);
				snprintf(pki, sizeof(pki), "pki %s cert "
				    "\"/etc/ssl/mail.example.com.crt\"\n"
				    "pki %s key \"/etc/ssl/private/"
				    "mail.example.com.key\"\n", cert, cert);
				shared_one(name, pki, frag ? rule : "", 1);
				continue;
			}
			if (!frag) {
				shared_one(name, "", "", !fail);
				continue;
			}
			/* a fragment: refused alone, fine once completed */
			shared_one(name, "", "", 0);
			if (strncmp(name, "seed-14", 7) == 0 ||
			    strncmp(name, "seed-15", 7) == 0)
				shared_one(name, seed13 ? seed13 : "",
				    strncmp(name, "seed-15", 7) == 0 ? rule :
				    "", 1);
			else if (strncmp(name, "seed-24", 7) == 0)
				shared_one(name, "pki mx1.poolp.org certificate "
				    "\"/etc/ssl/mx1.crt\"\npki mx1.poolp.org key "
				    "\"/etc/ssl/mx1.key\"\n", rule, 1);
			else
				shared_one(name, "", rule, 1);
		}
	}
	free(list);
	free(seed13);
}

/* load_text - TEXT (with /etc/ paths moved under tmpdir) as a file */
static struct smtpd_conf *
load_text(const char *name, const char *text, char *first, size_t firstsz)
{
	struct smtpd_conf	*c;
	char			 path[512], *re;

	re = rewrite(text);
	snprintf(path, sizeof(path), "%s/run/%s", tmpdir, name);
	write_file(path, re);
	free(re);
	c = load(path, first, firstsz);
	if (first)
		memmove(first, strip_dir(first, tmpdir),
		    strlen(strip_dir(first, tmpdir)) + 1);
	return c;
}

/*
 * table_files - file: and db: tables are opened by the table layer at
 * parse time: a bad file is a FILE:LINE error, a file's shape is checked
 * against its use, a db only against its service (as 6.8 does).
 */
static void
table_files(void)
{
	static const struct {
		const char	*name;
		const char	*conf;
		const char	*want;	/* NULL: parses; else first error */
	} cases[] = {
		{ "file list for domain", "table d file:/etc/mail/list\n"
		    "match from any for domain <d> reject\n", NULL },
		{ "file map for alias", "table a \"/etc/mail/map\"\n", NULL },
		{ "file list refused for alias", "table a file:/etc/mail/list\n"
		    "action \"l\" mbox alias <a>\n",
		    "run/t.conf:2: table \"a\" may not be used for alias "
		    "lookups" },
		{ "file map refused for domain", "table d file:/etc/mail/map\n"
		    "match from any for domain <d> reject\n",
		    "run/t.conf:2: table \"d\" may not be used for domain "
		    "lookups" },
		{ "empty file fits a list use", "table d file:/etc/mail/empty\n"
		    "match from any for domain <d> reject\n", NULL },
		{ "missing file", "table a file:/etc/mail/nosuch\n",
		    "run/t.conf:1: table \"a\": /etc/mail/nosuch: No such "
		    "file or directory" },
		{ "binary file", "table a file:/etc/mail/binary\n",
		    "run/t.conf:1: table \"a\": /etc/mail/binary:2: binary "
		    "data (byte 0x01 at column 2)" },
		{ "map line without value", "table a file:/etc/mail/novalue\n",
		    "run/t.conf:1: table \"a\": /etc/mail/novalue:2:" },
		{ "db map for alias", "table a db:/etc/mail/map.db\n"
		    "action \"l\" mbox alias <a>\n", NULL },
		{ "db set for domain", "table d db:/etc/mail/set.db\n"
		    "match from any for domain <d> reject\n", NULL },
		{ "db map for domain (6.8: dynamic tables keep no shape)",
		    "table d db:/etc/mail/map.db\n"
		    "match from any for domain <d> reject\n", NULL },
		{ "text file as db", "table a db:/etc/mail/map\n",
		    "run/t.conf:1: table \"a\": /etc/mail/map: not a Berkeley "
		    "DB hash or btree file" },
		{ "missing db", "table a db:/etc/mail/nosuch.db\n",
		    "run/t.conf:1: table \"a\": /etc/mail/nosuch.db: No such "
		    "file or directory" },
	};
	struct smtpd_conf	*c;
	char			 path[512], text[1024], first[1024], what[2048];
	char			 want[1024];
	size_t			 i;

	snprintf(path, sizeof(path), "%s/etc/mail/list", tmpdir);
	write_file(path, "# domains\nexample.org\n*.example.net\n");
	snprintf(path, sizeof(path), "%s/etc/mail/map", tmpdir);
	write_file(path, "root: alice\npostmaster alice, bob\n");
	snprintf(path, sizeof(path), "%s/etc/mail/empty", tmpdir);
	write_file(path, "# nothing yet\n");
	snprintf(path, sizeof(path), "%s/etc/mail/binary", tmpdir);
	write_file(path, "a b\nc\001 d\n");
	snprintf(path, sizeof(path), "%s/etc/mail/novalue", tmpdir);
	write_file(path, "root alice\npostmaster\n");
	snprintf(path, sizeof(path), "%s/etc/mail/map", tmpdir);
	CHECK(db_make(path, "etc/mail/map.db", 0) == 0 &&
	    db_make(path, "etc/mail/set.db", 1) == 0, "db fixtures made");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%smatch from any for local "
		    "reject\n", cases[i].conf);
		c = load_text("t.conf", text, first, sizeof(first));
		if (cases[i].want == NULL) {
			snprintf(what, sizeof(what), "tables: %s: parses %s",
			    cases[i].name, first);
			CHECK(c != NULL, what);
		} else {
			/* messages name the file under tmpdir: strip it */
			snprintf(want, sizeof(want), "%s", cases[i].want);
			unroot(first);
			snprintf(what, sizeof(what), "tables: %s: %s",
			    cases[i].name, first);
			CHECK(c == NULL && strncmp(first, want,
			    strlen(want)) == 0, what);
		}
		conf_free(&c);
	}
}

/*
 * pki_files - every pki's certificate and key, and every ca bundle, are
 * loaded at the end of the parse as 6.8 loads them for -n and at start:
 * errors name the file:line of the declaration (CONF-06, TLS-01)
 */
static void
pki_files(void)
{
	static const struct {
		const char	*name;
		const char	*conf;
		const char	*want;	/* NULL: parses; else first error */
	} cases[] = {
		{ "good pki", "pki x cert \"/etc/ssl/t.crt\"\n"
		    "pki x key \"/etc/ssl/private/t.key\"\n", NULL },
		{ "key readable by its group (6.8: at most 0740)",
		    "pki x cert \"/etc/ssl/t.crt\"\n"
		    "pki x key \"/etc/ssl/private/g.key\"\n", NULL },
		{ "missing certificate", "pki x cert \"/etc/ssl/nosuch.crt\"\n"
		    "pki x key \"/etc/ssl/private/t.key\"\n",
		    "run/t.conf:1: pki x: certificate /etc/ssl/nosuch.crt: No "
		    "such file or directory" },
		{ "missing key", "pki x cert \"/etc/ssl/t.crt\"\n"
		    "pki x key \"/etc/ssl/private/nosuch.key\"\n",
		    "run/t.conf:2: pki x: key /etc/ssl/private/nosuch.key: No "
		    "such file or directory" },
		{ "key readable by others", "pki x cert \"/etc/ssl/t.crt\"\n"
		    "pki x key \"/etc/ssl/private/open.key\"\n",
		    "run/t.conf:2: pki x: key /etc/ssl/private/open.key: "
		    "insecure permissions 0644, must be at most 0740" },
		{ "certificate writable by others",
		    "pki x cert \"/etc/ssl/open.crt\"\n"
		    "pki x key \"/etc/ssl/private/t.key\"\n",
		    "run/t.conf:1: pki x: certificate /etc/ssl/open.crt: "
		    "insecure permissions 0666, must be at most 0755" },
		{ "no key declared", "pki x cert \"/etc/ssl/t.crt\"\n",
		    "run/t.conf:1: pki x: no key (pki x key FILE)" },
		{ "certificate that is not PEM",
		    "pki x cert \"/etc/ssl/garbage.crt\"\n"
		    "pki x key \"/etc/ssl/private/t.key\"\n",
		    "run/t.conf:1: pki x: certificate /etc/ssl/garbage.crt "
		    "with its key: " },
		{ "key of another certificate",
		    "pki x cert \"/etc/ssl/t.crt\"\n"
		    "pki x key \"/etc/ssl/private/other.key\"\n",
		    "run/t.conf:1: pki x: certificate /etc/ssl/t.crt with its "
		    "key: " },
		{ "pki in an included file", "include \"/etc/ssl/inc.conf\"\n",
		    "etc/ssl/inc.conf:2: pki y: key /etc/ssl/private/open.key: "
		    "insecure permissions" },
		{ "good ca", "ca c cert \"/etc/ssl/t.crt\"\n", NULL },
		{ "missing ca", "ca c cert \"/etc/ssl/nosuch.pem\"\n",
		    "run/t.conf:1: ca c: /etc/ssl/nosuch.pem: No such file" },
		{ "ca that is not PEM", "ca c cert \"/etc/ssl/garbage.crt\"\n",
		    "run/t.conf:1: ca c: /etc/ssl/garbage.crt: no PEM "
		    "certificate in the file" },
		{ "unused pki still loaded (as 6.8)",
		    "pki z cert \"/etc/ssl/nosuch.crt\"\n"
		    "pki z key \"/etc/ssl/private/t.key\"\n",
		    "run/t.conf:1: pki z: certificate" },
	};
	struct smtpd_conf	*c;
	char			 path[512], text[1024], first[1024], what[2048];
	char			*re;
	size_t			 i;

	copy_to_mode("etc/ssl/base.crt", "etc/ssl/t.crt", 0644);
	copy_to_mode("etc/ssl/base.crt", "etc/ssl/open.crt", 0666);
	copy_to_mode("etc/ssl/base.key", "etc/ssl/private/t.key", 0600);
	copy_to_mode("etc/ssl/base.key", "etc/ssl/private/g.key", 0640);
	copy_to_mode("etc/ssl/base.key", "etc/ssl/private/open.key", 0644);
	snprintf(path, sizeof(path), "%s/etc/ssl/garbage.crt", tmpdir);
	write_file(path, "this is not a certificate\n");
	snprintf(path, sizeof(path), "%s/etc/ssl/inc.conf", tmpdir);
	re = rewrite("pki y cert \"/etc/ssl/t.crt\"\n"
	    "pki y key \"/etc/ssl/private/open.key\"\n");
	write_file(path, re);
	free(re);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%saction \"l\" mbox\n"
		    "match for local action \"l\"\n", cases[i].conf);
		c = load_text("t.conf", text, first, sizeof(first));
		unroot(first);
		snprintf(what, sizeof(what), "pki: %s: %s", cases[i].name,
		    *first ? first : "parses");
		if (cases[i].want == NULL)
			CHECK(c != NULL, what);
		else
			CHECK(c == NULL && strncmp(first, cases[i].want,
			    strlen(cases[i].want)) == 0, what);
		conf_free(&c);
	}
	if (geteuid() == 0) {
		/* as root, 6.8 also wants the files owned by root */
		snprintf(path, sizeof(path), "%s/etc/ssl/private/t.key", tmpdir);
		if (chown(path, 65534, (gid_t)-1) == 0) {
			c = load_text("t.conf", "pki x cert \"/etc/ssl/t.crt\"\n"
			    "pki x key \"/etc/ssl/private/t.key\"\n"
			    "action \"l\" mbox\nmatch for local action "
			    "\"l\"\n", first, sizeof(first));
			unroot(first);
			CHECK(c == NULL && strcmp(first, "run/t.conf:2: pki x: "
			    "key /etc/ssl/private/t.key: not owned by root") ==
			    0, "pki: key not owned by root refused when root");
			conf_free(&c);
		}
	}
}

/* tls_pki_dumped - a pki mx.test, a TLS listener without pki whose
 * hostname is mx.test, and RULE: loaded, the listener has that pki */
static int
tls_pki_dumped(const char *rule)
{
	struct smtpd_conf	*c;
	char			 text[1024], first[1024], *d;
	int			 ok;

	snprintf(text, sizeof(text), "pki mx.test cert \"/etc/ssl/t.crt\"\n"
	    "pki mx.test key \"/etc/ssl/private/l.key\"\n"
	    "listen on lo tls hostname mx.test\n%s", rule);
	c = load_text("t.conf", text, first, sizeof(first));
	d = c ? dump(c) : NULL;
	ok = d && strstr(d, "listen on lo tls pki mx.test hostname") != NULL;
	free(d);
	conf_free(&c);
	return ok;
}

/*
 * legacy_tls - a legacy TLS listener given neither `certificate` nor
 * `pki` uses the pki named like its host name (the server name unless
 * `hostname` is given), as 5.4-6.0 did (smtpd-conf.md 11.3); a modern
 * one the pki named like its host name, else the catch-all "*", as 6.x
 * did, and is refused without either (7.x refuses all)
 */
static void
legacy_tls(void)
{
	struct smtpd_conf	*c;
	char			 server[256], text[2048], first[1024], *d;
	const char		*pki = "pki %s cert \"/etc/ssl/t.crt\"\n"
				    "pki %s key \"/etc/ssl/private/l.key\"\n";
	char			 decl[512];
	FILE			*fp;

	copy_to_mode("etc/ssl/base.key", "etc/ssl/private/l.key", 0600);
	server[0] = '\0';
	if ((fp = fopen("/etc/mail/mailname", "r")) != NULL) {
		if (fgets(server, sizeof(server), fp) == NULL)
			server[0] = '\0';
		fclose(fp);
		server[strcspn(server, " \t\r\n")] = '\0';
	}
	if (server[0] == '\0' && gethostname(server, sizeof(server)) == -1)
		snprintf(server, sizeof(server), "localhost");

	CHECK(tls_pki_dumped("accept for local deliver to mbox\n"),
	    "legacy tls: the pki named like the listener's hostname");

	snprintf(decl, sizeof(decl), pki, server, server);
	snprintf(text, sizeof(text), "%slisten on lo secure\n"
	    "accept for local deliver to mbox\n", decl);
	c = load_text("t.conf", text, first, sizeof(first));
	CHECK(c && c->nlisteners == 3 && c->listeners[0]->npki == 1 &&
	    strcmp(c->listeners[0]->pki[0], server) == 0 &&
	    c->listeners[1]->npki == 1 &&
	    strcmp(c->listeners[1]->pki[0], server) == 0,
	    "legacy tls: secure (25 and 465) uses the server name's pki");
	conf_free(&c);

	c = load_text("t.conf", "listen on lo tls hostname mx.nope\n"
	    "accept for local deliver to mbox\n", first, sizeof(first));
	CHECK(c == NULL && strncmp(first, "run/t.conf:1: TLS listener without "
	    "certificate: no pki named mx.nope or ", 54) == 0,
	    "legacy tls: no such pki is an error at the listen line");
	conf_free(&c);

	/* modern grammar, as 6.x (TLS-04): the pki named like the
	 * listener's host name, else the catch-all "*", else refused */
	CHECK(tls_pki_dumped("match for local reject\n"),
	    "modern tls: the pki named like the listener's hostname (6.x)");

	snprintf(decl, sizeof(decl), pki, "\"*\"", "\"*\"");
	snprintf(text, sizeof(text), "%s" "pki mx.test cert "
	    "\"/etc/ssl/t.crt\"\npki mx.test key \"/etc/ssl/private/l.key\"\n"
	    "listen on lo tls hostname mx.nope\nlisten on lo port 26 smtps\n"
	    "listen on lo port 27 tls pki mx.test\n"
	    "match for local reject\n", decl);
	c = load_text("t.conf", text, first, sizeof(first));
	CHECK(c && c->nlisteners >= 3 && c->listeners[0]->npki == 1 &&
	    strcmp(c->listeners[0]->pki[0], "*") == 0 &&
	    c->listeners[1]->npki == 1 &&
	    strcmp(c->listeners[1]->pki[0], "*") == 0 &&
	    c->listeners[2]->npki == 1 &&
	    strcmp(c->listeners[2]->pki[0], "mx.test") == 0,
	    "modern tls: no pki named like it: the catch-all \"*\" (6.x); "
	    "a pki given is kept");
	d = c ? dump(c) : NULL;
	CHECK(d && strstr(d, "pki \"*\"") != NULL,
	    "modern tls: the catch-all is dumped quoted");
	free(d);
	if (c != NULL)
		CHECK(check_roundtrip(c, first, sizeof(first)),
		    "modern tls: the catch-all's dump parses back the same");
	conf_free(&c);

	snprintf(decl, sizeof(decl), pki, "mx.other", "mx.other");
	snprintf(text, sizeof(text), "%slisten on lo tls hostname mx.test\n"
	    "match for local reject\n", decl);
	c = load_text("t.conf", text, first, sizeof(first));
	CHECK(c == NULL && strcmp(first, "run/t.conf:3: pki required for "
	    "tls/smtps: no pki named mx.test, nor \"*\"") == 0,
	    "modern tls: no pki of its name and no catch-all: refused (7.x)");
	conf_free(&c);
}

/* cli - "-n [-v] -f FILE": what smtpd -n prints */
static int
cli(int argc, char *argv[])
{
	struct smtpd_conf	*c;
	const char		*file = NULL;
	int			 i, verbose = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			file = argv[++i];
	}
	if (file == NULL) {
		fprintf(stderr, "usage: conf_corpus_test -n [-v] -f FILE\n");
		return 2;
	}
	if ((c = conf_load(file, NULL, 0, stderr, test_libexec)) == NULL)
		return 1;
	if (verbose)
		conf_dump(stdout, c);
	printf("configuration OK\n");
	conf_free(&c);
	return 0;
}

int
main(int argc, char *argv[])
{
	test_build_path("libexec", test_libexec, sizeof test_libexec);
	if (argc > 1)
		return cli(argc, argv);
	if (!CHECK(tmp_make() == 0, "temporary root created"))
		return test_done();
	project_corpus();
	table_files();
	pki_files();
	legacy_tls();
	shared_corpus();
	rm_tree(tmpdir);
	return test_done();
}
