/*
 * servername.c -- the name this server gives itself (CONF-13): the first
 * line of /etc/mail/mailname when that file exists and holds a host name,
 * else the host's name, canonicalised through the resolver (getaddrinfo
 * with AI_CANONNAME: /etc/hosts first on a usual system).  Start-up only,
 * in the parent (and smtpd -n); never fatal: with nothing better it
 * answers "localhost".
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtpd.h"

/* servername_valid - letters, digits, '-', '.', '_'; not empty */
static int
servername_valid(const char *name)
{
	const unsigned char	*p = (const unsigned char *)name;

	if (*p == '\0' || strlen(name) > SMTPD_NAME_MAX)
		return 0;
	for (; *p; p++)
		if (!isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
			return 0;
	return 1;
}

/* servername_from_file - the first line of PATH, if a host name */
static int
servername_from_file(const char *path, char *buf, size_t size)
{
	FILE	*fp;
	char	 line[SMTPD_NAME_MAX + 2];
	int	 ok = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof line, fp) != NULL) {
		/* the whole line, less its end: "a b" is no host name */
		line[strcspn(line, "\r\n")] = '\0';
		while (line[0] && (line[strlen(line) - 1] == ' ' ||
		    line[strlen(line) - 1] == '\t'))
			line[strlen(line) - 1] = '\0';
		if (servername_valid(line) && strlen(line) < size) {
			strlcpy(buf, line, size);
			ok = 1;
		}
	}
	fclose(fp);
	return ok;
}

int
smtpd_server_name(const char *mailname, char *buf, size_t size)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[SMTPD_NAME_MAX + 1];

	if (mailname != NULL && servername_from_file(mailname, buf, size))
		return 0;
	if (gethostname(host, sizeof host) == -1 ||
	    memchr(host, '\0', sizeof host) == NULL || !servername_valid(host))
		strlcpy(host, "localhost", sizeof host);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && servername_valid(res->ai_canonname))
		strlcpy(host, res->ai_canonname, sizeof host);
	if (res != NULL)
		freeaddrinfo(res);
	if (strlcpy(buf, host, size) >= size)
		return -1;
	return 0;
}
