/*
 * mta.h -- the SMTP client: one session to a next hop, the replies it
 * reads, the relay URLs it is given, and the pure helpers of routing.
 *
 * Library code: it takes its context (an event base, struct
 * mta_session_params, the host's hooks) as arguments and never reads a
 * program's globals, so the dispatcher (dispatcher_mta.c) and a later
 * smtpfd proxy both build on it.  The host connects nothing itself: it
 * gives an address and gets a session that greets, says EHLO (HELO if
 * refused), and then runs one transaction at a time (several
 * recipients, PIPELINING when offered), reporting every recipient's
 * outcome, until the host ends it with QUIT.
 *
 * What goes to the next hop is always CRLF-clean and dot-stuffed: the
 * body file has LF line ends (smtp.h); each LF becomes CRLF, every CR
 * byte of the file is dropped, a line starting with "." gets another
 * ".".  What comes back is bounded (MTA_REPLY_*) and made safe before
 * anyone sees it: no CR, LF, NUL or other control byte, no byte above
 * 0x7e, ever reaches a log, a bounce or the host.  Bad replies (bad
 * code, short line, bare CR, NUL, too long, too many lines, codes that
 * change mid-reply) end the session with a temporary failure.  The
 * socket I/O is in one place (mta_session.c, mta_io_*); TLS (STARTTLS
 * or from the first byte) goes under it through tls_io.h, on a
 * tls_config the host made (the session makes one tls_client() per
 * connection, as libtls requires), and AUTH PLAIN or LOGIN follows
 * once TLS is on, never before.
 */
#ifndef SMTPD_MTA_H
#define SMTPD_MTA_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct mta_session;

#define MTA_REPLY_LINE_MAX	4096	/* one reply line, CRLF included
					 * (RFC 5321 says 512; be lenient) */
#define MTA_REPLY_LINES_MAX	1000	/* lines of one reply */
#define MTA_REPLY_TEXT_MAX	512	/* text kept of a reply */
#define MTA_RCPT_PER_TX		100	/* recipients of one transaction */
#define MTA_DEFAULT_TIMEOUT	300	/* seconds per I/O wait (MTA-24) */

/* ---- mta_reply.c: replies (pure) ---- */

/* MTA_REPLY_MORE: a line of a multi-line reply was taken; DONE: the
 * reply is complete; ERROR: malformed (ERR says how) */
#define MTA_REPLY_MORE	0
#define MTA_REPLY_DONE	1
#define MTA_REPLY_ERROR	(-1)

struct mta_reply {
	int	 code;		/* 200..599 once a line was taken */
	size_t	 nlines;
	/* code and text, made safe, lines joined by a blank, cut to fit
	 * ("..." at the end when cut) */
	char	 text[MTA_REPLY_TEXT_MAX];
	size_t	 textlen;
	/* the last line taken, made safe, without the code: for EHLO */
	char	 line[MTA_REPLY_TEXT_MAX];
};

/* mta_reply_init - ready for a new reply */
void	mta_reply_init(struct mta_reply *);
/* mta_reply_feed - one line of LEN bytes, its CRLF removed (a CR inside
 * is an error); MTA_REPLY_MORE, DONE or ERROR */
int	mta_reply_feed(struct mta_reply *, const char *line, size_t len,
	    char *err, size_t errsz);
/* mta_reply_sanitize - SRC made safe into DST (control bytes and bytes
 * above 0x7e become '?'); returns its length */
size_t	mta_reply_sanitize(char *dst, size_t dstsz, const char *src,
	    size_t srclen);
/* mta_reply_status - the DELIVERY_* a final code stands for */
int	mta_reply_status(int code);

#define MTA_AUTH_PLAIN	0x01
#define MTA_AUTH_LOGIN	0x02
/* mta_reply_auth - the MTA_AUTH_* an EHLO capability line (without its
 * code) offers: "AUTH mech..." or the old "AUTH=mech..."; 0 when the
 * line is no AUTH line or names neither PLAIN nor LOGIN */
unsigned int mta_reply_auth(const char *line);

/* ---- mta_route.c: relay URLs and routing helpers (pure) ---- */

enum mta_scheme {
	MTA_SCHEME_SMTP,	/* smtp://: STARTTLS when offered */
	MTA_SCHEME_SMTP_TLS,	/* smtp+tls://: STARTTLS required */
	MTA_SCHEME_SMTP_NOTLS,	/* smtp+notls:// */
	MTA_SCHEME_SMTPS,	/* smtps://: TLS from the start */
	MTA_SCHEME_LMTP		/* lmtp:// */
};

struct mta_url {
	enum mta_scheme	 scheme;
	char		 label[64];	/* for AUTH; "" */
	char		 host[256];	/* name or address, no brackets */
	int		 literal;	/* host is an IP address */
	int		 port;		/* 0: the scheme's default */
};

/* mta_url_parse - [scheme://][label@]host[:port] where host may be
 * [IP]; 0, or -1 with ERR */
int	mta_url_parse(const char *, struct mta_url *, char *err, size_t);
/* mta_url_port - the port to connect to */
int	mta_url_port(const struct mta_url *);
/* mta_addr_parse - a numeric IPv4/IPv6 address and PORT into SS */
int	mta_addr_parse(const char *addr, int port,
	    struct sockaddr_storage *ss, socklen_t *sslen);

