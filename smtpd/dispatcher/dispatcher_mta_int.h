/*
 * dispatcher_mta_int.h -- what the parts of the dispatcher's relay agent
 * share: its routes, hosts, connections and state (dispatcher_mta.c),
 * the tables it asks of lookup (dispatcher_mta_tables.c), and what
 * serves smtpctl and keeps the outcomes by domain
 * (dispatcher_mta_admin.c).  Internal to those three files.
 */
#ifndef DISPATCHER_MTA_INT_H
#define DISPATCHER_MTA_INT_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdint.h>
#include <time.h>

#include "api_dict.h"
#include "api_tree.h"
#include "envelope.h"
#include "mta.h"

struct conf_action;
struct conf_table;
struct event;

#define MTA_DNS_TIMEOUT		30	/* seconds for an MX or host query */
#define MTA_DNS_TTL		300	/* an answer is used that long */
#define MTA_HOSTS_MAX		32	/* addresses of a route */
#define MTA_SRC_MAX		16	/* source addresses of a route */
#define MTA_ASIDE_FAILURES	2	/* consecutive failures: set aside */
#define MTA_ASIDE_BASE		5	/* seconds, doubled per failure */
#define MTA_ASIDE_MAX		300
#define MTA_ROUTE_IDLE		600	/* an unused route is forgotten */
#define MTA_BATCH_MS		20	/* envelopes gathered before a kick */
#define MTA_BATCH_MAX_MS	250	/* while one message's keep coming */
#define MTA_CONN_BACKLOG	2	/* messages waiting per connection
					 * before another is opened */
#define MTA_CLEAR_TTL		300	/* seconds a host whose STARTTLS
					 * failed is spoken to in clear */
#define MTA_BLOCKS_MAX		1024	/* pause mta from/for pairs */

/* the credentials of a route with a labelled URL */
#define MTA_CREDS_NONE		0	/* not needed */
#define MTA_CREDS_WANTED	1	/* to be asked of lookup */
#define MTA_CREDS_PENDING	2
#define MTA_CREDS_OK		3
/* the same states serve a route's helo-src names (MTA_HELOS_*) */

#define MTA_DSN_PARAMS_MAX	(40 + 3 * MAILADDR_TEXT_SIZE)

struct mta_envelope {
	TAILQ_ENTRY(mta_envelope) entry;
	uint64_t	 evpid;
	char		 rcpt[MAILADDR_TEXT_SIZE];
	char		 dsn[MTA_DSN_PARAMS_MAX];	/* " NOTIFY= ORCPT=" */
};

struct mta_message {
	TAILQ_ENTRY(mta_message) entry;
	uint32_t	 msgid;
	int		 fd;
	uint64_t	 size;
	char		 sender[MAILADDR_TEXT_SIZE];
	char		 dsn[ENVELOPE_DSN_ENVID_SIZE + 24];	/* RET ENVID */
	TAILQ_HEAD(, mta_envelope) evps;
	size_t		 nevps;
};

struct mta_host {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 name[256];
	uint32_t		 preference;	/* MX */
	int			 nconns;
	int			 failures;	/* in a row */
	time_t			 lastconn;	/* 0: never */
	time_t			 aside_until;
	time_t			 clear_until;	/* STARTTLS failed: clear */
};

struct mta_conn;

