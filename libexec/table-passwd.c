/*
 * table-passwd.c -- table-passwd: a table helper over a passwd(5) file.
 *
 * Started by the daemon's lookup process as table-passwd <file>.  Each
 * line is name:password:uid:gid:gecos:home:shell, possibly followed by
 * more fields (Dovecot-style files); '#' lines and blank lines are
 * skipped.  It serves two services: credentials ("name:password") and
 * userinfo ("uid:gid:home"); anything else is answered -1, as the
 * extras table-passwd does.  The file is read whole at startup and on
 * UPDATE; a malformed line makes the (re)load fail, and a failed reload
 * keeps the previous contents.  Lookups never exit the helper.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd-api.h"

#define TABLE_PASSWD_FIELDS	7	/* the passwd(5) fields we need */

struct table_passwd_entry {
	char	*line;		/* owned copy, split in place */
	char	*name;
	char	*pw;
	char	*uid;
	char	*gid;
	char	*home;
};

static struct dict	table_passwd;	/* name -> struct table_passwd_entry */

/* table_passwd_entry_free - release one entry (dict callback) */
static void
table_passwd_entry_free(void *p)
{
	struct table_passwd_entry	*e = p;

	if (e == NULL)
		return;
	free(e->line);
	free(e);
}

/* table_passwd_id - a decimal uid/gid that fits in 32 bits */
static int
table_passwd_id(const char *s)
{
	char			*end;
	unsigned long long	 v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && v < 0xffffffffULL;
}

/* table_passwd_parse - split one passwd line; NULL when malformed */
static struct table_passwd_entry *
table_passwd_parse(const char *line)
{
	struct table_passwd_entry	*e;
	char				*f[TABLE_PASSWD_FIELDS], *p;
	size_t				 i;

	if ((e = calloc(1, sizeof *e)) == NULL)
		return NULL;
	if ((e->line = strdup(line)) == NULL) {
		free(e);
		return NULL;
	}
	p = e->line;
	for (i = 0; i < TABLE_PASSWD_FIELDS; i++) {
		if ((f[i] = strsep(&p, ":")) == NULL)
			break;
	}
	/* fields after the seventh (extra Dovecot data) are ignored */
	if (i < TABLE_PASSWD_FIELDS || *f[0] == '\0' ||
	    !table_passwd_id(f[2]) || !table_passwd_id(f[3]) ||
	    *f[5] == '\0') {
		table_passwd_entry_free(e);
		errno = EINVAL;
		return NULL;
	}
	e->name = f[0];
	e->pw = f[1];
	e->uid = f[2];
	e->gid = f[3];
	e->home = f[5];
	return e;
}

/* table_passwd_load_line - one passwd(5) line into the dict */
static int
table_passwd_load_line(char *line, size_t lineno, void *arg)
{
	struct table_passwd_entry	*e;
	struct dict			*out = arg;
	int				 err;

	if (line[0] == '\0' || line[0] == '#')
		return 0;
	if ((e = table_passwd_parse(line)) == NULL) {
		api_log_warnx("%s:%zu: invalid passwd entry", api_conf_path(),
		    lineno);
		return -1;
	}
	if (api_dict_check(out, e->name)) {
		/* getpwnam(3) semantics: the first entry wins */
		table_passwd_entry_free(e);
		return 0;
	}
	api_dict_set(out, e->name, e, &err);
	if (err == -1) {
		table_passwd_entry_free(e);
		api_log_warn("%s: dict", api_conf_path());
		return -1;
	}
	return 0;
}

/* table_passwd_load - read path into out; 0, or -1 with out empty */
static int
table_passwd_load(const char *path, struct dict *out)
{
	api_dict_init(out);
	if (api_file_lines(path, table_passwd_load_line, out) == -1) {
		api_dict_clear(out, table_passwd_entry_free);
		return -1;
	}
	return 0;
}

/* table_passwd_update - UPDATE: reread the file, keep old on failure */
static int
table_passwd_update(void)
{
	struct dict	fresh;

	if (table_passwd_load(api_conf_path(), &fresh) == -1) {
		api_log_warnx("table-passwd: %s: reload failed, keeping the "
		    "previous contents", api_conf_path());
		return 0;
	}
	api_dict_clear(&table_passwd, table_passwd_entry_free);
	table_passwd = fresh;
	return 1;
}

/* table_passwd_lookup - LOOKUP credentials or userinfo */
static int
table_passwd_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	struct table_passwd_entry	*e;
	int				 n;

	switch (service) {
	case K_CREDENTIALS:
	case K_USERINFO:
		break;
	default:
		api_log_warnx("table-passwd: unknown service %d", service);
		return -1;
	}
	if ((e = api_dict_get(&table_passwd, key)) == NULL)
		return 0;
	if (service == K_CREDENTIALS)
		n = snprintf(dst, sz, "%s:%s", e->name, e->pw);
	else
		n = snprintf(dst, sz, "%s:%s:%s", e->uid, e->gid, e->home);
	if (n < 0 || (size_t)n >= sz) {
		api_log_warnx("table-passwd: value for %s too long", key);
		return -1;
	}
	return 1;
}

/* table_passwd_check - CHECK is not a passwd operation: -1 */
static int
table_passwd_check(int service, struct dict *params, const char *key)
{
	return -1;
}

/* table_passwd_fetch - FETCH is not a passwd operation: -1 */
static int
table_passwd_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	return -1;
}

int
main(int argc, char *argv[])
{
	if (api_init("table-passwd", argc, argv) == -1)
		return 1;
	if (table_passwd_load(api_conf_path(), &table_passwd) == -1)
		api_fatalx("%s: unusable passwd file", api_conf_path());
	table_api_on_update(table_passwd_update);
	table_api_on_check(table_passwd_check);
	table_api_on_lookup(table_passwd_lookup);
	table_api_on_fetch(table_passwd_fetch);
	return table_api_dispatch();
}
