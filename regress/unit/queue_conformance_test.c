/*
 * queue_conformance_test.c -- one conformance suite for every queue
 * backend, hosted both ways: ram and fs linked in (queue_host_embedded)
 * and ram and fs as real helper processes (obj/libexec/queue-ram,
 * queue-fs, through queue_host_helper and api/api_host.c), all driven
 * through the same completion API inside one libevent loop.  Each case
 * must give the same answer under all four.
 *
 * Then what only a helper can do wrong: killed, frozen (SIGSTOP) and
 * flooded, it must turn into temporary failures within the timer, with
 * the loop free meanwhile, a bounded FIFO, and a restart after backoff.
 * Spools are temporary directories; helpers are stopped by the host,
 * by PID; every wait is bounded by a timer.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue_backend.h"
#include "queue_proc.h"
#include "test.h"

#ifndef SMTPQ_USER
#define SMTPQ_USER	"_smtpq"
#endif

#define QC_WAIT_MS	10000	/* the longest any one call may take */

static struct event_base	*qc_base;

/* the bits of signals 32 and 33 in a /proc status mask */
#define QC_GLIBC_SIGS	((1ULL << 31) | (1ULL << 32))

/* qc_sigmask - the hex mask after NAME in a /proc status text, or ~0 */
static unsigned long long
qc_sigmask(const char *status, const char *name)
{
	const char	*p;

	if ((p = strstr(status, name)) == NULL)
		return ~0ULL;
	return strtoull(p + strlen(name), NULL, 16);
}
static char			 qc_build[PATH_MAX];
static char			 qc_dir[PATH_MAX];

/* what a completion brought back, copied */
struct qc_reply {
	int		done;
	int		status;
	int32_t		r;
	uint32_t	msgid;
	uint64_t	evpid;
	char		data[QUEUE_API_ENVELOPE_MAX];
	size_t		len;
	int		fd;
};

static void
qc_on_done(void *arg, struct queue_msg *m)
{
	struct qc_reply	*rp = arg;

	rp->done = 1;
	rp->status = m->status;
	rp->r = m->r;
	rp->msgid = m->msgid;
	rp->evpid = m->evpid;
	rp->len = m->len <= sizeof rp->data ? m->len : 0;
	if (rp->len > 0)
		memcpy(rp->data, m->data, rp->len);
	rp->fd = m->fd;
}

static void
qc_on_deadline(int fd, short ev, void *arg)
{
	*(int *)arg = 1;
}

/* qc_loop_until - run the loop until *flag or MS elapsed; 0 or -1 */
static int
qc_loop_until(int *flag, int ms)
{
	struct event	*deadline;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	int		 expired = 0;

	deadline = evtimer_new(qc_base, qc_on_deadline, &expired);
	evtimer_add(deadline, &tv);
	while (!*flag && !expired)
		event_base_loop(qc_base, EVLOOP_ONCE);
	event_free(deadline);
	return *flag ? 0 : -1;
}

/* qc_call - one request, its reply in rp; the status, or -99 (no reply) */
static int
qc_call(struct queue_host *h, enum queue_op op, uint32_t msgid,
    uint64_t evpid, const char *data, size_t len, int fd,
    struct qc_reply *rp)
{
	struct queue_msg	m;

	memset(&m, 0, sizeof m);
	m.op = op;
	m.version = PROC_QUEUE_API_VERSION;
	m.msgid = msgid;
	m.evpid = evpid;
	m.data = data;
	m.len = len;
	m.fd = -1;
	memset(rp, 0, sizeof *rp);
	rp->fd = -1;
	queue_host_call(h, &m, fd, qc_on_done, rp);
	if (qc_loop_until(&rp->done, QC_WAIT_MS) == -1)
		return -99;
	return rp->status;
}

