/*
 * lookup_expand.c -- the expansion of one recipient into the envelopes
 * to queue (EXP-01..14, RULE-27).
 *
 * Runs in the lookup process, for lookup_rcpt.c.  The recipient is the
 * root of a tree of nodes: an address is matched against the rules
 * (again, as from local, when expansion produced it); a relay action
 * makes it an mta envelope; a local action looks it up in the virtual
 * table or turns it into a user name, which goes through the alias
 * table, the userbase and ~/.forward (opened by the caller's hook, the
 * parent, as the user); files, commands and :include: come from alias
 * values and .forward lines.  A node already in the tree is not
 * expanded again (loops, duplicates); too deep or too many nodes is 524.
 * Each step is a table query or hook with a completion; answers that
 * arrive at once are taken by the run loop, so the stack stays flat.
 * Envelopes are kept until the whole tree is done: a failure anywhere
 * leaves none.  Never blocks on a helper, never trusts a table's value
 * or a user's file: a bad one is a result code and a log line.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "lookup_expand.h"
#include "xmalloc.h"

#define LOOKUP_MBOXFILE		"mail.mboxfile"
#define LOOKUP_KEYS_MAX		6	/* virtual: user@dom ... @ */
/* the bytes of a /file target written unquoted in its command */
#define LOOKUP_PATH_PLAIN	"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@,=:"

enum lookup_node_kind {
	LOOKUP_NODE_ADDRESS,
	LOOKUP_NODE_USERNAME,
	LOOKUP_NODE_FILENAME,
	LOOKUP_NODE_COMMAND,
	LOOKUP_NODE_INCLUDE,
	LOOKUP_NODE_ERROR,
};

struct lookup_node {
	enum lookup_node_kind	 kind;
	struct mailaddr		 addr;	/* address; user and its domain */
	char			*text;	/* path, command, error text */
	int			 code;	/* error */
	int			 depth;
	int			 sameuser;	/* a user aliased to itself */
	const struct conf_action *action;	/* under which it was made */
	char			 owner[ENVELOPE_MDA_USER_SIZE]; /* .forward */
	uid_t			 owner_uid;
	struct lookup_node	*parent;
};

struct lookup_expand;
typedef void (*lookup_resume_fn)(struct lookup_expand *);

struct lookup_expand {
	struct lookup_rules		*rules;
	const struct lookup_params	*params;
	struct envelope			 evp;	/* as received */
	struct envelope			 mevp;	/* the one being matched */
	struct lookup_node		**nodes;
	size_t				 nnodes;
	size_t				 cursor;
	struct lookup_node		*cur;
	struct envelope			**out;
	size_t				 nout;

	/* the one request out, and its answer */
	int				 in_run;
	int				 pending;
	int				 answered;
	lookup_resume_fn		 resume;
	int				 r;
	char				*value;
	const struct conf_rule		*rule;
	int				 fd;
	int				 error;

	/* keys tried in turn (virtual, alias) */
	char				 keys[LOOKUP_KEYS_MAX][MAILADDR_TEXT_SIZE];
	int				 nkeys;
	int				 key;
	char				 subaddr[ENVELOPE_SUBADDR_SIZE];
	struct table_userinfo		 userinfo;

	size_t				 nelements;
	char				*text_buf;	/* envelope_dump */
	int				 keep_owner;	/* a file's lines */
	int				 finished;
	int				 code;
	char				 text[ENVELOPE_ERRORLINE_SIZE];
	lookup_expand_envelope_fn	 on_envelope;
	lookup_expand_done_fn		 on_done;
	void				*arg;
};

static void	lookup_expand_run(struct lookup_expand *);
static void	lookup_expand_userbase(struct lookup_expand *);
static void	lookup_expand_mailbox(struct lookup_expand *);
static void	lookup_expand_on_userinfo(struct lookup_expand *);
static void	lookup_expand_on_forward_fd(struct lookup_expand *);

/* lookup_expand_lower - lower-case S in place */
static void
lookup_expand_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* lookup_expand_fail - the result, unless one is already known */
static void
lookup_expand_fail(struct lookup_expand *x, int code, const char *text)
{
	if (x->finished)
		return;
	x->finished = 1;
	x->code = code;
	(void)strlcpy(x->text, text, sizeof x->text);
}

