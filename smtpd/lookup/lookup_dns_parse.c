/*
 * lookup_dns_parse.c -- the pure parts of the lookup process's DNS:
 * DNS answers (bytes from a server) to MX lists, addresses and reverse
 * names, through c-ares's parsers and then our own checks; host names
 * and IP literals; the order MX hosts are tried in (RFC 5321 5.1:
 * preference, random among equals).
 *
 * Used by lookup_dns.c and by the fuzz target lookup_dns_fuzz.c, which
 * feeds it arbitrary answers.  It keeps no state and never trusts an
 * answer: every name is checked (lookup_dns_name_ok) and bounded before
 * it is copied; what does not parse is "malformed" to the caller, which
 * makes it a temporary failure.  It never blocks and never exits.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ares.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup_dns.h"

/* lookup_dns_classify - a c-ares status to what the answer says */
int
lookup_dns_classify(int ares_status)
{
	switch (ares_status) {
	case ARES_SUCCESS:
		return DNS_Q_OK;
	case ARES_ENODATA:
		return DNS_Q_NODATA;
	case ARES_ENOTFOUND:
		return DNS_Q_NXDOMAIN;
	default:
		return DNS_Q_TEMP;
	}
}

/* lookup_dns_name_ok - a host name we accept (see lookup_dns.h) */
int
lookup_dns_name_ok(const char *name)
{
	size_t	len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* lookup_dns_copy_name - NAME without its final dot into DST, if good */
static int
lookup_dns_copy_name(const char *name, char *dst, size_t dstsz)
{
	size_t	len;

	if (!lookup_dns_name_ok(name))
		return -1;
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;
	if (len >= dstsz)
		return -1;
	memcpy(dst, name, len);
	dst[len] = '\0';
	return 0;
}

/* lookup_dns_literal - HOST as an address literal (see lookup_dns.h) */
int
lookup_dns_literal(const char *host, char *addr, size_t addrsz, int *family)
{
	char		buf[DNS_ADDR_STR_MAX + 8];
	const char	*p = host;
	size_t		len = strlen(host);
	unsigned char	bin[sizeof(struct in6_addr)];

	if (len > 0 && host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return 0;
		p++;
		len -= 2;
		if (len > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
			p += 5;
			len -= 5;
		}
	}
	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, bin) == 1)
		*family = AF_INET6;
	else
		return 0;
	return inet_ntop(*family, bin, addr, addrsz) != NULL;
}

/* lookup_dns_mx_cmp - qsort: by preference only (equals shuffled after) */
static int
lookup_dns_mx_cmp(const void *a, const void *b)
{
	const struct lookup_dns_mx	*x = a, *y = b;

	return (int)x->preference - (int)y->preference;
}

/* lookup_dns_mx_order - preference order, equal ones shuffled */
void
lookup_dns_mx_order(struct lookup_dns_mx *mx, size_t n)
{
	struct lookup_dns_mx	tmp;
	size_t			i, j, k;

	if (n < 2)
		return;
	qsort(mx, n, sizeof *mx, lookup_dns_mx_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && mx[j].preference == mx[i].preference;
		    j++)
			;
		/* Fisher-Yates over [i, j) */
		for (k = j - 1; k > i; k--) {
			size_t r = i + arc4random_uniform((uint32_t)(k - i + 1));

			tmp = mx[k];
			mx[k] = mx[r];
			mx[r] = tmp;
		}
	}
}

/* lookup_dns_mx_add - one MX target into ALL, keeping the best
 * preference of a host named twice; the null targets only counted */
static void
lookup_dns_mx_add(struct lookup_dns_mx *all, size_t *n, size_t cap,
    const struct ares_mx_reply *r, int *nnull)
{
	char	 host[DNS_NAME_MAX + 1];
	size_t	 i;
	int	 family;

	if (r->host == NULL || r->host[0] == '\0' ||
	    strcmp(r->host, ".") == 0 || strcasecmp(r->host, "localhost") == 0 ||
	    strcasecmp(r->host, "localhost.") == 0) {
		(*nnull)++;
		return;
	}
	if (lookup_dns_literal(r->host, host, sizeof host, &family) == 0 &&
	    lookup_dns_copy_name(r->host, host, sizeof host) == -1)
		return;		/* not a name we would connect to */
	for (i = 0; i < *n; i++)
		if (strcasecmp(all[i].host, host) == 0) {
			if (r->priority < all[i].preference)
				all[i].preference = r->priority;
			return;
		}
	if (*n == cap)
		return;
	all[*n].preference = r->priority;
	memcpy(all[*n].host, host, strlen(host) + 1);
	(*n)++;
}

/* lookup_dns_parse_mx - MX answer to the ordered list (see lookup_dns.h) */
int
lookup_dns_parse_mx(const unsigned char *answer, int len,
    struct lookup_dns_mx *mx, size_t max, size_t *n, int *nullmx)
{
	struct ares_mx_reply	*list = NULL, *r;
	struct lookup_dns_mx	*all;
	size_t			 count = 0, nall = 0;
	int			 st, nnull = 0;

