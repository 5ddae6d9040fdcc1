/*
 * scheduler_conformance_test.c -- one conformance suite for the
 * ramqueue scheduler, hosted both ways: linked in
 * (scheduler_host_embedded) and as the real helper process
 * obj/libexec/scheduler-ram (scheduler_host_helper, api/api_host.c),
 * both driven through the same completion API inside one libevent
 * loop.  Each case must give the same answer under both.  Then a
 * killed and a frozen helper: temporary failures within the timer,
 * a restart after the backoff.  Helpers are signalled only by their
 * own PID; every wait is bounded by a timer.
 */
#include <sys/types.h>

#include <errno.h>
#include <event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scheduler_proc.h"
#include "test.h"

#define SC_WAIT_MS	10000

static struct event_base	*sc_base;
static char			 sc_build[PATH_MAX];

/* what a completion brought back, copied */
struct sc_reply {
	int			done;
	int			tempfail;
	int32_t			r;
	int32_t			delay;
	size_t			count;
	struct scheduler_info	si;
	uint64_t		evpids[16];
	int			types[16];
	uint32_t		msgids[16];
	struct evpstate		states[16];
};

static void
sc_on_done(void *arg, struct scheduler_msg *m)
{
	struct sc_reply	*rp = arg;
	size_t		 i, n;

	rp->done = 1;
	rp->tempfail = m->tempfail;
	rp->r = m->r;
	rp->delay = m->delay;
	rp->count = m->count;
	rp->si = m->si;
	n = m->count < 16 ? m->count : 16;
	for (i = 0; i < n; i++) {
		if (m->type == PROC_SCHEDULER_BATCH && m->r > 0) {
			rp->evpids[i] = m->evpids[i];
			rp->types[i] = m->types[i];
		} else if (m->type == PROC_SCHEDULER_MESSAGES)
			rp->msgids[i] = m->msgids[i];
		else if (m->type == PROC_SCHEDULER_ENVELOPES)
			rp->states[i] = m->states[i];
	}
}

static void
sc_on_deadline(int fd, short ev, void *arg)
{
	*(int *)arg = 1;
}

/* sc_loop_until - run the loop until *flag or MS elapsed; 0 or -1 */
static int
sc_loop_until(int *flag, int ms)
{
	struct event	*deadline;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	int		 expired = 0;

	deadline = evtimer_new(sc_base, sc_on_deadline, &expired);
	evtimer_add(deadline, &tv);
	while (!*flag && !expired)
		event_base_loop(sc_base, EVLOOP_ONCE);
	event_free(deadline);
	return *flag ? 0 : -1;
}

/* sc_call - one request; 0 when answered, -1 when not (tempfail too) */
static int
sc_call(struct scheduler_host *h, const struct scheduler_msg *m,
    struct sc_reply *rp)
{
	memset(rp, 0, sizeof *rp);
	scheduler_host_call(h, m, sc_on_done, rp);
	if (sc_loop_until(&rp->done, SC_WAIT_MS) == -1 || rp->tempfail)
		return -1;
	return 0;
}

/* sc_req - a request of TYPE on ID (an evpid or msgid) */
static struct scheduler_msg
sc_req(uint32_t type, uint64_t id)
{
	struct scheduler_msg	m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.version = PROC_SCHEDULER_API_VERSION;
	m.id = id;
	m.msgid = (uint32_t)id;
	return m;
}

/* sc_r - the r of TYPE on ID, or -99 without an answer */
static int
sc_r(struct scheduler_host *h, uint32_t type, uint64_t id)
{
	struct scheduler_msg	m = sc_req(type, id);
	struct sc_reply		rp;

	return sc_call(h, &m, &rp) == 0 ? rp.r : -99;
}

/* sc_insert - INSERT an envelope of TYPE created at CTIME, TTL long */
static int
sc_insert(struct scheduler_host *h, uint64_t evpid, enum delivery_type type,
    time_t ctime, time_t ttl)
{
	struct scheduler_msg	m = sc_req(PROC_SCHEDULER_INSERT, 0);
	struct sc_reply		rp;

	m.si.evpid = evpid;
	m.si.type = type;
	m.si.creation = ctime;
	m.si.ttl = ttl;
	return sc_call(h, &m, &rp) == 0 ? rp.r : -99;
}

