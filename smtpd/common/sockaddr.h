/*
 * sockaddr.h -- comparisons of socket addresses.
 */
#ifndef SMTPD_SOCKADDR_H
#define SMTPD_SOCKADDR_H

#include <sys/socket.h>

/* sockaddr_same_host - A and B are the same IPv4 or IPv6 address, ports
 * aside (0 for other families: AF_UNIX peers are never "the same") */
int	sockaddr_same_host(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);

#endif
