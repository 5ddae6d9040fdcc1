/*
 * queue_proto_fuzz.c -- libFuzzer target for api/queue_proto.c, the
 * codec of the proc queue protocol: above all its reply decoder, which
 * smtpd's queue host (smtpd/queue/queue_proc.c) feeds with whatever a
 * helper writes.
 *
 * The first input byte picks the op (modulo QUEUE_OP__MAX); the rest is
 * the payload, decoded both as a request and as a reply.  Whatever
 * decodes must encode again to the very same bytes (one description of
 * each payload), and nothing may read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue_api.h"
#include "queue_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* qpfuzz_same - encode m with fn and compare with the input payload */
static void
qpfuzz_same(int (*fn)(const struct queue_msg *, struct wire_writer *),
    const struct queue_msg *m, const uint8_t *data, size_t len)
{
	static unsigned char	buf[16384];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	if (fn(m, &w) == -1 || w.len != len || memcmp(buf, data, len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_msg	m;
	enum queue_op		op;

	if (size < 1)
		return 0;
	op = (enum queue_op)(data[0] % QUEUE_OP__MAX);
	data++;
	size--;
	if (queue_proto_decode_request(op, data, size, &m) == 0)
		qpfuzz_same(queue_proto_encode_request, &m, data, size);
	if (queue_proto_decode_reply(op, data, size, &m) == 0) {
		/* LOAD's "r" is derived, not sent */
		qpfuzz_same(queue_proto_encode_reply, &m, data, size);
	}
	return 0;
}
