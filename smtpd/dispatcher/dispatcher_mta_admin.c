/*
 * dispatcher_mta_admin.c -- what the relay agent keeps for smtpctl and
 * answers it: the last outcome by recipient domain (`show hoststats`,
 * MTA-23) and the envelopes of a domain that failed for now, sent to be
 * tried again when the domain takes mail (`mta max-deferred`, MTA-16);
 * the source/domain pairs paused by `pause mta from ADDR for DOMAIN`
 * (MTA-22, CTL-15, CTL-11); the listings `show routes` (MTA-15), `show
 * hosts` (CTL-07), `show relays` (CTL-09), and `resume route`.  Answers
 * go to control as text lines in chunks.  The routes are
 * dispatcher_mta.c's (dispatcher_mta_int.h).
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_dict.h"
#include "api_tree.h"
#include "conf.h"
#include "dispatcher.h"
#include "dispatcher_mta_int.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "mta.h"
#include "smtpd.h"
#include "sockaddr.h"
#include "xmalloc.h"

/* ---- outcomes ---- */

/* MTA-23: the last outcome per recipient domain, kept a while */
#define MTA_HOSTSTAT_KEEP	(4 * 3600)	/* seconds */
#define MTA_HOSTSTAT_MAX	65536		/* domains kept at most */
#define MTA_HOSTSTAT_CHUNK	8192		/* bytes of lines per imsg */

/* MTA-16: the envelopes of a domain that failed temporarily, at most
 * `mta max-deferred` of them, are remembered; when the domain next
 * takes mail, the queue is asked to try them at once instead of at
 * their retry time */
struct mta_hoststat {
	time_t		 when;
	char		 status[MTA_REPLY_TEXT_MAX];
	struct tree	 deferred;	/* evpid -> NULL */
};

/* mta_hoststat_free - a domain's record, and its deferred envelopes */
static void
mta_hoststat_free(void *v)
{
	struct mta_hoststat	*h = v;

	if (h == NULL)
		return;
	api_tree_clear(&h->deferred, NULL);
	free(h);
}

/* mta_hoststat_defer - remember EVPID of H's domain, STATUS its outcome:
 * a temporary failure is kept (room allowing), any other outcome ends
 * its record; a success sends the others to be tried now */
static void
mta_hoststat_defer(struct mta_hoststat *h, const char *domain,
    uint64_t evpid, int status)
{
	uint64_t	id;
	void		*v;
	size_t		 n = 0;
	int		 err = 0;

	if (status == DELIVERY_TEMPFAIL) {
		if ((long long)api_tree_count(&h->deferred) <
		    env->conf->mta_max_deferred)
			(void)api_tree_set(&h->deferred, evpid, NULL, &err);
		if (err)
			fatalx("mta: out of memory");
		return;
	}
	(void)api_tree_pop(&h->deferred, evpid);
	if (status != DELIVERY_OK)
		return;
	while (api_tree_poproot(&h->deferred, &id, &v)) {
		msg_send_queue_reschedule(env->peers[PROC_QUEUE],
		    &(struct msg_queue_reschedule){ .evpid = id });
		n++;
	}
	if (n > 0)
		log_info("0000000000000000 mta rescheduled domain=%s "
		    "envelopes=%zu", domain, n);
}

/* mta_hoststat_update - RCPT's domain had outcome TEXT (STATUS for
 * EVPID) just now */
