/*
 * conf.h -- the parsed smtpd.conf and the API that produces it.
 *
 * conf_load() reads smtpd.conf (modern 6.4+/7.x grammar, or the legacy
 * 5.x grammar, which is translated into the same action + match form) and
 * returns one immutable struct smtpd_conf, freed whole by conf_free().
 * Every allocation of a configuration lives in its private arena, so a
 * consumer never frees a member.  The parser runs in parent (and in
 * `smtpd -n`); the other processes get their copy through
 * conf_serialize()/conf_deserialize(), which carry the canonical text of
 * conf_dump() with the secrets a process must not see left out.
 * Global options are rows of CONF_OPTIONS (below), which drive parsing,
 * defaults, the dump, that redaction and conf_equal(), the field by field
 * comparison the round-trip tests use.
 * Nothing here may fatal() on the contents of a configuration file.
 */
#ifndef SMTPD_CONF_H
#define SMTPD_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#define CONF_TOKEN_MAX		8192	/* longest word or quoted string */
#define CONF_LINE_MAX		16384	/* longest physical line */
#define CONF_FILE_MAX		(16 * 1024 * 1024)
#define CONF_INCLUDE_DEPTH	16
#define CONF_MACRO_DEPTH	32
#define CONF_EXPAND_MAX		(1024 * 1024)	/* macro text, all told */
#define CONF_ERRORS_MAX		100	/* then the parse stops */
#define CONF_PKI_PER_LISTENER	32
#define CONF_BOUNCE_WARN_MAX	4
#define CONF_TAG_MAX		32

/* Shape of a table's content: a list of values or key -> value pairs. */
enum conf_table_kind {
	CONF_TABLE_LIST,
	CONF_TABLE_MAP,
	CONF_TABLE_ANY		/* db:, external: shape known at run time */
};

struct conf_table_entry {
	char	*key;
	char	*value;		/* NULL in a list */
};

/*
 * A table: declared with `table NAME ...`, or anonymous when a rule or
 * option gives `{ ... }` or a single string where a table is expected.
 * backend is "inline", "file", "db", "getpwnam" or an external name;
 * config is what follows "backend:" (a path), NULL when none.
 */
struct conf_table {
	char			*name;	/* NULL when anonymous */
	char			*backend;
	char			*config;
	enum conf_table_kind	 kind;
	int			 single;	/* anonymous, written as STRING */
	struct conf_table_entry	*entries;	/* inline only */
	size_t			 nentries;
	int			 redacted;	/* contents withheld */
};

struct conf_pki {
	char		*name;
	char		*cert;		/* path */
	char		*key;		/* path; NULL when redacted */
	char		*dhe;		/* "none", "auto", "legacy" */
	const char	*file;		/* declared at file:line (messages) */
	int		 line;
	int		 cert_line;	/* line of `cert`, 0: as line */
	int		 key_line;	/* line of `key`, 0: as line */
};

struct conf_ca {
	char		*name;
	char		*cert;
	const char	*file;		/* declared at file:line (messages) */
	int		 line;
};

/* A list of filter names: one named filter, or an anonymous chain. */
struct conf_filter_ref {
	char	**names;
	size_t	  nnames;
	int	  inline_chain;		/* written `filter { a, b }` */
};

enum conf_listen_kind {
	CONF_LISTEN_ADDRESS,	/* literal IPv4 / IPv6 address */
	CONF_LISTEN_IFACE,	/* interface name (e.g. lo, eth0) */
	CONF_LISTEN_GROUP,	/* all, egress, localhost, lo0 */
	CONF_LISTEN_HOST,	/* host name resolved when binding */
	CONF_LISTEN_SOCKET	/* the local enqueuer socket */
};

enum conf_tls_mode {
	CONF_TLS_NONE,
	CONF_TLS_STARTTLS,	/* tls */
	CONF_TLS_REQUIRE,	/* tls-require */
	CONF_TLS_SMTPS		/* smtps */
};

enum conf_auth_mode {
	CONF_AUTH_NONE,
	CONF_AUTH_REQUIRE,	/* auth */
	CONF_AUTH_OPTIONAL	/* auth-optional */
};

