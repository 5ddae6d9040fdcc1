/*
 * parent_forward_test.c -- unit tests for smtpd/parent/parent_forward.c,
 * the parent's ~/.forward opener (EXP-06): the pure refusal rules, then
 * the whole opener over a real channel (a fake lookup sends
 * IMSG_PARENT_OPEN_FORWARD, the opener forks its child, the answer
 * comes back as a descriptor or an errno).  As root the child becomes
 * the test account (uid 65534) and the cases prove it: a .forward the
 * user cannot read is refused although root could read it.  As an
 * ordinary user only the caller's own .forward is read and the other
 * cases are reported as not run.  A hung opener is made by a seccomp
 * filter (in a forked copy of the test) that holds the open of the home
 * forever.  Every wait is bounded; the processes reaped are the
 * opener's children and that copy, by pid.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "../../smtpd/parent/parent.h"
#include "smtpd.h"
#include "test.h"

#define T_USER_UID	65534
#define T_WAIT_MS	15000
#define T_MANY		20

struct smtpd_env	*env;
static struct smtpd_env	test_env;
static struct event_base *t_evb;
static char		 t_dir[64];

/* the answer to one request, by reqid */
static struct t_answer {
	int	n;
	int	fd;
	int	error;
} t_ans[64];

static void
t_on_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_open_forward_result	m;

	if (msg_unpack_lookup_open_forward_result(imsg, &m) == -1 ||
	    m.reqid >= 64) {
		mproc_bad_payload(p, imsg);
		return;
	}
	t_ans[m.reqid].n++;
	t_ans[m.reqid].fd = -1;
	t_ans[m.reqid].error = m.error;
}

static void
t_on_fd(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_open_forward_fd	m;

	if (msg_unpack_lookup_open_forward_fd(imsg, &m) == -1 ||
	    m.reqid >= 64) {
		mproc_bad_payload(p, imsg);
		return;
	}
	t_ans[m.reqid].n++;
	t_ans[m.reqid].fd = m.fd;
	t_ans[m.reqid].error = 0;
}

static const struct imsg_handler t_lookup_handlers[] = {
	{ IMSG_LOOKUP_OPEN_FORWARD_RESULT, PROC_PARENT, t_on_result },
	{ IMSG_LOOKUP_OPEN_FORWARD_FD, PROC_PARENT, t_on_fd },
};

static const struct imsg_handler t_parent_handlers[] = {
	{ IMSG_PARENT_OPEN_FORWARD, PROC_LOOKUP, parent_on_open_forward },
};

static struct mproc	*t_lookup;

/* t_reap - what the parent's SIGCHLD handler does: our children only */
static void
t_reap(void)
{
	pid_t	pid;
	int	status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		(void)parent_task_reaped(pid);
}

/* t_ask - request REQID for HOME as UID */
static void
t_ask(uint64_t reqid, const char *home, uid_t uid)
{
	t_ans[reqid].n = 0;
	t_ans[reqid].fd = -1;
	msg_send_parent_open_forward(t_lookup,
	    &(struct msg_parent_open_forward){ .reqid = reqid,
	    .uid = (uint32_t)uid, .gid = (uint32_t)uid, .user = "fwdtest",
	    .home = home });
}

/* t_wait - run the loop until requests FIRST..LAST-1 are answered */
static int
t_wait(uint64_t first, uint64_t last)
{
	struct timeval	tv = { 0, 10000 };
	uint64_t	i;
	int		loops, all = 0;

	for (loops = 0; !all && loops < T_WAIT_MS / 10; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
		t_reap();
		for (all = 1, i = first; i < last; i++)
			if (t_ans[i].n == 0)
				all = 0;
	}
	return all;
}

