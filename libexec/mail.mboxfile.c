/*
 * mail.mboxfile.c -- mail.mboxfile: append the message on stdin to a
 * mailbox file in mbox format (MDA-01, MDA-17).
 *
 * Started by the parent as the recipient: mail.mboxfile [-f sender]
 * file, or once per user as mail.mboxfile -A, a long-lived agent that
 * takes one delivery after the other (mda_util.h).  It writes a "From sender date" line, the message with the
 * mboxrd escaping (every line matching ^>*From  gets one more '>'),
 * and one blank line.  Locking is what Debian's mail programs agree
 * on: a dotlock FILE.lock when the directory lets us create it (a lock
 * older than DOTLOCK_STALE is broken), then an fcntl write lock; each
 * with bounded retries, then EX_TEMPFAIL.  On any write error the file
 * is truncated back to its old size: it must never leave a mailbox
 * half-written, nor exit 0 before fsync.
 *
 * The message is escaped into a temporary file first (the input is
 * known complete before the mailbox is touched), then appended.  With
 * -o (once: the daemon's deliveries) it is not appended when the
 * mailbox already ends with this very copy, From_ line's date aside:
 * a delivery repeated because the daemon died after the append and
 * before it could record it.  The copy carries the envelope's
 * Delivered-To and the queue's message id (Received), so only the
 * same message for the same recipient matches; a message appended by
 * someone else in between defeats the check (one more copy, as before).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mda_util.h"

#define MBOX_LOCK_TRIES		20		/* each lock: 20 tries */
#define MBOX_LOCK_WAIT_MS	250		/* between tries: 5 s in all */
#define MBOX_DOTLOCK_STALE	300		/* seconds: a dead locker's */
#define MBOX_SENDER_MAX		512
#define MBOX_CMP_CHUNK		65536		/* -o: compared per read */

struct mbox_out {
	int	fd;
	char	buf[65536];
	size_t	len;
	int	last_nl;	/* the last byte written was '\n' */
};

/* the dotlock we hold, removed on every exit (mda_util_on_fail) */
static char	mbox_lock_held[PATH_MAX];

static void	mbox_usage(void) __attribute__((noreturn));

static void
mbox_unlock(void)
{
	if (mbox_lock_held[0] != '\0')
		(void)unlink(mbox_lock_held);
	mbox_lock_held[0] = '\0';
}

static void
mbox_usage(void)
{
	/* the agent answers it and goes on */
	if (mda_util_serving())
		mda_util_fail(EX_USAGE, "usage: mail.mboxfile [-o] [-f sender] "
		    "file");
	fprintf(stderr, "usage: mail.mboxfile [-o] [-f sender] file\n"
	    "       mail.mboxfile -A\n");
	exit(EX_USAGE);
}

static void
mbox_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* mbox_dotlock - create PATH.lock; 1 held, 0 the directory does not
 * let us (go on with fcntl alone), EX_TEMPFAIL after the retries */
static int
mbox_dotlock(const char *lock)
{
	struct stat	st;
	int		fd, i;

	for (i = 0; i < MBOX_LOCK_TRIES; i++) {
		fd = open(lock, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1) {
			close(fd);
			(void)strlcpy(mbox_lock_held, lock,
			    sizeof(mbox_lock_held));
			mda_util_on_fail(mbox_unlock);
			return 1;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 0;
		if (errno != EEXIST)
			mda_util_fail(EX_TEMPFAIL, "%s: %s", lock,
			    strerror(errno));
		if (lstat(lock, &st) == 0 &&
		    time(NULL) - st.st_mtime > MBOX_DOTLOCK_STALE) {
			(void)unlink(lock);
			continue;
		}
		mbox_sleep_ms(MBOX_LOCK_WAIT_MS);
	}
	mda_util_fail(EX_TEMPFAIL, "%s: mailbox locked by another program",
	    lock);
}

/* mbox_fcntl_lock - the fcntl write lock, bounded retries */
static void
mbox_fcntl_lock(int fd, const char *path)
{
	struct flock	fl;
	int		i;

	for (i = 0; i < MBOX_LOCK_TRIES; i++) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			break;
		mbox_sleep_ms(MBOX_LOCK_WAIT_MS);
	}
	mda_util_fail(EX_TEMPFAIL, "%s: cannot lock the mailbox: %s", path,
	    errno == EAGAIN || errno == EACCES ? "locked by another program" :
	    strerror(errno));
}