/* qc_body - a memory file holding TEXT, at offset 0 */
static int
qc_body(const char *text)
{
	int	fd;

	if ((fd = memfd_create("qc", MFD_CLOEXEC)) == -1)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* qc_fd_is - whether fd holds WANT from where it stands; closes fd */
static int
qc_fd_is(int fd, const char *want)
{
	char	buf[4096];
	ssize_t	n;

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n == (ssize_t)strlen(want) && memcmp(buf, want, n) == 0;
}

static const char qc_env_a[] = "version: 3\nrcpt: a@example.com\n";
static const char qc_env_b[] = "version: 3\nrcpt: b@example.com\n";
static const char qc_env_c[] = "version: 3\nrcpt: c@example.com\nretry: 1\n";
static const char qc_text[] = "Subject: conformance\r\n\r\nHello.\r\n";

/* qc_name - "what (backend)" for CHECK lines */
static const char *
qc_name(const char *backend, const char *what)
{
	static char	buf[256];

	snprintf(buf, sizeof buf, "%s: %s", backend, what);
	return buf;
}

/* qc_walk - walk to the end; how many of e1, e2 came back whole */
static int
qc_walk(struct queue_host *h, uint64_t e1, const char *t1, uint64_t e2,
    const char *t2, int *others)
{
	struct qc_reply	*rp;
	int		 i, r, seen = 0;

	*others = 0;
	if ((rp = malloc(sizeof *rp)) == NULL)
		return -1;
	/* bounded: a queue of a few envelopes, a few retries */
	for (i = 0; i < 100; i++) {
		r = qc_call(h, QUEUE_OP_ENVELOPE_WALK, 0, 0, NULL, 0, -1, rp);
		if (r == QUEUE_NOTFOUND)
			break;
		if (r != QUEUE_OK)
			continue;
		if ((rp->evpid == e1 && rp->len == strlen(t1) &&
		    memcmp(rp->data, t1, rp->len) == 0) ||
		    (rp->evpid == e2 && rp->len == strlen(t2) &&
		    memcmp(rp->data, t2, rp->len) == 0))
			seen++;
		else
			(*others)++;
	}
	free(rp);
	return i == 100 ? -1 : seen;
}

/* qc_suite - the cases, the same for every backend and hosting */
static void
qc_suite(struct queue_host *h, const char *name)
{
	static char	 big[QUEUE_API_ENVELOPE_MAX + 1];
	struct qc_reply	*rp;
	uint32_t	 m1, m2;
	uint64_t	 e1, e2, e3;
	int		 others, fd;

	if ((rp = malloc(sizeof *rp)) == NULL)
		return;
	CHECK(qc_call(h, QUEUE_OP_INIT, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_TEMPFAIL, qc_name(name, "INIT is the host's: refused"));
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && rp->msgid != 0, qc_name(name, "message_create"));
	m1 = rp->msgid;
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m1, 0, qc_env_a,
	    strlen(qc_env_a), -1, rp) == QUEUE_OK && rp->evpid >> 32 == m1 &&
	    (uint32_t)rp->evpid != 0, qc_name(name, "envelope_create: evpid "
	    "in the message"));
	e1 = rp->evpid;
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m1, 0, qc_env_b,
	    strlen(qc_env_b), -1, rp) == QUEUE_OK && rp->evpid != e1 &&
	    rp->evpid >> 32 == m1, qc_name(name, "second envelope, new evpid"));
	e2 = rp->evpid;
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m1 ^ 0x5a5a5a5a, 0,
	    qc_env_a, strlen(qc_env_a), -1, rp) != QUEUE_OK,
	    qc_name(name, "envelope of an unknown message refused"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m1, 0, qc_env_a, 0, -1,
	    rp) != QUEUE_OK, qc_name(name, "empty envelope refused"));
	memset(big, 'x', sizeof big);
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m1, 0, big,
	    QUEUE_API_ENVELOPE_MAX + 1, -1, rp) != QUEUE_OK,
	    qc_name(name, "envelope of the limit + 1 refused"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_WALK, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_NOTFOUND, qc_name(name, "uncommitted message not walked"));
	fd = qc_body(qc_text);
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_COMMIT, m1, 0, NULL, 0, fd, rp) ==
	    QUEUE_OK, qc_name(name, "message_commit with the body's fd"));
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_COMMIT, m1 ^ 0x5a5a5a5a, 0, NULL, 0,
	    qc_body(qc_text), rp) != QUEUE_OK,
	    qc_name(name, "commit of an unknown message fails"));
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_FD_R, m1, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && qc_fd_is(rp->fd, qc_text),
	    qc_name(name, "message_fd_r: the body from its first byte"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_LOAD, 0, e1, NULL, 0, -1, rp) ==
	    QUEUE_OK && rp->len == strlen(qc_env_a) &&
	    memcmp(rp->data, qc_env_a, rp->len) == 0,
	    qc_name(name, "envelope_load: the bytes stored"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_UPDATE, 0, e1, qc_env_c,
	    strlen(qc_env_c), -1, rp) == QUEUE_OK &&
	    qc_call(h, QUEUE_OP_ENVELOPE_LOAD, 0, e1, NULL, 0, -1, rp) ==
	    QUEUE_OK && rp->len == strlen(qc_env_c) &&
	    memcmp(rp->data, qc_env_c, rp->len) == 0,
	    qc_name(name, "envelope_update, then load: the new bytes"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_UPDATE, 0, e1 ^ 0x5a5a, qc_env_c,
	    strlen(qc_env_c), -1, rp) != QUEUE_OK,
	    qc_name(name, "update of an unknown envelope fails"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_LOAD, 0, e1 ^ 0x5a5a, NULL, 0, -1,
	    rp) == QUEUE_NOTFOUND, qc_name(name, "load of an unknown "
	    "envelope: not found"));
	CHECK(qc_walk(h, e1, qc_env_c, e2, qc_env_b, &others) == 2 &&
	    others == 0, qc_name(name, "walk: both envelopes, whole, then "
	    "the end"));
	/* a rolled back transaction */
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && rp->msgid != m1, qc_name(name, "another message"));
	m2 = rp->msgid;
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m2, 0, qc_env_a,
	    strlen(qc_env_a), -1, rp) == QUEUE_OK, qc_name(name,
	    "its envelope"));
	e3 = rp->evpid;
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_DELETE, m2, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK, qc_name(name, "message_delete (rollback)"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_LOAD, 0, e3, NULL, 0, -1, rp) !=
	    QUEUE_OK, qc_name(name, "its envelope went with it"));
	/* deliveries */
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_DELETE, 0, e1, NULL, 0, -1, rp) ==
	    QUEUE_OK, qc_name(name, "envelope_delete"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_DELETE, 0, e1, NULL, 0, -1, rp) !=
	    QUEUE_OK, qc_name(name, "envelope_delete twice fails"));
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_FD_R, m1, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && qc_fd_is(rp->fd, qc_text),
	    qc_name(name, "the body stays while an envelope is left"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_DELETE, 0, e2, NULL, 0, -1, rp) ==
	    QUEUE_OK, qc_name(name, "the last envelope_delete"));
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_FD_R, m1, 0, NULL, 0, -1, rp) !=
	    QUEUE_OK, qc_name(name, "the message went with its last "
	    "envelope"));
	CHECK(qc_walk(h, e1, qc_env_c, e2, qc_env_b, &others) == 0 &&
	    others == 0, qc_name(name, "walk of an empty queue"));
	CHECK(qc_call(h, QUEUE_OP_CLOSE, 0, 0, NULL, 0, -1, rp) == QUEUE_OK,
	    qc_name(name, "close"));
	free(rp);
}

