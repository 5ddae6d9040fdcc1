/*
 * smtp.h -- the SMTP server: sessions on accepted sockets, the protocol
 * (RFC 5321 with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, DSN)
 * and the DATA state machine, driven by libevent.
 *
 * Library code: it takes its context (struct smtp_server) as an
 * argument and never reads a program's globals, so the dispatcher
 * process and a standalone proxy (smtpfd) both build on it.  What a
 * session needs from the rest of the daemon (a message in the queue,
 * a recipient checked and expanded, the body's file, a commit) it asks
 * through struct smtp_hooks; every hook is asynchronous: the host
 * answers later through the matching smtp_*_done() call, on the same
 * event loop, or at once from inside the hook.  A session with a hook
 * pending is never freed under the host's feet: if the client leaves
 * meanwhile, the session is freed when the done() call arrives.
 *
 * Replies never echo a raw CR, LF or NUL; the body written to the
 * message file has LF line ends, dot-unstuffing done, a Received:
 * header first, Bcc: header lines removed.  Limits come from struct
 * smtp_limits.
 *
 * Protocol decisions (where RFC 5321 leaves a choice, or where the
 * issue differs from OpenSMTPD 6.8):
 *  - PIPELINING (RFC 2920) is offered and served: commands sent in one
 *    packet each get their reply, in order.  While a hook is pending
 *    no further input is consumed; replies are batched until the
 *    input buffer is drained.
 *  - A command line must end in CRLF: a bare LF or a CR or NUL inside
 *    gets "500 5.5.2" and the line is discarded.  In DATA, the end is
 *    CRLF "." CRLF and nothing else; a bare CR or LF anywhere makes the
 *    message refused at its end (550 5.6.11) after reading up to
 *    CRLF.CRLF, and nothing of it past that byte reaches the file
 *    (smtp_data.h).  A line above limits.line_max: "500 5.0.0 Line too
 *    long" and the session closes.
 *  - Source routes "<@a,@b:u@d>" are accepted, each hop checked, and
 *    dropped (RFC 5321 4.1.2).  "%" and "!" are local-part characters.
 *    An address without domain gets the listener's hostname (SMTP-17).
 *  - Any 421 reply (a limit, a timeout, or a host's done() with 421)
 *    closes the session after it is sent.
 *  - A second HELO/EHLO resets the session's transaction (RFC 5321
 *    4.1.4) instead of being refused.
 *  - tx_abort is called for a message begun (tx_begin_done with 250)
 *    that ends without data_end: RSET, HELO/EHLO, QUIT, a refused body
 *    (too big, bare CR/LF, loop, write error), the client's loss, a
 *    421.  After data_end the host owns the outcome: no tx_abort.
 *  - smtp_server_free calls session_end for every session, even one
 *    with a hook pending; no done() call may follow for it.
 *  - After the client's EOF the commands already received are still
 *    served (a client may shut down its side after pipelining), then
 *    the session closes.  A client that does not read its replies is
 *    no longer read once 64 KiB of replies wait for it.
 *  - Reply texts: greeting and HELO/EHLO as SMTP-01/02, then every
 *    reply has an enhanced code: 500 5.5.1 unknown verb / VRFY / EXPN,
 *    500 5.5.2 bad line, 501 5.5.4 syntax, 503 5.5.1 order, 503 5.5.4
 *    unknown parameter, 553 5.1.0 / 501 5.1.3 bad sender / recipient,
 *    553 5.5.4 bad NOTIFY / ORCPT, 552 5.3.4 SIZE= above the limit,
 *    554 5.3.4 body above it, 500 5.4.6 loop, 550 5.7.1 folded first
 *    line (SMTP-24), 452 4.3.1 body write failed, 451 4.5.3 too many
 *    recipients, 452 4.5.3 too many messages, 421 4.7.0 too many
 *    errors / sessions, 421 4.4.2 timeout.  done() codes with a NULL
 *    text get: 250 "2.0.0 Ok" (MAIL), "2.1.5 Destination address
 *    valid: Recipient ok" (RCPT), "2.0.0 MSGID Message accepted for
 *    delivery" (end of data); 4xx "4.3.0 Temporary failure"; 5xx
 *    "5.0.0 Failed".
 *  - The Received: header has "(NAME [IP])", NAME the client's reverse
 *    name the host gave through the connect hook (SMTP-30), or
 *    "<unknown>" (no hook, no name, or a name the library refuses).
 *    With a connect hook the greeting waits for smtp_connect_done; the
 *    host bounds that wait.  The "connected" log line is written then,
 *    with host=NAME.
 *  - SMTP AUTH (RFC 4954, PLAIN and LOGIN; smtp_auth.c): offered and
 *    accepted only on a listener with auth set and a session the host
 *    or the TLS layer declared secure (smtp_session_set_secure); there
 *    is no option for AUTH in clear.  Replies are documented there.
 */
#ifndef SMTPD_SMTP_H
#define SMTPD_SMTP_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "mailaddr.h"

