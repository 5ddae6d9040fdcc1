/*
 * imsg_frame.h -- raw imsg frames written byte for byte, as a peer that
 * does not use api/imsgbuf would write them (libexec-protocols.md 1.3).
 *
 * Shared by the unit tests' helper peer (peer.c) and the fuzz targets
 * of the helper glue, which do not link regress/lib: hence a header of
 * static inline functions.  The header fields are taken as given, so a
 * caller can lie about the length or set unknown flags; nothing here
 * checks what it sends.
 */
#ifndef REGRESS_IMSG_FRAME_H
#define REGRESS_IMSG_FRAME_H

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "imsgbuf.h"

/* imsg_frame_write_raw - len bytes, with fd (-1: none) as SCM_RIGHTS
 * riding on them; what sendmsg() returned */
static inline ssize_t
imsg_frame_write_raw(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof cmsgbuf);
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof cmsgbuf.buf;
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* imsg_frame_write - one frame: header (type, len, flags, peerid 0, our
 * pid), datalen payload bytes, fd (-1: none); 0, or -1 with errno */
static inline int
imsg_frame_write(int sock, uint32_t type, uint16_t len, uint16_t flags,
    const void *data, size_t datalen, int fd)
{
	unsigned char	 frame[IMSG_MAX_SIZE + 64];
	struct imsg_hdr	 hdr = { type, len, flags, 0, 0 };
	size_t		 n = sizeof hdr + datalen;

	hdr.pid = (uint32_t)getpid();
	if (datalen > sizeof frame - sizeof hdr) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(frame, &hdr, sizeof hdr);
	if (datalen)
		memcpy(frame + sizeof hdr, data, datalen);
	return imsg_frame_write_raw(sock, frame, n, fd) == (ssize_t)n ? 0 : -1;
}

#endif
