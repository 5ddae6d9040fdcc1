/*
 * table_match.c -- does a table entry match a lookup key.
 *
 * The matching rules of smtpd-conf.md 4.2, shared by every backend that
 * stores entries itself (static, file, db): domain entries may hold `*`
 * (any run of characters), netaddr entries are addresses or CIDR blocks
 * (v4, bare v6, [v6], ipv6:v6, with /bits), mailaddr entries are user,
 * @domain, user@domain or @, and regex entries are POSIX extended
 * expressions matched without regard to case.  Keys and entries arrive
 * lower-cased.  Pure functions: no logging, no global state; the glob
 * match is linear-time backtracking so a hostile pattern cannot make a
 * lookup take exponential time.  Key normalisation and the netaddr
 * parsers live here too, so that this file, like the backends, needs
 * only api/ headers (table_backends.h) and links into helpers.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table_backends.h"

/* table_normalize_key - lower-cased copy; -1 with a reason if refused */
int
table_normalize_key(const char *key, char *dst, size_t dstsz, char *err,
    size_t errsz)
{
	size_t	i;

	for (i = 0; key[i] != '\0'; i++) {
		if (key[i] == '\r' || key[i] == '\n') {
			snprintf(err, errsz, "key contains CR or LF");
			return -1;
		}
		if (i + 1 >= dstsz || i + 1 >= TABLE_KEY_MAX) {
			snprintf(err, errsz, "key longer than %d bytes",
			    TABLE_KEY_MAX - 1);
			return -1;
		}
		dst[i] = (char)tolower((unsigned char)key[i]);
	}
	if (dstsz == 0) {
		snprintf(err, errsz, "no room for the key");
		return -1;
	}
	dst[i] = '\0';
	return 0;
}

/* table_value_error - format a reason, return -1 */
static int
table_value_error(char *err, size_t errsz, const char *what)
{
	if (errsz > 0)
		snprintf(err, errsz, "%s", what);
	return -1;
}

/* table_parse_ip - numeric IPv4 or IPv6 (no prefix, no brackets) */
static int
table_parse_ip(const char *s, struct table_netaddr *n)
{
	memset(n, 0, sizeof *n);
	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
		return 0;
	}
	return -1;
}

/*
 * table_parse_netaddr - a.b.c.d[/n], v6[/n], [v6][/n], ipv6:v6[/n].
 */
int
table_parse_netaddr(const char *value, struct table_netaddr *n, char *err,
    size_t errsz)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	const char	*p = value, *slash, *close;
	size_t		 len;
	long		 bits = -1;
	char		*end;

	if (strncasecmp(p, "ipv6:", 5) == 0)
		p += 5;
	if (*p == '[') {
		if ((close = strchr(p, ']')) == NULL)
			return table_value_error(err, errsz,
			    "netaddr: missing ]");
		len = (size_t)(close - p - 1);
		if (len >= sizeof buf)
			return table_value_error(err, errsz,
			    "netaddr: address too long");
		memcpy(buf, p + 1, len);
		buf[len] = '\0';
		slash = close[1] == '/' ? close + 1 : NULL;
		if (close[1] != '\0' && slash == NULL)
			return table_value_error(err, errsz,
			    "netaddr: junk after ]");
	} else {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len >= sizeof buf)
			return table_value_error(err, errsz,
			    "netaddr: address too long");
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
	if (table_parse_ip(buf, n) == -1)
		return table_value_error(err, errsz,
		    "netaddr: not an IP address");
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1]))
			return table_value_error(err, errsz,
			    "netaddr: bad prefix length");
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || bits < 0 || bits > n->bits)
			return table_value_error(err, errsz,
			    "netaddr: bad prefix length");
		n->bits = (int)bits;
	}
	return 0;
}

/* table_parse_address - one address (a key): a netaddr without /n */
int
table_parse_address(const char *value, struct table_netaddr *n, char *err,
    size_t errsz)
{
	if (strchr(value, '/') != NULL)
		return table_value_error(err, errsz,
		    "address with a prefix length");
	return table_parse_netaddr(value, n, err, errsz);
}

