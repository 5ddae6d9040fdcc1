/*
 * codec_fuzz.c -- libFuzzer target for the daemon's message decoders
 * (smtpd/common/imsg_codec.c), driven through the codec table the
 * catalogue generates, so every message type is fuzzed, the ones control
 * clients send above all.  The first input byte picks the message type
 * (its high bit: whether a descriptor comes with it), the rest is its
 * payload.  Every decoder must refuse bad payloads with -1, never read
 * outside them and never abort; whatever it accepts must encode back to
 * exactly the same bytes (one encoding per message).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imsg_codec.h"
#include "smtpd.h"
#include "wire.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char	 out[IMSG_MAX_PAYLOAD];
	const struct msg_codec	*mc;
	struct wire_writer	 w;
	struct imsg		 imsg;
	union msg_any		 m;
	uint32_t		 type;

	if (size == 0 || size - 1 > IMSG_MAX_PAYLOAD)
		return 0;
	type = 1 + (data[0] & 0x7f) % (IMSG__MAX - 1);
	if ((mc = msg_codec(type)) == NULL)
		abort();
	memset(&imsg, 0, sizeof imsg);
	imsg.hdr.type = type;
	/* an exact-size copy, so ASan sees any read past the payload */
	imsg.data = size > 1 ? malloc(size - 1) : NULL;
	if (size > 1)
		memcpy(imsg.data, data + 1, size - 1);
	imsg.datalen = size - 1;
	/* fd 0 stands for a descriptor: decoders only move it */
	imsg.fd = (data[0] & 0x80) ? 0 : -1;

	if (mc->unpack(&imsg, &m) == 0) {
		if (imsg.fd != -1 || mc->size > sizeof m)
			abort();
		wire_writer_init(&w, out, sizeof out);
		if (mc->encode(&w, &m) == -1 || w.len != size - 1 ||
		    memcmp(out, data + 1, w.len) != 0)
			abort();
	}
	free(imsg.data);
	return 0;
}
