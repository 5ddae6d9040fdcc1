/*
 * parent_setup.c -- what the parent prepares, as root, before it forks:
 * the unprivileged accounts and the empty chroot are checked, the spool
 * root is created with the queue user owning it (the queue backend makes
 * its own layout below it, as that user), the control socket is
 * bound (refusing to steal one a running daemon answers on), and the pid
 * file is written.  Start-up only: errors here are fatal, with a message
 * that says what to fix.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "smtpd.h"

/* parent_setup_getpw - an account that must exist when run as root */
static struct passwd *
parent_setup_getpw(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("user %s does not exist: create it (make install, or "
		    "scripts/users.sh), or choose another with -o", user);
	if (pw->pw_uid == 0)
		fatalx("user %s must not be root", user);
	return pw;
}

void
parent_setup_check_accounts(void)
{
	struct stat	 st;
	const char	*dir = env->opts.chroot;
	uid_t		 uid;

	if (!env->privsep)
		return;
	/* getpwnam's answer is overwritten by the next call: keep the uid */
	uid = parent_setup_getpw(env->opts.user)->pw_uid;
	if (parent_setup_getpw(env->opts.quser)->pw_uid == uid)
		fatalx("users %s and %s must differ: the queue user alone "
		    "may touch the spool", env->opts.user, env->opts.quser);
	if (stat(dir, &st) == -1)
		fatal("chroot directory %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("chroot directory %s must be a directory owned by root "
		    "and writable by nobody else", dir);
}

/* parent_setup_mkdir - a directory with this owner and mode, made if need be */
void
parent_setup_mkdir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat	st;

	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
	if (stat(path, &st) == -1)
		fatal("stat %s", path);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s exists and is not a directory", path);
	if (env->privsep && (st.st_uid != uid || st.st_gid != gid) &&
	    chown(path, uid, gid) == -1)
		fatal("chown %s", path);
	if ((st.st_mode & 07777) != mode && chmod(path, mode) == -1)
		fatal("chmod %s", path);
}

/*
 * parent_setup_spool - the spool root only, owned by the queue user: the
 * queue process chroots into it and its backend creates what it needs
 * there (queue_fs: queue/, incoming/, ...), so the layout is known in
 * one place.  The one exception is offline/ (parent_offline.c), which
 * belongs to sendmail and the parent, not to the queue.
 */
void
parent_setup_spool(void)
{
	struct passwd	*qpw;
	uid_t		 quid = geteuid();
	gid_t		 qgid = getegid();

	if (env->privsep) {
		qpw = parent_setup_getpw(env->opts.quser);
		quid = qpw->pw_uid;
		qgid = qpw->pw_gid;
	}
	parent_setup_mkdir(env->opts.spool, quid, qgid, 0711);
	parent_offline_setup();
}

/*
 * parent_setup_maildir - the built-in configuration's Maildir (make run):
 * made by the parent, owned by the account deliveries run as, which may
 * not be allowed to create it in the run directory
 */
void
parent_setup_maildir(const char *user)
{
	struct passwd	*pw;
	char		 path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof path, "%s/Maildir",
	    env->opts.rundir) >= sizeof path)
		fatalx("run directory path too long");
	if (!env->privsep) {
		parent_setup_mkdir(path, geteuid(), getegid(), 0700);
		return;
	}
	pw = parent_setup_getpw(user);
	parent_setup_mkdir(path, pw->pw_uid, pw->pw_gid, 0700);
}

int
parent_setup_control_socket(void)
{
	struct sockaddr_un	 sun;
	const char		*path = env->opts.sock;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path)
		fatalx("control socket path too long: %s", path);

	/* a socket someone answers on belongs to a running daemon */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		fatalx("control socket %s: another smtpd is running", path);
	close(fd);
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("unlink %s", path);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		fatal("socket");
	old = umask(S_IXUSR | S_IXGRP | S_IXOTH);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fatal("bind %s", path);
	umask(old);
	/* anyone may connect; control checks who may do what */
	if (chmod(path, 0666) == -1)
		fatal("chmod %s", path);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen %s", path);
	return fd;
}

void
parent_setup_pidfile(void)
{
	char	buf[32], tmp[PATH_MAX];
	int	fd, n;

	/* written aside and renamed: a reader never sees it empty or half */
	n = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", env->opts.pidfile,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		fatalx("pid file path too long: %s", env->opts.pidfile);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		fatal("pid file %s", tmp);
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) == -1) {
		unlink(tmp);
		fatal("write %s", tmp);
	}
	if (rename(tmp, env->opts.pidfile) == -1) {
		unlink(tmp);
		fatal("rename %s to %s", tmp, env->opts.pidfile);
	}
}

void
parent_setup_cleanup(void)
{
	unlink(env->opts.sock);
	unlink(env->opts.pidfile);
}
