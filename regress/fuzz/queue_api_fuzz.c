/*
 * queue_api_fuzz.c -- libFuzzer target for api/queue_api.c, the queue
 * protocol glue that parses the daemon's requests in every queue helper.
 *
 * The first input byte chooses the set-up: bit 0 clear sends a valid
 * INIT first, bit 1 selects the extras numbering, bit 2 sends the frames
 * together with a descriptor (a small memory file), so COMMIT and the
 * unexpected-fd checks are reached, and bit 3 selects the path form of
 * commit (a temporary file in /tmp).  The remaining bytes are raw
 * frames; the write side is then shut down so that
 * queue_api_dispatch_fd() sees EOF.  It must return 0 or 1 and never
 * crash.  The callbacks answer small values so that every reply fits the
 * socket buffer (the fuzzer never reads them).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
qfuzz_create(uint32_t *msgid)
{
	*msgid = 0x01020304;
	return 1;
}

static int
qfuzz_commit_fd(uint32_t msgid, int fd)
{
	char	buf[64];

	return read(fd, buf, sizeof buf) >= 0;
}

static int
qfuzz_commit_path(uint32_t msgid, const char *path)
{
	return path[0] == '/';
}

static int
qfuzz_msgid(uint32_t msgid)
{
	return (int)(msgid % 3);	/* 2 exercises the "odd answer" path */
}

static int
qfuzz_fd_r(uint32_t msgid)
{
	return msgid == 1 ? memfd_create("qfuzz", MFD_CLOEXEC) : -1;
}

static int
qfuzz_env_create(uint32_t msgid, const char *buf, size_t len,
    uint64_t *evpid)
{
	*evpid = (uint64_t)msgid << 32 | (len & 0xff);
	return 1;
}

static int
qfuzz_evpid(uint64_t evpid)
{
	return (int)(evpid & 1);
}

static int
qfuzz_env_update(uint64_t evpid, const char *buf, size_t len)
{
	return len > 0 && buf[0] == 'v';
}

static int
qfuzz_env_load(uint64_t evpid, char *buf, size_t len)
{
	int	n = (int)(evpid % 40) - 10;	/* -10 .. 29: odd answers too */

	if (n > 0)
		memset(buf, 'e', (size_t)n < len ? (size_t)n : len);
	return n;
}

static int
qfuzz_env_walk(uint64_t *evpid, char *buf, size_t len)
{
	static int	step;

	*evpid = (uint64_t)step;
	memset(buf, 'w', 8);
	return (step++ % 5) - 2;	/* -2 .. 2 */
}

static int
qfuzz_msg_walk(uint64_t *evpid, char *buf, size_t len, uint32_t msgid,
    int *done, void **data)
{
	uintptr_t	n = (uintptr_t)*data;

	*data = (void *)(n + 1);
	*evpid = (uint64_t)msgid << 32 | (uint32_t)n;
	buf[0] = 'm';
	*done = n >= 2;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	unsigned char	 init[IMSG_HEADER_SIZE + 4];
	struct imsg_hdr	 hdr;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	uint32_t	 version = PROC_QUEUE_API_VERSION;
	int		 sv[2], r, fd, bufsz = 1 << 20;

	if (size < 1 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
	if ((data[0] & 1) == 0) {
		memset(&hdr, 0, sizeof hdr);
		hdr.type = PROC_QUEUE_INIT;
		hdr.len = sizeof init;
		memcpy(init, &hdr, sizeof hdr);
		memcpy(init + IMSG_HEADER_SIZE, &version, sizeof version);
		if (write(sv[0], init, sizeof init) != (ssize_t)sizeof init)
			abort();
	}
	if (size > 1) {
		memset(&msg, 0, sizeof msg);
		iov.iov_base = (void *)(uintptr_t)(data + 1);
		iov.iov_len = size - 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		fd = -1;
		if ((data[0] & 4) &&
		    (fd = memfd_create("qfuzz-msg", MFD_CLOEXEC)) != -1) {
			if (write(fd, "Subject: x\r\n\r\nbody\r\n", 20) != 20)
				abort();
			memset(&cmsgbuf, 0, sizeof cmsgbuf);
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof cmsgbuf.buf;
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof fd);
		}
		r = sendmsg(sv[0], &msg, 0) == (ssize_t)(size - 1);
		if (fd != -1)
			close(fd);
		if (!r)
			goto out;
	}
	shutdown(sv[0], SHUT_WR);
	/* never chroot or setuid, even when the fuzzer runs as root */
	queue_api_no_chroot();
	queue_api_set_user(NULL);
	queue_api_set_tmpdir("/tmp");
	if (data[0] & 2)
		queue_api_use_extras_numbering();
	else
		queue_api_use_daemon_numbering();
	queue_api_on_message_create(qfuzz_create);
	queue_api_on_message_commit_fd((data[0] & 8) ? NULL : qfuzz_commit_fd);
	queue_api_on_message_commit(qfuzz_commit_path);
	queue_api_on_message_delete(qfuzz_msgid);
	queue_api_on_message_fd_r(qfuzz_fd_r);
	queue_api_on_message_corrupt(qfuzz_msgid);
	queue_api_on_message_uncorrupt(qfuzz_msgid);
	queue_api_on_envelope_create(qfuzz_env_create);
	queue_api_on_envelope_delete(qfuzz_evpid);
	queue_api_on_envelope_update(qfuzz_env_update);
	queue_api_on_envelope_load(qfuzz_env_load);
	queue_api_on_envelope_walk(qfuzz_env_walk);
	queue_api_on_message_walk(qfuzz_msg_walk);
	r = queue_api_dispatch_fd(sv[1]);
	if (r != 0 && r != 1)
		abort();
out:
	close(sv[0]);
	close(sv[1]);
	return 0;
}