struct mta_mx {
	uint32_t	 preference;
	const char	*host;
	size_t		 index;		/* the caller's */
};

/* mta_mx_backup - keep only the MXs preferred over OURNAME (RFC 5321
 * 5.1: a backup MX relays only to better ones), in their order: the
 * count kept.  When OURNAME is not in the list every MX is kept. */
size_t	mta_mx_backup(struct mta_mx *, size_t n, const char *ourname);

/* ---- mta_session.c: one client session ---- */

struct tls;
struct tls_config;

/* what a session does about TLS */
#define MTA_TLS_NONE		0	/* never (smtp+notls://, lmtp://) */
#define MTA_TLS_TRY		1	/* STARTTLS when offered; a failure
					 * ends the session with
					 * mta_session_tls_fallback() set */
#define MTA_TLS_STARTTLS	2	/* STARTTLS required */
#define MTA_TLS_SMTPS		3	/* TLS from the first byte */

#define MTA_AUTH_FIELD_MAX	256	/* a user name or a password */

struct mta_session_params {
	struct event_base	*base;
	uint64_t		 id;		/* for log lines */
	const char		*helo;		/* our name */
	int			 lmtp;		/* LHLO, a reply per rcpt */
	int			 timeout;	/* seconds; 0: default */
	const char		*peer;		/* the host's name, for logs */
	int			 tls;		/* MTA_TLS_* */
	/* the configuration of the session's tls_client(), the host's,
	 * kept until the session is closed; NULL when tls is NONE */
	struct tls_config	*tls_config;
	int			 tls_verify;	/* it checks the peer */
	const char		*servername;	/* SNI and the name checked */
	/* when it does not: would the peer have passed (1) or not (0),
	 * for the log; NULL: not asked */
	int			(*tls_check)(void *arg, struct tls *,
				    const char *servername);
	void			*tls_check_arg;
	/* AUTH (after TLS only): NULL user for none; copied, wiped */
	const char		*auth_user;
	const char		*auth_pass;
};

/* a recipient of a transaction and its outcome */
struct mta_rcpt {
	const char	*addr;		/* u@d */
	const char	*params;	/* " NOTIFY=..." or "" */
	/* set by the session: */
	int		 status;	/* DELIVERY_* */
	int		 final;		/* status is the outcome */
	char		 reply[MTA_REPLY_TEXT_MAX];	/* safe text */
};

struct mta_tx {
	const char	*sender;	/* u@d, "" for <> */
	const char	*params;	/* MAIL parameters: " RET=..." or "" */
	struct mta_rcpt	*rcpts;
	size_t		 nrcpts;
	int		 fd;		/* the body (LF ends), not owned */
	uint64_t	 size;		/* its size in bytes */
};

struct mta_hooks {
	/* greeted and identified: a transaction may start */
	void	(*ready)(void *arg, struct mta_session *);
	/* TX done, every recipient's status and reply set */
	void	(*tx_done)(void *arg, struct mta_session *, struct mta_tx *);
	/* the session is over (ERROR is "" after QUIT); it is freed after
	 * the call; a transaction in flight got tx_done before, with its
	 * recipients temporarily failed with ERROR */
	void	(*closed)(void *arg, struct mta_session *, int status,
		    const char *error);
};

/* capabilities seen in the EHLO reply */
#define MTA_EXT_PIPELINING	0x01
#define MTA_EXT_SIZE		0x02
#define MTA_EXT_DSN		0x04
#define MTA_EXT_STARTTLS	0x08
#define MTA_EXT_8BITMIME	0x10
#define MTA_EXT_ENHANCED	0x20

/* mta_session_connect - connect to SS (from SRC when not NULL) and
 * start; NULL on a local failure (ERR says) */
struct mta_session *mta_session_connect(const struct mta_session_params *,
	    const struct sockaddr *ss, socklen_t sslen,
	    const struct sockaddr *src, socklen_t srclen,
	    const struct mta_hooks *, void *arg, char *err, size_t errsz);
/* mta_session_start_tx - run TX (after ready or tx_done); the caller
 * keeps TX and its strings until tx_done */
void	mta_session_start_tx(struct mta_session *, struct mta_tx *);
/* mta_session_quit - say QUIT and close (closed follows) */
void	mta_session_quit(struct mta_session *);
/* mta_session_abort - close now, no hook called, freed */
void	mta_session_abort(struct mta_session **);
unsigned int mta_session_ext(const struct mta_session *);
uint64_t mta_session_max_size(const struct mta_session *);
/* mta_session_tls - TLS is on; mta_session_tls_fallback - the session
 * ended because opportunistic TLS (MTA_TLS_TRY) failed: the host may
 * connect again in clear */
int	mta_session_tls(const struct mta_session *);
int	mta_session_tls_fallback(const struct mta_session *);
/* mta_session_addr - "127.0.0.1:25" of the peer; _local_addr: ours
 * ("-" before the connection is up) */
const char *mta_session_addr(const struct mta_session *);
const char *mta_session_local_addr(const struct mta_session *);

#endif
