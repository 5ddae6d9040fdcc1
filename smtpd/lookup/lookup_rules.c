/*
 * lookup_rules.c -- the `match` rules of the configuration on tables,
 * and their first-match evaluation for one recipient (RULE-01..27).
 *
 * Runs in the lookup process.  lookup_rules_new() resolves each
 * criterion's and each local action's table: named ones through the
 * caller, anonymous ones (`{ ... }`, a single string) made here as
 * static tables, the default userbase as getpwnam.  It also collects the
 * local names and addresses behind `from local` and `for local`.
 * Evaluation walks the rules in order, each criterion a table check
 * with a completion; a table that fails makes the whole evaluation a
 * temporary failure, never a fall-through.  The `tls` criterion never
 * matches yet: the envelope does not carry the session's TLS state.
 * It must never block, nor read a program global.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "lookup_expand.h"
#include "smtpd.h"
#include "xmalloc.h"

/* a table the rules use: named (the caller's) or made here */
struct lookup_rules_table {
	const struct conf_table	*ct;
	struct table		*t;
	int			 owned;
};

struct lookup_rules {
	const struct smtpd_conf		*conf;
	struct lookup_params		 params;
	char				 server_name[ENVELOPE_NAME_SIZE];
	struct lookup_rules_table	*tables;
	size_t				 ntables;
	struct table			*getpwnam;	/* default userbase */
	char				*local[LOOKUP_LOCAL_MAX];
	size_t				 nlocal;
};

/* one evaluation, until its completion */
struct lookup_match {
	struct lookup_rules	*rules;
	const struct envelope	*evp;
	int			 internal;
	size_t			 rule;
	int			 slot;
	int			 in_run;
	int			 pending;
	int			 answered;
	int			 r;
	lookup_match_fn		 done;
	void			*arg;
};

/* lookup_rules_resolve - the table of CT: the caller's or a new one */
static int
lookup_rules_resolve(struct lookup_rules *lr, const struct conf_table *ct,
    char *err, size_t errsz)
{
	struct lookup_rules_table	*rt;
	struct table			*t = NULL;
	char				 name[64], e[256];
	size_t				 i;

	if (ct == NULL || lookup_rules_table(lr, ct) != NULL)
		return 0;
	if (ct->name != NULL) {
		if (lr->params.table_find != NULL)
			t = lr->params.table_find(lr->params.table_arg,
			    ct->name);
		if (t == NULL) {
			snprintf(err, errsz, "table %s: not open", ct->name);
			return -1;
		}
	} else {
		(void)snprintf(name, sizeof name, "<anonymous-%zu>",
		    lr->ntables);
		t = table_create(name, "static", NULL, NULL, e, sizeof e);
		for (i = 0; t != NULL && i < ct->nentries; i++)
			if (table_add(t, ct->entries[i].key,
			    ct->entries[i].value, e, sizeof e) == -1)
				table_free(&t);
		if (t != NULL && table_open(t, NULL, e, sizeof e) == -1)
			table_free(&t);
		if (t == NULL) {
			snprintf(err, errsz, "anonymous table: %s", e);
			return -1;
		}
	}
	lr->tables = xreallocarray(lr->tables, lr->ntables + 1,
	    sizeof *lr->tables);
	rt = &lr->tables[lr->ntables++];
	rt->ct = ct;
	rt->t = t;
	rt->owned = ct->name == NULL;
	return 0;
}

/* lookup_rules_table - the table resolved for CT, or NULL */
struct table *
lookup_rules_table(const struct lookup_rules *lr, const struct conf_table *ct)
{
	size_t	i;

	for (i = 0; ct != NULL && i < lr->ntables; i++)
		if (lr->tables[i].ct == ct)
			return lr->tables[i].t;
	return NULL;
}

/* lookup_rules_userbase - the action's userbase, else getpwnam */
struct table *
lookup_rules_userbase(const struct lookup_rules *lr,
    const struct conf_action *a)
{
	struct table	*t = lookup_rules_table(lr, a->userbase);

	return t != NULL ? t : lr->getpwnam;
}

const struct lookup_params *
lookup_rules_params(const struct lookup_rules *lr)
{
	return &lr->params;
}

