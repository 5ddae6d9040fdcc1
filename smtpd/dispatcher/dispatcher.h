/*
 * dispatcher.h -- the dispatcher process's files: its entry
 * (dispatcher.c), its requests to queue and lookup (dispatcher_req.c),
 * the SMTP server's host (dispatcher_smtp.c), the local delivery agent
 * (dispatcher_mda.c), the relay agent (dispatcher_mta.c, on the SMTP
 * client of mta.h) and the bounce agent (dispatcher_bounce.c, with
 * its report builder dispatcher_bounce_report.c).
 */
#ifndef SMTPD_DISPATCHER_H
#define SMTPD_DISPATCHER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "envelope.h"
#include "smtp.h"

struct imsg;
struct mproc;
struct smtp_hooks;
struct smtp_session;
struct sockaddr_storage;

/* envelopes lookup may return for one recipient (its own limit is lower) */
#define DISPATCHER_EXPAND_MAX	100000

/*
 * dispatcher_req.c: a request to queue or lookup and its completion.
 * CREATE completes once: r QUEUE_OK with msgid and fd (the completion
 * owns fd), or r < 0 (a QUEUE_* failure) and fd -1.  EXPAND completes
 * once per envelope lookup gives (final 0, envelope) and then once with
 * the SMTP answer (final 1, code, text, nenvelopes).  COMMIT completes
 * once with r.  Every answer is final except EXPAND's envelopes.
 */
enum dispatcher_req_kind {
	DISPATCHER_REQ_CREATE,
	DISPATCHER_REQ_EXPAND,
	DISPATCHER_REQ_COMMIT
};

struct dispatcher_req_answer {
	int		 final;
	int		 r;		/* CREATE, COMMIT: QUEUE_OK or < 0 */
	uint32_t	 msgid;		/* CREATE */
	int		 fd;		/* CREATE: the body, written */
	int		 code;		/* EXPAND final: 200..599 */
	const char	*text;		/* EXPAND final */
	size_t		 nenvelopes;	/* EXPAND final: envelopes given */
	const char	*envelope;	/* EXPAND not final: its text */
	size_t		 envelope_len;
};

typedef void	(*dispatcher_req_fn)(void *arg,
		    const struct dispatcher_req_answer *);

void	dispatcher_req_create_message(dispatcher_req_fn, void *);
/* dispatcher_req_take_message - 0 and a message made ahead (its msgid
 * and body fd, the caller's), or -1: none, create one */
int	dispatcher_req_take_message(uint32_t *msgid, int *fdp);
void	dispatcher_req_expand_rcpt(const char *envelope, size_t len,
	    dispatcher_req_fn, void *);
void	dispatcher_req_commit_message(uint32_t msgid, dispatcher_req_fn,
	    void *);
/* dispatcher_req_pending - requests not answered yet */
size_t	dispatcher_req_pending(void);
void	dispatcher_on_create_message_result(struct mproc *, struct imsg *);
void	dispatcher_on_create_message_fail(struct mproc *, struct imsg *);
void	dispatcher_on_expand_rcpt_envelope(struct mproc *, struct imsg *);
void	dispatcher_on_expand_rcpt_result(struct mproc *, struct imsg *);
void	dispatcher_on_commit_message_result(struct mproc *, struct imsg *);

/* dispatcher.c: the SMTP server the process hosts, and the options of
 * a configured listener as the server wants them (kept for good) */
struct conf_listener;
struct smtp_session;
struct smtp_tx;
/* what dispatcher_listener_new makes: the server's listener first, so
 * that smtp_session_listener() leads back to the configuration */
struct dispatcher_listener {
	struct smtp_listener		 smtp;
	const struct conf_listener	*conf;
};
struct smtp_listener *dispatcher_listener_new(const struct conf_listener *,
	    int local);
struct smtp_server *dispatcher_smtp_server(void);

