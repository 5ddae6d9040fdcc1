/*
 * table-db.c -- the db table as a helper: `table NAME proc-db:/path.db`.
 *
 * The same backend as the daemon's embedded `db:` tables
 * (smtpd/table/table_db.c, linked in by table-db.mk), served over the
 * table protocol by the api/ glue.  Hosting a Berkeley DB out of the
 * lookup process means that whatever libdb does with a damaged file
 * costs only this helper, which the daemon restarts with backoff.
 * Started with the table's name as argv[0] and the database as its one
 * argument; a file that is not a sound database makes it exit 1.
 */
#include "smtpd-api.h"

/* smtpd/table/table_db.c, linked in: libexec/ sees only api/ headers */
extern const struct table_backend table_backend_db;

int
main(int argc, char *argv[])
{
	return table_api_main(&table_backend_db, "table-db", argc, argv);
}
