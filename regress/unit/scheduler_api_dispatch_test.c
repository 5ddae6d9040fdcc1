/*
 * scheduler_api_dispatch_test.c -- the scheduler protocol glue
 * (api/scheduler_api.c) driven over a socketpair, as the 6.8 daemon
 * drives a scheduler helper.
 *
 * The helper side runs scheduler_api_dispatch_fd() in a forked child
 * with test callbacks that check the arguments they receive; the parent
 * writes request frames byte for byte and compares reply payloads with
 * memcmp against the layouts of libexec-protocols.md 3.3 and 6.1
 * (scheduler_info 56 bytes, evpstate 24, BATCH r|delay|count|evpids|
 * types).  Violations must end the child with exit 1, never a signal.
 * Every wait is bounded (regress/lib/peer.c).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "smtpd-api.h"
#include "peer.h"
#include "test.h"

#define STEST_EVPID	0x1a2b3c4d00000011ULL

/* stest_info - the info the daemon sends in these tests */
static void
stest_info(struct scheduler_info *si)
{
	memset(si, 0, sizeof *si);
	si->evpid = STEST_EVPID;
	si->type = D_MTA;
	si->retry = 1;
	si->creation = 1795302356;
	si->ttl = 345600;
	si->lasttry = 1795302400;
}

static int
stest_init_cb(void)
{
	return 5;	/* passed through: the daemon ignores it */
}

/* stest_insert - 1 when every field arrived where it belongs */
static int
stest_insert(struct scheduler_info *si)
{
	struct scheduler_info	want;

	stest_info(&want);
	return si->evpid == want.evpid && si->type == want.type &&
	    si->retry == want.retry && si->creation == want.creation &&
	    si->ttl == want.ttl && si->lasttry == want.lasttry &&
	    si->lastbounce == 0 && si->nexttry == 0;
}

static size_t
stest_commit(uint32_t msgid)
{
	return msgid == 0x1a2b3c4d ? 2 : 0;
}

static size_t
stest_rollback(uint32_t msgid)
{
	return (size_t)msgid * 3;
}

/* stest_update - nexttry = lasttry + 400; evpid low 0x12 fails */
static int
stest_update(struct scheduler_info *si)
{
	if ((uint32_t)si->evpid == 0x12)
		return 0;
	si->nexttry = si->lasttry + 400;
	return 1;
}

static int
stest_id(uint64_t id)
{
	return id == STEST_EVPID || id == 0x1a2b3c4d;
}

static int
stest_hold(uint64_t evpid, uint64_t holdq)
{
	return evpid == STEST_EVPID && holdq == 0x0102030405060708ULL;
}

static int
stest_release(int type, uint64_t holdq, int n)
{
	return type == D_MTA && holdq == 77 && n == -1;
}

/* stest_batch - shaped by typemask: 0x3f two entries; 0x04 nothing for
 * 42 s; 0x02 reports the capacity seen as delay; 0x08 overflows;
 * 0x01 a delay below -1 */
static int
stest_batch(int typemask, int *delay, size_t *count, uint64_t *evpids,
    int *types)
{
	switch (typemask) {
	case 0x3f:
		evpids[0] = STEST_EVPID;
		types[0] = SCHED_MDA;
		evpids[1] = STEST_EVPID + 1;
		types[1] = SCHED_MTA;
		*count = 2;
		return 1;
	case 0x02:
		*delay = (int)*count;
		*count = 0;
		return 0;
	case 0x08:
		evpids[0] = 1;
		types[0] = SCHED_BOUNCE;
		*count += 1;
		return 1;
	case 0x01:
		*delay = -7;
		return 0;
	default:
		*delay = 42;
		*count = 0;
		return 0;
	}
}

/* stest_messages - from, from+1, ... as many as asked */
static size_t
stest_messages(uint32_t from, uint32_t *dst, size_t size)
{
	size_t	i;

	if (from == 0xdead)
		return size + 10;
	for (i = 0; i < size; i++)
		dst[i] = from + (uint32_t)i;
	return size;
}

static size_t
stest_envelopes(uint64_t from, struct evpstate *dst, size_t size)
{
	if (size < 2)
		return 0;
	dst[0].evpid = from;
	dst[0].flags = EF_PENDING | EF_SUSPEND;
	dst[0].retry = 3;
	dst[0].time = 1795302999;
	dst[1].evpid = from + 1;
	dst[1].flags = EF_INFLIGHT;
	dst[1].retry = 0;
	dst[1].time = 1795303000;
	return 2;
}

