/*
 * dispatcher_mta_tables.c -- the relay agent's questions to lookup's
 * tables (IMSG_LOOKUP_RELAY_TABLE, answered by lookup_relay.c): a
 * labelled URL's credentials in the action's `auth` table (MTA-08), the
 * HELO name of each `src` address in its `helo-src` table (MTA-10), an
 * envelope's next hop in its `relay domain` table (MTA-07); and the
 * values of a `src` (MTA-09) or `relay host` (MTA-06) table that is not
 * an inline list, fetched by lookup as a whole (IMSG_LOOKUP_RELAY_LIST,
 * TABLE-14), one question at a time per table, kept mta_list_ttl()
 * seconds; a refresh that fails is tried again after a growing delay.  A route waits for its answers before it connects; a failed
 * question fails what waits for now, and is asked again with the next
 * mail.
 */
#include <sys/queue.h>
#include <sys/socket.h>


#include <arpa/inet.h>

#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_tree.h"
#include "conf.h"
#include "dispatcher.h"
#include "dispatcher_mta_int.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "mta.h"
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

/* ---- credentials (MTA-08) ---- */

/* mta_table_ask - KEY of TABLE for SERVICE asked of lookup, the answer
 * to go to ARG through TREE; the question's id */
static uint64_t
mta_table_ask(struct tree *tree, void *arg, const char *table,
    int service, const char *key)
{
	int	err = 0;

	api_tree_set(tree, ++mta->next_id, arg, &err);
	if (err)
		fatalx("mta: out of memory");
	msg_send_lookup_relay_table(env->peers[PROC_LOOKUP],
	    &(struct msg_lookup_relay_table){ .reqid = mta->next_id,
		.table = table, .service = service, .key = key });
	return mta->next_id;
}

/* mta_route_ask_creds - the label's entry of the action's auth table */
void
mta_route_ask_creds(struct mta_route *r)
{
	r->creds = MTA_CREDS_PENDING;
	r->creds_reqid = mta_table_ask(&mta->creds, r, r->auth_table,
	    K_CREDENTIALS, r->label);
}

/* mta_route_on_creds - the entry: "user:password", or why not */
static void
mta_route_on_creds(struct mta_route *r, int found, const char *value)
{
	struct table_credentials	*c;
	char				 err[128], why[MTA_REPLY_TEXT_MAX];

	r->creds = MTA_CREDS_WANTED;	/* asked again when it failed */
	if (found != 1) {
		snprintf(why, sizeof why, "451 4.3.0 %s for the label %s in "
		    "the auth table %s", found == 0 ? "No credentials" :
		    "Temporary failure looking up credentials", r->label,
		    r->auth_table);
		mta_route_fail_pending(r, DELIVERY_TEMPFAIL, why);
		return;
	}
	c = xmalloc(sizeof *c);
	if (table_parse_credentials(r->label, value, c, err, sizeof err) ==
	    -1 || strlcpy(r->auth_user, c->username, sizeof r->auth_user) >=
	    sizeof r->auth_user || strlcpy(r->auth_pass, c->password,
	    sizeof r->auth_pass) >= sizeof r->auth_pass) {
		log_warnx("mta: route %s: auth table %s: unusable entry for "
		    "%s", r->dest, r->auth_table, r->label);
		mta_route_fail_pending(r, DELIVERY_TEMPFAIL, "451 4.3.0 "
		    "Unusable credentials in the auth table");
	} else {
		r->creds = MTA_CREDS_OK;
		mta_route_schedule(r);
	}
	explicit_bzero(c, sizeof *c);
	free(c);
}

/* ---- helo-src (MTA-10) ---- */

/* a helo-src question: the name of source address INDEX of ROUTE */
struct mta_helo_req {
	struct mta_route	*route;		/* NULL: the route is gone */
	size_t			 index;
};

/* mta_helos_forget - R goes: its questions answer nobody */
void
mta_helos_forget(struct mta_route *r)
{
	struct mta_helo_req	*q;
	uint64_t		 id;
	void			*cursor = NULL, *v;

	while (api_tree_iter(&mta->helos, &cursor, &id, &v)) {
		q = v;
		if (q->route == r)
			q->route = NULL;
	}
}

