/*
 * api_host_test.c -- api/api_host.c, the one host of helper programs,
 * on what table_proc_test and the queue and scheduler conformance tests
 * do not reach through their protocols: /bin/sh scripts as helpers that
 * answer the handshake with one empty frame, then die by a signal, exit
 * at once, never answer, ignore SIGTERM, leave on a polite close's
 * goodbye (or ignore it), or run from a descriptor pinned before their
 * file was removed.  Each check reads the log lines the
 * host writes (through api_log's sink) and times the event loop, which
 * must keep running: nothing here may block.  Every helper is stopped
 * by the host by PID; the test signals only PIDs the host reports, and
 * never one below 2.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_host.h"
#include "api_log.h"
#include "test.h"

/* one empty frame of type 0: the helpers' every answer */
#define HT_FRAME	"z='\\0\\0\\0\\0\\020\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0'; "
#define HT_READ		"dd bs=16 count=1 status=none >/dev/null; "
#define HT_ANSWER	"printf \"$z\" >&0; "

static struct event_base	*ht_base;
static char			 ht_log[65536];
static size_t			 ht_loglen;

/* ht_sink - keep the host's log lines for the checks */
static void
ht_sink(int level, const char *msg)
{
	int	n;

	(void)level;
	n = snprintf(ht_log + ht_loglen, sizeof ht_log - ht_loglen, "%s\n",
	    msg);
	if (n > 0 && (size_t)n < sizeof ht_log - ht_loglen)
		ht_loglen += (size_t)n;
}

/* ht_ms - monotonic milliseconds */
static long long
ht_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
ht_on_deadline(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	*(int *)arg = 1;
}

/* ht_loop - run the loop until *FLAG or MS have passed; 0 if *FLAG */
static int
ht_loop(int *flag, int ms)
{
	struct event	*deadline;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	int		 expired = 0;

	deadline = evtimer_new(ht_base, ht_on_deadline, &expired);
	evtimer_add(deadline, &tv);
	while (!*flag && !expired)
		event_base_loop(ht_base, EVLOOP_ONCE);
	event_free(deadline);
	return *flag ? 0 : -1;
}

/* ht_sleep - run the loop for MS milliseconds */
static void
ht_sleep(int ms)
{
	int	never = 0;

	(void)ht_loop(&never, ms);
}

/* ht_gone - PID (from the host, > 1) no longer exists */
static int
ht_gone(long pid)
{
	return pid > 1 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

struct ht_reply {
	int	done;
	int	ok;		/* a reply, not a temporary failure */
};

static int
ht_on_done(void *arg, struct imsg *reply)
{
	struct ht_reply	*rp = arg;

	rp->done = 1;
	rp->ok = reply != NULL && reply->datalen == 0;
	return 0;
}

static void
ht_on_stopped(void *arg)
{
	*(int *)arg = 1;
}

static void
ht_on_tick(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(*(int *)arg)++;
}

/* ht_host - a host of PATH with ARGV (pinned: exec FD), short delays */
static struct api_host *
ht_host(const char *path, char *const argv[], int pinned, int fd)
{
	struct api_host_params	p;

	memset(&p, 0, sizeof p);
	p.name = "host test";
	p.path = path;
	p.argv = argv;
	p.pinned = pinned;
	p.exec_fd = fd;
	p.ok_type = 0;
	p.hello_name = "HELLO";
	p.hello_type = 1;
	p.timeout_ms = 300;
	p.fifo_max = 4;
	p.backoff_min_ms = 100;
	p.backoff_max_ms = 400;
	p.stop_wait_ms = 300;
	return api_host_new(ht_base, &p);
}

/* ht_script - a host of /bin/sh -c SCRIPT */
static struct api_host *
ht_script(const char *script)
{
	char	*argv[] = { "sh", "-c", (char *)script, NULL };

	return ht_host("/bin/sh", argv, 0, -1);
}

/* ht_signal_end - a helper killed by a signal: its real end is logged */
static void
ht_signal_end(void)
{
	struct api_host	*h;
	struct ht_reply	 rp = { 0, 0 };
	char		 want[128];
	long		 pid;

	h = ht_script(HT_FRAME HT_READ HT_ANSWER HT_READ "kill -USR1 $$");
	if (!CHECK(h != NULL, "signal: a host"))
		return;
	ht_loglen = 0;
	api_host_request(h, 7, -1, NULL, 0, ht_on_done, &rp);
	pid = api_host_pid(h);
	CHECK(ht_loop(&rp.done, 2000) == 0 && !rp.ok,
	    "signal: the request of a helper that dies fails");
	ht_sleep(100);
	snprintf(want, sizeof want, "host test: helper /bin/sh pid %ld: "
	    "closed its socket", pid);
	CHECK(strstr(ht_log, want) != NULL, "signal: the failure is logged "
	    "with the host's name, the helper and its PID");
	snprintf(want, sizeof want, "killed by signal %d", SIGUSR1);
	CHECK(strstr(ht_log, want) != NULL,
	    "signal: the helper's real end is logged: its signal");
	CHECK(ht_gone(pid), "signal: the helper was reaped");
	api_host_free(&h);
}

/* ht_restart - a helper that exits at start is restarted by its timer,
 * no request needed, the delay doubling to its ceiling */
static void
ht_restart(void)
{
	struct api_host	*h;
	struct ht_reply	 rp = { 0, 0 };
	unsigned int	 n;

	if (!CHECK((h = ht_script("exit 3")) != NULL, "restart: a host"))
		return;
	ht_loglen = 0;
	api_host_start(h);
	ht_sleep(850);		/* starts at 0, 100, 300, 700 ms */
	n = api_host_starts(h);
	printf("# %u starts in 850 ms\n", n);
	CHECK(n >= 3 && n <= 5, "restart: restarted by the timer, the delay "
	    "doubling");
	CHECK(strstr(ht_log, "exited 3") != NULL,
	    "restart: the exit status is logged");
	CHECK(strstr(ht_log, "restart in 400 ms") != NULL &&
	    strstr(ht_log, "restart in 800 ms") == NULL,
	    "restart: the delay stops at its ceiling");
	api_host_request(h, 7, -1, NULL, 0, ht_on_done, &rp);
	CHECK(rp.done && !rp.ok, "restart: a request while down fails at "
	    "once");
	api_host_free(&h);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "restart: every helper reaped");
}