struct mta_route {
	TAILQ_ENTRY(mta_route)	 entry;
	uint64_t		 id;		/* for smtpctl, from 1 */
	char			*key;		/* action|destination */
	char			*action;
	char			*dest;		/* for logs and limits */
	int			 mx;		/* MX relay, else smarthost */
	int			 literal;	/* an address: no DNS */
	int			 lmtp;
	int			 port;
	int			 tls;		/* MTA_TLS_* */
	int			 tls_verify;
	char			 servername[256];	/* smarthost's */
	char			 label[64];	/* the URL's, for AUTH */
	char			*auth_table;
	int			 creds;		/* MTA_CREDS_* */
	uint64_t		 creds_reqid;
	char			 auth_user[MTA_AUTH_FIELD_MAX];
	char			 auth_pass[MTA_AUTH_FIELD_MAX];
	char			 helo[256];
	struct sockaddr_storage	 src[MTA_SRC_MAX];	/* `src` */
	socklen_t		 srclen[MTA_SRC_MAX];
	char			 src_helo[MTA_SRC_MAX][256];	/* helo-src */
	char			*src_table;	/* fetched `src <t>` */
	int			 srcs;		/* MTA_CREDS_* states */
	time_t			 srcs_when;	/* taken from the list */
	char			*helo_table;
	int			 helos;		/* MTA_CREDS_* states */
	size_t			 helos_waiting;
	int			 helos_failed;
	size_t			 nsrc, nextsrc;
	struct mta_host		 hosts[MTA_HOSTS_MAX];
	size_t			 nhosts;
	time_t			 resolved;	/* when; 0: not yet */
	uint64_t		 dns_reqid;	/* 0: none pending */
	struct event		*dns_timer;
	char			 error[MTA_REPLY_TEXT_MAX];	/* last */
	TAILQ_HEAD(, mta_message) pending;
	TAILQ_HEAD(, mta_conn)	 conns;
	int			 nconns;
	long long		 max_conn, max_conn_host, mail_max,
				 keepalive, max_failures;
	int			 family;	/* mta limit inet4/6; 0 */
	struct event		*kick;
	struct timeval		 gather_end;	/* latest batch kick; 0: none */
	time_t			 lastuse;
};

struct mta_conn {
	TAILQ_ENTRY(mta_conn)	 entry;
	uint64_t		 id;
	struct mta_route	*route;
	struct mta_host		*host;
	struct mta_session	*s;
	int			 srcidx;	/* in route->src, or -1 */
	int			 ready;
	int			 quitting;	/* QUIT sent: takes no work */
	struct mta_message	*msg;	/* in flight */
	struct mta_tx		 tx;
	struct mta_rcpt		 rcpts[MTA_RCPT_PER_TX];
	char			 mail_params[ENVELOPE_DSN_ENVID_SIZE + 64];
	long long		 nmsgs, nfailures;
	struct event		*idle;
};

/* the turn of an action's `relay host` list */
/* the envelopes of one message may come in more than one batch, with
 * another message's between them: the turns given out lately, by
 * message, so that they all take the same URL */
#define MTA_TURN_RECENT		32
#define MTA_TURN_SAME_SECONDS	5	/* later, a retry: the next URL */

struct mta_turn {
	TAILQ_ENTRY(mta_turn)	 entry;
	char			*action;
	struct {
		uint32_t	 msgid;
		size_t		 index;		/* its URL */
		time_t		 when;
	}			 recent[MTA_TURN_RECENT];
	size_t			 pos;		/* the oldest of recent */
	size_t			 next;
};

/* a source address and a domain the relay connects between no more */
struct mta_block {
	TAILQ_ENTRY(mta_block)	 entry;
	struct sockaddr_storage	 ss;
	char			 addr[NI_MAXHOST];	/* as shown */
	char			 domain[256];		/* lower case */
};

struct mta_state {
	TAILQ_HEAD(, mta_route)	 routes;
	TAILQ_HEAD(, mta_block)	 blocks;
	size_t			 nblocks;
	TAILQ_HEAD(, mta_turn)	 turns;
	TAILQ_HEAD(, mta_list)	 lists;		/* fetched tables */
	struct tree		 dns;		/* reqid -> route */
	struct tree		 creds;		/* reqid -> route */
	struct tree		 helos;		/* reqid -> struct mta_helo_req */
	struct tree		 domains;	/* reqid -> mta_domain_req */
	struct dict		 hoststats;	/* domain -> mta_hoststat */
	uint64_t		 next_id;
	uint64_t		 next_route_id;
	int			 nconns;
	int			 paused;
	struct event		*gc;
};

extern struct mta_state	*mta;

/* dispatcher_mta.c */
void	mta_route_kick(struct mta_route *);
/* mta_route_hosts_clear - R's hosts no longer set aside */
void	mta_route_hosts_clear(struct mta_route *);
void	mta_kick_all(void);
/* mta_host_turn - which of N relay URLs the message MSGID takes under
 * action A (MTA-06) */
size_t	mta_host_turn(const struct conf_action *, uint32_t, size_t);
/* mta_route_schedule - look at R once the current input is read */
void	mta_route_schedule(struct mta_route *);
/* mta_route_fail_pending - what waits for R gets STATUS */
void	mta_route_fail_pending(struct mta_route *, int, const char *);
/* mta_result - a failure's outcome to the queue (R may be NULL) */
void	mta_result(uint64_t, const struct mta_route *, uint64_t,
	    const char *, int, const char *);
