/*
 * api_table_fuzz.c -- libFuzzer target for api/table_api.c, the table
 * protocol glue that parses the daemon's requests in every helper.
 *
 * A valid OPEN is sent first (unless the first input byte is odd), then
 * the input bytes follow as raw frames; the write side is shut down so
 * that table_api_dispatch_fd() sees EOF and returns.  It must return 0
 * or 1 and never crash, whatever the frames hold.  The callbacks echo
 * the key so that replies exercise the value path.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"

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
	unsigned char	open[IMSG_HEADER_SIZE + TABLE_OPEN_PARAMS_SIZE];
	struct imsg_hdr	hdr;
	uint32_t	version = PROC_TABLE_API_VERSION;
	int		sv[2], r, bufsz = 1 << 20;

	if (size < 1 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	/* room for every reply: the fuzzer never reads them */
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
	if ((data[0] & 1) == 0) {
		memset(open, 0, sizeof open);
		memset(&hdr, 0, sizeof hdr);
		hdr.type = PROC_TABLE_OPEN;
		hdr.len = sizeof open;
		memcpy(open, &hdr, sizeof hdr);
		memcpy(open + IMSG_HEADER_SIZE, &version, sizeof version);
		memcpy(open + IMSG_HEADER_SIZE + 4, "fuzz", 5);
		if (write(sv[0], open, sizeof open) != (ssize_t)sizeof open)
			abort();
	}
	if (size > 1 && write(sv[0], data + 1, size - 1) != (ssize_t)(size - 1))
		goto out;
	shutdown(sv[0], SHUT_WR);
	table_api_on_check(table_fuzz_check);
	table_api_on_lookup(table_fuzz_lookup);
	table_api_on_fetch(table_fuzz_fetch);
	r = table_api_dispatch_fd(sv[1]);
	if (r != 0 && r != 1)
		abort();
out:
	close(sv[0]);
	close(sv[1]);
	return 0;
}