static void
lookup_expand_tempfail(struct lookup_expand *x)
{
	lookup_expand_fail(x, 451, "4.3.0 Temporary failure");
}

static void
lookup_expand_unknown(struct lookup_expand *x)
{
	lookup_expand_fail(x, 550, "5.1.1 Invalid recipient");
}

/* lookup_expand_wait - a request goes out; RESUME takes its answer */
static void
lookup_expand_wait(struct lookup_expand *x, lookup_resume_fn resume)
{
	x->pending = 1;
	x->resume = resume;
}

/* lookup_expand_answer - an answer came: run on unless inside the loop */
static void
lookup_expand_answer(struct lookup_expand *x)
{
	x->pending = 0;
	x->answered = 1;
	if (!x->in_run)
		lookup_expand_run(x);
}

static void
lookup_expand_on_table(void *arg, int r, const char *value)
{
	struct lookup_expand	*x = arg;

	x->r = r;
	free(x->value);
	x->value = value != NULL ? xstrdup(value) : NULL;
	lookup_expand_answer(x);
}

static void
lookup_expand_on_match(void *arg, int r, const struct conf_rule *rule)
{
	struct lookup_expand	*x = arg;

	x->r = r;
	x->rule = rule;
	lookup_expand_answer(x);
}

static void
lookup_expand_on_forward(void *arg, int fd, int error)
{
	struct lookup_expand	*x = arg;

	x->fd = fd;
	x->error = error;
	lookup_expand_answer(x);
}

/* lookup_expand_text_ok - no control character, not empty */
static int
lookup_expand_text_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

/* lookup_expand_domain_ok - letters, digits, . - _ and a [literal] */
static int
lookup_expand_domain_ok(const char *d)
{
	for (; *d != '\0'; d++)
		if (!isalnum((unsigned char)*d) &&
		    strchr(".-_[]:", *d) == NULL)
			return 0;
	return 1;
}

/* lookup_expand_addr_ok - an address we may look up and write */
static int
lookup_expand_addr_ok(const struct mailaddr *a)
{
	return lookup_expand_text_ok(a->user) &&
	    strchr(a->user, ' ') == NULL && lookup_expand_domain_ok(a->domain);
}

/* lookup_node_same - would B repeat A in the tree */
static int
lookup_node_same(const struct lookup_node *a, const struct lookup_node *b)
{
	if (a->kind != b->kind || a->sameuser != b->sameuser)
		return 0;
	switch (a->kind) {
	case LOOKUP_NODE_ADDRESS:
		return strcasecmp(a->addr.user, b->addr.user) == 0 &&
		    strcasecmp(a->addr.domain, b->addr.domain) == 0;
	case LOOKUP_NODE_USERNAME:
		return a->action == b->action &&
		    strcasecmp(a->addr.user, b->addr.user) == 0 &&
		    (a->sameuser == 0 ||
		    strcasecmp(a->addr.domain, b->addr.domain) == 0);
	case LOOKUP_NODE_ERROR:
		return a->code == b->code && strcmp(a->text, b->text) == 0;
	default:
		return strcmp(a->owner, b->owner) == 0 &&
		    strcmp(a->text, b->text) == 0;
	}
}

/* lookup_expand_insert - NODE into the tree unless there; 0 or -1 */
static int
lookup_expand_insert(struct lookup_expand *x, struct lookup_node *n)
{
	size_t	i;

	for (i = 0; i < x->nnodes; i++)
		if (lookup_node_same(x->nodes[i], n)) {
			log_debug("lookup: expansion: \"%s%s%s\" already "
			    "expanded, skipped", n->text ? n->text :
			    n->addr.user, n->text ? "" : "@",
			    n->text ? "" : n->addr.domain);
			free(n->text);
			free(n);
			return 0;
		}
	if (n->depth > LOOKUP_EXPAND_DEPTH_MAX ||
	    x->nnodes >= LOOKUP_EXPAND_NODES_MAX) {
		log_warnx("lookup: expansion of %s@%s: %s", x->evp.rcpt.user,
		    x->evp.rcpt.domain, n->depth > LOOKUP_EXPAND_DEPTH_MAX ?
		    "too deep" : "too many addresses");
		free(n->text);
		free(n);
		lookup_expand_fail(x, 524, "5.2.4 Mailing list expansion "
		    "problem");
		return -1;
	}
	x->nodes = xreallocarray(x->nodes, x->nnodes + 1, sizeof *x->nodes);
	x->nodes[x->nnodes++] = n;
	return 0;
}