/* ht_hang - a helper that never answers the handshake is named */
static void
ht_hang(void)
{
	struct api_host	*h;
	long		 pid;
	char		 want[128];

	if (!CHECK((h = ht_script("exec sleep 5")) != NULL, "hang: a host"))
		return;
	ht_loglen = 0;
	api_host_start(h);
	pid = api_host_pid(h);
	ht_sleep(400);
	snprintf(want, sizeof want, "host test: helper /bin/sh pid %ld: "
	    "HELLO not answered within 300 ms", pid);
	CHECK(strstr(ht_log, want) != NULL, "hang: a helper hung at start "
	    "is named in the log");
	ht_sleep(100);
	CHECK(ht_gone(pid), "hang: and killed and reaped");
	api_host_free(&h);
}

/* ht_stubborn - close: SIGTERM ignored, SIGKILL after the grace; the
 * loop runs meanwhile */
static void
ht_stubborn(void)
{
	struct api_host	*h;
	struct event	*tick;
	struct timeval	 tv = { 0, 20 * 1000 };
	struct ht_reply	 rp = { 0, 0 };
	long long	 t0, dt;
	long		 pid;
	int		 stopped = 0, ticks = 0;

	h = ht_script("trap '' TERM; " HT_FRAME HT_READ HT_ANSWER
	    "exec sleep 30");
	if (!CHECK(h != NULL, "stop: a host"))
		return;
	ht_loglen = 0;
	api_host_start(h);
	pid = api_host_pid(h);
	ht_sleep(300);		/* the trap is set */
	api_host_request(h, 7, -1, NULL, 0, ht_on_done, &rp);
	tick = event_new(ht_base, -1, EV_PERSIST, ht_on_tick, &ticks);
	evtimer_add(tick, &tv);
	t0 = ht_ms();
	api_host_close(h, ht_on_stopped, &stopped);
	CHECK(rp.done && !rp.ok, "stop: what was pending fails at close");
	CHECK(ht_loop(&stopped, 3000) == 0, "stop: the stop completes");
	dt = ht_ms() - t0;
	event_free(tick);
	printf("# stopped in %lld ms, %d ticks\n", dt, ticks);
	CHECK(dt >= 250 && dt < 1300, "stop: SIGKILL after the grace");
	CHECK(ticks >= 5, "stop: the loop ran meanwhile");
	CHECK(strstr(ht_log, "still running 300 ms after SIGTERM") != NULL,
	    "stop: the stubborn helper is logged");
	CHECK(ht_gone(pid), "stop: and reaped by PID");
	api_host_free(&h);
}

/* ht_polite_host - a host of /bin/sh -c SCRIPT that closes politely:
 * goodbye of type 42 (if HAS_BYE), 300 ms, SIGTERM, 300 ms, SIGKILL */
static struct api_host *
ht_polite_host(const char *script, int has_bye)
{
	struct api_host_params	p;
	char			*argv[] = { "sh", "-c", (char *)script, NULL };

	memset(&p, 0, sizeof p);
	p.name = "polite test";
	p.path = "/bin/sh";
	p.argv = argv;
	p.exec_fd = -1;
	p.hello_name = "HELLO";
	p.hello_type = 1;
	p.timeout_ms = 300;
	p.fifo_max = 4;
	p.backoff_min_ms = 100;
	p.backoff_max_ms = 400;
	p.stop_wait_ms = 300;
	p.has_bye = has_bye;
	p.bye_type = 42;
	p.bye_wait_ms = 300;
	return api_host_new(ht_base, &p);
}

/* ht_polite_stop - close H and time it: the milliseconds, -1 if the
 * stop did not complete within 3 s */