/* t_open - one request, answered: the errno (0: *CONTENT read) */
static int
t_open(uint64_t reqid, const char *home, uid_t uid, char *content,
    size_t contentsz)
{
	ssize_t	n;

	t_ask(reqid, home, uid);
	if (!t_wait(reqid, reqid + 1) || t_ans[reqid].n != 1)
		return -1;
	if (t_ans[reqid].fd == -1)
		return t_ans[reqid].error;
	n = read(t_ans[reqid].fd, content, contentsz - 1);
	content[n > 0 ? n : 0] = '\0';
	close(t_ans[reqid].fd);
	return 0;
}

/* t_home - a home NAME owned by UID with MODE, and its .forward */
static const char *
t_home(const char *name, uid_t uid, mode_t mode, const char *forward,
    uid_t fuid, mode_t fmode)
{
	static char	home[128];
	char		path[192];
	int		fd;

	snprintf(home, sizeof home, "%s/%s", t_dir, name);
	(void)mkdir(home, 0700);
	(void)chown(home, uid, uid);
	(void)chmod(home, mode);
	if (forward == NULL)
		return home;
	snprintf(path, sizeof path, "%s/.forward", home);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1) {
		(void)write(fd, forward, strlen(forward));
		close(fd);
	}
	(void)chown(path, fuid, fuid);
	(void)chmod(path, fmode);
	return home;
}

static void
test_checks(void)
{
	struct stat	st;
	char		why[PARENT_FORWARD_WHY_MAX];

	memset(&st, 0, sizeof st);
	st.st_mode = S_IFDIR | 0755;
	st.st_uid = 1000;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == 0,
	    "home 0755 of the user");
	st.st_uid = 0;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == 0,
	    "home of root");
	st.st_uid = 1001;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == EPERM,
	    "home of another user refused");
	st.st_uid = 1000;
	st.st_mode = S_IFDIR | 0775;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == EPERM,
	    "group-writable home refused");
	st.st_mode = S_IFDIR | 0757;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == EPERM,
	    "world-writable home refused");
	st.st_mode = S_IFDIR | 01755;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == EAGAIN,
	    "sticky home: temporary");
	st.st_mode = S_IFREG | 0755;
	CHECK(parent_forward_check_home(&st, 1000, why, sizeof why) == EPERM,
	    "home not a directory");

	st.st_mode = S_IFREG | 0644;
	st.st_uid = 1000;
	CHECK(parent_forward_check_file(&st, 1000, why, sizeof why) == 0,
	    ".forward 0644 of the user");
	st.st_uid = 0;
	CHECK(parent_forward_check_file(&st, 1000, why, sizeof why) == 0,
	    ".forward of root");
	st.st_uid = 2;
	CHECK(parent_forward_check_file(&st, 1000, why, sizeof why) == EPERM &&
	    strstr(why, "uid 2") != NULL, ".forward of another user refused");
	st.st_uid = 1000;
	st.st_mode = S_IFREG | 0664;
	CHECK(parent_forward_check_file(&st, 1000, why, sizeof why) == EPERM,
	    "group-writable .forward refused");
	st.st_mode = S_IFREG | 0646;
	CHECK(parent_forward_check_file(&st, 1000, why, sizeof why) == EPERM,
	    "world-writable .forward refused");
	st.st_mode = S_IFIFO | 0644;
	CHECK(parent_forward_check_file(&st, 1000, why, sizeof why) == EPERM,
	    "a FIFO refused");
}

