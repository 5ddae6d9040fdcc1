/*
 * smtp_server.c -- the SMTP library's server: listening sockets,
 * accept, pause/resume, the per-address session limit, and the
 * release of everything at the end.
 *
 * Runs in the dispatcher process (and in any host of smtp.h, such as
 * the regress harness), on the host's libevent loop.  It never blocks:
 * accept is nonblocking and bounded per event; when descriptors run
 * out (EMFILE/ENFILE) the listener rests for a second instead of
 * spinning.  What it must never do: read a program global, exit, or
 * free a session that has a hook pending (except in smtp_server_free).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "smtp_int.h"
#include "sockaddr.h"

#define SMTP_ACCEPT_BURST	64	/* accepts per listener event */

/* smtp_server_new - a server on BASE with the host's HOOKS */
struct smtp_server *
smtp_server_new(struct event_base *base, const struct smtp_hooks *hooks,
    void *arg)
{
	struct smtp_server	*srv;

	if ((srv = calloc(1, sizeof *srv)) == NULL)
		return NULL;
	srv->base = base;
	srv->hooks = *hooks;
	srv->arg = arg;
	TAILQ_INIT(&srv->listeners);
	TAILQ_INIT(&srv->sessions);
	TAILQ_INIT(&srv->corked);
	/* NULL (out of memory): replies go the bufferevent's way */
	srv->flush = event_new(base, -1, 0, smtp_server_on_flush, srv);
	/* ids differ between runs and never repeat within one */
	srv->next_id = ((uint64_t)arc4random() << 32) | 1;
	return srv;
}

/* smtp_server_over_limit - the client already has its share */
static int
smtp_server_over_limit(struct smtp_listen *l,
    const struct sockaddr_storage *ss)
{
	struct smtp_session	*s;
	unsigned int		 n = 0;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return 0;
	TAILQ_FOREACH(s, &l->srv->sessions, entry)
		if (!s->closing && !s->gone &&
		    sockaddr_same_host(&s->ss, ss) &&
		    ++n >= l->limits.sessions_per_addr)
			return 1;
	return 0;
}

/* smtp_server_on_retry - descriptors may be free again: listen */
static void
smtp_server_on_retry(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_listen	*l = arg;

	if (!l->srv->paused)
		event_add(l->ev, NULL);
}

/* smtp_server_on_accept - accept what is waiting, bounded */
static void
smtp_server_on_accept(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_listen	*l = arg;
	struct sockaddr_storage	 ss;
	struct timeval		 tv = { 1, 0 };
	socklen_t		 len;
	int			 i, c;

	for (i = 0; i < SMTP_ACCEPT_BURST; i++) {
		len = sizeof ss;
		memset(&ss, 0, sizeof ss);
		c = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("smtp: accept");
				event_del(l->ev);
				evtimer_add(l->retry, &tv);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("smtp: accept");
			return;
		}
		if (len == 0 || ss.ss_family == AF_UNSPEC)
			ss.ss_family = AF_UNIX;
		/* replies are already batched per read of pipelined
		 * commands: Nagle would hold the next one back for the
		 * client's delayed ACK (40 ms a message, measured) */
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
			(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
			    &(int){ 1 }, sizeof(int));
		(void)smtp_session_start(l, c, &ss,
		    smtp_server_over_limit(l, &ss));
	}
}

/* smtp_server_limits - the listener's limits, 0 made the default */
static void
smtp_server_limits(struct smtp_limits *d, const struct smtp_limits *s)
{
	*d = *s;
	if (d->line_max == 0)
		d->line_max = SMTP_LINE_MAX_DEFAULT;
	if (d->line_max > SMTP_LINE_MAX_CEILING)
		d->line_max = SMTP_LINE_MAX_CEILING;
	if (d->rcpt_max == 0)
		d->rcpt_max = SMTP_RCPT_MAX_DEFAULT;
	if (d->mails_max == 0)
		d->mails_max = SMTP_MAILS_MAX_DEFAULT;
	if (d->message_max <= 0)
		d->message_max = SMTP_MESSAGE_MAX_DEFAULT;
	if (d->errors_max == 0)
		d->errors_max = SMTP_ERRORS_MAX_DEFAULT;
	if (d->timeout_ms == 0)
		d->timeout_ms = SMTP_TIMEOUT_MS_DEFAULT;
	if (d->sessions_per_addr == 0)
		d->sessions_per_addr = SMTP_SESSIONS_PER_ADDR_DEFAULT;
}

/* smtp_server_copy - a listener string into its buffer; -1 too long */
static int
smtp_server_copy(char *dst, size_t dstsz, const char *src, const char *def)
{
	if (src == NULL)
		src = def;
	if (strlen(src) >= dstsz)
		return -1;
	smtp_sanitize(dst, dstsz, src, dstsz);
	return 0;
}

/* smtp_server_listen_new - a listener as CONF describes it, on FD (-1:
 * none, sessions are handed in); NULL with errno EINVAL when refused */
