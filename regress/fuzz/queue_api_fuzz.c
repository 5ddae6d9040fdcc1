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

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "fuzz_glue.h"

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
	uint32_t	version = PROC_QUEUE_API_VERSION;
	int		sv[2], r = 0, fd = -1, fed;

	if (size < 1 || size > FUZZ_GLUE_INPUT_MAX)
		return 0;
	if (fuzz_glue_open(sv) == -1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_glue_handshake(sv, PROC_QUEUE_INIT, &version,
		    sizeof version);
	if (size > 1 && (data[0] & 4) &&
	    (fd = memfd_create("qfuzz-msg", MFD_CLOEXEC)) != -1 &&
	    write(fd, "Subject: x\r\n\r\nbody\r\n", 20) != 20)
		abort();
	fed = fuzz_glue_feed(sv, data + 1, size - 1, fd);
	if (fd != -1)
		close(fd);
	if (fed == -1)
		goto out;
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
out:
	fuzz_glue_close(sv, r);
	return 0;
}
