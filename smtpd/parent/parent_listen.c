/*
 * parent_listen.c -- the listening sockets of `listen on` lines.
 *
 * The parent opens them at start-up, while it is root (ports below 1024),
 * before any child runs, and hands each to the dispatcher with the index
 * of its listener in the configuration (IMSG_DISPATCHER_ADD_LISTENER).
 * One line may give several sockets: an interface or a group has one per
 * address, a host name one per address it resolves to.  Anything that
 * cannot be bound is fatal here, at start (LSN-28): a server must not run
 * believing it listens where it does not.  The local enqueuer socket
 * (`listen on socket`) is not a network socket and is not opened here.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "parent.h"
#include "smtpd.h"
#include "xmalloc.h"

/* the kernel caps it at net.core.somaxconn (4096 by default): 5,000
 * clients connecting at once were left in SYN retries past 20 s with 512 */
#define PARENT_LISTEN_BACKLOG	4096
#define PARENT_LISTEN_MAX	256	/* sockets, all listeners told */

static struct parent_socket {
	uint32_t	listener;
	int		fd;
} parent_sockets[PARENT_LISTEN_MAX];
static size_t	parent_nsockets;

/* parent_listen_family_ok - does the listener's inet4/inet6 allow AF */
static int
parent_listen_family_ok(const struct conf_listener *l, int af)
{
	if (af != AF_INET && af != AF_INET6)
		return 0;
	return l->family == 0 || (l->family == 4 && af == AF_INET) ||
	    (l->family == 6 && af == AF_INET6);
}

/* parent_listen_port - the port a listener binds */
static int
parent_listen_port(const struct conf_listener *l)
{
	if (l->port != 0)
		return l->port;
	return l->tls == CONF_TLS_SMTPS ? 465 : 25;
}

/* parent_listen_bind - one listening socket on SA; fatal on failure */
static void
parent_listen_bind(uint32_t index, const struct conf_listener *l,
    const struct sockaddr *sa, socklen_t salen)
{
	char	host[NI_MAXHOST];
	int	fd, on = 1;
	size_t	i;

	if (getnameinfo(sa, salen, host, sizeof host, NULL, 0,
	    NI_NUMERICHOST) != 0)
		strlcpy(host, "?", sizeof host);
	/* the same address twice (an alias, a repeated line) binds once */
	for (i = 0; i < parent_nsockets; i++) {
		struct sockaddr_storage	ss;
		socklen_t		len = sizeof ss;

		if (getsockname(parent_sockets[i].fd, (struct sockaddr *)&ss,
		    &len) == 0 && len == salen && memcmp(&ss, sa, len) == 0)
			fatalx("listen on %s port %d: already listening there",
			    host, parent_listen_port(l));
	}
	if (parent_nsockets == PARENT_LISTEN_MAX)
		fatalx("listen on %s: more than %d sockets", l->on,
		    PARENT_LISTEN_MAX);
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("listen on %s: socket", host);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1)
		fatal("listen on %s: SO_REUSEADDR", host);
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof on) == -1)
		fatal("listen on %s: IPV6_V6ONLY", host);
	if (bind(fd, sa, salen) == -1)
		fatal("listen on %s port %d: bind", host,
		    parent_listen_port(l));
	if (listen(fd, PARENT_LISTEN_BACKLOG) == -1)
		fatal("listen on %s port %d: listen", host,
		    parent_listen_port(l));
	parent_sockets[parent_nsockets].listener = index;
	parent_sockets[parent_nsockets].fd = fd;
	parent_nsockets++;
	log_debug("parent: listening on %s port %d (listener %u)", host,
	    parent_listen_port(l), index);
}

/* parent_listen_sa - bind SA with the listener's port, if its family fits */
static int
parent_listen_sa(uint32_t index, const struct conf_listener *l,
    const struct sockaddr *sa)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	if (sa == NULL || !parent_listen_family_ok(l, sa->sa_family))
		return 0;
	memset(&ss, 0, sizeof ss);
	if (sa->sa_family == AF_INET) {
		len = sizeof(struct sockaddr_in);
		memcpy(&ss, sa, len);
		((struct sockaddr_in *)&ss)->sin_port =
		    htons((uint16_t)parent_listen_port(l));
	} else {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

		len = sizeof(struct sockaddr_in6);
		memcpy(&ss, sa, len);
		s6->sin6_port = htons((uint16_t)parent_listen_port(l));
		/* a link-local address needs its scope; others none */
		if (!IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			s6->sin6_scope_id = 0;
	}
	parent_listen_bind(index, l, (struct sockaddr *)&ss, len);
	return 1;
}

/* parent_listen_iface - every address of the interfaces selected */
static int
parent_listen_iface(uint32_t index, const struct conf_listener *l)
{
	struct ifaddrs	*ifap, *ifa;
	int		 n = 0, loopback_only, all;

	all = l->kind == CONF_LISTEN_GROUP && strcmp(l->on, "all") == 0;
	loopback_only = l->kind == CONF_LISTEN_GROUP &&
	    (strcmp(l->on, "localhost") == 0 || strcmp(l->on, "lo0") == 0);
	if (getifaddrs(&ifap) == -1)
		fatal("listen on %s: getifaddrs", l->on);
	for (ifa = ifap; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP))
			continue;
		if (loopback_only && !(ifa->ifa_flags & IFF_LOOPBACK))
			continue;
		if (l->kind == CONF_LISTEN_IFACE &&
		    strcmp(ifa->ifa_name, l->on) != 0)
			continue;
		if (l->kind == CONF_LISTEN_GROUP && !all && !loopback_only)
			continue;	/* egress: not on this system */
		n += parent_listen_sa(index, l, ifa->ifa_addr);
	}
	freeifaddrs(ifap);
	return n;
}

/* parent_listen_host - an address literal or a host name (start-up only:
 * the one place the parent may wait for the resolver) */
static int
parent_listen_host(uint32_t index, const struct conf_listener *l)
{
	struct addrinfo	 hints, *res, *ai;
	int		 e, n = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = l->family == 4 ? AF_INET : l->family == 6 ?
	    AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = l->kind == CONF_LISTEN_ADDRESS ? AI_NUMERICHOST : 0;
	if ((e = getaddrinfo(l->on, NULL, &hints, &res)) != 0)
		fatalx("listen on %s: %s", l->on, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n += parent_listen_sa(index, l, ai->ai_addr);
	freeaddrinfo(res);
	return n;
}

void
parent_listen_open(void)
{
	const struct conf_listener	*l;
	size_t				 i;
	int				 n;

	for (i = 0; i < env->conf->nlisteners; i++) {
		l = env->conf->listeners[i];
		switch (l->kind) {
		case CONF_LISTEN_SOCKET:
			continue;	/* the local enqueuer socket */
		case CONF_LISTEN_ADDRESS:
		case CONF_LISTEN_HOST:
			n = parent_listen_host((uint32_t)i, l);
			break;
		default:
			n = parent_listen_iface((uint32_t)i, l);
			break;
		}
		if (n == 0)
			fatalx("listen on %s: invalid virtual ip or interface "
			    "(no address to listen on)", l->on);
	}
}

void
parent_listen_send(struct mproc *dispatcher)
{
	size_t	i;

	for (i = 0; i < parent_nsockets; i++)
		msg_send_dispatcher_add_listener(dispatcher,
		    &(struct msg_dispatcher_add_listener){
			.listener = parent_sockets[i].listener,
			.fd = parent_sockets[i].fd });
	parent_nsockets = 0;	/* the dispatcher owns them now */
}
