/*
 * parent_forward.c -- the parent opens a user's ~/.forward for the
 * lookup process (EXP-06): IMSG_PARENT_OPEN_FORWARD in, exactly one
 * IMSG_LOOKUP_OPEN_FORWARD_FD (the open file) or
 * IMSG_LOOKUP_OPEN_FORWARD_RESULT (an errno: ENOENT none, EPERM
 * refused, EAGAIN try later) out, under the request's id.
 *
 * Why a child: the file is opened by a short-lived forked process that
 * becomes the user (groups, gid, uid) before it touches the home, so
 * the kernel applies the user's own rights (a home on NFS with root
 * squashed, a 0700 home) and root never walks a user's directory.  The
 * child opens the home (O_DIRECTORY), judges it, opens .forward under it
 * with openat(O_NOFOLLOW | O_NONBLOCK) -- a symbolic link or a FIFO
 * never holds it -- judges the file by fstat, and passes the descriptor
 * back (parent_task.c: the parent's loop only waits for that socket's
 * event); a child that hangs (a dead NFS server) is killed after
 * PARENT_FORWARD_TIMEOUT and the answer is EAGAIN.  At most
 * PARENT_FORWARD_RUNNING_MAX children run; PARENT_FORWARD_WAITING_MAX
 * more requests wait, and past that a request is EAGAIN at once.
 * Unprivileged (tests), only our own user's .forward is read.  The
 * refusal rules are judged here (as the user) and again by the lookup
 * on the descriptor (lookup_forward.c): two layers, two checks.  Never
 * blocks, never follows a symbolic link to .forward, never exits on a
 * bad request.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "smtpd.h"
#include "xmalloc.h"

#define PARENT_FORWARD_GROUPS_MAX	256

/* what the child writes back: one datagram, with the descriptor */
struct parent_forward_reply {
	int32_t	error;
	char	why[PARENT_FORWARD_WHY_MAX];
};

/* one request, from the lookup's message until answered */
struct parent_forward {
	struct mproc	*p;
	uint64_t	 reqid;
	uid_t		 uid;
	gid_t		 gid;
	char		 user[PARENT_FORWARD_USER_MAX];
	char		 home[PATH_MAX];
};

static void	parent_forward_child(void *, int);
static void	parent_forward_done(void *, const void *, size_t, int,
		    const char *);

static struct parent_task_kind parent_forward_kind = {
	.name = "forward",
	.running_max = PARENT_FORWARD_RUNNING_MAX,
	.waiting_max = PARENT_FORWARD_WAITING_MAX,
	.timeout = PARENT_FORWARD_TIMEOUT,
	.child = parent_forward_child,
	.done = parent_forward_done,
};

/* parent_forward_check_home - the home's refusal rules (EXP-06) */
int
parent_forward_check_home(const struct stat *st, uid_t uid, char *why,
    size_t whysz)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, whysz, "the home is not a directory");
		return EPERM;
	}
	if (st->st_uid != uid && st->st_uid != 0) {
		snprintf(why, whysz, "the home is owned by uid %lu, not the "
		    "user nor root", (unsigned long)st->st_uid);
		return EPERM;
	}
	/* a sticky home is shared: its owner is expected to settle it */
	if ((st->st_mode & S_ISVTX) != 0) {
		snprintf(why, whysz, "the home has the sticky bit");
		return EAGAIN;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whysz, "the home is group or world writable");
		return EPERM;
	}
	return 0;
}

/* parent_forward_check_file - the file's refusal rules (EXP-06) */
int
parent_forward_check_file(const struct stat *st, uid_t uid, char *why,
    size_t whysz)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whysz, "not a regular file");
		return EPERM;
	}
	if (st->st_uid != uid && st->st_uid != 0) {
		snprintf(why, whysz, "owned by uid %lu, not the user nor "
		    "root", (unsigned long)st->st_uid);
		return EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whysz, "group or world writable");
		return EPERM;
	}
	return 0;
}

/* parent_forward_become - in the child: the user's groups, gid, uid */
static int
parent_forward_become(const struct parent_forward *f, char *why,
    size_t whysz)
{
	gid_t	groups[PARENT_FORWARD_GROUPS_MAX];
	int	ngroups = PARENT_FORWARD_GROUPS_MAX;

	if (geteuid() != 0) {
		if (f->uid == geteuid())
			return 0;
		snprintf(why, whysz, "unprivileged: only uid %lu's .forward "
		    "is read", (unsigned long)geteuid());
		return ENOENT;
	}
	if (f->uid == 0)	/* root's own; EXP-07 limits what it may say */
		return 0;
	if (getgrouplist(f->user, f->gid, groups, &ngroups) == -1) {
		groups[0] = f->gid;
		ngroups = 1;
	}
	if (setgroups((size_t)ngroups, groups) == -1 ||
	    setresgid(f->gid, f->gid, f->gid) == -1 ||
	    setresuid(f->uid, f->uid, f->uid) == -1 ||
	    geteuid() != f->uid || getuid() != f->uid) {
		snprintf(why, whysz, "cannot become uid %lu: %s",
		    (unsigned long)f->uid, strerror(errno));
		return EAGAIN;
	}
	return 0;
}

/* parent_forward_open_errno - what an open's errno means for the lookup */
static int
parent_forward_open_errno(int e, const char *what, char *why, size_t whysz)
{
	if (e == ENOENT || e == ENOTDIR) {
		snprintf(why, whysz, "%s: none", what);
		return ENOENT;
	}
	if (e == ELOOP) {
		snprintf(why, whysz, "%s is a symbolic link", what);
		return EPERM;
	}
	snprintf(why, whysz, "%s: %s", what, strerror(e));
	return e == EACCES || e == EPERM ? EPERM : EAGAIN;
}