/* test_opener_root - every case, the child as the test account */
static void
test_opener_root(void)
{
	const char	*h;
	char		 buf[256], path[192];
	uid_t		 u = T_USER_UID;
	int		 i, all;

	(void)chmod(t_dir, 0711);
	h = t_home("good", u, 0755, "bob\n", u, 0644);
	CHECK(t_open(0, h, u, buf, sizeof buf) == 0 &&
	    strcmp(buf, "bob\n") == 0, "the user's .forward: descriptor");
	h = t_home("none", u, 0755, NULL, 0, 0);
	CHECK(t_open(1, h, u, buf, sizeof buf) == ENOENT, "no .forward");
	snprintf(path, sizeof path, "%s/nohome", t_dir);
	CHECK(t_open(2, path, u, buf, sizeof buf) == ENOENT, "no home");
	h = t_home("link", u, 0755, NULL, 0, 0);
	snprintf(path, sizeof path, "%s/.forward", h);
	snprintf(buf, sizeof buf, "%s/good/.forward", t_dir);
	(void)symlink(buf, path);
	(void)lchown(path, u, u);
	CHECK(t_open(3, h, u, buf, sizeof buf) == EPERM,
	    "a symbolic link .forward refused");
	h = t_home("gw", u, 0755, "bob\n", u, 0664);
	CHECK(t_open(4, h, u, buf, sizeof buf) == EPERM,
	    "group-writable .forward refused");
	h = t_home("homegw", u, 0775, "bob\n", u, 0644);
	CHECK(t_open(5, h, u, buf, sizeof buf) == EPERM,
	    "group-writable home refused");
	h = t_home("sticky", u, 01755, "bob\n", u, 0644);
	CHECK(t_open(6, h, u, buf, sizeof buf) == EAGAIN,
	    "sticky home: temporary failure");
	h = t_home("other", u, 0755, "bob\n", 1, 0644);
	CHECK(t_open(7, h, u, buf, sizeof buf) == EPERM,
	    ".forward of another user refused");
	h = t_home("rootf", u, 0755, "carol\n", 0, 0644);
	CHECK(t_open(8, h, u, buf, sizeof buf) == 0 &&
	    strcmp(buf, "carol\n") == 0, ".forward owned by root used");
	h = t_home("unreadable", u, 0755, "bob\n", u, 0200);
	CHECK(t_open(9, h, u, buf, sizeof buf) == EPERM,
	    "opened as the user: mode 0200 refused (root could read it)");
	h = t_home("closed", 0, 0700, "bob\n", u, 0644);
	CHECK(t_open(10, h, u, buf, sizeof buf) == EPERM,
	    "opened as the user: a home it cannot enter refused");
	h = t_home("fifo", u, 0755, NULL, 0, 0);
	snprintf(path, sizeof path, "%s/.forward", h);
	(void)mkfifo(path, 0644);
	(void)chown(path, u, u);
	CHECK(t_open(11, h, u, buf, sizeof buf) == EPERM,
	    "a FIFO .forward refused, no hang");
	CHECK(t_open(12, "relative/home", u, buf, sizeof buf) == EPERM,
	    "a relative home refused without a child");
	CHECK(t_open(13, "/tmp/a\001b", u, buf, sizeof buf) == EPERM,
	    "a control character in the home refused");

	h = t_home("good", u, 0755, "bob\n", u, 0644);
	for (i = 20; i < 20 + T_MANY; i++)
		t_ask((uint64_t)i, h, u);
	all = t_wait(20, 20 + T_MANY);
	for (i = 20; i < 20 + T_MANY; i++) {
		all = all && t_ans[i].n == 1 && t_ans[i].fd != -1;
		if (t_ans[i].fd != -1)
			close(t_ans[i].fd);
	}
	CHECK(all, "20 requests at once (8 openers at a time): all answered "
	    "once, with a descriptor");
}

/*
 * t_trap_home_open - from now on, an open with exactly the flags the
 * opener uses for the home waits for an answer that never comes (a
 * seccomp user notification nobody reads): the hung NFS server, made
 * to order.  The listener fd, or -1.
 */
