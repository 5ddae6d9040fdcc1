/*
 * scheduler_proto_fuzz.c -- libFuzzer target for api/scheduler_proto.c,
 * the codec of the proc scheduler protocol: above all its reply
 * decoder, which smtpd's scheduler host
 * (smtpd/scheduler/scheduler_proc.c) feeds with whatever a helper
 * writes.
 *
 * The first input byte picks the type (2..16), the second the capacity
 * the caller gives the reply's arrays; the rest is the payload, decoded
 * as a request and as a reply.  Nothing may be written past the
 * capacity or read past the input, and a decoded request must encode
 * again to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler_api.h"
#include "scheduler_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t		evpids[SCHEDULER_API_BATCH_MAX];
	static int		types[SCHEDULER_API_BATCH_MAX];
	static uint32_t		msgids[SCHEDULER_PROTO_MESSAGES_MAX];
	static struct evpstate	states[SCHEDULER_PROTO_ENVELOPES_MAX];
	static unsigned char	buf[16384];
	struct scheduler_msg	m;
	struct wire_writer	w;
	uint32_t		type;
	size_t			cap;

	if (size < 2)
		return 0;
	type = PROC_SCHEDULER_INIT + data[0] % 15;
	cap = data[1];
	data += 2;
	size -= 2;
	if (scheduler_proto_decode_request(type, data, size, &m) == 0) {
		wire_writer_init(&w, buf, sizeof buf);
		/* padding in a scheduler_info is sent as zeros: skip those */
		if (scheduler_proto_encode_request(&m, &w) == -1 ||
		    w.len != size || (type != PROC_SCHEDULER_INSERT &&
		    type != PROC_SCHEDULER_UPDATE &&
		    memcmp(buf, data, size) != 0))
			abort();
	}
	memset(&m, 0, sizeof m);
	m.evpids = evpids;
	m.types = types;
	m.msgids = msgids;
	m.states = states;
	m.cap = cap;
	if (scheduler_proto_decode_reply(type, data, size, &m) == 0 &&
	    (m.type == PROC_SCHEDULER_BATCH || m.type ==
	    PROC_SCHEDULER_MESSAGES || m.type == PROC_SCHEDULER_ENVELOPES) &&
	    m.count > cap)
		abort();
	return 0;
}
