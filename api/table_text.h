/*
 * table_text.h -- the one encoder and decoder of the OpenSMTPD 7.6+
 * table protocol, text lines (libexec-protocols.md 7): the daemon's
 * handshake (config|...), the helper's services (register|...), the
 * requests (table|0.1|TIME|NAME|OP|...) and the replies
 * (OP-result|ID|...).
 *
 * Used by the helper glue (api/table_api.c: decode config lines and
 * requests, encode register lines and replies) and by the daemon's
 * host of a text helper (smtpd/table/table_proc.c: the other four), so
 * the two sides cannot drift apart.  Lines are handled without their
 * '\n'; encoders append it.  Decoders split a caller's mutable line in
 * place (the fields point into it), never read past its NUL and answer
 * -1 with a reason for anything malformed.  Nothing here logs,
 * allocates or keeps state.
 */
#ifndef API_TABLE_TEXT_H
#define API_TABLE_TEXT_H

#include <stddef.h>

#include "table_service.h"

#define TABLE_TEXT_PROTOCOL	"0.1"
/* the 7.6 service "auth" (check user:password), which we never ask */
#define TABLE_TEXT_K_AUTH	0x1000
/* an id is a fresh %08x token per request */
#define TABLE_TEXT_ID_SIZE	9
/* one line, '\n' and NUL included: a value of API_TABLE_VALUE_MAX fits */
#define TABLE_TEXT_LINE_MAX	(16384 + 256)

enum table_text_op {
	TABLE_TEXT_NONE = 0,
	TABLE_TEXT_UPDATE,
	TABLE_TEXT_CHECK,
	TABLE_TEXT_LOOKUP,
	TABLE_TEXT_FETCH,
};

enum table_text_result {
	TABLE_TEXT_FOUND = 1,	/* found (check, lookup, fetch), ok (update) */
	TABLE_TEXT_NOT_FOUND,	/* not-found (not for update) */
	TABLE_TEXT_ERROR,	/* error, error|MESSAGE */
};

/* one request: update has no service and no key, fetch no key */
struct table_text_request {
	enum table_text_op	 op;
	enum table_service	 service;
	const char		*id;
	const char		*table;
	const char		*key;
	long long		 sec;		/* the daemon's clock */
	long			 usec;
	const char		*error;		/* decoder: why it is bad */
};

/* one reply: value for a found lookup or fetch, message for an error
 * (NULL if none) */
struct table_text_reply {
	enum table_text_op	 op;
	const char		*id;
	enum table_text_result	 result;
	const char		*value;
	const char		*message;
	const char		*error;		/* decoder: why it is bad */
};

/* table_text_op_name - "lookup", ... ("?" if none) */
const char	*table_text_op_name(enum table_text_op);

/*
 * Encoders write whole lines, '\n' included, NUL-terminated, into buf:
 * they return the length without the NUL, or -1 when a field is not
 * valid in a line (empty where it may not be, CR, LF, '|' but in the
 * last field) or the line does not fit bufsz.
 */
/* the daemon's handshake: smtpd-version, protocol, tablename, ready */
int	table_text_encode_config(char *buf, size_t bufsz,
	    const char *version, const char *table);
/* the helper's answer: one register|NAME per bit of SERVICES, ready */
int	table_text_encode_register(char *buf, size_t bufsz,
	    unsigned int services);
int	table_text_encode_request(char *buf, size_t bufsz,
	    const struct table_text_request *);
int	table_text_encode_reply(char *buf, size_t bufsz,
	    const struct table_text_reply *);

/*
 * Decoders take one line without its '\n' (a trailing '\r' is refused)
 * and split it in place.  0, or -1 with *error / m->error saying why.
 */
/* config|KEY|VALUE or config|ready (*key "ready", *value NULL) */
int	table_text_decode_config(char *line, const char **key,
	    const char **value, const char **error);
/* register|NAME (*service its bit, TABLE_TEXT_K_AUTH for auth) or
 * register|ready (*service 0) */
int	table_text_decode_register(char *line, unsigned int *service,
	    const char **error);
int	table_text_decode_request(char *line, struct table_text_request *);
int	table_text_decode_reply(char *line, struct table_text_reply *);

#endif
