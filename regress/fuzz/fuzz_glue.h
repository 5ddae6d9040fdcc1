/*
 * fuzz_glue.h -- what the fuzz targets of the helper glue share
 * (api_table_fuzz.c, queue_api_fuzz.c, scheduler_api_fuzz.c).
 *
 * Each target plays the daemon on one end of a socketpair: an optional
 * good handshake frame, then the fuzzer's bytes as raw frames, then
 * EOF; the glue's dispatch runs in-process on the other end and must
 * return 0 or 1, never crash.  Replies are never read, so the socket
 * buffers are made large enough to hold them all.  Fuzz targets do not
 * link regress/lib: these are static inline functions.
 */
#ifndef REGRESS_FUZZ_GLUE_H
#define REGRESS_FUZZ_GLUE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "imsg_frame.h"

#define FUZZ_GLUE_INPUT_MAX	65536

/* fuzz_glue_open - the socketpair; sv[1] is the helper's end; 0 or -1 */
static inline int
fuzz_glue_open(int sv[2])
{
	int	bufsz = 1 << 20;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	/* room for every reply: the fuzzer never reads them */
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
	return 0;
}

/* fuzz_glue_handshake - a well-formed first request; it must go out */
static inline void
fuzz_glue_handshake(int sv[2], uint32_t type, const void *payload,
    size_t len)
{
	if (imsg_frame_write(sv[0], type, (uint16_t)(IMSG_HEADER_SIZE + len),
	    0, payload, len, -1) == -1)
		abort();
}

/* fuzz_glue_feed - the fuzzer's bytes as they are, fd (-1: none) riding
 * on them, then EOF for the helper; 0, or -1 if they did not go out */
static inline int
fuzz_glue_feed(int sv[2], const uint8_t *data, size_t size, int fd)
{
	if (size > 0 &&
	    imsg_frame_write_raw(sv[0], data, size, fd) != (ssize_t)size)
		return -1;
	shutdown(sv[0], SHUT_WR);
	return 0;
}

/* fuzz_glue_close - check the dispatch status r, release the pair */
static inline void
fuzz_glue_close(int sv[2], int r)
{
	if (r != 0 && r != 1)
		abort();
	close(sv[0]);
	close(sv[1]);
}

#endif