/* lookup_node_new - a child of PARENT (NULL: the root) */
static struct lookup_node *
lookup_node_new(struct lookup_node *parent, enum lookup_node_kind kind,
    int depth)
{
	struct lookup_node	*n;

	n = xcalloc(1, sizeof *n);
	n->kind = kind;
	n->depth = depth;
	n->parent = parent;
	if (parent != NULL) {
		n->action = parent->action;
		n->addr = parent->addr;
		(void)strlcpy(n->owner, parent->owner, sizeof n->owner);
		n->owner_uid = parent->owner_uid;
	}
	return n;
}

/* lookup_expand_child - one alias element, a child of the current node */
static int
lookup_expand_child(const struct table_alias *a, void *arg)
{
	struct lookup_expand	*x = arg;
	struct lookup_node	*p = x->cur, *n;
	static const enum lookup_node_kind kinds[] = {
		[TABLE_ALIAS_USERNAME] = LOOKUP_NODE_USERNAME,
		[TABLE_ALIAS_ADDRESS] = LOOKUP_NODE_ADDRESS,
		[TABLE_ALIAS_FILENAME] = LOOKUP_NODE_FILENAME,
		[TABLE_ALIAS_COMMAND] = LOOKUP_NODE_COMMAND,
		[TABLE_ALIAS_INCLUDE] = LOOKUP_NODE_INCLUDE,
		[TABLE_ALIAS_ERROR] = LOOKUP_NODE_ERROR,
	};

	x->nelements++;
	/* EXP-07: root's .forward may not name files, commands, includes */
	if (x->keep_owner && p->owner[0] != '\0' && p->owner_uid == 0 &&
	    (a->kind == TABLE_ALIAS_FILENAME || a->kind == TABLE_ALIAS_COMMAND ||
	    a->kind == TABLE_ALIAS_INCLUDE)) {
		log_warnx("lookup: .forward of %s: files, commands and "
		    "includes are refused for root", p->owner);
		lookup_expand_fail(x, 550, "5.7.1 Delivery not authorized");
		return -1;
	}
	n = lookup_node_new(p, kinds[a->kind], p->depth + 1);
	/* an alias table's targets run as the daemon's user, not as the
	 * owner of a .forward that led there (EXP-14) */
	if (!x->keep_owner) {
		n->owner[0] = '\0';
		n->owner_uid = 0;
	}
	switch (a->kind) {
	case TABLE_ALIAS_USERNAME:
		(void)strlcpy(n->addr.user, a->addr.user, sizeof n->addr.user);
		lookup_expand_lower(n->addr.user);
		n->sameuser = p->kind == LOOKUP_NODE_USERNAME &&
		    strcmp(n->addr.user, p->addr.user) == 0;
		break;
	case TABLE_ALIAS_ADDRESS:
		n->addr = a->addr;
		/* maybe the user's own address: see lookup_expand_on_rule */
		n->sameuser = p->kind == LOOKUP_NODE_USERNAME &&
		    strcasecmp(n->addr.user, p->addr.user) == 0;
		break;
	default:
		n->text = xstrdup(a->text);
		n->code = a->code;
		break;
	}
	return lookup_expand_insert(x, n);
}

/* lookup_expand_child_list - list callback: one element, parsed */
static int
lookup_expand_child_list(const char *element, void *arg)
{
	struct lookup_expand	*x = arg;
	struct table_alias	 a;
	char			 err[256];

	if (table_parse_alias(element, &a, err, sizeof err) == -1) {
		log_warnx("lookup: expansion of %s: bad element: %s",
		    x->cur->addr.user, err);
		lookup_expand_tempfail(x);
		return -1;
	}
	return lookup_expand_child(&a, x);
}

/* lookup_expand_children - an alias list VALUE under the current node */
static void
lookup_expand_children(struct lookup_expand *x, const char *value,
    const char *what)
{
	char	err[256];

	x->keep_owner = 0;
	if (table_split_list(value, lookup_expand_child_list, x, err,
	    sizeof err) == -1 && !x->finished) {
		log_warnx("lookup: %s of %s: %s", what, x->cur->addr.user,
		    err);
		lookup_expand_tempfail(x);
	}
}