/* stest_serve - the helper: every callback but resume */
static int
stest_serve(int fd)
{
	scheduler_api_no_chroot();
	scheduler_api_set_user(NULL);
	scheduler_api_on_init(stest_init_cb);
	scheduler_api_on_insert(stest_insert);
	scheduler_api_on_commit(stest_commit);
	scheduler_api_on_rollback(stest_rollback);
	scheduler_api_on_update(stest_update);
	scheduler_api_on_delete(stest_id);
	scheduler_api_on_hold(stest_hold);
	scheduler_api_on_release(stest_release);
	scheduler_api_on_batch(stest_batch);
	scheduler_api_on_messages(stest_messages);
	scheduler_api_on_envelopes(stest_envelopes);
	scheduler_api_on_schedule(stest_id);
	scheduler_api_on_remove(stest_id);
	scheduler_api_on_suspend(stest_id);
	/* resume left unregistered: answered 0 */
	return scheduler_api_dispatch_fd(fd);
}

static int
stest_n(struct peer *p, uint64_t n)
{
	return peer_expect(p, &n, sizeof n);
}

static int
stest_init(struct peer *p)
{
	uint32_t	version = PROC_SCHEDULER_API_VERSION;

	peer_send(p, PROC_SCHEDULER_INIT, &version, sizeof version);
	return peer_r(p, 5);
}

/* stest_id_req - a request that is one u64 */
static void
stest_id_req(struct peer *p, uint32_t type, uint64_t id)
{
	peer_send(p, type, &id, sizeof id);
}

static void
stest_layouts(void)
{
	CHECK(sizeof(struct scheduler_info) == 56 &&
	    offsetof(struct scheduler_info, retry) == 12 &&
	    offsetof(struct scheduler_info, nexttry) == 48,
	    "layout: scheduler_info 56 bytes, retry at 12, nexttry at 48");
	CHECK(sizeof(struct evpstate) == 24 &&
	    offsetof(struct evpstate, retry) == 10 &&
	    offsetof(struct evpstate, time) == 16,
	    "layout: evpstate 24 bytes, retry at 10, time at 16");
}

static void
stest_batch_session(struct peer *p)
{
	unsigned char	req[12], want[16 + 2 * 12];
	uint64_t	evp[2] = { STEST_EVPID, STEST_EVPID + 1 }, count;
	int32_t		v[3];

	v[0] = 0x3f;
	memcpy(req, v, 4);
	count = 10;
	memcpy(req + 4, &count, 8);
	peer_send(p, PROC_SCHEDULER_BATCH, req, 12);
	v[0] = 1;
	v[1] = 0;
	memcpy(want, v, 8);
	count = 2;
	memcpy(want + 8, &count, 8);
	memcpy(want + 16, evp, 16);
	v[0] = SCHED_MDA;
	v[1] = SCHED_MTA;
	memcpy(want + 32, v, 8);
	CHECK(peer_expect(p, want, sizeof want), "BATCH r>0 -> r|delay|count"
	    "|evpid x count|type x count");

	v[0] = 0x04;
	memcpy(req, v, 4);
	peer_send(p, PROC_SCHEDULER_BATCH, req, 12);
	v[0] = 0;
	v[1] = 42;
	memcpy(want, v, 8);
	memset(want + 8, 0, 8);
	CHECK(peer_expect(p, want, 16), "BATCH r=0 -> r|delay|count, no "
	    "entries");

	v[0] = 0x02;
	memcpy(req, v, 4);
	count = 5000;
	memcpy(req + 4, &count, 8);
	peer_send(p, PROC_SCHEDULER_BATCH, req, 12);
	v[0] = 0;
	v[1] = SCHEDULER_API_BATCH_MAX;
	memcpy(want, v, 8);
	CHECK(peer_expect(p, want, 16), "BATCH count 5000 clamped to 1024");

	v[0] = 0x08;
	memcpy(req, v, 4);
	count = 1;
	memcpy(req + 4, &count, 8);
	peer_send(p, PROC_SCHEDULER_BATCH, req, 12);
	v[0] = -1;
	v[1] = 0;
	memcpy(want, v, 8);
	CHECK(peer_expect(p, want, 16), "BATCH overflowing callback -> r=-1, "
	    "nothing else");

	v[0] = 0x01;
	memcpy(req, v, 4);
	peer_send(p, PROC_SCHEDULER_BATCH, req, 12);
	v[0] = 0;
	v[1] = -1;
	memcpy(want, v, 8);
	CHECK(peer_expect(p, want, 16), "BATCH delay -7 sent as -1");

	count = 0;
	v[0] = 0x3f;
	memcpy(req, v, 4);
	memcpy(req + 4, &count, 8);
	peer_send(p, PROC_SCHEDULER_BATCH, req, 12);
	v[0] = 0;
	v[1] = -1;
	memcpy(want, v, 8);
	CHECK(peer_expect(p, want, 16), "BATCH count 0 -> r=0 without the "
	    "callback");
}

