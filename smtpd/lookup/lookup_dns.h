/*
 * lookup_dns.h -- the lookup process's DNS: MX and host addresses for
 * relaying, and the reverse name of a client (MTA-01, MTA-02, SMTP-30).
 *
 * lookup_dns.c is an asynchronous resolver on c-ares driven by the
 * process's libevent loop: a request hands over a completion and
 * returns; the completion runs later on the loop (or at once for an IP
 * literal), exactly once, within the request's time bound.
 * lookup_dns_parse.c holds the pure parts (answers to lists, names,
 * literals, the MX order) that the fuzz target drives; lookup_dns_msg.c
 * is the imsg glue of IMSG_LOOKUP_DNS_*.  Used by lookup.c and the
 * tests.  Nothing here blocks, reads a program global or exits on what
 * a DNS server sent: a bad answer is DNS_TEMPFAIL and a log line.
 */
#ifndef SMTPD_LOOKUP_DNS_H
#define SMTPD_LOOKUP_DNS_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "imsg.h"
#include "mproc.h"

struct event_base;
struct lookup_dns;

#define DNS_NAME_MAX		253	/* a host name, without the root dot */
#define DNS_ADDR_STR_MAX	INET6_ADDRSTRLEN
#define DNS_MX_MAX		16	/* MX hosts handled per domain */
#define DNS_ADDR_MAX		32	/* addresses answered per request */
#define DNS_HOST_ADDR_MAX	16	/* addresses kept per host and family */
#define DNS_TIMEOUT_MS		1000	/* first try of a query, then doubled */
#define DNS_TRIES		3	/* tries of a query per server */
#define DNS_REQUEST_MS		20000	/* a whole request, at most */

struct lookup_dns_params {
	/* "IP[:port],...": only these servers, no hosts file; NULL: the
	 * servers and the lookup order (hosts file, DNS) of resolv.conf */
	const char	*servers;
	const char	*resolv_conf;	/* NULL: /etc/resolv.conf */
	unsigned int	 timeout_ms;	/* 0: DNS_TIMEOUT_MS */
	unsigned int	 tries;		/* 0: DNS_TRIES */
	unsigned int	 request_ms;	/* 0: DNS_REQUEST_MS */
};

/* one address to try: the MX host it came from and its preference */
struct lookup_dns_addr {
	uint32_t	preference;
	char		host[DNS_NAME_MAX + 1];
	char		addr[DNS_ADDR_STR_MAX];	/* numeric */
};

struct lookup_dns_result {
	int			status;		/* DNS_* of imsg.h */
	char			error[256];	/* "" when DNS_OK */
	size_t			naddrs;		/* MX, HOST: in order */
	struct lookup_dns_addr	addrs[DNS_ADDR_MAX];
	char			name[DNS_NAME_MAX + 1];	/* PTR: "" none */
	int			fcrdns;		/* PTR: name confirmed */
	int			cancelled;	/* lookup_dns_free: answer none */
};

/* a request's completion: called once, on the loop or at once */
typedef void (*lookup_dns_done_fn)(void *arg,
    const struct lookup_dns_result *);

/* lookup_dns.c */
/* lookup_dns_new - a resolver on BASE; NULL and ERR when the servers or
 * the resolv.conf are unusable */
struct lookup_dns *lookup_dns_new(struct event_base *,
	    const struct lookup_dns_params *, char *err, size_t errsz);
/* lookup_dns_free - the resolver and its requests: each unanswered one
 * completes with cancelled set (its caller only releases its argument).
 * Never from inside a completion. */
void	lookup_dns_free(struct lookup_dns **);
/* lookup_dns_mx - the addresses to relay mail for DOMAIN to, in order */
void	lookup_dns_mx(struct lookup_dns *, const char *domain,
	    lookup_dns_done_fn, void *arg);
/* lookup_dns_host - the addresses of HOST (a name, IP or [IP]) */
void	lookup_dns_host(struct lookup_dns *, const char *host,
	    lookup_dns_done_fn, void *arg);
