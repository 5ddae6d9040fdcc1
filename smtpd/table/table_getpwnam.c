/*
 * table_getpwnam.c -- the getpwnam backend: system users as userinfo.
 *
 * `table NAME getpwnam` and the built-in <getpwnam> table, the default
 * userbase: looking up a user name answers "uid:gid:home" from the
 * system passwd database (getpwnam(3), so NSS sources count too).  Only
 * the userinfo service is served, as in OpenSMTPD 6.8: credentials are
 * checked by the parent, which alone may read hashed passwords.  Runs
 * in the lookup process.  A failing passwd lookup (not "no such user")
 * is a temporary failure; nothing here is fatal.  Written against api/
 * only (table_backends.h); its context is the table's name, for logs.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_log.h"
#include "table_backends.h"

struct table_getpwnam {
	char	name[TABLE_NAME_MAX];
};

/* table_getpwnam_open - backend open: nothing to load */
static void *
table_getpwnam_open(const char *tname, const char *config, char *err,
    size_t errsz)
{
	struct table_getpwnam	*g;

	if ((g = calloc(1, sizeof *g)) == NULL) {
		snprintf(err, errsz, "table \"%s\": out of memory", tname);
		return NULL;
	}
	(void)snprintf(g->name, sizeof g->name, "%s", tname);
	return g;
}

/* table_getpwnam_close - backend close */
static void
table_getpwnam_close(void *ctx)
{
	free(ctx);
}

/* table_getpwnam_lookup - "uid:gid:home" of the user KEY */
static int
table_getpwnam_lookup(void *ctx, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	struct table_getpwnam	*t = ctx;
	struct passwd		*pw;
	int			 r;

	if (service != K_USERINFO)
		return -1;
	errno = 0;
	pw = getpwnam(key);
	if (pw == NULL) {
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			return 0;
		api_log_warn("table %s: getpwnam \"%s\"", t->name, key);
		return -1;
	}
	if (dst == NULL)
		return 1;
	r = snprintf(dst, dstsz, "%lu:%lu:%s", (unsigned long)pw->pw_uid,
	    (unsigned long)pw->pw_gid, pw->pw_dir);
	if (r < 0 || (size_t)r >= dstsz) {
		api_log_warnx("table %s: home of \"%s\" too long", t->name, key);
		return -1;
	}
	return 1;
}

/* table_getpwnam_check - is KEY a system user */
static int
table_getpwnam_check(void *ctx, enum table_service service,
    const char *key)
{
	return table_getpwnam_lookup(ctx, service, key, NULL, 0);
}

const struct table_backend table_backend_getpwnam = {
	.version = TABLE_BACKEND_V1,
	.name = "getpwnam",
	.services = K_USERINFO,
	.open = table_getpwnam_open,
	.close = table_getpwnam_close,
	.lookup = table_getpwnam_lookup,
	.check = table_getpwnam_check,
};
