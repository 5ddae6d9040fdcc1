/*
 * table_proto_fuzz.c -- libFuzzer target for api/table_proto.c, the
 * codec of the proc table protocol (libexec-protocols.md 4): above all
 * its reply decoder, which smtpd's table host (smtpd/table/table_proc.c)
 * feeds with whatever a helper writes, and its request decoder, which
 * every helper's glue (api/table_api.c) feeds with the daemon's frames.
 *
 * The first input byte picks the message type (modulo 8, so the types
 * that have no such message are tried too); the rest is the payload,
 * decoded both as a request and as a reply.  A reply is accepted only
 * with r in -1..1 and, for a found lookup or fetch, exactly one
 * NUL-terminated value.  Whatever decodes must encode again to the very
 * same bytes (one description of each payload; OPEN up to its name's
 * NUL, the padding after it being free), and nothing may read outside
 * the input, which is an exact-size copy so that ASan sees any overread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* tpfuzz_same - encode m with fn; the first n bytes must be the input's */
static void
tpfuzz_same(int (*fn)(const struct table_msg *, struct wire_writer *),
    const struct table_msg *m, const unsigned char *data, size_t len,
    size_t n)
{
	static unsigned char	buf[65536];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	if (fn(m, &w) == -1 || w.len != len || memcmp(buf, data, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_msg	 m;
	unsigned char		*copy;
	uint32_t		 type;
	size_t			 len, n;

	if (size == 0 || size > 65536)
		return 0;
	type = data[0] % 8;
	len = size - 1;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, len);

	if (table_proto_decode_request(type, copy, len, &m) == 0) {
		n = len;
		if (type == PROC_TABLE_OPEN)
			n = 4 + strlen(m.name) + 1;
		tpfuzz_same(table_proto_encode_request, &m, copy, len, n);
	} else if (m.error == NULL)
		abort();

	if (table_proto_decode_reply(type, copy, len, &m) == 0) {
		if (m.r < -1 || m.r > 1)
			abort();
		if (m.value != NULL && (m.r != 1 ||
		    !table_proto_has_value(type) ||
		    strlen(m.value) != m.valuelen ||
		    (const unsigned char *)m.value + m.valuelen !=
		    copy + len - 1))
			abort();
		tpfuzz_same(table_proto_encode_reply, &m, copy, len, len);
	} else if (m.error == NULL)
		abort();
	free(copy);
	return 0;
}
