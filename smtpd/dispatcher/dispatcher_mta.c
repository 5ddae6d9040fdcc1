/*
 * dispatcher_mta.c -- relaying: the mta agent of the dispatcher.
 *
 * The queue hands us relay envelopes (ENVELOPE_MTA) with the body's
 * descriptor.  Each goes to a route: one action and one destination (a
 * smarthost URL, or a domain's MX hosts, asked of lookup's resolver).
 * Envelopes of one message and one route make one transaction (up to
 * MTA_RCPT_PER_TX recipients); a route's sessions (mta_session.c) take
 * the waiting messages one after the other, several per connection
 * (session-mail-max), new connections are opened while more than
 * MTA_CONN_BACKLOG messages per connection wait (max-conn-per-route,
 * max-conn-per-host, and max-conn-per-source as the global ceiling),
 * and an idle session is kept session-keepalive seconds for mail that
 * follows.  A host that fails twice in a row is
 * set aside for a growing while (5 s doubling up to 5 min); when every
 * host of a route is aside or failed, what waits fails temporarily.
 * Each envelope's outcome goes back to the queue as
 * IMSG_QUEUE_DELIVERY_RESULT (done, retry or bounce) with the remote
 * reply, made safe, as its error.
 *
 * conn-delay-* and reconn-delay-route are not waited between working
 * connections (OpenSMTPD's pacing is what this agent must beat).
 * TLS (MTA-04, MTA-25): smtp:// and MX relaying try STARTTLS when
 * offered and, when it fails, connect again in clear to that host (for
 * MTA_CLEAR_TTL); smtp+tls://, smtps:// and `relay tls [no-verify]`
 * require it (verified unless no-verify, against the action's `ca` or
 * the system bundle, dispatcher_mta_tls.c), smtp+notls:// and lmtp://
 * never use it (with `relay tls`: a temporary failure).  AUTH (MTA-08):
 * the URL's label is looked up in the action's `auth` table through
 * lookup (IMSG_LOOKUP_RELAY_TABLE) before the route connects; only
 * smtp+tls:// and smtps:// may carry a label.  `relay domain <t>`
 * (MTA-07): each envelope's next hop URL is its domain's entry in the
 * table, asked of lookup the same way (no entry: a temporary failure).
 * `helo-src <t>` (MTA-10): the HELO name of each `src` address is its
 * entry, asked once per route (no entry: the action's helo or the
 * server's name).
 * The URLs of a `relay host` list and the `src` addresses (those of
 * the destination's family) are used in turn.  `smtpctl pause mta from
 * ADDR for DOMAIN` (MTA-22) takes the `src` address ADDR out of the turn
 * of the routes to DOMAIN (an MX route's domain, a smarthost's host):
 * no new connection from it, and its connections take no new message;
 * when every source of a route is paused, its mail waits, without
 * failing, until `resume mta from ADDR for DOMAIN'.
 * Never blocks: sockets are driven by libevent, DNS is a request to
 * lookup with a timer.  The tables asked of lookup are in
 * dispatcher_mta_tables.c, what serves smtpctl and the outcomes by
 * domain in dispatcher_mta_admin.c; what the three share,
 * dispatcher_mta_int.h.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <netdb.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "conf.h"
#include "dispatcher.h"
#include "dispatcher_mta_int.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "mta.h"
#include "smtpd.h"
#include "stats.h"
#include "xmalloc.h"

static struct mta_state	mta_storage = {
	.routes = TAILQ_HEAD_INITIALIZER(mta_storage.routes),
	.blocks = TAILQ_HEAD_INITIALIZER(mta_storage.blocks),
	.turns = TAILQ_HEAD_INITIALIZER(mta_storage.turns),
	.lists = TAILQ_HEAD_INITIALIZER(mta_storage.lists)
};
struct mta_state	*mta = &mta_storage;

static void	mta_conn_next(struct mta_conn *);

/* mta_result - one envelope's outcome to the queue, and its log line;
 * RELAY_DSN as IMSG_QUEUE_DELIVERY_RESULT has it (MTA-18) */
static void
mta_result_dsn(uint64_t connid, const struct mta_route *r, uint64_t evpid,
    const char *rcpt, int status, const char *text, int relay_dsn)
{
	char	id[EVPID_TEXT_SIZE], q[MTA_REPLY_TEXT_MAX + 8];

	evpid_format(evpid, id, sizeof id);
	stats_add(status == DELIVERY_OK ? "mta.delivery.ok" :
	    status == DELIVERY_TEMPFAIL ? "mta.delivery.tempfail" :
	    "mta.delivery.permfail", 1);
	log_event(connid, "mta", "delivery", "evpid=%s to=<%s> relay=%s "
	    "result=%s stat=%s", id, rcpt, r != NULL ? r->dest : "-",
	    status == DELIVERY_OK ? "ok" : status == DELIVERY_TEMPFAIL ?
	    "tempfail" : "permfail", log_quote(q, sizeof q, text));
	msg_send_queue_delivery_result(env->peers[PROC_QUEUE],
	    &(struct msg_queue_delivery_result){ .evpid = evpid,
		.status = status, .error = text, .relay_dsn = relay_dsn });
	mta_hoststat_update(rcpt, text, evpid, status);
}

/* mta_result - a failure's outcome (no report question for the queue) */
void
mta_result(uint64_t connid, const struct mta_route *r, uint64_t evpid,
    const char *rcpt, int status, const char *text)
{
	mta_result_dsn(connid, r, evpid, rcpt, status, text, 0);
}

static void
mta_message_free(struct mta_message *m)
{
	struct mta_envelope	*e;

	while ((e = TAILQ_FIRST(&m->evps)) != NULL) {
		TAILQ_REMOVE(&m->evps, e, entry);
		free(e);
	}
	if (m->fd != -1)
		close(m->fd);
	free(m);
}

/* mta_message_fail - every envelope of M gets STATUS; M is freed */
static void
mta_message_fail(uint64_t connid, struct mta_route *r,
    struct mta_message *m, int status, const char *text)
{
	struct mta_envelope	*e;

	TAILQ_FOREACH(e, &m->evps, entry)
		mta_result(connid, r, e->evpid, e->rcpt, status, text);
	mta_message_free(m);
}

/* mta_route_fail_pending - what waits for R gets STATUS */
void
mta_route_fail_pending(struct mta_route *r, int status, const char *text)
{
	struct mta_message	*m;

	while ((m = TAILQ_FIRST(&r->pending)) != NULL) {
		TAILQ_REMOVE(&r->pending, m, entry);
		mta_message_fail(0, r, m, status, text);
	}
}