/* qc_spool - a fresh spool root under the test directory */
static const char *
qc_spool(const char *name)
{
	static char	path[PATH_MAX + 64];

	snprintf(path, sizeof path, "%s/%s", qc_dir, name);
	if (mkdir(path, 0700) == -1)
		return NULL;
	return path;
}

/* qc_helper_x - a host of obj/libexec/PROG on a spool (NULL: none),
 * under the extras numbering when EXTRAS */
static struct queue_host *
qc_helper_x(const char *prog, const char *spool, int timeout_ms, int extras)
{
	static char	path[PATH_MAX + 64];
	char		*argv[8];
	int		 n = 0;

	snprintf(path, sizeof path, "%s/libexec/%s", qc_build, prog);
	argv[n++] = "queue-proc";
	/* as root: no chroot, keep the uid (the spool is a temp dir) */
	argv[n++] = "-n";
	argv[n++] = "-u";
	argv[n++] = "";
	if (extras)
		argv[n++] = "-X";
	if (spool != NULL)
		argv[n++] = (char *)spool;
	argv[n] = NULL;
	return queue_host_helper(qc_base, prog, path, argv, extras,
	    timeout_ms);
}

/* qc_helper - the same under the daemon numbering */
static struct queue_host *
qc_helper(const char *prog, const char *spool, int timeout_ms)
{
	return qc_helper_x(prog, spool, timeout_ms, 0);
}