/* mbox_flush - the buffered output to the file: 0 or -1 */
static int
mbox_flush(struct mbox_out *o)
{
	if (o->len == 0)
		return 0;
	if (mda_util_write_all(o->fd, o->buf, o->len) == -1)
		return -1;
	o->last_nl = o->buf[o->len - 1] == '\n';
	o->len = 0;
	return 0;
}

static int
mbox_put(struct mbox_out *o, const char *p, size_t n)
{
	while (n > 0) {
		size_t	k = sizeof(o->buf) - o->len;

		if (k == 0) {
			if (mbox_flush(o) == -1)
				return -1;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* mbox_put_cb - the escaper's output */
static int
mbox_put_cb(void *arg, const char *p, size_t n)
{
	return mbox_put(arg, p, n);
}

/* mbox_tmpfile - an unnamed read-write file for the escaped message */
static int
mbox_tmpfile(void)
{
	int	fd;

	if ((fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1 &&
	    (fd = memfd_create("mail.mboxfile", MFD_CLOEXEC)) == -1)
		mda_util_fail(EX_TEMPFAIL, "temporary file: %s",
		    strerror(errno));
	return fd;
}

/* mbox_spool - the message on stdin, escaped and followed by its blank
 * line, into a temporary file; its length in *LEN.  Before the mailbox
 * is touched, so a short input (the daemon's writer died) changes
 * nothing */
static int
mbox_spool(off_t *len)
{
	static struct mbox_out	o;
	struct mda_util_mbox	esc;
	char			buf[65536];
	ssize_t			n;

	memset(&o, 0, sizeof(o));
	o.fd = mbox_tmpfile();
	mda_util_mbox_init(&esc, mbox_put_cb, &o);
	while ((n = mda_util_read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if (mda_util_mbox_escape(&esc, buf, (size_t)n) == -1)
			goto fail;
	if (n == -1)
		mda_util_fail(EX_TEMPFAIL, "read the message: %s",
		    strerror(errno));
	if (mda_util_mbox_end(&esc) == -1 || mbox_flush(&o) == -1)
		goto fail;
	if (!mda_util_input_complete())
		mda_util_fail(EX_TEMPFAIL, "the message ended early or ran "
		    "over its announced size");
	if (mbox_put(&o, o.last_nl ? "\n" : "\n\n", o.last_nl ? 1 : 2) ==
	    -1 || mbox_flush(&o) == -1)
		goto fail;
	if ((*len = lseek(o.fd, 0, SEEK_CUR)) == -1)
		goto fail;
	return o.fd;
fail:
	mda_util_fail(mda_util_errno_code(errno), "temporary file: %s",
	    strerror(errno));
}

/* mbox_pread_all - LEN bytes of FD at OFF: 0, or -1 (short or error) */
static int
mbox_pread_all(int fd, char *buf, size_t len, off_t off)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = pread(fd, buf, len, off)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * mbox_has_copy - whether the mailbox FD (SIZE bytes) ends with LINE
 * (the From_ line, its date aside: DATEOFF is where the date begins)
 * followed by the TLEN bytes of TMP
 */
static int
mbox_has_copy(int fd, off_t size, const char *line, size_t linelen,
    size_t dateoff, int tmp, off_t tlen)
{
	static char	a[MBOX_CMP_CHUNK], b[MBOX_CMP_CHUNK];
	off_t		at, done;
	size_t		k;

	if (size < (off_t)linelen + tlen)
		return 0;
	at = size - tlen - (off_t)linelen;
	/* the From_ line: this sender, a date as long, then a newline */
	if ((at > 0 && (mbox_pread_all(fd, a, 1, at - 1) == -1 ||
	    a[0] != '\n')) || mbox_pread_all(fd, a, linelen, at) == -1 ||
	    memcmp(a, line, dateoff) != 0 || a[linelen - 1] != '\n')
		return 0;
	for (done = 0; done < tlen; done += (off_t)k) {
		k = tlen - done > MBOX_CMP_CHUNK ? MBOX_CMP_CHUNK :
		    (size_t)(tlen - done);
		if (mbox_pread_all(fd, a, k, at + (off_t)linelen + done) ==
		    -1 || mbox_pread_all(tmp, b, k, done) == -1 ||
		    memcmp(a, b, k) != 0)
			return 0;
	}
	return 1;
}

/* mbox_append - LINE, then the TLEN bytes of TMP, then fsync: 0 or -1 */
static int
mbox_append(int fd, const char *line, size_t linelen, int tmp, off_t tlen)
{
	static char	buf[65536];
	off_t		done;
	size_t		k;

	if (mda_util_write_all(fd, line, linelen) == -1)
		return -1;
	for (done = 0; done < tlen; done += (off_t)k) {
		k = tlen - done > (off_t)sizeof(buf) ? sizeof(buf) :
		    (size_t)(tlen - done);
		if (mbox_pread_all(tmp, buf, k, done) == -1) {
			if (errno == 0)
				errno = EIO;
			return -1;
		}
		if (mda_util_write_all(fd, buf, k) == -1)
			return -1;
	}
	return fsync(fd);
}

/* mbox_open - the mailbox: a regular file with one link, created 0600 */
static int
mbox_open(const char *path)
{
	struct stat	st;
	int		fd;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd == -1)
		mda_util_fail(errno == ELOOP ? EX_CANTCREAT :
		    mda_util_errno_code(errno), "open %s: %s", path,
		    errno == ELOOP ? "a symbolic link" : strerror(errno));
	if (fstat(fd, &st) == -1)
		mda_util_fail(EX_TEMPFAIL, "fstat %s: %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		mda_util_fail(EX_CANTCREAT, "%s: not a regular file", path);
	if (st.st_nlink != 1)
		mda_util_fail(EX_CANTCREAT, "%s: has %lu hard links", path,
		    (unsigned long)st.st_nlink);
	if (fcntl(fd, F_SETFL, O_APPEND) == -1)
		mda_util_fail(EX_TEMPFAIL, "fcntl %s: %s", path,
		    strerror(errno));
	return fd;
}

/* mbox_run - one delivery: the message on stdin, as the arguments say;
 * the exit status (a failure does not return: mda_util_fail) */
static int
mbox_run(int argc, char *argv[])
{
	char			 lock[PATH_MAX], from[MBOX_SENDER_MAX + 1];
	char			 line[MBOX_SENDER_MAX + 64], date[64];
	const char		*sender = "MAILER-DAEMON", *path;
	struct stat		 st;
	time_t			 now;
	off_t			 tlen;
	int			 ch, err, once = 0, fd, tmp, len, dateoff;

	while ((ch = getopt(argc, argv, "f:o")) != -1) {
		switch (ch) {
		case 'f':
			if (*optarg != '\0')
				sender = optarg;
			break;
		case 'o':
			once = 1;
			break;
		default:
			mbox_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		mbox_usage();
	path = argv[0];
	if (strlen(sender) > MBOX_SENDER_MAX)
		mda_util_fail(EX_DATAERR, "sender too long for the From_ line");
	/* the From_ line is split at spaces: a quoted local part's white
	 * space (and any control byte) becomes '_' */
	(void)strlcpy(from, sender, sizeof(from));
	for (char *c = from; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			*c = '_';
	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    sizeof(lock))
		mda_util_fail(EX_CANTCREAT, "%s: path too long", path);
	now = time(NULL);
	if (strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y",
	    localtime(&now)) == 0)
		(void)strlcpy(date, "Thu Jan  1 00:00:00 1970", sizeof(date));
	dateoff = (int)strlen("From  ") + (int)strlen(from);
	len = snprintf(line, sizeof(line), "From %s %s\n", from, date);
	tmp = mbox_spool(&tlen);
	/* a signal while the dotlock is held must not leave it behind */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	(void)mbox_dotlock(lock);
	fd = mbox_open(path);
	mbox_fcntl_lock(fd, path);
	if (fstat(fd, &st) == -1)
		mda_util_fail(EX_TEMPFAIL, "fstat %s: %s", path, strerror(errno));
	if (once && mbox_has_copy(fd, st.st_size, line, (size_t)len,
	    (size_t)dateoff, tmp, tlen)) {
		/* delivered before the daemon could record it */
		close(tmp);
		mbox_unlock();
		return EX_OK;
	}
	if (mbox_append(fd, line, (size_t)len, tmp, tlen) == -1) {
		err = errno;
		if (ftruncate(fd, st.st_size) == -1 || fsync(fd) == -1)
			err = errno;
		mda_util_fail(mda_util_errno_code(err), "write %s: %s", path,
		    strerror(err));
	}
	close(tmp);
	mbox_unlock();
	/* an agent's mailbox (and its lock) is closed after each delivery
	 * by the agent loop; a process's at its exit */
	return EX_OK;
}

int
main(int argc, char *argv[])
{
	return mda_util_main(argc, argv, "mail.mboxfile", mbox_run);
}
