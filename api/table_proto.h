/*
 * table_proto.h -- the one encoder and decoder of the proc table
 * protocol (libexec-protocols.md 4, PROC_TABLE_API_VERSION 2), requests
 * and replies.
 *
 * Used by the helper glue (api/table_api.c: decode requests, encode
 * replies) and by the daemon's host of a helper table
 * (smtpd/table/table_proc.c: encode requests, decode replies), so the
 * two sides cannot drift apart.  A message is named by its PROC_TABLE_*
 * type; a reply is named by the type of the request it answers.
 * Decoders check lengths exactly and never read past the payload: bad
 * input is a -1 with a reason, never a crash.  Nothing here logs or
 * allocates.
 */
#ifndef API_TABLE_PROTO_H
#define API_TABLE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "table_api.h"
#include "wire.h"

/*
 * One request or reply.  Which fields travel depends on type and
 * direction (sections 4.2-4.4); the decoders zero the others.  Strings
 * and params point into the payload decoded (or the caller's memory
 * encoded) and live as long as it.
 */
struct table_msg {
	uint32_t	 type;		/* PROC_TABLE_*: the request's */
	uint32_t	 version;	/* OPEN; checked by the caller */
	const char	*name;		/* OPEN: the table's name */
	int32_t		 service;	/* CHECK, LOOKUP, FETCH */
	size_t		 nparams;	/* key/value pairs in params */
	const void	*params;	/* nparams pairs of two cstr, raw */
	size_t		 paramslen;
	const char	*key;		/* CHECK, LOOKUP */
	int32_t		 r;		/* reply: -1, 0 or 1 */
	const char	*value;		/* LOOKUP and FETCH reply with r 1 */
	size_t		 valuelen;	/* strlen(value) */
	const char	*error;		/* decoders: why a payload is bad */
};

/* table_proto_name - "LOOKUP", for the logs ("?" if unknown) */
const char	*table_proto_name(uint32_t type);
/* table_proto_has_value - 1 if a found reply to TYPE carries a value */
int		 table_proto_has_value(uint32_t type);

/* encoders return 0, or -1 when the fields are not a valid message of
 * m->type or do not fit w */
int	table_proto_encode_request(const struct table_msg *,
	    struct wire_writer *);
int	table_proto_encode_reply(const struct table_msg *,
	    struct wire_writer *);
/* decoders fill m from a payload of TYPE (a reply: the request's type);
 * 0, or -1 on a bad payload with m->error saying why */
int	table_proto_decode_request(uint32_t type, const void *, size_t,
	    struct table_msg *m);
int	table_proto_decode_reply(uint32_t type, const void *, size_t,
	    struct table_msg *m);
/*
 * table_proto_param_next - the pair at *off (0 first) of a decoded
 * request's params, *off moved past it: 1, or 0 after the last pair.
 */
int	table_proto_param_next(const struct table_msg *, size_t *off,
	    const char **key, const char **value);

#endif