/* qc_message_walk - walk MSGID to the end; how many envelopes, or -1 */
static int
qc_message_walk(struct queue_host *h, uint32_t msgid, struct qc_reply *rp)
{
	int	i, r, n = 0;

	for (i = 0; i < 20; i++) {
		r = qc_call(h, QUEUE_OP_MESSAGE_WALK, msgid, 0, NULL, 0, -1,
		    rp);
		if (r == QUEUE_NOTFOUND)
			return n;
		if (r == QUEUE_OK && rp->evpid >> 32 == msgid)
			n++;
	}
	return -1;
}

/*
 * qc_extras - what only the extras numbering carries: MESSAGE_WALK for
 * every backend; MESSAGE_CORRUPT and _UNCORRUPT where the backend has
 * them (CORRUPT: ram), else a failure under both hostings alike.
 */
static void
qc_extras(struct queue_host *h, const char *name, int corrupt)
{
	struct qc_reply	*rp;
	uint32_t	 m;
	uint64_t	 e1, e2;
	int		 others;

	if ((rp = malloc(sizeof *rp)) == NULL)
		return;
	(void)qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp);
	m = rp->msgid;
	(void)qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m, 0, qc_env_a,
	    strlen(qc_env_a), -1, rp);
	e1 = rp->evpid;
	(void)qc_call(h, QUEUE_OP_ENVELOPE_CREATE, m, 0, qc_env_b,
	    strlen(qc_env_b), -1, rp);
	e2 = rp->evpid;
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_COMMIT, m, 0, NULL, 0,
	    qc_body(qc_text), rp) == QUEUE_OK, qc_name(name, "extras: a "
	    "message of two envelopes"));
	CHECK(qc_message_walk(h, m, rp) == 2, qc_name(name, "message_walk: "
	    "its two envelopes, then the end"));
	CHECK(qc_message_walk(h, m ^ 0x5a5a5a5a, rp) == 0,
	    qc_name(name, "message_walk of an unknown message: the end"));
	if (corrupt) {
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CORRUPT, m, 0, NULL, 0, -1,
		    rp) == QUEUE_OK && qc_walk(h, e1, qc_env_a, e2, qc_env_b,
		    &others) == 0, qc_name(name, "message_corrupt: no longer "
		    "walked"));
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_UNCORRUPT, m, 0, NULL, 0, -1,
		    rp) == QUEUE_OK && qc_walk(h, e1, qc_env_a, e2, qc_env_b,
		    &others) == 2, qc_name(name, "message_uncorrupt: walked "
		    "again"));
	} else
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CORRUPT, m, 0, NULL, 0, -1,
		    rp) != QUEUE_OK, qc_name(name, "message_corrupt: not "
		    "offered, a failure"));
	CHECK(qc_call(h, QUEUE_OP_ENVELOPE_DELETE, 0, e1, NULL, 0, -1, rp) ==
	    QUEUE_OK && qc_call(h, QUEUE_OP_ENVELOPE_DELETE, 0, e2, NULL, 0,
	    -1, rp) == QUEUE_OK, qc_name(name, "extras: delivered"));
	free(rp);
}

/* qc_mode_is - whether SPOOL/SUB is a directory of MODE */
static int
qc_mode_is(const char *spool, const char *sub, mode_t mode)
{
	char		path[PATH_MAX + 64];
	struct stat	st;

	snprintf(path, sizeof path, "%s/%s", spool, sub);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 07777) == mode;
}

/* qc_layout - the fs backend made its own layout, 0700 */
static void
qc_layout(const char *spool, const char *name)
{
	CHECK(qc_mode_is(spool, "queue", 0700) &&
	    qc_mode_is(spool, "incoming", 0700) &&
	    qc_mode_is(spool, "temporary", 0700) &&
	    qc_mode_is(spool, "purge", 0700) &&
	    qc_mode_is(spool, "corrupt", 0700),
	    qc_name(name, "the backend made its spool layout, 0700"));
}

