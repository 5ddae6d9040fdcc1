/*
 * scheduler_api_fuzz.c -- libFuzzer target for api/scheduler_api.c, the
 * scheduler protocol glue that parses the daemon's requests in every
 * scheduler helper.
 *
 * A valid INIT is sent first unless the first input byte is odd; the
 * remaining bytes are raw frames, then the write side is shut down so
 * that scheduler_api_dispatch_fd() sees EOF.  It must return 0 or 1 and
 * never crash.  The callbacks give answers shaped by their input,
 * including the odd ones the glue must clamp (too many batch entries, a
 * delay below -1, listings longer than asked); listings are kept short
 * so that every reply fits the socket buffer.
 */
#include <stdint.h>
#include <string.h>

#include "smtpd-api.h"
#include "fuzz_glue.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
sfuzz_info(struct scheduler_info *si)
{
	si->nexttry = si->lasttry + 400;
	return (int)(si->evpid & 1);
}

static size_t
sfuzz_msgid(uint32_t msgid)
{
	return msgid;
}

static int
sfuzz_id(uint64_t id)
{
	return (int)(id % 3) - 1;
}

static int
sfuzz_hold(uint64_t evpid, uint64_t holdq)
{
	return evpid == holdq;
}

static int
sfuzz_release(int type, uint64_t holdq, int n)
{
	return n;
}

static int
sfuzz_batch(int typemask, int *delay, size_t *count, uint64_t *evpids,
    int *types)
{
	size_t	i, n = (size_t)(typemask & 0xff);

	if (typemask & 0x100) {
		*delay = typemask >> 9;
		return 0;
	}
	if (n > 16)
		n = 16;
	for (i = 0; i < n && i < *count; i++) {
		evpids[i] = i;
		types[i] = 1 << (i % 6);
	}
	/* may claim one more than the capacity: the glue must refuse */
	*count = (typemask & 0x200) ? *count + 1 : i;
	return (int)(n > 0) - ((typemask & 0x400) != 0);
}

static size_t
sfuzz_messages(uint32_t from, uint32_t *dst, size_t size)
{
	size_t	i, n = from % 8;

	for (i = 0; i < n && i < size; i++)
		dst[i] = from + (uint32_t)i;
	return n;		/* may exceed size: clamped by the glue */
}

static size_t
sfuzz_envelopes(uint64_t from, struct evpstate *dst, size_t size)
{
	size_t	i, n = from % 8;

	for (i = 0; i < n && i < size; i++) {
		dst[i].evpid = from + i;
		dst[i].flags = EF_PENDING;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	version = PROC_SCHEDULER_API_VERSION;
	int		sv[2], r = 0;

	if (size < 1 || size > FUZZ_GLUE_INPUT_MAX)
		return 0;
	if (fuzz_glue_open(sv) == -1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_glue_handshake(sv, PROC_SCHEDULER_INIT, &version,
		    sizeof version);
	if (fuzz_glue_feed(sv, data + 1, size - 1, -1) == -1)
		goto out;
	/* never chroot or setuid, even when the fuzzer runs as root */
	scheduler_api_no_chroot();
	scheduler_api_set_user(NULL);
	scheduler_api_on_insert(sfuzz_info);
	scheduler_api_on_update(sfuzz_info);
	scheduler_api_on_commit(sfuzz_msgid);
	scheduler_api_on_rollback(sfuzz_msgid);
	scheduler_api_on_delete(sfuzz_id);
	scheduler_api_on_hold(sfuzz_hold);
	scheduler_api_on_release(sfuzz_release);
	scheduler_api_on_batch(sfuzz_batch);
	scheduler_api_on_messages(sfuzz_messages);
	scheduler_api_on_envelopes(sfuzz_envelopes);
	scheduler_api_on_schedule(sfuzz_id);
	scheduler_api_on_remove(sfuzz_id);
	scheduler_api_on_suspend(sfuzz_id);
	scheduler_api_on_resume(sfuzz_id);
	r = scheduler_api_dispatch_fd(sv[1]);
out:
	fuzz_glue_close(sv, r);
	return 0;
}
