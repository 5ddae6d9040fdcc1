/*
 * lookup_dns_fuzz.c -- libFuzzer target for what the lookup process
 * parses from DNS answers (smtpd/lookup/lookup_dns_parse.c): c-ares's
 * MX, A, AAAA and PTR parsers, then our own checks, ordering and
 * copies; and the host names and literals of requests.
 *
 * The input is a DNS answer as a server would send it (the first byte
 * also picks the address a PTR answer is matched against).  Nothing may
 * crash or read past the input, and whatever is accepted must hold:
 * every MX host and reverse name passes lookup_dns_name_ok or is an IP
 * literal, MX hosts come in preference order, no more than asked, and
 * addresses are numeric and distinct.  Any breach aborts.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lookup_dns.h"
#include "smtpd.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* dns_fuzz_host - a name we would connect to, or abort */
static void
dns_fuzz_host(const char *host, size_t size)
{
	char	addr[DNS_ADDR_STR_MAX];
	int	family;

	if (memchr(host, '\0', size) == NULL)
		abort();
	if (!lookup_dns_name_ok(host) &&
	    !lookup_dns_literal(host, addr, sizeof addr, &family))
		abort();
}

static void
dns_fuzz_mx(const unsigned char *ans, int len)
{
	struct lookup_dns_mx	mx[DNS_MX_MAX];
	size_t			n, i, max = 1 + (len > 0 ? ans[0] % DNS_MX_MAX : 0);
	int			q, nullmx;

	q = lookup_dns_parse_mx(ans, len, mx, max, &n, &nullmx);
	if (q != DNS_Q_OK && (n != 0 || nullmx))
		abort();
	if (n > max || (nullmx && n != 0))
		abort();
	for (i = 0; i < n; i++) {
		dns_fuzz_host(mx[i].host, sizeof mx[i].host);
		if (i > 0 && mx[i].preference < mx[i - 1].preference)
			abort();
	}
}

static void
dns_fuzz_addrs(const unsigned char *ans, int len, int family)
{
	char		addrs[DNS_HOST_ADDR_MAX][DNS_ADDR_STR_MAX];
	unsigned char	bin[16];
	int		n, i, j;

	n = lookup_dns_parse_addrs(ans, len, family, addrs,
	    DNS_HOST_ADDR_MAX);
	if (n < -1 || n > DNS_HOST_ADDR_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (inet_pton(family, addrs[i], bin) != 1)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(addrs[i], addrs[j]) == 0)
				abort();
	}
}

static void
dns_fuzz_ptr(const unsigned char *ans, int len)
{
	unsigned char	bin[16];
	char		name[DNS_NAME_MAX + 1], rev[128];
	int		family = len > 0 && (ans[0] & 1) ? AF_INET6 : AF_INET;
	int		r;

	/* the address asked: from the input, else 127.0.0.1 / ::1 */
	memset(bin, 0, sizeof bin);
	if (len >= 17)
		memcpy(bin, ans + 1, 16);
	else if (family == AF_INET)
		memcpy(bin, "\x7f\0\0\x01", 4);
	else
		bin[15] = 1;
	if (lookup_dns_reverse_name(bin, family, rev, sizeof rev) == -1 ||
	    !lookup_dns_name_ok(rev))
		abort();
	r = lookup_dns_parse_ptr(ans, len, bin, family, name, sizeof name);
	if (r < -1 || r > 1 || (r == 1 && !lookup_dns_name_ok(name)) ||
	    (r != 1 && name[0] != '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*ans;
	char		*text, addr[DNS_ADDR_STR_MAX];
	int		 family;

	if (size > 65535)
		return 0;
	/* exact-size copies, so that ASan sees any read past the end */
	if ((ans = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(ans, data, size);
	dns_fuzz_mx(ans, (int)size);
	dns_fuzz_addrs(ans, (int)size, AF_INET);
	dns_fuzz_addrs(ans, (int)size, AF_INET6);
	dns_fuzz_ptr(ans, (int)size);
	free(ans);
	/* the same bytes as a name in a request */
	if (size < 512 && (text = malloc(size + 1)) != NULL) {
		memcpy(text, data, size);
		text[size] = '\0';
		(void)lookup_dns_name_ok(text);
		if (lookup_dns_literal(text, addr, sizeof addr, &family) &&
		    (family != AF_INET && family != AF_INET6))
			abort();
		free(text);
	}
	return 0;
}