struct conf_listener {
	enum conf_listen_kind	 kind;
	char			*on;		/* as written: lo0, 127.0.0.1 */
	int			 family;	/* 0, 4 or 6 */
	int			 port;		/* 0: default (25, 465 smtps) */
	enum conf_tls_mode	 tls;
	int			 tls_verify;
	char			**pki;		/* pki names, SNI order */
	size_t			 npki;
	char			*ca;
	char			*ciphers;
	char			*protocols;
	enum conf_auth_mode	 auth;
	struct conf_table	*auth_table;	/* credentials, or NULL */
	struct conf_table	*senders;	/* mailaddrmap, or NULL */
	int			 masquerade;
	char			*tag;
	char			*hostname;
	struct conf_table	*hostnames;	/* addrname, or NULL */
	int			 mask_src;
	int			 received_auth;
	int			 no_dsn;
	int			 proxy_v2;
	struct conf_filter_ref	 filter;
	int			 implicit;	/* socket added by default */
};

enum conf_method {
	CONF_METHOD_MBOX,
	CONF_METHOD_MAILDIR,
	CONF_METHOD_LMTP,
	CONF_METHOD_MDA,
	CONF_METHOD_FORWARD_ONLY,
	CONF_METHOD_EXPAND_ONLY,
	CONF_METHOD_RELAY
};

enum conf_relay_tls {
	CONF_RELAY_TLS_DEFAULT,		/* as the URL says */
	CONF_RELAY_TLS_VERIFY,		/* tls */
	CONF_RELAY_TLS_NO_VERIFY	/* tls no-verify */
};

/* An `action` (OpenSMTPD calls it a dispatcher). */
struct conf_action {
	char			*name;
	enum conf_method	 method;
	long long		 ttl;		/* seconds; 0: queue ttl */

	/* local delivery */
	char			*path;		/* maildir path, lmtp dest, mda cmd */
	int			 junk;		/* maildir junk */
	int			 rcpt_to;	/* lmtp rcpt-to */
	struct conf_table	*alias;
	struct conf_table	*virtual;
	struct conf_table	*userbase;
	char			*user;
	char			*wrapper;

	/* relay */
	int			 backup;
	char			*backup_mx;
	struct conf_table	*host;		/* relay URLs (list) */
	struct conf_table	*domain;	/* domain -> URL (mapping) */
	struct conf_table	*auth;		/* credentials */
	enum conf_relay_tls	 relay_tls;
	char			*pki;
	char			*ca;
	char			*ciphers;
	char			*protocols;
	char			*helo;
	struct conf_table	*helo_src;
	struct conf_table	*src;
	char			*mail_from;
	int			 srs;
	struct conf_filter_ref	 filter;
};

/* Match criteria, one slot each; `from auth` also fills CONF_CRIT_AUTH. */
enum conf_crit {
	CONF_CRIT_FROM,
	CONF_CRIT_FOR,
	CONF_CRIT_TAG,
	CONF_CRIT_HELO,
	CONF_CRIT_AUTH,
	CONF_CRIT_MAIL_FROM,
	CONF_CRIT_RCPT_TO,
	CONF_CRIT_TLS,
	CONF_CRIT__MAX
};

enum conf_from {
	CONF_FROM_ANY,
	CONF_FROM_LOCAL,
	CONF_FROM_SOCKET,
	CONF_FROM_SRC,
	CONF_FROM_RDNS,
	CONF_FROM_AUTH,
	CONF_FROM_MAIL_FROM
};

enum conf_for {
	CONF_FOR_ANY,
	CONF_FOR_LOCAL,
	CONF_FOR_DOMAIN,
	CONF_FOR_RCPT_TO
};

struct conf_criterion {
	int			 present;
	int			 negate;
	int			 what;	/* enum conf_from / conf_for */
	int			 regex;	/* table holds regular expressions */
	struct conf_table	*table;	/* NULL: no operand */
	int			 implied; /* filled by `from auth` etc. */
};

struct conf_rule {
	struct conf_criterion	 crit[CONF_CRIT__MAX];
	int			 reject;
	struct conf_action	*action;	/* NULL when reject */
	int			 line;		/* for messages */
};

enum conf_filter_type {
	CONF_FILTER_PROC,	/* filter NAME proc PROC */
	CONF_FILTER_PROC_EXEC,	/* filter NAME proc-exec "CMD" */
	CONF_FILTER_PHASE,	/* built-in: phase P match COND DECISION */
	CONF_FILTER_CHAIN
};

enum conf_phase {
	CONF_PHASE_CONNECT, CONF_PHASE_HELO, CONF_PHASE_EHLO,
	CONF_PHASE_AUTH, CONF_PHASE_MAIL_FROM, CONF_PHASE_RCPT_TO,
	CONF_PHASE_DATA, CONF_PHASE_COMMIT
};

