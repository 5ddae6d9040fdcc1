/*
 * mta_route.c -- what the MTA needs to know before it connects: relay
 * URLs (smtpd.conf `relay host`), numeric addresses, and the backup-MX
 * rule (MTA-03).
 *
 * Pure functions on caller memory, used by dispatcher_mta.c and the
 * unit tests.  The configuration parser has checked URLs already
 * (conf_parse_action.c); this reads them again, strictly, and never
 * trusts a length.  It must never resolve a name: DNS is lookup's.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mta.h"

#define MTA_URL_ERR(...)	do { snprintf(err, errsz, __VA_ARGS__); \
	return -1; } while (0)

int
mta_url_parse(const char *url, struct mta_url *u, char *err, size_t errsz)
{
	static const char *const schemes[] = { "smtp", "smtp+tls",
	    "smtp+notls", "smtps", "lmtp" };
	const char	*s = url, *sep, *at, *end;
	char		*ep;
	size_t		 i, n;
	long		 port;
	struct sockaddr_storage	ss;
	socklen_t	 sslen;

	memset(u, 0, sizeof *u);
	u->scheme = MTA_SCHEME_SMTP;
	if ((sep = strstr(s, "://")) != NULL) {
		n = (size_t)(sep - s);
		for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
			if (strlen(schemes[i]) == n &&
			    strncmp(schemes[i], s, n) == 0)
				break;
		if (i == sizeof schemes / sizeof schemes[0])
			MTA_URL_ERR("relay URL %s: unknown scheme", url);
		u->scheme = (enum mta_scheme)i;
		s = sep + 3;
	}
	if ((at = strchr(s, '@')) != NULL) {
		n = (size_t)(at - s);
		if (n == 0 || n >= sizeof u->label)
			MTA_URL_ERR("relay URL %s: bad label", url);
		memcpy(u->label, s, n);
		s = at + 1;
	}
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			MTA_URL_ERR("relay URL %s: no ]", url);
		n = (size_t)(end - s - 1);
		s++;
		u->literal = 1;
	} else {
		end = s + strcspn(s, ":");
		n = (size_t)(end - s);
	}
	if (n == 0 || n >= sizeof u->host)
		MTA_URL_ERR("relay URL %s: bad host", url);
	memcpy(u->host, s, n);
	u->host[n] = '\0';
	if (*end == ']')
		end++;
	if (*end == ':') {
		port = strtol(end + 1, &ep, 10);
		if (end[1] < '0' || end[1] > '9' || *ep != '\0' || port < 1 ||
		    port > 65535)
			MTA_URL_ERR("relay URL %s: bad port", url);
		u->port = (int)port;
	} else if (*end != '\0')
		MTA_URL_ERR("relay URL %s: junk after the host", url);
	if (mta_addr_parse(u->host, 25, &ss, &sslen) == 0)
		u->literal = 1;
	else if (u->literal)
		MTA_URL_ERR("relay URL %s: [%s] is not an address", url,
		    u->host);
	if (u->scheme == MTA_SCHEME_LMTP && u->port == 0)
		MTA_URL_ERR("relay URL %s: lmtp:// needs a port", url);
	return 0;
}

int
mta_url_port(const struct mta_url *u)
{
	if (u->port)
		return u->port;
	return u->scheme == MTA_SCHEME_SMTPS ? 465 : 25;
}

int
mta_addr_parse(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof *sin6;
		return 0;
	}
	return -1;
}

/* mta_mx_same - host names equal, a trailing dot aside */
static int
mta_mx_same(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

size_t
mta_mx_backup(struct mta_mx *mx, size_t n, const char *ourname)
{
	size_t		i, kept = 0;
	uint32_t	ours = UINT32_MAX;
	int		found = 0;

	for (i = 0; i < n; i++)
		if (mta_mx_same(mx[i].host, ourname) && (!found ||
		    mx[i].preference < ours)) {
			ours = mx[i].preference;
			found = 1;
		}
	for (i = 0; i < n; i++)
		if (!found || mx[i].preference < ours)
			mx[kept++] = mx[i];
	return kept;
}
