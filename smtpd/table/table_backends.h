/*
 * table_backends.h -- what the embedded table backends share: the
 * in-memory entry store, the file format, the entry matching rules and
 * the backends themselves, as struct table_backend (api/).
 *
 * These files (table_static.c, table_file.c, table_db.c,
 * table_getpwnam.c, table_match.c) are written against api/ headers
 * only, so the same objects are linked into smtpd (the table layer,
 * table.h, includes this header) and into libexec helpers (table-file,
 * table-db).  The Makefile compiles them with api/ and this folder on
 * the include path and nothing else; this header must therefore never
 * include a daemon header.  Nothing declared here exits: out of memory
 * and bad input are -1 with a reason.
 */
#ifndef SMTPD_TABLE_BACKENDS_H
#define SMTPD_TABLE_BACKENDS_H

#include <stddef.h>

#include "imsgbuf.h"
#include "table_backend.h"
#include "table_service.h"

/*
 * The largest value, with its NUL, that every message carrying a looked-up
 * value can hold: IMSG_LOOKUP_TABLE_QUERY_RESULT is "reqid u64, r i32,
 * value str, error str", a str being a tag byte and the bytes with their
 * NUL, and the error NULL (one tag byte) when a value is sent.  A longer
 * value is refused where it enters (file line, makemap, db record at
 * lookup, helper reply), never sent.
 */
#define TABLE_RESULT_OVERHEAD	(8 + 4 + 1 + 1)
#define TABLE_VALUE_MAX		(IMSG_MAX_PAYLOAD - TABLE_RESULT_OVERHEAD)

/* limits of what a table stores or answers */
#define TABLE_NAME_MAX		256	/* table names, with the NUL */
#define TABLE_KEY_MAX		1024	/* keys: at most 1023 bytes (6.8) */
#define TABLE_LINE_MAX		16384	/* one line of a file table */
#define TABLE_SUBADDR_DELIM	'+'	/* smtp sub-addr-delim default */

/* one entry of an in-memory table (static and file backends) */
struct table_entry {
	char		*key;		/* lower-cased */
	char		*value;		/* NULL in a list */
	void		*regex;		/* compiled on first regex use */
	unsigned int	 line;		/* file line, 0 for inline */
	int		 regex_bad;	/* the key does not compile */
};

struct table_entries {
	struct table_entry	*v;
	size_t			 n;
	size_t			 size;
	size_t			*sorted;	/* indexes ordered by key */
	enum table_shape	 shape;
	size_t			 fetch_next;
};

/* the backends, each one file */
extern const struct table_backend	table_backend_static;
extern const struct table_backend	table_backend_file;
extern const struct table_backend	table_backend_db;
extern const struct table_backend	table_backend_getpwnam;

/* table_match.c: keys, and does entry E match lookup key K */
/* table_normalize_key - lower-cased copy; -1 with a reason if refused */
int		 table_normalize_key(const char *key, char *dst, size_t dstsz,
		    char *err, size_t errsz);
int		 table_match(enum table_service, const char *entry,
		    const char *key, void **regex, int *regex_bad);
int		 table_match_domain(const char *pattern, const char *domain);
int		 table_match_netaddr(const char *entry, const char *key);
int		 table_match_mailaddr(const char *entry, const char *key);
int		 table_match_regex(const char *pattern, const char *subject,
		    void **regex, int *regex_bad);
void		 table_match_regex_free(void **regex);
/* table_match_needs_scan - service whose entries are patterns */
int		 table_match_needs_scan(enum table_service);

struct table_netaddr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network byte order */
	int		bits;		/* prefix length */
	unsigned int	scope;		/* IPv6 scope id, 0 if none */
};

int		 table_parse_netaddr(const char *value, struct table_netaddr *,
		    char *err, size_t errsz);
int		 table_parse_address(const char *value, struct table_netaddr *,
		    char *err, size_t errsz);
int		 table_netaddr_contains(const struct table_netaddr *net,
		    const struct table_netaddr *addr);

/* table_static.c: the in-memory entries, shared by static and file */
struct table_static {
	char			 name[TABLE_NAME_MAX];	/* for logs */
	char			*source;	/* the file, NULL inline */
	struct table_entries	 entries;
	int			 indexed;	/* entries finished */
};

/* the static methods, which the file backend shares */
struct table_static *table_static_new(const char *tname, const char *source,
		    char *err, size_t errsz);
void		 table_static_close(void *);
int		 table_static_lookup(void *, enum table_service,
		    const char *key, char *dst, size_t dstsz);
int		 table_static_check(void *, enum table_service, const char *key);
int		 table_static_fetch(void *, enum table_service, char *dst,
		    size_t dstsz);
enum table_shape table_static_shape(void *);
int		 table_entries_add(struct table_entries *, const char *key,
		    const char *value, unsigned int line, char *err,
		    size_t errsz);
void		 table_entries_finish(struct table_entries *,
		    const char *tname, const char *source);
void		 table_entries_clear(struct table_entries *);
void		 table_entries_move(struct table_entries *dst,
		    struct table_entries *src);
int		 table_entries_lookup(struct table_entries *,
		    const char *tname, enum table_service, const char *key,
		    char *dst, size_t dstsz);
int		 table_entries_fetch(struct table_entries *,
		    const char *tname, char *dst, size_t dstsz);

/* table_db_verify.c: does a db file pass libdb's verifier */
int		 table_db_verify(const char *path, char *why, size_t whysz);

/* table_file.c: the file format, for makemap and the fuzzer too */
char		*table_file_split(char *line);
int		 table_file_parse(const char *tname, const char *path,
		    const char *text, size_t len, struct table_entries *,
		    char *err, size_t errsz);

#endif
