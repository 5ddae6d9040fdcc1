/*
 * api_imsgbuf_test.c -- unit tests for api/imsgbuf.c, the imsg framing.
 *
 * Everything runs over a real AF_UNIX socketpair inside one process: one
 * end is an imsgbuf, the other is either a second imsgbuf or a raw fd on
 * which the test writes hand-made bytes.  Checks the header layout byte
 * for byte (libexec-protocols.md section 2), framing across and within
 * reads, the size limits, malformed headers, fd passing and EOF.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsgbuf.h"
#include "test.h"

/* imsgbuf_test_pair - a socketpair, or exit: the test cannot go on */
static void
imsgbuf_test_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(2);
	}
}

/* imsgbuf_test_hdr - build a raw 16-byte header in native order */
static void
imsgbuf_test_hdr(unsigned char *p, uint32_t type, uint16_t len,
    uint16_t flags, uint32_t peerid, uint32_t pid)
{
	memcpy(p, &type, 4);
	memcpy(p + 4, &len, 2);
	memcpy(p + 6, &flags, 2);
	memcpy(p + 8, &peerid, 4);
	memcpy(p + 12, &pid, 4);
}

/* imsgbuf_test_layout - the bytes on the wire are the OpenBSD header */
static void
imsgbuf_test_layout(void)
{
	struct imsgbuf	 ib;
	unsigned char	 payload[2052], buf[4096];
	uint32_t	 u32;
	uint16_t	 u16;
	ssize_t		 n;
	int		 sv[2];

	imsgbuf_test_pair(sv);
	imsgbuf_init(&ib, sv[0]);
	memset(payload, 0, sizeof payload);
	u32 = 2;
	memcpy(payload, &u32, 4);
	memcpy(payload + 4, "spy", 4);
	CHECK(imsg_compose(&ib, 2, 0x11223344, -1, payload, sizeof payload) == 0,
	    "layout: OPEN frame composed");
	CHECK(imsgbuf_queued(&ib) == 1, "layout: one frame queued");
	CHECK(imsgbuf_flush(&ib) == 0 && imsgbuf_queued(&ib) == 0,
	    "layout: flushed");
	n = recv(sv[1], buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT);
	CHECK(n == 2068, "layout: OPEN frame is 2068 bytes on the wire");
	memcpy(&u32, buf, 4);
	CHECK(u32 == 2, "layout: offset 0 is type u32 = 2");
	memcpy(&u16, buf + 4, 2);
	CHECK(u16 == 2068, "layout: offset 4 is len u16 = 2068");
	CHECK(buf[4] == 0x14 && buf[5] == 0x08, "layout: len is native LE");
	memcpy(&u16, buf + 6, 2);
	CHECK(u16 == 0, "layout: offset 6 is flags u16 = 0 without fd");
	memcpy(&u32, buf + 8, 4);
	CHECK(u32 == 0x11223344, "layout: offset 8 is peerid u32");
	memcpy(&u32, buf + 12, 4);
	CHECK(u32 == (uint32_t)getpid(), "layout: offset 12 is pid u32");
	CHECK(memcmp(buf + 16, "\x02\x00\x00\x00spy\x00", 8) == 0,
	    "layout: payload follows at offset 16 (spec 4.2 example)");
	imsgbuf_clear(&ib);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_split - one frame written a byte at a time */
static void
imsgbuf_test_split(void)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	unsigned char	 frame[16 + 5];
	size_t		 i;
	int		 sv[2], r = 0, early = 0;

	imsgbuf_test_pair(sv);
	imsgbuf_init(&ib, sv[1]);
	imsgbuf_test_hdr(frame, 7, sizeof frame, 0, 9, 1234);
	memcpy(frame + 16, "hello", 5);
	for (i = 0; i < sizeof frame; i++) {
		if (write(sv[0], frame + i, 1) != 1)
			break;
		if (imsgbuf_read(&ib) != 1)
			break;
		r = imsg_get(&ib, &imsg);
		if (i + 1 < sizeof frame && r != 0)
			early = 1;
	}
	CHECK(i == sizeof frame && !early,
	    "split: no frame before its last byte arrives");
	CHECK(r == 1 && imsg.hdr.type == 7 && imsg.hdr.len == sizeof frame &&
	    imsg.hdr.peerid == 9 && imsg.hdr.pid == 1234 && imsg.fd == -1,
	    "split: frame complete at its last byte, header decoded");
	CHECK(r == 1 && imsg.datalen == 5 &&
	    memcmp(imsg.data, "hello", 5) == 0, "split: payload intact");
	if (r == 1)
		imsg_free(&imsg);
	CHECK(imsg_get(&ib, &imsg) == 0, "split: nothing more buffered");
	imsgbuf_clear(&ib);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_many - many frames in one read, partial tail kept */
static void
imsgbuf_test_many(void)
{
	struct imsgbuf	 wb, rb;
	struct imsg	 imsg;
	uint32_t	 i, v;
	int		 sv[2], bad = 0, got = 0;

	imsgbuf_test_pair(sv);
	imsgbuf_init(&wb, sv[0]);
	imsgbuf_init(&rb, sv[1]);
	for (i = 0; i < 200; i++)
		if (imsg_compose(&wb, 100 + i, 0, -1, &i, sizeof i) == -1)
			bad = 1;
	CHECK(!bad && imsgbuf_queued(&wb) == 200, "many: 200 frames queued");
	CHECK(imsgbuf_flush(&wb) == 0, "many: flushed");
	CHECK(imsgbuf_read(&rb) == 200 * 20, "many: all 200 frames in one read");
	while (imsg_get(&rb, &imsg) == 1) {
		memcpy(&v, imsg.data, sizeof v);
		if (imsg.hdr.type != 100 + (uint32_t)got || v != (uint32_t)got ||
		    imsg.datalen != 4)
			bad = 1;
		got++;
		imsg_free(&imsg);
	}
	CHECK(got == 200 && !bad, "many: 200 frames drained in order");

	/* one and a half frames per read: the half waits for the next read */
	{
		unsigned char	frame[40];

		imsgbuf_test_hdr(frame, 1, 20, 0, 0, 0);
		memcpy(frame + 16, "AAAA", 4);
		imsgbuf_test_hdr(frame + 20, 2, 20, 0, 0, 0);
		memcpy(frame + 36, "BBBB", 4);
		(void)!write(sv[0], frame, 30);
		imsgbuf_read(&rb);
		CHECK(imsg_get(&rb, &imsg) == 1 && imsg.hdr.type == 1,
		    "many: first frame of a read-and-a-half");
		imsg_free(&imsg);
		CHECK(imsg_get(&rb, &imsg) == 0, "many: half frame not returned");
		(void)!write(sv[0], frame + 30, 10);
		imsgbuf_read(&rb);
		CHECK(imsg_get(&rb, &imsg) == 1 && imsg.hdr.type == 2 &&
		    memcmp(imsg.data, "BBBB", 4) == 0,
		    "many: second frame completed by the next read");
		imsg_free(&imsg);
	}
	imsgbuf_clear(&wb);
	imsgbuf_clear(&rb);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_limits - 16384 accepted, 16385 refused with ERANGE */
static void
imsgbuf_test_limits(void)
{
	static unsigned char	 big[IMSG_MAX_PAYLOAD + 1];
	struct imsgbuf		 wb, rb;
	struct imsg		 imsg;
	int			 sv[2], r, fds[2];

	imsgbuf_test_pair(sv);
	imsgbuf_init(&wb, sv[0]);
	imsgbuf_init(&rb, sv[1]);
	memset(big, 'x', sizeof big);
	big[IMSG_MAX_PAYLOAD - 1] = 'y';
	CHECK(imsg_compose(&wb, 5, 0, -1, big, IMSG_MAX_PAYLOAD) == 0,
	    "limits: 16368-byte payload (16384 frame) composed");
	errno = 0;
	CHECK(imsg_compose(&wb, 5, 0, -1, big, IMSG_MAX_PAYLOAD + 1) == -1 &&
	    errno == ERANGE, "limits: 16385-byte frame refused with ERANGE");
	if (pipe(fds) == 0) {
		close(fds[1]);
		errno = 0;
		CHECK(imsg_compose(&wb, 5, 0, fds[0], big,
		    IMSG_MAX_PAYLOAD + 1) == -1 && errno == ERANGE &&
		    fcntl(fds[0], F_GETFD) == -1,
		    "limits: refused frame closes the fd it was given");
	}
	CHECK(imsgbuf_queued(&wb) == 1, "limits: only the valid frame queued");
	CHECK(imsgbuf_flush(&wb) == 0, "limits: flushed");
	r = imsg_read_one(&rb, &imsg);
	CHECK(r == 1 && imsg.hdr.len == IMSG_MAX_SIZE &&
	    imsg.datalen == IMSG_MAX_PAYLOAD &&
	    ((unsigned char *)imsg.data)[IMSG_MAX_PAYLOAD - 1] == 'y',
	    "limits: 16384-byte frame received whole");
	if (r == 1)
		imsg_free(&imsg);
	imsgbuf_clear(&wb);
	imsgbuf_clear(&rb);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_badhdr - impossible headers are EBADMSG, not a crash */
static void
imsgbuf_test_badhdr(void)
{
	static const struct {
		uint16_t	 len;
		uint16_t	 flags;
		const char	*what;
	} cases[] = {
		{ 0,		0,	"badhdr: len 0 -> -1/EBADMSG" },
		{ 15,		0,	"badhdr: len 15 -> -1/EBADMSG" },
		{ 16385,	0,	"badhdr: len 16385 -> -1/EBADMSG" },
		{ 65535,	0,	"badhdr: len 65535 -> -1/EBADMSG" },
		{ 16,		2,	"badhdr: flag 0x2 -> -1/EBADMSG" },
		{ 16,		0x8000,	"badhdr: flag 0x8000 -> -1/EBADMSG" },
	};
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	unsigned char	 hdr[16];
	size_t		 i;
	int		 sv[2];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		imsgbuf_test_pair(sv);
		imsgbuf_init(&ib, sv[1]);
		imsgbuf_test_hdr(hdr, 2, cases[i].len, cases[i].flags, 0, 0);
		(void)!write(sv[0], hdr, sizeof hdr);
		imsgbuf_read(&ib);
		errno = 0;
		CHECK(imsg_get(&ib, &imsg) == -1 && errno == EBADMSG &&
		    imsg.data == NULL && imsg.fd == -1, cases[i].what);
		imsgbuf_clear(&ib);
		close(sv[0]);
		close(sv[1]);
	}

	/* the boundary values are fine */
	imsgbuf_test_pair(sv);
	imsgbuf_init(&ib, sv[1]);
	imsgbuf_test_hdr(hdr, 3, 16, 0, 0, 0);
	(void)!write(sv[0], hdr, sizeof hdr);
	imsgbuf_read(&ib);
	CHECK(imsg_get(&ib, &imsg) == 1 && imsg.datalen == 0 &&
	    imsg.hdr.type == 3, "badhdr: len 16 (empty payload) is valid");
	imsg_free(&imsg);
	imsgbuf_test_hdr(hdr, 3, 16, IMSGF_HASFD, 0, 0);
	(void)!write(sv[0], hdr, sizeof hdr);
	imsgbuf_read(&ib);
	CHECK(imsg_get(&ib, &imsg) == 1 && imsg.fd == -1,
	    "badhdr: HASFD without an fd gives fd -1");
	imsg_free(&imsg);
	imsgbuf_clear(&ib);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_fd_roundtrip - a pipe's read end travels and works */
static int
imsgbuf_test_fd_roundtrip(struct imsgbuf *wb, struct imsgbuf *rb,
    uint32_t type, const char *text)
{
	int	p[2];

	if (pipe(p) == -1)
		return -1;
	if (write(p[1], text, strlen(text)) != (ssize_t)strlen(text)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return imsg_compose(wb, type, 0, p[0], text, strlen(text));
}

/* imsgbuf_test_fds - fds arrive with their frames, in order */
static void
imsgbuf_test_fds(void)
{
	static const char	*texts[] = { "one", "two", "three", "four" };
	struct imsgbuf		 wb, rb;
	struct imsg		 imsg;
	char			 buf[16];
	ssize_t			 n;
	size_t			 i;
	int			 sv[2], bad = 0, r;

	imsgbuf_test_pair(sv);
	imsgbuf_init(&wb, sv[0]);
	imsgbuf_init(&rb, sv[1]);

	/* a plain frame, an fd frame, a plain frame */
	imsg_compose(&wb, 1, 0, -1, NULL, 0);
	imsgbuf_test_fd_roundtrip(&wb, &rb, 2, "payload");
	imsg_compose(&wb, 3, 0, -1, NULL, 0);
	CHECK(imsgbuf_flush(&wb) == 0, "fds: flushed a frame with an fd");
	r = imsg_read_one(&rb, &imsg);
	CHECK(r == 1 && imsg.hdr.type == 1 && imsg.fd == -1,
	    "fds: frame before the fd frame has no fd");
	imsg_free(&imsg);
	r = imsg_read_one(&rb, &imsg);
	CHECK(r == 1 && imsg.hdr.type == 2 && imsg.fd >= 0 &&
	    (imsg.hdr.flags & IMSGF_HASFD), "fds: fd arrives with its frame");
	n = r == 1 && imsg.fd >= 0 ? read(imsg.fd, buf, sizeof buf) : -1;
	CHECK(n == 7 && memcmp(buf, "payload", 7) == 0,
	    "fds: received fd is usable");
	if (r == 1)
		imsg_free(&imsg);
	r = imsg_read_one(&rb, &imsg);
	CHECK(r == 1 && imsg.hdr.type == 3 && imsg.fd == -1,
	    "fds: frame after the fd frame has no fd");
	imsg_free(&imsg);

	/* several fd-bearing frames queued together, read back in order */
	for (i = 0; i < 4; i++)
		if (imsgbuf_test_fd_roundtrip(&wb, &rb, 10 + i, texts[i]) == -1)
			bad = 1;
	CHECK(!bad && imsgbuf_flush(&wb) == 0, "fds: 4 fd frames flushed");
	for (i = 0; i < 4; i++) {
		r = imsg_read_one(&rb, &imsg);
		if (r != 1) {
			bad = 1;
			break;
		}
		memset(buf, 0, sizeof buf);
		n = imsg.fd >= 0 ? read(imsg.fd, buf, sizeof buf - 1) : -1;
		if (imsg.hdr.type != 10 + i || n != (ssize_t)strlen(texts[i]) ||
		    strcmp(buf, texts[i]) != 0 || imsg.datalen != (size_t)n ||
		    memcmp(imsg.data, buf, (size_t)n) != 0)
			bad = 1;
		imsg_free(&imsg);
	}
	CHECK(!bad, "fds: each fd matches its own frame, in order");
	CHECK(rb.nrfds == 0, "fds: no fd left unclaimed");

	imsgbuf_clear(&wb);
	imsgbuf_clear(&rb);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_backpressure - a full socket makes write return 0 */
static void
imsgbuf_test_backpressure(void)
{
	static unsigned char	 blob[8000];
	struct imsgbuf		 wb, rb;
	struct imsg		 imsg;
	int			 sv[2], i, w = 1, got = 0, bad = 0, r;

	imsgbuf_test_pair(sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	imsgbuf_init(&wb, sv[0]);
	imsgbuf_init(&rb, sv[1]);
	for (i = 0; i < 200 && w == 1; i++) {
		memset(blob, i, sizeof blob);
		imsg_compose(&wb, (uint32_t)i, 0, -1, blob, sizeof blob);
		w = imsgbuf_write(&wb);
	}
	CHECK(w == 0 && imsgbuf_queued(&wb) > 0,
	    "backpressure: write returns 0 with output left");
	/* drain the reader while finishing the writer */
	while (got < i && !bad) {
		if (imsgbuf_queued(&wb) > 0 && imsgbuf_write(&wb) == -1)
			bad = 1;
		r = imsg_read_one(&rb, &imsg);
		if (r != 1) {
			bad = 1;
			break;
		}
		if (imsg.hdr.type != (uint32_t)got || imsg.datalen != sizeof blob ||
		    ((unsigned char *)imsg.data)[sizeof blob - 1] !=
		    (unsigned char)got)
			bad = 1;
		got++;
		imsg_free(&imsg);
	}
	CHECK(!bad && got == i && imsgbuf_queued(&wb) == 0,
	    "backpressure: every frame arrives once, whole, in order");
	imsgbuf_clear(&wb);
	imsgbuf_clear(&rb);
	close(sv[0]);
	close(sv[1]);
}

/* imsgbuf_test_eof - EOF is 0 from read and from imsg_read_one */
static void
imsgbuf_test_eof(void)
{
	struct imsgbuf	 ib;
	struct imsg	 imsg;
	int		 sv[2];

	imsgbuf_test_pair(sv);
	imsgbuf_init(&ib, sv[1]);
	close(sv[0]);
	CHECK(imsgbuf_read(&ib) == 0, "eof: imsgbuf_read returns 0");
	CHECK(imsg_read_one(&ib, &imsg) == 0, "eof: imsg_read_one returns 0");
	imsgbuf_clear(&ib);
	close(sv[1]);

	/* a peer that is gone: write fails with EPIPE, no SIGPIPE */
	imsgbuf_test_pair(sv);
	imsgbuf_init(&ib, sv[0]);
	close(sv[1]);
	imsg_compose(&ib, 1, 0, -1, "x", 1);
	errno = 0;
	CHECK(imsgbuf_write(&ib) == -1 && errno == EPIPE,
	    "eof: write to a closed peer is -1/EPIPE");
	imsgbuf_clear(&ib);
	close(sv[0]);
}

int
main(void)
{
	imsgbuf_test_layout();
	imsgbuf_test_split();
	imsgbuf_test_many();
	imsgbuf_test_limits();
	imsgbuf_test_badhdr();
	imsgbuf_test_fds();
	imsgbuf_test_backpressure();
	imsgbuf_test_eof();
	return test_done();
}
