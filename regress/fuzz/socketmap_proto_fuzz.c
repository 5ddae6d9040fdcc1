/*
 * socketmap_proto_fuzz.c -- libFuzzer target for api/socketmap_proto.c,
 * the netstring reader and reply classifier that table-socketmap runs
 * on what a socketmap server sends (outside input).
 *
 * The first byte picks the payload limit; the rest is a server's byte
 * stream, fed as table-socketmap reads it: growing one chunk at a time
 * (chunk sizes from the data), each complete netstring classified and
 * consumed.  Nothing may crash or read past the bytes given (ASan); an
 * accepted netstring must lie inside the buffer, within the limit and
 * end in its comma; a refused one must come with a reason.  The
 * encoder is checked to produce what the decoder reads back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socketmap_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* socketmap_fuzz_roundtrip - encode a map/key, decode it back */
static void
socketmap_fuzz_roundtrip(const uint8_t *data, size_t size)
{
	char		 key[256], req[512];
	const char	*d, *err = NULL;
	size_t		 n = size < sizeof key - 1 ? size : sizeof key - 1;
	size_t		 klen, dlen, used;
	int		 len;

	memcpy(key, data, n);
	key[n] = '\0';
	klen = strlen(key);
	if ((len = socketmap_encode("map", key, req, sizeof req)) == -1)
		abort();
	if (socketmap_decode(req, (size_t)len, sizeof req, &d, &dlen, &used,
	    &err) != 1 || used != (size_t)len || dlen != 4 + klen ||
	    memcmp(d, "map ", 4) != 0 || memcmp(d + 4, key, klen) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum socketmap_status	 st;
	const char		*buf, *d, *text, *err;
	size_t			 max, have, off = 0, dlen, used, tlen, step;
	int			 r;

	if (size < 2 || size > 1 << 20)
		return 0;
	max = (size_t)data[0] * 64;
	buf = (const char *)data + 1;
	size--;
	socketmap_fuzz_roundtrip(data + 1, size);
	for (have = 0; have < size; ) {
		step = 1 + (unsigned char)buf[have] % 97;
		have = have + step > size ? size : have + step;
		for (;;) {
			err = NULL;
			r = socketmap_decode(buf + off, have - off, max, &d,
			    &dlen, &used, &err);
			if (r == 0)
				break;
			if (r == -1) {
				if (err == NULL)
					abort();
				return 0;
			}
			if (d < buf + off || dlen > max ||
			    used > have - off || buf[off + used - 1] != ',' ||
			    d + dlen != buf + off + used - 1)
				abort();
			err = NULL;
			if (socketmap_reply(d, dlen, &st, &text, &tlen,
			    &err) == -1) {
				if (err == NULL)
					abort();
			} else if (text < d || text + tlen != d + dlen ||
			    socketmap_status_name(st) == NULL)
				abort();
			off += used;
		}
	}
	return 0;
}