/* dispatcher_ca.c (tls): the pki chains from the parent, the stand-in
 * keys libtls gets, and private-key operations sent to ca (TLS-11),
 * the handshake paused meanwhile, at most DISPATCHER_CA_TIMEOUT_MS */
#define DISPATCHER_CA_TIMEOUT_MS	3000
void	dispatcher_ca_init(void);
void	dispatcher_on_pki_data(struct mproc *, struct imsg *);
void	dispatcher_on_ca_sign_result(struct mproc *, struct imsg *);
void	dispatcher_on_ca_sign_fail(struct mproc *, struct imsg *);
/* dispatcher_ca_cert - the chain of pki NAME, or NULL */
const unsigned char *dispatcher_ca_cert(const char *name, size_t *len);
/* dispatcher_ca_standin - a key PEM with the public half of CERT's
 * first certificate and no secret (malloc'd), or NULL */
unsigned char *dispatcher_ca_standin(const unsigned char *cert,
	    size_t certlen, size_t *len);
/* dispatcher_ca_stats - operations asked of ca, failed, mean time */
void	dispatcher_ca_stats(unsigned long long *calls,
	    unsigned long long *failures, unsigned long long *mean_usec);

/* dispatcher_tls.c (tls): one libtls server context per listener with
 * TLS, made at start (pki by SNI, protocols, ciphers, verify) */
struct tls;
void	dispatcher_tls_init(void);
/* dispatcher_tls_server - the context of listener CL, or NULL */
struct tls *dispatcher_tls_server(const struct conf_listener *cl);

/* dispatcher_mta_tls.c (mtatls): the libtls client configurations of
 * each relay action, made at start (ca or the system bundle, pki) */
struct tls_config;
void	dispatcher_mta_tls_init(void);
/* dispatcher_mta_tls_config - ACTION's configuration that checks the
 * peer (VERIFY) or not; NULL when it could not be set up */
struct tls_config *dispatcher_mta_tls_config(const char *action,
	    int verify);
/* dispatcher_mta_tls_check - would CONN's peer pass ACTION's (a
 * string) verification for NAME: 1 or 0 (mta.h's tls_check) */
int	dispatcher_mta_tls_check(void *action, struct tls *conn,
	    const char *name);

/* dispatcher_enqueue.c: local enqueue sessions (sendmail) */
void	dispatcher_on_enqueue_session(struct mproc *, struct imsg *);

/* dispatcher_smtp.c */
extern const struct smtp_hooks dispatcher_smtp_hooks;

/* dispatcher_auth.c: AUTH's verdict (lookup or parent), `senders` */
typedef void	(*dispatcher_auth_sender_fn)(void *arg, int r);
void	dispatcher_smtp_auth(void *arg, struct smtp_session *,
	    const char *user, const char *password);
void	dispatcher_auth_sender(struct smtp_session *, const struct smtp_tx *,
	    dispatcher_auth_sender_fn, void *);
void	dispatcher_on_check_credentials_result(struct mproc *, struct imsg *);
void	dispatcher_on_check_password_result(struct mproc *, struct imsg *);
void	dispatcher_on_check_sender_result(struct mproc *, struct imsg *);
/* dispatcher_rdns.c: a client's reverse name at connect (SMTP-30); the
 * greeting waits for it at most this long */
#define DISPATCHER_RDNS_WAIT_MS	2000
void	dispatcher_rdns_ask(void *arg, struct smtp_session *,
	    const struct sockaddr_storage *, const char *addr);
void	dispatcher_rdns_forget(struct smtp_session *);
void	dispatcher_on_dns_ptr_result(struct mproc *, struct imsg *);

/* dispatcher_mda.c */
/* dispatcher_mda_pause - hold deliveries (1) or let them go (0) */
void	dispatcher_mda_pause(int);
void	dispatcher_on_deliver_envelope(struct mproc *, struct imsg *);
void	dispatcher_on_fork_mda_result(struct mproc *, struct imsg *);
void	dispatcher_on_mda_done(struct mproc *, struct imsg *);
void	dispatcher_on_userinfo_result(struct mproc *, struct imsg *);

