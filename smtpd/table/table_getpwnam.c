/*
 * table_getpwnam.c -- the getpwnam backend: system users as userinfo.
 *
 * `table NAME getpwnam` and the built-in <getpwnam> table, the default
 * userbase: looking up a user name answers "uid:gid:home" from the
 * system passwd database (getpwnam(3), so NSS sources count too).  Only
 * the userinfo service is served, as in OpenSMTPD 6.8: credentials are
 * checked by the parent, which alone may read hashed passwords.  Runs
 * in the lookup process.  A failing passwd lookup (not "no such user")
 * is a temporary failure; nothing here is fatal.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "table.h"

/* table_getpwnam_lookup - "uid:gid:home" of the user KEY */
static int
table_getpwnam_lookup(struct table *t, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	struct passwd	*pw;
	int		 r;

	if (service != K_USERINFO)
		return -1;
	errno = 0;
	pw = getpwnam(key);
	if (pw == NULL) {
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			return 0;
		log_warn("table %s: getpwnam \"%s\"", t->name, key);
		return -1;
	}
	if (dst == NULL)
		return 1;
	r = snprintf(dst, dstsz, "%lu:%lu:%s", (unsigned long)pw->pw_uid,
	    (unsigned long)pw->pw_gid, pw->pw_dir);
	if (r < 0 || (size_t)r >= dstsz) {
		log_warnx("table %s: home of \"%s\" too long", t->name, key);
		return -1;
	}
	return 1;
}

/* table_getpwnam_check - is KEY a system user */
static int
table_getpwnam_check(struct table *t, enum table_service service,
    const char *key)
{
	return table_getpwnam_lookup(t, service, key, NULL, 0);
}

const struct table_backend table_backend_getpwnam = {
	.version = TABLE_BACKEND_V1,
	.name = "getpwnam",
	.services = K_USERINFO,
	.lookup = table_getpwnam_lookup,
	.check = table_getpwnam_check,
};
