/*
 * lookup_dns_msg.c -- the imsg glue of the lookup process's DNS
 * (IMSG_LOOKUP_DNS_MX, _HOST, _PTR; MTA-01, MTA-02, SMTP-30).
 *
 * Each request of the dispatcher goes to the resolver (lookup_dns.c)
 * with its channel and reqid; the completion answers under that reqid:
 * an MX or host request with one IMSG_LOOKUP_DNS_ADDR per address, in
 * the order to try, then IMSG_LOOKUP_DNS_END; a PTR request with one
 * IMSG_LOOKUP_DNS_PTR_RESULT.  An answer for a dispatcher that is gone
 * is dropped.  Runs in lookup; never blocks, never exits on an answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imsg_codec.h"
#include "log.h"
#include "lookup_dns.h"
#include "xmalloc.h"

/* one request of the dispatcher, until the resolver answers */
struct lookup_dns_wait {
	struct mproc	*p;
	uint64_t	 reqid;
};

static struct lookup_dns_wait *
lookup_dns_wait_new(struct mproc *p, uint64_t reqid)
{
	struct lookup_dns_wait	*w;

	w = xcalloc(1, sizeof *w);
	w->p = p;
	w->reqid = reqid;
	return w;
}

/* lookup_dns_on_addrs_done - the addresses, then the outcome */
static void
lookup_dns_on_addrs_done(void *arg, const struct lookup_dns_result *res)
{
	struct lookup_dns_wait	*w = arg;
	size_t			 i;

	log_debug("lookup: dns reqid=%llu status=%d addresses=%zu%s%s",
	    (unsigned long long)w->reqid, res->status, res->naddrs,
	    res->error[0] ? " error=" : "", res->error);
	if (!res->cancelled && !w->p->closed) {
		for (i = 0; i < res->naddrs; i++)
			msg_send_lookup_dns_addr(w->p,
			    &(struct msg_lookup_dns_addr){ .reqid = w->reqid,
			    .preference = res->addrs[i].preference,
			    .host = res->addrs[i].host,
			    .addr = res->addrs[i].addr });
		msg_send_lookup_dns_end(w->p, &(struct msg_lookup_dns_end){
		    .reqid = w->reqid, .status = res->status,
		    .error = res->error });
	}
	free(w);
}

/* lookup_dns_on_ptr_done - the reverse name and its confirmation */
static void
lookup_dns_on_ptr_done(void *arg, const struct lookup_dns_result *res)
{
	struct lookup_dns_wait	*w = arg;

	if (!res->cancelled && !w->p->closed)
		msg_send_lookup_dns_ptr_result(w->p,
		    &(struct msg_lookup_dns_ptr_result){ .reqid = w->reqid,
		    .status = res->status,
		    .name = res->status == DNS_OK ? res->name : "",
		    .fcrdns = res->status == DNS_OK && res->fcrdns });
	free(w);
}

/* lookup_dns_on_mx - the handler of IMSG_LOOKUP_DNS_MX */
void
lookup_dns_on_mx(struct lookup_dns *dns, struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_mx	m;

	if (msg_unpack_lookup_dns_mx(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	lookup_dns_mx(dns, m.domain, lookup_dns_on_addrs_done,
	    lookup_dns_wait_new(p, m.reqid));
}

/* lookup_dns_on_host - the handler of IMSG_LOOKUP_DNS_HOST */
void
lookup_dns_on_host(struct lookup_dns *dns, struct mproc *p,
    struct imsg *imsg)
{
	struct msg_lookup_dns_host	m;

	if (msg_unpack_lookup_dns_host(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	lookup_dns_host(dns, m.host, lookup_dns_on_addrs_done,
	    lookup_dns_wait_new(p, m.reqid));
}

/* lookup_dns_on_ptr - the handler of IMSG_LOOKUP_DNS_PTR */
void
lookup_dns_on_ptr(struct lookup_dns *dns, struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_ptr	m;

	if (msg_unpack_lookup_dns_ptr(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	lookup_dns_ptr(dns, m.addr, lookup_dns_on_ptr_done,
	    lookup_dns_wait_new(p, m.reqid));
}