static void
stest_listing_session(struct peer *p)
{
	unsigned char	 req[16];
	uint32_t	 from = 7, want[4] = { 7, 8, 9, 10 };
	uint64_t	 size = 4, efrom = STEST_EVPID;
	struct evpstate	 states[2];
	struct imsg	 imsg;
	int		 got;

	memcpy(req, &from, 4);
	memcpy(req + 4, &size, 8);
	peer_send(p, PROC_SCHEDULER_MESSAGES, req, 12);
	CHECK(peer_expect(p, want, sizeof want), "MESSAGES -> msgid array, "
	    "no count field");
	size = 1 << 20;
	memcpy(req + 4, &size, 8);
	peer_send(p, PROC_SCHEDULER_MESSAGES, req, 12);
	got = peer_recv(p, &imsg);
	CHECK(got && imsg.datalen == IMSG_MAX_PAYLOAD / 4 * 4,
	    "MESSAGES size clamped to one frame (4092 msgids)");
	if (got)
		imsg_free(&imsg);
	from = 0xdead;
	size = 3;
	memcpy(req, &from, 4);
	memcpy(req + 4, &size, 8);
	peer_send(p, PROC_SCHEDULER_MESSAGES, req, 12);
	got = peer_recv(p, &imsg);
	CHECK(got && imsg.datalen == 12, "MESSAGES callback overflow clamped");
	if (got)
		imsg_free(&imsg);

	memset(states, 0, sizeof states);
	states[0].evpid = efrom;
	states[0].flags = EF_PENDING | EF_SUSPEND;
	states[0].retry = 3;
	states[0].time = 1795302999;
	states[1].evpid = efrom + 1;
	states[1].flags = EF_INFLIGHT;
	states[1].time = 1795303000;
	size = 256;
	memcpy(req, &efrom, 8);
	memcpy(req + 8, &size, 8);
	peer_send(p, PROC_SCHEDULER_ENVELOPES, req, 16);
	CHECK(peer_expect(p, states, sizeof states), "ENVELOPES -> evpstate "
	    "array (24 bytes each, zero padding)");
	size = 1;
	memcpy(req + 8, &size, 8);
	peer_send(p, PROC_SCHEDULER_ENVELOPES, req, 16);
	CHECK(peer_expect(p, NULL, 0), "ENVELOPES empty -> empty payload");
}

static void
stest_session(void)
{
	struct peer	p;
	struct scheduler_info	si, out;
	unsigned char		buf[64], want[64];
	uint32_t		msgid = 0x1a2b3c4d;
	int32_t			v[2];
	uint64_t		holdq = 0x0102030405060708ULL, q77 = 77;

	peer_start(&p, stest_serve);
	CHECK(stest_init(&p), "INIT -> r from the driver (4 bytes)");
	stest_info(&si);
	peer_send(&p, PROC_SCHEDULER_INSERT, &si, sizeof si);
	CHECK(peer_r(&p, 1), "INSERT 56 bytes -> every field in place");
	peer_send(&p, PROC_SCHEDULER_COMMIT, &msgid, 4);
	CHECK(stest_n(&p, 2), "COMMIT -> size_t 2");
	peer_send(&p, PROC_SCHEDULER_ROLLBACK, &msgid, 4);
	CHECK(stest_n(&p, (uint64_t)msgid * 3), "ROLLBACK -> size_t count");

	/* the padding of the request is garbage; the reply's is zero */
	memcpy(buf, &si, sizeof si);
	memset(buf + 14, 0xaa, 2);
	peer_send(&p, PROC_SCHEDULER_UPDATE, buf, sizeof si);
	out = si;
	out.nexttry = si.lasttry + 400;
	v[0] = 1;
	memcpy(want, v, 4);
	memcpy(want + 4, &out, sizeof out);
	CHECK(peer_expect(&p, want, 4 + sizeof out),
	    "UPDATE -> r=1 + info with nexttry, zero padding");
	si.evpid = (si.evpid & ~0xffffffffULL) | 0x12;
	peer_send(&p, PROC_SCHEDULER_UPDATE, &si, sizeof si);
	CHECK(peer_r(&p, 0), "UPDATE r=0 -> r alone");

	stest_id_req(&p, PROC_SCHEDULER_DELETE, STEST_EVPID);
	CHECK(peer_r(&p, 1), "DELETE -> 1");
	memcpy(buf, &(uint64_t){ STEST_EVPID }, 8);
	memcpy(buf + 8, &holdq, 8);
	peer_send(&p, PROC_SCHEDULER_HOLD, buf, 16);
	CHECK(peer_r(&p, 1), "HOLD evpid|holdq in order");
	v[0] = D_MTA;
	memcpy(buf, v, 4);
	memcpy(buf + 4, &q77, 8);
	v[1] = -1;
	memcpy(buf + 12, &v[1], 4);
	peer_send(&p, PROC_SCHEDULER_RELEASE, buf, 16);
	CHECK(peer_r(&p, 1), "RELEASE type|holdq|n unaligned, in order");

	stest_batch_session(&p);
	stest_listing_session(&p);

	stest_id_req(&p, PROC_SCHEDULER_SCHEDULE, msgid);
	CHECK(peer_r(&p, 1), "SCHEDULE msgid -> 1");
	stest_id_req(&p, PROC_SCHEDULER_REMOVE, 3);
	CHECK(peer_r(&p, 0), "REMOVE nothing -> 0");
	stest_id_req(&p, PROC_SCHEDULER_SUSPEND, STEST_EVPID);
	CHECK(peer_r(&p, 1), "SUSPEND evpid -> 1");
	stest_id_req(&p, PROC_SCHEDULER_RESUME, STEST_EVPID);
	CHECK(peer_r(&p, 0), "RESUME unregistered -> 0");
	shutdown(p.fd, SHUT_WR);
	CHECK(peer_exit(&p) == 0, "EOF -> exit 0");
}

