/*
 * lookup_dns.c -- the lookup process's asynchronous resolver: c-ares
 * driven by libevent (MTA-01, MTA-02, SMTP-30).
 *
 * c-ares tells which sockets it waits on (sock_state_cb): each gets a
 * persistent libevent event; the earliest of its retransmission
 * deadlines (ares_timeout) is one timer.  A request (MX, host, PTR) is
 * a few ares_query()s whose callbacks go on with the next step; each
 * request also has its own timer, so it is answered within its bound
 * whatever the servers do, and is freed once its last query is back
 * (c-ares bounds those by timeout and tries).  Answers go through
 * lookup_dns_parse.c; anything unexpected is a temporary failure.
 *
 * Runs in the lookup process (and the tests' programs).  It never
 * blocks, never exits on a server's answer, and keeps no global state:
 * the resolver is the caller's handle.
 */
#include <sys/socket.h>
#include <sys/queue.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "lookup_dns.h"

/* a socket c-ares waits on */
struct dns_sock {
	LIST_ENTRY(dns_sock)	 entry;
	ares_socket_t		 fd;
	struct event		*ev;
	struct lookup_dns	*dns;
};

struct dns_req;

struct lookup_dns {
	struct event_base	*base;
	ares_channel		 channel;
	struct event		*timer;		/* c-ares's next deadline */
	LIST_HEAD(, dns_sock)	 socks;
	LIST_HEAD(, dns_req)	 reqs;		/* not freed yet */
	unsigned int		 request_ms;
	int			 servers_given;	/* -o resolver: DNS for all */
	size_t			 nreqs;
	int			 freeing;
};

enum dns_kind { DNS_KIND_MX, DNS_KIND_HOST, DNS_KIND_PTR };

/* what one host (an MX target, or the host asked) resolved to */
struct dns_host {
	char	name[DNS_NAME_MAX + 1];
	uint32_t preference;
	int	literal;			/* name is an address */
	int	q4, q6;				/* DNS_Q_* per family */
	size_t	n4, n6;
	char	a4[DNS_HOST_ADDR_MAX][DNS_ADDR_STR_MAX];
	char	a6[DNS_HOST_ADDR_MAX][DNS_ADDR_STR_MAX];
};

struct dns_req {
	LIST_ENTRY(dns_req)	 entry;
	struct lookup_dns	*dns;
	enum dns_kind		 kind;
	char			 name[DNS_NAME_MAX + 1];
	lookup_dns_done_fn	 done;
	void			*arg;
	struct event		*timer;
	int			 answered;	/* done called */
	int			 pending;	/* queries out */
	int			 hold;		/* in our code: not freed */
	int			 asking;	/* issuing the host queries */
	int			 implicit;	/* MX: no MX, the domain's own */
	size_t			 nhosts;
	struct dns_host		 hosts[DNS_MX_MAX];
	int			 family;	/* PTR: of bin */
	unsigned char		 bin[16];
	struct lookup_dns_result res;
};

/* one query of a request */
struct dns_query {
	struct dns_req	*req;
	size_t		 host;
	int		 family;
};

static void	lookup_dns_timer_reset(struct lookup_dns *);
static void	lookup_dns_req_release(struct dns_req *);

/* ---- c-ares on libevent ---- */

/* lookup_dns_on_sock - a socket c-ares waits on is ready */
static void
lookup_dns_on_sock(evutil_socket_t fd, short ev, void *arg)
{
	struct dns_sock		*s = arg;
	struct lookup_dns	*dns = s->dns;

	ares_process_fd(dns->channel,
	    (ev & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (ev & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	lookup_dns_timer_reset(dns);
}

/* lookup_dns_on_timer - a retransmission deadline of c-ares */
static void
lookup_dns_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct lookup_dns	*dns = arg;

	(void)fd;
	(void)ev;
	ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	lookup_dns_timer_reset(dns);
}

/* lookup_dns_timer_reset - the timer at c-ares's next deadline */
static void
lookup_dns_timer_reset(struct lookup_dns *dns)
{
	struct timeval	tv, *tvp;

	if (dns->freeing)
		return;
	if ((tvp = ares_timeout(dns->channel, NULL, &tv)) == NULL)
		evtimer_del(dns->timer);
	else
		evtimer_add(dns->timer, tvp);
}

/* lookup_dns_sock_state - c-ares's sock_state_cb: watch FD or stop */
static void
lookup_dns_sock_state(void *arg, ares_socket_t fd, int readable,
    int writable)
{
	struct lookup_dns	*dns = arg;
	struct dns_sock		*s;
	short			 what;

	LIST_FOREACH(s, &dns->socks, entry)
		if (s->fd == fd)
			break;
	if (s != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (!readable && !writable) {
		if (s != NULL) {
			LIST_REMOVE(s, entry);
			free(s);
		}
		return;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof *s)) == NULL) {
			log_warn("lookup: dns socket");
			return;	/* its queries time out */
		}
		s->fd = fd;
		s->dns = dns;
		LIST_INSERT_HEAD(&dns->socks, s, entry);
	}
	what = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	if ((s->ev = event_new(dns->base, fd, what, lookup_dns_on_sock, s))
	    == NULL || event_add(s->ev, NULL) == -1)
		log_warn("lookup: dns socket event");
}

