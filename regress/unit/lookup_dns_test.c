/*
 * lookup_dns_test.c -- the pure parts of the lookup process's DNS
 * (smtpd/lookup/lookup_dns_parse.c): host names, IP literals, reverse
 * names, the MX order, and MX answers built here byte by byte (null MX,
 * localhost, a target twice, an address literal, garbage).  The resolver
 * itself runs against real servers in regress/dns/.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup_dns.h"
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;

/* an answer under construction */
struct pkt {
	unsigned char	b[2048];
	size_t		len;
};

static void
pkt_put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void
pkt_u16(struct pkt *p, unsigned int v)
{
	unsigned char	b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	pkt_put(p, b, 2);
}

static void
pkt_name(struct pkt *p, const char *name)
{
	const char	*dot;
	size_t		 n;
	unsigned char	 c;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot ? (size_t)(dot - name) : strlen(name);
		c = (unsigned char)n;
		pkt_put(p, &c, 1);
		pkt_put(p, name, n);
		name += n + (dot != NULL);
	}
	c = 0;
	pkt_put(p, &c, 1);
}

/* pkt_mx - an answer to "MX of d.test" with N targets */
static void
pkt_mx(struct pkt *p, const unsigned int *pref, const char *const *host,
    size_t n)
{
	size_t	i, at;

	p->len = 0;
	pkt_u16(p, 7);			/* id */
	pkt_u16(p, 0x8180);		/* response, RD, RA */
	pkt_u16(p, 1);
	pkt_u16(p, (unsigned int)n);
	pkt_u16(p, 0);
	pkt_u16(p, 0);
	pkt_name(p, "d.test");
	pkt_u16(p, 15);
	pkt_u16(p, 1);
	for (i = 0; i < n; i++) {
		pkt_u16(p, 0xc00c);	/* the question's name */
		pkt_u16(p, 15);
		pkt_u16(p, 1);
		pkt_u16(p, 0);
		pkt_u16(p, 60);
		at = p->len;
		pkt_u16(p, 0);		/* rdlength, below */
		pkt_u16(p, pref[i]);
		pkt_name(p, host[i]);
		p->b[at] = (unsigned char)((p->len - at - 2) >> 8);
		p->b[at + 1] = (unsigned char)(p->len - at - 2);
	}
}

static void
test_names(void)
{
	char	addr[DNS_ADDR_STR_MAX], long_label[80], long_name[300];
	int	family;

	CHECK(lookup_dns_name_ok("mx1.example.org"), "name");
	CHECK(lookup_dns_name_ok("mx1.example.org."), "final dot");
	CHECK(lookup_dns_name_ok("_srv.x-y.test"), "underscore, hyphen");
	CHECK(!lookup_dns_name_ok(""), "empty refused");
	CHECK(!lookup_dns_name_ok("."), "root alone refused");
	CHECK(!lookup_dns_name_ok("a..b"), "empty label refused");
	CHECK(!lookup_dns_name_ok("a b.test"), "space refused");
	CHECK(!lookup_dns_name_ok("a\\.b.test"), "escape refused");
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	CHECK(!lookup_dns_name_ok(long_label), "label of 64 refused");
	long_label[63] = '\0';
	CHECK(lookup_dns_name_ok(long_label), "label of 63");
	memset(long_name, 'a', sizeof long_name);
	for (family = 1; family < 254; family += 2)
		long_name[family] = '.';
	long_name[253] = 'a';
	long_name[254] = '\0';
	CHECK(!lookup_dns_name_ok(long_name), "name of 254 refused");

	CHECK(lookup_dns_literal("192.0.2.1", addr, sizeof addr, &family) &&
	    family == AF_INET && strcmp(addr, "192.0.2.1") == 0, "IPv4");
	CHECK(lookup_dns_literal("[192.0.2.1]", addr, sizeof addr, &family) &&
	    strcmp(addr, "192.0.2.1") == 0, "[IPv4]");
	CHECK(lookup_dns_literal("[IPv6:2001:DB8::1]", addr, sizeof addr,
	    &family) && family == AF_INET6 && strcmp(addr, "2001:db8::1") == 0,
	    "[IPv6:...] normalized");
	CHECK(lookup_dns_literal("::1", addr, sizeof addr, &family) &&
	    family == AF_INET6, "bare IPv6");
	CHECK(!lookup_dns_literal("[192.0.2.1", addr, sizeof addr, &family),
	    "unclosed bracket refused");
	CHECK(!lookup_dns_literal("mx.test", addr, sizeof addr, &family),
	    "a name is no literal");
	CHECK(!lookup_dns_literal("[]", addr, sizeof addr, &family),
	    "empty brackets refused");
}