enum conf_fcond {
	CONF_FCOND_FCRDNS, CONF_FCOND_RDNS, CONF_FCOND_SRC, CONF_FCOND_HELO,
	CONF_FCOND_AUTH, CONF_FCOND_MAIL_FROM, CONF_FCOND_RCPT_TO
};

enum conf_decision {
	CONF_DECISION_BYPASS, CONF_DECISION_JUNK, CONF_DECISION_REJECT,
	CONF_DECISION_DISCONNECT, CONF_DECISION_REWRITE, CONF_DECISION_REPORT
};

struct conf_proc {
	char	*name;
	char	*command;
	char	*user;
	char	*group;
	char	*chroot;
};

struct conf_filter {
	char			*name;
	enum conf_filter_type	 type;
	char			*proc;		/* PROC: the proc's name */
	struct conf_proc	 exec;		/* PROC_EXEC: command etc. */
	enum conf_phase		 phase;
	enum conf_fcond		 cond;
	int			 negate;
	int			 regex;
	struct conf_table	*table;		/* NULL: no operand */
	enum conf_decision	 decision;
	char			*message;	/* reject/disconnect/rewrite/report */
	struct conf_filter_ref	 chain;
};

struct conf_wrapper {
	char	*name;
	char	*command;
};

/* One `KEY N` (or inet4/inet6, value 0) of an mta limit line. */
struct conf_mta_limit {
	char		*domain;	/* NULL: global */
	const char	*key;
	long long	 value;
};

#define CONF_MDA_LIMITS(X)					\
	X(max_session,		"max-session",		50)	\
	X(max_session_per_user,	"max-session-per-user",	7)	\
	X(task_hiwat,		"task-hiwat",		50)	\
	X(task_lowat,		"task-lowat",		30)	\
	X(task_release,		"task-release",		10)
#define CONF_SCHEDULER_LIMITS(X)				\
	X(max_inflight,		"max-inflight",		5000)	\
	X(max_evp_batch_size,	"max-evp-batch-size",	256)	\
	X(max_msg_batch_size,	"max-msg-batch-size",	1024)	\
	X(max_schedule,		"max-schedule",		10)
#define CONF_SMTP_LIMITS(X)					\
	X(max_mails,		"max-mails",		100)	\
	X(max_rcpt,		"max-rcpt",		1000)
#define CONF_MTA_LIMITS(X)						\
	X(max_conn_per_host,	"max-conn-per-host",		10)	\
	X(max_conn_per_route,	"max-conn-per-route",		5)	\
	X(max_conn_per_source,	"max-conn-per-source",		100)	\
	X(max_conn_per_connector, "max-conn-per-connector",	20)	\
	X(max_conn_per_relay,	"max-conn-per-relay",		100)	\
	X(max_conn_per_domain,	"max-conn-per-domain",		100)	\
	X(conn_delay_host,	"conn-delay-host",		0)	\
	X(conn_delay_route,	"conn-delay-route",		5)	\
	X(conn_delay_source,	"conn-delay-source",		0)	\
	X(conn_delay_connector,	"conn-delay-connector",		0)	\
	X(conn_delay_relay,	"conn-delay-relay",		2)	\
	X(conn_delay_domain,	"conn-delay-domain",		0)	\
	X(reconn_delay_route,	"reconn-delay-route",		3)	\
	X(session_mail_max,	"session-mail-max",		100)	\
	X(session_transaction_delay, "session-transaction-delay", 0)	\
	X(session_keepalive,	"session-keepalive",		10)	\
	X(max_failures_per_session, "max-failures-per-session",	25)	\
	X(task_hiwat,		"task-hiwat",			50)	\
	X(task_lowat,		"task-lowat",			30)	\
	X(task_release,		"task-release",			10)

#define CONF_X_FIELD(field, key, def)	long long field;
struct conf_mda_limits		{ CONF_MDA_LIMITS(CONF_X_FIELD) };
struct conf_scheduler_limits	{ CONF_SCHEDULER_LIMITS(CONF_X_FIELD) };
struct conf_smtp_limits		{ CONF_SMTP_LIMITS(CONF_X_FIELD) };
#undef CONF_X_FIELD

#define CONF_DEFAULT_MAX_MESSAGE_SIZE	(35LL * 1024 * 1024)
#define CONF_DEFAULT_QUEUE_TTL		(4LL * 86400)
#define CONF_DEFAULT_BOUNCE_WARN	(4LL * 3600)
#define CONF_DEFAULT_SRS_TTL		(4LL * 86400)
#define CONF_DEFAULT_MTA_MAX_DEFERRED	100
#define CONF_DEFAULT_CIPHERS		"HIGH:!aNULL:!MD5"