/* qc_ms - milliseconds since t0 */
static long
qc_ms(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* qc_kill - signal a helper by its PID; never a group, never -1 */
static int
qc_kill(long pid, int sig)
{
	if (pid <= 1) {
		errno = ESRCH;
		return -1;
	}
	return kill((pid_t)pid, sig);
}

/* qc_on_tick - a timer of the loop, to show it ran meanwhile */
static void
qc_on_tick(int fd, short ev, void *arg)
{
	(*(int *)arg)++;
}

/* qc_sleep - run the loop for MS milliseconds */
static void
qc_sleep(int ms)
{
	int	never = 0;

	(void)qc_loop_until(&never, ms);
}

/* qc_script - a host of /bin/sh -c SCRIPT as a queue helper */
static struct queue_host *
qc_script(const char *script, int timeout_ms)
{
	char	*argv[] = { "sh", "-c", (char *)script, NULL };

	return queue_host_helper(qc_base, "script", "/bin/sh", argv, 0,
	    timeout_ms);
}

/* qc_flood - FIFO_MAX + 20 calls on a frozen helper, then the loop */
static void
qc_flood(struct queue_host *h)
{
	struct qc_reply	*many;
	size_t		 i, n = QUEUE_HOST_FIFO_MAX + 20, at_once = 0, done;
	struct queue_msg m;
	int		 all = 0, ok = 1;

	if ((many = calloc(n, sizeof *many)) == NULL)
		return;
	memset(&m, 0, sizeof m);
	m.op = QUEUE_OP_MESSAGE_CREATE;
	for (i = 0; i < n; i++) {
		queue_host_call(h, &m, -1, qc_on_done, &many[i]);
		at_once += many[i].done;
	}
	CHECK(at_once == 20, "faults: a full FIFO fails the excess at once");
	/* bounded: each waits its 300 ms timer at most */
	for (i = 0; i < 100 && !all; i++) {
		qc_sleep(50);
		for (done = 0, all = 1; done < n; done++)
			all &= many[done].done;
	}
	for (i = 0; i < n; i++)
		ok &= many[i].done && many[i].status == QUEUE_TEMPFAIL;
	CHECK(all && ok, "faults: every queued call is a temporary failure");
	free(many);
}

/*
 * qc_inherit - what a helper gets from its host: the channel on fd 0
 * and stdout, stderr, nothing else; default signal dispositions and an
 * empty mask, though the host ignores TERM, HUP and INT and blocks USR1
 * (as smtpd's processes do, some of it).  Seen from outside, in /proc,
 * on the real queue-ram helper.
 */
static void
qc_inherit(struct qc_reply *rp)
{
	struct queue_host	*h;
	struct dirent		*de;
	sigset_t		 set, old;
	char			 path[64], buf[2048];
	DIR			*dp;
	FILE			*fp;
	size_t			 n = 0;
	long			 pid;
	int			 extra, others = -1;

	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	extra = dup(2);		/* not close-on-exec */
	buf[0] = '\0';
	if ((h = qc_helper("queue-ram", NULL, 0)) != NULL &&
	    qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && (pid = queue_host_pid(h)) > 1) {
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		if ((dp = opendir(path)) != NULL) {
			others = 0;
			while ((de = readdir(dp)) != NULL)
				if (strcmp(de->d_name, ".") != 0 &&
				    strcmp(de->d_name, "..") != 0 &&
				    strcmp(de->d_name, "0") != 0 &&
				    strcmp(de->d_name, "1") != 0 &&
				    strcmp(de->d_name, "2") != 0)
					others++;
			closedir(dp);
		}
		snprintf(path, sizeof path, "/proc/%ld/status", pid);
		if ((fp = fopen(path, "r")) != NULL) {
			n = fread(buf, 1, sizeof buf - 1, fp);
			fclose(fp);
		}
		buf[n] = '\0';
	}
	queue_host_free(&h);
	close(extra);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	CHECK(others == 0, "faults: a helper gets fds 0, 1, 2 only");
	/* signals 32 and 33 are glibc's own: signal(2) cannot reset them,
	 * and make(1) starts its children with them ignored */
	CHECK((qc_sigmask(buf, "SigIgn:\t") & ~QC_GLIBC_SIGS) == 0 &&
	    qc_sigmask(buf, "SigBlk:\t") == 0,
	    "faults: ... and no ignored or blocked signal");
}

static void
qc_on_stopped(void *arg)
{
	*(int *)arg = 1;
}

/*
 * qc_close - queue_host_close: an embedded backend closes at once, a
 * helper gets PROC_QUEUE_CLOSE before EOF and leaves on it, well before
 * the SIGTERM QUEUE_HOST_BYE_WAIT_MS later; calls after close fail
 */
static void
qc_close(void)
{
	struct queue_host	*h;
	struct qc_reply		*rp;
	struct timespec		 t0;
	char			 script[PATH_MAX + 512], path[PATH_MAX + 32];
	char			 buf[32] = "";
	long			 pid;
	int			 stopped = 0;
	FILE			*fp;

	if ((rp = malloc(sizeof *rp)) == NULL)
		return;
	h = queue_host_embedded(&queue_backend_ram, NULL);
	if (CHECK(h != NULL, "close: an embedded host")) {
		queue_host_close(h, qc_on_stopped, &stopped);
		CHECK(stopped, "close: embedded, stopped at once");
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1,
		    rp) == QUEUE_TEMPFAIL, "close: embedded, a later call "
		    "fails");
		queue_host_free(&h);
	}

	h = qc_helper("queue-ram", NULL, 0);
	if (CHECK(h != NULL, "close: a helper host") &&
	    CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1,
	    rp) == QUEUE_OK, "close: the helper answers")) {
		pid = queue_host_pid(h);
		stopped = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		queue_host_close(h, qc_on_stopped, &stopped);
		CHECK(qc_loop_until(&stopped, 5000) == 0 &&
		    qc_ms(&t0) < QUEUE_HOST_BYE_WAIT_MS, "close: queue-ram "
		    "leaves before any signal");
		CHECK(qc_kill(pid, 0) == -1 && errno == ESRCH,
		    "close: ... and is reaped by PID");
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1,
		    rp) == QUEUE_TEMPFAIL, "close: a later call fails");
	}
	queue_host_free(&h);

	/* what comes before EOF: INIT answered, MESSAGE_CREATE (16 bytes,
	 * no payload) left unanswered, then the next frame's type kept */
	snprintf(path, sizeof path, "%s/close-frame", qc_dir);
	snprintf(script, sizeof script, "z='\\0\\0\\0\\0\\020\\0\\0"
	    "\\0\\0\\0\\0\\0\\0\\0\\0\\0'; "
	    "dd bs=20 count=1 status=none >/dev/null; printf \"$z\" >&0; "
	    "dd bs=16 count=1 status=none >/dev/null; "
	    "dd bs=16 count=1 status=none | od -An -tu4 -N4 > %s", path);
	h = qc_script(script, 2000);
	if (CHECK(h != NULL, "close: a script host")) {
		stopped = 0;
		/* a request starts it: the close comes while it is busy */
		memset(rp, 0, sizeof *rp);
		queue_host_call(h, &(struct queue_msg){
		    .op = QUEUE_OP_MESSAGE_CREATE }, -1, qc_on_done, rp);
		qc_sleep(300);
		queue_host_close(h, qc_on_stopped, &stopped);
		CHECK(qc_loop_until(&stopped, 5000) == 0, "close: the script "
		    "host stops");
		if ((fp = fopen(path, "r")) != NULL) {
			if (fgets(buf, sizeof buf, fp) == NULL)
				buf[0] = '\0';
			fclose(fp);
		}
		CHECK(rp->done && rp->status == QUEUE_TEMPFAIL,
		    "close: the call in flight failed");
		CHECK(atoi(buf) == PROC_QUEUE_CLOSE, "close: a busy helper "
		    "gets CLOSE after its request, before EOF");
	}
	queue_host_free(&h);
	free(rp);
}

