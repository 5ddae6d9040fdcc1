/*
 * dns_query.c -- the lookup process's resolver (smtpd/lookup/lookup_dns.h)
 * on its own, for regress/dns/test_*.py.
 *
 *   dns_query [-mq] [-s servers] [-c resolv.conf] [-t timeout_ms]
 *             [-T tries] [-R request_ms] mx|host|ptr NAME ...
 *
 * Every NAME is asked at once (one request each, on one event loop, as
 * the daemon does); each answer is printed when it arrives, one line
 * per address then one END line, tagged with the NAME's index:
 *   I ADDR preference host addr
 *   I END status(OK|TEMPFAIL|NOTFOUND|NULLMX) elapsed_ms error
 *   I PTR status fcrdns name elapsed_ms error
 * With -m the requests go as the dispatcher sends them, by imsg over a
 * socketpair to the lookup process's handlers (lookup_dns_msg.c), and
 * the answers printed are the messages that come back (same lines).
 * Exits 0 when every request was answered, once no request is left
 * (lookup_dns_pending), so a request that leaks memory or never frees
 * shows; with -q as soon as every request is answered, freeing the
 * resolver with queries still out (as lookup's exit does); 1 on a usage
 * error.  Never waits longer than each request's
 * bound (-R, default DNS_REQUEST_MS) plus c-ares's own.
 */
#include <sys/socket.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "lookup_dns.h"
#include "mproc.h"

struct dq_req {
	int		 index;
	int		 ptr;
	struct timespec	 start;
	int		*left;
	int		 quick;		/* -q */
	struct event_base *base;
};

static const char *
dq_status(int s)
{
	switch (s) {
	case DNS_OK:		return "OK";
	case DNS_TEMPFAIL:	return "TEMPFAIL";
	case DNS_NOTFOUND:	return "NOTFOUND";
	case DNS_NULLMX:	return "NULLMX";
	default:		return "?";
	}
}

static long
dq_elapsed(const struct timespec *start)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* dq_done - one request answered: print it */
static void
dq_done(void *arg, const struct lookup_dns_result *res)
{
	struct dq_req	*r = arg;
	size_t		 i;

	if (res->cancelled)
		return;		/* -q: the resolver is being freed */
	if (r->ptr)
		printf("%d PTR %s %d %s %ld %s\n", r->index,
		    dq_status(res->status), res->fcrdns,
		    res->name[0] ? res->name : "-", dq_elapsed(&r->start),
		    res->error);
	else {
		for (i = 0; i < res->naddrs; i++)
			printf("%d ADDR %u %s %s\n", r->index,
			    res->addrs[i].preference, res->addrs[i].host,
			    res->addrs[i].addr);
		printf("%d END %s %ld %s\n", r->index, dq_status(res->status),
		    dq_elapsed(&r->start), res->error);
	}
	fflush(stdout);
	--*r->left;
}

/* -m: the resolver behind lookup's handlers, the requests by reqid */
static struct lookup_dns	*dq_dns;
static struct dq_req		*dq_reqs;
static size_t			 dq_nreqs;

static void
dq_lk_mx(struct mproc *p, struct imsg *imsg)
{
	lookup_dns_on_mx(dq_dns, p, imsg);
}

static void
dq_lk_host(struct mproc *p, struct imsg *imsg)
{
	lookup_dns_on_host(dq_dns, p, imsg);
}

static void
dq_lk_ptr(struct mproc *p, struct imsg *imsg)
{
	lookup_dns_on_ptr(dq_dns, p, imsg);
}

static struct dq_req *
dq_req_of(uint64_t reqid)
{
	if (reqid >= dq_nreqs)
		errx(3, "answer for unknown reqid %llu",
		    (unsigned long long)reqid);
	return &dq_reqs[reqid];
}

static void
dq_dp_addr(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_addr	m;

	if (msg_unpack_lookup_dns_addr(imsg, &m) == -1)
		errx(3, "bad ADDR");
	printf("%d ADDR %u %s %s\n", dq_req_of(m.reqid)->index, m.preference,
	    m.host, m.addr);
}

static void
dq_dp_end(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_end	m;
	struct dq_req			*r;

	if (msg_unpack_lookup_dns_end(imsg, &m) == -1)
		errx(3, "bad END");
	r = dq_req_of(m.reqid);
	printf("%d END %s %ld %s\n", r->index, dq_status(m.status),
	    dq_elapsed(&r->start), m.error);
	fflush(stdout);
	--*r->left;
}

static void
dq_dp_ptr(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_ptr_result	m;
	struct dq_req				*r;

	if (msg_unpack_lookup_dns_ptr_result(imsg, &m) == -1)
		errx(3, "bad PTR_RESULT");
	r = dq_req_of(m.reqid);
	printf("%d PTR %s %d %s %ld \n", r->index, dq_status(m.status),
	    m.fcrdns, m.name[0] ? m.name : "-", dq_elapsed(&r->start));
	fflush(stdout);
	--*r->left;
}

