/*
 * smtp_auth.h -- the decoders of the SMTP AUTH exchange (RFC 4954):
 * a client's base64 response, PLAIN's NUL-separated fields (RFC 4616),
 * LOGIN's single fields.  Pure functions over bounded buffers, used by
 * smtp_auth.c (the exchange) and the fuzz target; they never log (the
 * input holds a password) and never keep anything.
 */
#ifndef SMTPD_SMTP_AUTH_H
#define SMTPD_SMTP_AUTH_H

#include <stddef.h>

#define SMTP_AUTH_LINE_MAX	12288	/* RFC 4954 4: a response line */
#define SMTP_AUTH_DECODED_MAX	(SMTP_AUTH_LINE_MAX / 4 * 3)
#define SMTP_AUTH_USER_MAX	256	/* a user name, with its NUL */
#define SMTP_AUTH_PASS_MAX	1024	/* a password, with its NUL */

enum smtp_auth_status {
	SMTP_AUTH_OK,
	SMTP_AUTH_CANCEL,	/* "*" (501) */
	SMTP_AUTH_TOO_LONG,	/* above SMTP_AUTH_LINE_MAX (500 5.5.6) */
	SMTP_AUTH_BASE64,	/* not base64 (501 5.5.2) */
	SMTP_AUTH_MALFORMED,	/* PLAIN without its two NULs (501 5.5.2) */
	SMTP_AUTH_REFUSED	/* decoded, but no user/password can match:
				 * empty, too long, control characters, an
				 * authzid other than the user (535) */
};

/* smtp_auth_decode - the response LINE in DST (NUL-terminated; its
 * length in *LEN); "=" is an empty response */
enum smtp_auth_status smtp_auth_decode(const char *line, char *dst,
	    size_t dstsz, size_t *len);
/* smtp_auth_plain - BUF (LEN bytes) "authzid NUL user NUL password"
 * into USER and PASS (SMTP_AUTH_USER_MAX, SMTP_AUTH_PASS_MAX bytes) */
enum smtp_auth_status smtp_auth_plain(const char *buf, size_t len,
	    char *user, char *pass);
/* smtp_auth_field - BUF (LEN bytes) a LOGIN user (ISUSER) or password
 * into DST (SMTP_AUTH_USER_MAX or SMTP_AUTH_PASS_MAX bytes) */
enum smtp_auth_status smtp_auth_field(const char *buf, size_t len,
	    int isuser, char *dst);

#endif