struct event_base;
struct smtp_server;
struct smtp_session;
struct tls;

/* per-listener limits; 0 in a field means the default below */
struct smtp_limits {
	size_t		line_max;	/* command or data line, bytes */
	size_t		rcpt_max;	/* recipients per transaction */
	size_t		mails_max;	/* transactions per session */
	long long	message_max;	/* bytes of data (SIZE) */
	unsigned int	errors_max;	/* bad commands before disconnect */
	unsigned int	timeout_ms;	/* idle between commands / data */
	unsigned int	sessions_per_addr; /* concurrent, per client address */
};

#define SMTP_LINE_MAX_DEFAULT		65535
/* added (smtp library): line_max above this is taken as this */
#define SMTP_LINE_MAX_CEILING		(16 * 1024 * 1024)
#define SMTP_RCPT_MAX_DEFAULT		1000
#define SMTP_MAILS_MAX_DEFAULT		100
#define SMTP_MESSAGE_MAX_DEFAULT	(35LL * 1024 * 1024)
#define SMTP_ERRORS_MAX_DEFAULT		10
#define SMTP_TIMEOUT_MS_DEFAULT		300000
#define SMTP_SESSIONS_PER_ADDR_DEFAULT	64
#define SMTP_PRODUCT_DEFAULT		"OpenSMTPD"

/* what one listening socket offers */
struct smtp_listener {
	const char		*hostname;	/* banner, EHLO, Received */
	const char		*tag;		/* NULL: none */
	int			 local;		/* unix socket or loopback */
	int			 mask_src;
	int			 no_dsn;
	/* added (SMTP-22): Date: and Message-ID: added to a message that
	 * has none (local listeners and port 587) */
	int			 complete_headers;
	struct smtp_limits	 limits;
	/* added (smtp library): the product in the banner and the
	 * Received header ("220 NAME ESMTP PRODUCT"); NULL: "OpenSMTPD" */
	const char		*product;
	/* added (auth): SMTP_AUTH_* below; received_auth: the Received
	 * header says auth=yes user=NAME or auth=no */
	int			 auth;
	int			 received_auth;
	/* masquerade: an authenticated session's From: headers become
	 * its MAIL FROM address (`senders ... masquerade`) */
	int			 masquerade;
	/* added (tls): SMTP_TLS_*, and the libtls server context
	 * (keypairs by SNI, protocols, ciphers, client verification) the
	 * handshakes use, which must live as long as the server; with
	 * tls_verify a client must present a certificate it trusts */
	int			 tls_mode;
	int			 tls_verify;
	struct tls		*tls;
};

#define SMTP_AUTH_NONE		0
#define SMTP_AUTH_REQUIRE	1	/* no MAIL before AUTH */
#define SMTP_AUTH_OPTIONAL	2


#define SMTP_TLS_NONE		0
#define SMTP_TLS_STARTTLS	1	/* offered (listen ... tls) */
#define SMTP_TLS_REQUIRE	2	/* required before MAIL (tls-require) */
#define SMTP_TLS_SMTPS		3	/* from the first byte (smtps) */

/* a transaction as the hooks see it */
struct smtp_tx {
	uint64_t		 session_id;	/* unique per daemon run */
	uint32_t		 msgid;		/* 0 until tx_begin_done */
	const struct sockaddr_storage *ss;	/* client; AF_UNIX when local */
	const char		*helo;
	const char		*hostname;	/* the listener's */
	const char		*tag;
	int			 esmtp;
	/* added (SMTP-30): the client's reverse name, "" when none, and
	 * whether its addresses include the client's (FCrDNS) */
	const char		*rdns;
	int			 fcrdns;
	struct mailaddr		 sender;	/* null sender: both empty */
	/* DSN (RFC 3461): ret 0 none, 1 FULL, 2 HDRS; envid "" none */
	int			 dsn_ret;
	char			 dsn_envid[101];
	size_t			 nrcpt;		/* accepted so far */
	const char		*auth_user;	/* NULL: not authenticated */
};

/* one recipient being checked */
struct smtp_rcpt {
	struct mailaddr		 addr;
	uint8_t			 dsn_notify;	/* DSN_NOTIFY_* bits, 0 none */
	struct mailaddr		 dsn_orcpt;	/* empty: none */
};

/*
 * The host's side.  Each hook must be answered exactly once by its
 * done() call (status below), unless the session ends first, in which
 * case the done() call is still made and frees it.
 *   tx_begin	MAIL FROM accepted syntactically: make a message
 *   rcpt	check and expand one recipient, store its envelopes
 *   data_begin	DATA: the file descriptor the body is written to
 *   data_end	the body is written and closed: commit the message
 *   tx_abort	RSET, a new MAIL after failure, QUIT or loss of the
 *		client with a message begun: drop it (no answer)
 *   session_end the session is gone (no answer; no hook follows)
 *   auth	AUTH: is PASSWORD right for USER (both NUL-terminated,
 *		the password is wiped by the library when auth returns:
 *		copy it if the answer comes later)
 *   connect	added (SMTP-30), optional: a client connected over the
 *		network (AF_INET/AF_INET6), before the greeting: find its
 *		reverse name (ADDR is numeric) and answer smtp_connect_done
 */
