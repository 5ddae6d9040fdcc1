/*
 * compat_driver.c -- a table driver written the way OpenSMTPD's extras
 * drivers are, to prove that such drivers build and link against our
 * api/ unmodified (issue 7.2).
 *
 * It includes only "smtpd-api.h" (and the C library), keeps its state
 * in file-scope variables, registers callbacks with table_api_on_*,
 * and between its loading, its answers and its start-up checks uses
 * every helper the extras glue gives a driver: the dict_* and tree_*
 * families (iteration in key order), the x-allocators, strip,
 * lowercase, base64, the evpid helpers, log_* (log_trace too) and
 * fatal*, K_*, UID_MAX/GID_MAX and the SMTPD_MAX*PARTSIZE limits, and
 * the glue's smtpd-defines.h and log.h (nitems, TRACE_*, SMTPD_USER,
 * TAG_CHAR; api/compat/).  The Makefile
 * compiles it with api/ alone on the include path; the test
 * (test_compat_driver.py) runs it under the daemon as `table-compat`.
 *
 * Data file: "key value" (key lower-cased, a value "b64:..." is
 * decoded), "@HEXEVPID value" (id-keyed), "!key" or "!@HEXEVPID"
 * removes an earlier line.  A later duplicate replaces the earlier one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* as extras' table_postgres.c: the glue's three headers, this order */
#include "smtpd-defines.h"
#include "smtpd-api.h"
#include "log.h"

static const char	*config;
static struct dict	 entries;	/* key -> value */
static struct tree	 ids;		/* evpid -> value */
static void		*fetch_iter;	/* fetch rotation over entries */

/* compat_line - one line of the data file into D and T; 0 if bad */
static int
compat_line(char *buf, struct dict *d, struct tree *t)
{
	char		 key[SMTPD_MAXLOCALPARTSIZE], *line, *val, *dec;
	uint64_t	 id;
	void		*old;
	int		 n;

	line = strip(buf);
	if (*line == '\0' || *line == '#')
		return 1;
	if (*line == '!') {
		line = strip(line + 1);
		if (*line == '@')
			free(tree_pop(t, strtoull(line + 1, NULL, 16)));
		else
			free(dict_pop(d, line));
		return 1;
	}
	if ((val = strpbrk(line, " \t")) == NULL) {
		log_warnx("warn: no value for \"%s\"", line);
		return 0;
	}
	*val++ = '\0';
	val = strip(val);
	if (strncmp(val, "b64:", 4) == 0) {
		dec = xcalloc(1, strlen(val), "compat_line");
		if ((n = base64_decode(val + 4, (unsigned char *)dec,
		    strlen(val))) == -1) {
			log_warnx("warn: bad base64 for \"%s\"", line);
			free(dec);
			return 0;
		}
		val = xmemdup(dec, n + 1, "compat_line");
		val[n] = '\0';
		free(dec);
	} else
		val = xstrdup(val, "compat_line");
	if (*line == '@') {
		id = strtoull(line + 1, NULL, 16);
		if (tree_check(t, id)) {
			old = tree_set(t, id, val);
			log_warnx("warn: id %016llx again, the last wins",
			    (unsigned long long)id);
			free(old);
		} else
			tree_xset(t, id, val);
		return 1;
	}
	if (!lowercase(key, line, sizeof(key))) {
		log_warnx("warn: key too long");
		free(val);
		return 0;
	}
	if (dict_check(d, key)) {
		log_warnx("warn: key \"%s\" again, the last wins", key);
		free(dict_set(d, key, val));
	} else
		dict_xset(d, key, val);
	return 1;
}

/* compat_load - the data file into fresh D and T; 0 on failure */
static int
compat_load(struct dict *d, struct tree *t)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 sz = 0;
	ssize_t	 len;
	int	 ok = 1;

	if ((fp = fopen(config, "r")) == NULL) {
		log_warn("warn: \"%s\"", config);
		return 0;
	}
	while (ok && (len = getline(&buf, &sz, fp)) != -1) {
		if (len > 0 && buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		ok = compat_line(buf, d, t);
	}
	free(buf);
	fclose(fp);
	return ok;
}