/* table_netaddr_contains - is ADDR inside the block NET */
int
table_netaddr_contains(const struct table_netaddr *net,
    const struct table_netaddr *addr)
{
	int		full, rest;
	unsigned char	mask;

	if (net->family != addr->family)
		return 0;
	full = net->bits / 8;
	rest = net->bits % 8;
	if (memcmp(net->addr, addr->addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr->addr[full] & mask);
}


/* table_match_domain - glob PATTERN (only `*` is special) vs DOMAIN */
int
table_match_domain(const char *pattern, const char *domain)
{
	const char	*p = pattern, *d = domain;
	const char	*star = NULL, *mark = NULL;

	while (*d != '\0') {
		if (*p == '*') {
			star = p++;
			mark = d;
		} else if (*p != '\0' && *p == *d) {
			p++;
			d++;
		} else if (star != NULL) {
			p = star + 1;
			d = ++mark;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* table_match_netaddr - ENTRY (address or CIDR) contains address KEY */
int
table_match_netaddr(const char *entry, const char *key)
{
	struct table_netaddr	net, addr;
	char			err[64];

	if (table_parse_address(key, &addr, err, sizeof err) == -1)
		return strcmp(entry, key) == 0;	/* "local", rdns names */
	if (table_parse_netaddr(entry, &net, err, sizeof err) == -1)
		return 0;
	return table_netaddr_contains(&net, &addr);
}

/* table_match_user - entry user EU matches key user KU, tags ignored */
static int
table_match_user(const char *eu, size_t eulen, const char *ku, size_t kulen)
{
	const char	*delim;

	if (eulen == kulen && memcmp(eu, ku, kulen) == 0)
		return 1;
	/* an entry without a sub-address tag matches tagged keys */
	if (memchr(eu, TABLE_SUBADDR_DELIM, eulen) != NULL)
		return 0;
	delim = memchr(ku, TABLE_SUBADDR_DELIM, kulen);
	if (delim == NULL)
		return 0;
	return (size_t)(delim - ku) == eulen && memcmp(eu, ku, eulen) == 0;
}

/* table_match_mailaddr - ENTRY (user, @domain, user@domain, @) vs KEY */
int
table_match_mailaddr(const char *entry, const char *key)
{
	const char	*kat, *eat, *kdomain;
	size_t		 kulen;

	kat = strrchr(key, '@');
	kulen = kat != NULL ? (size_t)(kat - key) : strlen(key);
	kdomain = kat != NULL ? kat + 1 : "";
	if (strcmp(entry, "@") == 0)
		return 1;
	eat = strrchr(entry, '@');
	if (eat == NULL)
		return table_match_user(entry, strlen(entry), key, kulen);
	if (!table_match_domain(eat + 1, kdomain))
		return 0;
	if (eat == entry)
		return 1;
	return table_match_user(entry, (size_t)(eat - entry), key, kulen);
}

/* table_match_regex_free - release a cached compiled expression */
void
table_match_regex_free(void **regex)
{
	if (*regex == NULL)
		return;
	regfree(*regex);
	free(*regex);
	*regex = NULL;
}

/*
 * table_match_regex - does PATTERN match SUBJECT.  *REGEX caches the
 * compiled form when REGEX is not NULL.  -1 when PATTERN does not
 * compile (*REGEX_BAD remembers it).
 */
int
table_match_regex(const char *pattern, const char *subject, void **regex,
    int *regex_bad)
{
	regex_t	*re, local;
	int	 r;

	if (regex_bad != NULL && *regex_bad)
		return -1;
	if (regex != NULL && *regex != NULL)
		re = *regex;
	else {
		re = regex != NULL ? malloc(sizeof *re) : &local;
		if (re == NULL)
			return -1;
		if (strncmp(pattern, "(?i)", 4) == 0)
			pattern += 4;
		if (regcomp(re, pattern, REG_EXTENDED | REG_ICASE |
		    REG_NOSUB) != 0) {
			if (regex != NULL)
				free(re);
			if (regex_bad != NULL)
				*regex_bad = 1;
			return -1;
		}
		if (regex != NULL)
			*regex = re;
	}
	r = regexec(re, subject, 0, NULL, 0) == 0;
	if (regex == NULL)
		regfree(re);
	return r;
}

/* table_match_needs_scan - service whose entries are patterns */
int
table_match_needs_scan(enum table_service service)
{
	return service == K_DOMAIN || service == K_NETADDR ||
	    service == K_MAILADDR || service == K_REGEX;
}

/* table_match - entry ENTRY vs KEY for SERVICE: 1, 0, -1 (bad entry) */
int
table_match(enum table_service service, const char *entry, const char *key,
    void **regex, int *regex_bad)
{
	switch (service) {
	case K_DOMAIN:
		return table_match_domain(entry, key);
	case K_NETADDR:
		return table_match_netaddr(entry, key);
	case K_MAILADDR:
		return table_match_mailaddr(entry, key);
	case K_REGEX:
		return table_match_regex(entry, key, regex, regex_bad);
	default:
		return strcmp(entry, key) == 0;
	}
}