/* qc_faults - helpers killed, frozen, flooded, garbled */
static void
qc_faults(void)
{
	struct queue_host	*h;
	struct qc_reply		*rp;
	struct event		*tick;
	struct timeval		 tv = { 0, 50 * 1000 };
	struct timespec		 t0;
	long			 pid, ms;
	int			 ticks = 0;

	if ((rp = malloc(sizeof *rp)) == NULL ||
	    (h = qc_helper("queue-ram", NULL, 300)) == NULL) {
		free(rp);
		CHECK(0, "faults: a host");
		return;
	}
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && (pid = queue_host_pid(h)) > 0,
	    "faults: the helper answers");
	pid = queue_host_pid(h);
	CHECK(qc_kill(pid, SIGKILL) == 0, "faults: helper killed by PID");
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_TEMPFAIL, "faults: killed helper: temporary failure");
	memset(rp, 0, sizeof *rp);
	queue_host_call(h, &(struct queue_msg){ .op = QUEUE_OP_MESSAGE_CREATE },
	    -1, qc_on_done, rp);
	CHECK(rp->done && rp->status == QUEUE_TEMPFAIL,
	    "faults: during the backoff calls fail at once");
	qc_sleep(1200);
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK && queue_host_starts(h) == 2 && queue_host_pid(h) != pid,
	    "faults: restarted after the backoff");

	/* frozen: the timer answers, the loop runs meanwhile */
	pid = queue_host_pid(h);
	CHECK(qc_kill(pid, SIGSTOP) == 0, "faults: helper frozen by PID");
	tick = event_new(qc_base, -1, EV_PERSIST, qc_on_tick, &ticks);
	evtimer_add(tick, &tv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_TEMPFAIL, "faults: frozen helper: temporary failure");
	ms = qc_ms(&t0);
	event_free(tick);
	CHECK(ms >= 250 && ms < 2000, "faults: ... when its timer expires");
	CHECK(ticks >= 3, "faults: ... and the loop ran meanwhile");
	qc_sleep(200);		/* the reap is a timer of the loop */
	CHECK(queue_host_pid(h) == -1 && (qc_kill(pid, 0) == -1 &&
	    errno == ESRCH), "faults: the frozen helper was killed and reaped");

	/* flooded while frozen */
	qc_sleep(1200);
	CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1, rp) ==
	    QUEUE_OK, "faults: restarted again");
	if (qc_kill(queue_host_pid(h), SIGSTOP) == 0)
		qc_flood(h);
	else
		CHECK(0, "faults: helper frozen again by PID");
	queue_host_free(&h);

	/* garbage, and replies out of turn */
	if ((h = qc_script("printf AAAAAAAAAAAAAAAA >&0; exec sleep 5",
	    2000)) != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1,
		    rp) == QUEUE_TEMPFAIL && qc_ms(&t0) < 1500,
		    "faults: a bad frame: temporary failure, at once");
		queue_host_free(&h);
	}
	/* three empty replies: one for INIT, two nobody asked for */
	if ((h = qc_script("z='\\0\\0\\0\\0\\020\\0\\0\\0"
	    "\\0\\0\\0\\0\\0\\0\\0\\0'; printf \"$z$z$z\" >&0; "
	    "exec sleep 5", 2000)) != NULL) {
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1,
		    rp) == QUEUE_TEMPFAIL && queue_host_pid(h) == -1,
		    "faults: a short reply or one out of turn: temporary "
		    "failure, helper stopped");
		queue_host_free(&h);
	}
	qc_inherit(rp);
	if ((h = qc_script("exit 3", 2000)) != NULL) {
		CHECK(qc_call(h, QUEUE_OP_MESSAGE_CREATE, 0, 0, NULL, 0, -1,
		    rp) == QUEUE_TEMPFAIL, "faults: a helper that exits at "
		    "once: temporary failure");
		queue_host_free(&h);
	}
	free(rp);
}