/* sc_count - COMMIT's or ROLLBACK's n, or -99 */
static long
sc_count(struct scheduler_host *h, uint32_t type, uint32_t msgid)
{
	struct scheduler_msg	m = sc_req(type, msgid);
	struct sc_reply		rp;

	return sc_call(h, &m, &rp) == 0 ? (long)rp.count : -99;
}

/* sc_batch - BATCH of MASK, up to 10 */
static int
sc_batch(struct scheduler_host *h, int mask, struct sc_reply *rp)
{
	struct scheduler_msg	m = sc_req(PROC_SCHEDULER_BATCH, 0);

	m.typemask = mask;
	m.count = 10;
	return sc_call(h, &m, rp);
}

/* sc_name - "backend: what" for CHECK lines */
static const char *
sc_name(const char *backend, const char *what)
{
	static char	buf[256];

	snprintf(buf, sizeof buf, "%s: %s", backend, what);
	return buf;
}

/*
 * sc_paused - a kind left out of the mask (pause mda) neither comes out
 * nor hides the others; its expired envelopes still come out as EXPIRE
 */
static void
sc_paused(struct scheduler_host *h, const char *name, time_t now)
{
	struct sc_reply	rp;
	uint32_t	lm = 0x5050, rm = 0x6060, xm = 0x7070;
	uint64_t	r1 = (uint64_t)rm << 32 | 1, x1 = (uint64_t)xm << 32 | 1;
	int		mask = 0x3f & ~SCHED_MDA, i, ok = 1;

	for (i = 1; i <= 3; i++)
		ok &= sc_insert(h, (uint64_t)lm << 32 | (uint64_t)i, D_MDA, now,
		    86400) == 1;
	CHECK(ok && sc_count(h, PROC_SCHEDULER_COMMIT, lm) == 3 &&
	    sc_insert(h, r1, D_MTA, now, 86400) == 1 &&
	    sc_count(h, PROC_SCHEDULER_COMMIT, rm) == 1,
	    sc_name(name, "paused: three local envelopes due, one relay"));
	CHECK(sc_batch(h, mask, &rp) == 0 && rp.r == 1 && rp.count == 1 &&
	    rp.evpids[0] == r1 && rp.types[0] == SCHED_MTA,
	    sc_name(name, "paused mda: only the relay envelope comes out"));
	CHECK(sc_batch(h, mask, &rp) == 0 && rp.r == 0 &&
	    rp.delay >= 86380 && rp.delay <= 86400,
	    sc_name(name, "paused mda: next event is the first expiry"));
	CHECK(sc_insert(h, x1, D_MDA, now - 100, 10) == 1 &&
	    sc_count(h, PROC_SCHEDULER_COMMIT, xm) == 1 &&
	    sc_batch(h, mask, &rp) == 0 && rp.r == 1 && rp.count == 1 &&
	    rp.evpids[0] == x1 && rp.types[0] == SCHED_EXPIRE,
	    sc_name(name, "paused mda: an expired local envelope is EXPIRE"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.count == 3 &&
	    rp.evpids[0] == ((uint64_t)lm << 32 | 1) &&
	    rp.types[2] == SCHED_MDA,
	    sc_name(name, "resumed: the three local envelopes, in order"));
}

/* sc_suite - the cases, the same for both hostings */
static void
sc_suite(struct scheduler_host *h, const char *name)
{
	struct scheduler_msg	 m;
	struct sc_reply		 rp;
	uint32_t		 msgid = 0x1a2b3c4d, old = 0xbeef;
	uint64_t		 e1, e2, e3, e4;
	time_t			 now = time(NULL);

	e1 = (uint64_t)msgid << 32 | 0x11;
	e2 = (uint64_t)msgid << 32 | 0x22;
	e3 = (uint64_t)old << 32 | 0x33;
	e4 = (uint64_t)0x10c41 << 32 | 0x44;
	CHECK(sc_r(h, PROC_SCHEDULER_INIT, 0) == -99,
	    sc_name(name, "INIT is the host's: refused"));
	CHECK(sc_insert(h, e1, D_MDA, now, 86400) == 1 &&
	    sc_insert(h, e2, D_MTA, now, 86400) == 1,
	    sc_name(name, "insert two envelopes"));
	CHECK(sc_insert(h, e2, D_MTA, now, 86400) == 0,
	    sc_name(name, "insert twice refused"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 0 && rp.delay == -1,
	    sc_name(name, "incoming envelopes are not scheduled"));
	CHECK(sc_count(h, PROC_SCHEDULER_COMMIT, msgid) == 2,
	    sc_name(name, "commit: 2"));
	m = sc_req(PROC_SCHEDULER_MESSAGES, 0);
	m.count = 10;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.count == 1 &&
	    rp.msgids[0] == msgid, sc_name(name, "messages"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.count == 2 &&
	    rp.evpids[0] == e1 && rp.types[0] == SCHED_MDA &&
	    rp.evpids[1] == e2 && rp.types[1] == SCHED_MTA,
	    sc_name(name, "batch: both, MDA and MTA"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 0 && rp.delay == -1,
	    sc_name(name, "batch: all in flight"));
	m = sc_req(PROC_SCHEDULER_UPDATE, 0);
	m.si.evpid = e2;
	m.si.type = D_MTA;
	m.si.retry = 1;
	m.si.creation = now;
	m.si.ttl = 86400;
	m.si.lasttry = now;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.r == 1 && rp.si.evpid == e2 &&
	    rp.si.nexttry == now + 400,
	    sc_name(name, "update: relaying retries at creation + 400 s x 1^2 "
	    "(SCHED-01)"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 0 && rp.delay >= 395 &&
	    rp.delay <= 400, sc_name(name, "batch: the delay to the retry"));
	m = sc_req(PROC_SCHEDULER_HOLD, e1);
	m.holdq = 7;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.r == 1,
	    sc_name(name, "hold an envelope in flight"));
	m = sc_req(PROC_SCHEDULER_ENVELOPES, (uint64_t)msgid << 32);
	m.count = 10;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.count == 2 &&
	    rp.states[0].evpid == e1 && rp.states[0].flags == EF_HOLD &&
	    rp.states[1].evpid == e2 && rp.states[1].flags == EF_PENDING &&
	    rp.states[1].retry == 1, sc_name(name, "envelopes: held, pending"));
	m = sc_req(PROC_SCHEDULER_RELEASE, 0);
	m.dtype = D_MDA;
	m.holdq = 7;
	m.n = -1;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.r == 1,
	    sc_name(name, "release the hold queue"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.count == 1 &&
	    rp.evpids[0] == e1, sc_name(name, "batch: the released one"));
	CHECK(sc_r(h, PROC_SCHEDULER_DELETE, e1) == 1 &&
	    sc_r(h, PROC_SCHEDULER_DELETE, e1) == 0,
	    sc_name(name, "delete, then delete again: 1, 0"));
	CHECK(sc_r(h, PROC_SCHEDULER_SUSPEND, e2) == 1 &&
	    sc_r(h, PROC_SCHEDULER_SUSPEND, e2) == 0 &&
	    sc_r(h, PROC_SCHEDULER_SCHEDULE, msgid) == 1,
	    sc_name(name, "suspend, then schedule"));
	CHECK(sc_batch(h, 0x3f, &rp) == 0 && rp.r == 0,
	    sc_name(name, "batch: a suspended envelope stays"));
	CHECK(sc_r(h, PROC_SCHEDULER_RESUME, e2) == 1 &&
	    sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.evpids[0] == e2,
	    sc_name(name, "resume: handed out"));
	m = sc_req(PROC_SCHEDULER_UPDATE, 0);
	m.si.evpid = e2;
	m.si.type = D_MTA;
	m.si.retry = 2;
	m.si.creation = now;
	m.si.ttl = 86400;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.r == 1 &&
	    rp.si.nexttry == now + 1600,
	    sc_name(name, "update: second relay retry at creation + 400 s x "
	    "2^2"));
	CHECK(sc_r(h, PROC_SCHEDULER_REMOVE, msgid) == 1,
	    sc_name(name, "remove a pending envelope"));
	CHECK(sc_batch(h, SCHED_UPDATE, &rp) == 0 && rp.r == 0 &&
	    sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.count == 1 &&
	    rp.evpids[0] == e2 && rp.types[0] == SCHED_REMOVE,
	    sc_name(name, "batch: reported once as REMOVE"));
	m = sc_req(PROC_SCHEDULER_MESSAGES, 0);
	m.count = 10;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.count == 0,
	    sc_name(name, "messages: none left"));
	/* rollback and expiry */
	CHECK(sc_insert(h, e3, D_MTA, now - 100, 10) == 1 &&
	    sc_count(h, PROC_SCHEDULER_ROLLBACK, old) == 1 &&
	    sc_count(h, PROC_SCHEDULER_COMMIT, old) == 0,
	    sc_name(name, "rollback drops the incoming envelope"));
	CHECK(sc_insert(h, e3, D_MTA, now - 100, 10) == 1 &&
	    sc_count(h, PROC_SCHEDULER_COMMIT, old) == 1 &&
	    sc_batch(h, SCHED_MTA, &rp) == 0 && rp.r == 0 &&
	    sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 &&
	    rp.evpids[0] == e3 && rp.types[0] == SCHED_EXPIRE,
	    sc_name(name, "ttl over: EXPIRE"));
	/* local deliveries retry on a 10 s base, counted from creation */
	CHECK(sc_insert(h, e4, D_MDA, now - 15, 86400) == 1 &&
	    sc_count(h, PROC_SCHEDULER_COMMIT, 0x10c41) == 1 &&
	    sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.evpids[0] == e4,
	    sc_name(name, "local: handed out"));
	m = sc_req(PROC_SCHEDULER_UPDATE, 0);
	m.si.evpid = e4;
	m.si.type = D_MDA;
	m.si.retry = 1;
	m.si.creation = now - 15;
	m.si.ttl = 86400;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.r == 1 &&
	    rp.si.nexttry >= now && rp.si.nexttry <= time(NULL) &&
	    sc_batch(h, 0x3f, &rp) == 0 && rp.r == 1 && rp.evpids[0] == e4,
	    sc_name(name, "local: creation + 10 s x 1^2 is past: at once"));
	m.si.retry = 3;
	CHECK(sc_call(h, &m, &rp) == 0 && rp.r == 1 &&
	    rp.si.nexttry == now - 15 + 90,
	    sc_name(name, "local: third retry at creation + 10 s x 3^2"));
	sc_paused(h, name, now);
}