static const struct peer_bad stest_bads[] = {
	{ "wrong version", 0, 0, PROC_SCHEDULER_INIT, -1, 0, 4, 0 },
	{ "short INIT", 0, 0, PROC_SCHEDULER_INIT, -1, 0, 2, 0 },
	{ "BATCH before INIT", 0, 0, PROC_SCHEDULER_BATCH, -1, 0, 12, 0 },
	{ "second INIT", 1, 0, PROC_SCHEDULER_INIT, -1, 0, 4, 0 },
	{ "unknown type 17", 1, 0, 17, -1, 0, 0, 0 },
	{ "type 1 (FAIL)", 1, 0, 1, -1, 0, 0, 0 },
	{ "short INSERT", 1, 0, PROC_SCHEDULER_INSERT, -1, 0, 55, 0 },
	{ "long INSERT", 1, 0, PROC_SCHEDULER_INSERT, -1, 0, 57, 0 },
	{ "short UPDATE", 1, 0, PROC_SCHEDULER_UPDATE, -1, 0, 8, 0 },
	{ "long COMMIT", 1, 0, PROC_SCHEDULER_COMMIT, -1, 0, 8, 0 },
	{ "short ROLLBACK", 1, 0, PROC_SCHEDULER_ROLLBACK, -1, 0, 3, 0 },
	{ "short DELETE", 1, 0, PROC_SCHEDULER_DELETE, -1, 0, 4, 0 },
	{ "short HOLD", 1, 0, PROC_SCHEDULER_HOLD, -1, 0, 8, 0 },
	{ "long RELEASE", 1, 0, PROC_SCHEDULER_RELEASE, -1, 0, 20, 0 },
	{ "short BATCH", 1, 0, PROC_SCHEDULER_BATCH, -1, 0, 4, 0 },
	{ "long MESSAGES", 1, 0, PROC_SCHEDULER_MESSAGES, -1, 0, 16, 0 },
	{ "short ENVELOPES", 1, 0, PROC_SCHEDULER_ENVELOPES, -1, 0, 12, 0 },
	{ "long SCHEDULE", 1, 0, PROC_SCHEDULER_SCHEDULE, -1, 0, 9, 0 },
	{ "empty RESUME", 1, 0, PROC_SCHEDULER_RESUME, -1, 0, 0, 0 },
	{ "fd with DELETE", 1, 0, PROC_SCHEDULER_DELETE, -1, IMSGF_HASFD, 8,
	    1 },
	{ "fd flag without fd", 1, 0, PROC_SCHEDULER_DELETE, -1, IMSGF_HASFD, 8,
	    0 },
	{ "header len 15", 1, 0, PROC_SCHEDULER_DELETE, 15, 0, 0, 0 },
};

/* stest_begin - a helper, INIT first when the row says so; an INIT row
 * carries version 2 after a good INIT (second INIT), 3 before */
static void
stest_begin(struct peer *p, const struct peer_bad *b, unsigned char *data)
{
	if (b->type == PROC_SCHEDULER_INIT)
		memcpy(data, b->init ? "\2\0\0\0" : "\3\0\0\0", 4);
	peer_start(p, stest_serve);
	if (b->init)
		stest_init(p);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	stest_layouts();
	stest_session();
	peer_violations(stest_bads, sizeof stest_bads / sizeof stest_bads[0],
	    stest_begin);
	return test_done();
}
