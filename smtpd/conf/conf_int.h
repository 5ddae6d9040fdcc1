/*
 * conf_int.h -- what the files of smtpd/conf share and nobody else sees:
 * the arena, the lexer and the parser state.
 *
 * Errors: a syntax error prints "FILE:LINE: message" and longjmps back to
 * the statement loop, which skips to the end of the line; a semantic
 * error prints and lets the parse go on.  Every allocation goes to the
 * configuration's arena, so an abandoned statement leaks nothing.
 */
#ifndef SMTPD_CONF_INT_H
#define SMTPD_CONF_INT_H

#include <setjmp.h>
#include <stdarg.h>

#include "conf.h"

/* arena: every allocation of one configuration */
struct conf_arena *conf_arena_new(void);
void	 conf_arena_free(struct conf_arena **);
void	*conf_alloc(struct conf_arena *, size_t);	/* zeroed */
char	*conf_strdup(struct conf_arena *, const char *);
char	*conf_strndup(struct conf_arena *, const char *, size_t);
/* conf_push - append ptr to a pointer array kept in the arena */
void	 conf_push(struct conf_arena *, void *arrayp, size_t *n, void *ptr);

enum conf_svc {
	SVC_ALIAS, SVC_USERINFO, SVC_CREDENTIALS, SVC_MAILADDRMAP,
	SVC_ADDRNAME, SVC_SOURCE, SVC_RELAYHOST, SVC_RELAYMAP, SVC_NETADDR,
	SVC_DOMAIN, SVC_MAILADDR, SVC_AUTH, SVC_STRING, SVC_REGEX
};

/* the global statements of CONF_OPTIONS, as data (conf_option.c) */
enum conf_opt_type {
	CONF_OPT_FLAG, CONF_OPT_NUMBER, CONF_OPT_DELAY, CONF_OPT_SIZE,
	CONF_OPT_STRING, CONF_OPT_WORD, CONF_OPT_CHAR, CONF_OPT_DELAYS,
	CONF_OPT_KEYFLAG, CONF_OPT_LIMITS, CONF_OPT_WRAPPERS,
	CONF_OPT_MTA_LIMITS
};

/* which processes besides parent may hold a value */
enum conf_seen {
	CONF_SEEN_ALL,
	CONF_SEEN_LOOKUP,	/* srs keys, credentials */
	CONF_SEEN_QUEUE,	/* the queue encryption key */
	CONF_SEEN_CA		/* private keys */
};

struct conf_option {
	const char		*words;		/* "smtp max-message-size" */
	const char		*legacy;	/* 5.x keyword, or NULL */
	enum conf_opt_type	 type;
	const char		*what;		/* the value, in messages */
	size_t			 offset;	/* in struct smtpd_conf */
	long long		 min, max;
	long long		 step;
	long long		 ndef;		/* default of a number */
	const char		*sdef;		/* default of a string */
	enum conf_seen		 seen;
};

extern const struct conf_option	conf_options[];
extern const size_t		conf_noptions;

/* the options of an action, after its method (conf_option.c) */
enum conf_aopt_type {
	CONF_AOPT_FLAG,		/* int: present */
	CONF_AOPT_STRING,	/* char * */
	CONF_AOPT_TABLE,	/* struct conf_table * for svc */
	CONF_AOPT_BACKUP,	/* backup [mx NAME] */
	CONF_AOPT_TLS,		/* tls [no-verify] */
	CONF_AOPT_FILTER	/* filter NAME | filter { ... } */
};

/* what a value must also satisfy */
enum conf_aopt_check {
	CONF_ACHECK_NONE,
	CONF_ACHECK_ALIAS,	/* alias or virtual, not both */
	CONF_ACHECK_WRAPPER,	/* a declared mda wrapper */
	CONF_ACHECK_PKI,	/* a declared pki */
	CONF_ACHECK_CA,		/* a declared ca */
	CONF_ACHECK_URLS,	/* every entry a relay URL */
	CONF_ACHECK_URL_VALUES	/* every value a relay URL */
};

struct conf_action_option {
	const char		*kw;
	enum conf_aopt_type	 type;
	size_t			 offset;	/* in struct conf_action */
	int			 relay;		/* 1 relay, 0 local delivery */
	enum conf_svc		 svc;		/* CONF_AOPT_TABLE */
	const char		*what;		/* CONF_AOPT_STRING, messages */
	enum conf_aopt_check	 check;
};

extern const struct conf_action_option	conf_action_options[];
extern const size_t			conf_naction_options;

/*
 * The options of a listen on line (conf_option.c): one row per keyword,
 * in the order of the canonical dump.  Several rows may set one field
 * (inet4/inet6, tls/tls-require/smtps, auth/auth-optional); the rows
 * that only parse (5.x spellings, CONF_LOPT_ALIAS) are neither dumped
 * nor compared, since another row owns their field.
 */
