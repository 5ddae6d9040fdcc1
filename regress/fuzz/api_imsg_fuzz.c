/*
 * api_imsg_fuzz.c -- libFuzzer target for api/imsgbuf.c, the framing.
 *
 * Arbitrary bytes go to an imsgbuf two ways: copied straight into its
 * input buffer, and written through a real socketpair in chunks whose
 * sizes come from the input, so a frame may be split anywhere.  Frames
 * are drained with imsg_get until it reports 0 or -1.  Both paths must
 * yield the same frames; each frame must be self-consistent and survive
 * a compose/read round trip.  Any crash, leak or abort is a finding.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsgbuf.h"

#define IMSG_FUZZ_FRAMES_MAX	512

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct imsg_fuzz_frame {
	uint32_t	type;
	uint16_t	len;
	size_t		off;	/* of the payload in the input */
};

/* imsg_fuzz_check - invariants of one frame; abort on a violation */
static void
imsg_fuzz_check(const struct imsg *imsg)
{
	if (imsg->hdr.len < IMSG_HEADER_SIZE || imsg->hdr.len > IMSG_MAX_SIZE)
		abort();
	if (imsg->datalen != (size_t)imsg->hdr.len - IMSG_HEADER_SIZE)
		abort();
	if (imsg->fd != -1)		/* no fd was ever sent */
		abort();
	/* the payload is readable end to end and NUL-guarded */
	if (((const unsigned char *)imsg->data)[imsg->datalen] != '\0')
		abort();
}

/* imsg_fuzz_direct - parse data placed straight in the input buffer */
static size_t
imsg_fuzz_direct(const uint8_t *data, size_t size,
    struct imsg_fuzz_frame *fr, int *bad)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	size_t		 n = 0;
	int		 r;

	if (imsgbuf_init(&ib, -1) == -1)
		return 0;
	if (size > ib.rsize)
		size = ib.rsize;
	memcpy(ib.rbuf, data, size);
	ib.rlen = size;
	while ((r = imsg_get(&ib, &imsg)) == 1) {
		imsg_fuzz_check(&imsg);
		if (n < IMSG_FUZZ_FRAMES_MAX) {
			fr[n].type = imsg.hdr.type;
			fr[n].len = imsg.hdr.len;
			fr[n].off = ib.rpos - imsg.datalen;
			if (memcmp(imsg.data, data + fr[n].off,
			    imsg.datalen) != 0)
				abort();
		}
		n++;
		imsg_free(&imsg);
	}
	*bad = r == -1;
	if (r == -1 && errno != EBADMSG)
		abort();
	imsgbuf_clear(&ib);
	return n;
}

/* imsg_fuzz_stream - the same bytes through a socket, in chunks */
static void
imsg_fuzz_stream(const uint8_t *data, size_t size, const uint8_t *chunks,
    size_t nchunks, const struct imsg_fuzz_frame *fr, size_t nfr, int bad)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	size_t		 off = 0, c = 0, n = 0, len;
	int		 sv[2], r = 0;

	if (size > 32768)	/* stay under the socket buffer */
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return;
	if (imsgbuf_init(&ib, sv[1]) == -1)
		goto out;
	while (off < size && r != -1) {
		len = nchunks ? (size_t)chunks[c++ % nchunks] * 7 + 1 : size;
		if (len > size - off)
			len = size - off;
		if (write(sv[0], data + off, len) != (ssize_t)len)
			abort();
		off += len;
		if (imsgbuf_read(&ib) <= 0)
			abort();
		while ((r = imsg_get(&ib, &imsg)) == 1) {
			imsg_fuzz_check(&imsg);
			if (n < nfr && n < IMSG_FUZZ_FRAMES_MAX &&
			    (imsg.hdr.type != fr[n].type ||
			    imsg.hdr.len != fr[n].len))
				abort();
			n++;
			imsg_free(&imsg);
		}
	}
	if (n != nfr || (r == -1) != bad)
		abort();
	/* EOF after the bytes: a clean 0, whatever was left half-framed */
	close(sv[0]);
	sv[0] = -1;
	if (!bad && imsgbuf_read(&ib) != 0)
		abort();
	imsgbuf_clear(&ib);
out:
	if (sv[0] != -1)
		close(sv[0]);
	close(sv[1]);
}

/* imsg_fuzz_echo - compose the first frame again and read it back */
static void
imsg_fuzz_echo(const uint8_t *data, const struct imsg_fuzz_frame *fr)
{
	struct imsgbuf	 wb, rb;
	struct imsg	 imsg;
	size_t		 dlen = fr->len - IMSG_HEADER_SIZE;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return;
	if (imsgbuf_init(&wb, sv[0]) == 0 && imsgbuf_init(&rb, sv[1]) == 0) {
		if (imsg_compose(&wb, fr->type, 0, -1, data + fr->off,
		    dlen) == -1 || imsgbuf_flush(&wb) == -1)
			abort();
		if (imsg_read_one(&rb, &imsg) != 1)
			abort();
		if (imsg.hdr.type != fr->type || imsg.datalen != dlen ||
		    (dlen && memcmp(imsg.data, data + fr->off, dlen) != 0))
			abort();
		imsg_free(&imsg);
		imsgbuf_clear(&wb);
		imsgbuf_clear(&rb);
	}
	close(sv[0]);
	close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imsg_fuzz_frame	 fr[IMSG_FUZZ_FRAMES_MAX];
	size_t				 nfr, nchunks;
	int				 bad = 0;

	/* byte 0: how many chunk-size bytes follow; then the stream */
	if (size < 1)
		return 0;
	nchunks = data[0] % 8;
	if (size - 1 < nchunks)
		return 0;
	nfr = imsg_fuzz_direct(data + 1 + nchunks, size - 1 - nchunks, fr,
	    &bad);
	imsg_fuzz_stream(data + 1 + nchunks, size - 1 - nchunks, data + 1,
	    nchunks, fr, nfr, bad);
	if (nfr > 0)
		imsg_fuzz_echo(data + 1 + nchunks, &fr[0]);
	return 0;
}
