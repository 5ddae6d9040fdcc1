/*
 * parent_offline.c -- the offline queue (QUEUE-15, COMPAT-03): messages
 * sendmail stored in SPOOL/offline while the daemon was down, submitted
 * once every process is ready, each as the user who owns its file.
 *
 * Runs in the parent.  The directory is made at start, mode 01777 (any
 * local user may create a file, only its owner may remove or rename it),
 * owned by root when privilege-separated.  Each regular file with one
 * link whose owner is a real account is opened here (O_NOFOLLOW), and a
 * child becomes the owner (groups, gid, uid) and runs smtpctl as
 * `sendmail -S` with the file on standard input: the same enqueue path
 * as any sendmail, with the owner's uid on the control socket.  That
 * child removes the file once the daemon said 250.  Anything else (a
 * symlink, a directory, an owner without account, or, without privilege
 * separation, another user's file) is renamed ".bad.NAME" and logged.
 * At most PARENT_OFFLINE_RUNNING run at once; each exit starts the next;
 * the parent never waits for one.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "smtpd.h"

#define PARENT_OFFLINE_RUNNING	8

static struct {
	DIR	*dir;
	char	 path[PATH_MAX];
	struct {
		pid_t	pid;
		char	name[NAME_MAX + 1];
	}	 running[PARENT_OFFLINE_RUNNING];
	int	 nrunning;
} parent_offline;

/* parent_offline_setup - SPOOL/offline, 01777 */
void
parent_offline_setup(void)
{
	if ((size_t)snprintf(parent_offline.path, sizeof parent_offline.path,
	    "%s/offline", env->opts.spool) >= sizeof parent_offline.path)
		fatalx("spool path too long: %s", env->opts.spool);
	parent_setup_mkdir(parent_offline.path, geteuid(), getegid(), 01777);
}

/* parent_offline_aside - a file we will not submit: renamed, logged */
static void
parent_offline_aside(const char *name, const char *why)
{
	char	to[NAME_MAX + 8];
	int	dfd = dirfd(parent_offline.dir);

	snprintf(to, sizeof to, ".bad.%s", name);
	log_warnx("parent: offline file %s/%s set aside (%s)",
	    parent_offline.path, name, why);
	if (renameat(dfd, name, dfd, to) == -1)
		log_warn("parent: offline file %s/%s: rename",
		    parent_offline.path, name);
}

/* parent_offline_child - in the child: become PW, run sendmail -S on
 * FD; never returns */
static void __attribute__((noreturn))
parent_offline_child(int fd, const struct passwd *pw, const char *file)
{
	char		 ctl[PATH_MAX], sock[PATH_MAX + 16], path[PATH_MAX + 32];
	char		*argv[] = { "sendmail", "-S", NULL };
	char		*envp[] = { sock, path, "PATH=/usr/bin:/bin", NULL };
	char		*slash;
	sigset_t	 mask;
	int		 sig, null, prog;

	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&mask);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	(void)setsid();
	if (dup2(fd, 0) == -1 || (null = open("/dev/null", O_WRONLY)) == -1 ||
	    dup2(null, 1) == -1)
		_exit(71);
	snprintf(ctl, sizeof ctl, "%s", env->opts.self);
	if ((slash = strrchr(ctl, '/')) == NULL)
		_exit(70);
	snprintf(slash + 1, sizeof ctl - (size_t)(slash + 1 - ctl), "smtpctl");
	/* opened while root: the user may not reach our directory (a build
	 * tree in root's home); it needs only to execute the file */
	if ((prog = open(ctl, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "parent: offline: open %s: %s\n", ctl,
		    strerror(errno));
		_exit(71);
	}
	if (geteuid() == 0 && (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1))
		_exit(77);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid)
		_exit(77);
	snprintf(sock, sizeof sock, "SMTPD_SOCKET=%s", env->opts.sock);
	snprintf(path, sizeof path, "SMTPD_OFFLINE_FILE=%s/%s",
	    parent_offline.path, file);
	fexecve(prog, argv, envp);
	fprintf(stderr, "parent: offline: exec %s: %s\n", ctl,
	    strerror(errno));
	_exit(71);
}

/* parent_offline_check - the owner of NAME if we submit it as them, else
 * NULL with the file set aside; *fdp its open descriptor */
static struct passwd *
parent_offline_check(const char *name, int *fdp)
{
	struct passwd	*pw;
	struct stat	 st;
	int		 fd;

	*fdp = -1;
	if ((fd = openat(dirfd(parent_offline.dir), name, O_RDONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		parent_offline_aside(name, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		parent_offline_aside(name, "not a regular file with one link");
		close(fd);
		return NULL;
	}
	if ((pw = getpwuid(st.st_uid)) == NULL) {
		parent_offline_aside(name, "owner is not a user");
		close(fd);
		return NULL;
	}
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		parent_offline_aside(name, "another user's file, and smtpd "
		    "cannot become that user");
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return pw;
}

/* parent_offline_next - start submissions while there is room */
static void
parent_offline_next(void)
{
	struct dirent	*de;
	struct passwd	*pw;
	pid_t		 pid;
	int		 fd, i;

	while (parent_offline.dir != NULL &&
	    parent_offline.nrunning < PARENT_OFFLINE_RUNNING) {
		if ((de = readdir(parent_offline.dir)) == NULL) {
			closedir(parent_offline.dir);
			parent_offline.dir = NULL;
			return;
		}
		if (de->d_name[0] == '.')
			continue;	/* ., .., being written, set aside */
		if ((pw = parent_offline_check(de->d_name, &fd)) == NULL)
			continue;
		if ((pid = fork()) == -1) {
			log_warn("parent: offline file %s: fork", de->d_name);
			close(fd);
			continue;	/* left for the next start */
		}
		if (pid == 0)
			parent_offline_child(fd, pw, de->d_name);
		close(fd);
		i = parent_offline.nrunning++;
		parent_offline.running[i].pid = pid;
		snprintf(parent_offline.running[i].name,
		    sizeof parent_offline.running[i].name, "%s", de->d_name);
		log_info("parent: offline file %s submitted as user=%s pid=%ld",
		    de->d_name, pw->pw_name, (long)pid);
	}
}

/* parent_offline_start - every process is ready: submit what waits */
void
parent_offline_start(void)
{
	if (parent_offline.path[0] == '\0' || parent_offline.dir != NULL)
		return;
	if ((parent_offline.dir = opendir(parent_offline.path)) == NULL) {
		log_warn("parent: offline queue %s", parent_offline.path);
		return;
	}
	parent_offline_next();
}

int
parent_offline_reaped(pid_t pid, int status)
{
	int	i, n = parent_offline.nrunning;

	for (i = 0; i < n; i++)
		if (parent_offline.running[i].pid == pid)
			break;
	if (i == n)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("parent: offline file %s enqueued",
		    parent_offline.running[i].name);
	else
		log_warnx("parent: offline file %s not enqueued (%s %d), "
		    "kept for the next start", parent_offline.running[i].name,
		    WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
	parent_offline.running[i] = parent_offline.running[n - 1];
	parent_offline.nrunning--;
	parent_offline_next();
	return 0;
}