/* lookup_dns_new - the resolver (see lookup_dns.h) */
struct lookup_dns *
lookup_dns_new(struct event_base *base, const struct lookup_dns_params *p,
    char *err, size_t errsz)
{
	struct lookup_dns	*dns;
	struct ares_options	 o;
	int			 mask, st;

	if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errsz, "c-ares: %s", ares_strerror(st));
		return NULL;
	}
	/* c-ares would quietly fall back to 127.0.0.1 */
	if (p->resolv_conf != NULL && access(p->resolv_conf, R_OK) == -1) {
		snprintf(err, errsz, "%s: %s", p->resolv_conf, strerror(errno));
		return NULL;
	}
	if ((dns = calloc(1, sizeof *dns)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	dns->base = base;
	dns->request_ms = p->request_ms ? p->request_ms : DNS_REQUEST_MS;
	LIST_INIT(&dns->socks);
	LIST_INIT(&dns->reqs);
	memset(&o, 0, sizeof o);
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_FLAGS;
	o.sock_state_cb = lookup_dns_sock_state;
	o.sock_state_cb_data = dns;
	o.timeout = (int)(p->timeout_ms ? p->timeout_ms : DNS_TIMEOUT_MS);
	o.tries = (int)(p->tries ? p->tries : DNS_TRIES);
	/* names asked are absolute: no search list, no HOSTALIASES */
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	if (p->servers != NULL) {
		/* the servers given are the only source: no hosts file */
		dns->servers_given = 1;
		mask |= ARES_OPT_LOOKUPS;
		o.lookups = (char *)"b";
	}
	if (p->resolv_conf != NULL) {
		mask |= ARES_OPT_RESOLVCONF;
		o.resolvconf_path = (char *)p->resolv_conf;
	}
	if ((st = ares_init_options(&dns->channel, &o, mask)) != ARES_SUCCESS) {
		snprintf(err, errsz, "c-ares: %s", ares_strerror(st));
		free(dns);
		return NULL;
	}
	if (p->servers != NULL &&
	    (st = ares_set_servers_ports_csv(dns->channel, p->servers)) !=
	    ARES_SUCCESS) {
		snprintf(err, errsz, "resolver %s: %s", p->servers,
		    ares_strerror(st));
		ares_destroy(dns->channel);
		free(dns);
		return NULL;
	}
	if ((dns->timer = evtimer_new(base, lookup_dns_on_timer, dns)) == NULL) {
		snprintf(err, errsz, "out of memory");
		ares_destroy(dns->channel);
		free(dns);
		return NULL;
	}
	return dns;
}

/* lookup_dns_free - cancel everything, answer nothing, free */
void
lookup_dns_free(struct lookup_dns **dnsp)
{
	struct lookup_dns	*dns = *dnsp;
	struct dns_sock		*s;
	struct dns_req		*req;

	if (dns == NULL)
		return;
	dns->freeing = 1;
	ares_destroy(dns->channel);	/* every query's callback, once */
	/* what is left had no query out: cancelled too */
	while ((req = LIST_FIRST(&dns->reqs)) != NULL) {
		req->pending = req->hold = 0;
		lookup_dns_req_release(req);
	}
	while ((s = LIST_FIRST(&dns->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		if (s->ev != NULL)
			event_free(s->ev);
		free(s);
	}
	event_free(dns->timer);
	free(dns);
	*dnsp = NULL;
}

size_t
lookup_dns_pending(const struct lookup_dns *dns)
{
	return dns->nreqs;
}

/* ---- requests ---- */

static void	lookup_dns_on_reply(void *, int, int, unsigned char *, int);

/* lookup_dns_req_release - free REQ once answered and no query is out */
static void
lookup_dns_req_release(struct dns_req *req)
{
	if ((!req->answered && !req->dns->freeing) || req->pending > 0 ||
	    req->hold > 0)
		return;
	if (!req->answered) {
		/* the resolver goes: the caller only releases its argument */
		req->answered = 1;
		req->res.status = DNS_TEMPFAIL;
		req->res.naddrs = 0;
		req->res.cancelled = 1;
		(void)strlcpy(req->res.error, "resolver stopped",
		    sizeof req->res.error);
		req->done(req->arg, &req->res);
	}
	LIST_REMOVE(req, entry);
	if (req->timer != NULL)
		event_free(req->timer);
	req->dns->nreqs--;
	free(req);
}

/* lookup_dns_answer - call the completion once (not while freeing) */
static void
lookup_dns_answer(struct dns_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
lookup_dns_answer(struct dns_req *req, int status, const char *fmt, ...)
{
	va_list	ap;

	if (req->answered)
		return;
	req->answered = 1;
	if (req->timer != NULL)
		evtimer_del(req->timer);
	req->res.status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(req->res.error, sizeof req->res.error, fmt, ap);
		va_end(ap);
	}
	if (status != DNS_OK)
		req->res.naddrs = 0;
	req->res.cancelled = req->dns->freeing;
	req->done(req->arg, &req->res);
}

/* lookup_dns_on_deadline - the request's own bound */
static void
lookup_dns_on_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct dns_req	*req = arg;

	(void)fd;
	(void)ev;
	log_warnx("lookup: dns %s: no answer within %u ms", req->name,
	    req->dns->request_ms);
	req->hold++;
	lookup_dns_answer(req, DNS_TEMPFAIL, "DNS lookup of %s timed out",
	    req->name);
	req->hold--;
	lookup_dns_req_release(req);
}

/* lookup_dns_req_new - a request; NULL (and DONE called) on no memory */
static struct dns_req *
lookup_dns_req_new(struct lookup_dns *dns, enum dns_kind kind,
    const char *name, lookup_dns_done_fn done, void *arg)
{
	struct lookup_dns_result	 nomem;
	struct dns_req			*req;
	struct timeval			 tv;

	if ((req = calloc(1, sizeof *req)) == NULL) {
		log_warn("lookup: dns request");
		memset(&nomem, 0, sizeof nomem);
		nomem.status = DNS_TEMPFAIL;
		(void)strlcpy(nomem.error, "out of memory", sizeof nomem.error);
		done(arg, &nomem);
		return NULL;
	}
	req->dns = dns;
	LIST_INSERT_HEAD(&dns->reqs, req, entry);
	req->hold = 1;		/* the caller's, until it releases */
	req->kind = kind;
	req->done = done;
	req->arg = arg;
	(void)strlcpy(req->name, name, sizeof req->name);
	dns->nreqs++;
	tv.tv_sec = dns->request_ms / 1000;
	tv.tv_usec = (dns->request_ms % 1000) * 1000;
	if ((req->timer = evtimer_new(dns->base, lookup_dns_on_deadline, req))
	    == NULL || evtimer_add(req->timer, &tv) == -1)
		log_warn("lookup: dns request timer");
	return req;
}

/* lookup_dns_query - one query of REQ; its answer to lookup_dns_on_reply */
static void
lookup_dns_query(struct dns_req *req, const char *name, int type,
    size_t host, int family)
{
	struct dns_query	*q;

	if ((q = calloc(1, sizeof *q)) == NULL) {
		log_warn("lookup: dns query");
		return;		/* the request's deadline answers it */
	}
	q->req = req;
	q->host = host;
	q->family = family;
	req->pending++;
	log_debug("lookup: dns query %s type %d", name, type);
	ares_query(req->dns->channel, name, ns_c_in, type, lookup_dns_on_reply,
	    q);
	lookup_dns_timer_reset(req->dns);
}

/* lookup_dns_host_ask - A and AAAA of host I, unless it is a literal */
static void
lookup_dns_host_ask(struct dns_req *req, size_t i)
{
	struct dns_host	*h = &req->hosts[i];
	int		 family;

	if (lookup_dns_literal(h->name, h->a4[0], sizeof h->a4[0], &family)) {
		h->literal = 1;
		if (family == AF_INET)
			h->n4 = 1;
		else {
			memcpy(h->a6[0], h->a4[0], sizeof h->a6[0]);
			h->n6 = 1;
		}
		h->q4 = h->q6 = DNS_Q_OK;
		return;
	}
	lookup_dns_query(req, h->name, ns_t_a, i, AF_INET);
	lookup_dns_query(req, h->name, ns_t_aaaa, i, AF_INET6);
}

/* lookup_dns_addr_push - one address into the result, unless seen */
static void
lookup_dns_addr_push(struct dns_req *req, const struct dns_host *h,
    const char *addr)
{
	struct lookup_dns_result	*res = &req->res;
	size_t				 i;

	if (res->naddrs == DNS_ADDR_MAX)
		return;
	for (i = 0; i < res->naddrs; i++)
		if (strcmp(res->addrs[i].addr, addr) == 0)
			return;
	res->addrs[res->naddrs].preference = h->preference;
	(void)strlcpy(res->addrs[res->naddrs].host, h->name,
	    sizeof res->addrs[0].host);
	(void)strlcpy(res->addrs[res->naddrs].addr, addr,
	    sizeof res->addrs[0].addr);
	res->naddrs++;
}

/*
 * lookup_dns_hosts_done - every host resolved: the addresses in host
 * order (IPv4 first, then IPv6, of each), or why there are none:
 * temporary if any lookup was; else permanent, except a domain without
 * MX and without address, which RFC 5321 5.1 leaves to the sender and
 * OpenSMTPD defers ("No MX found for domain", MTA-02).
 */
static void
lookup_dns_hosts_done(struct dns_req *req)
{
	struct dns_host	*h;
	size_t		 i, j;
	int		 temp = 0, nx = 0;

	for (i = 0; i < req->nhosts; i++) {
		h = &req->hosts[i];
		for (j = 0; j < h->n4; j++)
			lookup_dns_addr_push(req, h, h->a4[j]);
		for (j = 0; j < h->n6; j++)
			lookup_dns_addr_push(req, h, h->a6[j]);
		temp |= h->q4 == DNS_Q_TEMP || h->q6 == DNS_Q_TEMP;
		nx |= h->q4 == DNS_Q_NXDOMAIN && h->q6 == DNS_Q_NXDOMAIN;
	}
	if (req->res.naddrs > 0)
		lookup_dns_answer(req, DNS_OK, NULL);
	else if (temp)
		lookup_dns_answer(req, DNS_TEMPFAIL, "temporary failure "
		    "looking up the address of %s", req->kind == DNS_KIND_MX &&
		    !req->implicit ? "the MX hosts" : req->name);
	else if (req->implicit)
		lookup_dns_answer(req, DNS_TEMPFAIL, "No MX found for domain "
		    "%s", req->name);
	else if (req->kind == DNS_KIND_HOST)
		lookup_dns_answer(req, DNS_NOTFOUND, nx ? "host %s does not "
		    "exist" : "host %s has no address", req->name);
	else
		lookup_dns_answer(req, DNS_NOTFOUND, "no MX host of %s has an "
		    "address", req->name);
}

/* lookup_dns_mx_answered - the MX answer: hosts to resolve, or the outcome */
static void
lookup_dns_mx_answered(struct dns_req *req, int status, unsigned char *abuf,
    int alen)
{
	struct lookup_dns_mx	mx[DNS_MX_MAX];
	size_t			n = 0, i;
	int			q, nullmx = 0;

	q = lookup_dns_classify(status);
	if (q == DNS_Q_OK)
		q = lookup_dns_parse_mx(abuf, alen, mx, DNS_MX_MAX, &n,
		    &nullmx);
	if (q == DNS_Q_NXDOMAIN) {
		lookup_dns_answer(req, DNS_NOTFOUND, "Domain does not exist");
		return;
	}
	if (q == DNS_Q_TEMP) {
		lookup_dns_answer(req, DNS_TEMPFAIL, "MX lookup of %s: %s",
		    req->name, status == ARES_SUCCESS ? "malformed answer" :
		    ares_strerror(status));
		return;
	}
	if (nullmx) {
		lookup_dns_answer(req, DNS_NULLMX, "Domain does not accept "
		    "mail");
		return;
	}
	if (q == DNS_Q_NODATA) {
		/* RFC 5321 5.1: the domain itself, at preference 0 */
		req->implicit = 1;
		n = 1;
		mx[0].preference = 0;
		(void)strlcpy(mx[0].host, req->name, sizeof mx[0].host);
	}
	if (n == 0) {
		lookup_dns_answer(req, DNS_NOTFOUND, "no usable MX host for %s",
		    req->name);
		return;
	}
	req->nhosts = n;
	for (i = 0; i < n; i++) {
		(void)strlcpy(req->hosts[i].name, mx[i].host,
		    sizeof req->hosts[i].name);
		req->hosts[i].preference = mx[i].preference;
	}
	/* a query may fail at once, inside ares_query: wait for them all */
	req->asking = 1;
	for (i = 0; i < n; i++)
		lookup_dns_host_ask(req, i);
	req->asking = 0;
	if (req->pending == 0)
		lookup_dns_hosts_done(req);
}

/* lookup_dns_on_addrs - an A or AAAA answer of one host */
static void
lookup_dns_on_addrs(struct dns_req *req, const struct dns_query *q,
    int status, unsigned char *abuf, int alen)
{
	struct dns_host	*h = &req->hosts[q->host];
	int		 r, cls;

	cls = lookup_dns_classify(status);
	if (cls == DNS_Q_OK) {
		r = lookup_dns_parse_addrs(abuf, alen, q->family,
		    q->family == AF_INET ? h->a4 : h->a6, DNS_HOST_ADDR_MAX);
		if (r == -1) {
			log_warnx("lookup: dns %s: malformed %s answer",
			    h->name, q->family == AF_INET ? "A" : "AAAA");
			cls = DNS_Q_TEMP;
		} else if (r == 0)
			cls = DNS_Q_NODATA;
		else if (q->family == AF_INET)
			h->n4 = (size_t)r;
		else
			h->n6 = (size_t)r;
	}
	if (q->family == AF_INET)
		h->q4 = cls;
	else
		h->q6 = cls;
}

/* lookup_dns_on_ptr_addrs - PTR: is the address among the name's? */
static void
lookup_dns_on_ptr_addrs(void *arg, int status, int timeouts,
    struct hostent *he)
{
	struct dns_query	*q = arg;
	struct dns_req		*req = q->req;

	(void)timeouts;
	req->pending--;
	req->hold++;
	if (!req->answered && !req->dns->freeing) {
		req->res.fcrdns = status == ARES_SUCCESS && he != NULL &&
		    lookup_dns_hostent_has(he, req->bin, req->family);
		lookup_dns_answer(req, DNS_OK, NULL);
	}
	free(q);
	req->hold--;
	lookup_dns_req_release(req);
}

/* lookup_dns_on_ptr_name - PTR: the reverse name, then its addresses */
static void
lookup_dns_on_ptr_name(void *arg, int status, int timeouts,
    struct hostent *he)
{
	struct dns_query	*q = arg;
	struct dns_req		*req = q->req;

	(void)timeouts;
	req->pending--;
	req->hold++;
	if (req->answered || req->dns->freeing)
		free(q);
	else if (status == ARES_SUCCESS && he != NULL &&
	    lookup_dns_hostent_name(he, req->res.name, sizeof req->res.name)) {
		/* the same query context, for the forward look-up */
		req->pending++;
		ares_gethostbyname(req->dns->channel, req->res.name,
		    req->family, lookup_dns_on_ptr_addrs, q);
		lookup_dns_timer_reset(req->dns);
	} else {
		free(q);
		if (status == ARES_SUCCESS || status == ARES_ENOTFOUND ||
		    status == ARES_ENODATA)
			lookup_dns_answer(req, DNS_NOTFOUND, "%s has no "
			    "usable reverse name", req->name);
		else
			lookup_dns_answer(req, DNS_TEMPFAIL, "reverse lookup "
			    "of %s: %s", req->name, ares_strerror(status));
	}
	req->hold--;
	lookup_dns_req_release(req);
}

/* lookup_dns_on_reply - c-ares's callback of every query */
static void
lookup_dns_on_reply(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_query	*q = arg;
	struct dns_req		*req = q->req;

	(void)timeouts;
	req->pending--;
	req->hold++;
	if (req->answered || req->dns->freeing)
		;	/* too late: only the memory is left to release */
	else if (q->family == 0)
		lookup_dns_mx_answered(req, status, abuf, alen);
	else {
		lookup_dns_on_addrs(req, q, status, abuf, alen);
		if (req->pending == 0 && !req->asking)
			lookup_dns_hosts_done(req);
	}
	free(q);
	req->hold--;
	lookup_dns_req_release(req);
}

/* lookup_dns_mx - the addresses to relay DOMAIN's mail to */
void
lookup_dns_mx(struct lookup_dns *dns, const char *domain,
    lookup_dns_done_fn done, void *arg)
{
	struct dns_req	*req;
	int		 family;
	size_t		 len = strlen(domain);

	if ((req = lookup_dns_req_new(dns, DNS_KIND_MX, domain, done, arg))
	    == NULL)
		return;
	if (lookup_dns_literal(domain, req->hosts[0].a4[0],
	    sizeof req->hosts[0].a4[0], &family)) {
		/* a domain literal (user@[192.0.2.1]): that address */
		req->nhosts = 1;
		(void)strlcpy(req->hosts[0].name, domain,
		    sizeof req->hosts[0].name);
		lookup_dns_host_ask(req, 0);
		lookup_dns_hosts_done(req);
	} else if (len > DNS_NAME_MAX + 1 || !lookup_dns_name_ok(domain))
		lookup_dns_answer(req, DNS_NOTFOUND, "invalid domain name");
	else {
		if (domain[len - 1] == '.')
			req->name[len - 1] = '\0';
		lookup_dns_query(req, req->name, ns_t_mx, 0, 0);
	}
	req->hold--;
	lookup_dns_req_release(req);
}

/* lookup_dns_host - the addresses of a relay host */
void
lookup_dns_host(struct lookup_dns *dns, const char *host,
    lookup_dns_done_fn done, void *arg)
{
	struct dns_req	*req;
	int		 family;
	size_t		 len = strlen(host);

	if ((req = lookup_dns_req_new(dns, DNS_KIND_HOST, host, done, arg))
	    == NULL)
		return;
	req->nhosts = 1;
	(void)strlcpy(req->hosts[0].name, host, sizeof req->hosts[0].name);
	if (lookup_dns_literal(host, req->hosts[0].a4[0],
	    sizeof req->hosts[0].a4[0], &family)) {
		lookup_dns_host_ask(req, 0);
		lookup_dns_hosts_done(req);
	} else if (len > DNS_NAME_MAX + 1 || !lookup_dns_name_ok(host))
		lookup_dns_answer(req, DNS_NOTFOUND, "invalid host name");
	else {
		if (host[len - 1] == '.')
			req->hosts[0].name[len - 1] = '\0';
		lookup_dns_host_ask(req, 0);
	}
	req->hold--;
	lookup_dns_req_release(req);
}

/* lookup_dns_loopback - REQ's address is 127/8 or ::1 */
static int
lookup_dns_loopback(const struct dns_req *req)
{
	static const unsigned char	v6[16] = { [15] = 1 };

	return req->family == AF_INET ? req->bin[0] == 127 :
	    memcmp(req->bin, v6, sizeof v6) == 0;
}

/* lookup_dns_ptr - the reverse name of ADDR, forward-confirmed */
void
lookup_dns_ptr(struct lookup_dns *dns, const char *addr,
    lookup_dns_done_fn done, void *arg)
{
	struct dns_req		*req;
	struct dns_query	*q;
	char			 num[DNS_ADDR_STR_MAX];

	if ((req = lookup_dns_req_new(dns, DNS_KIND_PTR, addr, done, arg))
	    == NULL)
		return;
	if (!lookup_dns_literal(addr, num, sizeof num, &req->family) ||
	    inet_pton(req->family, num, req->bin) != 1)
		lookup_dns_answer(req, DNS_NOTFOUND, "not an address");
	else if (!dns->servers_given && lookup_dns_loopback(req)) {
		/* RFC 6761 6.3, RFC 6303: answered here, never sent out */
		(void)strlcpy(req->res.name, "localhost", sizeof req->res.name);
		req->res.fcrdns = 1;
		lookup_dns_answer(req, DNS_OK, NULL);
	} else if ((q = calloc(1, sizeof *q)) == NULL)
		log_warn("lookup: dns query");	/* the deadline answers */
	else {
		q->req = req;
		req->pending++;
		ares_gethostbyaddr(dns->channel, req->bin,
		    req->family == AF_INET ? 4 : 16, req->family,
		    lookup_dns_on_ptr_name, q);
		lookup_dns_timer_reset(dns);
	}
	req->hold--;
	lookup_dns_req_release(req);
}
