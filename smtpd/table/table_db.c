/*
 * table_db.c -- the db backend: `table NAME db:/path.db`, a Berkeley DB
 * hash or btree written by makemap.
 *
 * Layout, as Debian's 6.8 makemap writes it (checked on its output):
 * keys are lower-cased and stored with their trailing NUL, values too;
 * a `makemap -t set` list stores the value "<set>".  Exact lookups are
 * one get; pattern services (domain, netaddr, mailaddr, regex) scan the
 * database in key order after an exact miss.  The file is opened at
 * create time, so a missing file or one that is not a database is a
 * configuration error with a clear message; update reopens it and keeps
 * the old handle if that fails.  Every open first runs libdb's verifier
 * (table_db_verify.c): a damaged file is refused, never read.  Runs in the parser and the lookup
 * process, and in the table-db helper (libexec/table-db.c): written
 * against api/ only (table_backends.h).  Never fatal on the file's
 * contents.
 */
#include <sys/stat.h>

#include <db_185.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_log.h"
#include "table_backends.h"

#define TABLE_DB_HASH_MAGIC	0x061561
#define TABLE_DB_BTREE_MAGIC	0x053162
#define TABLE_DB_SET_VALUE	"<set>"

struct table_db {
	char			 name[TABLE_NAME_MAX];	/* for logs */
	char			*path;
	DB			*db;
	int			 fetch_started;
	enum table_shape	 shape;
};

/* table_db_swap32 - byte-swapped magic of a foreign-endian file */
static uint32_t
table_db_swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	    (v << 24);
}

/* table_db_type - DB_HASH or DB_BTREE from the file's magic, or -1 */
static int
table_db_type(const char *path, char *why, size_t whysz)
{
	unsigned char	hdr[16];
	struct stat	st;
	uint32_t	magic;
	ssize_t		n;
	int		fd;

	/* non-blocking: a FIFO named as a table must not hang the open */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file");
		close(fd);
		return -1;
	}
	n = read(fd, hdr, sizeof hdr);
	close(fd);
	if (n != (ssize_t)sizeof hdr) {
		snprintf(why, whysz, "not a Berkeley DB file (too short)");
		return -1;
	}
	memcpy(&magic, hdr + 12, sizeof magic);
	if (magic == TABLE_DB_HASH_MAGIC ||
	    table_db_swap32(magic) == TABLE_DB_HASH_MAGIC)
		return DB_HASH;
	if (magic == TABLE_DB_BTREE_MAGIC ||
	    table_db_swap32(magic) == TABLE_DB_BTREE_MAGIC)
		return DB_BTREE;
	snprintf(why, whysz, "not a Berkeley DB hash or btree file");
	return -1;
}

/* table_db_value - the NUL-terminated value of a record, or -1 */
static int
table_db_value(const DBT *v, char *dst, size_t dstsz)
{
	size_t	len = v->size;

	if (len > 0 && ((const char *)v->data)[len - 1] == '\0')
		len--;
	if (memchr(v->data, '\0', len) != NULL || len >= dstsz)
		return -1;
	memcpy(dst, v->data, len);
	dst[len] = '\0';
	return 0;
}

/* table_db_shape - a "<set>" first value makes a list */
static enum table_shape
table_db_shape(DB *db)
{
	DBT	k, v;
	char	val[sizeof TABLE_DB_SET_VALUE];

	if (db->seq(db, &k, &v, R_FIRST) != 0)
		return TABLE_SHAPE_MAPPING;
	if (table_db_value(&v, val, sizeof val) == 0 &&
	    strcmp(val, TABLE_DB_SET_VALUE) == 0)
		return TABLE_SHAPE_LIST;
	return TABLE_SHAPE_MAPPING;
}

/* table_db_open_path - open PATH read-only; NULL with a reason */
static DB *
table_db_open_path(const char *tname, const char *path, char *err,
    size_t errsz)
{
	struct stat	 before, after;
	DB		*db;
	char		 why[384];
	int		 type;

	if (path[0] != '/') {
		snprintf(err, errsz, "table \"%s\": %s: the path must be "
		    "absolute", tname, path);
		return NULL;
	}
	if ((type = table_db_type(path, why, sizeof why)) != -1 &&
	    stat(path, &before) == -1) {
		snprintf(why, sizeof why, "%s", strerror(errno));
		type = -1;
	}
	if (type == -1 || table_db_verify(path, why, sizeof why) == -1) {
		snprintf(err, errsz, "table \"%s\": %s: %s", tname, path,
		    why);
		return NULL;
	}
	if ((db = dbopen(path, O_RDONLY, 0, (DBTYPE)type, NULL)) == NULL) {
		snprintf(err, errsz, "table \"%s\": %s: cannot open the "
		    "database: %s", tname, path, strerror(errno));
		return NULL;
	}
	/* what was verified must be what is read: makemap renames a new
	 * file into place, so a swap in between shows in the inode */
	if (fstat(db->fd(db), &after) == -1 ||
	    after.st_dev != before.st_dev || after.st_ino != before.st_ino ||
	    after.st_size != before.st_size ||
	    after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before.st_mtim.tv_nsec) {
		db->close(db);
		snprintf(err, errsz, "table \"%s\": %s: the file changed "
		    "while it was verified; try again", tname, path);
		return NULL;
	}
	return db;
}