/* lookup_expand_writable - does E make envelope text the queue reads */
static int
lookup_expand_writable(struct lookup_expand *x, const struct envelope *e)
{
	if (x->text_buf == NULL)
		x->text_buf = xmalloc(ENVELOPE_TEXT_MAX + 1);
	return envelope_dump(e, x->text_buf, ENVELOPE_TEXT_MAX + 1) > 0;
}

/* lookup_expand_emit - one envelope for node N, unless a duplicate */
static void
lookup_expand_emit(struct lookup_expand *x, const struct lookup_node *n,
    enum envelope_type type, const char *mda_user, const char *mda_exec,
    const char *subaddr)
{
	struct envelope	*e, *o;
	size_t		 i;

	e = xmalloc(sizeof *e);
	*e = x->evp;
	e->type = type;
	e->dest = n->addr;
	e->errorline[0] = '\0';
	if (n->action->ttl > 0)
		e->ttl = (time_t)n->action->ttl;
	if (strlcpy(e->dispatcher, n->action->name, sizeof e->dispatcher) >=
	    sizeof e->dispatcher ||
	    strlcpy(e->mda_user, mda_user, sizeof e->mda_user) >=
	    sizeof e->mda_user ||
	    strlcpy(e->mda_exec, mda_exec, sizeof e->mda_exec) >=
	    sizeof e->mda_exec ||
	    strlcpy(e->mda_subaddress, subaddr, sizeof e->mda_subaddress) >=
	    sizeof e->mda_subaddress ||
	    !lookup_expand_addr_ok(&e->dest) ||
	    (mda_exec[0] != '\0' && !lookup_expand_text_ok(mda_exec)) ||
	    (subaddr[0] != '\0' && !lookup_expand_text_ok(subaddr)) ||
	    !lookup_expand_writable(x, e)) {
		log_warnx("lookup: expansion of %s@%s: a destination too long "
		    "or with invalid characters", x->evp.rcpt.user,
		    x->evp.rcpt.domain);
		free(e);
		lookup_expand_fail(x, 550, "5.1.3 Invalid destination");
		return;
	}
	for (i = 0; i < x->nout; i++) {
		o = x->out[i];
		if (o->type == e->type && strcmp(o->dispatcher,
		    e->dispatcher) == 0 && strcasecmp(o->dest.user,
		    e->dest.user) == 0 && strcasecmp(o->dest.domain,
		    e->dest.domain) == 0 && strcmp(o->mda_user,
		    e->mda_user) == 0 && strcmp(o->mda_exec, e->mda_exec) == 0) {
			free(e);
			return;
		}
	}
	x->out = xreallocarray(x->out, x->nout + 1, sizeof *x->out);
	x->out[x->nout++] = e;
}

/* lookup_expand_add_key - one key to try, unless the last one repeats */
static void
lookup_expand_add_key(struct lookup_expand *x, const char *user,
    size_t ulen, const char *at, const char *domain)
{
	char	*k;

	if (x->nkeys >= LOOKUP_KEYS_MAX)
		return;
	k = x->keys[x->nkeys];
	(void)snprintf(k, sizeof x->keys[0], "%.*s%s%s", (int)ulen, user, at,
	    domain);
	if (x->nkeys > 0 && strcmp(k, x->keys[x->nkeys - 1]) == 0)
		return;
	x->nkeys++;
}

/* lookup_expand_keys - user (as is, then untagged) [with @domain] */
static void
lookup_expand_keys(struct lookup_expand *x, const struct mailaddr *a,
    int virtual)
{
	const char	*tag;
	size_t		 ulen = strlen(a->user), slen;

	tag = strchr(a->user, x->params->subaddr_delim);
	slen = tag != NULL && tag != a->user ? (size_t)(tag - a->user) : ulen;
	x->nkeys = 0;
	x->key = 0;
	if (virtual) {
		lookup_expand_add_key(x, a->user, ulen, "@", a->domain);
		lookup_expand_add_key(x, a->user, slen, "@", a->domain);
	}
	lookup_expand_add_key(x, a->user, ulen, "", "");
	lookup_expand_add_key(x, a->user, slen, "", "");
	if (virtual) {
		lookup_expand_add_key(x, "", 0, "@", a->domain);
		lookup_expand_add_key(x, "", 0, "@", "");
	}
}