void
mta_hoststat_update(const char *rcpt, const char *text, uint64_t evpid,
    int status)
{
	struct mta_hoststat	*h;
	const char		*at;
	char			 domain[256];
	size_t			 i;
	int			 err = 0;

	if ((at = strrchr(rcpt, '@')) == NULL || at[1] == '\0')
		return;
	for (i = 0; at[i + 1] != '\0' && i + 1 < sizeof domain; i++)
		domain[i] = (char)tolower((unsigned char)at[i + 1]);
	domain[i] = '\0';
	if ((h = api_dict_get(&mta->hoststats, domain)) == NULL) {
		if (api_dict_count(&mta->hoststats) >= MTA_HOSTSTAT_MAX)
			return;
		h = xcalloc(1, sizeof *h);
		api_tree_init(&h->deferred);
		api_dict_set(&mta->hoststats, domain, h, &err);
		if (err)
			fatalx("mta: out of memory");
	}
	h->when = time(NULL);
	/* one line: no control byte, no field separator of ours */
	for (i = 0; text[i] != '\0' && i + 1 < sizeof h->status; i++)
		h->status[i] = (unsigned char)text[i] < 0x20 ||
		    text[i] == 0x7f ? '?' : text[i];
	h->status[i] = '\0';
	mta_hoststat_defer(h, domain, evpid, status);
}

/* mta_hoststat_expire - forget what is older than MTA_HOSTSTAT_KEEP */
void
mta_hoststat_expire(time_t now)
{
	struct mta_hoststat	*h;
	const char		*key;
	void			*v;
	char			 gone[256];
	size_t			 cursor = 0;

	while (api_dict_iter(&mta->hoststats, &cursor, &key, &v)) {
		h = v;
		if (now - h->when <= MTA_HOSTSTAT_KEEP)
			continue;
		strlcpy(gone, key, sizeof gone);
		mta_hoststat_free(api_dict_pop(&mta->hoststats, gone));
		cursor = 0;		/* the walk starts over after a change */
	}
}

/* the answer to an admin verb: text lines sent in chunks to control */
struct mta_lines {
	struct mproc	*p;
	uint64_t	 reqid;
	char		 buf[MTA_HOSTSTAT_CHUNK];
	size_t		 len;
};

