/*
 * queue_proto.h -- the one encoder and decoder of the proc queue
 * protocol (libexec-protocols.md 5), both directions, both numberings.
 *
 * Used by the helper glue (api/queue_api.c: decode requests, encode
 * replies) and by the daemon's host of a helper-hosted queue
 * (smtpd/queue/queue_proc.c: encode requests, decode replies), so the
 * two sides cannot drift apart.  An operation is named by enum queue_op
 * whatever its number on the wire; queue_proto_type and queue_proto_op
 * translate under the daemon (6.4-6.8) or the extras numbering.
 * Decoders check lengths exactly and never read past the payload: bad
 * input is a -1, never a crash.  Nothing here logs or allocates.
 */
#ifndef API_QUEUE_PROTO_H
#define API_QUEUE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum queue_op {
	QUEUE_OP_INIT,
	QUEUE_OP_CLOSE,
	QUEUE_OP_MESSAGE_CREATE,
	QUEUE_OP_MESSAGE_DELETE,
	QUEUE_OP_MESSAGE_COMMIT,
	QUEUE_OP_MESSAGE_FD_R,
	QUEUE_OP_MESSAGE_CORRUPT,	/* extras numbering only */
	QUEUE_OP_MESSAGE_UNCORRUPT,	/* extras numbering only */
	QUEUE_OP_ENVELOPE_CREATE,
	QUEUE_OP_ENVELOPE_DELETE,
	QUEUE_OP_ENVELOPE_LOAD,
	QUEUE_OP_ENVELOPE_UPDATE,
	QUEUE_OP_ENVELOPE_WALK,
	QUEUE_OP_MESSAGE_WALK,		/* extras numbering only */
	QUEUE_OP__MAX
};

/*
 * One request or reply.  Which fields travel depends on op and
 * direction (section 5.2); the others are ignored by the encoders and
 * zeroed by the decoders.  data points into the payload decoded (or the
 * caller's buffer encoded) and lives as long as it.  fd travels beside
 * the payload (SCM_RIGHTS) and is not touched here; status is what a
 * host tells its caller (queue_backend_call, smtpd's queue_proc.c).
 */
struct queue_msg {
	enum queue_op	 op;
	uint32_t	 version;	/* INIT request */
	uint32_t	 msgid;
	uint64_t	 evpid;
	const void	*data;		/* envelope bytes */
	size_t		 len;
	int32_t		 r;		/* reply result */
	int		 fd;
	int		 status;	/* not encoded: the QUEUE_* result */
};

/* queue_proto_name - "ENVELOPE_CREATE", for the logs */
const char	*queue_proto_name(enum queue_op);
/* queue_proto_type - the wire type of op, or -1 if that numbering lacks it */
int		 queue_proto_type(int extras, enum queue_op);
/* queue_proto_op - the op of a wire type, or -1 */
int		 queue_proto_op(int extras, uint32_t type);
/* queue_proto_request_fd - 1 if the request carries an fd (COMMIT) */
int		 queue_proto_request_fd(enum queue_op);

/* encoders return 0, or -1 when the fields do not fit w (w's error set) */
int	queue_proto_encode_request(const struct queue_msg *,
	    struct wire_writer *);
int	queue_proto_encode_reply(const struct queue_msg *,
	    struct wire_writer *);
/* decoders fill m (op given) from a payload; 0, or -1 on a bad payload */
int	queue_proto_decode_request(enum queue_op, const void *, size_t,
	    struct queue_msg *m);
int	queue_proto_decode_reply(enum queue_op, const void *, size_t,
	    struct queue_msg *m);

#endif