/* dispatcher_mta.c: relaying (the SMTP client is mta.h).
 * dispatcher_mta_envelope takes a relay envelope E (borrowed) with its
 * message's FD (owned); the outcome goes to the queue later. */
void	dispatcher_mta_envelope(uint64_t evpid, int fd,
	    const struct envelope *e);
/* dispatcher_mta_pause - hold new transactions (1) or let them go (0) */
void	dispatcher_mta_pause(int);
void	dispatcher_on_dns_addr(struct mproc *, struct imsg *);
void	dispatcher_on_dns_end(struct mproc *, struct imsg *);
/* the entry of a relay action's table (mtatls: `auth` credentials) */
void	dispatcher_on_relay_table_result(struct mproc *, struct imsg *);
/* dispatcher_on_table_updated - lists fetched from a reloaded table are
 * asked again */
void	dispatcher_on_table_updated(struct mproc *, struct imsg *);
/* dispatcher_on_relay_list_result - a fetched `src` or `relay host`
 * table's values (dispatcher_mta_tables.c) */
void	dispatcher_on_relay_list_result(struct mproc *, struct imsg *);
/* dispatcher_on_mta_admin - smtpctl show hoststats (MTA-23), show
 * routes and resume route (MTA-15) */
void	dispatcher_on_mta_admin(struct mproc *, struct imsg *);

/*
 * dispatcher_bounce.c: the bounce agent.  dispatcher_bounce_envelope
 * takes a bounce envelope the queue handed out (EVPID, the original
 * message's FD, the loaded envelope E; it owns FD and E): envelopes of
 * one message and one report type arriving within BOUNCE_GROUP_MS make
 * one report, queued as a new message from <> to the sender; each
 * envelope is answered ok once that message is committed.
 */
#define BOUNCE_GROUP_MS		1000	/* the grouping window (DSN-06) */
#define BOUNCE_GROUP_MAX	100	/* recipients in one report */
#define BOUNCE_REPORT_TTL	(7 * 86400)	/* a report's lifetime */
void	dispatcher_bounce_envelope(uint64_t evpid, int fd, struct envelope *e);

/* dispatcher_bounce_report.c: the report's text (pure functions) */
#define BOUNCE_DIAG_MAX		512	/* a diagnostic's longest text */
#define BOUNCE_FULL_MAX		65536	/* larger originals: headers only */
#define BOUNCE_HEADERS_MAX	65536	/* header bytes a report returns */

struct bounce_report {
	const char		 *reporting_mta;	/* our name */
	time_t			  now;
	uint64_t		  id;		/* boundary, Message-ID */
	enum envelope_bounce_type type;
	const struct envelope	**evps;		/* same sender, same type */
	size_t			  nevps;
	int			  full;		/* the whole original */
	FILE			 *original;	/* read from here; or NULL */
};

/* dispatcher_bounce_sanitize - SRC (at most SRCLEN bytes, to a NUL)
 * made fit for a report into DST: control characters become blanks,
 * bytes above 0x7e '?', blanks collapse, at most BOUNCE_DIAG_MAX
 * characters (a longer text ends in "..."); returns its length */
size_t	dispatcher_bounce_sanitize(char *dst, size_t dstsz, const char *src,
	    size_t srclen);
/* dispatcher_bounce_action - the RFC 3464 Action of a report type */
const char *dispatcher_bounce_action(enum envelope_bounce_type);
/* dispatcher_bounce_status - E's RFC 3463 status for its report type:
 * its esc fields, else a code at the start of its errorline, else
 * 5.0.0, 4.0.0 or 2.0.0 */
void	dispatcher_bounce_status(const struct envelope *e, char *buf,
	    size_t bufsz);
/* dispatcher_bounce_report_write - the whole report to OUT: 0, or -1 */
int	dispatcher_bounce_report_write(const struct bounce_report *,
	    FILE *out);

#endif
