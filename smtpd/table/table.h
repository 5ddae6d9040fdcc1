/*
 * table.h -- tables: named key/value stores that rules, listeners and
 * actions consult (smtpd-conf.md section 4).
 *
 * The layer (table.c) owns what every backend shares: the service
 * bitmask, key normalisation (lower case, no CR/LF, at most
 * TABLE_KEY_MAX - 1 bytes), validation of returned values and the
 * list/mapping shape.  Backends (table_<impl>.c) only store and find:
 * static (inline), file, db (Berkeley DB from makemap) and getpwnam are
 * struct table_backend (api/), declared with what they share in
 * table_backends.h; proc (table_proc.c) hosts a libexec helper spoken to
 * over imsg (libexec-protocols.md 4).  table_match.c holds the entry
 * matching rules of domain, netaddr, mailaddr and regex lookups;
 * table_value.c the parsers of the values every later user of a table
 * needs.
 *
 * Runs in the lookup process (and in the parser, which creates tables
 * and loads files so that bad files are configuration errors).  Nothing
 * here may call fatal on table contents, helper answers or keys.
 */
#ifndef SMTPD_TABLE_H
#define SMTPD_TABLE_H

#include <sys/types.h>
#include <stddef.h>
#include <limits.h>

#include "mailaddr.h"
#include "table_backends.h"
#include "table_service.h"

/* limits of what a table stores or answers (the rest: table_backends.h) */
#define TABLE_USER_MAX		MAILADDR_USER_SIZE	/* with the NUL */
#define TABLE_DOMAIN_MAX	MAILADDR_DOMAIN_SIZE	/* with the NUL */
#define TABLE_PASSWORD_MAX	2048	/* credentials value, spec 4.6 */
#define TABLE_PROC_PREFIX	"proc-"	/* proc-NAME: the helper table-NAME */
#define TABLE_PROC_TIMEOUT_MS	5000	/* one helper request */
#define TABLE_PROC_BACKOFF_MS	1000	/* first restart delay */
#define TABLE_PROC_BACKOFF_MAX_MS 60000	/* restart delay ceiling */

struct table;

/*
 * The host of helper-run tables (table_proc.c).  Embedded backends are
 * struct table_backend (api/table_backend.h), called with their own
 * context; a helper-run table is driven with the table itself.
 */
struct table_proc_ops {
	int	(*open)(struct table *);
	int	(*update)(struct table *);
	void	(*close)(struct table *);
	int	(*lookup)(struct table *, enum table_service, const char *key,
		    char *dst, size_t dstsz);
	int	(*check)(struct table *, enum table_service, const char *key);
	int	(*fetch)(struct table *, enum table_service, char *dst,
		    size_t dstsz);
};

extern const struct table_proc_ops	table_proc_ops;

struct table {
	char				 name[TABLE_NAME_MAX];
	char				 backend_name[TABLE_NAME_MAX];
	char				 config[PATH_MAX];
	const struct table_backend	*backend;	/* NULL: a helper */
	void				*ctx;		/* the backend's */
	int				 opened;
	int				 timeout_ms;	/* proc */
	int				 backoff_ms;	/* proc: first delay */
	int				 backoff_max_ms;
	void				*handle;	/* helper state (proc) */
};

/* table.c: the public API */
struct table	*table_create(const char *name, const char *backend,
		    const char *config, char *err, size_t errsz);
int		 table_add(struct table *, const char *key, const char *value,
		    char *err, size_t errsz);
int		 table_open(struct table *, char *err, size_t errsz);
int		 table_open_all(struct table **, size_t, char *err,
		    size_t errsz);
int		 table_update(struct table *);
void		 table_close(struct table *);
void		 table_free(struct table **);
int		 table_lookup(struct table *, enum table_service,
		    const char *key, char *dst, size_t dstsz);
int		 table_check(struct table *, enum table_service,
		    const char *key);
int		 table_fetch(struct table *, enum table_service, char *dst,
		    size_t dstsz);
const char	*table_name(const struct table *);
enum table_shape table_shape(const struct table *);
unsigned int	 table_services(const struct table *);
int		 table_check_use(const struct table *, enum table_service,
		    enum table_shape, char *err, size_t errsz);
void		 table_set_timeout(struct table *, int timeout_ms);
void		 table_set_backoff(struct table *, int first_ms, int max_ms);
/* table_find_helper - <libexec>/table-B, else the Debian directory */
int		 table_find_helper(const char *backend, char *path,
		    size_t pathsz);

/* table_value.c: parsers of looked-up values; 0 or -1 with a reason */
struct table_credentials {
	char	username[TABLE_USER_MAX + TABLE_DOMAIN_MAX];
	char	password[TABLE_PASSWORD_MAX];
};

struct table_userinfo {
	uid_t	uid;
	gid_t	gid;
	char	directory[PATH_MAX];
};

enum table_alias_kind {
	TABLE_ALIAS_USERNAME,
	TABLE_ALIAS_ADDRESS,
	TABLE_ALIAS_FILENAME,
	TABLE_ALIAS_COMMAND,
	TABLE_ALIAS_INCLUDE,
	TABLE_ALIAS_ERROR,
};

struct table_alias {
	enum table_alias_kind	kind;
	struct mailaddr	addr;		/* USERNAME (user), ADDRESS */
	char			text[TABLE_LINE_MAX]; /* path, command, error */
	int			code;		/* ERROR: 4xx or 5xx */
};

struct table_relayhost {
	char	scheme[16];
	char	label[TABLE_USER_MAX];
	char	host[TABLE_DOMAIN_MAX];
	int	port;		/* 0: the scheme's default */
};

int	table_parse_credentials(const char *key, const char *value,
	    struct table_credentials *, char *err, size_t errsz);
int	table_parse_userinfo(const char *value, struct table_userinfo *,
	    char *err, size_t errsz);
int	table_parse_source(const char *value, struct table_netaddr *,
	    char *err, size_t errsz);
int	table_parse_mailaddr(const char *value, struct mailaddr *,
	    char *err, size_t errsz);
int	table_parse_hostname(const char *value, char *err, size_t errsz);
int	table_split_list(const char *value,
	    int (*cb)(const char *element, void *arg), void *arg,
	    char *err, size_t errsz);
int	table_parse_alias(const char *element, struct table_alias *,
	    char *err, size_t errsz);
int	table_parse_relayhost(const char *value, struct table_relayhost *,
	    char *err, size_t errsz);
/* table_parse_value - does a looked-up VALUE of SERVICE for KEY parse */
int	table_parse_value(enum table_service, const char *key,
	    const char *value, char *err, size_t errsz);

#endif