/* sc_kill - signal a helper by its PID; never a group, never -1 */
static int
sc_kill(long pid, int sig)
{
	if (pid <= 1) {
		errno = ESRCH;
		return -1;
	}
	return kill((pid_t)pid, sig);
}

/* sc_helper - a host of obj/libexec/scheduler-ram */
static struct scheduler_host *
sc_helper(int timeout_ms)
{
	char	 path[PATH_MAX + 64];
	char	*argv[] = { "scheduler-proc", "-n", "-u", "", NULL };

	snprintf(path, sizeof path, "%s/libexec/scheduler-ram", sc_build);
	return scheduler_host_helper(sc_base, "scheduler-ram", path, argv,
	    timeout_ms);
}

/* sc_sleep - run the loop for MS milliseconds */
static void
sc_sleep(int ms)
{
	int	never = 0;

	(void)sc_loop_until(&never, ms);
}

/* sc_faults - a killed, then a frozen helper */
static void
sc_faults(void)
{
	struct scheduler_host	*h;
	struct sc_reply		 rp;
	long			 pid;

	if ((h = sc_helper(300)) == NULL) {
		CHECK(0, "faults: a host");
		return;
	}
	CHECK(sc_r(h, PROC_SCHEDULER_DELETE, 1) == 0 &&
	    scheduler_host_pid(h) > 0, "faults: the helper answers");
	pid = scheduler_host_pid(h);
	CHECK(sc_kill(pid, SIGKILL) == 0, "faults: helper killed by PID");
	CHECK(sc_batch(h, 0x3f, &rp) == -1 && rp.done && rp.tempfail &&
	    rp.delay == -1, "faults: killed helper: batch is a temporary "
	    "failure");
	sc_sleep(1200);
	CHECK(sc_r(h, PROC_SCHEDULER_DELETE, 1) == 0 &&
	    scheduler_host_pid(h) != pid, "faults: restarted after backoff");
	pid = scheduler_host_pid(h);
	CHECK(sc_kill(pid, SIGSTOP) == 0, "faults: helper frozen by PID");
	CHECK(sc_batch(h, 0x3f, &rp) == -1 && rp.done && rp.tempfail,
	    "faults: frozen helper: temporary failure");
	scheduler_host_free(&h);
	CHECK(sc_kill(pid, 0) == -1 && errno == ESRCH,
	    "faults: the frozen helper is killed and reaped at free");
}