enum conf_lopt_type {
	CONF_LOPT_FLAG,		/* int: 1 when present */
	CONF_LOPT_ENUM,		/* int = val; [sub] sets the int at offset2 */
	CONF_LOPT_AUTH,		/* int = val; [<table>] at offset2 */
	CONF_LOPT_PORT,		/* int: a port */
	CONF_LOPT_NAME,		/* char *, dumped bare when it can be */
	CONF_LOPT_STRING,	/* char *, dumped quoted */
	CONF_LOPT_TAG,		/* char *, a value of at most CONF_TAG_MAX */
	CONF_LOPT_PKIS,		/* char ** at offset, its count at offset2 */
	CONF_LOPT_TABLE,	/* struct conf_table * for svc; [sub] as ENUM */
	CONF_LOPT_FILTER,	/* struct conf_filter_ref */
	CONF_LOPT_DUAL,		/* 5.x secure/ssl: tls on 25 + smtps on 465 */
	CONF_LOPT_CERT		/* 5.3 certificate NAME */
};

#define CONF_LOPT_SOCKET	0x01	/* valid on listen on socket */
#define CONF_LOPT_LEGACY	0x02	/* a 5.x word: marks the grammar */
#define CONF_LOPT_ALIAS		0x04	/* parse only: not dumped, compared */

struct conf_listen_option {
	const char		*kw;
	enum conf_lopt_type	 type;
	size_t			 offset;	/* in struct conf_listener */
	size_t			 offset2;	/* second field, if any */
	int			 val;		/* CONF_LOPT_ENUM, _AUTH */
	const char		*sub;		/* word that may follow */
	const char		*once;		/* "ONCE already specified";
						 * NULL: may repeat */
	const char		*what;		/* the value, in messages */
	enum conf_svc		 svc;		/* CONF_LOPT_TABLE, _AUTH */
	unsigned		 flags;		/* CONF_LOPT_SOCKET ... */
	const char		*field, *field2; /* names in conf_equal() */
};

extern const struct conf_listen_option	conf_listen_options[];
extern const size_t			conf_nlisten_options;

/* conf_option.c */
void	 conf_option_defaults(struct smtpd_conf *);
const struct conf_option *conf_option_find(const char *words);
const struct conf_option *conf_option_find_legacy(const char *kw);
int	 conf_option_first_word(const char *kw);
const char *conf_option_last_word(const struct conf_option *);
#define CONF_OPT_PTR(c, o, type) \
	((type *)(void *)((char *)(c) + (o)->offset))
#define CONF_OPT_CPTR(c, o, type) \
	((const type *)(const void *)((const char *)(c) + (o)->offset))

enum conf_tok_type {
	T_EOF, T_NL, T_WORD, T_QSTR, T_LBRACE, T_RBRACE, T_LT, T_GT,
	T_BANG, T_COMMA, T_EQ, T_ARROW
};

struct conf_tok {
	enum conf_tok_type	 type;
	char			*s;	/* text of WORD / QSTR, NUL-terminated */
	size_t			 len;
	const char		*file;
	int			 line;
};

struct conf_src;
struct conf_macro;
struct conf_table_handle;
struct conf_tls_nopki;

struct conf_parser {
	struct smtpd_conf	*conf;
	struct conf_arena	*a;
	FILE			*errors;
	int			 trusted;	/* internal text: no fs checks */
	const char		*libexec;	/* table helpers; NULL: built-in */
	int			 nerrors;
	jmp_buf			 recover;	/* skip to the end of line */
	jmp_buf			 abort;		/* give up the whole parse */

	/* lexer */
	struct conf_src		*src;
	int			 nsrc_files;
	struct conf_macro	*macros;		/* in definition order */
	struct conf_macro	*macros_last;
	struct conf_macro	**macro_hash;		/* macro_nhash chains */
	size_t			 macro_nhash;		/* a power of two */
	size_t			 nmacros;
	size_t			 macro_expanded;	/* bytes expanded */
	struct conf_tok		 tok;		/* current (consumed) token */
	struct conf_tok		 ahead;		/* lookahead */
	int			 have_ahead;
	int			 lex_error;	/* last error was lexical */
	char			*tokbuf;	/* CONF_TOKEN_MAX + 1 */
	char			*aheadbuf;
	const char		*lastfile;
	const char		*stmt_file;	/* file of the statement */
	int			 stmt_line;
	int			 lastline;

	/* grammar mode: line of the first legacy and first modern rule */
	int			 legacy_line;
	int			 modern_line;
	const char		*legacy_what;
	int			 mix_reported;
	int			 nlegacy_rules;
	int			 socket_seen;
	int			 anon_seq;
	struct conf_ca		**legacy_cas;	/* pki H ca F (5.4) */
	size_t			 nlegacy_cas;
	struct conf_table_handle **handles;	/* file: and db: tables */
	size_t			 nhandles;
	struct conf_tls_nopki	**tls_nopki;	/* TLS listeners, no pki */
	size_t			 ntls_nopki;
};

