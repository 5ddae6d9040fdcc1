/*
 * mail.maildir.c -- mail.maildir: deliver the message on stdin into a
 * maildir (MDA-02, MDA-03, MDA-04).
 *
 * Started by the parent as the recipient: mail.maildir [-j] [-u name] [path]
 * (path defaults to $HOME/Maildir), or once per user as mail.maildir -A,
 * a long-lived agent that takes one delivery after the other from the
 * parent (the same arguments and stdin per request; mda_util.h).
 * Missing directories are created 0700; the message is written to
 * tmp/UNIQUE, fsync'd, linked into new/ and the directory fsync'd, so
 * new/ never holds a partial file.
 * With -j a message whose header says "X-Spam: yes" goes to the .Junk
 * folder.  Exit status per sysexits (EX_TEMPFAIL on a full disk or
 * quota) and one line on stderr; it must never leave a partial file
 * in new/ nor exit 0 before the message is on stable storage.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mda_util.h"

#define MAILDIR_HEADER_MAX	(64 * 1024)	/* header bytes searched for X-Spam */
#define MAILDIR_LINK_TRIES	16

struct maildir_msg {
	char	head[MAILDIR_HEADER_MAX];
	size_t	headlen;
	int	eof;		/* stdin fully read into head */
};

static void	maildir_usage(void) __attribute__((noreturn));

static void
maildir_usage(void)
{
	/* the agent answers it and goes on */
	if (mda_util_serving())
		mda_util_fail(EX_USAGE, "usage: mail.maildir [-j] [-u name] "
		    "[path]");
	fprintf(stderr, "usage: mail.maildir [-j] [-u name] [path]\n"
	    "       mail.maildir -A\n");
	exit(EX_USAGE);
}

/* maildir_mkdirs - create DIR and its missing parents, 0700 */
static void
maildir_mkdirs(const char *dir)
{
	char	buf[PATH_MAX];
	char	*p;

	if (strlcpy(buf, dir, sizeof(buf)) >= sizeof(buf))
		mda_util_fail(EX_CANTCREAT, "%s: path too long", dir);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char	c = *p;

		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			mda_util_fail(mda_util_errno_code(errno),
			    "mkdir %s: %s", buf, strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
}

/* maildir_prepare - DIR/{tmp,new,cur} exist: looked at first (the
 * common case, a maildir delivered to before: three lstats), made with
 * their missing parents otherwise */
static void
maildir_prepare(const char *dir)
{
	static const char	*const sub[] = { "tmp", "new", "cur" };
	char			 path[PATH_MAX];
	struct stat		 st;
	size_t			 i;

	for (i = 0; i < 3; i++)
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    sub[i]) >= sizeof(path) || lstat(path, &st) == -1 ||
		    !S_ISDIR(st.st_mode))
			break;
	if (i == 3)
		return;
	maildir_mkdirs(dir);
	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    sub[i]) >= sizeof(path))
			mda_util_fail(EX_CANTCREAT, "%s: path too long", dir);
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			mda_util_fail(mda_util_errno_code(errno),
			    "mkdir %s: %s", path, strerror(errno));
	}
}

/* maildir_read_head - read stdin until the end of the header (or the
 * bound, or EOF) */
static void
maildir_read_head(struct maildir_msg *m)
{
	ssize_t	n;

	while (m->headlen < sizeof(m->head)) {
		n = mda_util_read(STDIN_FILENO, m->head + m->headlen,
		    sizeof(m->head) - m->headlen);
		if (n == -1)
			mda_util_fail(EX_TEMPFAIL, "read message: %s",
			    strerror(errno));
		if (n == 0) {
			m->eof = 1;
			return;
		}
		m->headlen += (size_t)n;
		if (memmem(m->head, m->headlen, "\n\n", 2) != NULL ||
		    memmem(m->head, m->headlen, "\r\n\r\n", 4) != NULL)
			return;
	}
}

/* maildir_hostname - the host part of a unique name, '/' and ':'
 * written \057 and \072 as the maildir convention says */
