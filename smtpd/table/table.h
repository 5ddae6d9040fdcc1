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
 * Queries are completion-based (STYLE.md 5): table_lookup() and its
 * siblings take a table_done_fn and never wait; an embedded backend
 * completes at once, through the same callback, before the call
 * returns; a helper-hosted table (table_proc.c) when its reply or its
 * timer arrives, on the caller's libevent loop.
 *
 * Runs in the lookup process (and in the parser, which creates tables
 * and loads files so that bad files are configuration errors).  Nothing
 * here may call fatal on table contents, helper answers or keys, nor
 * read a program's globals: the libexec directory and the event base
 * are arguments.
 */
#ifndef SMTPD_TABLE_H
#define SMTPD_TABLE_H

#include <sys/types.h>
#include <stddef.h>
#include <limits.h>

#include "imsgbuf.h"
#include "mailaddr.h"
#include "table_backends.h"
#include "table_service.h"

struct event_base;

/* limits of what a table stores or answers (the rest: table_backends.h) */
#define TABLE_USER_MAX		MAILADDR_USER_SIZE	/* with the NUL */
#define TABLE_DOMAIN_MAX	MAILADDR_DOMAIN_SIZE	/* with the NUL */
#define TABLE_PASSWORD_MAX	2048	/* credentials value, spec 4.6 */
#define TABLE_PROC_PREFIX	"proc-"	/* proc-NAME: the helper table-NAME */
/* text-NAME: the helper table-NAME, spoken to in the 7.6+ text protocol;
 * proc:/PATH: the program PATH, likewise (OpenSMTPD 7.6's own syntax) */
#define TABLE_TEXT_PREFIX	"text-"
#define TABLE_TEXT_PROC		"proc"
#define TABLE_PROC_TIMEOUT_MS	5000	/* one helper request */
#define TABLE_PROC_BACKOFF_MS	1000	/* first restart delay */
#define TABLE_PROC_BACKOFF_MAX_MS 60000	/* restart delay ceiling */
#define TABLE_PROC_QUEUE_MAX	128	/* requests waiting for one helper */
#define TABLE_PROC_STOP_WAIT_MS	1000	/* SIGTERM to SIGKILL at close */
#define TABLE_HELPER_DIR_DEBIAN	"/usr/libexec/opensmtpd"

/*
 * The completion of every query: r is 1 (found; VALUE is the value, or
 * NULL for check and update), 0 (not found) or -1 (temporary failure).
 * VALUE is valid only during the call.
 */
typedef void (*table_done_fn)(void *arg, int r, const char *value);

struct table_proc;

struct table {
	char				 name[TABLE_NAME_MAX];
	char				 backend_name[TABLE_NAME_MAX];
	char				 config[PATH_MAX];
	const struct table_backend	*backend;	/* NULL: a helper */
	struct table_proc		*proc;		/* the helper's host */
	void				*ctx;		/* the backend's */
	int				 opened;
	int				 timeout_ms;	/* proc */
	int				 backoff_ms;	/* proc: first delay */
	int				 backoff_max_ms;
	void				*handle;	/* backend state */
};

/*
 * table.c: the public API.  LIBEXEC is the helper directory (-o libexec,
 * NULL for the built-in one); a helper's executable is opened by
 * table_create, so create while the process may still read it.
 */
struct table	*table_create(const char *name, const char *backend,
		    const char *config, const char *libexec, char *err,
		    size_t errsz);
int		 table_add(struct table *, const char *key, const char *value,
		    char *err, size_t errsz);
/* table_open - usable from here on; helpers start on EVB, never waited */
int		 table_open(struct table *, struct event_base *evb,
		    char *err, size_t errsz);
int		 table_open_all(struct table **, size_t, struct event_base *,
		    char *err, size_t errsz);
/* table_update - reload; r 1 done, 0 failed (the old content stays) */
void		 table_update(struct table *, table_done_fn, void *);
/* table_close - stop a helper (channel closed, SIGTERM, SIGKILL after
 * TABLE_PROC_STOP_WAIT_MS), DONE once it is reaped; pending fail -1 */
void		 table_close(struct table *, table_done_fn, void *);
void		 table_free(struct table **);
void		 table_lookup(struct table *, enum table_service,
		    const char *key, table_done_fn, void *);
void		 table_check(struct table *, enum table_service,
		    const char *key, table_done_fn, void *);
void		 table_fetch(struct table *, enum table_service,
		    table_done_fn, void *);
const char	*table_name(const struct table *);
/* table_is_helper - is BACKEND (not static, file, db, getpwnam) a helper */
int		 table_is_helper(const char *backend);
/* table_text_backend - does BACKEND (text-NAME, proc) speak 7.6+ text */
int		 table_text_backend(const char *backend);
/* table_text_proc_path - is CONFIG of proc:CONFIG an executable's
 * absolute path: 0, or -1 with ERR */
int		 table_text_proc_path(const char *config, char *err,
		    size_t errsz);
enum table_shape table_shape(const struct table *);
unsigned int	 table_services(const struct table *);
int		 table_check_use(const struct table *, enum table_service,
		    enum table_shape, char *err, size_t errsz);
void		 table_set_timeout(struct table *, int timeout_ms);
void		 table_set_backoff(struct table *, int first_ms, int max_ms);
/*
 * table_find_helper - the executable of helper table-BACKEND: LIBEXEC
 * (NULL: the built-in directory), else the Debian one.  0 with PATH, or
 * -1 with a reason naming where it looked.  The one discovery of helpers,
 * for the parser and the table layer alike.
 */
int		 table_find_helper(const char *libexec, const char *backend,
		    char *path, size_t pathsz, char *err, size_t errsz);

/* table_proc.c: the table protocol (libexec-protocols.md 4, or 7) of a
 * helper hosted by api/api_host.c */
/* TEXT: the 7.6+ text protocol (section 7) rather than imsg */
struct table_proc	*table_proc_new(const char *tname, const char *path,
			    const char *config, int text, char *err,
			    size_t errsz);
void		 table_proc_set_limits(struct table_proc *, int timeout_ms,
		    int backoff_ms, int backoff_max_ms);
int		 table_proc_start(struct table_proc *, struct event_base *);
/* TYPE is PROC_TABLE_CHECK, _LOOKUP, _FETCH (KEY NULL) or _UPDATE */
void		 table_proc_request(struct table_proc *, uint32_t type,
		    enum table_service, const char *key, table_done_fn,
		    void *);
void		 table_proc_close(struct table_proc *, table_done_fn, void *);
void		 table_proc_free(struct table_proc **);

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
