/*
 * mta_session.c -- one SMTP (or LMTP) client session: connect, read
 * the greeting, EHLO with a HELO fallback, then transactions (MAIL,
 * RCPT..., DATA, the body, the end of data) one after the other,
 * pipelined when the peer offers PIPELINING, until QUIT.  TLS: STARTTLS
 * after EHLO (RFC 3207; EHLO again once secured) or from the first
 * byte (smtps), through tls_io.h; a refused STARTTLS or a failed
 * handshake ends the session (the host reconnects in clear when TLS
 * was only opportunistic, mta_session_tls_fallback).  AUTH PLAIN (RFC
 * 4616), else LOGIN, after TLS only; a refusal ends the session with a
 * temporary failure, as OpenSMTPD fails the route.
 *
 * Library code (mta.h) on the host's libevent loop; the dispatcher runs
 * hundreds at once.  The socket I/O is all in the mta_io_* and
 * mta_tls_* functions.  Every entry point (read, write, event, a
 * host call) ends in mta_session_settle, the only place a session is
 * freed.  What it must never do: block (the body is a local spool file
 * read with pread() in chunks), send a byte the peer did not ask for
 * (a line break inside a command, a lone LF or CR in the body), or let
 * a reply's raw bytes out (mta_reply.c makes them safe), run a byte
 * read in clear before STARTTLS after it, send or log credentials
 * outside TLS (they are wiped when the session is freed).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <tls.h>

#include "api_util.h"
#include "imsg.h"
#include "log.h"
#include "mta.h"
#include "tls_io.h"

#define MTA_CMD_MAX		2048	/* one command line, CRLF included */
#define MTA_BODY_CHUNK		65536	/* body bytes read at once */
#define MTA_BODY_HIWAT		(4 * MTA_BODY_CHUNK)	/* output kept */

enum mta_state {
	MTA_S_CONNECT,		/* waiting for the TCP connection */
	MTA_S_BANNER,
	MTA_S_EHLO,		/* EHLO or LHLO sent */
	MTA_S_HELO,
	MTA_S_STARTTLS,		/* STARTTLS sent */
	MTA_S_TLS,		/* the handshake */
	MTA_S_AUTH_PLAIN,	/* AUTH PLAIN with its response sent */
	MTA_S_AUTH_LOGIN,	/* AUTH LOGIN sent */
	MTA_S_AUTH_USER,	/* the user name sent */
	MTA_S_AUTH_PASS,	/* the password sent */
	MTA_S_READY,		/* idle, between transactions */
	MTA_S_TX,		/* MAIL, RCPT, DATA replies */
	MTA_S_BODY,		/* the body is being sent */
	MTA_S_EOD,		/* waiting for the end-of-data reply(ies) */
	MTA_S_DISCARD,		/* "." sent after a 354 without recipients */
	MTA_S_RSET,
	MTA_S_QUIT,
	MTA_S_DEAD
};

struct mta_session {
	struct mta_session_params params;
	char			 helo[256];
	char			 peer[256];
	char			 addr[INET6_ADDRSTRLEN + 8];
	char			 local[INET6_ADDRSTRLEN + 8];
	const struct mta_hooks	*hooks;
	void			*arg;
	struct bufferevent	*bev;	/* the socket's, or tls_io's */
	struct tls_io		*tls_io;
	int			 tls_fallback;
	char			 servername[256];
	char			 auth_user[MTA_AUTH_FIELD_MAX];
	char			 auth_pass[MTA_AUTH_FIELD_MAX];
	unsigned int		 auth_mechs;	/* MTA_AUTH_* offered */
	int			 authed;
	struct timeval		 tv;
	enum mta_state		 state;
	unsigned int		 ext;
	uint64_t		 max_size;
	struct mta_reply	 reply;
	/* the transaction: replies are numbered 0 MAIL, 1..n RCPT,
	 * n + 1 DATA */
	struct mta_tx		*tx;
	size_t			 sent, answered, accepted, lmtp_next;
	int			 mail_failed;
	off_t			 body_off;
	int			 body_bol;
	int			 busy;		/* inside an entry point */
	int			 dead;		/* free when no longer busy */
};