/*
 * qc_root_fs - as root only: queue-fs chroots to its spool, drops to
 * the queue user and makes its layout as that user, then serves the
 * suite.  Not root, there is nothing to check (no line is printed).
 */
static void
qc_root_fs(void)
{
	struct queue_host	*h;
	struct passwd		*pw;
	struct stat		 st;
	const char		*spool;
	char			 path[PATH_MAX + 64];
	char			*argv[] = { "queue-proc", "-c", NULL, "-u",
				    SMTPQ_USER, NULL };

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(SMTPQ_USER)) == NULL ||
	    (spool = qc_spool("fs-root")) == NULL ||
	    chown(spool, pw->pw_uid, pw->pw_gid) == -1) {
		CHECK(0, "fs helper as root: a spool of the queue user");
		return;
	}
	argv[2] = (char *)spool;
	snprintf(path, sizeof path, "%s/libexec/queue-fs", qc_build);
	if ((h = queue_host_helper(qc_base, "queue-fs", path, argv, 0,
	    0)) == NULL) {
		CHECK(0, "fs helper as root: a host");
		return;
	}
	qc_suite(h, "fs helper as root");
	queue_host_free(&h);
	snprintf(path, sizeof path, "%s/queue", spool);
	CHECK(stat(path, &st) == 0 && st.st_uid == pw->pw_uid &&
	    (st.st_mode & 07777) == 0700,
	    "fs helper as root: its layout made as the queue user, 0700");
}