struct smtp_hooks {
	void	(*tx_begin)(void *arg, struct smtp_session *,
		    const struct smtp_tx *);
	void	(*rcpt)(void *arg, struct smtp_session *,
		    const struct smtp_tx *, const struct smtp_rcpt *);
	void	(*data_begin)(void *arg, struct smtp_session *,
		    const struct smtp_tx *);
	void	(*data_end)(void *arg, struct smtp_session *,
		    const struct smtp_tx *);
	void	(*tx_abort)(void *arg, struct smtp_session *,
		    const struct smtp_tx *);
	void	(*session_end)(void *arg, struct smtp_session *);
	void	(*auth)(void *arg, struct smtp_session *, const char *user,
		    const char *password);
	void	(*connect)(void *arg, struct smtp_session *,
		    const struct sockaddr_storage *, const char *addr);
};

/*
 * Answers.  CODE is the SMTP reply code the client gets (250 ok, 4xx
 * temporary, 5xx permanent); TEXT, when not NULL, is the reply text
 * after the code and starts with an enhanced status code ("2.1.5
 * Destination address valid"); NULL picks the standard text.  The
 * library makes TEXT safe (no control characters) before sending it.
 * data_begin_done gives FD (owned by the library from then on, closed
 * before data_end) when CODE is 354, else -1.
 */
void	smtp_tx_begin_done(struct smtp_session *, int code, uint32_t msgid,
	    const char *text);
void	smtp_rcpt_done(struct smtp_session *, int code, const char *text);
void	smtp_data_begin_done(struct smtp_session *, int code, int fd,
	    const char *text);
void	smtp_data_end_done(struct smtp_session *, int code,
	    const char *text);
/* smtp_connect_done - the client's reverse name (NULL or "": none) and
 * whether it is forward-confirmed; the greeting goes out */
void	smtp_connect_done(struct smtp_session *, const char *rdns,
	    int fcrdns);

/* smtp_auth_done - the answer to auth: R 1 right, 0 wrong (535 after a
 * random delay below one second), -1 cannot tell now (421) */
void	smtp_auth_done(struct smtp_session *, int r);
/* smtp_session_set_secure - the channel is secure (set by TLS); AUTH is
 * offered and accepted only then */
void	smtp_session_set_secure(struct smtp_session *, int);
int	smtp_session_secure(const struct smtp_session *);
/* smtp_session_listener - the listener CONF the session came from */
const struct smtp_listener *smtp_session_listener(const struct smtp_session *);

/* the host's own pointer kept with a session (NULL at first) */
void	 smtp_session_set_arg(struct smtp_session *, void *);
void	*smtp_session_arg(const struct smtp_session *);

struct smtp_server *smtp_server_new(struct event_base *,
	    const struct smtp_hooks *, void *arg);
/* smtp_server_listen - accept on FD (listening, nonblocking); the
 * server owns FD from then on (closed by smtp_server_free).  The
 * listener's strings are copied.  -1 (errno EINVAL) when hostname is
 * missing or a string is too long (hostname 255, tag 63, product 63) */
int	smtp_server_listen(struct smtp_server *, int fd,
	    const struct smtp_listener *);
/*
 * smtp_server_session - serve one session on FD, a socket already
 * connected (a socketpair: the local enqueuer, sendmail), as listener
 * CONF, with CLIENT as the client's address (AF_UNIX: "local", so
 * `match from local` and `from socket` hold).  The first call for a
 * CONF pointer makes a listener that accepts nothing and is kept until
 * smtp_server_free, so CONF must live as long as the server.  The
 * session is as an accepted one (greeting, limits, hooks, Received);
 * pause does not affect it.  Returns the session's id (as in its log
 * lines), or 0 when no session was made (errno EINVAL: a listener
 * smtp_server_listen would refuse; ENOMEM).  The server owns FD from
 * then on, even on 0.
 */
uint64_t smtp_server_session(struct smtp_server *, int fd,
	    const struct smtp_listener *, const struct sockaddr_storage *client);
/* smtp_server_pause / resume - stop / restart accepting (smtpctl) */
void	smtp_server_pause(struct smtp_server *);
void	smtp_server_resume(struct smtp_server *);
size_t	smtp_server_sessions(const struct smtp_server *);
/* smtp_server_listener_sessions - sessions alive of listener CONF (the
 * pointer given to smtp_server_listen or smtp_server_session) */
size_t	smtp_server_listener_sessions(const struct smtp_server *,
	    const struct smtp_listener *);
/* smtp_server_free - close listeners and every session */
void	smtp_server_free(struct smtp_server **);

#endif