/* lookup_dns_ptr - the reverse name of ADDR (numeric) and whether its
 * own addresses include ADDR (FCrDNS).  Unless servers were given: a
 * loopback address is "localhost" without asking anyone (RFC 6761,
 * 6303), and the hosts file is read before DNS. */
void	lookup_dns_ptr(struct lookup_dns *, const char *addr,
	    lookup_dns_done_fn, void *arg);
/* lookup_dns_pending - requests not yet freed (answered or not) */
size_t	lookup_dns_pending(const struct lookup_dns *);

/* lookup_dns_parse.c: pure, fed by the fuzz target */
struct lookup_dns_mx {
	uint16_t	preference;
	char		host[DNS_NAME_MAX + 1];
};
/* what a query's answer holds, once c-ares's status is classified */
#define DNS_Q_OK	0	/* records */
#define DNS_Q_NODATA	1	/* the name exists, no record of the type */
#define DNS_Q_NXDOMAIN	2
#define DNS_Q_TEMP	3	/* SERVFAIL, timeout, malformed, refused */
int	lookup_dns_classify(int ares_status);
/* lookup_dns_name_ok - a host name we accept (LDH and '_', labels of
 * 1..63, 1..253 long, a final dot allowed); 1 or 0 */
int	lookup_dns_name_ok(const char *);
/* lookup_dns_literal - HOST is an address, bare or in brackets (IPv6:
 * prefix allowed there): its numeric form in ADDR, *FAMILY; 1, or 0 */
int	lookup_dns_literal(const char *host, char *addr, size_t addrsz,
	    int *family);
/* lookup_dns_parse_mx - the MX records of ANSWER into MX (at most MAX),
 * in the order to try: DNS_Q_OK, DNS_Q_NODATA (no MX), DNS_Q_TEMP
 * (malformed); *NULLMX set when only "." or localhost targets remain */
int	lookup_dns_parse_mx(const unsigned char *answer, int len,
	    struct lookup_dns_mx *mx, size_t max, size_t *n, int *nullmx);
/* lookup_dns_mx_order - sort by preference, shuffle equal ones */
void	lookup_dns_mx_order(struct lookup_dns_mx *, size_t n);
/* lookup_dns_parse_addrs - the FAMILY addresses of ANSWER (A or AAAA),
 * numeric, distinct, at most MAX: their count, or -1 malformed */
int	lookup_dns_parse_addrs(const unsigned char *answer, int len,
	    int family, char (*addrs)[DNS_ADDR_STR_MAX], size_t max);
/* lookup_dns_parse_ptr - the first acceptable name of a PTR ANSWER for
 * the binary address ADDR of FAMILY: 1, 0 none, -1 malformed */
int	lookup_dns_parse_ptr(const unsigned char *answer, int len,
	    const void *addr, int family, char *name, size_t namesz);
/* lookup_dns_hostent_name - the first acceptable name of a host entry
 * (c-ares's, from DNS or the hosts file) into NAME: 1, or 0 none */
struct hostent;
int	lookup_dns_hostent_name(const struct hostent *, char *name,
	    size_t namesz);
/* lookup_dns_hostent_has - its addresses include ADDR (binary, FAMILY) */
int	lookup_dns_hostent_has(const struct hostent *, const void *addr,
	    int family);
/* lookup_dns_reverse_name - "4.3.2.1.in-addr.arpa" or the ip6.arpa name */
int	lookup_dns_reverse_name(const void *addr, int family, char *buf,
	    size_t size);

/* lookup_dns_msg.c: the handlers of IMSG_LOOKUP_DNS_MX, _HOST and _PTR */
void	lookup_dns_on_mx(struct lookup_dns *, struct mproc *, struct imsg *);
void	lookup_dns_on_host(struct lookup_dns *, struct mproc *,
	    struct imsg *);
void	lookup_dns_on_ptr(struct lookup_dns *, struct mproc *, struct imsg *);

#endif
