/*
 * smtp_parse.h -- the pure parsers of the SMTP server: command verbs,
 * paths (RFC 5321 4.1.2), MAIL/RCPT parameters (SIZE, BODY, AUTH, DSN
 * RFC 3461), domains and the sanitising of echoed text.
 *
 * Used by smtp_session.c, the unit tests and the fuzz targets.  No I/O,
 * no allocation, no globals: every function takes a bounded input (a
 * pointer and a length, or a NUL-terminated command line already cut
 * to the line limit) and writes only into the caller's structures.
 * What it must never do: accept a CR, LF, NUL or other control byte
 * into an address, or let an integer wrap (SIZE=).
 */
#ifndef SMTPD_SMTP_PARSE_H
#define SMTPD_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "mailaddr.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO, SMTP_VERB_EHLO, SMTP_VERB_MAIL, SMTP_VERB_RCPT,
	SMTP_VERB_DATA, SMTP_VERB_RSET, SMTP_VERB_NOOP, SMTP_VERB_HELP,
	SMTP_VERB_QUIT, SMTP_VERB_VRFY, SMTP_VERB_EXPN, SMTP_VERB_WIZ,
	SMTP_VERB_AUTH,
	SMTP_VERB_STARTTLS	/* added (tls) */
};

/* smtp_parse_verb - the verb of LINE; *ARGS points after it and its
 * blanks ("" when none).  MAIL and RCPT keep "FROM:" / "TO:" in ARGS. */
enum smtp_verb	smtp_parse_verb(const char *line, const char **args);

/* smtp_parse_domain - LEN bytes are a domain (LDH labels, <= 63 each,
 * <= 255 in all) or an address literal ([IPv4] / [IPv6:...]); 1 or 0 */
int	smtp_parse_domain(const char *, size_t len);

#define SMTP_PATH_NULL_OK	0x01	/* "<>" allowed (MAIL) */

/*
 * smtp_parse_path - a path at S ("<...>" with an optional source route,
 * which is dropped); an address without domain gets DEFDOMAIN.  On
 * success *END points after '>' and 0 is returned; -1 on any syntax
 * error.  "<>" gives the null address (both parts empty).
 */
int	smtp_parse_path(const char *s, const char **end, int flags,
	    const char *defdomain, struct mailaddr *);

/* what MAIL FROM parameters say */
struct smtp_mail_params {
	long long	size;		/* -1: not given */
	int		body8;		/* BODY=8BITMIME */
	int		dsn_ret;	/* 0 none, 1 FULL, 2 HDRS */
	char		envid[101];	/* xtext as given; "" none */
};

/* what RCPT TO parameters say */
struct smtp_rcpt_params {
	uint8_t		notify;		/* DSN_NOTIFY_* bits */
	struct mailaddr	orcpt;		/* empty: none */
};

/* parameter errors: the session turns each into its reply */
enum smtp_param_err {
	SMTP_PARAM_OK = 0,
	SMTP_PARAM_SYNTAX,	/* 501 5.5.4 Invalid parameter */
	SMTP_PARAM_UNKNOWN,	/* 503 5.5.4 Unsupported option */
	SMTP_PARAM_TOO_BIG,	/* 552 5.3.4 (SIZE above the limit) */
	SMTP_PARAM_NOTIFY,	/* 553 5.5.4 Invalid NOTIFY */
	SMTP_PARAM_ORCPT	/* 553 5.5.4 Invalid ORCPT */
};

/*
 * smtp_parse_mail_params / smtp_parse_rcpt_params - the blank separated
 * KEY[=VALUE] list at S.  DSN params are refused as unknown when
 * NO_DSN.  SIZE is checked against SIZE_MAX_ALLOWED (> 0).  On error
 * BAD (BADSZ bytes) holds the offending keyword, sanitised.
 */
enum smtp_param_err smtp_parse_mail_params(const char *s, int no_dsn,
	    long long size_max_allowed, struct smtp_mail_params *,
	    char *bad, size_t badsz);
enum smtp_param_err smtp_parse_rcpt_params(const char *s, int no_dsn,
	    struct smtp_rcpt_params *, char *bad, size_t badsz);

/* smtp_xtext_valid - LEN bytes are RFC 3461 xtext; 1 or 0 */
int	smtp_xtext_valid(const char *, size_t len);
/* smtp_xtext_decode - decode valid xtext into DST (NUL-terminated);
 * -1 when invalid, too long or decoding to a control byte */
int	smtp_xtext_decode(const char *, size_t len, char *dst, size_t dstsz);

/* smtp_sanitize - copy at most SRCLEN bytes of SRC into DST (DSTSZ,
 * NUL-terminated, truncated) with every control byte and DEL made '?' */
void	smtp_sanitize(char *dst, size_t dstsz, const char *src,
	    size_t srclen);

#endif
