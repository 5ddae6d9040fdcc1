/*
 * scheduler_proto.h -- the one encoder and decoder of the proc scheduler
 * protocol (libexec-protocols.md 6), requests and replies.
 *
 * Used by the helper glue (api/scheduler_api.c: decode requests, encode
 * replies) and by the daemon's host of a helper-hosted scheduler
 * (smtpd/scheduler/scheduler_proc.c: encode requests, decode replies).
 * One numbering exists; a message is named by its PROC_SCHEDULER_* type.
 * Decoders check lengths exactly, copy arrays only into the caller's
 * storage within its capacity and never read past the payload: bad
 * input is a -1, never a crash.  Nothing here logs or allocates.
 */
#ifndef API_SCHEDULER_PROTO_H
#define API_SCHEDULER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "imsgbuf.h"
#include "scheduler_api.h"
#include "wire.h"

/* the most msgids / evpstates one reply can carry */
#define SCHEDULER_PROTO_MESSAGES_MAX	(IMSG_MAX_PAYLOAD / sizeof(uint32_t))
#define SCHEDULER_PROTO_ENVELOPES_MAX	(IMSG_MAX_PAYLOAD / \
					    sizeof(struct evpstate))

/*
 * One request or reply.  Which fields travel depends on type and
 * direction (section 6.1); the decoders zero the others.  The arrays
 * belong to the caller: an encoder reads count entries of them, a
 * decoder writes at most cap entries.
 */
struct scheduler_msg {
	uint32_t		 type;		/* PROC_SCHEDULER_* */
	uint32_t		 version;	/* INIT */
	struct scheduler_info	 si;		/* INSERT, UPDATE (both ways) */
	uint32_t		 msgid;		/* COMMIT, ROLLBACK, MESSAGES */
	uint64_t		 id;		/* evpid or msgid; ENVELOPES */
	uint64_t		 holdq;		/* HOLD, RELEASE */
	int32_t			 dtype;		/* RELEASE: delivery type */
	int32_t			 n;		/* RELEASE: how many, -1 all */
	int32_t			 typemask;	/* BATCH */
	size_t			 count;		/* request: most wanted;
						   reply: entries, or COMMIT's
						   and ROLLBACK's n */
	int32_t			 r;
	int32_t			 delay;		/* BATCH reply with r == 0 */
	uint64_t		*evpids;	/* BATCH reply */
	int			*types;		/* BATCH reply */
	uint32_t		*msgids;	/* MESSAGES reply */
	struct evpstate		*states;	/* ENVELOPES reply */
	size_t			 cap;		/* decoders: array capacity */
	int			 tempfail;	/* not encoded: a host got no
						   answer (smtpd's hosts) */
};

/* scheduler_proto_name - "BATCH", for the logs ("?" if unknown) */
const char	*scheduler_proto_name(uint32_t type);

/* encoders return 0, or -1 when the fields do not fit w (w's error set) */
int	scheduler_proto_encode_request(const struct scheduler_msg *,
	    struct wire_writer *);
int	scheduler_proto_encode_reply(const struct scheduler_msg *,
	    struct wire_writer *);
/* decoders fill m (type given; for replies, the arrays and cap set by
 * the caller are kept); 0, or -1 on a bad payload */
int	scheduler_proto_decode_request(uint32_t type, const void *, size_t,
	    struct scheduler_msg *m);
int	scheduler_proto_decode_reply(uint32_t type, const void *, size_t,
	    struct scheduler_msg *m);

#endif