/* bounce warn-interval: up to CONF_BOUNCE_WARN_MAX delays */
struct conf_delays {
	long long	v[CONF_BOUNCE_WARN_MAX];
	int		n;
};

/* queue encryption [KEY]: a flag with an optional secret argument */
struct conf_keyflag {
	int	 on;
	char	*key;		/* 32 chars, "stdin", NULL: ask the tty */
};

/*
 * The global statements, one row each, in the order of the canonical
 * dump.  The rows drive the parser, the defaults, the dump, the
 * redaction of what each process receives and conf_equal(); each
 * scalar row also declares its field of struct smtpd_conf.
 *   field	member of struct smtpd_conf
 *   words	the statement's keywords
 *   legacy	its 5.x keyword, or NULL
 *   type	FLAG (int), NUMBER, DELAY (seconds), SIZE (bytes) (long
 *		long), STRING, WORD (no blanks) (char *), CHAR (char),
 *		DELAYS, KEYFLAG (the structs above); LIMITS, WRAPPERS and
 *		MTA_LIMITS are lists with fields of their own, below
 *   what	the value, as messages name it
 *   min, max	bounds of a number, delay or size
 *   step	a delay is kept in whole multiples of step
 *   def	default (a number, or a string for STRING and WORD)
 *   seen	which processes besides parent receive the value: ALL,
 *		LOOKUP, QUEUE (or CA)
 */
#define CONF_OPTIONS(X)							\
	X(admd, "admd", NULL, WORD, "an authserv-id",			\
	    0, 0, 1, NULL, ALL)						\
	X(bounce_warn, "bounce warn-interval", "bounce-warn", DELAYS,	\
	    "warn-interval", 1, LLONG_MAX, 1, CONF_DEFAULT_BOUNCE_WARN, ALL) \
	X(mda_limits, "mda limit", NULL, LIMITS, "a limit keyword",	\
	    0, LLONG_MAX / 2, 1, 0, ALL)				\
	X(scheduler_limits, "scheduler limit", NULL, LIMITS,		\
	    "a limit keyword", 0, LLONG_MAX / 2, 1, 0, ALL)		\
	X(smtp_limits, "smtp limit", NULL, LIMITS, "a limit keyword",	\
	    0, LLONG_MAX / 2, 1, 0, ALL)				\
	X(wrappers, "mda wrapper", NULL, WRAPPERS, "a wrapper name",	\
	    0, 0, 1, 0, ALL)						\
	X(mta_max_deferred, "mta max-deferred", "max-mta-deferred",	\
	    NUMBER, "max-deferred", 0, INT_MAX, 1,			\
	    CONF_DEFAULT_MTA_MAX_DEFERRED, ALL)				\
	X(mta_limits, "mta limit", NULL, MTA_LIMITS, "a limit keyword",	\
	    0, LLONG_MAX / 2, 1, 0, ALL)				\
	X(queue_compression, "queue compression", NULL, FLAG, "",	\
	    0, 1, 1, 0, ALL)						\
	X(queue_encryption, "queue encryption", NULL, KEYFLAG, "a key",	\
	    0, 0, 1, 0, QUEUE)						\
	X(queue_ttl, "queue ttl", "expire", DELAY, "ttl",		\
	    1, LLONG_MAX, 1, CONF_DEFAULT_QUEUE_TTL, ALL)		\
	X(smtp_ciphers, "smtp ciphers", "ciphers", STRING,		\
	    "a cipher list", 0, 0, 1, CONF_DEFAULT_CIPHERS, ALL)	\
	X(max_message_size, "smtp max-message-size", "max-message-size", \
	    SIZE, "a size", 0, LLONG_MAX, 1,				\
	    CONF_DEFAULT_MAX_MESSAGE_SIZE, ALL)				\
	X(sub_addr_delim, "smtp sub-addr-delim", "subaddressing-delimiter", \
	    CHAR, "one character", 0, 0, 1, '+', ALL)			\
	X(srs_key, "srs key", NULL, STRING, "a key",			\
	    0, 0, 1, NULL, LOOKUP)					\
	X(srs_key_backup, "srs key backup", NULL, STRING, "a key",	\
	    0, 0, 1, NULL, LOOKUP)					\
	X(srs_ttl, "srs ttl", NULL, DELAY, "ttl",			\
	    86400, LLONG_MAX, 86400, CONF_DEFAULT_SRS_TTL, ALL)