static void
sc_on_stopped(void *arg)
{
	*(int *)arg = 1;
}

/* sc_close - scheduler_host_close: embedded at once; the helper leaves
 * on EOF before the SIGTERM of SCHEDULER_HOST_BYE_WAIT_MS later; later
 * calls fail */
static void
sc_close(void)
{
	struct scheduler_host	*h;
	struct timespec		 t0, t1;
	struct sc_reply		 rp;
	long			 pid, ms;
	int			 stopped = 0;

	h = scheduler_host_embedded(&scheduler_backend_ramqueue);
	if (CHECK(h != NULL, "close: an embedded host")) {
		scheduler_host_close(h, sc_on_stopped, &stopped);
		CHECK(stopped, "close: embedded, stopped at once");
		CHECK(sc_batch(h, 0x3f, &rp) == -1 && rp.done && rp.tempfail,
		    "close: embedded, a later call fails");
		scheduler_host_free(&h);
	}
	if ((h = sc_helper(0)) == NULL) {
		CHECK(0, "close: a helper host");
		return;
	}
	CHECK(sc_r(h, PROC_SCHEDULER_DELETE, 1) == 0 &&
	    (pid = scheduler_host_pid(h)) > 1, "close: the helper answers");
	pid = scheduler_host_pid(h);
	stopped = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	scheduler_host_close(h, sc_on_stopped, &stopped);
	CHECK(sc_loop_until(&stopped, 5000) == 0, "close: the helper stops");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("# scheduler-ram left %ld ms after EOF\n", ms);
	CHECK(ms < SCHEDULER_HOST_BYE_WAIT_MS, "close: scheduler-ram leaves "
	    "on EOF, before any signal");
	CHECK(sc_kill(pid, 0) == -1 && errno == ESRCH,
	    "close: ... and is reaped by PID");
	CHECK(sc_batch(h, 0x3f, &rp) == -1 && rp.done && rp.tempfail,
	    "close: a later call fails");
	scheduler_host_free(&h);
}

int
main(int argc, char *argv[])
{
	struct scheduler_host	*h;
	char			 self[PATH_MAX], *p;
	ssize_t			 n;
	int			 i;

	signal(SIGPIPE, SIG_IGN);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1)
		return 1;
	self[n] = '\0';
	/* obj/regress/unit/scheduler_conformance_test -> obj */
	for (i = 0; i < 3 && (p = strrchr(self, '/')) != NULL; i++)
		*p = '\0';
	strlcpy(sc_build, self, sizeof sc_build);
	if ((sc_base = event_base_new()) == NULL)
		return 1;
	CHECK((h = scheduler_host_embedded(&scheduler_backend_ramqueue)) !=
	    NULL, "ramqueue embedded: opens");
	if (h != NULL) {
		sc_suite(h, "ramqueue embedded");
		scheduler_host_free(&h);
	}
	CHECK((h = sc_helper(0)) != NULL, "ramqueue helper: a host");
	if (h != NULL) {
		sc_suite(h, "ramqueue helper");
		scheduler_host_free(&h);
	}
	sc_close();
	sc_faults();
	event_base_free(sc_base);
	return test_done();
}