/* conf_lex.c */
void	conf_lex_init(struct conf_parser *);
void	conf_lex_done(struct conf_parser *);
int	conf_lex_push_file(struct conf_parser *, const char *path, int line);
void	conf_lex_push_buffer(struct conf_parser *, const char *name,
	    const char *text, size_t len);
int	conf_macro_define(struct conf_parser *, const char *name,
	    const char *value, int cmdline);
void	conf_macro_report_unused(struct conf_parser *);
void	conf_lex_skip_line(struct conf_parser *);
struct conf_tok *conf_next(struct conf_parser *);
struct conf_tok *conf_peek(struct conf_parser *);
int	conf_is_reserved(const char *);

/* conf_parse.c */
void	conf_error(struct conf_parser *, int line, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	conf_warn(struct conf_parser *, int line, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	conf_syntax(struct conf_parser *, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	conf_unexpected(struct conf_parser *, struct conf_tok *,
	    const char *want) __attribute__((noreturn));
void	conf_fatal(struct conf_parser *, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
int	conf_parse(struct conf_parser *);
int	conf_peek_kw(struct conf_parser *, const char *);
int	conf_accept_kw(struct conf_parser *, const char *);
void	conf_expect_kw(struct conf_parser *, const char *);
void	conf_expect_nl(struct conf_parser *, const char *after);
char	*conf_expect_string(struct conf_parser *, const char *what);
char	*conf_expect_value(struct conf_parser *, const char *what);
long long conf_expect_number(struct conf_parser *, const char *what,
	    long long min, long long max);
long long conf_expect_delay(struct conf_parser *, const char *what);
int	conf_peek_table(struct conf_parser *);
int	conf_parse_number(const char *, long long min, long long max,
	    long long *);
long long conf_parse_size(const char *);
int	conf_parse_port(const char *);


void	conf_parse_global_limit(struct conf_parser *, const char *which);
int	conf_parse_global(struct conf_parser *, const char *kw,
	    const char *sub, int line);
void	conf_parse_option(struct conf_parser *, const struct conf_option *,
	    int line);
void	conf_parse_option_line(struct conf_parser *,
	    const struct conf_option *, int line);
void	conf_format_delay(char *, size_t, long long);
void	conf_mode_mark(struct conf_parser *, int legacy, int line,
	    const char *what);

/* conf_parse_table.c */
struct conf_table *conf_parse_tables(struct conf_parser *, enum conf_svc);
void	conf_check_netaddr(struct conf_parser *, struct conf_table *, int);
void	conf_check_regex(struct conf_parser *, struct conf_table *, int);
struct conf_table *conf_table_single(struct conf_parser *, const char *);
struct conf_tok *conf_skip_nl(struct conf_parser *);
void	conf_parse_table(struct conf_parser *, int line);
void	conf_table_close_all(struct conf_parser *);

/* conf_parse_pki.c */
struct conf_pki *conf_pki_get(struct conf_parser *, const char *, int);
struct conf_ca *conf_ca_get(struct conf_parser *, const char *, int);
void	conf_parse_pki(struct conf_parser *, int line);
void	conf_parse_ca(struct conf_parser *, int line);
void	conf_pki_load_all(struct conf_parser *);

/* conf_parse_filter.c */
void	conf_parse_filter_ref(struct conf_parser *, struct conf_filter_ref *,
	    int chain_only, int line);
void	conf_parse_filter(struct conf_parser *, int line);
void	conf_parse_proc(struct conf_parser *, int line);

/* conf_parse_listen.c */
void	conf_parse_listen(struct conf_parser *, int line);
void	conf_add_listener(struct conf_parser *, struct conf_listener *,
	    int line);
void	conf_listen_finish(struct conf_parser *);

/* conf_parse_action.c */
int	conf_check_relay_url(struct conf_parser *, const char *, int line);
void	conf_action_add(struct conf_parser *, struct conf_action *,
	    int line);
void	conf_parse_action(struct conf_parser *, int line);

/* conf_parse_match.c */
void	conf_rule_finish(struct conf_parser *, struct conf_rule *);
void	conf_parse_match(struct conf_parser *, int line);

/* conf_legacy.c */
int	conf_legacy_statement(struct conf_parser *, struct conf_tok *);
void	conf_legacy_finish(struct conf_parser *);

/* conf_dump.c */
void	conf_dump_action_body(FILE *, const struct conf_action *);
void	conf_dump_redacted(FILE *, const struct smtpd_conf *, int for_proc);
const char *conf_method_name(enum conf_method);

#endif