static void	mta_session_reply(struct mta_session *);
static void	mta_session_identified(struct mta_session *);
static void	mta_session_fail(struct mta_session *, int status,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void	mta_tx_next(struct mta_session *);
static void	mta_session_addr_format(char *, size_t,
		    const struct sockaddr *);

/* ---- socket I/O: the one place that touches the connection ---- */

/* mta_io_vcommand - one command line; a line break inside is refused;
 * TRACED is what the trace shows (NULL: the line itself) */
static int
mta_io_vcommand(struct mta_session *s, const char *traced, const char *fmt,
    va_list ap)
{
	char	buf[MTA_CMD_MAX];
	int	n;

	n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof buf - 2 ||
	    strpbrk(buf, "\r\n") != NULL) {
		explicit_bzero(buf, sizeof buf);
		mta_session_fail(s, DELIVERY_TEMPFAIL,
		    "refusing to send a malformed command");
		return -1;
	}
	log_trace(TRACE_SMTP, "%016llx mta out: %s",
	    (unsigned long long)s->params.id, traced ? traced : buf);
	buf[n++] = '\r';
	buf[n++] = '\n';
	n = bufferevent_write(s->bev, buf, (size_t)n);
	explicit_bzero(buf, sizeof buf);
	if (n == -1) {
		mta_session_fail(s, DELIVERY_TEMPFAIL, "cannot queue output");
		return -1;
	}
	return 0;
}

/* mta_io_command - one command line */
static int __attribute__((format(printf, 2, 3)))
mta_io_command(struct mta_session *s, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = mta_io_vcommand(s, NULL, fmt, ap);
	va_end(ap);
	return r;
}

/* mta_io_secret - a command carrying credentials: traced as TRACED */
static int __attribute__((format(printf, 3, 4)))
mta_io_secret(struct mta_session *s, const char *traced, const char *fmt,
    ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = mta_io_vcommand(s, traced, fmt, ap);
	va_end(ap);
	return r;
}

/* mta_io_readline - the next input line without its line end into BUF:
 * its length, -1 when no whole line is there, -2 when a line is longer
 * than MTA_REPLY_LINE_MAX */
static ssize_t
mta_io_readline(struct mta_session *s, char *buf, size_t bufsz)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr	 p;
	size_t			 len;

	p = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (p.pos == -1)
		return evbuffer_get_length(in) >= MTA_REPLY_LINE_MAX ? -2 : -1;
	len = (size_t)p.pos;
	if (len + 1 > MTA_REPLY_LINE_MAX || len >= bufsz)
		return -2;
	evbuffer_remove(in, buf, len);
	evbuffer_drain(in, 1);
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return (ssize_t)len;
}

/* mta_io_local - our end of the connection, for logs */
static void
mta_io_local(struct mta_session *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (getsockname(bufferevent_getfd(s->bev), (struct sockaddr *)&ss,
	    &len) == 0 && (ss.ss_family == AF_INET ||
	    ss.ss_family == AF_INET6))
		mta_session_addr_format(s->local, sizeof s->local,
		    (struct sockaddr *)&ss);
}

