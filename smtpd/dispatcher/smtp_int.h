/*
 * smtp_int.h -- what the files of the SMTP library share and nobody
 * else sees: the server, listener and session structures.
 *
 * Used by smtp_server.c (listeners, accept, limits per address) and
 * smtp_session.c (the protocol).  Hosts use smtp.h only.  What it must
 * never do: become a second public interface.
 */
#ifndef SMTPD_SMTP_INT_H
#define SMTPD_SMTP_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "smtp.h"
#include "smtp_data.h"
#include "smtp_parse.h"

struct bufferevent;
struct event;
struct tls;
struct tls_io;

struct smtp_listen {
	TAILQ_ENTRY(smtp_listen)	 entry;
	struct smtp_server		*srv;
	int				 fd;		/* -1: sessions handed in */
	const struct smtp_listener	*conf;		/* the host's, as a key */
	struct event			*ev;
	struct event			*retry;	/* after EMFILE */
	char				 hostname[256];
	char				 tag[64];
	char				 product[64];
	int				 local, mask_src, no_dsn;
	int				 complete_headers;
	int				 auth, received_auth, masquerade;
	struct smtp_limits		 limits;	/* defaults filled */
	int				 tls_mode, tls_verify;	/* tls */
	struct tls			*tls;
};

struct smtp_server {
	struct event_base		*base;
	struct smtp_hooks		 hooks;
	void				*arg;
	TAILQ_HEAD(, smtp_listen)	 listeners;
	TAILQ_HEAD(, smtp_session)	 sessions;
	size_t				 nsessions;
	TAILQ_HEAD(, smtp_session)	 corked;	/* replies to write */
	struct event			*flush;		/* writes them */
	int				 paused;
	uint64_t			 next_id;
};

/* one transaction, allocated at MAIL, freed at its end */
struct smtp_xact {
	struct smtp_tx		 tx;
	struct smtp_rcpt	 rcpt;		/* the one being checked */
	struct mailaddr		 first;		/* for the Received header */
	int			 begun;		/* tx_begin_done said 250 */
	int			 fd;		/* the body's file, or -1 */
	int			 write_error;	/* errno of the first error */
	struct smtp_data	 data;
	struct smtp_buf		 out;
};

enum smtp_state {
	SMTP_S_GREETING,	/* before HELO/EHLO */
	SMTP_S_HELO,		/* identified, no transaction */
	SMTP_S_MAIL,		/* transaction */
	SMTP_S_BODY		/* reading the message */
};

enum smtp_hook {
	SMTP_HOOK_NONE, SMTP_HOOK_TX_BEGIN, SMTP_HOOK_RCPT,
	SMTP_HOOK_DATA_BEGIN, SMTP_HOOK_DATA_END,
	SMTP_HOOK_AUTH,		/* the host's answer, then the delay */
	SMTP_HOOK_CONNECT,
	SMTP_HOOK_TLS		/* a TLS handshake (smtp_tls.c) */
};

struct smtp_auth;

struct smtp_session {
	TAILQ_ENTRY(smtp_session)	 entry;
	struct smtp_server		*srv;
	struct smtp_listen		*l;
	struct bufferevent		*bev;
	struct sockaddr_storage		 ss;
	char				 addr[64];	/* numeric, or "local" */
	uint64_t			 id;
	enum smtp_state			 state;
	enum smtp_hook			 pending;
	int				 busy;		/* in smtp_session_process */
	int				 closing;	/* flush, then free */
	int				 gone;		/* client lost: free */
	int				 eof;		/* client sent all: finish
							 * its input, then close */
	int				 esmtp;
	unsigned int			 errors;
	size_t				 mails;
	char				 helo[256];
	char				 rdns[256];	/* "" unknown */
	int				 fcrdns;	/* rdns confirmed */
	struct smtp_xact		*x;
	void				*host_arg;	/* the host's */
	int				 secure;	/* TLS (auth) */
	struct smtp_auth		*auth;		/* an AUTH exchange */
	char				 auth_user[256]; /* "" none */
	struct tls_io			*tls_io;	/* TLS on: bev is its */
	TAILQ_ENTRY(smtp_session)	 cork_entry;
	int				 corked;	/* in srv->corked */
	int				 resume;	/* a hook answered: its
							   input, then the
							   flush */
	int				 held;		/* not freed: the flush
							   still uses it */
};

/* smtp_session.c */
/* smtp_session_start - the session's id, or 0 when none could be made */
uint64_t smtp_session_start(struct smtp_listen *, int fd,
	    const struct sockaddr_storage *, int over_limit);
void	smtp_session_free(struct smtp_session *);
/* added (tls): what smtp_tls.c uses of the session */
void	smtp_session_settle(struct smtp_session *);
/* smtp_session_flush - the replies held back so far to the socket */
void	smtp_session_flush(struct smtp_session *);
/* smtp_server_on_flush - every session's held-back replies (srv->flush) */
void	smtp_server_on_flush(evutil_socket_t, short, void *);
/* smtp_session_bev_setup - callbacks, timeouts, watermark of s->bev */
void	smtp_session_bev_setup(struct smtp_session *);
void	smtp_session_greet(struct smtp_session *, int over_limit);
void	smtp_reply(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_reply_error(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_session_resume(struct smtp_session *);

/* smtp_auth.c: AUTH (RFC 4954); the session calls these */
void	smtp_auth_cmd(struct smtp_session *, const char *arg);
/* smtp_auth_input - LINE (CRLF removed; BAD: it broke the line rules)
 * is the client's response in the exchange under way */
void	smtp_auth_input(struct smtp_session *, const char *line, int bad);
/* smtp_auth_ehlo - advertise AUTH when it is offered */
void	smtp_auth_ehlo(struct smtp_session *);
/* smtp_auth_mail_ok - may MAIL go on; otherwise replied (530) */
int	smtp_auth_mail_ok(struct smtp_session *);
/* smtp_auth_received - the Received header's auth comment, or "" */
void	smtp_auth_received(struct smtp_session *, char *buf, size_t bufsz);
void	smtp_auth_free(struct smtp_session *);

/* smtp_tls.c: STARTTLS, smtps, tls-require, the Received TLS clause */
/* smtp_tls_accept - an smtps client on FD: handshake, then greet */
void	smtp_tls_accept(struct smtp_session *, int fd, int over_limit);
void	smtp_tls_cmd_starttls(struct smtp_session *, const char *arg);
/* smtp_tls_refused - VERB must wait for STARTTLS: 530 sent; 1 */
int	smtp_tls_refused(struct smtp_session *, int verb);
/* smtp_tls_ehlo - the EHLO line offering STARTTLS, when it is offered */
void	smtp_tls_ehlo(struct smtp_session *);
/* smtp_tls_received - " (TLS version=... verify=...)" or "" */
void	smtp_tls_received(struct smtp_session *, char *, size_t);
/* smtp_tls_free - the session's transport (TLS or socket) */
void	smtp_tls_free(struct smtp_session *);

#endif