/* compat_drain - free every value, both ways the glue offers */
static void
compat_drain(struct dict *d, struct tree *t, int by_root)
{
	const char	*k;
	uint64_t	 id;
	void		*v;

	if (by_root) {
		while (!dict_empty(d)) {
			dict_root(d, &k, &v);
			free(dict_xpop(d, k));
		}
		while (!tree_empty(t)) {
			tree_root(t, &id, &v);
			free(tree_xpop(t, id));
		}
		return;
	}
	while (dict_poproot(d, &v))
		free(v);
	while (tree_poproot(t, &id, &v))
		free(v);
}

/* compat_update - reload: the old content stays if the file is bad */
static int
compat_update(void)
{
	struct dict	fresh;
	struct tree	fresh_ids;

	dict_init(&fresh);
	tree_init(&fresh_ids);
	if (!compat_load(&fresh, &fresh_ids)) {
		compat_drain(&fresh, &fresh_ids, 0);
		return 0;
	}
	compat_drain(&entries, &ids, 1);
	dict_merge(&entries, &fresh);
	tree_merge(&ids, &fresh_ids);
	fetch_iter = NULL;
	if (dict_empty(&entries))
		log_warnx("warn: table %s is empty", table_api_get_name());
	log_info("info: %zu entries, %zu ids", dict_count(&entries),
	    tree_count(&ids));
	return 1;
}

/* compat_join - keys of entries (from FROM, if set) joined by ',' */
static int
compat_join(const char *from, char *dst, size_t sz)
{
	const char	*k;
	void		*iter = NULL, *v;
	size_t		 len = 0;
	int		 more;

	dst[0] = '\0';
	for (;;) {
		more = from != NULL ?
		    dict_iterfrom(&entries, &iter, from, &k, &v) :
		    dict_iter(&entries, &iter, &k, &v);
		if (!more)
			return 1;
		if (len + strlen(k) + 2 > sz)
			return -1;
		len += snprintf(dst + len, sz - len, "%s%s", len ? "," : "", k);
	}
}

/* compat_ids - every id, in order, joined by ',' */
static int
compat_ids(char *dst, size_t sz)
{
	uint64_t	 id;
	void		*iter = NULL, *v;
	size_t		 len = 0;

	dst[0] = '\0';
	while (tree_iter(&ids, &iter, &id, &v)) {
		if (len + 18 > sz)
			return -1;
		len += snprintf(dst + len, sz - len, "%s%016llx",
		    len ? "," : "", (unsigned long long)id);
	}
	return 1;
}

/* compat_evp - the value of an envelope, else of its message's first */
static int
compat_evp(const char *hex, char *dst, size_t sz)
{
	uint64_t	 evpid = strtoull(hex, NULL, 16), id;
	void		*iter = NULL, *v;

	if (tree_check(&ids, evpid))
		v = tree_xget(&ids, evpid);
	else if (!tree_iterfrom(&ids, &iter,
	    msgid_to_evpid(evpid_to_msgid(evpid)), &id, &v) ||
	    evpid_to_msgid(id) != evpid_to_msgid(evpid))
		return 0;
	return strlcpy(dst, v, sz) < sz ? 1 : -1;
}

/* compat_b64 - encode the text after "b64:" */
static int
compat_b64(const char *text, char *dst, size_t sz)
{
	size_t	 need = (strlen(text) + 2) / 3 * 4 + 1;
	char	*out = xmalloc(need, "compat_b64");
	int	 r;

	r = base64_encode((const unsigned char *)text, strlen(text), out,
	    need) == -1 ? -1 : 1;
	if (r == 1 && strlcpy(dst, out, sz) >= sz)
		r = -1;
	free(out);
	return r;
}

/* compat_userinfo - "uid:gid:home", ids checked against UID/GID_MAX */
static int
compat_userinfo(const char *v, char *dst, size_t sz)
{
	unsigned long long	 uid, gid;
	char			*end;

	errno = 0;
	uid = strtoull(v, &end, 10);
	if (errno || *end != ':' || uid > UID_MAX)
		return -1;
	gid = strtoull(end + 1, &end, 10);
	if (errno || *end != ':' || gid > GID_MAX)
		return -1;
	return strlcpy(dst, v, sz) < sz ? 1 : -1;
}