/* mta_route_ask_helos - the name of each source address of R */
void
mta_route_ask_helos(struct mta_route *r)
{
	struct mta_helo_req	*q;
	char			 addr[INET6_ADDRSTRLEN];
	const void		*in;
	size_t			 i;

	r->helos = MTA_CREDS_PENDING;
	r->helos_waiting = r->nsrc;
	for (i = 0; i < r->nsrc; i++) {
		r->src_helo[i][0] = '\0';
		in = r->src[i].ss_family == AF_INET6 ?
		    (const void *)&((struct sockaddr_in6 *)&r->src[i])->sin6_addr :
		    (const void *)&((struct sockaddr_in *)&r->src[i])->sin_addr;
		if (inet_ntop(r->src[i].ss_family, in, addr, sizeof addr) ==
		    NULL)
			fatalx("mta: inet_ntop");
		q = xcalloc(1, sizeof *q);
		q->route = r;
		q->index = i;
		(void)mta_table_ask(&mta->helos, q, r->helo_table,
		    K_ADDRNAME, addr);
	}
}

/* mta_route_on_helo - the name of one source address, or why not */
static void
mta_route_on_helo(struct mta_helo_req *q, int found, const char *value)
{
	struct mta_route	*r = q->route;
	char			 why[MTA_REPLY_TEXT_MAX];

	if (r == NULL)
		return;
	if (found == 1 && strlen(value) < sizeof r->src_helo[0] &&
	    strpbrk(value, " \t\r\n") == NULL)
		strlcpy(r->src_helo[q->index], value, sizeof r->src_helo[0]);
	else if (found == 1)
		log_warnx("mta: route %s: helo-src %s: unusable name, the "
		    "default is used", r->dest, r->helo_table);
	r->helos_failed |= found == -1;
	if (--r->helos_waiting > 0)
		return;
	if (r->helos_failed) {
		r->helos = MTA_CREDS_WANTED;	/* asked again */
		r->helos_failed = 0;
		snprintf(why, sizeof why, "451 4.3.0 Temporary failure "
		    "looking up the helo-src table %s", r->helo_table);
		mta_route_fail_pending(r, DELIVERY_TEMPFAIL, why);
		return;
	}
	r->helos = MTA_CREDS_OK;
	mta_route_schedule(r);
}

/* ---- envelopes waiting for a table ---- */

/* a relay envelope waiting for its next hop's URL from a table */
struct mta_env_req {
	uint64_t	 evpid;
	int		 fd;
	char		*action;
	char		*table;
	char		 sender[MAILADDR_TEXT_SIZE];
	char		 rcpt[MAILADDR_TEXT_SIZE];
	struct envelope	 e;
};

/* mta_env_req_new - envelope EVPID of action A waits for TABLE */
static struct mta_env_req *
mta_env_req_new(const struct conf_action *a, const char *table,
    uint64_t evpid, int fd, const char *sender, const char *rcpt,
    const struct envelope *e)
{
	struct mta_env_req	*q;

	q = xcalloc(1, sizeof *q);
	q->evpid = evpid;
	q->fd = fd;
	q->action = xstrdup(a->name);
	q->table = xstrdup(table);
	strlcpy(q->sender, sender, sizeof q->sender);
	strlcpy(q->rcpt, rcpt, sizeof q->rcpt);
	q->e = *e;
	return q;
}

/* mta_env_req_action - Q's action, or NULL with WHY (a reload) */
static const struct conf_action *
mta_env_req_action(const struct mta_env_req *q, char *why, size_t whysz)
{
	const struct conf_action	*a;

	if ((a = conf_action_find(env->conf, q->action)) == NULL ||
	    a->method != CONF_METHOD_RELAY) {
		snprintf(why, whysz, "no relay action named %s", q->action);
		return NULL;
	}
	return a;
}

/* mta_env_req_end - Q's envelope to route R, or (R NULL) failed for now
 * with WHY; Q is freed */
static void
mta_env_req_end(struct mta_env_req *q, struct mta_route *r,
    const char *why)
{
	if (r == NULL) {
		close(q->fd);
		mta_result(0, NULL, q->evpid, q->rcpt, DELIVERY_TEMPFAIL, why);
	} else
		mta_route_add(r, q->evpid, q->fd, q->sender, q->rcpt, &q->e);
	free(q->action);
	free(q->table);
	free(q);
}