/* lookup_expand_next_key - look the current key up in T */
static void
lookup_expand_next_key(struct lookup_expand *x, struct table *t,
    lookup_resume_fn resume)
{
	lookup_expand_wait(x, resume);
	table_lookup(t, K_ALIAS, x->keys[x->key], lookup_expand_on_table, x);
}

/* lookup_expand_on_virtual - a virtual key answered (EXP-04) */
static void
lookup_expand_on_virtual(struct lookup_expand *x)
{
	if (x->r == -1)
		lookup_expand_tempfail(x);
	else if (x->r == 1)
		lookup_expand_children(x, x->value, "virtual");
	else if (++x->key < x->nkeys)
		lookup_expand_next_key(x, lookup_rules_table(x->rules,
		    x->cur->action->virtual), lookup_expand_on_virtual);
	else
		lookup_expand_unknown(x);
}

/* lookup_expand_on_rule - the rule of an address: relay, or local */
static void
lookup_expand_on_rule(struct lookup_expand *x)
{
	struct lookup_node		*n = x->cur, *u;
	const struct conf_action	*a;
	struct table			*t;

	if (x->r == -1) {
		lookup_expand_tempfail(x);
		return;
	}
	if (x->r == 0 || x->rule->reject || x->rule->action == NULL) {
		log_debug("lookup: %s@%s: %s", n->addr.user, n->addr.domain,
		    x->r == 0 ? "no rule matches" : "rejected by a rule");
		lookup_expand_fail(x, 550, "5.7.1 Invalid recipient");
		return;
	}
	a = n->action = x->rule->action;
	if (a->method == CONF_METHOD_RELAY) {
		lookup_expand_emit(x, n, ENVELOPE_MTA, "", "", "");
		return;
	}
	if (a->virtual != NULL) {
		if ((t = lookup_rules_table(x->rules, a->virtual)) == NULL) {
			lookup_expand_tempfail(x);
			return;
		}
		lookup_expand_keys(x, &n->addr, 1);
		lookup_expand_next_key(x, t, lookup_expand_on_virtual);
		return;
	}
	/* the user of a local address: same level, not an expansion */
	u = lookup_node_new(n, LOOKUP_NODE_USERNAME, n->depth);
	lookup_expand_lower(u->addr.user);
	/* a user whose alias or .forward names its own address, under the
	 * same action, keeps a copy in its mailbox, as with its bare name */
	u->sameuser = n->sameuser && n->parent != NULL &&
	    n->parent->kind == LOOKUP_NODE_USERNAME &&
	    n->parent->action == a &&
	    strcmp(n->parent->addr.user, u->addr.user) == 0;
	(void)lookup_expand_insert(x, u);
}

/* lookup_expand_address - match the rules for an address */
static void
lookup_expand_address(struct lookup_expand *x)
{
	struct lookup_node	*n = x->cur;

	if (!lookup_expand_addr_ok(&n->addr)) {
		log_warnx("lookup: expansion of %s@%s: refused an address "
		    "with invalid characters", x->evp.rcpt.user,
		    x->evp.rcpt.domain);
		lookup_expand_fail(x, 550, "5.1.3 Invalid recipient address");
		return;
	}
	x->mevp = x->evp;
	x->mevp.rcpt = n->addr;
	lookup_expand_wait(x, lookup_expand_on_rule);
	lookup_rules_match(x->rules, &x->mevp, n->depth > 0,
	    lookup_expand_on_match, x);
}

/* lookup_expand_on_alias - an alias key answered (EXP-01, EXP-05) */
static void
lookup_expand_on_alias(struct lookup_expand *x)
{
	if (x->r == -1)
		lookup_expand_tempfail(x);
	else if (x->r == 1)
		lookup_expand_children(x, x->value, "alias");
	else if (++x->key < x->nkeys)
		lookup_expand_next_key(x, lookup_rules_table(x->rules,
		    x->cur->action->alias), lookup_expand_on_alias);
	else
		lookup_expand_userbase(x);
}

