/*
 * api_wire_fuzz.c -- libFuzzer target for api/wire.c, the payload codec.
 *
 * The input is a small program followed by a payload: byte 0 gives the
 * number of getter calls, the next bytes pick each getter, the rest is
 * the payload they decode.  Any sequence must stay inside the payload
 * (ASan watches the exact-size buffer libFuzzer hands us), and whenever
 * every get succeeded, putting the decoded values back must reproduce
 * exactly the bytes consumed.  A mismatch aborts: that is a finding.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define WIRE_FUZZ_OPS_MAX	32
#define WIRE_FUZZ_NOPS		12

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* wire_fuzz_step - run getter op on r, echo what it decoded into w */
static int
wire_fuzz_step(int op, struct wire_reader *r, struct wire_writer *w)
{
	uint16_t		 u16;
	int32_t			 i32;
	uint32_t		 u32;
	uint64_t		 u64;
	size_t			 sz, n;
	time_t			 tt;
	unsigned char		 raw[7];
	const char		*s;
	const void		*p;
	struct sockaddr_storage	 ss;

	switch (op) {
	case 0:
		return wire_get_u16(r, &u16) == -1 ? -1 : wire_put_u16(w, u16);
	case 1:
		return wire_get_i32(r, &i32) == -1 ? -1 : wire_put_i32(w, i32);
	case 2:
		return wire_get_u32(r, &u32) == -1 ? -1 : wire_put_u32(w, u32);
	case 3:
		return wire_get_u64(r, &u64) == -1 ? -1 : wire_put_u64(w, u64);
	case 4:
		return wire_get_sz(r, &sz) == -1 ? -1 : wire_put_sz(w, sz);
	case 5:
		return wire_get_tt(r, &tt) == -1 ? -1 : wire_put_tt(w, tt);
	case 6:
		return wire_get_raw(r, raw, sizeof raw) == -1 ? -1 :
		    wire_put_raw(w, raw, sizeof raw);
	case 7:
		return wire_get_cstr(r, &s) == -1 ? -1 : wire_put_cstr(w, s);
	case 8:
		return wire_get_str(r, &s) == -1 ? -1 : wire_put_str(w, s);
	case 9:
		return wire_get_data(r, &p, &n) == -1 ? -1 :
		    wire_put_data(w, p, n);
	case 10:
		return wire_get_addr(r, (struct sockaddr *)&ss, sizeof ss,
		    &n) == -1 ? -1 :
		    wire_put_addr(w, (struct sockaddr *)&ss, n);
	default:
		return wire_get_rest(r, &p, &n) == -1 ? -1 :
		    wire_put_raw(w, p, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char	 echo[65536];
	struct wire_reader	 r;
	struct wire_writer	 w;
	const uint8_t		*ops;
	size_t			 nops, i;
	int			 failed = 0;

	if (size < 1 || size > sizeof echo)
		return 0;
	nops = data[0] % (WIRE_FUZZ_OPS_MAX + 1);
	if (size - 1 < nops)
		return 0;
	ops = data + 1;
	data += 1 + nops;
	size -= 1 + nops;

	wire_reader_init(&r, size ? data : NULL, size);
	wire_writer_init(&w, echo, sizeof echo);
	for (i = 0; i < nops; i++) {
		if (wire_fuzz_step(ops[i] % WIRE_FUZZ_NOPS, &r, &w) == -1)
			failed = 1;
		if (r.off > r.len)
			abort();
	}
	if (failed) {
		/* a failed reader must stay failed */
		if (r.error == 0 && w.error == 0)
			abort();
		if (r.error && wire_end(&r) != -1)
			abort();
		return 0;
	}
	/* every get succeeded: the echo is the consumed prefix, exactly */
	if (w.len != r.off || (w.len && memcmp(echo, data, w.len) != 0))
		abort();
	if ((wire_end(&r) == 0) != (r.off == size))
		abort();
	return 0;
}