static void
maildir_hostname(char *dst, size_t dstsz)
{
	char	host[256], *p;
	size_t	n = 0;

	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (p = host; *p != '\0' && n + 5 < dstsz; p++) {
		if (*p == '/' || *p == ':')
			n += (size_t)snprintf(dst + n, dstsz - n, "\\%03o",
			    (unsigned char)*p);
		else
			dst[n++] = *p;
	}
	dst[n] = '\0';
}

/* maildir_copy - the head already read, then the rest of stdin */
static int
maildir_copy(int fd, const struct maildir_msg *m)
{
	char	buf[65536];
	ssize_t	n;

	if (mda_util_write_all(fd, m->head, m->headlen) == -1)
		return -1;
	if (m->eof) {
		if (!mda_util_input_complete()) {
			errno = EPIPE;	/* a truncated message: tempfail */
			return -1;
		}
		return 0;
	}
	while ((n = mda_util_read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (mda_util_write_all(fd, buf, (size_t)n) == -1)
			return -1;
	if (n == -1)
		mda_util_fail(EX_TEMPFAIL, "read message: %s", strerror(errno));
	if (!mda_util_input_complete()) {
		errno = EPIPE;		/* a truncated message: tempfail */
		return -1;
	}
	return 0;
}

/* maildir_fsync_dir - the directory entry itself on stable storage */
static void
maildir_fsync_dir(const char *dir)
{
	int	fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		mda_util_fail(EX_TEMPFAIL, "open %s: %s", dir, strerror(errno));
	if (fsync(fd) == -1)
		mda_util_fail(EX_TEMPFAIL, "fsync %s: %s", dir, strerror(errno));
	close(fd);
}

/* maildir_write_tmp - the message into FD (TMP, just opened or -1),
 * on stable storage; on failure TMP is removed and we exit */
static void
maildir_write_tmp(int fd, const char *tmp, const struct maildir_msg *m)
{
	int	err;

	if (fd == -1)
		mda_util_fail(mda_util_errno_code(errno), "create %s: %s",
		    tmp, strerror(errno));
	if (maildir_copy(fd, m) == -1 || fsync(fd) == -1 || close(fd) == -1) {
		err = errno;
		unlink(tmp);
		mda_util_fail(mda_util_errno_code(err), "write %s: %s", tmp,
		    strerror(err));
	}
}

/* maildir_deliver - tmp/UNIQUE, fsync, link to new/, fsync new/ */
static void
maildir_deliver(const char *dir, const struct maildir_msg *m)
{
	char		host[256], name[512], tmp[PATH_MAX], dst[PATH_MAX];
	char		newdir[PATH_MAX];
	struct timeval	tv;
	unsigned int	seq;
	int		fd = -1, err;

	maildir_hostname(host, sizeof(host));
	for (seq = 0; seq < MAILDIR_LINK_TRIES; seq++) {
		gettimeofday(&tv, NULL);
		(void)snprintf(name, sizeof(name), "%lld.M%06ldP%ld_%u.%s",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		    seq, host);
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir,
		    name) >= sizeof(tmp) ||
		    (size_t)snprintf(dst, sizeof(dst), "%s/new/%s", dir,
		    name) >= sizeof(dst))
			mda_util_fail(EX_CANTCREAT, "%s: path too long", dir);
		fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	maildir_write_tmp(fd, tmp, m);
	/* a name taken in new/ (another host's clock, a copied file):
	 * the next sequence number */
	while (link(tmp, dst) == -1) {
		err = errno;
		if (err == EEXIST && ++seq < 2 * MAILDIR_LINK_TRIES &&
		    (size_t)snprintf(dst, sizeof(dst), "%s/new/%s_%u", dir,
		    name, seq) < sizeof(dst))
			continue;
		unlink(tmp);
		mda_util_fail(err == EEXIST ? EX_TEMPFAIL :
		    mda_util_errno_code(err), "link %s: %s", dst,
		    strerror(err));
	}
	unlink(tmp);
	if ((size_t)snprintf(newdir, sizeof(newdir), "%s/new", dir) >=
	    sizeof(newdir))
		mda_util_fail(EX_CANTCREAT, "%s: path too long", dir);
	maildir_fsync_dir(newdir);
}

/*
 * maildir_deliver_once - -u NAME: the caller's stable name for this
 * delivery (the daemon passes one per envelope), so a delivery repeated
 * after a crash finds its first copy and stops there: new/NAME, or
 * cur/NAME:2, before a reader set flags, means delivered
 */
static void
maildir_deliver_once(const char *dir, const char *unique,
    const struct maildir_msg *m)
{
	char		host[256], name[512], tmp[PATH_MAX], dst[PATH_MAX];
	char		cur[PATH_MAX], newdir[PATH_MAX];
	struct stat	st;
	int		fd, err;

	maildir_hostname(host, sizeof(host));
	if ((size_t)snprintf(name, sizeof(name), "%s.%s", unique, host) >=
	    sizeof(name) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name) >=
	    sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/new/%s", dir, name) >=
	    sizeof(dst) ||
	    (size_t)snprintf(cur, sizeof(cur), "%s/cur/%s:2,", dir, name) >=
	    sizeof(cur) ||
	    (size_t)snprintf(newdir, sizeof(newdir), "%s/new", dir) >=
	    sizeof(newdir))
		mda_util_fail(EX_CANTCREAT, "%s: path too long", dir);
	if (lstat(dst, &st) == 0 || lstat(cur, &st) == 0) {
		maildir_fsync_dir(newdir);	/* the first copy may not be */
		return;
	}
	/* a half-written tmp/NAME of an earlier attempt is rewritten */
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	maildir_write_tmp(fd, tmp, m);
	if (link(tmp, dst) == -1 && errno != EEXIST) {
		err = errno;
		unlink(tmp);
		mda_util_fail(mda_util_errno_code(err), "link %s: %s", dst,
		    strerror(err));
	}
	unlink(tmp);
	maildir_fsync_dir(newdir);
}