static struct smtp_listen *
smtp_server_listen_new(struct smtp_server *srv, int fd,
    const struct smtp_listener *conf)
{
	struct smtp_listen	*l;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->srv = srv;
	l->fd = fd;
	l->conf = conf;
	if (conf->hostname == NULL || smtp_server_copy(l->hostname,
	    sizeof l->hostname, conf->hostname, "") == -1 ||
	    l->hostname[0] == '\0' ||
	    smtp_server_copy(l->tag, sizeof l->tag, conf->tag, "") == -1 ||
	    smtp_server_copy(l->product, sizeof l->product, conf->product,
	    SMTP_PRODUCT_DEFAULT) == -1) {
		free(l);
		errno = EINVAL;
		return NULL;
	}
	l->local = conf->local;
	l->mask_src = conf->mask_src;
	l->no_dsn = conf->no_dsn;
	l->complete_headers = conf->complete_headers;
	l->auth = conf->auth;
	l->received_auth = conf->received_auth;
	l->masquerade = conf->masquerade;
	l->tls_mode = conf->tls != NULL ? conf->tls_mode : SMTP_TLS_NONE;
	l->tls_verify = conf->tls_verify;
	l->tls = conf->tls;
	smtp_server_limits(&l->limits, &conf->limits);
	return l;
}

/*
 * smtp_server_session - serve one session on FD, a socket already
 * connected (the local enqueuer's socketpair), as listener CONF.  The
 * listener is made at the first call for CONF and kept (found again by
 * the pointer); it listens on nothing.  The session is as an accepted
 * one: greeting, limits, hooks; CLIENT is its address (AF_UNIX: "local").
 * The server owns FD from then on, even when 0 is returned (EINVAL:
 * a listener smtp_server_listen would refuse; ENOMEM).
 */
uint64_t
smtp_server_session(struct smtp_server *srv, int fd,
    const struct smtp_listener *conf, const struct sockaddr_storage *client)
{
	struct smtp_listen	*l;

	TAILQ_FOREACH(l, &srv->listeners, entry)
		if (l->fd == -1 && l->conf == conf)
			break;
	if (l == NULL) {
		if ((l = smtp_server_listen_new(srv, -1, conf)) == NULL) {
			close(fd);
			return 0;
		}
		TAILQ_INSERT_TAIL(&srv->listeners, l, entry);
	}
	return smtp_session_start(l, fd, client, 0);
}

/* smtp_server_listen - accept sessions on FD as listener CONF */
int
smtp_server_listen(struct smtp_server *srv, int fd,
    const struct smtp_listener *conf)
{
	struct smtp_listen	*l;

	if ((l = smtp_server_listen_new(srv, fd, conf)) == NULL)
		return -1;
	l->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST,
	    smtp_server_on_accept, l);
	l->retry = evtimer_new(srv->base, smtp_server_on_retry, l);
	if (l->ev == NULL || l->retry == NULL ||
	    (!srv->paused && event_add(l->ev, NULL) == -1)) {
		if (l->ev)
			event_free(l->ev);
		if (l->retry)
			event_free(l->retry);
		free(l);
		return -1;
	}
	TAILQ_INSERT_TAIL(&srv->listeners, l, entry);
	return 0;
}

/* smtp_server_pause - stop accepting; sessions go on */
void
smtp_server_pause(struct smtp_server *srv)
{
	struct smtp_listen	*l;

	srv->paused = 1;
	TAILQ_FOREACH(l, &srv->listeners, entry) {
		if (l->fd == -1)
			continue;	/* sessions handed in: no accept */
		event_del(l->ev);
		evtimer_del(l->retry);
	}
}

/* smtp_server_resume - accept again */
void
smtp_server_resume(struct smtp_server *srv)
{
	struct smtp_listen	*l;

	srv->paused = 0;
	TAILQ_FOREACH(l, &srv->listeners, entry)
		if (l->fd != -1)
			event_add(l->ev, NULL);
}

/* smtp_server_sessions - sessions alive, those closing included */
size_t
smtp_server_sessions(const struct smtp_server *srv)
{
	return srv->nsessions;
}

/* smtp_server_listener_sessions - sessions of one listener, alive */
size_t
smtp_server_listener_sessions(const struct smtp_server *srv,
    const struct smtp_listener *conf)
{
	const struct smtp_session	*s;
	size_t				 n = 0;

	TAILQ_FOREACH(s, &srv->sessions, entry)
		n += s->l->conf == conf && !s->gone;
	return n;
}

/* smtp_server_free - every session ended, every listener closed */
void
smtp_server_free(struct smtp_server **srvp)
{
	struct smtp_server	*srv = *srvp;
	struct smtp_listen	*l;
	struct smtp_session	*s;

	if (srv == NULL)
		return;
	while ((s = TAILQ_FIRST(&srv->sessions)) != NULL) {
		s->pending = SMTP_HOOK_NONE;
		smtp_session_free(s);
	}
	while ((l = TAILQ_FIRST(&srv->listeners)) != NULL) {
		TAILQ_REMOVE(&srv->listeners, l, entry);
		if (l->fd != -1) {
			event_free(l->ev);
			event_free(l->retry);
			close(l->fd);
		}
		free(l);
	}
	if (srv->flush != NULL)
		event_free(srv->flush);
	free(srv);
	*srvp = NULL;
}