/* ---- limits ---- */

/* mta_limit - `mta limit [for domain D] KEY N`: D's, else the global
 * one, else DEF */
static long long
mta_limit(const char *domain, const char *key, long long def)
{
	const struct smtpd_conf	*c = env->conf;
	long long		 v = def;
	int			 bydomain = 0;
	size_t			 i;

	for (i = 0; i < c->nmta_limits; i++) {
		if (strcmp(c->mta_limits[i].key, key) != 0)
			continue;
		if (c->mta_limits[i].domain == NULL && !bydomain)
			v = c->mta_limits[i].value;
		else if (c->mta_limits[i].domain != NULL && domain != NULL &&
		    strcasecmp(c->mta_limits[i].domain, domain) == 0) {
			v = c->mta_limits[i].value;
			bydomain = 1;
		}
	}
	return v;
}

#define MTA_LIMIT_FIELD(field, key, def)	long long field;
#define MTA_LIMIT_INIT(field, key, def)		.field = def,
static const struct {
	CONF_MTA_LIMITS(MTA_LIMIT_FIELD)
} mta_defaults = { CONF_MTA_LIMITS(MTA_LIMIT_INIT) };
#undef MTA_LIMIT_FIELD
#undef MTA_LIMIT_INIT
#define MTA_LIMIT(dom, field, key)	mta_limit(dom, key, mta_defaults.field)

/* ---- routes ---- */

/* mta_route_host - add the address ADDR (numeric) named NAME: 0, or
 * -1 when full or not an address */
static int
mta_route_host(struct mta_route *r, const char *name, const char *addr)
{
	struct mta_host	*h;

	if (r->nhosts == MTA_HOSTS_MAX)
		return -1;
	h = &r->hosts[r->nhosts];
	memset(h, 0, sizeof *h);
	if (mta_addr_parse(addr, r->port, &h->ss, &h->sslen) == -1) {
		log_warnx("mta: route %s: unusable address %s", r->dest, addr);
		return -1;
	}
	mta_reply_sanitize(h->name, sizeof h->name, name, strlen(name));
	r->nhosts++;
	return 0;
}

/* mta_limit_family - `mta limit [for domain D] inet4|inet6` (MTA-13):
 * D's, else the global one; AF_UNSPEC when none */
static int
mta_limit_family(const char *domain)
{
	const struct smtpd_conf	*c = env->conf;
	int			 family = AF_UNSPEC, bydomain = 0, f;
	size_t			 i;

	for (i = 0; i < c->nmta_limits; i++) {
		if (strcmp(c->mta_limits[i].key, "inet4") == 0)
			f = AF_INET;
		else if (strcmp(c->mta_limits[i].key, "inet6") == 0)
			f = AF_INET6;
		else
			continue;
		if (c->mta_limits[i].domain == NULL && !bydomain)
			family = f;
		else if (c->mta_limits[i].domain != NULL &&
		    strcasecmp(c->mta_limits[i].domain, domain) == 0) {
			family = f;
			bydomain = 1;
		}
	}
	return family;
}

/* mta_route_limits - the route's limits, for domain or host DEST */
static void
mta_route_limits(struct mta_route *r)
{
	r->max_conn = MTA_LIMIT(r->dest, max_conn_per_route,
	    "max-conn-per-route");
	r->max_conn_host = MTA_LIMIT(r->dest, max_conn_per_host,
	    "max-conn-per-host");
	r->mail_max = MTA_LIMIT(r->dest, session_mail_max,
	    "session-mail-max");
	r->keepalive = MTA_LIMIT(r->dest, session_keepalive,
	    "session-keepalive");
	r->max_failures = MTA_LIMIT(r->dest, max_failures_per_session,
	    "max-failures-per-session");
	r->family = mta_limit_family(r->dest);
}

/* mta_route_src - `src`: the addresses of its (inline) list */
static void
mta_route_src(struct mta_route *r, const struct conf_action *a)
{
	const struct conf_table	*t = a->src;
	size_t			 i;

	for (i = 0; t != NULL && i < t->nentries && r->nsrc < MTA_SRC_MAX;
	    i++) {
		if (t->entries[i].key == NULL)
			continue;
		if (mta_addr_parse(t->entries[i].key, 0, &r->src[r->nsrc],
		    &r->srclen[r->nsrc]) == -1)
			log_warnx("mta: action %s: src %s is not an address, "
			    "ignored", a->name, t->entries[i].key);
		else
			r->nsrc++;
	}
}

/* mta_route_pick_src - the next source address of FAMILY not paused, in
 * turn (MTA-09), its index in *K; NULL: none */
static const struct sockaddr *
mta_route_pick_src(struct mta_route *r, int family, socklen_t *len,
    int *k)
{
	size_t	i, j;

	for (i = 0; i < r->nsrc; i++) {
		j = (r->nextsrc + i) % r->nsrc;
		if (r->src[j].ss_family != family || mta_src_blocked(r, j))
			continue;
		r->nextsrc = j + 1;
		*len = r->srclen[j];
		*k = (int)j;
		return (const struct sockaddr *)&r->src[j];
	}
	*len = 0;
	*k = -1;
	return NULL;
}

static void
mta_route_on_kick(evutil_socket_t fd, short ev, void *arg)
{
	struct mta_route	*r = arg;

	timerclear(&r->gather_end);
	mta_route_kick(r);
}

static void	mta_route_resolved(struct mta_route *, int, const char *);

/* mta_route_on_dns_timeout - lookup did not answer in time */
static void
mta_route_on_dns_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct mta_route	*r = arg;

	log_warnx("mta: route %s: no DNS answer in %d s", r->dest,
	    MTA_DNS_TIMEOUT);
	mta_route_resolved(r, DNS_TEMPFAIL, "no answer from the resolver");
}

/* the TLS a route uses (mta_route_tls_mode) */
struct mta_route_tls {
	int	mode;		/* MTA_TLS_* */
	int	verify;
};

/* mta_route_auth - a labelled URL: its credentials are to be asked */
static void
mta_route_auth(struct mta_route *r, const struct conf_action *a,
    const struct mta_url *u)
{
	if (u == NULL || u->label[0] == '\0' || a->auth == NULL)
		return;
	strlcpy(r->label, u->label, sizeof r->label);
	r->auth_table = xstrdup(a->auth->name);
	r->creds = MTA_CREDS_WANTED;
}