/* the C type of each option type; the list types declare their own */
#define CONF_OPT_FIELD_FLAG(f)		int f;
#define CONF_OPT_FIELD_NUMBER(f)	long long f;
#define CONF_OPT_FIELD_DELAY(f)		long long f;
#define CONF_OPT_FIELD_SIZE(f)		long long f;
#define CONF_OPT_FIELD_STRING(f)	char *f;
#define CONF_OPT_FIELD_WORD(f)		char *f;
#define CONF_OPT_FIELD_CHAR(f)		char f;
#define CONF_OPT_FIELD_DELAYS(f)	struct conf_delays f;
#define CONF_OPT_FIELD_KEYFLAG(f)	struct conf_keyflag f;
#define CONF_OPT_FIELD_LIMITS(f)
#define CONF_OPT_FIELD_WRAPPERS(f)
#define CONF_OPT_FIELD_MTA_LIMITS(f)

struct conf_arena;

struct smtpd_conf {
	struct conf_arena	*arena;
	int			 legacy;	/* translated from 5.x grammar */
	int			 redacted;	/* built by conf_deserialize */

	/* global options (CONF_OPTIONS) */
#define CONF_X_OPTION(field, words, legacy, type, what, min, max, step, \
	    def, seen)	CONF_OPT_FIELD_##type(field)
	CONF_OPTIONS(CONF_X_OPTION)
#undef CONF_X_OPTION
	struct conf_mda_limits	 mda_limits;
	struct conf_scheduler_limits scheduler_limits;
	struct conf_smtp_limits	 smtp_limits;
	struct conf_mta_limit	*mta_limits;	/* in file order */
	size_t			 nmta_limits;

	struct conf_pki		**pkis;		size_t npkis;
	struct conf_ca		**cas;		size_t ncas;
	struct conf_table	**tables;	size_t ntables;	/* named */
	struct conf_wrapper	**wrappers;	size_t nwrappers;
	struct conf_proc	**procs;	size_t nprocs;
	struct conf_filter	**filters;	size_t nfilters;
	struct conf_listener	**listeners;	size_t nlisteners;
	struct conf_action	**actions;	size_t nactions;
	struct conf_rule	**rules;	size_t nrules;	/* first wins */
};

/* conf_load - parse FILE with -D macros ("name=value"); on error print
 * every error as "FILE:LINE: message" to errors and return NULL.  When
 * the log is verbose (smtpd -v), macros never expanded are reported to
 * errors as warnings.  LIBEXEC is where table helpers are found (-o
 * libexec; NULL for the built-in directory). */
struct smtpd_conf *conf_load(const char *path, const char *const *macros,
	    int nmacros, FILE *errors, const char *libexec);
/* conf_load_string - same from a buffer, NAME used in messages */
struct smtpd_conf *conf_load_string(const char *name, const char *text,
	    size_t len, const char *const *macros, int nmacros, FILE *errors,
	    const char *libexec);
/* conf_dump - print the configuration in canonical modern grammar */
void	conf_dump(FILE *, const struct smtpd_conf *);
void	conf_free(struct smtpd_conf **);

/* conf_serialize - canonical text for process for_proc (enum proc_id),
 * without the secrets that process must not hold; 0 or -1 */
int	conf_serialize(const struct smtpd_conf *, int for_proc,
	    unsigned char **buf, size_t *len);
/* conf_deserialize - rebuild from conf_serialize(); NULL if malformed */
struct smtpd_conf *conf_deserialize(const unsigned char *, size_t);

/* conf_equal - A and B field by field (file:line positions aside): 1, or
 * 0 with the first difference in WHY */
int	conf_equal(const struct smtpd_conf *a, const struct smtpd_conf *b,
	    char *why, size_t whysz);

/* conf_table_find - a named table, or NULL */
struct conf_table *conf_table_find(const struct smtpd_conf *, const char *);
/* conf_action_find - an action by name, or NULL */
struct conf_action *conf_action_find(const struct smtpd_conf *, const char *);

/* conf_pki_read_cert / conf_pki_read_key - the bytes of a pki file
 * once its owner and mode pass the checks of the parse (TLS-01: a key
 * open to others is refused); NULL with a reason.  For the parent,
 * which hands them out at start (tls); the caller wipes and frees. */
unsigned char	*conf_pki_read_cert(const char *, size_t *, char *, size_t);
unsigned char	*conf_pki_read_key(const char *, size_t *, char *, size_t);

/* the built-in configuration; it needs the -D macros smtpd_port,
 * smtpd_maildir (a quoted path) and smtpd_mailuser (an account name) */
extern const char conf_default_text[];

#endif