static void	mta_lines_add(struct mta_lines *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* mta_lines_add - one line (a line longer than a chunk is cut) */
static void
mta_lines_add(struct mta_lines *l, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	line[n] = '\0';
	if (l->len + (size_t)n >= sizeof l->buf) {
		msg_send_dispatcher_mta_admin_result(l->p,
		    &(struct msg_dispatcher_mta_admin_result){
			.reqid = l->reqid, .last = 0, .lines = l->buf });
		l->len = 0;
	}
	memcpy(l->buf + l->len, line, (size_t)n + 1);
	l->len += (size_t)n;
}

/* mta_lines_end - the last chunk */
static void
mta_lines_end(struct mta_lines *l)
{
	l->buf[l->len] = '\0';
	msg_send_dispatcher_mta_admin_result(l->p,
	    &(struct msg_dispatcher_mta_admin_result){ .reqid = l->reqid,
		.last = 1, .lines = l->buf });
}

/* mta_admin_hoststats - `show hoststats`: every domain kept,
 * "domain|time|status" in domain order */
static void
mta_admin_hoststats(struct mta_lines *l)
{
	struct mta_hoststat	*h;
	const char		*key;
	void			*v;
	size_t			 cursor = 0;

	mta_hoststat_expire(time(NULL));
	while (api_dict_iter(&mta->hoststats, &cursor, &key, &v)) {
		h = v;
		mta_lines_add(l, "%s|%lld|%s", key, (long long)h->when,
		    h->status);
	}
}

/* mta_route_domain - what `pause mta ... for DOMAIN` names of R: an MX
 * route's domain, a smarthost's host */
const char *
mta_route_domain(const struct mta_route *r)
{
	return r->mx ? r->dest : r->servername;
}

/* mta_block_find - the block of SS for DOMAIN, or NULL */
static struct mta_block *
mta_block_find(const struct sockaddr_storage *ss, const char *domain)
{
	struct mta_block	*b;

	TAILQ_FOREACH(b, &mta->blocks, entry)
		if (strcasecmp(b->domain, domain) == 0 &&
		    sockaddr_same_host(&b->ss, ss))
			return b;
	return NULL;
}

/* mta_src_blocked - is R's source K paused for R's domain (MTA-22)? */
int
mta_src_blocked(const struct mta_route *r, size_t k)
{
	return mta->nblocks > 0 &&
	    mta_block_find(&r->src[k], mta_route_domain(r)) != NULL;
}

/* mta_route_blocked - are all of R's sources paused?  (0 without src) */
int
mta_route_blocked(const struct mta_route *r)
{
	size_t	k;

	if (r->nsrc == 0 || mta->nblocks == 0)
		return 0;
	for (k = 0; k < r->nsrc; k++)
		if (!mta_src_blocked(r, k))
			return 0;
	return 1;
}

/* mta_conn_blocked - was C made from a source paused since? */
int
mta_conn_blocked(const struct mta_conn *c)
{
	return c->srcidx >= 0 && mta_src_blocked(c->route,
	    (size_t)c->srcidx);
}

/* ---- smtpctl ---- */

/* mta_route_pending - the messages waiting on R */
static size_t
mta_route_pending(const struct mta_route *r)
{
	const struct mta_message	*m;
	size_t				 n = 0;

	TAILQ_FOREACH(m, &r->pending, entry)
		n++;
	return n;
}

/* mta_admin_routes - `show routes` (MTA-15): one line per host of each
 * route, "D" when set aside (the seconds left), else "-" */
static void
mta_admin_routes(struct mta_lines *l)
{
	struct mta_route	*r;
	struct mta_host		*h;
	char			 addr[NI_MAXHOST], port[NI_MAXSERV];
	time_t			 now = time(NULL);
	size_t			 i;

	TAILQ_FOREACH(r, &mta->routes, entry) {
		if (r->nhosts == 0)
			mta_lines_add(l, "%llu %s - - - conns=%d pending=%zu "
			    "error=\"%s\"", (unsigned long long)r->id,
			    r->dest, r->nconns, mta_route_pending(r),
			    r->error);
		for (i = 0; i < r->nhosts; i++) {
			h = &r->hosts[i];
			if (getnameinfo((struct sockaddr *)&h->ss, h->sslen,
			    addr, sizeof addr, port, sizeof port,
			    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
				strlcpy(addr, "?", sizeof addr);
				strlcpy(port, "?", sizeof port);
			}
			mta_lines_add(l, "%llu %s %s %s%s%s:%s %s conns=%d "
			    "failures=%d aside=%llds",
			    (unsigned long long)r->id, r->dest,
			    h->name[0] ? h->name : "-",
			    h->ss.ss_family == AF_INET6 ? "[" : "", addr,
			    h->ss.ss_family == AF_INET6 ? "]" : "", port,
			    h->aside_until > now ? "D" : "-", h->nconns,
			    h->failures, h->aside_until > now ?
			    (long long)(h->aside_until - now) : 0LL);
		}
	}
}

/* mta_admin_resume_route - `resume route ID`: its hosts are no longer
 * set aside and it is tried again at once; 0, or -1 (no such route) */
static int
mta_admin_resume_route(uint64_t id)
{
	struct mta_route	*r;

	TAILQ_FOREACH(r, &mta->routes, entry)
		if (r->id == id)
			break;
	if (r == NULL)
		return -1;
	mta_route_hosts_clear(r);
	log_info("0000000000000000 mta route resumed id=%llu dest=%s",
	    (unsigned long long)id, r->dest);
	mta_route_kick(r);
	return 0;
}

/*
 * mta_admin_block - `pause mta from FROM for DOMAIN` (BLOCK 1) or
 * `resume mta ...` (BLOCK 0); NULL, or why not in WHY
 */
static const char *
mta_admin_block(const char *from, const char *domain, int block, char *why,
    size_t whysz)
{
	struct sockaddr_storage	 ss;
	struct mta_block	*b;
	socklen_t		 len;
	size_t			 i;

	if (mta_addr_parse(from, 0, &ss, &len) == -1) {
		snprintf(why, whysz, "%.100s: not an address", from);
		return why;
	}
	if (!mailaddr_domain_ok(domain)) {
		snprintf(why, whysz, "not a domain");
		return why;
	}
	b = mta_block_find(&ss, domain);
	if (!block) {
		if (b == NULL) {
			snprintf(why, whysz, "mta from %.100s for %.100s is "
			    "not paused", from, domain);
			return why;
		}
		TAILQ_REMOVE(&mta->blocks, b, entry);
		mta->nblocks--;
		log_info("0000000000000000 mta resumed from=%s for=%s",
		    b->addr, b->domain);
		free(b);
		mta_kick_all();
		return NULL;
	}
	if (b != NULL) {
		snprintf(why, whysz, "mta from %.100s for %.100s is already "
		    "paused", from, domain);
		return why;
	}
	if (mta->nblocks >= MTA_BLOCKS_MAX) {
		snprintf(why, whysz, "%d pairs are paused already",
		    MTA_BLOCKS_MAX);
		return why;
	}
	b = xcalloc(1, sizeof *b);
	b->ss = ss;
	if (getnameinfo((struct sockaddr *)&ss, len, b->addr, sizeof b->addr,
	    NULL, 0, NI_NUMERICHOST) != 0)
		strlcpy(b->addr, from, sizeof b->addr);
	for (i = 0; i == 0 || domain[i - 1] != '\0'; i++)
		b->domain[i] = (char)tolower((unsigned char)domain[i]);
	TAILQ_INSERT_TAIL(&mta->blocks, b, entry);
	mta->nblocks++;
	log_info("0000000000000000 mta paused from=%s for=%s", b->addr,
	    b->domain);
	return NULL;
}

/* mta_admin_show_blocks - `show mta paused`: "ADDR for DOMAIN" lines */
static void
mta_admin_show_blocks(struct mta_lines *l)
{
	struct mta_block	*b;

	TAILQ_FOREACH(b, &mta->blocks, entry)
		mta_lines_add(l, "%s for %s", b->addr, b->domain);
}

/* mta_host_addr - H's address as text ("?" if it has none) */
static void
mta_host_addr(const struct mta_host *h, char *buf, size_t bufsz)
{
	if (getnameinfo((const struct sockaddr *)&h->ss, h->sslen, buf,
	    (socklen_t)bufsz, NULL, 0, NI_NUMERICHOST) != 0)
		strlcpy(buf, "?", bufsz);
}

/* what `show hosts` says of one address, over every route that has it */
struct mta_host_seen {
	char	 name[256];
	int	 refs, nconns;
	time_t	 lastconn;
};

/*
 * mta_admin_hosts - `show hosts` (CTL-07): each next-hop address the
 * routes know, in address order: its name, how many routes have it,
 * its connections, the seconds since the last one was opened ("-":
 * never)
 */
static void
mta_admin_hosts(struct mta_lines *l)
{
	struct dict		 seen;
	struct mta_host_seen	*s;
	struct mta_route	*r;
	const struct mta_host	*h;
	const char		*key;
	void			*v;
	char			 addr[NI_MAXHOST];
	time_t			 now = time(NULL);
	size_t			 i, cursor = 0;
	int			 err = 0;

	api_dict_init(&seen);
	TAILQ_FOREACH(r, &mta->routes, entry)
		for (i = 0; i < r->nhosts; i++) {
			h = &r->hosts[i];
			mta_host_addr(h, addr, sizeof addr);
			if ((s = api_dict_get(&seen, addr)) == NULL) {
				s = xcalloc(1, sizeof *s);
				strlcpy(s->name, h->name[0] ? h->name : "-",
				    sizeof s->name);
				api_dict_set(&seen, addr, s, &err);
				if (err)
					fatalx("mta: out of memory");
			}
			s->refs++;
			s->nconns += h->nconns;
			if (h->lastconn > s->lastconn)
				s->lastconn = h->lastconn;
		}
	while (api_dict_iter(&seen, &cursor, &key, &v)) {
		s = v;
		if (s->lastconn == 0)
			mta_lines_add(l, "%s %s refs=%d conns=%d last=-", key,
			    s->name, s->refs, s->nconns);
		else
			mta_lines_add(l, "%s %s refs=%d conns=%d last=%llds",
			    key, s->name, s->refs, s->nconns,
			    (long long)(now - s->lastconn));
	}
	api_dict_clear(&seen, free);
}

/* mta_route_state - what R is doing, for `show relays` */
static const char *
mta_route_state(const struct mta_route *r)
{
	if (mta->paused)
		return "paused";
	if (mta_route_blocked(r))
		return "paused-from-for";
	if (!r->resolved)
		return "resolving";
	if (r->srcs == MTA_CREDS_PENDING)
		return "sources";
	if (r->creds == MTA_CREDS_PENDING || r->helos == MTA_CREDS_PENDING)
		return "credentials";
	return "active";
}

/*
 * mta_admin_relays - `show relays` (CTL-09): each route with mail
 * waiting or connections open, one line of counters, then one line per
 * connector (a `src` address, or "any")
 */
static void
mta_admin_relays(struct mta_lines *l)
{
	const struct mta_route	*r;
	const struct mta_conn	*c;
	char			 addr[NI_MAXHOST];
	size_t			 k, nevps;
	int			 n;
	const struct mta_message *m;

	TAILQ_FOREACH(r, &mta->routes, entry) {
		if (TAILQ_EMPTY(&r->pending) && r->nconns == 0)
			continue;
		nevps = 0;
		TAILQ_FOREACH(m, &r->pending, entry)
			nevps += m->nevps;
		mta_lines_add(l, "%llu %s action=%s state=%s messages=%zu "
		    "envelopes=%zu conns=%d hosts=%zu",
		    (unsigned long long)r->id, r->dest, r->action,
		    mta_route_state(r), mta_route_pending(r), nevps, r->nconns,
		    r->nhosts);
		if (r->nsrc == 0) {
			mta_lines_add(l, "    from any conns=%d", r->nconns);
			continue;
		}
		for (k = 0; k < r->nsrc; k++) {
			n = 0;
			TAILQ_FOREACH(c, &r->conns, entry)
				n += c->srcidx == (int)k;
			if (getnameinfo((const struct sockaddr *)&r->src[k],
			    r->srclen[k], addr, sizeof addr, NULL, 0,
			    NI_NUMERICHOST) != 0)
				strlcpy(addr, "?", sizeof addr);
			mta_lines_add(l, "    from %s conns=%d%s", addr, n,
			    mta_src_blocked(r, k) ? " paused" : "");
		}
	}
}

/* dispatcher_on_mta_admin - smtpctl's relay verbs */
void
dispatcher_on_mta_admin(struct mproc *p, struct imsg *imsg)
{
	struct msg_dispatcher_mta_admin	 m;
	struct mta_lines		*l;
	const char			*fail = NULL;
	char				 why[256];

	if (msg_unpack_dispatcher_mta_admin(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (m.op == MTA_ADMIN_RESUME_ROUTE &&
	    mta_admin_resume_route(m.id) == -1) {
		snprintf(why, sizeof why, "no route %llu",
		    (unsigned long long)m.id);
		fail = why;
	} else if (m.op == MTA_ADMIN_BLOCK || m.op == MTA_ADMIN_UNBLOCK)
		fail = mta_admin_block(m.from, m.domain,
		    m.op == MTA_ADMIN_BLOCK, why, sizeof why);
	if (fail != NULL) {
		msg_send_proc_admin_fail(p, &(struct msg_proc_admin_fail){
		    .reqid = m.reqid, .reason = fail });
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->reqid = m.reqid;
	if (m.op == MTA_ADMIN_HOSTSTATS)
		mta_admin_hoststats(l);
	else if (m.op == MTA_ADMIN_ROUTES)
		mta_admin_routes(l);
	else if (m.op == MTA_ADMIN_SHOW_BLOCKS)
		mta_admin_show_blocks(l);
	else if (m.op == MTA_ADMIN_HOSTS)
		mta_admin_hosts(l);
	else if (m.op == MTA_ADMIN_RELAYS)
		mta_admin_relays(l);
	mta_lines_end(l);
	free(l);
}