/* ---- relay domain (MTA-07) ---- */

/* mta_domain_ask - the URL of E's domain in A's `domain` table */
void
mta_domain_ask(const struct conf_action *a, uint64_t evpid, int fd,
    const char *sender, const char *rcpt, const struct envelope *e)
{
	struct mta_env_req	*q;

	q = mta_env_req_new(a, a->domain->name, evpid, fd, sender, rcpt, e);
	(void)mta_table_ask(&mta->domains, q, q->table, K_RELAYHOST,
	    q->e.dest.domain);
}

/* mta_domain_on_url - the domain's URL: the envelope to its route */
static void
mta_domain_on_url(struct mta_env_req *q, int found, const char *value)
{
	const struct conf_action	*a;
	struct mta_route		*r = NULL;
	char				 why[512];

	if (found == -1)
		snprintf(why, sizeof why, "451 4.3.0 Temporary failure looking "
		    "up %s in the relay domain table %s", q->e.dest.domain,
		    q->table);
	else if (found == 0)
		snprintf(why, sizeof why, "451 4.4.0 No relay host for the "
		    "domain %s in the table %s", q->e.dest.domain, q->table);
	else if ((a = mta_env_req_action(q, why, sizeof why)) != NULL)
		r = mta_url_route(a, value, why, sizeof why);
	mta_env_req_end(q, r, why);
}

/* ---- fetched lists: `src <t>` (MTA-09), `relay host <t>` (MTA-06) ---- */

/* one waiting for a list */
struct mta_list_wait {
	TAILQ_ENTRY(mta_list_wait) entry;
	mta_list_cb		 cb;
	void			*arg;
};

time_t
mta_list_ttl(void)
{
	return env->opts.mta_list_ttl > 0 ? env->opts.mta_list_ttl :
	    MTA_LIST_TTL;
}

int
mta_list_table(const struct conf_table *t)
{
	return t != NULL && t->name != NULL && t->backend != NULL &&
	    strcmp(t->backend, "inline") != 0;
}

/* mta_list_ask - L fetched (again) by lookup */
static void
mta_list_ask(struct mta_list *l)
{
	l->reqid = ++mta->next_id;
	msg_send_lookup_relay_list(env->peers[PROC_LOOKUP],
	    &(struct msg_lookup_relay_list){ .reqid = l->reqid,
		.table = l->table, .service = l->service });
}

const struct mta_list *
mta_list_get(const char *table, int service, mta_list_cb cb, void *arg)
{
	struct mta_list		*l;
	struct mta_list_wait	*w;

	TAILQ_FOREACH(l, &mta->lists, entry)
		if (l->service == service && strcmp(l->table, table) == 0)
			break;
	if (l == NULL) {
		l = xcalloc(1, sizeof *l);
		l->table = xstrdup(table);
		l->service = service;
		TAILQ_INIT(&l->waiters);
		TAILQ_INSERT_TAIL(&mta->lists, l, entry);
	}
	if (!l->stale && l->when != 0 && time(NULL) - l->when <
	    mta_list_ttl())
		return l;
	if (!l->stale && l->n > 0) {
		/* the old values while it is fetched again */
		if (l->reqid == 0 && time(NULL) >= l->retry)
			mta_list_ask(l);
		return l;
	}
	if (l->reqid == 0)
		mta_list_ask(l);
	w = xcalloc(1, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&l->waiters, w, entry);
	return NULL;
}

void
mta_list_forget(void *arg)
{
	struct mta_list		*l;
	struct mta_list_wait	*w, *next;

	TAILQ_FOREACH(l, &mta->lists, entry)
		for (w = TAILQ_FIRST(&l->waiters); w != NULL; w = next) {
			next = TAILQ_NEXT(w, entry);
			if (w->arg == arg) {
				TAILQ_REMOVE(&l->waiters, w, entry);
				free(w);
			}
		}
}

/* mta_list_on_result - the values of a list, one per line, for whoever
 * waits */
