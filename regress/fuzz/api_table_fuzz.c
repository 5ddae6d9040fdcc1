/*
 * api_table_fuzz.c -- libFuzzer target for api/table_api.c, the table
 * protocol glue that decodes the daemon's requests in every helper with
 * api/table_proto.c (table_proto_decode_request; the codec alone is
 * fuzzed by table_proto_fuzz.c) and hands them to a driver.
 *
 * A valid OPEN is sent first (unless the first input byte is odd), then
 * the input bytes follow as raw frames; the write side is shut down so
 * that table_api_dispatch_fd() sees EOF and returns.  It must return 0
 * or 1 and never crash, whatever the frames hold.  The callbacks echo
 * the key so that replies exercise the value path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd-api.h"
#include "table_proto.h"
#include "fuzz_glue.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
table_fuzz_check(int service, struct dict *params, const char *key)
{
	return strlen(key) % 3 - 1;
}

static int
table_fuzz_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	return strlcpy(dst, key, sz) < sz ? 1 : -1;
}

static int
table_fuzz_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	return strlcpy(dst, "192.0.2.1", sz) < sz ? 1 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		open[TABLE_OPEN_PARAMS_SIZE];
	struct table_msg	m;
	struct wire_writer	w;
	int			sv[2], r = 0;

	if (size < 1 || size > FUZZ_GLUE_INPUT_MAX)
		return 0;
	if (fuzz_glue_open(sv) == -1)
		return 0;
	if ((data[0] & 1) == 0) {
		memset(&m, 0, sizeof m);
		m.type = PROC_TABLE_OPEN;
		m.version = PROC_TABLE_API_VERSION;
		m.name = "fuzz";
		wire_writer_init(&w, open, sizeof open);
		if (table_proto_encode_request(&m, &w) == -1)
			abort();
		fuzz_glue_handshake(sv, PROC_TABLE_OPEN, open, sizeof open);
	}
	if (fuzz_glue_feed(sv, data + 1, size - 1, -1) == -1)
		goto out;
	table_api_on_check(table_fuzz_check);
	table_api_on_lookup(table_fuzz_lookup);
	table_api_on_fetch(table_fuzz_fetch);
	r = table_api_dispatch_fd(sv[1]);
out:
	fuzz_glue_close(sv, r);
	return 0;
}
