/*
 * smtp_tls.c -- TLS in the SMTP server: STARTTLS (RFC 3207) on a `tls`
 * or `tls-require` listener, the handshake at accept on an `smtps` one,
 * the 530 before STARTTLS on `tls-require`, the EHLO keyword, the
 * Received clause and the log line of a secured session (TLS-12).
 *
 * Part of the SMTP library (smtp.h): the libtls server context comes
 * with the listener, the transport is tls_io.h.  Decisions:
 *  - STARTTLS needs HELO/EHLO first and no transaction (503 5.5.1), no
 *    argument (501 5.5.4), a listener offering it (500 5.5.1, as an
 *    unknown verb), and is refused once TLS is on (503 5.5.1).
 *  - After "220 2.0.0 Ready to start TLS" anything the client sent in
 *    the same packet is discarded and counted in the log, never run
 *    inside TLS; the socket is no longer read until the handshake.
 *  - Once secured the session starts over (RFC 3207 4.2): EHLO again.
 *  - tls-require: only EHLO HELO STARTTLS NOOP RSET QUIT HELP before
 *    TLS; the rest gets "530 5.7.0 Must issue a STARTTLS command
 *    first".
 *  - A failed handshake ends the session with a log line, no reply.
 * What it must never do: run a byte received before the handshake as a
 * command after it, or block.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <tls.h>

#include "log.h"
#include "smtp_int.h"
#include "tls_io.h"

/* smtp_tls_verified - did the client show a certificate we trust */
static int
smtp_tls_verified(struct smtp_session *s)
{
	struct tls	*t = tls_io_conn(s->tls_io);

	return s->l->tls_verify && tls_peer_cert_provided(t);
}

/* smtp_tls_log - the session's TLS line (TLS-12) */
static void
smtp_tls_log(struct smtp_session *s)
{
	struct tls	*t = tls_io_conn(s->tls_io);
	const char	*sni = tls_conn_servername(t);

	log_event(s->id, "smtp", "tls", "ciphers=%s:%s:%d version=%s "
	    "cipher=%s bits=%d verify=%s servername=%s",
	    tls_conn_version(t), tls_conn_cipher(t),
	    tls_conn_cipher_strength(t), tls_conn_version(t),
	    tls_conn_cipher(t), tls_conn_cipher_strength(t),
	    smtp_tls_verified(s) ? "YES" : "NO", sni != NULL ? sni : "-");
}

/* smtp_tls_on_handshake - the handshake's outcome (tls_io.h) */
static void
smtp_tls_on_handshake(void *arg, struct tls_io *io, int ok,
    const char *error)
{
	struct smtp_session	*s = arg;
	char			 q[300];
	int			 over_limit;

	s->pending = SMTP_HOOK_NONE;
	if (!ok) {
		log_event(s->id, "smtp", "tls-error", "address=%s error=%s",
		    s->addr, log_quote(q, sizeof q, error ? error : "unknown"));
		s->gone = 1;
		smtp_session_settle(s);
		return;
	}
	s->bev = tls_io_bufferevent(io);
	smtp_session_bev_setup(s);
	smtp_tls_log(s);
	s->secure = 1;		/* AUTH may be offered now (smtp_auth.c) */
	if (s->l->tls_mode == SMTP_TLS_SMTPS) {
		over_limit = s->closing;
		s->closing = 0;
		smtp_session_greet(s, over_limit);
		return;
	}
	/* RFC 3207 4.2: forget what the client said in clear */
	s->state = SMTP_S_GREETING;
	s->helo[0] = '\0';
	s->esmtp = 0;
	bufferevent_enable(s->bev, EV_READ);
}

/* smtp_tls_start - hand FD to a server handshake */
static void
smtp_tls_start(struct smtp_session *s, int fd)
{
	s->pending = SMTP_HOOK_TLS;
	s->tls_io = tls_io_server(s->srv->base, s->l->tls, fd,
	    s->l->limits.timeout_ms, smtp_tls_on_handshake, s);
	if (s->tls_io == NULL) {
		log_warnx("%016llx smtp tls: out of memory",
		    (unsigned long long)s->id);
		s->pending = SMTP_HOOK_NONE;
		s->gone = 1;
		smtp_session_settle(s);
	}
}

