/*
 * imsg_codec.h -- the payload of every message of imsg.h, generated from
 * the catalogue: one struct msg_<stem>, one msg_send_<stem>() and one
 * msg_unpack_<stem>() per message, and a table of them by type.
 *
 * Call sites never encode fields by hand: msg_send_<stem>(p, &m) sends
 * a filled struct (a compound literal with designated fields reads
 * best), msg_unpack_<stem>(imsg, &m)
 * checks every field, the message's check and that the payload is
 * consumed exactly; it returns 0 or -1, and the caller hands a -1 to
 * mproc_bad_payload() (fatal from our own processes, a dropped
 * connection from a control client).  Strings and data in unpacked
 * structs point into the imsg and live as long as it does; an FD field
 * takes the imsg's descriptor, which is the caller's from then on.
 *
 * Field types (the wire layouts are api/wire.c's):
 *   U32 I32 U64 SZ  numbers;
 *   BOOL            i32, 0 or 1;           TRI       i32, -1, 0 or 1;
 *   PROC            i32, a process id;     CHILD     i32, a child process;
 *   TABLE_OP        i32, TABLE_OP_*;     DELIVERY  i32, DELIVERY_*;
 *   STR             tagged string, never NULL;  STR_OR_NULL  may be NULL;
 *   FD              the descriptor that travels with the message;
 *   DATA            the rest of the payload, at least one byte;
 *   NONE            nothing (the placeholder of NOFIELDS).
 * A message without an FD field is refused when it carries one.
 */
#ifndef SMTPD_IMSG_CODEC_H
#define SMTPD_IMSG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "mproc.h"

struct wire_writer;

/* the C member of each field type */
#define MSG_MEMBER_NONE(n)		char n;
#define MSG_MEMBER_U32(n)		uint32_t n;
#define MSG_MEMBER_I32(n)		int32_t n;
#define MSG_MEMBER_U64(n)		uint64_t n;
#define MSG_MEMBER_SZ(n)		size_t n;
#define MSG_MEMBER_BOOL(n)		int n;
#define MSG_MEMBER_TRI(n)		int n;
#define MSG_MEMBER_PROC(n)		enum proc_id n;
#define MSG_MEMBER_CHILD(n)		enum proc_id n;
#define MSG_MEMBER_TABLE_OP(n)		int n;
#define MSG_MEMBER_DELIVERY(n)		int n;
#define MSG_MEMBER_STR(n)		const char *n;
#define MSG_MEMBER_STR_OR_NULL(n)	const char *n;
#define MSG_MEMBER_FD(n)		int n;
#define MSG_MEMBER_DATA(n)		const void *n; size_t n##_len;

#define F(n, type)	MSG_MEMBER_##type(n)
#define X(id, stem, from, to, fields, check) \
	struct msg_##stem { fields };
IMSG_LIST(X)
#undef X
#undef F

/* msg_<stem> storage for any message: the largest payload struct */
union msg_any {
#define X(id, stem, from, to, fields, check) struct msg_##stem stem;
	IMSG_LIST(X)
#undef X
};

/*
 * msg_send_<stem> - encode and queue one message; 0, or -1 when it could
 * not be sent to a control client (one that cannot be encoded is
 * logged).  On a channel between our processes, a message that cannot
 * be encoded or queued is an internal inconsistency: fatal.
 * msg_unpack_<stem> - decode and check one message: 0 or -1.
 */
#define X(id, stem, from, to, fields, check)				\
	int	msg_send_##stem(struct mproc *, const struct msg_##stem *); \
	int	msg_unpack_##stem(struct imsg *, struct msg_##stem *);
IMSG_LIST(X)
#undef X

/* one message type's codec, for generic code (relays, fuzzing, tests) */
struct msg_codec {
	const char	*name;
	size_t		 size;		/* of its struct msg_<stem> */
	int		 has_fd;
	int		(*unpack)(struct imsg *, void *);
	/* encode - the payload of a struct msg_<stem>; 0 or -1 */
	int		(*encode)(struct wire_writer *, const void *);
};

/* msg_codec - the codec of a message type, or NULL when unknown */
const struct msg_codec	*msg_codec(uint32_t type);
/* msg_send - msg_send_<stem> chosen by type; m is its struct msg_<stem> */
int			 msg_send(struct mproc *, uint32_t type, const void *m);

/* msg_send_parent_conf - a configuration in chunks, then its length */
void	msg_send_parent_conf(struct mproc *, const unsigned char *, size_t);

#endif