/* parent_forward_open_as - in the child: the open, judged .forward */
static int
parent_forward_open_as(const struct parent_forward *f, int *fdp, char *why,
    size_t whysz)
{
	struct stat	st;
	int		dfd, fd, r;

	if ((r = parent_forward_become(f, why, whysz)) != 0)
		return r;
	dfd = open(f->home, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (dfd == -1)
		return parent_forward_open_errno(errno, "the home", why,
		    whysz);
	if (fstat(dfd, &st) == -1)
		return parent_forward_open_errno(errno, "the home", why,
		    whysz);
	if ((r = parent_forward_check_home(&st, f->uid, why, whysz)) != 0)
		return r;
	fd = openat(dfd, ".forward", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return parent_forward_open_errno(errno, ".forward", why,
		    whysz);
	if (fstat(fd, &st) == -1)
		return parent_forward_open_errno(errno, ".forward", why,
		    whysz);
	if ((r = parent_forward_check_file(&st, f->uid, why, whysz)) != 0)
		return r;
	*fdp = fd;
	return 0;
}

/* parent_forward_child - the forked opener: one reply, then exit */
static void
parent_forward_child(void *arg, int sock)
{
	const struct parent_forward	*f = arg;
	struct parent_forward_reply	 r;
	int				 fd = -1;

	memset(&r, 0, sizeof r);
	r.error = parent_forward_open_as(f, &fd, r.why, sizeof r.why);
	parent_task_reply(sock, &r, sizeof r, r.error == 0 ? fd : -1);
}

/* parent_forward_answer - the one answer to the lookup; FD consumed */
static void
parent_forward_answer(struct parent_forward *f, int fd, int error)
{
	if (f->p->closed) {
		if (fd != -1)
			close(fd);
	} else if (fd != -1)
		msg_send_lookup_open_forward_fd(f->p,
		    &(struct msg_lookup_open_forward_fd){ .reqid = f->reqid,
		    .fd = fd });
	else
		msg_send_lookup_open_forward_result(f->p,
		    &(struct msg_lookup_open_forward_result){
		    .reqid = f->reqid, .error = error });
}

/* parent_forward_log - one line for a .forward not used, with why */
static void
parent_forward_log(const struct parent_forward *f, int error,
    const char *why)
{
	if (error == ENOENT)
		log_debug("parent: .forward of %s: %s", f->user, why);
	else
		log_event(0, "parent", error == EPERM ? "forward-refused" :
		    "forward-tempfail", "user=%s home=%s reason=\"%s\"",
		    f->user, f->home, why);
}

/* parent_forward_done - the opener's reply (or none): the answer */
static void
parent_forward_done(void *arg, const void *reply, size_t len, int fd,
    const char *failure)
{
	struct parent_forward		*f = arg;
	struct parent_forward_reply	 r;
	char				 why[PARENT_FORWARD_WHY_MAX];

	memset(&r, 0, sizeof r);
	if (failure != NULL || len != sizeof r) {
		snprintf(why, sizeof why, "the opener %s", failure != NULL ?
		    failure : "sent a bad answer");
		r.error = EAGAIN;
	} else {
		memcpy(&r, reply, sizeof r);
		r.why[sizeof r.why - 1] = '\0';
		snprintf(why, sizeof why, "%s", r.why);
		if ((r.error == 0 && fd == -1) || (r.error != 0 &&
		    r.error != ENOENT && r.error != EPERM &&
		    r.error != EAGAIN))
			r.error = EAGAIN;
	}
	if (r.error != 0 && fd != -1) {
		close(fd);
		fd = -1;
	}
	if (r.error != 0)
		parent_forward_log(f, r.error, why);
	else
		log_debug("parent: .forward of %s opened", f->user);
	parent_forward_answer(f, fd, r.error);
	free(f);
}

/* parent_forward_request_ok - a request we can act on; else why not */
static int
parent_forward_request_ok(const struct msg_parent_open_forward *m,
    char *why, size_t whysz)
{
	const char	*s;

	if (m->user[0] == '\0' || strlen(m->user) >= PARENT_FORWARD_USER_MAX ||
	    strchr(m->user, '/') != NULL) {
		snprintf(why, whysz, "bad user name");
		return 0;
	}
	if (m->home[0] != '/' || strlen(m->home) >= PATH_MAX) {
		snprintf(why, whysz, "the home is not an absolute path");
		return 0;
	}
	for (s = m->home; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(why, whysz, "control character in the home");
			return 0;
		}
	return 1;
}

/* parent_on_open_forward - the lookup asks for USER's ~/.forward */
void
parent_on_open_forward(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_open_forward	 m;
	struct parent_forward		*f;
	char				 why[PARENT_FORWARD_WHY_MAX];
	int				 error = 0;

	if (msg_unpack_parent_open_forward(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->p = p;
	f->reqid = m.reqid;
	f->uid = (uid_t)m.uid;
	f->gid = (gid_t)m.gid;
	(void)snprintf(f->user, sizeof f->user, "%s", m.user);
	(void)snprintf(f->home, sizeof f->home, "%s", m.home);
	if (!parent_forward_request_ok(&m, why, sizeof why))
		error = EPERM;
	else if (parent_task_run(&parent_forward_kind, f) == -1) {
		snprintf(why, sizeof why, "%d requests already waiting",
		    PARENT_FORWARD_WAITING_MAX);
		error = EAGAIN;
	}
	if (error != 0) {
		parent_forward_log(f, error, why);
		parent_forward_answer(f, -1, error);
		free(f);
	}
}