/* maildir_unique_ok - a -u NAME is one file name of safe characters */
static int
maildir_unique_ok(const char *u)
{
	size_t	i;

	if (u[0] == '\0' || u[0] == '.' || strlen(u) > 128)
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '.' &&
		    u[i] != '_' && u[i] != '-')
			return 0;
	return 1;
}

/* maildir_run - one delivery: the message on stdin, as the arguments
 * say; the exit status (a failure does not return: mda_util_fail) */
static int
maildir_run(int argc, char *argv[])
{
	static struct maildir_msg	 m;
	char				 dir[PATH_MAX], junk[PATH_MAX];
	const char			*home, *path;
	struct passwd			*pw;
	const char			*unique = NULL;
	int				 ch, jflag = 0;

	m.headlen = 0;
	m.eof = 0;
	while ((ch = getopt(argc, argv, "ju:")) != -1) {
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		case 'u':
			if (!maildir_unique_ok(optarg))
				mda_util_fail(EX_USAGE, "bad -u name");
			unique = optarg;
			break;
		default:
			maildir_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		maildir_usage();
	if (argc == 1)
		path = argv[0];
	else {
		if ((home = getenv("HOME")) == NULL || *home != '/') {
			if ((pw = getpwuid(getuid())) == NULL)
				mda_util_fail(EX_NOUSER, "no home directory");
			home = pw->pw_dir;
		}
		if ((size_t)snprintf(dir, sizeof(dir), "%s/Maildir", home) >=
		    sizeof(dir))
			mda_util_fail(EX_CANTCREAT, "home path too long");
		path = dir;
	}
	if (*path == '\0')
		mda_util_fail(EX_USAGE, "empty maildir path");
	maildir_read_head(&m);
	if (jflag && mda_util_is_spam(m.head, m.headlen)) {
		if ((size_t)snprintf(junk, sizeof(junk), "%s/.Junk", path) >=
		    sizeof(junk))
			mda_util_fail(EX_CANTCREAT, "%s: path too long", path);
		maildir_prepare(path);
		path = junk;
	}
	maildir_prepare(path);
	if (unique != NULL)
		maildir_deliver_once(path, unique, &m);
	else
		maildir_deliver(path, &m);
	return EX_OK;
}

int
main(int argc, char *argv[])
{
	return mda_util_main(argc, argv, "mail.maildir", maildir_run);
}
