/*
 * mailaddr.h -- a mail address split into user and domain parts.
 *
 * The in-memory form of every address of an envelope (sender, rcpt,
 * dest, dsn-orcpt) and of the mproc "mailaddr" primitive (spec
 * libexec-protocols.md 3.2: char user[256] + char domain[256]).  The
 * null sender <> is the address with both parts empty, written "@".
 * This is only the envelope-level syntax: full RFC 5321 path parsing
 * belongs to the SMTP server.  What it must never do: accept or write a
 * part holding a control character (CR and LF above all, SEC-09).
 */
#ifndef SMTPD_MAILADDR_H
#define SMTPD_MAILADDR_H

#include <stddef.h>

#include "api_limits.h"

/* one definition, which helpers see as SMTPD_MAX*PARTSIZE (smtpd-api.h) */
#define MAILADDR_USER_SIZE	API_LOCALPART_SIZE	/* with the NUL (6.8) */
#define MAILADDR_DOMAIN_SIZE	API_DOMAINPART_SIZE	/* with the NUL (6.8) */
/* "user@domain": both parts, the '@' and the NUL */
#define MAILADDR_TEXT_SIZE	(MAILADDR_USER_SIZE + MAILADDR_DOMAIN_SIZE)

struct mailaddr {
	char	user[MAILADDR_USER_SIZE];
	char	domain[MAILADDR_DOMAIN_SIZE];
};

int	mailaddr_parse(struct mailaddr *, const char *, size_t, char *,
	    size_t);
int	mailaddr_format(const struct mailaddr *, char *, size_t);
int	mailaddr_is_null(const struct mailaddr *);
int	mailaddr_domain_ok(const char *);

#endif