static void
mta_list_on_result(struct mta_list *l, int r, const char *values)
{
	struct mta_list_wait	*w;
	const char		*p, *nl;
	size_t			 i;

	l->reqid = 0;
	if (r == -1 && l->n > 0) {
		l->backoff = l->backoff == 0 ? MTA_LIST_RETRY :
		    l->backoff * 2 > MTA_LIST_RETRY_MAX ? MTA_LIST_RETRY_MAX :
		    l->backoff * 2;
		l->retry = time(NULL) + l->backoff;
		log_warnx("mta: table %s: fetching it failed, its values of "
		    "%lld s ago are used, asked again in %lld s", l->table,
		    (long long)(time(NULL) - l->when), (long long)l->backoff);
	} else if (r != -1) {
		l->backoff = 0;
		l->retry = 0;
		for (i = 0; i < l->n; i++)
			free(l->values[i]);
		free(l->values);
		l->values = NULL;
		l->n = 0;
		for (p = values; r == 1 && *p != '\0'; p = *nl ? nl + 1 : nl) {
			if ((nl = strchr(p, '\n')) == NULL)
				nl = p + strlen(p);
			l->values = xreallocarray(l->values, l->n + 1,
			    sizeof *l->values);
			l->values[l->n] = xmalloc((size_t)(nl - p) + 1);
			memcpy(l->values[l->n], p, (size_t)(nl - p));
			l->values[l->n++][nl - p] = '\0';
		}
		l->when = time(NULL);
	}
	l->stale = 0;	/* a failure: the old values, as when time is up */
	while ((w = TAILQ_FIRST(&l->waiters)) != NULL) {
		TAILQ_REMOVE(&l->waiters, w, entry);
		w->cb(w->arg, r == -1 && l->n > 0 ? 1 : r, l);
		free(w);
	}
}

void
dispatcher_on_relay_list_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_relay_list_result	 m;
	struct mta_list				*l;

	if (msg_unpack_lookup_relay_list_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	TAILQ_FOREACH(l, &mta->lists, entry)
		if (l->reqid != 0 && l->reqid == m.reqid) {
			mta_list_on_result(l, m.r, m.values);
			return;
		}
}

/*
 * dispatcher_on_table_updated - a table was reloaded (smtpctl update
 * table): each list fetched from it is fetched again before its next
 * use (stale: its old values serve only if that fetch fails), and what
 * a route took from it is taken again (MTA-06, MTA-08, MTA-09, MTA-10)
 */