/* lookup_expand_username - a user: aliases first, then the userbase */
static void
lookup_expand_username(struct lookup_expand *x)
{
	struct lookup_node	*n = x->cur;
	struct table		*t;

	x->subaddr[0] = '\0';
	if (!lookup_expand_addr_ok(&n->addr)) {
		log_warnx("lookup: expansion of %s@%s: refused a user name "
		    "with invalid characters", x->evp.rcpt.user,
		    x->evp.rcpt.domain);
		lookup_expand_fail(x, 550, "5.1.3 Invalid recipient address");
		return;
	}
	t = lookup_rules_table(x->rules, n->action->alias);
	if (n->sameuser || t == NULL) {
		lookup_expand_userbase(x);
		return;
	}
	lookup_expand_keys(x, &n->addr, 0);
	lookup_expand_next_key(x, t, lookup_expand_on_alias);
}

/* lookup_expand_userbase - is the user known (sub-address removed) */
static void
lookup_expand_userbase(struct lookup_expand *x)
{
	struct lookup_node	*n = x->cur;
	char			*tag;

	tag = strchr(n->addr.user, x->params->subaddr_delim);
	if (tag != NULL && tag != n->addr.user) {
		(void)strlcpy(x->subaddr, tag + 1, sizeof x->subaddr);
		*tag = '\0';
	}
	lookup_expand_wait(x, lookup_expand_on_userinfo);
	table_lookup(lookup_rules_userbase(x->rules, n->action), K_USERINFO,
	    n->addr.user, lookup_expand_on_table, x);
}

/* lookup_expand_on_userinfo - a known user: .forward, or the mailbox */
static void
lookup_expand_on_userinfo(struct lookup_expand *x)
{
	struct lookup_node		*n = x->cur;
	const struct conf_action	*a = n->action;
	const struct lookup_params	*p = x->params;
	char				 err[256];

	if (x->r == -1) {
		lookup_expand_tempfail(x);
		return;
	}
	if (x->r == 0) {
		log_debug("lookup: %s@%s: unknown user %s", x->evp.rcpt.user,
		    x->evp.rcpt.domain, n->addr.user);
		lookup_expand_unknown(x);
		return;
	}
	if (table_parse_userinfo(x->value, &x->userinfo, err,
	    sizeof err) == -1) {
		log_warnx("lookup: userinfo of %s: %s", n->addr.user, err);
		lookup_expand_tempfail(x);
		return;
	}
	/* EXP-08: with `user`, only that user's .forward is read */
	if (n->sameuser || p->forward_open == NULL ||
	    (a->user != NULL && strcmp(a->user, n->addr.user) != 0)) {
		lookup_expand_mailbox(x);
		return;
	}
	x->fd = -1;
	x->error = 0;
	lookup_expand_wait(x, lookup_expand_on_forward_fd);
	p->forward_open(p->forward_arg, n->addr.user, x->userinfo.directory,
	    x->userinfo.uid, x->userinfo.gid, lookup_expand_on_forward, x);
}

/* lookup_expand_file - expand the elements of an open file FD */
static int
lookup_expand_file(struct lookup_expand *x, int fd, const char *what)
{
	char	*buf, why[256];
	ssize_t	 len;
	int	 r = 0;

	buf = xmalloc(LOOKUP_FILE_MAX + 1);
	x->keep_owner = 1;
	if ((len = lookup_forward_read(fd, buf, why, sizeof why)) == -1)
		r = -1;
	else if (lookup_forward_parse(buf, (size_t)len,
	    lookup_expand_child, x, why, sizeof why) == -1 &&
	    !x->finished)
		r = -1;
	if (r == -1)
		log_warnx("lookup: %s: %s", what, why);
	free(buf);
	return r;
}