int
main(int argc, char *argv[])
{
	struct queue_host	*h;
	char			 self[PATH_MAX], *p;
	const char		*spool;
	ssize_t			 n;
	int			 i;

	signal(SIGPIPE, SIG_IGN);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) == -1)
		return 1;
	self[n] = '\0';
	/* obj/regress/unit/queue_conformance_test -> obj */
	for (i = 0; i < 3 && (p = strrchr(self, '/')) != NULL; i++)
		*p = '\0';
	strlcpy(qc_build, self, sizeof qc_build);
	snprintf(qc_dir, sizeof qc_dir, "/tmp/queue_conformance.XXXXXX");
	if (mkdtemp(qc_dir) == NULL || (qc_base = event_base_new()) == NULL)
		return 1;

	CHECK((h = queue_host_embedded(&queue_backend_ram, NULL)) != NULL,
	    "ram embedded: opens");
	if (h != NULL) {
		qc_suite(h, "ram embedded");
		qc_extras(h, "ram embedded", 1);
		queue_host_free(&h);
	}
	CHECK((h = qc_helper("queue-ram", NULL, 0)) != NULL,
	    "ram helper: a host");
	if (h != NULL) {
		qc_suite(h, "ram helper");
		queue_host_free(&h);
	}
	CHECK((h = qc_helper_x("queue-ram", NULL, 0, 1)) != NULL,
	    "ram helper, extras numbering: a host");
	if (h != NULL) {
		qc_suite(h, "ram helper -X");
		qc_extras(h, "ram helper -X", 1);
		queue_host_free(&h);
	}
	spool = qc_spool("fs-embedded");
	CHECK(spool != NULL && (h = queue_host_embedded(&queue_backend_fs,
	    spool)) != NULL, "fs embedded: opens");
	if (spool != NULL && h != NULL) {
		qc_layout(spool, "fs embedded");
		qc_suite(h, "fs embedded");
		qc_extras(h, "fs embedded", 0);
		queue_host_free(&h);
	}
	spool = qc_spool("fs-helper");
	CHECK(spool != NULL && (h = qc_helper("queue-fs", spool, 0)) != NULL,
	    "fs helper: a host");
	if (spool != NULL && h != NULL) {
		qc_suite(h, "fs helper");
		qc_layout(spool, "fs helper");
		queue_host_free(&h);
	}
	spool = qc_spool("fs-helper-x");
	CHECK(spool != NULL && (h = qc_helper_x("queue-fs", spool, 0, 1)) !=
	    NULL, "fs helper, extras numbering: a host");
	if (spool != NULL && h != NULL) {
		qc_suite(h, "fs helper -X");
		qc_extras(h, "fs helper -X", 0);
		queue_host_free(&h);
	}
	qc_root_fs();
	qc_close();
	qc_faults();
	event_base_free(qc_base);
	{
		char	cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof cmd, "rm -rf %s", qc_dir);
		if (getenv("QC_KEEP") == NULL)
			(void)system(cmd);
	}
	return test_done();
}