static int
t_trap_home_open(void)
{
	struct sock_filter	f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	prog = { sizeof f / sizeof f[0], f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

/* t_hang_run - in a forked test process: a hung opener is killed and
 * answered EAGAIN after PARENT_FORWARD_TIMEOUT; the exit status says */
static void __attribute__((noreturn))
t_hang_run(const char *home)
{
	struct mproc	*parent;
	time_t		 t0;
	int		 sv[2], listener, ok;

	t_evb = event_base_new();
	env->evb = t_evb;
	if (t_evb == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		_exit(2);
	parent = mproc_new(t_evb, PROC_PARENT, sv[0], PROC_LOOKUP, 1,
	    t_parent_handlers, 1, NULL);
	t_lookup = mproc_new(t_evb, PROC_LOOKUP, sv[1], PROC_PARENT, 1,
	    t_lookup_handlers, 2, NULL);
	if ((listener = t_trap_home_open()) == -1)
		_exit(3);
	t0 = time(NULL);
	t_ask(40, home, T_USER_UID);
	ok = t_wait(40, 41) && t_ans[40].n == 1 && t_ans[40].fd == -1 &&
	    t_ans[40].error == EAGAIN &&
	    time(NULL) - t0 >= PARENT_FORWARD_TIMEOUT - 1;
	close(listener);
	(void)parent;
	_exit(ok ? 0 : 1);
}

/* test_opener_hangs - the opener on a home that never answers */
static void
test_opener_hangs(void)
{
	const char	*h;
	pid_t		 pid;
	int		 status = -1, i;

#if !defined(__x86_64__) && !defined(__aarch64__)
	test_not_run("the seccomp trap is written for x86_64 and aarch64");
	return;
#endif
	h = t_home("good", T_USER_UID, 0755, "bob\n", T_USER_UID, 0644);
	if ((pid = fork()) == -1) {
		CHECK(0, "fork the hang test");
		return;
	}
	if (pid == 0)
		t_hang_run(h);
	for (i = 0; i < (PARENT_FORWARD_TIMEOUT + 10) * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	if (i == (PARENT_FORWARD_TIMEOUT + 10) * 10 && pid > 1) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "an opener that hangs (seccomp-held open of the home) is killed "
	    "after PARENT_FORWARD_TIMEOUT and answered EAGAIN");
}

/* test_opener_user - unprivileged: our own .forward only */
static void
test_opener_user(void)
{
	const char	*h;
	char		 buf[256];

	h = t_home("mine", getuid(), 0755, "me\n", getuid(), 0644);
	CHECK(t_open(30, h, getuid(), buf, sizeof buf) == 0 &&
	    strcmp(buf, "me\n") == 0, "unprivileged: our own .forward");
	CHECK(t_open(31, h, getuid() + 1, buf, sizeof buf) == ENOENT,
	    "unprivileged: another uid's .forward is not read");
	h = t_home("mine-gw", getuid(), 0755, "me\n", getuid(), 0666);
	CHECK(t_open(32, h, getuid(), buf, sizeof buf) == EPERM,
	    "unprivileged: world-writable .forward refused");
	test_not_run("the child as another user needs root");
}

int
main(void)
{
	struct mproc	*parent;
	int		 sv[2];
	char		 cmd[128];

	env = &test_env;
	log_init(1, 0);
	t_evb = event_base_new();
	env->evb = t_evb;
	snprintf(t_dir, sizeof t_dir, "/tmp/parent_forward.XXXXXX");
	if (mkdtemp(t_dir) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1) {
		perror("setup");
		return 1;
	}
	parent = mproc_new(t_evb, PROC_PARENT, sv[0], PROC_LOOKUP, 1,
	    t_parent_handlers, 1, NULL);
	t_lookup = mproc_new(t_evb, PROC_LOOKUP, sv[1], PROC_PARENT, 1,
	    t_lookup_handlers, 2, NULL);
	test_checks();
	if (geteuid() == 0) {
		test_opener_root();
		test_opener_hangs();
	} else
		test_opener_user();
	mproc_free(&t_lookup);
	mproc_free(&parent);
	event_base_free(t_evb);
	snprintf(cmd, sizeof cmd, "rm -rf %s", t_dir);
	if (strncmp(t_dir, "/tmp/parent_forward.", 20) == 0)
		(void)system(cmd);
	return test_done();
}