/* lookup_expand_on_forward_fd - the hook answered (EXP-06) */
static void
lookup_expand_on_forward_fd(struct lookup_expand *x)
{
	struct lookup_node	*n = x->cur;
	struct stat		 st;
	char			 why[256], what[MAILADDR_USER_SIZE + 32];
	int			 fd = x->fd;

	(void)snprintf(what, sizeof what, ".forward of %s", n->addr.user);
	if (fd == -1) {
		if (x->error == 0 || x->error == ENOENT)
			lookup_expand_mailbox(x);
		else if (x->error == EPERM || x->error == EACCES) {
			/* the opener logged why */
			log_debug("lookup: %s refused by the opener: "
			    "mailbox", what);
			lookup_expand_mailbox(x);
		} else {
			log_warnx("lookup: %s: %s: temporary failure", what,
			    strerror(x->error));
			lookup_expand_tempfail(x);
		}
		return;
	}
	x->fd = -1;
	if (fstat(fd, &st) == -1) {
		log_warn("lookup: %s: fstat", what);
		lookup_expand_tempfail(x);
	} else if (lookup_forward_check(&st, x->userinfo.uid, why,
	    sizeof why) == -1) {
		log_warnx("lookup: %s ignored: %s", what, why);
		lookup_expand_mailbox(x);
	} else {
		/* its elements run as the file's owner (EXP-14) */
		(void)strlcpy(n->owner, n->addr.user, sizeof n->owner);
		n->owner_uid = x->userinfo.uid;
		x->nelements = 0;
		if (lookup_expand_file(x, fd, what) == -1)
			lookup_expand_tempfail(x);
		else if (x->nelements == 0 && !x->finished)
			lookup_expand_mailbox(x);
	}
	close(fd);
}

/* lookup_expand_mailbox - deliver to the user's mailbox */
static void
lookup_expand_mailbox(struct lookup_expand *x)
{
	struct lookup_node		*n = x->cur;
	const struct conf_action	*a = n->action;

	if (a->method == CONF_METHOD_FORWARD_ONLY ||
	    a->method == CONF_METHOD_EXPAND_ONLY) {
		log_debug("lookup: %s@%s: %s action %s needs an alias or "
		    "forward of %s", x->evp.rcpt.user, x->evp.rcpt.domain,
		    a->method == CONF_METHOD_FORWARD_ONLY ? "forward-only" :
		    "expand-only", a->name, n->addr.user);
		lookup_expand_fail(x, 550, "5.7.1 Recipient must be "
		    "forwarded");
		return;
	}
	lookup_expand_emit(x, n, ENVELOPE_MDA, a->user != NULL ? a->user :
	    n->addr.user, "", x->subaddr);
}

/* lookup_expand_delivery - a file or command target (EXP-02, EXP-14) */
static void
lookup_expand_delivery(struct lookup_expand *x)
{
	struct lookup_node		*n = x->cur;
	const struct lookup_params	*p = x->params;
	char				 exec[ENVELOPE_MDA_EXEC_SIZE];
	const char			*user, *q;
	int				 len;

	if (n->action->method == CONF_METHOD_FORWARD_ONLY) {
		lookup_expand_fail(x, 550, "5.7.1 Recipient must be "
		    "forwarded");
		return;
	}
	if (n->kind == LOOKUP_NODE_FILENAME) {
		/* the command goes through sh and the %{} expander: a path
		 * other than plain characters is single-quoted; a quote or
		 * a %{ in it is refused, never escaped */
		if (strchr(n->text, '\'') != NULL ||
		    strstr(n->text, "%{") != NULL ||
		    !lookup_expand_text_ok(n->text)) {
			log_warnx("lookup: expansion of %s@%s: file name %s "
			    "refused", x->evp.rcpt.user, x->evp.rcpt.domain,
			    n->text);
			lookup_expand_fail(x, 550, "5.1.3 Invalid "
			    "destination");
			return;
		}
		q = n->text[strspn(n->text, LOOKUP_PATH_PLAIN)] != '\0' ?
		    "'" : "";
		len = snprintf(exec, sizeof exec, "%s/%s -f %%{mbox.from} "
		    "%s%s%s", p->libexec != NULL && p->libexec[0] != '\0' ?
		    p->libexec : PATH_SMTPD_LIBEXEC, LOOKUP_MBOXFILE, q,
		    n->text, q);
	} else
		len = snprintf(exec, sizeof exec, "%s", n->text +
		    strspn(n->text, " \t"));
	if (len < 0 || (size_t)len >= sizeof exec) {
		log_warnx("lookup: expansion of %s@%s: delivery command too "
		    "long", x->evp.rcpt.user, x->evp.rcpt.domain);
		lookup_expand_fail(x, 550, "5.2.4 Mailing list expansion "
		    "problem");
		return;
	}
	user = n->owner[0] != '\0' ? n->owner : p->alias_user != NULL &&
	    p->alias_user[0] != '\0' ? p->alias_user : SMTPD_USER;
	lookup_expand_emit(x, n, ENVELOPE_MDA, user, exec, "");
}

