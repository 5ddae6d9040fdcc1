/*
 * table-file.c -- the file table as a helper: `table NAME proc-file:/path`.
 *
 * The same backend as the daemon's embedded `file:` tables
 * (smtpd/table/table_file.c, linked in by table-file.mk), served over
 * the table protocol by the api/ glue, so a file table can run outside
 * the lookup process.  Started by the lookup process with the table's
 * name as argv[0] and the file as its one argument; a bad file makes it
 * exit 1 at start-up.  It holds no state of its own.
 */
#include "smtpd-api.h"

/* smtpd/table/table_file.c, linked in: libexec/ sees only api/ headers */
extern const struct table_backend table_backend_file;

int
main(int argc, char *argv[])
{
	return table_api_main(&table_backend_file, "table-file", argc, argv);
}