/* mta_url_route - the route of action A to a relay URL, or NULL with
 * why */
struct mta_route *mta_url_route(const struct conf_action *, const char *,
	    char *, size_t);
/* mta_route_add - envelope EVPID (its body FD, SENDER, RCPT, E) joins
 * route R's transactions */
void	mta_route_add(struct mta_route *, uint64_t, int, const char *,
	    const char *, const struct envelope *);

/* dispatcher_mta_tables.c: `auth` (MTA-08), `helo-src` (MTA-10),
 * `relay domain` (MTA-07), asked of lookup */
void	mta_route_ask_creds(struct mta_route *);
void	mta_route_ask_helos(struct mta_route *);
/* mta_helos_forget - R goes: its helo-src questions answer nobody */
void	mta_helos_forget(struct mta_route *);
/* mta_domain_ask - the URL of E's domain in A's `domain` table; the
 * envelope then goes to that route, or fails for now */
void	mta_domain_ask(const struct conf_action *, uint64_t, int,
	    const char *, const char *, const struct envelope *);

/* a table not inline that the relay takes as a list (`src <t>`,
 * `relay host <t>`), fetched by lookup; used mta_list_ttl() seconds
 * (MTA_LIST_TTL, or -o mta-list-ttl), then fetched again (the old
 * values meanwhile).  A fetch that fails while old values serve is
 * tried again after MTA_LIST_RETRY seconds, doubled at each failure up
 * to MTA_LIST_RETRY_MAX, not at each use */
#define MTA_LIST_TTL		60
#define MTA_LIST_RETRY		5
#define MTA_LIST_RETRY_MAX	60

struct mta_list_wait;

struct mta_list {
	TAILQ_ENTRY(mta_list)	 entry;
	char			*table;
	int			 service;	/* K_SOURCE, K_RELAYHOST */
	char			**values;
	size_t			 n;
	time_t			 when;		/* fetched; 0: never */
	time_t			 retry;		/* failed: not asked before */
	time_t			 backoff;	/* failed: the next delay */
	uint64_t		 reqid;		/* asked; 0: not */
	int			 stale;		/* its table was reloaded:
						   the old values are not
						   used while it is asked */
	TAILQ_HEAD(, mta_list_wait) waiters;
};

typedef void (*mta_list_cb)(void *, int, const struct mta_list *);

/* mta_list_ttl - seconds a fetched list is used before it is asked
 * again */
time_t	mta_list_ttl(void);
/* mta_list_table - is T a table the relay fetches as a list (named, not
 * inline)? */
int	mta_list_table(const struct conf_table *);
/* mta_list_get - TABLE's list for SERVICE when fetched (or being
 * fetched again); else NULL, and CB(ARG, r, list) once it is: r 1
 * (values), 0 (the table is empty), -1 (cannot tell now) */
const struct mta_list *mta_list_get(const char *, int, mta_list_cb,
	    void *);
/* mta_list_forget - ARG goes: its waits answer nobody */
void	mta_list_forget(void *);
/* mta_route_ask_srcs - R's `src` addresses from its fetched table */
void	mta_route_ask_srcs(struct mta_route *);
/* mta_hosts_ask - `relay host <t>` fetched: the envelope goes to the
 * route of the URL its turn gives, or fails for now */
void	mta_hosts_ask(const struct conf_action *, uint64_t, int,
	    const char *, const char *, const struct envelope *);

/* dispatcher_mta_admin.c: outcomes by domain (MTA-23, MTA-16), paused
 * source/domain pairs (MTA-22), smtpctl's listings */
void	mta_hoststat_update(const char *, const char *, uint64_t, int);
/* mta_hoststat_expire - forget what is older than the time kept */
void	mta_hoststat_expire(time_t);
/* mta_route_domain - what `pause mta ... for DOMAIN` names of R */
const char *mta_route_domain(const struct mta_route *);
/* mta_src_blocked - is R's source K paused for R's domain? */
int	mta_src_blocked(const struct mta_route *, size_t);
/* mta_route_blocked - are all of R's sources paused? (0 without src) */
int	mta_route_blocked(const struct mta_route *);
/* mta_conn_blocked - was C made from a source paused since? */
int	mta_conn_blocked(const struct mta_conn *);

#endif /* DISPATCHER_MTA_INT_H */
