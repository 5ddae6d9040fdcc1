/*
 * table-getpwnam.c -- the getpwnam table as a helper:
 * `table NAME proc-getpwnam`.
 *
 * The same backend as the daemon's embedded getpwnam tables
 * (smtpd/table/table_getpwnam.c, linked in by table-getpwnam.mk),
 * served over the table protocol by the api/ glue.  getpwnam(3) goes
 * through NSS, which may ask a directory server and wait: hosted here,
 * such a wait holds up this helper, whose requests the daemon times
 * out, instead of the lookup process.  Takes no argument.
 */
#include "smtpd-api.h"

/* smtpd/table/table_getpwnam.c, linked in: libexec/ sees only api/ */
extern const struct table_backend table_backend_getpwnam;

int
main(int argc, char *argv[])
{
	return table_api_main(&table_backend_getpwnam, "table-getpwnam",
	    argc, argv);
}