static int
compat_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	const char	*k;
	void		*v;

	static const int	 bits[] = { TRACE_IO, TRACE_TABLES };

	log_debug("debug: lookup %d \"%s\"", service, key);
	/* computed answers ("=..."), so the test sees each helper */
	if (service == K_CREDENTIALS && key[0] == '=') {
		key++;
		if (strcmp(key, "defines") == 0)
			return snprintf(dst, sz, "%zu %#x %s %c", nitems(bits),
			    bits[1], SMTPD_USER, TAG_CHAR) < (int)sz ? 1 : -1;
		if (strcmp(key, "name") == 0)
			return strlcpy(dst, table_api_get_name(), sz) < sz ? 1 : -1;
		if (strcmp(key, "first") == 0) {
			if (!dict_root(&entries, &k, &v))
				return 0;
			return strlcpy(dst, k, sz) < sz ? 1 : -1;
		}
		if (strcmp(key, "keys") == 0)
			return compat_join(NULL, dst, sz);
		if (strncmp(key, "keysfrom.", 9) == 0)
			return compat_join(key + 9, dst, sz);
		if (strcmp(key, "ids") == 0)
			return compat_ids(dst, sz);
		if (strncmp(key, "evp.", 4) == 0)
			return compat_evp(key + 4, dst, sz);
		if (strncmp(key, "b64.", 4) == 0)
			return compat_b64(key + 4, dst, sz);
		return 0;
	}
	switch (service) {
	case K_ALIAS:
	case K_CREDENTIALS:
	case K_MAILADDRMAP:
	case K_USERINFO:
		if (!dict_check(&entries, key))
			return 0;
		v = dict_xget(&entries, key);
		if (service == K_USERINFO)
			return compat_userinfo(v, dst, sz);
		return strlcpy(dst, v, sz) < sz ? 1 : -1;
	default:
		log_warnx("warn: unsupported service %d", service);
		return -1;
	}
}

static int
compat_check(int service, struct dict *params, const char *key)
{
	const char	*at;

	switch (service) {
	case K_DOMAIN:
		if (strlen(key) >= SMTPD_MAXDOMAINPARTSIZE)
			return -1;
		return dict_check(&entries, key);
	case K_MAILADDR:
		if ((at = strchr(key, '@')) == NULL ||
		    (size_t)(at - key) >= SMTPD_MAXLOCALPARTSIZE ||
		    strlen(at + 1) >= SMTPD_MAXDOMAINPARTSIZE)
			return -1;
		return dict_check(&entries, key);
	default:
		return -1;
	}
}

static int
compat_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	const char	*k;
	void		*v;

	if (service != K_SOURCE)
		return -1;
	if (!dict_iter(&entries, &fetch_iter, &k, &v)) {
		fetch_iter = NULL;
		if (!dict_iter(&entries, &fetch_iter, &k, &v))
			return 0;
	}
	return strlcpy(dst, v, sz) < sz ? 1 : -1;
}

int
main(int argc, char **argv)
{
	int	ch;

	log_init(1);
	/* log_trace logs when the verbosity mask has its bit */
	log_verbose(TRACE_TABLES);
	log_trace(TRACE_TABLES, "trace: tables bit set");
	log_trace(TRACE_IO, "trace: io bit set");
	log_verbose(0);
	log_trace(TRACE_TABLES, "trace: after verbosity 0");
	while ((ch = getopt(argc, argv, "v")) != -1) {
		switch (ch) {
		case 'v':
			log_verbose(1);
			break;
		default:
			fatalx("bad option");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		fatalx("bogus argument(s)");
	config = argv[0];
	if (access(config, R_OK) == -1)
		fatal("%s", config);
	dict_init(&entries);
	tree_init(&ids);
	if (compat_update() == 0)
		fatalx("error parsing config file");
	log_debug("debug: table protocol %d", PROC_TABLE_API_VERSION);

	table_api_on_update(compat_update);
	table_api_on_check(compat_check);
	table_api_on_lookup(compat_lookup);
	table_api_on_fetch(compat_fetch);
	table_api_dispatch();
	return 0;
}