/* table_db_close - backend close: the database and the context */
static void
table_db_close(void *ctx)
{
	struct table_db	*h = ctx;

	if (h == NULL)
		return;
	if (h->db != NULL)
		h->db->close(h->db);
	free(h->path);
	free(h);
}

/* table_db_open - backend open: the database at start-up */
static void *
table_db_open(const char *tname, const char *config, char *err,
    size_t errsz)
{
	struct table_db	*h;

	if ((h = calloc(1, sizeof *h)) == NULL ||
	    (h->path = strdup(config)) == NULL) {
		free(h);
		snprintf(err, errsz, "table \"%s\": out of memory", tname);
		return NULL;
	}
	(void)snprintf(h->name, sizeof h->name, "%s", tname);
	if ((h->db = table_db_open_path(tname, config, err, errsz)) == NULL) {
		table_db_close(h);
		return NULL;
	}
	h->shape = table_db_shape(h->db);
	return h;
}

/* table_db_update - reopen; the old handle stays if that fails */
static int
table_db_update(void *ctx)
{
	struct table_db	*h = ctx;
	DB		*db;
	char		 err[512];

	if ((db = table_db_open_path(h->name, h->path, err, sizeof err)) ==
	    NULL) {
		api_log_warnx("%s", err);
		return 0;
	}
	h->db->close(h->db);
	h->db = db;
	h->fetch_started = 0;
	h->shape = table_db_shape(db);
	return 1;
}

/* table_db_shape_of - backend shape */
static enum table_shape
table_db_shape_of(void *ctx)
{
	struct table_db	*h = ctx;

	return h->shape;
}

/* table_db_answer - value of a record (the key itself for a set) */
static int
table_db_answer(struct table_db *t, const char *key, const DBT *v, char *dst,
    size_t dstsz)
{
	char	val[TABLE_VALUE_MAX];

	if (dst == NULL)
		return 1;
	if (table_db_value(v, val, sizeof val) == -1) {
		api_log_warnx("table %s: value of \"%s\" is not a string",
		    t->name, key);
		return -1;
	}
	if (strcmp(val, TABLE_DB_SET_VALUE) == 0)
		(void)strlcpy(val, key, sizeof val);
	if (strlcpy(dst, val, dstsz) >= dstsz) {
		api_log_warnx("table %s: value of \"%s\" too long", t->name, key);
		return -1;
	}
	return 1;
}

/* table_db_query - exact get, then a scan for pattern services */
static int
table_db_query(struct table_db *h, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	struct table_db	*t = h;
	DB		*db;
	DBT		 k, v;
	char		 ekey[TABLE_KEY_MAX];
	int		 r, m;

	if (h == NULL)
		return -1;
	db = h->db;
	if (service != K_REGEX) {
		k.data = (void *)(uintptr_t)key;
		k.size = strlen(key) + 1;
		r = db->get(db, &k, &v, 0);
		if (r == -1) {
			api_log_warn("table %s: get", t->name);
			return -1;
		}
		if (r == 0)
			return table_db_answer(t, key, &v, dst, dstsz);
	}
	if (!table_match_needs_scan(service))
		return 0;
	for (r = db->seq(db, &k, &v, R_FIRST); r == 0;
	    r = db->seq(db, &k, &v, R_NEXT)) {
		if (table_db_value(&k, ekey, sizeof ekey) == -1)
			continue;	/* not a key makemap writes */
		m = table_match(service, ekey, key, NULL, NULL);
		if (m == -1) {
			api_log_warnx("table %s: entry \"%s\" is not a valid "
			    "regular expression", t->name, ekey);
			return -1;
		}
		if (m == 1)
			return table_db_answer(t, ekey, &v, dst, dstsz);
	}
	if (r == -1) {
		api_log_warn("table %s: seq", t->name);
		return -1;
	}
	return 0;
}

/* table_db_lookup - backend lookup */
static int
table_db_lookup(void *ctx, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	return table_db_query(ctx, service, key, dst, dstsz);
}

/* table_db_check - backend check */
static int
table_db_check(void *ctx, enum table_service service, const char *key)
{
	return table_db_query(ctx, service, key, NULL, 0);
}

/* table_db_fetch - the next record in database order, wrapping */
static int
table_db_fetch(void *ctx, enum table_service service, char *dst,
    size_t dstsz)
{
	struct table_db	*h = ctx, *t = h;
	DBT		 k, v;
	char		 key[TABLE_KEY_MAX];
	int		 r;

	if (h == NULL)
		return -1;
	r = h->db->seq(h->db, &k, &v, h->fetch_started ? R_NEXT : R_FIRST);
	if (r == 1 && h->fetch_started)
		r = h->db->seq(h->db, &k, &v, R_FIRST);
	if (r == -1) {
		api_log_warn("table %s: seq", t->name);
		return -1;
	}
	if (r == 1)
		return 0;
	h->fetch_started = 1;
	if (table_db_value(&k, key, sizeof key) == -1)
		return -1;
	return table_db_answer(t, key, &v, dst, dstsz);
}

const struct table_backend table_backend_db = {
	.version = TABLE_BACKEND_V1,
	.name = "db",
	.services = K_ANY,
	.open = table_db_open,
	.update = table_db_update,
	.close = table_db_close,
	.lookup = table_db_lookup,
	.check = table_db_check,
	.fetch = table_db_fetch,
	.shape = table_db_shape_of,
};