/* mta_route_find - the route of KEY, made when new */
static struct mta_route *
mta_route_find(const char *key, const char *dest, int mx,
    const struct conf_action *a, const struct mta_url *u,
    const struct mta_route_tls *tls)
{
	struct mta_route	*r;

	TAILQ_FOREACH(r, &mta->routes, entry)
		if (strcmp(r->key, key) == 0)
			return r;
	r = xcalloc(1, sizeof *r);
	r->id = ++mta->next_route_id;
	r->key = xstrdup(key);
	r->action = xstrdup(a->name);
	r->dest = xstrdup(dest);
	r->mx = mx;
	r->lmtp = u != NULL && u->scheme == MTA_SCHEME_LMTP;
	r->port = u != NULL ? mta_url_port(u) : env->opts.mta_port > 0 ?
	    env->opts.mta_port : 25;
	r->tls = tls->mode;
	r->tls_verify = tls->verify;
	strlcpy(r->servername, u != NULL ? u->host : "", sizeof r->servername);
	mta_route_auth(r, a, u);
	strlcpy(r->helo, a->helo != NULL ? a->helo : env->servername,
	    sizeof r->helo);
	TAILQ_INIT(&r->pending);
	TAILQ_INIT(&r->conns);
	mta_route_limits(r);
	if (mta_list_table(a->src)) {
		r->src_table = xstrdup(a->src->name);
		r->srcs = MTA_CREDS_WANTED;	/* then the helo-src names */
	} else
		mta_route_src(r, a);
	if (a->helo_src != NULL && a->helo_src->name != NULL) {
		r->helo_table = xstrdup(a->helo_src->name);
		if (r->nsrc > 0)
			r->helos = MTA_CREDS_WANTED;
	}
	if ((r->kick = evtimer_new(env->evb, mta_route_on_kick, r)) ==
	    NULL || (r->dns_timer = evtimer_new(env->evb,
	    mta_route_on_dns_timeout, r)) == NULL)
		fatalx("mta: event_new");
	if (u != NULL && u->literal) {
		mta_route_host(r, u->host, u->host);
		r->literal = 1;
		r->resolved = time(NULL);
	}
	TAILQ_INSERT_TAIL(&mta->routes, r, entry);
	return r;
}

/* mta_route_free - an unused route */
static void
mta_route_free(struct mta_route *r)
{
	TAILQ_REMOVE(&mta->routes, r, entry);
	if (r->dns_reqid)
		api_tree_pop(&mta->dns, r->dns_reqid);
	if (r->creds == MTA_CREDS_PENDING)
		api_tree_pop(&mta->creds, r->creds_reqid);
	mta_helos_forget(r);
	mta_list_forget(r);
	free(r->src_table);
	free(r->auth_table);
	free(r->helo_table);
	explicit_bzero(r->auth_pass, sizeof r->auth_pass);
	event_free(r->kick);
	event_free(r->dns_timer);
	free(r->key);
	free(r->action);
	free(r->dest);
	free(r);
}

/* mta_route_schedule - look at R once the current input is read */
void
mta_route_schedule(struct mta_route *r)
{
	struct timeval	tv = { 0, 0 };

	r->lastuse = time(NULL);
	timerclear(&r->gather_end);
	evtimer_add(r->kick, &tv);
}

/* mta_route_schedule_batch - look at R in MTA_BATCH_MS, so that the
 * envelopes of one message the queue hands out one by one make one
 * transaction.  MORE: the envelope joined a message already waiting;
 * its recipients are still coming, so the kick moves MTA_BATCH_MS
 * later, never past MTA_BATCH_MAX_MS after the first (a loaded host
 * hands them out slower than 20 ms for 30).  A kick due now stays. */
static void
mta_route_schedule_batch(struct mta_route *r, int more)
{
	struct timeval	now, tv = { 0, MTA_BATCH_MS * 1000 }, due;

	r->lastuse = time(NULL);
	if (evtimer_pending(r->kick, NULL)) {
		if (!more || !timerisset(&r->gather_end))
			return;
		evutil_gettimeofday(&now, NULL);
		timeradd(&now, &tv, &due);
		if (timercmp(&due, &r->gather_end, >))
			due = r->gather_end;
		if (!timercmp(&due, &now, >))
			return;
		timersub(&due, &now, &tv);
		evtimer_add(r->kick, &tv);	/* moves it */
		return;
	}
	evutil_gettimeofday(&now, NULL);
	due.tv_sec = 0;
	due.tv_usec = MTA_BATCH_MAX_MS * 1000;
	timeradd(&now, &due, &r->gather_end);
	evtimer_add(r->kick, &tv);
}

/* ---- DNS ---- */

/* mta_route_resolve - ask lookup for the route's MXs or host */
static void
mta_route_resolve(struct mta_route *r)
{
	struct timeval	tv = { MTA_DNS_TIMEOUT, 0 };
	int		err = 0;

	r->dns_reqid = ++mta->next_id;
	api_tree_set(&mta->dns, r->dns_reqid, r, &err);
	if (err)
		fatalx("mta: out of memory");
	r->nhosts = 0;
	if (r->mx)
		msg_send_lookup_dns_mx(env->peers[PROC_LOOKUP],
		    &(struct msg_lookup_dns_mx){ .reqid = r->dns_reqid,
			.domain = r->dest });
	else
		msg_send_lookup_dns_host(env->peers[PROC_LOOKUP],
		    &(struct msg_lookup_dns_host){ .reqid = r->dns_reqid,
			.host = r->dest });
	evtimer_add(r->dns_timer, &tv);
}

/* mta_route_resolved - the DNS answer is complete (or timed out) */
static void
mta_route_resolved(struct mta_route *r, int status, const char *error)
{
	char	why[MTA_REPLY_TEXT_MAX], safe[256];

	api_tree_pop(&mta->dns, r->dns_reqid);
	r->dns_reqid = 0;
	evtimer_del(r->dns_timer);
	mta_reply_sanitize(safe, sizeof safe, error, strlen(error));
	if (status == DNS_OK && r->nhosts > 0) {
		r->resolved = time(NULL);
		mta_route_schedule(r);
		return;
	}
	if (status == DNS_NULLMX)
		snprintf(why, sizeof why, "550 5.1.10 Domain %s does not "
		    "accept mail (null MX)", r->dest);
	else if (status == DNS_NOTFOUND)
		snprintf(why, sizeof why, "550 5.1.2 Domain %s does not exist "
		    "or has no address%s%s", r->dest, *safe ? ": " : "", safe);
	else if (status == DNS_OK)
		snprintf(why, sizeof why, "451 4.4.4 No usable MX host for %s",
		    r->dest);
	else
		snprintf(why, sizeof why, "451 4.4.3 DNS lookup of %s failed"
		    "%s%s", r->dest, *safe ? ": " : "", safe);
	mta_route_fail_pending(r, status == DNS_NULLMX ||
	    status == DNS_NOTFOUND ? DELIVERY_PERMFAIL : DELIVERY_TEMPFAIL,
	    why);
}