void
dispatcher_on_table_updated(struct mproc *p, struct imsg *imsg)
{
	struct msg_dispatcher_table_updated	 m;
	struct mta_list				*l;
	struct mta_route			*r;

	if (msg_unpack_dispatcher_table_updated(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	/*
	 * what a route took from it: again once the route is idle (src,
	 * helo-src), or before its next connection (credentials: its hosts,
	 * set aside perhaps for refusing the old ones, get another try)
	 */
	TAILQ_FOREACH(r, &mta->routes, entry) {
		if ((r->src_table != NULL && strcmp(r->src_table, m.table) ==
		    0) || (r->helo_table != NULL && strcmp(r->helo_table,
		    m.table) == 0))
			r->srcs_when = 0;
		if (r->auth_table == NULL || strcmp(r->auth_table, m.table) !=
		    0 || r->creds == MTA_CREDS_NONE)
			continue;
		if (r->creds == MTA_CREDS_PENDING) {
			/* its answer may hold the old entry: asked anew */
			(void)api_tree_pop(&mta->creds, r->creds_reqid);
			mta_route_ask_creds(r);
		} else if (r->creds == MTA_CREDS_OK)
			r->creds = MTA_CREDS_WANTED;
		mta_route_hosts_clear(r);
		log_info("mta: table %s updated: route %s asks its credentials "
		    "again", m.table, r->dest);
	}
	TAILQ_FOREACH(l, &mta->lists, entry) {
		if (strcmp(l->table, m.table) != 0)
			continue;
		l->stale = 1;
		l->retry = 0;
		l->backoff = 0;
		/* an answer on its way may hold the old content: asked
		 * anew, that answer is dropped (its reqid is gone) */
		if (l->reqid != 0)
			mta_list_ask(l);
		log_info("mta: table %s updated: its list is fetched again "
		    "before its next use", l->table);
	}
}

/* mta_route_srcs_set - R's sources from list L (R 1), or why not */
static void
mta_route_srcs_set(struct mta_route *r, int found,
    const struct mta_list *l)
{
	char	why[MTA_REPLY_TEXT_MAX];
	size_t	i;

	r->nsrc = r->nextsrc = 0;
	for (i = 0; found == 1 && i < l->n; i++) {
		if (r->nsrc == MTA_SRC_MAX) {
			log_warnx("mta: route %s: src table %s: more than %d "
			    "addresses, the first %d used", r->dest,
			    r->src_table, MTA_SRC_MAX, MTA_SRC_MAX);
			break;
		}
		if (mta_addr_parse(l->values[i], 0, &r->src[r->nsrc],
		    &r->srclen[r->nsrc]) == -1)
			log_warnx("mta: route %s: src table %s: %.64s is not "
			    "an address, ignored", r->dest, r->src_table,
			    l->values[i]);
		else
			r->nsrc++;
	}
	if (r->nsrc == 0) {
		r->srcs = MTA_CREDS_WANTED;	/* asked again with more mail */
		snprintf(why, sizeof why, "451 4.3.0 %s the src table %s",
		    found == -1 ? "Temporary failure fetching" :
		    "No source address in", r->src_table);
		mta_route_fail_pending(r, DELIVERY_TEMPFAIL, why);
		return;
	}
	r->srcs = MTA_CREDS_OK;
	r->srcs_when = time(NULL);
	if (r->helo_table != NULL)
		r->helos = MTA_CREDS_WANTED;	/* the names of these */
}

/* mta_route_on_srcs - R's list came */
static void
mta_route_on_srcs(void *arg, int found, const struct mta_list *l)
{
	struct mta_route	*r = arg;

	mta_route_srcs_set(r, found, l);
	if (r->srcs == MTA_CREDS_OK)
		mta_route_schedule(r);
}

void
mta_route_ask_srcs(struct mta_route *r)
{
	const struct mta_list	*l;

	r->srcs = MTA_CREDS_PENDING;
	if ((l = mta_list_get(r->src_table, K_SOURCE, mta_route_on_srcs,
	    r)) != NULL)
		mta_route_srcs_set(r, 1, l);
}

/* mta_hosts_on_list - the URLs: the envelope to its turn's route */
static void
mta_hosts_on_list(void *arg, int found, const struct mta_list *l)
{
	struct mta_env_req		*q = arg;
	const struct conf_action	*a;
	struct mta_route		*r = NULL;
	char				 why[512];

	if (found != 1 || l->n == 0)
		snprintf(why, sizeof why, "451 4.3.0 %s the relay host table "
		    "%s", found == -1 ? "Temporary failure fetching" :
		    "No relay URL in", q->table);
	else if ((a = mta_env_req_action(q, why, sizeof why)) != NULL)
		r = mta_url_route(a, l->values[mta_host_turn(a,
		    evpid_to_msgid(q->evpid), l->n)], why, sizeof why);
	mta_env_req_end(q, r, why);
}

void
mta_hosts_ask(const struct conf_action *a, uint64_t evpid, int fd,
    const char *sender, const char *rcpt, const struct envelope *e)
{
	struct mta_env_req	*q;
	const struct mta_list	*l;

	q = mta_env_req_new(a, a->host->name, evpid, fd, sender, rcpt, e);
	if ((l = mta_list_get(q->table, K_RELAYHOST, mta_hosts_on_list,
	    q)) != NULL)
		mta_hosts_on_list(q, 1, l);
}

void
dispatcher_on_relay_table_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_relay_table_result	 m;
	struct mta_route			*r;
	struct mta_helo_req			*h;
	struct mta_env_req			*d;

	if (msg_unpack_lookup_relay_table_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((r = api_tree_pop(&mta->creds, m.reqid)) != NULL)
		mta_route_on_creds(r, m.r, m.value);
	else if ((h = api_tree_pop(&mta->helos, m.reqid)) != NULL) {
		mta_route_on_helo(h, m.r, m.value);
		free(h);
	} else if ((d = api_tree_pop(&mta->domains, m.reqid)) != NULL)
		mta_domain_on_url(d, m.r, m.value);
	/* else: the route is gone */
}