/* mta_io_pending - bytes not yet handed to the kernel */
static size_t
mta_io_pending(struct mta_session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

/* mta_io_body - one chunk of the body, CRLF and dot-stuffed; 1 at the
 * end of the file, 0, or -1 on a read error */
static int
mta_io_body(struct mta_session *s)
{
	char	in[MTA_BODY_CHUNK], *out, *o;
	ssize_t	n, i;

	do
		n = pread(s->tx->fd, in, sizeof in, s->body_off);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n == 0) {
		if (!s->body_bol)
			bufferevent_write(s->bev, "\r\n", 2);
		bufferevent_write(s->bev, ".\r\n", 3);
		return 1;
	}
	s->body_off += n;
	if ((o = out = malloc(2 * (size_t)n)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (in[i] == '\r')
			continue;	/* the file has LF ends: no CR */
		if (in[i] == '\n') {
			*o++ = '\r';
			*o++ = '\n';
			s->body_bol = 1;
			continue;
		}
		if (s->body_bol && in[i] == '.')
			*o++ = '.';
		*o++ = in[i];
		s->body_bol = 0;
	}
	if (bufferevent_write(s->bev, out, (size_t)(o - out)) == -1) {
		free(out);
		return -1;
	}
	free(out);
	return 0;
}

/* ---- the session ---- */

/* mta_session_destroy - the connection and S; credentials wiped */
static void
mta_session_destroy(struct mta_session *s)
{
	if (s->tls_io != NULL)
		tls_io_free(&s->tls_io);	/* s->bev was its */
	else if (s->bev != NULL)
		bufferevent_free(s->bev);
	explicit_bzero(s, sizeof *s);
	free(s);
}

/* mta_session_settle - end of an entry point: free a dead session */
static void
mta_session_settle(struct mta_session *s)
{
	if (--s->busy > 0 || !s->dead)
		return;
	mta_session_destroy(s);
}

/* mta_tx_settle - every recipient not final gets STATUS and TEXT */
static void
mta_tx_settle(struct mta_session *s, int status, const char *text)
{
	size_t	i;

	for (i = 0; s->tx != NULL && i < s->tx->nrcpts; i++) {
		if (s->tx->rcpts[i].final)
			continue;
		s->tx->rcpts[i].status = status;
		s->tx->rcpts[i].final = 1;
		strlcpy(s->tx->rcpts[i].reply, text,
		    sizeof s->tx->rcpts[i].reply);
	}
}

/* mta_tx_done - the transaction is over: tell the host */
static void
mta_tx_done(struct mta_session *s)
{
	struct mta_tx	*tx = s->tx;

	s->tx = NULL;
	s->state = MTA_S_READY;
	bufferevent_set_timeouts(s->bev, NULL, &s->tv);
	s->hooks->tx_done(s->arg, s, tx);
}

/* mta_session_fail - the session is over: what is in flight gets
 * STATUS (a temporary failure unless the peer said otherwise) */
static void
mta_session_fail(struct mta_session *s, int status, const char *fmt, ...)
{
	char		 msg[MTA_REPLY_TEXT_MAX];
	struct mta_tx	*tx;
	va_list		 ap;

	if (s->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->dead = 1;
	s->state = MTA_S_DEAD;
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	if ((tx = s->tx) != NULL) {
		mta_tx_settle(s, status == DELIVERY_OK ? DELIVERY_TEMPFAIL :
		    status, msg);
		s->tx = NULL;
		s->hooks->tx_done(s->arg, s, tx);
	}
	s->hooks->closed(s->arg, s, status, msg);
}

/* mta_session_ehlo_line - one capability of the EHLO reply */
static void
mta_session_ehlo_line(struct mta_session *s, const char *line)
{
	char	*ep;
	unsigned long long	n;

	if (strcasecmp(line, "PIPELINING") == 0)
		s->ext |= MTA_EXT_PIPELINING;
	else if (strcasecmp(line, "DSN") == 0)
		s->ext |= MTA_EXT_DSN;
	else if (strcasecmp(line, "STARTTLS") == 0)
		s->ext |= MTA_EXT_STARTTLS;
	else if (strcasecmp(line, "8BITMIME") == 0)
		s->ext |= MTA_EXT_8BITMIME;
	else if (strcasecmp(line, "ENHANCEDSTATUSCODES") == 0)
		s->ext |= MTA_EXT_ENHANCED;
	else if (strncasecmp(line, "AUTH", 4) == 0)
		s->auth_mechs |= mta_reply_auth(line);
	else if (strncasecmp(line, "SIZE", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' ')) {
		s->ext |= MTA_EXT_SIZE;
		n = line[4] ? strtoull(line + 5, &ep, 10) : 0;
		if (line[4] && *ep == '\0' && line[5] >= '0' && line[5] <= '9')
			s->max_size = n;
	}
}

/* ---- TLS ---- */

static void	mta_session_on_read(struct bufferevent *, void *);
static void	mta_session_on_write(struct bufferevent *, void *);
static void	mta_session_on_event(struct bufferevent *, short, void *);
static void	mta_auth_start(struct mta_session *);

/* mta_tls_failed - STARTTLS or the handshake failed: the end, with a
 * way back to clear text when TLS was only opportunistic */
static void __attribute__((format(printf, 2, 3)))
mta_tls_failed(struct mta_session *s, const char *fmt, ...)
{
	char	msg[MTA_REPLY_TEXT_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->tls_fallback = s->params.tls == MTA_TLS_TRY;
	mta_session_fail(s, DELIVERY_TEMPFAIL, "%s", msg);
}

/* mta_tls_log - the session's TLS line (TLS-12) */
static void
mta_tls_log(struct mta_session *s)
{
	struct tls	*t = tls_io_conn(s->tls_io);
	const char	*hash = tls_peer_cert_provided(t) ?
			    tls_peer_cert_hash(t) : NULL;
	int		 verified = s->params.tls_verify;

	/* not required: whether it would have passed, all the same */
	if (!verified && hash != NULL && s->params.tls_check != NULL)
		verified = s->params.tls_check(s->params.tls_check_arg, t,
		    s->servername);
	log_event(s->params.id, "mta", "tls", "address=%s host=%s "
	    "ciphers=%s:%s:%d verified=%s servername=%s cert=%s",
	    s->addr, s->peer[0] ? s->peer : "-", tls_conn_version(t),
	    tls_conn_cipher(t), tls_conn_cipher_strength(t),
	    verified ? "yes" : "no",
	    s->servername[0] ? s->servername : "-",
	    hash != NULL ? hash : "none");
}

/* mta_tls_on_handshake - the handshake's outcome (tls_io.h) */
static void
mta_tls_on_handshake(void *arg, struct tls_io *io, int ok,
    const char *error)
{
	struct mta_session	*s = arg;

	s->busy++;
	if (!ok) {
		mta_tls_failed(s, "TLS handshake with %s failed: %s", s->addr,
		    error != NULL && *error ? error : "unknown error");
		mta_session_settle(s);
		return;
	}
	s->bev = tls_io_bufferevent(io);
	/* the body waits in our output (mta_io_pending), not all of it
	 * in the TLS layer's input: its end of the pair takes no more
	 * than MTA_BODY_HIWAT at a time */
	bufferevent_setwatermark(bufferevent_pair_get_partner(s->bev),
	    EV_READ, 0, MTA_BODY_HIWAT);
	bufferevent_setcb(s->bev, mta_session_on_read, mta_session_on_write,
	    mta_session_on_event, s);
	bufferevent_set_timeouts(s->bev, &s->tv, &s->tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	mta_tls_log(s);
	/* RFC 3207 4.2: what the peer said in clear is forgotten */
	s->ext = 0;
	s->auth_mechs = 0;
	s->max_size = 0;
	if (s->params.tls == MTA_TLS_SMTPS)
		s->state = MTA_S_BANNER;
	else {
		s->state = MTA_S_EHLO;
		mta_io_command(s, "%s %s", s->params.lmtp ? "LHLO" : "EHLO",
		    s->helo);
	}
	mta_session_settle(s);
}

/* mta_tls_start - the socket goes to a TLS client handshake */
static void
mta_tls_start(struct mta_session *s)
{
	struct tls	*ctx;
	int		 fd;

	if ((ctx = tls_client()) == NULL ||
	    tls_configure(ctx, s->params.tls_config) == -1) {
		mta_tls_failed(s, "cannot set up TLS: %s", ctx != NULL &&
		    tls_error(ctx) ? tls_error(ctx) : "out of memory");
		tls_free(ctx);
		return;
	}
	fd = bufferevent_getfd(s->bev);
	bufferevent_setfd(s->bev, -1);		/* not closed with it */
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = MTA_S_TLS;
	s->tls_io = tls_io_client(s->params.base, ctx, fd,
	    s->servername[0] ? s->servername : NULL,
	    (unsigned int)s->tv.tv_sec * 1000, mta_tls_on_handshake, s);
	if (s->tls_io == NULL)
		mta_tls_failed(s, "cannot set up TLS: out of memory");
}

/* mta_tls_reply - the reply to STARTTLS */
static void
mta_tls_reply(struct mta_session *s, int code)
{
	if (code != 220) {
		mta_tls_failed(s, "STARTTLS refused by %s: %s", s->addr,
		    s->reply.text);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
		/* bytes a man in the middle could have put there */
		mta_tls_failed(s, "%s sent data after its 220 to STARTTLS",
		    s->addr);
		return;
	}
	mta_tls_start(s);
}

/* mta_session_identified - EHLO (or HELO) accepted: STARTTLS, AUTH,
 * or ready for transactions */
static void
mta_session_identified(struct mta_session *s)
{
	if (s->tls_io == NULL && (s->params.tls == MTA_TLS_TRY ||
	    s->params.tls == MTA_TLS_STARTTLS)) {
		if (s->ext & MTA_EXT_STARTTLS) {
			s->state = MTA_S_STARTTLS;
			mta_io_command(s, "STARTTLS");
			return;
		}
		if (s->params.tls == MTA_TLS_STARTTLS) {
			mta_session_fail(s, DELIVERY_TEMPFAIL, "TLS required "
			    "but not supported by %s (no STARTTLS)", s->addr);
			return;
		}
	}
	if (s->auth_user[0] != '\0' && !s->authed) {
		mta_auth_start(s);
		return;
	}
	s->state = MTA_S_READY;
	bufferevent_set_timeouts(s->bev, NULL, &s->tv);
	s->hooks->ready(s->arg, s);
}

/* ---- AUTH (RFC 4954) ---- */

/* mta_auth_send - SECRET as base64 in a command after PREFIX */
static void
mta_auth_send(struct mta_session *s, const char *prefix,
    const unsigned char *secret, size_t len)
{
	char	b64[4 * (2 * MTA_AUTH_FIELD_MAX + 4) / 3 + 8];

	if (api_base64_encode(secret, len, b64, sizeof b64) == -1)
		mta_session_fail(s, DELIVERY_TEMPFAIL, "credentials too long");
	else
		mta_io_secret(s, "(credentials)", "%s%s", prefix, b64);
	explicit_bzero(b64, sizeof b64);
}

/* mta_auth_start - AUTH PLAIN when offered, else LOGIN; never in clear */
static void
mta_auth_start(struct mta_session *s)
{
	unsigned char	plain[2 * MTA_AUTH_FIELD_MAX + 2];
	size_t		u = strlen(s->auth_user), p = strlen(s->auth_pass);

	if (s->tls_io == NULL) {
		mta_session_fail(s, DELIVERY_TEMPFAIL, "refusing to "
		    "authenticate to %s without TLS", s->addr);
		return;
	}
	if (s->auth_mechs & MTA_AUTH_PLAIN) {
		plain[0] = '\0';
		memcpy(plain + 1, s->auth_user, u);
		plain[1 + u] = '\0';
		memcpy(plain + 2 + u, s->auth_pass, p);
		s->state = MTA_S_AUTH_PLAIN;
		mta_auth_send(s, "AUTH PLAIN ", plain, u + p + 2);
		explicit_bzero(plain, sizeof plain);
	} else if (s->auth_mechs & MTA_AUTH_LOGIN) {
		s->state = MTA_S_AUTH_LOGIN;
		mta_io_command(s, "AUTH LOGIN");
	} else
		mta_session_fail(s, DELIVERY_TEMPFAIL, "%s offers no AUTH "
		    "PLAIN or LOGIN", s->addr);
}

/* mta_auth_reply - a reply during AUTH: the next step, or the end */
static void
mta_auth_reply(struct mta_session *s, int code)
{
	char	q[MTA_AUTH_FIELD_MAX + 8];

	if (code == 235 && (s->state == MTA_S_AUTH_PLAIN ||
	    s->state == MTA_S_AUTH_PASS)) {
		s->authed = 1;
		log_event(s->params.id, "mta", "authenticated", "address=%s "
		    "user=%s", s->addr, log_quote(q, sizeof q, s->auth_user));
		mta_session_identified(s);
	} else if (code == 334 && s->state == MTA_S_AUTH_LOGIN) {
		s->state = MTA_S_AUTH_USER;
		mta_auth_send(s, "", (unsigned char *)s->auth_user,
		    strlen(s->auth_user));
	} else if (code == 334 && s->state == MTA_S_AUTH_USER) {
		s->state = MTA_S_AUTH_PASS;
		mta_auth_send(s, "", (unsigned char *)s->auth_pass,
		    strlen(s->auth_pass));
	} else {
		if (code == 334)	/* an unexpected challenge: cancel */
			bufferevent_write(s->bev, "*\r\n", 3);
		mta_session_fail(s, DELIVERY_TEMPFAIL, "AUTH rejected by %s: "
		    "%s", s->addr, s->reply.text);
	}
}

/* mta_session_hello - the greeting or HELO/EHLO reply is complete */
static void
mta_session_hello(struct mta_session *s, int code)
{
	const char	*verb = s->params.lmtp ? "LHLO" : "EHLO";

	if (s->state == MTA_S_BANNER) {
		if (code != 220) {
			mta_session_fail(s, mta_reply_status(code),
			    "greeting: %s", s->reply.text);
			return;
		}
		s->state = MTA_S_EHLO;
		mta_io_command(s, "%s %s", verb, s->helo);
		return;
	}
	if (code / 100 == 2) {
		mta_session_identified(s);
		return;
	}
	if (s->state == MTA_S_EHLO && !s->params.lmtp && code != 421) {
		log_debug("%016llx mta ehlo refused, trying HELO: %s",
		    (unsigned long long)s->params.id, s->reply.text);
		s->ext = 0;
		s->auth_mechs = 0;
		s->max_size = 0;
		s->state = MTA_S_HELO;
		mta_io_command(s, "HELO %s", s->helo);
		return;
	}
	mta_session_fail(s, mta_reply_status(code), "%s: %s",
	    s->state == MTA_S_HELO ? "HELO" : verb, s->reply.text);
}

/* mta_tx_end_failed - no body goes: RSET, then the host hears */
static void
mta_tx_end_failed(struct mta_session *s)
{
	s->state = MTA_S_RSET;
	mta_io_command(s, "RSET");
}

/* mta_tx_reply - reply number ANSWERED of the transaction */
static void
mta_tx_reply(struct mta_session *s, int code)
{
	struct mta_tx	*tx = s->tx;
	size_t		 pos = s->answered++;
	int		 status = mta_reply_status(code);

	if (pos == 0) {
		if (status != DELIVERY_OK) {
			s->mail_failed = 1;
			mta_tx_settle(s, status, s->reply.text);
		}
	} else if (pos <= tx->nrcpts) {
		if (!s->mail_failed) {
			tx->rcpts[pos - 1].status = status;
			tx->rcpts[pos - 1].final = status != DELIVERY_OK;
			strlcpy(tx->rcpts[pos - 1].reply, s->reply.text,
			    sizeof tx->rcpts[pos - 1].reply);
			s->accepted += status == DELIVERY_OK;
		}
	} else if (code == 354) {
		if (s->accepted == 0 || s->mail_failed) {
			s->state = MTA_S_DISCARD;
			bufferevent_write(s->bev, ".\r\n", 3);
			return;
		}
		s->state = MTA_S_BODY;
		s->body_off = 0;
		s->body_bol = 1;
		bufferevent_setwatermark(s->bev, EV_WRITE,
		    MTA_BODY_HIWAT / 2, 0);
		bufferevent_trigger(s->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
		return;
	} else {
		mta_tx_settle(s, status == DELIVERY_OK ? DELIVERY_TEMPFAIL :
		    status, s->reply.text);
		mta_tx_end_failed(s);
		return;
	}
	if (code == 421) {
		mta_session_fail(s, DELIVERY_TEMPFAIL, "%s", s->reply.text);
		return;
	}
	mta_tx_next(s);
}

/* mta_tx_eod - the end-of-data reply (LMTP: one per accepted rcpt) */
static void
mta_tx_eod(struct mta_session *s, int code)
{
	struct mta_tx	*tx = s->tx;
	int		 status = mta_reply_status(code);

	if (!s->params.lmtp) {
		mta_tx_settle(s, status, s->reply.text);
		mta_tx_done(s);
		return;
	}
	while (s->lmtp_next < tx->nrcpts && tx->rcpts[s->lmtp_next].final)
		s->lmtp_next++;
	if (s->lmtp_next < tx->nrcpts) {
		tx->rcpts[s->lmtp_next].status = status;
		tx->rcpts[s->lmtp_next].final = 1;
		strlcpy(tx->rcpts[s->lmtp_next].reply, s->reply.text,
		    sizeof tx->rcpts[s->lmtp_next].reply);
	}
	while (s->lmtp_next < tx->nrcpts && tx->rcpts[s->lmtp_next].final)
		s->lmtp_next++;
	if (s->lmtp_next == tx->nrcpts)
		mta_tx_done(s);
}

/* mta_session_reply - a complete reply, in the session's state */
static void
mta_session_reply(struct mta_session *s)
{
	int	code = s->reply.code;

	log_trace(TRACE_SMTP, "%016llx mta in: %s",
	    (unsigned long long)s->params.id, s->reply.text);
	switch (s->state) {
	case MTA_S_BANNER:
	case MTA_S_EHLO:
	case MTA_S_HELO:
		mta_session_hello(s, code);
		break;
	case MTA_S_STARTTLS:
		mta_tls_reply(s, code);
		break;
	case MTA_S_AUTH_PLAIN:
	case MTA_S_AUTH_LOGIN:
	case MTA_S_AUTH_USER:
	case MTA_S_AUTH_PASS:
		mta_auth_reply(s, code);
		break;
	case MTA_S_TX:
		mta_tx_reply(s, code);
		break;
	case MTA_S_EOD:
		mta_tx_eod(s, code);
		break;
	case MTA_S_DISCARD:
	case MTA_S_RSET:
		if (code == 421)
			mta_session_fail(s, DELIVERY_TEMPFAIL, "%s",
			    s->reply.text);
		else
			mta_tx_done(s);
		break;
	case MTA_S_QUIT:
		mta_session_fail(s, DELIVERY_OK, "%s", "");
		break;
	default:
		mta_session_fail(s, DELIVERY_TEMPFAIL, "unexpected reply "
		    "from the peer: %s", s->reply.text);
		break;
	}
}

/* mta_tx_next - send what may be sent: everything at once with
 * PIPELINING, else one command per reply */
static void
mta_tx_next(struct mta_session *s)
{
	struct mta_tx	*tx = s->tx;
	size_t		 n = tx->nrcpts;
	int		 waiting;

	while (s->sent < n + 2 && !s->dead) {
		waiting = s->sent != s->answered;
		if (waiting && !(s->ext & MTA_EXT_PIPELINING))
			return;
		if (!waiting && s->sent > 0 && (s->mail_failed ||
		    (s->sent == n + 1 && s->accepted == 0))) {
			mta_tx_end_failed(s);
			return;
		}
		if (s->sent == 0)
			mta_io_command(s, "MAIL FROM:<%s>%s", tx->sender,
			    tx->params);
		else if (s->sent <= n)
			mta_io_command(s, "RCPT TO:<%s>%s",
			    tx->rcpts[s->sent - 1].addr,
			    tx->rcpts[s->sent - 1].params);
		else
			mta_io_command(s, "DATA");
		s->sent++;
	}
}

/* mta_session_on_read - replies arrived */
static void
mta_session_on_read(struct bufferevent *bev, void *arg)
{
	struct mta_session	*s = arg;
	char			 line[MTA_REPLY_LINE_MAX], err[128];
	ssize_t			 n;
	int			 r;

	s->busy++;
	while (!s->dead && s->bev == bev) {	/* STARTTLS replaces it */
		if ((n = mta_io_readline(s, line, sizeof line)) == -1)
			break;
		if (n == -2) {
			mta_session_fail(s, DELIVERY_TEMPFAIL, "bad reply from "
			    "the peer: line longer than %d bytes",
			    MTA_REPLY_LINE_MAX);
			break;
		}
		if (s->state == MTA_S_CONNECT || s->state == MTA_S_READY ||
		    s->state == MTA_S_BODY || s->state == MTA_S_TLS) {
			mta_reply_sanitize(err, sizeof err, line, (size_t)n);
			mta_session_fail(s, DELIVERY_TEMPFAIL, "unexpected "
			    "input from the peer: %s", err);
			break;
		}
		r = mta_reply_feed(&s->reply, line, (size_t)n, err,
		    sizeof err);
		if (r == MTA_REPLY_ERROR) {
			mta_session_fail(s, DELIVERY_TEMPFAIL, "bad reply from "
			    "the peer: %s", err);
			break;
		}
		if (s->state == MTA_S_EHLO && s->reply.nlines > 1)
			mta_session_ehlo_line(s, s->reply.line);
		if (r == MTA_REPLY_DONE) {
			mta_session_reply(s);
			mta_reply_init(&s->reply);
		}
	}
	mta_session_settle(s);
}

/* mta_session_on_write - output drained below the mark: more body */
static void
mta_session_on_write(struct bufferevent *bev, void *arg)
{
	struct mta_session	*s = arg;
	int			 r = 0;

	s->busy++;
	while (s->state == MTA_S_BODY && mta_io_pending(s) < MTA_BODY_HIWAT &&
	    (r = mta_io_body(s)) == 0)
		;
	if (s->state == MTA_S_BODY && r == 1) {
		s->state = MTA_S_EOD;
		bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	} else if (s->state == MTA_S_BODY && r == -1)
		mta_session_fail(s, DELIVERY_TEMPFAIL,
		    "cannot read the queued message");
	mta_session_settle(s);
}

/* mta_session_on_event - connected, EOF, error or timeout */
static void
mta_session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct mta_session	*s = arg;
	int			 e = EVUTIL_SOCKET_ERROR();

	s->busy++;
	if (what & BEV_EVENT_CONNECTED) {
		mta_io_local(s);
		if (s->params.tls == MTA_TLS_SMTPS)
			mta_tls_start(s);
		else {
			s->state = MTA_S_BANNER;
			bufferevent_enable(bev, EV_READ);
		}
	} else if (s->state == MTA_S_QUIT)
		mta_session_fail(s, DELIVERY_OK, "%s", "");
	else if (what & BEV_EVENT_TIMEOUT)
		mta_session_fail(s, DELIVERY_TEMPFAIL, "timeout %s the peer "
		    "after %lld s", s->state == MTA_S_CONNECT ? "connecting "
		    "to" : "waiting for", (long long)s->tv.tv_sec);
	else if (s->state == MTA_S_CONNECT)
		mta_session_fail(s, DELIVERY_TEMPFAIL, "cannot connect: %s",
		    strerror(e ? e : ECONNREFUSED));
	else if (what & BEV_EVENT_EOF)
		mta_session_fail(s, DELIVERY_TEMPFAIL, "connection closed "
		    "by the peer%s", evbuffer_get_length(
		    bufferevent_get_input(bev)) ? " in the middle of a reply" :
		    "");
	else if (s->tls_io != NULL && tls_io_error(s->tls_io) != NULL)
		/* the peer's TLS alert (TLS 1.3: a refused client
		 * certificate comes after our side of the handshake) */
		mta_session_fail(s, DELIVERY_TEMPFAIL, "TLS error: %s",
		    tls_io_error(s->tls_io));
	else
		mta_session_fail(s, DELIVERY_TEMPFAIL, "connection error: %s",
		    strerror(e ? e : EIO));
	mta_session_settle(s);
}

/* mta_session_addr_format - "addr:port" of SA into DST */
static void
mta_session_addr_format(char *dst, size_t dstsz, const struct sockaddr *sa)
{
	char		 a[INET6_ADDRSTRLEN];
	const void	*p;
	int		 port;

	if (sa->sa_family == AF_INET6) {
		p = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		p = &((const struct sockaddr_in *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	}
	if (inet_ntop(sa->sa_family, p, a, sizeof a) == NULL)
		strlcpy(a, "?", sizeof a);
	snprintf(dst, dstsz, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
	    a, port);
}

/* mta_io_open - a nonblocking socket to SS, bound to SRC */
static int
mta_io_open(struct mta_session *s, const struct sockaddr *ss,
    socklen_t sslen, const struct sockaddr *src, socklen_t srclen,
    char *err, size_t errsz)
{
	int	fd;

	if ((fd = socket(ss->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	/* commands are pipelined in one write, replies are waited for:
	 * no Nagle delay on the last small segment */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int));
	if (src != NULL && bind(fd, src, srclen) == -1) {
		snprintf(err, errsz, "cannot bind the source address: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	if ((s->bev = bufferevent_socket_new(s->params.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		snprintf(err, errsz, "out of memory");
		close(fd);
		return -1;
	}
	bufferevent_setcb(s->bev, mta_session_on_read, mta_session_on_write,
	    mta_session_on_event, s);
	bufferevent_set_timeouts(s->bev, &s->tv, &s->tv);
	if (bufferevent_socket_connect(s->bev, ss, (int)sslen) == -1) {
		snprintf(err, errsz, "cannot connect: %s", strerror(errno));
		bufferevent_free(s->bev);
		s->bev = NULL;
		return -1;
	}
	return 0;
}

struct mta_session *
mta_session_connect(const struct mta_session_params *params,
    const struct sockaddr *ss, socklen_t sslen, const struct sockaddr *src,
    socklen_t srclen, const struct mta_hooks *hooks, void *arg, char *err,
    size_t errsz)
{
	struct mta_session	*s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->params = *params;
	strlcpy(s->helo, params->helo, sizeof s->helo);
	strlcpy(s->peer, params->peer ? params->peer : "", sizeof s->peer);
	s->params.helo = s->helo;
	s->params.peer = s->peer;
	strlcpy(s->servername, params->servername ? params->servername : "",
	    sizeof s->servername);
	s->params.servername = s->servername;
	if (params->tls != MTA_TLS_NONE && params->tls_config == NULL)
		s->params.tls = MTA_TLS_NONE;
	if (params->auth_user != NULL && (strlcpy(s->auth_user,
	    params->auth_user, sizeof s->auth_user) >= sizeof s->auth_user ||
	    strlcpy(s->auth_pass, params->auth_pass ? params->auth_pass : "",
	    sizeof s->auth_pass) >= sizeof s->auth_pass)) {
		snprintf(err, errsz, "credentials too long");
		explicit_bzero(s, sizeof *s);
		free(s);
		return NULL;
	}
	s->params.auth_user = s->params.auth_pass = NULL;
	s->hooks = hooks;
	s->arg = arg;
	s->tv.tv_sec = params->timeout > 0 ? params->timeout :
	    MTA_DEFAULT_TIMEOUT;
	s->state = MTA_S_CONNECT;
	mta_reply_init(&s->reply);
	mta_session_addr_format(s->addr, sizeof s->addr, ss);
	if (mta_io_open(s, ss, sslen, src, srclen, err, errsz) == -1) {
		explicit_bzero(s, sizeof *s);
		free(s);
		return NULL;
	}
	return s;
}

void
mta_session_start_tx(struct mta_session *s, struct mta_tx *tx)
{
	size_t	i;

	if (s->dead)
		return;		/* closed follows: the host keeps TX */
	if (s->state != MTA_S_READY || s->tx != NULL)
		fatalx("mta: transaction started on a busy session");
	s->busy++;
	for (i = 0; i < tx->nrcpts; i++) {
		tx->rcpts[i].status = DELIVERY_TEMPFAIL;
		tx->rcpts[i].final = 0;
		tx->rcpts[i].reply[0] = '\0';
	}
	s->tx = tx;
	s->state = MTA_S_TX;
	s->sent = s->answered = s->accepted = s->lmtp_next = 0;
	s->mail_failed = 0;
	bufferevent_set_timeouts(s->bev, &s->tv, &s->tv);
	mta_tx_next(s);
	mta_session_settle(s);
}

void
mta_session_quit(struct mta_session *s)
{
	if (s->dead)
		return;
	s->busy++;
	s->state = MTA_S_QUIT;
	bufferevent_set_timeouts(s->bev, &s->tv, &s->tv);
	mta_io_command(s, "QUIT");
	mta_session_settle(s);
}

void
mta_session_abort(struct mta_session **sp)
{
	struct mta_session	*s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->busy)
		fatalx("mta: session aborted from its own hook");
	mta_session_destroy(s);
}

int
mta_session_tls(const struct mta_session *s)
{
	return s->tls_io != NULL && s->bev != NULL;
}

int
mta_session_tls_fallback(const struct mta_session *s)
{
	return s->tls_fallback;
}

unsigned int
mta_session_ext(const struct mta_session *s)
{
	return s->ext;
}

uint64_t
mta_session_max_size(const struct mta_session *s)
{
	return s->max_size;
}

const char *
mta_session_addr(const struct mta_session *s)
{
	return s->addr;
}

const char *
mta_session_local_addr(const struct mta_session *s)
{
	return s->local[0] ? s->local : "-";
}