	*n = 0;
	*nullmx = 0;
	st = ares_parse_mx_reply(answer, len, &list);
	if (st == ARES_ENODATA)
		return DNS_Q_NODATA;
	if (st != ARES_SUCCESS)
		return DNS_Q_TEMP;
	for (r = list; r != NULL; r = r->next)
		count++;
	if ((all = calloc(count ? count : 1, sizeof *all)) == NULL) {
		ares_free_data(list);
		return DNS_Q_TEMP;
	}
	for (r = list; r != NULL; r = r->next)
		lookup_dns_mx_add(all, &nall, count, r, &nnull);
	ares_free_data(list);
	if (count == 0) {
		free(all);
		return DNS_Q_NODATA;
	}
	/* RFC 7505: "." (and, as OpenSMTPD 7.5+, localhost) alone: no mail */
	if (nall == 0 && nnull > 0)
		*nullmx = 1;
	lookup_dns_mx_order(all, nall);
	*n = nall < max ? nall : max;
	memcpy(mx, all, *n * sizeof *mx);
	free(all);
	return DNS_Q_OK;
}

/* lookup_dns_addr_add - ADDR (binary) into ADDRS unless there or unusable */
static void
lookup_dns_addr_add(int family, const void *bin, char (*addrs)[DNS_ADDR_STR_MAX],
    size_t max, size_t *n)
{
	static const unsigned char	zero[16];
	char				buf[DNS_ADDR_STR_MAX];
	size_t				i;

	if (memcmp(bin, zero, family == AF_INET ? 4 : 16) == 0)
		return;		/* 0.0.0.0 or :: */
	if (*n == max || inet_ntop(family, bin, buf, sizeof buf) == NULL)
		return;
	for (i = 0; i < *n; i++)
		if (strcmp(addrs[i], buf) == 0)
			return;
	memcpy(addrs[(*n)++], buf, sizeof buf);
}

/* lookup_dns_parse_addrs - A or AAAA answer to addresses */
int
lookup_dns_parse_addrs(const unsigned char *answer, int len, int family,
    char (*addrs)[DNS_ADDR_STR_MAX], size_t max)
{
	struct ares_addrttl	a4[DNS_HOST_ADDR_MAX * 4];
	struct ares_addr6ttl	a6[DNS_HOST_ADDR_MAX * 4];
	size_t			n = 0;
	int			st, i, count;

	if (family == AF_INET) {
		count = (int)(sizeof a4 / sizeof a4[0]);
		st = ares_parse_a_reply(answer, len, NULL, a4, &count);
	} else {
		count = (int)(sizeof a6 / sizeof a6[0]);
		st = ares_parse_aaaa_reply(answer, len, NULL, a6, &count);
	}
	if (st == ARES_ENODATA)
		return 0;
	if (st != ARES_SUCCESS || count < 0)
		return -1;
	for (i = 0; i < count; i++)
		lookup_dns_addr_add(family, family == AF_INET ?
		    (const void *)&a4[i].ipaddr : (const void *)&a6[i].ip6addr,
		    addrs, max, &n);
	return (int)n;
}

/* lookup_dns_hostent_name - the first acceptable name of HE: 1 or 0 */
int
lookup_dns_hostent_name(const struct hostent *he, char *name, size_t namesz)
{
	char	**alias;

	name[0] = '\0';
	if (he->h_name != NULL &&
	    lookup_dns_copy_name(he->h_name, name, namesz) == 0)
		return 1;
	for (alias = he->h_aliases; alias != NULL && *alias != NULL; alias++)
		if (lookup_dns_copy_name(*alias, name, namesz) == 0)
			return 1;
	name[0] = '\0';
	return 0;
}

/* lookup_dns_hostent_has - HE's addresses include ADDR of FAMILY */
int
lookup_dns_hostent_has(const struct hostent *he, const void *addr,
    int family)
{
	size_t	len = family == AF_INET ? 4 : 16;
	char	**a;

	if (he->h_addrtype != family || (size_t)he->h_length != len)
		return 0;
	for (a = he->h_addr_list; a != NULL && *a != NULL; a++)
		if (memcmp(*a, addr, len) == 0)
			return 1;
	return 0;
}

/* lookup_dns_parse_ptr - PTR answer to the first acceptable name */
int
lookup_dns_parse_ptr(const unsigned char *answer, int len, const void *addr,
    int family, char *name, size_t namesz)
{
	struct hostent	*he = NULL;
	int		 st, found;

	name[0] = '\0';
	st = ares_parse_ptr_reply(answer, len, addr,
	    family == AF_INET ? 4 : 16, family, &he);
	if (st == ARES_ENODATA)
		return 0;
	if (st != ARES_SUCCESS || he == NULL) {
		if (he != NULL)
			ares_free_hostent(he);
		return -1;
	}
	found = lookup_dns_hostent_name(he, name, namesz);
	ares_free_hostent(he);
	return found;
}

/* lookup_dns_reverse_name - the PTR query name of ADDR */
int
lookup_dns_reverse_name(const void *addr, int family, char *buf, size_t size)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*b = addr;
	size_t			 off = 0;
	int			 i, n;

	if (family == AF_INET) {
		n = snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2],
		    b[1], b[0]);
		return n < 0 || (size_t)n >= size ? -1 : 0;
	}
	if (size < 16 * 4 + sizeof "ip6.arpa")
		return -1;
	for (i = 15; i >= 0; i--) {
		buf[off++] = hex[b[i] & 0xf];
		buf[off++] = '.';
		buf[off++] = hex[b[i] >> 4];
		buf[off++] = '.';
	}
	memcpy(buf + off, "ip6.arpa", sizeof "ip6.arpa");
	return 0;
}