/* lookup_rules_add_one - one local name, lower-cased */
static int
lookup_rules_add_one(struct lookup_rules *lr, const char *name)
{
	char	*s;
	size_t	 i;

	if (lr->nlocal >= LOOKUP_LOCAL_MAX || name[0] == '\0')
		return -1;
	s = xstrdup(name);
	for (i = 0; s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	lr->local[lr->nlocal++] = s;
	return 0;
}

/*
 * lookup_rules_add_local - a local name; an address is added bare (for
 * `from local`) and as a domain literal (for `for local`).
 */
int
lookup_rules_add_local(struct lookup_rules *lr, const char *name)
{
	unsigned char	buf[sizeof(struct in6_addr)];
	char		lit[INET6_ADDRSTRLEN + 8];

	if (inet_pton(AF_INET, name, buf) == 1)
		(void)snprintf(lit, sizeof lit, "[%s]", name);
	else if (inet_pton(AF_INET6, name, buf) == 1)
		(void)snprintf(lit, sizeof lit, "[ipv6:%s]", name);
	else
		return lookup_rules_add_one(lr, name);
	if (lookup_rules_add_one(lr, name) == -1)
		return -1;
	return lookup_rules_add_one(lr, lit);
}

/* lookup_rules_add_ifaddr - an interface address */
static void
lookup_rules_add_ifaddr(struct lookup_rules *lr, const struct sockaddr *sa)
{
	char		 a[INET6_ADDRSTRLEN];
	const void	*p;

	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return;
	if (inet_ntop(sa->sa_family, p, a, sizeof a) != NULL)
		(void)lookup_rules_add_local(lr, a);
}

/* lookup_rules_locals - localhost, the server name, the host's addresses */
static void
lookup_rules_locals(struct lookup_rules *lr)
{
	struct ifaddrs	*ifa, *i;
	char		 host[SMTPD_NAME_MAX + 1];

	(void)lookup_rules_add_local(lr, "localhost");
	if (lr->server_name[0] != '\0')
		(void)lookup_rules_add_local(lr, lr->server_name);
	if (!lr->params.no_interfaces && gethostname(host, sizeof host) == 0 &&
	    memchr(host, '\0', sizeof host) != NULL)
		(void)lookup_rules_add_local(lr, host);
	if (lr->params.no_interfaces)
		return;
	if (getifaddrs(&ifa) == -1) {
		log_warn("lookup: getifaddrs");
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL)
			lookup_rules_add_ifaddr(lr, i->ifa_addr);
	freeifaddrs(ifa);
}

/* lookup_rules_new - the rules of CONF, every table resolved */
struct lookup_rules *
lookup_rules_new(const struct smtpd_conf *conf,
    const struct lookup_params *params, char *err, size_t errsz)
{
	struct lookup_rules	*lr;
	const struct conf_action *a;
	size_t			 i;
	int			 c, bad = 0;

	lr = xcalloc(1, sizeof *lr);
	lr->conf = conf;
	lr->params = *params;
	if (lr->params.subaddr_delim == '\0')
		lr->params.subaddr_delim = '+';
	if (params->server_name != NULL)
		(void)strlcpy(lr->server_name, params->server_name,
		    sizeof lr->server_name);
	lr->params.server_name = lr->server_name;
	for (i = 0; !bad && i < conf->nrules; i++)
		for (c = 0; !bad && c < CONF_CRIT__MAX; c++)
			bad = lookup_rules_resolve(lr,
			    conf->rules[i]->crit[c].table, err, errsz) == -1;
	for (i = 0; !bad && i < conf->nactions; i++) {
		a = conf->actions[i];
		bad = lookup_rules_resolve(lr, a->alias, err, errsz) == -1 ||
		    lookup_rules_resolve(lr, a->virtual, err, errsz) == -1 ||
		    lookup_rules_resolve(lr, a->userbase, err, errsz) == -1;
	}
	if (!bad && (lr->getpwnam = table_create("<getpwnam>", "getpwnam",
	    NULL, NULL, err, errsz)) == NULL)
		bad = 1;
	if (!bad && table_open(lr->getpwnam, NULL, err, errsz) == -1)
		bad = 1;
	if (bad) {
		lookup_rules_free(&lr);
		return NULL;
	}
	lookup_rules_locals(lr);
	return lr;
}

void
lookup_rules_free(struct lookup_rules **lrp)
{
	struct lookup_rules	*lr = *lrp;
	size_t			 i;

	if (lr == NULL)
		return;
	for (i = 0; i < lr->ntables; i++)
		if (lr->tables[i].owned)
			table_free(&lr->tables[i].t);
	free(lr->tables);
	table_free(&lr->getpwnam);
	for (i = 0; i < lr->nlocal; i++)
		free(lr->local[i]);
	free(lr);
	*lrp = NULL;
}

/* lookup_rules_is_local - is NAME one of the local names or addresses */
static int
lookup_rules_is_local(const struct lookup_rules *lr, const char *name)
{
	size_t	i;

	for (i = 0; i < lr->nlocal; i++)
		if (strcasecmp(lr->local[i], name) == 0)
			return 1;
	return 0;
}

/* lookup_rules_source - the client address as text; "local" internal */
static void
lookup_rules_source(const struct lookup_match *m, char *buf, size_t bufsz)
{
	const struct sockaddr_storage	*ss = &m->evp->ss;
	const void			*p = NULL;

	buf[0] = '\0';
	if (m->internal || ss->ss_family == AF_UNIX) {
		(void)strlcpy(buf, "local", bufsz);
		return;
	}
	if (ss->ss_family == AF_INET)
		p = &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
	if (p == NULL || inet_ntop(ss->ss_family, p, buf, bufsz) == NULL)
		buf[0] = '\0';
}

/* lookup_rules_authenticated - an authenticated session, or the socket */
static int
lookup_rules_authenticated(const struct envelope *evp)
{
	return (evp->flags & ENVELOPE_F_AUTHENTICATED) != 0 ||
	    evp->ss.ss_family == AF_UNIX;
}

/* lookup_rules_has_rdns - did the client's address resolve */
static int
lookup_rules_has_rdns(const struct envelope *evp)
{
	return evp->hostname[0] != '\0' && evp->hostname[0] != '[' &&
	    strcmp(evp->hostname, "<unknown>") != 0;
}

/* lookup_match_on_table - a criterion's table answered */
static void	lookup_match_run(struct lookup_match *);
static void
lookup_match_on_table(void *arg, int r, const char *value)
{
	struct lookup_match	*m = arg;

	(void)value;
	m->pending = 0;
	m->answered = 1;
	m->r = r;
	if (!m->in_run)
		lookup_match_run(m);
}

/* lookup_match_check - check KEY in the criterion's table: 2 (pending) */
static int
lookup_match_check(struct lookup_match *m, const struct conf_criterion *c,
    enum table_service service, const char *key)
{
	struct table	*t = lookup_rules_table(m->rules, c->table);

	if (t == NULL) {
		log_warnx("lookup: rule criterion without its table");
		return -1;
	}
	m->pending = 1;
	table_check(t, c->regex ? K_REGEX : service, key,
	    lookup_match_on_table, m);
	return 2;
}

/* lookup_match_from - the `from` criterion: 1, 0, or 2 (pending) */
static int
lookup_match_from(struct lookup_match *m, const struct conf_criterion *c)
{
	const struct envelope	*evp = m->evp;
	char			 src[INET6_ADDRSTRLEN], addr[MAILADDR_TEXT_SIZE];

	switch (c->what) {
	case CONF_FROM_ANY:
		return 1;
	case CONF_FROM_SOCKET:
		return !m->internal && !(evp->flags & ENVELOPE_F_INTERNAL) &&
		    evp->ss.ss_family == AF_UNIX;
	case CONF_FROM_LOCAL:
		lookup_rules_source(m, src, sizeof src);
		return strcmp(src, "local") == 0 ||
		    (src[0] != '\0' && lookup_rules_is_local(m->rules, src));
	case CONF_FROM_SRC:
		lookup_rules_source(m, src, sizeof src);
		return lookup_match_check(m, c, K_NETADDR, src);
	case CONF_FROM_RDNS:
		if (!lookup_rules_has_rdns(evp))
			return 0;
		return c->table == NULL ? 1 :
		    lookup_match_check(m, c, K_DOMAIN, evp->hostname);
	case CONF_FROM_AUTH:
		if (!lookup_rules_authenticated(evp))
			return 0;
		return c->table == NULL ? 1 :
		    lookup_match_check(m, c, K_STRING, evp->username);
	case CONF_FROM_MAIL_FROM:
		if (mailaddr_is_null(&evp->sender))
			addr[0] = '\0';
		else
			(void)mailaddr_format(&evp->sender, addr, sizeof addr);
		return lookup_match_check(m, c, K_MAILADDR, addr);
	default:
		return 0;
	}
}

/* lookup_match_for - the `for` criterion: 1, 0, or 2 (pending) */
static int
lookup_match_for(struct lookup_match *m, const struct conf_criterion *c)
{
	const struct mailaddr	*rcpt = &m->evp->rcpt;
	char			 addr[MAILADDR_TEXT_SIZE];

	switch (c->what) {
	case CONF_FOR_ANY:
		return 1;
	case CONF_FOR_LOCAL:
		return rcpt->domain[0] == '\0' ||
		    lookup_rules_is_local(m->rules, rcpt->domain);
	case CONF_FOR_DOMAIN:
		return lookup_match_check(m, c, K_DOMAIN, rcpt->domain);
	case CONF_FOR_RCPT_TO:
		(void)mailaddr_format(rcpt, addr, sizeof addr);
		return lookup_match_check(m, c, K_MAILADDR, addr);
	default:
		return 0;
	}
}

/* lookup_match_crit - criterion SLOT of rule R: 1, 0, -1, 2 (pending) */
static int
lookup_match_crit(struct lookup_match *m, const struct conf_rule *r,
    int slot)
{
	const struct conf_criterion	*c = &r->crit[slot];
	const struct envelope		*evp = m->evp;
	char				 addr[MAILADDR_TEXT_SIZE];

	switch (slot) {
	case CONF_CRIT_FROM:
		return lookup_match_from(m, c);
	case CONF_CRIT_FOR:
		return lookup_match_for(m, c);
	case CONF_CRIT_TAG:
		return evp->tag[0] == '\0' ? 0 :
		    lookup_match_check(m, c, K_STRING, evp->tag);
	case CONF_CRIT_HELO:
		return evp->helo[0] == '\0' ? 0 :
		    lookup_match_check(m, c, K_DOMAIN, evp->helo);
	case CONF_CRIT_AUTH:
		if (!lookup_rules_authenticated(evp))
			return 0;
		return c->table == NULL ? 1 :
		    lookup_match_check(m, c, K_STRING, evp->username);
	case CONF_CRIT_MAIL_FROM:
		if (mailaddr_is_null(&evp->sender))
			addr[0] = '\0';
		else
			(void)mailaddr_format(&evp->sender, addr, sizeof addr);
		return lookup_match_check(m, c, K_MAILADDR, addr);
	case CONF_CRIT_RCPT_TO:
		(void)mailaddr_format(&evp->rcpt, addr, sizeof addr);
		return lookup_match_check(m, c, K_MAILADDR, addr);
	case CONF_CRIT_TLS:
		return 0;	/* the envelope has no TLS state yet */
	default:
		return 0;
	}
}

/* lookup_match_finish - complete the evaluation and release it */
static void
lookup_match_finish(struct lookup_match *m, int r, const struct conf_rule *rule)
{
	m->done(m->arg, r, rule);
	free(m);
}

/*
 * lookup_match_run - evaluate until a table is pending or a result is
 * known.  Completions that arrive at once are taken by this loop, so
 * the stack stays flat however many criteria there are.
 */
static void
lookup_match_run(struct lookup_match *m)
{
	const struct smtpd_conf	*conf = m->rules->conf;
	const struct conf_rule	*rule;
	int			 r;

	m->in_run = 1;
	while (!m->pending) {
		if (m->rule >= conf->nrules) {
			lookup_match_finish(m, 0, NULL);
			return;
		}
		rule = conf->rules[m->rule];
		if (m->answered) {
			m->answered = 0;
			r = m->r;
		} else if (m->slot >= CONF_CRIT__MAX) {
			lookup_match_finish(m, 1, rule);
			return;
		} else if (!rule->crit[m->slot].present ||
		    rule->crit[m->slot].implied)
			r = 1;
		else if ((r = lookup_match_crit(m, rule, m->slot)) == 2)
			continue;
		if (r == -1) {
			log_warnx("lookup: rule at line %d: table failure, "
			    "temporary failure", rule->line);
			lookup_match_finish(m, -1, NULL);
			return;
		}
		if (rule->crit[m->slot].present &&
		    !rule->crit[m->slot].implied && rule->crit[m->slot].negate)
			r = !r;
		if (r) {
			m->slot++;
		} else {
			m->rule++;
			m->slot = 0;
		}
	}
	m->in_run = 0;
}

/* lookup_rules_match - first matching rule for EVP, to DONE */
void
lookup_rules_match(struct lookup_rules *lr, const struct envelope *evp,
    int internal, lookup_match_fn done, void *arg)
{
	struct lookup_match	*m;

	m = xcalloc(1, sizeof *m);
	m->rules = lr;
	m->evp = evp;
	m->internal = internal;
	m->done = done;
	m->arg = arg;
	lookup_match_run(m);
}