/* lookup_expand_include - the elements of an :include: file */
static void
lookup_expand_include(struct lookup_expand *x)
{
	struct lookup_node	*n = x->cur;
	char			 what[PATH_MAX + 16];
	int			 fd;

	(void)snprintf(what, sizeof what, ":include:%s", n->text);
	/* O_NONBLOCK: a FIFO must not hold the process; it is then refused */
	fd = open(n->text, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("lookup: %s", what);
		lookup_expand_tempfail(x);
		return;
	}
	if (lookup_expand_file(x, fd, what) == -1)
		lookup_expand_tempfail(x);
	close(fd);
}

/* lookup_expand_node - the next step of the current node */
static void
lookup_expand_node(struct lookup_expand *x)
{
	struct lookup_node	*n = x->cur;

	switch (n->kind) {
	case LOOKUP_NODE_ADDRESS:
		lookup_expand_address(x);
		break;
	case LOOKUP_NODE_USERNAME:
		lookup_expand_username(x);
		break;
	case LOOKUP_NODE_FILENAME:
	case LOOKUP_NODE_COMMAND:
		lookup_expand_delivery(x);
		break;
	case LOOKUP_NODE_INCLUDE:
		lookup_expand_include(x);
		break;
	case LOOKUP_NODE_ERROR:
		lookup_expand_fail(x, n->code, n->text[0] != '\0' ? n->text :
		    n->code >= 500 ? "5.0.0 Recipient refused" :
		    "4.0.0 Recipient deferred");
		break;
	}
}

/* lookup_expand_end - report, then release everything */
static void
lookup_expand_end(struct lookup_expand *x)
{
	size_t	i;

	if (x->code == 250)
		for (i = 0; i < x->nout; i++)
			x->on_envelope(x->arg, x->out[i]);
	x->on_done(x->arg, x->code, x->text);
	for (i = 0; i < x->nout; i++)
		free(x->out[i]);
	free(x->out);
	for (i = 0; i < x->nnodes; i++) {
		free(x->nodes[i]->text);
		free(x->nodes[i]);
	}
	free(x->nodes);
	free(x->value);
	free(x->text_buf);
	if (x->fd != -1)
		close(x->fd);
	free(x);
}

/* lookup_expand_succeed - the tree is done: 250, or 524 when empty */
static void
lookup_expand_succeed(struct lookup_expand *x)
{
	if (x->nout == 0) {
		log_warnx("lookup: expansion of %s@%s gave no destination",
		    x->evp.rcpt.user, x->evp.rcpt.domain);
		lookup_expand_fail(x, 524, "5.2.4 Mailing list expansion "
		    "problem");
		return;
	}
	lookup_expand_fail(x, 250, "2.1.5 Destination address valid: "
	    "Recipient ok");
}

/*
 * lookup_expand_run - step until a request is pending or all is done.
 * An answer that comes at once is taken here, not in its callback.
 */
static void
lookup_expand_run(struct lookup_expand *x)
{
	x->in_run = 1;
	while (!x->finished && !x->pending) {
		if (x->answered) {
			x->answered = 0;
			x->resume(x);
		} else if (x->cursor >= x->nnodes)
			lookup_expand_succeed(x);
		else {
			x->cur = x->nodes[x->cursor++];
			lookup_expand_node(x);
		}
	}
	x->in_run = 0;
	if (x->finished && !x->pending)
		lookup_expand_end(x);
}

/* lookup_expand_rcpt - match and expand EVP's recipient */
void
lookup_expand_rcpt(struct lookup_rules *rules, const struct envelope *evp,
    lookup_expand_envelope_fn on_envelope, lookup_expand_done_fn on_done,
    void *arg)
{
	struct lookup_expand	*x;
	struct lookup_node	*root;

	x = xcalloc(1, sizeof *x);
	x->rules = rules;
	x->params = lookup_rules_params(rules);
	x->evp = *evp;
	x->fd = -1;
	x->on_envelope = on_envelope;
	x->on_done = on_done;
	x->arg = arg;
	root = lookup_node_new(NULL, LOOKUP_NODE_ADDRESS, 0);
	root->addr = evp->rcpt;
	x->nodes = xcalloc(1, sizeof *x->nodes);
	x->nodes[x->nnodes++] = root;
	lookup_expand_run(x);
}