static long long
ht_polite_stop(struct api_host *h)
{
	long long	t0 = ht_ms();
	int		stopped = 0;

	api_host_close(h, ht_on_stopped, &stopped);
	if (ht_loop(&stopped, 3000) == -1)
		return -1;
	return ht_ms() - t0;
}

/*
 * ht_polite - a polite close sends the goodbye before EOF and no signal
 * to a helper that leaves on it; one that stays gets SIGTERM after
 * bye_wait_ms, then SIGKILL after stop_wait_ms, each step logged
 */
static void
ht_polite(void)
{
	struct api_host	*h;
	char		 dir[] = "/tmp/api_host_bye.XXXXXX", script[1024];
	char		 path[64], buf[64] = "";
	long long	 dt;
	long		 pid;
	FILE		*fp;

	if (!CHECK(mkdtemp(dir) != NULL, "polite: a directory"))
		return;
	snprintf(path, sizeof path, "%s/bye", dir);
	/* answer the handshake, then keep the next frame's type and leave */
	snprintf(script, sizeof script, HT_FRAME HT_READ HT_ANSWER
	    "dd bs=16 count=1 status=none | od -An -tu4 -N4 > %s; exit 0",
	    path);
	h = ht_polite_host(script, 1);
	if (!CHECK(h != NULL, "polite: a host"))
		return;
	ht_loglen = 0;
	api_host_start(h);
	pid = api_host_pid(h);
	ht_sleep(200);		/* the handshake is answered */
	dt = ht_polite_stop(h);
	printf("# polite stop in %lld ms\n", dt);
	CHECK(dt >= 0 && dt < 250, "polite: a helper leaving on the goodbye "
	    "is reaped before any signal");
	if ((fp = fopen(path, "r")) != NULL) {
		if (fgets(buf, sizeof buf, fp) == NULL)
			buf[0] = '\0';
		fclose(fp);
	}
	CHECK(atoi(buf) == 42, "polite: the goodbye (type 42) came before "
	    "EOF");
	CHECK(strstr(ht_log, "SIGTERM") == NULL && strstr(ht_log,
	    "terminating") == NULL, "polite: no signal was needed");
	CHECK(ht_gone(pid), "polite: reaped by PID");
	api_host_free(&h);
	unlink(path);
	rmdir(dir);

	/* deaf to the goodbye, to EOF and to SIGTERM */
	h = ht_polite_host("trap '' TERM; " HT_FRAME HT_READ HT_ANSWER
	    "exec sleep 30", 0);
	if (!CHECK(h != NULL, "polite: a stubborn host"))
		return;
	ht_loglen = 0;
	api_host_start(h);
	pid = api_host_pid(h);
	ht_sleep(300);		/* the trap is set */
	dt = ht_polite_stop(h);
	printf("# stubborn polite stop in %lld ms\n", dt);
	CHECK(dt >= 550 && dt < 1500, "polite: SIGTERM after bye_wait_ms, "
	    "SIGKILL after stop_wait_ms more");
	CHECK(strstr(ht_log, "still running 300 ms after EOF, terminating "
	    "it") != NULL && strstr(ht_log, "still running 300 ms after "
	    "SIGTERM, killing it") != NULL, "polite: each step is logged");
	CHECK(ht_gone(pid), "polite: the stubborn helper reaped by PID");
	api_host_free(&h);
}

/* ht_pinned - a #! script exec'd from its descriptor, its file gone */
static void
ht_pinned(void)
{
	struct api_host	*h;
	struct ht_reply	 rp = { 0, 0 };
	const char	*why = NULL;
	char		 dir[] = "/tmp/api_host_test.XXXXXX", path[PATH_MAX];
	char		*argv[] = { "pinned", NULL };
	FILE		*fp;
	int		 fd;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof path, "%s/helper", dir);
	if ((fp = fopen(path, "w")) == NULL) {
		rmdir(dir);
		return;
	}
	fprintf(fp, "#!/bin/sh\n" HT_FRAME HT_READ HT_ANSWER HT_READ
	    HT_ANSWER "exec sleep 5\n");
	fclose(fp);
	chmod(path, 0700);
	fd = api_host_pin(path, &why);
	CHECK(fd > 2, "pinned: the executable is opened");
	unlink(path);
	rmdir(dir);
	CHECK(api_host_pin(path, &why) == -1 && why != NULL,
	    "pinned: a missing file is refused with a reason");
	if (fd == -1)
		return;
	if (!CHECK((h = ht_host(path, argv, 1, fd)) != NULL, "pinned: a host"))
		return;
	api_host_request(h, 7, -1, NULL, 0, ht_on_done, &rp);
	CHECK(ht_loop(&rp.done, 2000) == 0 && rp.ok,
	    "pinned: the removed script runs from its descriptor and answers");
	api_host_free(&h);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD,
	    "pinned: reaped at free");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if ((ht_base = event_base_new()) == NULL)
		return 1;
	api_log_set_sink(ht_sink);
	api_log_verbose(1);
	ht_signal_end();
	ht_restart();
	ht_hang();
	ht_stubborn();
	ht_polite();
	ht_pinned();
	api_log_set_sink(NULL);
	event_base_free(ht_base);
	return test_done();
}
