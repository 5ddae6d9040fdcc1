/*
 * socketmap_proto.h -- the socketmap protocol, as Sendmail and Postfix
 * speak it: a request is the netstring "<len>:<map> <key>,", a reply
 * the netstring of "OK <value>", "NOTFOUND ", "TEMP <reason>",
 * "TIMEOUT <reason>" or "PERM <reason>".
 *
 * Used by libexec/table-socketmap (the client) and by its fuzz target.
 * The decoder takes bytes as they arrive from a server (outside input)
 * and never trusts a length: a netstring longer than the caller's
 * limit, a length with other than digits or with leading zeros, or a
 * netstring not closed by its comma is an error with a reason, never
 * a read past the bytes given.  No I/O and no allocation here.
 */
#ifndef API_SOCKETMAP_PROTO_H
#define API_SOCKETMAP_PROTO_H

#include <stddef.h>

/* the reply ceiling when the config says nothing (Postfix's default) */
#define SOCKETMAP_REPLY_MAX	100000
/* "<len>:" of a netstring: at most this many length digits */
#define SOCKETMAP_LEN_DIGITS	10

enum socketmap_status {
	SOCKETMAP_OK = 0,	/* the value follows */
	SOCKETMAP_NOTFOUND,
	SOCKETMAP_TEMP,
	SOCKETMAP_TIMEOUT,
	SOCKETMAP_PERM,
};

/*
 * socketmap_encode - the request for KEY in map NAME into dst: its
 * length, or -1 when it does not fit, the name is empty or holds a
 * space, ':' or ','.
 */
int	 socketmap_encode(const char *name, const char *key, char *dst,
	    size_t dstsz);

/*
 * socketmap_decode - one netstring from the LEN bytes at BUF, whose
 * payload may hold at most MAX bytes.  Returns 1 with *data, *dlen set
 * and *used the bytes it took (comma included), 0 when more bytes are
 * needed, -1 with the reason in *err (a static string) on a bad one.
 */
int	 socketmap_decode(const char *buf, size_t len, size_t max,
	    const char **data, size_t *dlen, size_t *used, const char **err);

/*
 * socketmap_reply - classify the payload of a reply: its status, with
 * *text (not NUL-terminated) and *tlen the value or the reason.
 * Returns -1 with the reason in *err for anything else.
 */
int	 socketmap_reply(const char *data, size_t dlen,
	    enum socketmap_status *status, const char **text, size_t *tlen,
	    const char **err);

/* socketmap_status_name - "OK", "NOTFOUND", ... */
const char *socketmap_status_name(enum socketmap_status);

#endif
