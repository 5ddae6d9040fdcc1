/*
 * envelope.h -- the envelope, the unit of the queue, and its text form.
 *
 * One envelope is one recipient of one message: who sent it, to whom,
 * how it is delivered (mda, mta or bounce) and its retry state.  The
 * text form is the SMTPD_ENVELOPE_VERSION 3 "name: value" format of the
 * 6.8 daemon (spec libexec-protocols.md 5.6): the fs queue's envelope
 * files, the queue helper protocol and the mproc envelope primitive.
 * Ids follow spec 3.3: a msgid is a random nonzero u32, an evpid is
 * msgid << 32 | a random nonzero u32.
 * Used by queue, scheduler, lookup, dispatcher and smtpctl.  The codec
 * must never write a value that would not read back as itself: no line
 * break ever reaches an envelope line (SEC-09).
 */
#ifndef SMTPD_ENVELOPE_H
#define SMTPD_ENVELOPE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imsgbuf.h"
#include "mailaddr.h"

#define ENVELOPE_VERSION	3	/* SMTPD_ENVELOPE_VERSION of 6.8 */

/* the text travels in one imsg payload after an evpid (spec 5.2): 16360 */
#define ENVELOPE_TEXT_MAX	(IMSG_MAX_PAYLOAD - 8)

/* field buffers, each with its NUL; a longer value is an invalid envelope */
#define ENVELOPE_NAME_SIZE	256	/* dispatcher, smtpname, helo,
					   hostname: SMTPD_NAME_MAX + 1 */
#define ENVELOPE_TAG_SIZE	33	/* listener tag: CONF_TAG_MAX + 1 */
#define ENVELOPE_USERNAME_SIZE	256	/* authenticated user */
#define ENVELOPE_ERRORLINE_SIZE	2048	/* LINE_MAX of 6.8: 2047 chars */
#define ENVELOPE_MDA_EXEC_SIZE	2048	/* LINE_MAX of 6.8 */
#define ENVELOPE_SUBADDR_SIZE	256	/* SMTPD_SUBADDRESS_SIZE of 6.8 */
#define ENVELOPE_MDA_USER_SIZE	256	/* SMTPD_VUSERNAME_SIZE of 6.8 */
#define ENVELOPE_DSN_ENVID_SIZE	101	/* RFC 3461 4.4: ENVID <= 100 */

#define MSGID_TEXT_SIZE		9	/* "%08x" and the NUL */
#define EVPID_TEXT_SIZE		17	/* "%016llx" and the NUL */

/* the values are those of scheduler_info.type on the wire (spec 3.3) */
enum envelope_type {
	ENVELOPE_MDA = 0,		/* local delivery */
	ENVELOPE_MTA = 1,		/* relay */
	ENVELOPE_BOUNCE = 2		/* a report to generate */
};

/* flags kept in the text; any other bit is runtime state, never written */
#define ENVELOPE_F_AUTHENTICATED	0x01
#define ENVELOPE_F_BOUNCE		0x02
#define ENVELOPE_F_INTERNAL		0x04
#define ENVELOPE_F_TEXT_MASK		0x07

/* dsn-notify bits (RFC 3461 NOTIFY=) */
#define DSN_NOTIFY_SUCCESS	0x01
#define DSN_NOTIFY_FAILURE	0x02
#define DSN_NOTIFY_DELAY	0x04
#define DSN_NOTIFY_NEVER	0x08

enum envelope_dsn_ret {
	DSN_RET_UNSET = 0,		/* no RET=: not written */
	DSN_RET_FULL = 1,
	DSN_RET_HDRS = 2
};

enum envelope_bounce_type {
	BOUNCE_FAILED = 0,		/* "failed"; also read "error" */
	BOUNCE_DELAYED = 1,		/* "delayed"; also read "warn" */
	BOUNCE_DELIVERED = 2,		/* "delivered"; also read "dsn" */
	BOUNCE_RELAYED = 3		/* "relayed": to a next hop without
					   DSN (RFC 3461 4.3, MTA-18) */
};

struct envelope {
	uint64_t		 evpid;		/* not in the text */
	uint32_t		 version;	/* ENVELOPE_VERSION */
	enum envelope_type	 type;
	char			 dispatcher[ENVELOPE_NAME_SIZE];
	char			 tag[ENVELOPE_TAG_SIZE];
	char			 smtpname[ENVELOPE_NAME_SIZE];
	char			 helo[ENVELOPE_NAME_SIZE];
	char			 hostname[ENVELOPE_NAME_SIZE];
	char			 username[ENVELOPE_USERNAME_SIZE];
	char			 errorline[ENVELOPE_ERRORLINE_SIZE];
	/* the client: AF_UNSPEC none (not written), AF_UNIX "local",
	 * AF_INET, AF_INET6 (the port is not kept) */
	struct sockaddr_storage	 ss;
	struct mailaddr		 sender;	/* null sender: both parts "" */
	struct mailaddr		 rcpt;		/* as given in RCPT TO */
	struct mailaddr		 dest;		/* after expansion */
	time_t			 creation;	/* "ctime" */
	time_t			 lasttry;
	time_t			 lastbounce;
	time_t			 ttl;
	uint16_t		 retry;
	uint16_t		 flags;		/* ENVELOPE_F_* */
	uint8_t			 dsn_notify;	/* DSN_NOTIFY_* */
	enum envelope_dsn_ret	 dsn_ret;
	char			 dsn_envid[ENVELOPE_DSN_ENVID_SIZE];
	struct mailaddr		 dsn_orcpt;
	uint8_t			 esc_class;	/* 2, 4, 5; 0 = none */
	uint8_t			 esc_code;	/* x.Y.Z as Y * 10 + Z */
	char			 mda_exec[ENVELOPE_MDA_EXEC_SIZE];
	char			 mda_subaddress[ENVELOPE_SUBADDR_SIZE];
	char			 mda_user[ENVELOPE_MDA_USER_SIZE];
	time_t			 bounce_ttl;
	time_t			 bounce_delay;
	enum envelope_bounce_type bounce_type;
};

/* envelope.c */
struct envelope	*envelope_new(void);
void		 envelope_free(struct envelope **);
void		 envelope_set_errorline(struct envelope *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
uint32_t	 evpid_to_msgid(uint64_t);
uint64_t	 msgid_to_evpid(uint32_t, uint32_t);
int		 msgid_format(uint32_t, char *, size_t);
int		 evpid_format(uint64_t, char *, size_t);
int		 msgid_parse(const char *, uint32_t *);
int		 evpid_parse(const char *, uint64_t *);

/* envelope_text.c */
int		 envelope_dump(const struct envelope *, char *, size_t);
int		 envelope_load(struct envelope *, const char *, size_t, char *,
		    size_t);

#endif
