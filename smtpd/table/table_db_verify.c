/*
 * table_db_verify.c -- is a Berkeley DB file sound enough to be read.
 *
 * libdb trusts the pages it reads: a db file with a few flipped bytes
 * can make a plain get or seq read out of bounds (reproduced under
 * ASan: about one damaged makemap file in eight).  Its own verifier
 * (DB->verify) walks every page with bounds checks, so the db backend
 * (table_db.c) runs it before each open, at start-up and on update: a
 * damaged file is then a configuration error, or a failed update that
 * keeps the old content, instead of a crash of the lookup process.
 * For files nobody vouches for, `proc-db:` hosts the table in a helper
 * where whatever libdb still does costs only that helper.
 *
 * Apart from table_db.c because it needs libdb's native header, which
 * clashes with the 1.85 interface (db_185.h) used for reading.  Written
 * against api/ only; reads the file, never writes it; never exits.
 */
#include <db.h>
#include <stdio.h>
#include <string.h>

#include "table_backends.h"

/* the first message libdb reports while verifying */
struct table_db_verify_msg {
	char	text[256];
};

/* table_db_verify_errcall - keep libdb's first complaint, print nothing */
static void
table_db_verify_errcall(const DB_ENV *env, const char *prefix,
    const char *msg)
{
	struct table_db_verify_msg	*m = env->app_private;
	size_t				 i;

	if (m == NULL || m->text[0] != '\0')
		return;
	(void)snprintf(m->text, sizeof m->text, "%s", msg);
	/* libdb quotes what it found in the file: keep it printable */
	for (i = 0; m->text[i] != '\0'; i++)
		if ((unsigned char)m->text[i] < 0x20 ||
		    (unsigned char)m->text[i] > 0x7e)
			m->text[i] = '?';
}

/* table_db_verify - 0 if PATH verifies, -1 with a reason in WHY */
int
table_db_verify(const char *path, char *why, size_t whysz)
{
	struct table_db_verify_msg	 msg;
	DB				*dbp;
	int				 r;

	memset(&msg, 0, sizeof msg);
	if ((r = db_create(&dbp, NULL, 0)) != 0) {
		snprintf(why, whysz, "cannot verify the database: %s",
		    db_strerror(r));
		return -1;
	}
	dbp->dbenv->app_private = &msg;
	dbp->set_errcall(dbp, table_db_verify_errcall);
	/* the handle is gone after verify, whatever it returns */
	r = dbp->verify(dbp, path, NULL, NULL, 0);
	if (r == 0)
		return 0;
	snprintf(why, whysz, "damaged database (%s%s%s)", db_strerror(r),
	    msg.text[0] ? ": " : "", msg.text);
	return -1;
}