void
dispatcher_on_dns_addr(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_addr	 m;
	struct mta_route		*r;

	if (msg_unpack_lookup_dns_addr(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((r = api_tree_get(&mta->dns, m.reqid)) == NULL)
		return;		/* timed out meanwhile */
	if (mta_route_host(r, m.host, m.addr) == 0)
		r->hosts[r->nhosts - 1].preference = m.preference;
}

/* mta_route_backup - `relay backup`: only MXs better than ours */
static void
mta_route_backup(struct mta_route *r, const struct conf_action *a)
{
	struct mta_mx	mx[MTA_HOSTS_MAX];
	struct mta_host	hosts[MTA_HOSTS_MAX];
	size_t		i, n;

	for (i = 0; i < r->nhosts; i++) {
		mx[i].preference = r->hosts[i].preference;
		mx[i].host = r->hosts[i].name;
		mx[i].index = i;
	}
	n = mta_mx_backup(mx, r->nhosts, a->backup_mx != NULL ?
	    a->backup_mx : env->servername);
	memcpy(hosts, r->hosts, sizeof hosts);
	for (i = 0; i < n; i++)
		r->hosts[i] = hosts[mx[i].index];
	r->nhosts = n;
}

void
dispatcher_on_dns_end(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_end	 m;
	struct mta_route		*r;
	const struct conf_action	*a;

	if (msg_unpack_lookup_dns_end(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((r = api_tree_get(&mta->dns, m.reqid)) == NULL)
		return;
	a = conf_action_find(env->conf, r->action);
	if (r->mx && m.status == DNS_OK && a != NULL && a->backup)
		mta_route_backup(r, a);
	mta_route_resolved(r, m.status, m.error);
}

/* ---- connections ---- */

static void
mta_conn_free(struct mta_conn *c)
{
	struct mta_route	*r = c->route;

	TAILQ_REMOVE(&r->conns, c, entry);
	r->nconns--;
	mta->nconns--;
	stats_set("mta.session", mta->nconns);
	c->host->nconns--;
	if (c->idle != NULL)
		event_free(c->idle);
	free(c);
}

/* mta_conn_on_idle - session-keepalive is over: QUIT */
static void
mta_conn_on_idle(evutil_socket_t fd, short ev, void *arg)
{
	struct mta_conn	*c = arg;

	if (c->s != NULL && c->msg == NULL && !c->quitting) {
		c->quitting = 1;
		mta_session_quit(c->s);
	}
}

static void
mta_conn_on_ready(void *arg, struct mta_session *s)
{
	struct mta_conn	*c = arg;
	unsigned int	 ext = mta_session_ext(s);

	c->ready = 1;
	c->host->failures = 0;
	c->host->aside_until = 0;
	log_event(c->id, "mta", "connected", "relay=%s address=%s "
	    "host=%s source=%s ext=%s%s%s%s tls=%s", c->route->dest,
	    mta_session_addr(s), c->host->name, mta_session_local_addr(s),
	    ext & MTA_EXT_PIPELINING ? "P" : "",
	    ext & MTA_EXT_SIZE ? "S" : "", ext & MTA_EXT_DSN ? "D" : "",
	    ext & MTA_EXT_STARTTLS ? "T" : "",
	    mta_session_tls(s) ? "yes" : "no");
	mta_conn_next(c);
}

/* mta_conn_tx_size_ok - the peer's SIZE limit allows the message */
static int
mta_conn_tx_size_ok(struct mta_conn *c, struct mta_message *m)
{
	uint64_t	max = mta_session_max_size(c->s);
	char		text[MTA_REPLY_TEXT_MAX];

	if (max == 0 || m->size <= max)
		return 1;
	snprintf(text, sizeof text, "552 5.3.4 Message of %llu bytes "
	    "exceeds the next hop's limit of %llu bytes",
	    (unsigned long long)m->size, (unsigned long long)max);
	mta_message_fail(c->id, c->route, m, DELIVERY_PERMFAIL, text);
	return 0;
}

/* mta_conn_start - send message M (at most MTA_RCPT_PER_TX envelopes) */
static void
mta_conn_start(struct mta_conn *c, struct mta_message *m)
{
	struct mta_envelope	*e;
	size_t			 n = 0;
	int			 dsn;

	c->msg = m;
	c->tx.sender = m->sender;
	dsn = (mta_session_ext(c->s) & MTA_EXT_DSN) != 0;
	c->mail_params[0] = '\0';
	if (mta_session_ext(c->s) & MTA_EXT_SIZE)
		snprintf(c->mail_params, sizeof c->mail_params, " SIZE=%llu",
		    (unsigned long long)m->size);
	if (dsn)
		strlcat(c->mail_params, m->dsn, sizeof c->mail_params);
	c->tx.params = c->mail_params;
	TAILQ_FOREACH(e, &m->evps, entry) {
		c->rcpts[n].addr = e->rcpt;
		c->rcpts[n].params = dsn ? e->dsn : "";
		n++;
	}
	c->tx.rcpts = c->rcpts;
	c->tx.nrcpts = n;
	c->tx.fd = m->fd;
	c->tx.size = m->size;
	c->nmsgs++;
	mta_session_start_tx(c->s, &c->tx);
}

/* mta_route_take - the next message for a session, split to at most
 * MTA_RCPT_PER_TX recipients; NULL when none */
static struct mta_message *
mta_route_take(struct mta_route *r)
{
	struct mta_message	*m, *first;
	struct mta_envelope	*e;
	int			 fd;

	if ((m = TAILQ_FIRST(&r->pending)) == NULL)
		return NULL;
	if (m->nevps <= MTA_RCPT_PER_TX) {
		TAILQ_REMOVE(&r->pending, m, entry);
		return m;
	}
	if ((fd = dup(m->fd)) == -1) {
		log_warn("mta: route %s: dup", r->dest);
		TAILQ_REMOVE(&r->pending, m, entry);
		mta_message_fail(0, r, m, DELIVERY_TEMPFAIL,
		    "451 4.3.0 Out of descriptors in the MTA");
		return NULL;
	}
	first = xcalloc(1, sizeof *first);
	first->msgid = m->msgid;
	first->fd = fd;
	first->size = m->size;
	memcpy(first->sender, m->sender, sizeof first->sender);
	memcpy(first->dsn, m->dsn, sizeof first->dsn);
	TAILQ_INIT(&first->evps);
	while (first->nevps < MTA_RCPT_PER_TX) {
		e = TAILQ_FIRST(&m->evps);
		TAILQ_REMOVE(&m->evps, e, entry);
		m->nevps--;
		TAILQ_INSERT_TAIL(&first->evps, e, entry);
		first->nevps++;
	}
	return first;
}

/* mta_conn_next - after ready or a transaction: the next message, or
 * idle for session-keepalive, or QUIT */
static void
mta_conn_next(struct mta_conn *c)
{
	struct mta_route	*r = c->route;
	struct mta_message	*m;
	struct timeval		 tv = { r->keepalive, 0 };

	c->msg = NULL;
	while (!mta->paused && !mta_conn_blocked(c) &&
	    c->nmsgs < r->mail_max &&
	    c->nfailures < r->max_failures &&
	    (m = mta_route_take(r)) != NULL) {
		if (!mta_conn_tx_size_ok(c, m))
			continue;
		if (c->idle != NULL)
			evtimer_del(c->idle);
		mta_conn_start(c, m);
		return;
	}
	if (c->nmsgs >= r->mail_max || c->nfailures >= r->max_failures ||
	    r->keepalive <= 0) {
		c->quitting = 1;
		mta_session_quit(c->s);
		return;
	}
	if (c->idle == NULL &&
	    (c->idle = evtimer_new(env->evb, mta_conn_on_idle, c)) == NULL)
		fatalx("mta: evtimer_new");
	evtimer_add(c->idle, &tv);
}

static void
mta_conn_on_tx_done(void *arg, struct mta_session *s, struct mta_tx *tx)
{
	struct mta_conn		*c = arg;
	struct mta_message	*m = c->msg;
	struct mta_envelope	*e;
	size_t			 i = 0;
	int			 failed = 1, dsn;

	/* who reports success from here: the next hop if it took NOTIFY
	 * (1), we as "relayed" if it has no DSN (-1), an LMTP server being
	 * the final delivery (0: "delivered") (RFC 3461 4.3, MTA-18) */
	dsn = (mta_session_ext(s) & MTA_EXT_DSN) ? 1 : c->route->lmtp ? 0 :
	    -1;
	TAILQ_FOREACH(e, &m->evps, entry) {
		if (i >= tx->nrcpts)
			break;
		mta_result_dsn(c->id, c->route, e->evpid, e->rcpt,
		    tx->rcpts[i].status, tx->rcpts[i].reply, dsn);
		failed &= tx->rcpts[i].status != DELIVERY_OK;
		i++;
	}
	c->nfailures += failed;
	mta_message_free(m);
	c->msg = NULL;
	if (c->s != NULL && c->ready && !c->quitting)
		mta_conn_next(c);
}

/* mta_host_failed - H could not be used: count, maybe set it aside */
static void
mta_host_failed(struct mta_host *h)
{
	time_t	d = MTA_ASIDE_BASE;
	int	i;

	if (++h->failures < MTA_ASIDE_FAILURES)
		return;
	for (i = MTA_ASIDE_FAILURES; i < h->failures && d < MTA_ASIDE_MAX;
	    i++)
		d *= 2;
	h->aside_until = time(NULL) + (d > MTA_ASIDE_MAX ? MTA_ASIDE_MAX : d);
}

static void
mta_conn_on_closed(void *arg, struct mta_session *s, int status,
    const char *error)
{
	struct mta_conn		*c = arg;
	struct mta_route	*r = c->route;
	char			 q[MTA_REPLY_TEXT_MAX + 8];

	c->s = NULL;
	if (c->msg != NULL) {
		/* started on a session already dying: never sent */
		TAILQ_INSERT_HEAD(&r->pending, c->msg, entry);
		c->msg = NULL;
	}
	if (mta_session_tls_fallback(s)) {
		/* opportunistic TLS failed: that host in clear, at once */
		c->host->clear_until = time(NULL) + MTA_CLEAR_TTL;
		log_event(c->id, "mta", "tls-fallback", "relay=%s address=%s "
		    "host=%s reason=%s", r->dest, mta_session_addr(s),
		    c->host->name, log_quote(q, sizeof q, error));
	} else if (!c->ready) {
		mta_host_failed(c->host);
		snprintf(r->error, sizeof r->error, "%.200s: %.300s",
		    c->host->name, error);
	}
	log_event(c->id, "mta", "disconnected", "relay=%s address=%s host=%s "
	    "messages=%lld reason=%s", r->dest, mta_session_addr(s),
	    c->host->name, c->nmsgs, log_quote(q, sizeof q,
	    *error ? error : "quit"));
	mta_conn_free(c);
	mta_route_schedule(r);
	if (mta->nconns + 1 == MTA_LIMIT(NULL, max_conn_per_source,
	    "max-conn-per-source"))
		mta_kick_all();
}

static const struct mta_hooks mta_conn_hooks = {
	.ready = mta_conn_on_ready,
	.tx_done = mta_conn_on_tx_done,
	.closed = mta_conn_on_closed,
};

/* mta_route_pick - a host to connect to, or NULL */
static struct mta_host *
mta_route_pick(struct mta_route *r, time_t now)
{
	size_t	i;

	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].aside_until <= now &&
		    r->hosts[i].nconns < r->max_conn_host &&
		    (r->family == AF_UNSPEC ||
		    r->hosts[i].ss.ss_family == r->family))
			return &r->hosts[i];
	return NULL;
}

/* mta_route_conn_params - the parameters of a session of R to H from
 * SRC (NULL: any) into P, its id aside: 0, or -1 (R's error set) when
 * required TLS cannot be set up */
static int
mta_route_conn_params(struct mta_route *r, struct mta_host *h,
    const struct sockaddr *src, struct mta_session_params *p)
{
	size_t	k = src != NULL ? (size_t)((const struct sockaddr_storage *)
		    src - r->src) : 0;

	memset(p, 0, sizeof *p);
	p->base = env->evb;
	p->helo = src != NULL && r->src_helo[k][0] != '\0' ? r->src_helo[k] :
	    r->helo;
	p->lmtp = r->lmtp;
	p->timeout = env->opts.mta_timeout;
	p->peer = h->name;
	p->tls = r->tls;
	if (p->tls == MTA_TLS_TRY && h->clear_until > time(NULL))
		p->tls = MTA_TLS_NONE;
	p->tls_verify = r->tls_verify;
	p->servername = r->mx || r->servername[0] == '\0' ? h->name :
	    r->servername;
	if (p->tls != MTA_TLS_NONE)
		p->tls_config = dispatcher_mta_tls_config(r->action,
		    r->tls_verify);
	p->tls_check = dispatcher_mta_tls_check;
	p->tls_check_arg = r->action;
	if (p->tls != MTA_TLS_NONE && p->tls != MTA_TLS_TRY &&
	    p->tls_config == NULL) {
		snprintf(r->error, sizeof r->error, "451 4.7.5 TLS client of "
		    "action %.100s could not be set up (see the log at start)",
		    r->action);
		return -1;
	}
	if (r->creds == MTA_CREDS_OK) {
		p->auth_user = r->auth_user;
		p->auth_pass = r->auth_pass;
	}
	return 0;
}

/* mta_route_connect - a new session to H */
static int
mta_route_connect(struct mta_route *r, struct mta_host *h)
{
	struct mta_session_params	 p;
	struct mta_conn			*c;
	const struct sockaddr		*src = NULL;
	socklen_t			 srclen = 0;
	char				 err[256];
	int				 srcidx = -1;

	if (r->nsrc > 0 && (src = mta_route_pick_src(r, h->ss.ss_family,
	    &srclen, &srcidx)) == NULL) {
		snprintf(r->error, sizeof r->error, "%.200s: no source "
		    "address of its family in the action's src", h->name);
		mta_host_failed(h);
		return -1;
	}
	if (mta_route_conn_params(r, h, src, &p) == -1) {
		mta_host_failed(h);
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->id = ((uint64_t)arc4random() << 32) | ++mta->next_id;
	c->route = r;
	c->host = h;
	c->srcidx = srcidx;
	p.id = c->id;
	c->s = mta_session_connect(&p, (struct sockaddr *)&h->ss, h->sslen,
	    src, srclen, &mta_conn_hooks, c, err, sizeof err);
	if (c->s == NULL) {
		log_warnx("mta: route %s: %s", r->dest, err);
		snprintf(r->error, sizeof r->error, "%.200s: %.300s", h->name,
		    err);
		mta_host_failed(h);
		free(c);
		return -1;
	}
	TAILQ_INSERT_TAIL(&r->conns, c, entry);
	r->nconns++;
	mta->nconns++;
	stats_set("mta.session", mta->nconns);
	stats_add("mta.session.total", 1);
	h->nconns++;
	h->lastconn = time(NULL);
	return 0;
}

/* mta_route_hosts_clear - R's hosts no longer set aside (resume route,
 * its credentials updated) */
void
mta_route_hosts_clear(struct mta_route *r)
{
	size_t	i;

	for (i = 0; i < r->nhosts; i++) {
		r->hosts[i].failures = 0;
		r->hosts[i].aside_until = 0;
	}
}

/* mta_route_kick - give waiting messages to idle sessions, open
 * sessions while messages wait, fail what no host can take */
void
mta_route_kick(struct mta_route *r)
{
	struct mta_conn	*c, *next;
	struct mta_message *m;
	struct mta_host	*h;
	time_t		 now = time(NULL);
	int		 waiting = 0, connecting = 0;

	if (TAILQ_EMPTY(&r->pending) || mta->paused)
		return;
	if (!r->literal && r->resolved && r->nconns == 0 &&
	    now - r->resolved > MTA_DNS_TTL)
		r->resolved = 0;	/* asked again, now and then */
	if (!r->resolved) {
		if (r->dns_reqid == 0)
			mta_route_resolve(r);
		return;
	}
	if (r->srcs == MTA_CREDS_OK && r->nconns == 0 &&
	    now - r->srcs_when > mta_list_ttl())
		r->srcs = MTA_CREDS_WANTED;	/* the list again, now and then */
	if (r->srcs == MTA_CREDS_WANTED)
		mta_route_ask_srcs(r);		/* may ask the helo-src names */
	if (r->srcs == MTA_CREDS_PENDING || r->srcs == MTA_CREDS_WANTED)
		return;				/* or it failed what waited */
	if (r->creds == MTA_CREDS_WANTED)
		mta_route_ask_creds(r);
	if (r->helos == MTA_CREDS_WANTED)
		mta_route_ask_helos(r);
	if (r->creds == MTA_CREDS_PENDING || r->helos == MTA_CREDS_PENDING)
		return;
	if (mta_route_blocked(r))
		return;		/* waits for resume mta from/for */
	for (c = TAILQ_FIRST(&r->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->ready && !c->quitting && c->s != NULL &&
		    c->msg == NULL && !TAILQ_EMPTY(&r->pending))
			mta_conn_next(c);	/* may free c */
	}
	TAILQ_FOREACH(m, &r->pending, entry)
		waiting++;
	TAILQ_FOREACH(c, &r->conns, entry)
		connecting += !c->ready;
	/* one more connection for each MTA_CONN_BACKLOG messages waiting
	 * beyond what the route's connections will take next */
	while ((r->nconns == 0 || waiting - connecting > MTA_CONN_BACKLOG *
	    r->nconns) && r->nconns < r->max_conn && mta->nconns <
	    MTA_LIMIT(NULL, max_conn_per_source, "max-conn-per-source") &&
	    (h = mta_route_pick(r, now)) != NULL)
		connecting += mta_route_connect(r, h) == 0;
	if (r->nconns == 0 && !TAILQ_EMPTY(&r->pending) &&
	    mta_route_pick(r, now) == NULL)
		mta_route_fail_pending(r, DELIVERY_TEMPFAIL, r->error[0] ?
		    r->error : r->family != AF_UNSPEC ? "no address of the "
		    "family the mta limit inet4/inet6 allows" :
		    "every host of the route is set aside");
}

/* mta_kick_all - a global limit or the pause lifted: every route */
void
mta_kick_all(void)
{
	struct mta_route	*r;

	TAILQ_FOREACH(r, &mta->routes, entry)
		if (!TAILQ_EMPTY(&r->pending))
			mta_route_schedule(r);
}

/* mta_on_gc - forget routes unused for MTA_ROUTE_IDLE seconds */
static void
mta_on_gc(evutil_socket_t fd, short ev, void *arg)
{
	struct mta_route	*r, *next;
	struct timeval		 tv = { 60, 0 };
	time_t			 now = time(NULL);

	for (r = TAILQ_FIRST(&mta->routes); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (TAILQ_EMPTY(&r->pending) && TAILQ_EMPTY(&r->conns) &&
		    r->dns_reqid == 0 && now - r->lastuse > MTA_ROUTE_IDLE)
			mta_route_free(r);
	}
	mta_hoststat_expire(now);
	evtimer_add(mta->gc, &tv);
}

/* ---- envelopes in ---- */

/* mta_sender - the MAIL FROM of E, with the action's mail-from */
static int
mta_sender(const struct envelope *e, const struct conf_action *a,
    char *buf, size_t bufsz)
{
	const char	*mf = a->mail_from, *at;
	int		 n;

	if (mailaddr_is_null(&e->sender)) {
		buf[0] = '\0';
		return 0;
	}
	if (mf == NULL || *mf == '\0')
		return mailaddr_format(&e->sender, buf, bufsz);
	if ((at = strchr(mf, '@')) == NULL)
		n = snprintf(buf, bufsz, "%s@%s", mf, e->sender.domain);
	else if (at == mf)
		n = snprintf(buf, bufsz, "%s%s", e->sender.user, mf);
	else
		n = snprintf(buf, bufsz, "%s", mf);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

/* mta_host_turn - which URL of A's `relay host` list MSGID takes:
 * each message the next one, the envelopes of a message the same
 * (within a few seconds of each other, in one batch or several), a
 * retry the next again (MTA-06) */
size_t
mta_host_turn(const struct conf_action *a, uint32_t msgid, size_t n)
{
	struct mta_turn	*t;
	time_t		 now;
	size_t		 i;

	if (n < 2)
		return 0;
	TAILQ_FOREACH(t, &mta->turns, entry)
		if (strcmp(t->action, a->name) == 0)
			break;
	if (t == NULL) {
		t = xcalloc(1, sizeof *t);
		t->action = xstrdup(a->name);
		TAILQ_INSERT_TAIL(&mta->turns, t, entry);
	}
	now = time(NULL);
	for (i = 0; i < MTA_TURN_RECENT; i++)
		if (t->recent[i].msgid == msgid && t->recent[i].when != 0 &&
		    now - t->recent[i].when < MTA_TURN_SAME_SECONDS)
			return t->recent[i].index % n;	/* a fetched list
							 * may have shrunk */
	i = t->pos;
	t->pos = (t->pos + 1) % MTA_TURN_RECENT;
	t->recent[i].msgid = msgid;
	t->recent[i].when = now;
	t->recent[i].index = t->next++ % n;
	return t->recent[i].index;
}

/* mta_route_tls_mode - the TLS of action A's route to U (NULL: MX):
 * 0, or -1 with WHY when the action and the URL disagree (MTA-05,
 * MTA-25) */
static int
mta_route_tls_mode(const struct conf_action *a, const struct mta_url *u,
    struct mta_route_tls *tls, char *why, size_t whysz)
{
	int	required = a->relay_tls != CONF_RELAY_TLS_DEFAULT;
	int	scheme = u != NULL ? (int)u->scheme : MTA_SCHEME_SMTP;

	tls->verify = a->relay_tls != CONF_RELAY_TLS_NO_VERIFY;
	if (scheme == MTA_SCHEME_SMTP) {
		tls->mode = required ? MTA_TLS_STARTTLS : MTA_TLS_TRY;
		tls->verify = a->relay_tls == CONF_RELAY_TLS_VERIFY;
	} else if (scheme == MTA_SCHEME_SMTP_TLS)
		tls->mode = MTA_TLS_STARTTLS;
	else if (scheme == MTA_SCHEME_SMTPS)
		tls->mode = MTA_TLS_SMTPS;
	else if (required) {
		snprintf(why, whysz, "action %s: TLS required but the relay "
		    "URL is %s", a->name, scheme == MTA_SCHEME_LMTP ?
		    "lmtp://" : "smtp+notls://");
		return -1;
	} else {
		tls->mode = MTA_TLS_NONE;
		tls->verify = 0;
	}
	if (u != NULL && u->label[0] != '\0' && scheme != MTA_SCHEME_SMTP_TLS &&
	    scheme != MTA_SCHEME_SMTPS) {
		snprintf(why, whysz, "action %s: a label (AUTH) needs "
		    "smtp+tls:// or smtps://, never clear text", a->name);
		return -1;
	}
	if (u != NULL && u->label[0] != '\0' && (a->auth == NULL ||
	    a->auth->name == NULL)) {
		snprintf(why, whysz, "action %s: the URL has a label but the "
		    "action no auth table", a->name);
		return -1;
	}
	return 0;
}

/* mta_envelope_route - the route of envelope EVPID (E) under action A,
 * or NULL with WHY (a temporary failure) */
static struct mta_route *
mta_envelope_route(const struct envelope *e, uint64_t evpid,
    const struct conf_action *a, char *why, size_t whysz)
{
	const char	*url;
	char		 key[1024], dest[300];
	struct mta_route_tls tls;

	if (a->host == NULL) {
		if (mta_route_tls_mode(a, NULL, &tls, why, whysz) == -1)
			return NULL;
		snprintf(dest, sizeof dest, "%s", e->dest.domain);
		for (url = dest; *url; url++)
			dest[url - dest] = (char)tolower((unsigned char)*url);
		snprintf(key, sizeof key, "%s|mx:%s", a->name, dest);
		return mta_route_find(key, dest, 1, a, NULL, &tls);
	}
	if (a->host->nentries == 0 || a->host->entries[0].key == NULL) {
		snprintf(why, whysz, "action %s: relay host: an empty list",
		    a->name);
		return NULL;
	}
	url = a->host->entries[mta_host_turn(a, evpid_to_msgid(evpid),
	    a->host->nentries)].key;
	if (url == NULL) {
		snprintf(why, whysz, "action %s: no relay URL", a->name);
		return NULL;
	}
	return mta_url_route(a, url, why, whysz);
}

/* mta_url_route - the route of action A to relay URL (a smarthost), or
 * NULL with WHY */
struct mta_route *
mta_url_route(const struct conf_action *a, const char *url, char *why,
    size_t whysz)
{
	struct mta_url		u;
	struct mta_route_tls	tls;
	char			key[1024], dest[300], err[300];

	if (mta_url_parse(url, &u, err, sizeof err) == -1) {
		snprintf(why, whysz, "action %s: %s", a->name, err);
		return NULL;
	}
	if (mta_route_tls_mode(a, &u, &tls, why, whysz) == -1)
		return NULL;
	snprintf(key, sizeof key, "%s|%s", a->name, url);
	snprintf(dest, sizeof dest, "%s", url);
	return mta_route_find(key, dest, 0, a, &u, &tls);
}

/* mta_xtext - SRC as RFC 3461 xtext into DST: 0, or -1 if too long */
static int
mta_xtext(char *dst, size_t dstsz, const char *src)
{
	size_t		n = 0;
	unsigned char	c;

	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (n + 4 > dstsz)
			return -1;
		if (c < 33 || c > 126 || c == '+' || c == '=')
			n += (size_t)snprintf(dst + n, dstsz - n, "+%02X", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return 0;
}

/* mta_dsn_rcpt - NOTIFY= and ORCPT= of E, for a next hop with DSN */
static void
mta_dsn_rcpt(const struct envelope *e, char *buf, size_t bufsz)
{
	char	orcpt[MAILADDR_TEXT_SIZE], x[3 * MAILADDR_TEXT_SIZE];
	int	n = e->dsn_notify;

	buf[0] = '\0';
	if (n & DSN_NOTIFY_NEVER)
		strlcat(buf, " NOTIFY=NEVER", bufsz);
	else if (n)
		snprintf(buf, bufsz, " NOTIFY=%s%s%s%s%s",
		    n & DSN_NOTIFY_SUCCESS ? "SUCCESS" : "",
		    (n & DSN_NOTIFY_SUCCESS) && (n & ~DSN_NOTIFY_SUCCESS) ?
		    "," : "", n & DSN_NOTIFY_FAILURE ? "FAILURE" : "",
		    (n & DSN_NOTIFY_FAILURE) && (n & DSN_NOTIFY_DELAY) ? "," :
		    "", n & DSN_NOTIFY_DELAY ? "DELAY" : "");
	if (!mailaddr_is_null(&e->dsn_orcpt) &&
	    mailaddr_format(&e->dsn_orcpt, orcpt, sizeof orcpt) != -1 &&
	    mta_xtext(x, sizeof x, orcpt) == 0) {
		strlcat(buf, " ORCPT=rfc822;", bufsz);
		strlcat(buf, x, bufsz);
	}
}

/* mta_dsn_mail - RET= and ENVID= of E (ENVID is kept as xtext) */
static void
mta_dsn_mail(const struct envelope *e, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s%s%s", e->dsn_ret == DSN_RET_FULL ?
	    " RET=FULL" : e->dsn_ret == DSN_RET_HDRS ? " RET=HDRS" : "",
	    e->dsn_envid[0] && strpbrk(e->dsn_envid, " \t\r\n") == NULL ?
	    " ENVID=" : "", strpbrk(e->dsn_envid, " \t\r\n") == NULL ?
	    e->dsn_envid : "");
}

/* mta_route_add - envelope EVPID of message FD to R's waiting list */
void
mta_route_add(struct mta_route *r, uint64_t evpid, int fd,
    const char *sender, const char *rcpt, const struct envelope *evp)
{
	struct mta_message	*m;
	struct mta_envelope	*e;
	struct stat		 st;
	uint32_t		 msgid = evpid_to_msgid(evpid);
	int			 more;

	TAILQ_FOREACH(m, &r->pending, entry)
		if (m->msgid == msgid && strcmp(m->sender, sender) == 0)
			break;
	if ((more = m != NULL))
		close(fd);
	else {
		m = xcalloc(1, sizeof *m);
		m->msgid = msgid;
		m->fd = fd;
		m->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
		strlcpy(m->sender, sender, sizeof m->sender);
		mta_dsn_mail(evp, m->dsn, sizeof m->dsn);
		TAILQ_INIT(&m->evps);
		TAILQ_INSERT_TAIL(&r->pending, m, entry);
	}
	e = xcalloc(1, sizeof *e);
	e->evpid = evpid;
	strlcpy(e->rcpt, rcpt, sizeof e->rcpt);
	mta_dsn_rcpt(evp, e->dsn, sizeof e->dsn);
	TAILQ_INSERT_TAIL(&m->evps, e, entry);
	m->nevps++;
	mta_route_schedule_batch(r, more);
}

void
dispatcher_mta_envelope(uint64_t evpid, int fd, const struct envelope *e)
{
	const struct conf_action	*a;
	struct mta_route		*r = NULL;
	char				 sender[MAILADDR_TEXT_SIZE];
	char				 rcpt[MAILADDR_TEXT_SIZE] = "";
	char				 why[512] = "";

	if (mailaddr_format(&e->dest, rcpt, sizeof rcpt) == -1)
		snprintf(why, sizeof why, "unusable recipient");
	else if ((a = conf_action_find(env->conf, e->dispatcher)) == NULL ||
	    a->method != CONF_METHOD_RELAY)
		snprintf(why, sizeof why, "no relay action named %s",
		    e->dispatcher);
	else if (mta_sender(e, a, sender, sizeof sender) == -1)
		snprintf(why, sizeof why, "unusable sender");
	else if (a->domain != NULL && a->domain->name != NULL) {
		mta_domain_ask(a, evpid, fd, sender, rcpt, e);
		return;
	} else if (mta_list_table(a->host)) {
		mta_hosts_ask(a, evpid, fd, sender, rcpt, e);
		return;
	} else
		r = mta_envelope_route(e, evpid, a, why, sizeof why);
	if (r == NULL) {
		close(fd);
		mta_result(0, NULL, evpid, rcpt, DELIVERY_TEMPFAIL, why);
		return;
	}
	mta_route_add(r, evpid, fd, sender, rcpt, e);
}

void
dispatcher_mta_pause(int paused)
{
	struct timeval	tv = { 60, 0 };

	if (mta->gc == NULL) {
		if ((mta->gc = evtimer_new(env->evb, mta_on_gc, NULL)) == NULL)
			fatalx("mta: evtimer_new");
		evtimer_add(mta->gc, &tv);
	}
	mta->paused = paused;
	if (!paused)
		mta_kick_all();
}