void
smtp_tls_accept(struct smtp_session *s, int fd, int over_limit)
{
	s->closing = over_limit;	/* greet with 421 after the handshake */
	smtp_tls_start(s, fd);
}

/* smtp_tls_on_flushed - "220 Ready to start TLS" is out: the socket
 * goes to TLS, its bufferevent (and any byte it read) is dropped */
static void
smtp_tls_on_flushed(struct bufferevent *bev, void *arg)
{
	struct smtp_session	*s = arg;
	int			 fd;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	fd = bufferevent_getfd(bev);
	bufferevent_setfd(bev, -1);	/* not closed with it */
	bufferevent_free(bev);
	s->bev = NULL;
	smtp_tls_start(s, fd);
}

/* smtp_tls_on_flush_event - the client left before the handshake */
static void
smtp_tls_on_flush_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session	*s = arg;

	s->pending = SMTP_HOOK_NONE;
	s->gone = 1;
	smtp_session_settle(s);
}

void
smtp_tls_cmd_starttls(struct smtp_session *s, const char *arg)
{
	struct evbuffer	*in;
	size_t		 n;

	if (s->l->tls_mode == SMTP_TLS_NONE) {
		smtp_reply_error(s, "500 5.5.1 Invalid command: Command "
		    "unrecognized");
		return;
	}
	if (s->tls_io != NULL) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: TLS already "
		    "active");
		return;
	}
	if (s->state == SMTP_S_GREETING) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: Polite "
		    "people say HELO first");
		return;
	}
	if (s->x != NULL) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: Transaction "
		    "in progress");
		return;
	}
	if (*arg != '\0') {
		smtp_reply_error(s, "501 5.5.4 Syntax: STARTTLS takes no "
		    "parameter");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	smtp_session_flush(s);	/* now, before the callbacks change */
	in = bufferevent_get_input(s->bev);
	if ((n = evbuffer_get_length(in)) > 0) {
		log_event(s->id, "smtp", "tls-discard", "bytes=%zu", n);
		evbuffer_drain(in, n);
	}
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setcb(s->bev, NULL, smtp_tls_on_flushed,
	    smtp_tls_on_flush_event, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	s->pending = SMTP_HOOK_TLS;	/* no input, no free meanwhile */
	bufferevent_trigger(s->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
}

int
smtp_tls_refused(struct smtp_session *s, int verb)
{
	if (s->l->tls_mode != SMTP_TLS_REQUIRE || s->tls_io != NULL)
		return 0;
	switch (verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
	case SMTP_VERB_STARTTLS:
	case SMTP_VERB_NOOP:
	case SMTP_VERB_RSET:
	case SMTP_VERB_QUIT:
	case SMTP_VERB_HELP:
		return 0;
	}
	smtp_reply_error(s, "530 5.7.0 Must issue a STARTTLS command first");
	return 1;
}

void
smtp_tls_ehlo(struct smtp_session *s)
{
	if ((s->l->tls_mode == SMTP_TLS_STARTTLS ||
	    s->l->tls_mode == SMTP_TLS_REQUIRE) && s->tls_io == NULL)
		smtp_reply(s, "250-STARTTLS");
}

void
smtp_tls_received(struct smtp_session *s, char *buf, size_t size)
{
	struct tls	*t;

	buf[0] = '\0';
	if (s->tls_io == NULL)
		return;
	t = tls_io_conn(s->tls_io);
	snprintf(buf, size, "\n\t(TLS version=%s cipher=%s bits=%d "
	    "verify=%s)", tls_conn_version(t), tls_conn_cipher(t),
	    tls_conn_cipher_strength(t), smtp_tls_verified(s) ? "YES" : "NO");
}

void
smtp_tls_free(struct smtp_session *s)
{
	if (s->tls_io != NULL) {
		tls_io_free(&s->tls_io);	/* s->bev was its */
		s->bev = NULL;
	} else if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
}