static void
test_reverse(void)
{
	unsigned char	v4[4] = { 192, 0, 2, 7 }, v6[16] = { 0x20, 0x01,
	    0x0d, 0xb8 };
	char		buf[128];

	v6[15] = 0x1;
	CHECK(lookup_dns_reverse_name(v4, AF_INET, buf, sizeof buf) == 0,
	    "v4 reverse");
	CHECK_STR(buf, "7.2.0.192.in-addr.arpa", "v4 reverse name");
	CHECK(lookup_dns_reverse_name(v6, AF_INET6, buf, sizeof buf) == 0,
	    "v6 reverse");
	CHECK_STR(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa", "v6 reverse name");
	CHECK(lookup_dns_reverse_name(v6, AF_INET6, buf, 20) == -1,
	    "v6 reverse too long refused");
}

static void
test_mx_order(void)
{
	struct lookup_dns_mx	mx[6];
	unsigned int		seen[3] = { 0 };
	int			round, i, ok = 1;

	for (round = 0; round < 200; round++) {
		static const uint16_t	prefs[6] = { 30, 10, 20, 20, 20, 5 };

		for (i = 0; i < 6; i++) {
			mx[i].preference = prefs[i];
			snprintf(mx[i].host, sizeof mx[i].host, "h%d", i);
		}
		lookup_dns_mx_order(mx, 6);
		for (i = 1; i < 6; i++)
			if (mx[i].preference < mx[i - 1].preference)
				ok = 0;
		seen[mx[2].host[1] - '2']++;
	}
	CHECK(ok, "MX in preference order");
	CHECK(seen[0] > 20 && seen[1] > 20 && seen[2] > 20,
	    "each equal preference comes first sometimes");
}

static void
test_parse_mx(void)
{
	struct lookup_dns_mx	mx[DNS_MX_MAX];
	struct pkt		p;
	size_t			n;
	int			nullmx, q;

	{
		static const unsigned int	pr[] = { 20, 10, 15, 5 };
		static const char *const	h[] = { "b.test", "a.test",
			"b.test", "192.0.2.9" };

		pkt_mx(&p, pr, h, 4);
		q = lookup_dns_parse_mx(p.b, (int)p.len, mx, DNS_MX_MAX, &n,
		    &nullmx);
		CHECK(q == DNS_Q_OK && n == 3 && !nullmx, "three MX hosts");
		CHECK(n == 3 && strcmp(mx[0].host, "192.0.2.9") == 0 &&
		    strcmp(mx[1].host, "a.test") == 0 && mx[2].preference == 15,
		    "literal kept, duplicate at its best preference");
		q = lookup_dns_parse_mx(p.b, (int)p.len, mx, 2, &n, &nullmx);
		CHECK(q == DNS_Q_OK && n == 2, "capped at the maximum");
	}
	{
		static const unsigned int	pr[] = { 0 };
		static const char *const	h[] = { "" };

		pkt_mx(&p, pr, h, 1);
		q = lookup_dns_parse_mx(p.b, (int)p.len, mx, DNS_MX_MAX, &n,
		    &nullmx);
		CHECK(q == DNS_Q_OK && n == 0 && nullmx, "null MX");
	}
	{
		static const unsigned int	pr[] = { 10 };
		static const char *const	h[] = { "localhost" };

		pkt_mx(&p, pr, h, 1);
		q = lookup_dns_parse_mx(p.b, (int)p.len, mx, DNS_MX_MAX, &n,
		    &nullmx);
		CHECK(q == DNS_Q_OK && n == 0 && nullmx, "MX localhost");
	}
	{
		static const unsigned int	pr[] = { 0, 10 };
		static const char *const	h[] = { "", "real.test" };

		pkt_mx(&p, pr, h, 2);
		q = lookup_dns_parse_mx(p.b, (int)p.len, mx, DNS_MX_MAX, &n,
		    &nullmx);
		CHECK(q == DNS_Q_OK && n == 1 && !nullmx &&
		    strcmp(mx[0].host, "real.test") == 0,
		    "a null MX beside a real one is ignored");
	}
	pkt_mx(&p, NULL, NULL, 0);
	q = lookup_dns_parse_mx(p.b, (int)p.len, mx, DNS_MX_MAX, &n, &nullmx);
	CHECK(q == DNS_Q_NODATA && n == 0, "no MX record: NODATA");
	q = lookup_dns_parse_mx(p.b, 5, mx, DNS_MX_MAX, &n, &nullmx);
	CHECK(q == DNS_Q_TEMP && n == 0, "truncated bytes: malformed");
	{
		static const unsigned int	pr[] = { 10 };
		static const char *const	h[] = { "a.test" };

		pkt_mx(&p, pr, h, 1);
		p.b[p.len - 9] = 0xc0;	/* a pointer past the end */
		p.b[p.len - 8] = 0xff;
		q = lookup_dns_parse_mx(p.b, (int)p.len, mx, DNS_MX_MAX, &n,
		    &nullmx);
		CHECK(q == DNS_Q_TEMP || (q == DNS_Q_OK && n == 0) ||
		    (n == 1 && lookup_dns_name_ok(mx[0].host)),
		    "a bad pointer: refused or a checked name");
	}
}

int
main(void)
{
	test_names();
	test_reverse();
	test_mx_order();
	test_parse_mx();
	return test_done();
}
