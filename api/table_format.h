/*
 * table_format.h -- what the database-backed table helpers share: the
 * config keys naming a query per service, the shape of a record per
 * service, and the value each service answers (libexec-protocols.md
 * 4.5, 4.6).
 *
 * A driver (libexec/table-postgres, table-redis, table-mysql) turns a
 * database's reply into records of fields and lets table_format_record
 * build the value: credentials "user:password", userinfo
 * "uid:gid:home", one field otherwise; list services (alias,
 * mailaddrmap) join one element per row with ", ".  Field bytes come
 * from a server, so they are checked here: a NULL, a NUL byte, a bad
 * uid/gid or a value over the reply's size is an error with a reason,
 * which the driver logs naming the table and answers -1.
 */
#ifndef API_TABLE_FORMAT_H
#define API_TABLE_FORMAT_H

#include <stddef.h>

#include "api_dict.h"
#include "table_service.h"

/* one field of a record as the server sent it; data NULL: SQL NULL */
struct table_field {
	const char	*data;
	size_t		 len;
};

/* the services, one bit each, 1 << 0 .. 1 << (TABLE_FORMAT_NSERVICES-1) */
#define TABLE_FORMAT_NSERVICES	12
/* "query_" + the longest service name + NUL */
#define TABLE_FORMAT_KEY_MAX	32

/* table_format_query_key - "query_<service>" into buf; -1 if unknown */
int	 table_format_query_key(enum table_service, char *buf, size_t bufsz);
/* table_format_columns - fields of a record: 2, 3 or 1 */
int	 table_format_columns(enum table_service);
/* table_format_is_list - alias and mailaddrmap: one element per row */
int	 table_format_is_list(enum table_service);

#define TABLE_FORMAT_TIMEOUT	3	/* seconds, query_timeout */

/* the queries of a config: the common keys of the database drivers */
struct table_queries {
	char		*query[TABLE_FORMAT_NSERVICES];	/* by bit; NULL: none */
	char		*fetch;		/* fetch_source */
	long long	 expire;	/* fetch_source_expire, seconds */
	long long	 refresh;	/* fetch_source_refresh, FETCHes */
	int		 timeout_ms;	/* query_timeout, per request */
};

/* table_format_index - the bit number of a service, -1 if not one bit */
int	 table_format_index(enum table_service);

/*
 * table_format_conf_load - api_conf_load of PATH accepting the keys in
 * OWN (NULL-terminated), those of table_format_queries and
 * query_<service> for every service.  0, or -1 after logging file,
 * line and the reason (an unknown key included).
 */
int	 table_format_conf_load(const char *path, const char *const *own,
	    struct dict *conf);

/*
 * table_format_queries - the query_<service>, fetch_source,
 * fetch_source_expire, fetch_source_refresh and query_timeout keys of
 * conf (read from path) into q, copied.  0, or -1 logged.
 */
int	 table_format_queries(struct dict *conf, const char *path,
	    struct table_queries *q);
void	 table_format_queries_free(struct table_queries *q);

/*
 * table_format_record - the value of SERVICE from one record of N
 * fields into dst (NUL-terminated).  N is table_format_columns(), or 1
 * for credentials and userinfo when the store keeps them joined.
 * Returns 0, or -1 with the reason in err.
 */
int	 table_format_record(enum table_service, const struct table_field *,
	    size_t n, char *dst, size_t dstsz, char *err, size_t errsz);
/*
 * table_format_list_add - append one more element of a list value
 * (", " between elements).  0, or -1 with the reason in err; dst is
 * then unchanged.
 */
int	 table_format_list_add(const struct table_field *, char *dst,
	    size_t dstsz, char *err, size_t errsz);

/*
 * table_format_warnx - log "table NAME: message" for the table being
 * served: the name from OPEN, or FALLBACK before it (the daemon starts
 * a helper with the table's name as argv[0]).
 */
void	 table_format_warnx(const char *fallback, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