static const struct imsg_handler dq_lk_handlers[] = {
	{ IMSG_LOOKUP_DNS_MX, PROC_DISPATCHER, dq_lk_mx },
	{ IMSG_LOOKUP_DNS_HOST, PROC_DISPATCHER, dq_lk_host },
	{ IMSG_LOOKUP_DNS_PTR, PROC_DISPATCHER, dq_lk_ptr },
};
static const struct imsg_handler dq_dp_handlers[] = {
	{ IMSG_LOOKUP_DNS_ADDR, PROC_LOOKUP, dq_dp_addr },
	{ IMSG_LOOKUP_DNS_END, PROC_LOOKUP, dq_dp_end },
	{ IMSG_LOOKUP_DNS_PTR_RESULT, PROC_LOOKUP, dq_dp_ptr },
};

static void
dq_lost(struct mproc *p, const char *why)
{
	errx(3, "channel lost: %s", why);
}

/* dq_send - request I as the dispatcher sends it */
static void
dq_send(struct mproc *dp, const char *kind, uint64_t i, const char *name)
{
	if (kind[0] == 'm')
		msg_send_lookup_dns_mx(dp, &(struct msg_lookup_dns_mx){
		    .reqid = i, .domain = name });
	else if (kind[0] == 'h')
		msg_send_lookup_dns_host(dp, &(struct msg_lookup_dns_host){
		    .reqid = i, .host = name });
	else
		msg_send_lookup_dns_ptr(dp, &(struct msg_lookup_dns_ptr){
		    .reqid = i, .addr = name });
}

/* dq_on_tick - stop once every request is answered and freed */
static void
dq_on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct dq_req		*r = arg;
	struct lookup_dns	*dns = *(struct lookup_dns **)(r + 1);

	(void)fd;
	(void)ev;
	if (*r->left == 0 && (r->quick || lookup_dns_pending(dns) == 0))
		event_base_loopbreak(r->base);
}

int
main(int argc, char *argv[])
{
	struct lookup_dns_params params;
	struct lookup_dns	*dns;
	struct event_base	*base;
	struct event		*tick;
	struct dq_req		*reqs, *tickarg;
	struct timeval		 tv = { 0, 20000 };
	char			 err[512];
	const char		*kind;
	struct mproc		*lk = NULL, *dp = NULL;
	int			 ch, i, n, left, quick = 0, viamsg = 0;
	int			 sv[2];

	memset(&params, 0, sizeof params);
	while ((ch = getopt(argc, argv, "c:mqR:s:t:T:")) != -1) {
		switch (ch) {
		case 'c': params.resolv_conf = optarg; break;
		case 'm': viamsg = 1; break;
		case 'q': quick = 1; break;
		case 'R': params.request_ms = (unsigned)atoi(optarg); break;
		case 's': params.servers = optarg; break;
		case 't': params.timeout_ms = (unsigned)atoi(optarg); break;
		case 'T': params.tries = (unsigned)atoi(optarg); break;
		default: goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || (strcmp(argv[0], "mx") != 0 &&
	    strcmp(argv[0], "host") != 0 && strcmp(argv[0], "ptr") != 0))
		goto usage;
	kind = argv[0];
	n = argc - 1;
	log_init(1, 0);
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	if ((dns = lookup_dns_new(base, &params, err, sizeof err)) == NULL) {
		printf("ERROR %s\n", err);
		event_base_free(base);
		return 2;
	}
	/* the tick's argument: a request, then the resolver's handle */
	tickarg = calloc(1, sizeof *tickarg + sizeof dns);
	reqs = calloc((size_t)n, sizeof *reqs);
	if (reqs == NULL || tickarg == NULL)
		errx(1, "out of memory");
	left = n;
	tickarg->left = &left;
	tickarg->base = base;
	tickarg->quick = quick;
	memcpy(tickarg + 1, &dns, sizeof dns);
	if (viamsg) {
		dq_dns = dns;
		dq_reqs = reqs;
		dq_nreqs = (size_t)n;
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			errx(1, "socketpair failed");
		lk = mproc_new(base, PROC_LOOKUP, sv[0], PROC_DISPATCHER, 1,
		    dq_lk_handlers, 3, dq_lost);
		dp = mproc_new(base, PROC_DISPATCHER, sv[1], PROC_LOOKUP, 1,
		    dq_dp_handlers, 3, dq_lost);
	}
	for (i = 0; i < n; i++) {
		reqs[i].index = i;
		reqs[i].ptr = kind[0] == 'p';
		reqs[i].left = &left;
		reqs[i].base = base;
		clock_gettime(CLOCK_MONOTONIC, &reqs[i].start);
		if (viamsg)
			dq_send(dp, kind, (uint64_t)i, argv[i + 1]);
		else if (kind[0] == 'm')
			lookup_dns_mx(dns, argv[i + 1], dq_done, &reqs[i]);
		else if (kind[0] == 'h')
			lookup_dns_host(dns, argv[i + 1], dq_done, &reqs[i]);
		else
			lookup_dns_ptr(dns, argv[i + 1], dq_done, &reqs[i]);
	}
	tick = event_new(base, -1, EV_PERSIST, dq_on_tick, tickarg);
	event_add(tick, &tv);
	event_base_dispatch(base);
	event_free(tick);
	lookup_dns_free(&dns);
	if (viamsg) {
		mproc_free(&lk);
		mproc_free(&dp);
	}
	event_base_free(base);
	free(reqs);
	free(tickarg);
	return 0;
usage:
	fprintf(stderr, "usage: dns_query [-mq] [-s servers] [-c resolv.conf] "
	    "[-t ms] [-T tries] [-R ms] mx|host|ptr name ...\n");
	return 1;
}
