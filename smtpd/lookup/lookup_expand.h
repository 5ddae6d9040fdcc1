/*
 * lookup_expand.h -- rule matching and recipient expansion, the work
 * the lookup process does for every RCPT TO (issue 8 part 4).
 *
 * lookup_rules.c resolves the configuration's `match` rules and actions
 * to tables and evaluates them, first match wins (RULE-*);
 * lookup_expand.c expands one recipient through alias, virtual,
 * userbase, ~/.forward and :include: into the envelopes to queue
 * (EXP-*); lookup_forward.c parses .forward and :include: files and
 * judges a .forward's ownership and mode; lookup_rcpt.c is the imsg
 * glue of IMSG_LOOKUP_EXPAND_RCPT.  Used by lookup.c and the tests.
 *
 * Everything is completion-based over the table API (table.h): a call
 * hands over a completion and returns; embedded tables complete at
 * once, helpers later, on the caller's loop.  Nothing here blocks on a
 * helper, reads a program global or exits on what a table, a file or a
 * client gave it: bad input is a 4xx/5xx result and a log line.
 */
#ifndef SMTPD_LOOKUP_EXPAND_H
#define SMTPD_LOOKUP_EXPAND_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>

#include "conf.h"
#include "envelope.h"
#include "mproc.h"
#include "table.h"

#define LOOKUP_EXPAND_DEPTH_MAX	10	/* alias levels, EXP-03 (6.8) */
#define LOOKUP_EXPAND_NODES_MAX	1000	/* addresses in one expansion */
#define LOOKUP_FILE_MAX		(64 * 1024)	/* .forward, :include: */
#define LOOKUP_LOCAL_MAX	256	/* local names and addresses */

/*
 * The ~/.forward hook: the lookup process is unprivileged, so the
 * caller (lookup.c asks the parent, which opens it in a child running
 * as UID/GID: parent_forward.c) opens USER's HOME/.forward and calls
 * DONE with an open descriptor (given to the expander, which closes it)
 * or -1 and an errno: 0 or ENOENT no .forward; EPERM or EACCES refused
 * by the opener (e.g. group-writable home; it logged why), delivery
 * goes to the mailbox; anything else (EAGAIN: sticky home) a temporary
 * failure.  DONE may be called before the hook returns.
 */
typedef void (*lookup_forward_done_fn)(void *done_arg, int fd, int error);
typedef void (*lookup_forward_fn)(void *hook_arg, const char *user,
    const char *home, uid_t uid, gid_t gid, lookup_forward_done_fn done,
    void *done_arg);

struct lookup_params {
	const char		*server_name;	/* `for local` */
	char			 subaddr_delim;	/* 0: '+' */
	const char		*alias_user;	/* runs alias pipes and files */
	const char		*libexec;	/* mail.mboxfile; NULL built-in */
	lookup_forward_fn	 forward_open;	/* NULL: no .forward at all */
	void			*forward_arg;
	/* the configuration's named tables, by name */
	struct table		*(*table_find)(void *arg, const char *name);
	void			*table_arg;
	int			 no_interfaces;	/* tests: skip getifaddrs */
};

struct lookup_rules;

/* lookup_rules.c */
/* lookup_rules_new - CONF's rules and actions on tables; NULL with ERR */
struct lookup_rules	*lookup_rules_new(const struct smtpd_conf *,
			    const struct lookup_params *, char *err,
			    size_t errsz);
/* lookup_rules_add_local - one more local name or address literal */
int			 lookup_rules_add_local(struct lookup_rules *,
			    const char *);
void			 lookup_rules_free(struct lookup_rules **);

/*
 * lookup_rules_match - the first rule matching EVP (its rcpt is the
 * address matched; INTERNAL: produced by expansion, hence from local,
 * RULE-27).  DONE gets 1 and the rule, 0 (none) or -1 (a table failed,
 * RULE-26).  EVP must live until DONE.
 */
typedef void (*lookup_match_fn)(void *arg, int r, const struct conf_rule *);
void	lookup_rules_match(struct lookup_rules *, const struct envelope *evp,
	    int internal, lookup_match_fn done, void *arg);

/* what lookup_expand.c needs of the rules (lookup_rules.c) */
const struct lookup_params *lookup_rules_params(const struct lookup_rules *);
struct table	*lookup_rules_table(const struct lookup_rules *,
		    const struct conf_table *);
struct table	*lookup_rules_userbase(const struct lookup_rules *,
		    const struct conf_action *);

/*
 * lookup_expand.c: lookup_expand_rcpt - match and expand EVP's rcpt.
 * On success ENVELOPE is called for each envelope to queue, then DONE
 * with 250; on failure DONE alone (550 5.1.1 unknown, 550 5.7.1 no rule
 * or reject, 451 4.3.0 temporary, 524 5.2.4 too deep or empty, or an
 * alias's error: code).  DONE is called exactly once, maybe before
 * this returns.
 */
typedef void (*lookup_expand_envelope_fn)(void *arg,
    const struct envelope *);
typedef void (*lookup_expand_done_fn)(void *arg, int code, const char *text);
void	lookup_expand_rcpt(struct lookup_rules *, const struct envelope *evp,
	    lookup_expand_envelope_fn envelope, lookup_expand_done_fn done,
	    void *arg);

/* lookup_userinfo.c: IMSG_LOOKUP_USERINFO, the account a delivery runs
 * as, from the action's userbase */
void	lookup_userinfo_on_request(struct lookup_rules *, struct mproc *,
	    struct imsg *);

/* lookup_auth.c: IMSG_LOOKUP_CHECK_CREDENTIALS (a password against a
 * credentials table) and IMSG_LOOKUP_CHECK_SENDER (`senders`) */
void	lookup_auth_on_check_credentials(struct lookup_rules *,
	    struct mproc *, struct imsg *);
void	lookup_auth_on_check_sender(struct lookup_rules *, struct mproc *,
	    struct imsg *);

/* lookup_relay.c (mtatls): IMSG_LOOKUP_RELAY_TABLE, a relay action's
 * table entry (`auth` credentials by URL label) */
void	lookup_relay_on_table(struct lookup_rules *, struct mproc *,
	    struct imsg *);
/* lookup_relay_on_list - IMSG_LOOKUP_RELAY_LIST: the values of a relay
 * action's non-inline `src` or `relay host` table, fetched in turn */
void	lookup_relay_on_list(struct lookup_rules *, struct mproc *,
	    struct imsg *);

/* lookup_forward.c */
/*
 * lookup_forward_parse - a .forward or :include: text: one alias list
 * per line (alias syntax), `#` comments, blank lines; CB per element.
 * 0, or -1 with a reason (NUL byte, line too long, bad element, CB -1).
 */
int	lookup_forward_parse(const char *text, size_t len,
	    int (*cb)(const struct table_alias *, void *), void *arg,
	    char *err, size_t errsz);
/* lookup_forward_check - may a .forward with ST be used for UID: 0 or
 * -1 with why (not regular, owned by neither UID nor root, group/world
 * writable) */
int	lookup_forward_check(const struct stat *st, uid_t uid, char *why,
	    size_t whysz);
/* lookup_forward_read - at most LOOKUP_FILE_MAX bytes of a regular file
 * FD into a NUL-terminated BUF (LOOKUP_FILE_MAX + 1); length or -1 */
ssize_t	lookup_forward_read(int fd, char *buf, char *why, size_t whysz);

/* lookup_rcpt.c: the handler of IMSG_LOOKUP_EXPAND_RCPT */
void	lookup_rcpt_on_expand(struct lookup_rules *, struct mproc *,
	    struct imsg *);

#endif
