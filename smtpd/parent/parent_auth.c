/*
 * parent_auth.c -- SMTP AUTH against the system's accounts (AUTH-04):
 * the dispatcher hands a user and password it decoded; the parent, the
 * only process that may read the shadow file, checks them with crypt(3)
 * and answers 1 (right), 0 (wrong, no such user, locked or password-less
 * account) or -1 (the account database cannot be read: a temporary
 * failure for the client).
 *
 * Runs in the privileged parent, which never waits for it: each check
 * is a short-lived child (parent_task.c) that looks the account up
 * (getpwnam, getspnam: NSS may be a network directory) and runs
 * crypt(3), which may take milliseconds by design, then answers one
 * byte; a child that hangs is killed after PARENT_AUTH_TIMEOUT and the
 * answer is -1.  What it must never do: log the password, answer yes
 * for an account without a usable hash, or fatal on a request.
 */
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "password.h"
#include "smtpd.h"
#include "xmalloc.h"

#define PARENT_AUTH_TIMEOUT	10	/* seconds a check may take */
#define PARENT_AUTH_RUNNING_MAX	8	/* checks at once */
#define PARENT_AUTH_WAITING_MAX	256	/* checks waiting for a slot */
/* what the dispatcher decodes at most (smtp_auth.h), with the NUL */
#define PARENT_AUTH_USER_MAX	256
#define PARENT_AUTH_PASSWORD_MAX	1024

/* one check, from the dispatcher's message until answered */
struct parent_auth {
	struct mproc	*p;
	uint64_t	 reqid;
	char		 user[PARENT_AUTH_USER_MAX];
	char		 password[PARENT_AUTH_PASSWORD_MAX];
};

/* parent_auth_hash - USER's hash in BUF: 1, 0 no such user, -1 error */
static int
parent_auth_hash(const char *user, char *buf, size_t bufsz)
{
	struct passwd	*pw;
	struct spwd	*sp;
	const char	*hash;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM ? 0 : -1;
	hash = pw->pw_passwd;
	if (strcmp(hash, "x") == 0) {		/* in the shadow file */
		errno = 0;
		if ((sp = getspnam(user)) == NULL)
			return errno == 0 || errno == ENOENT ? 0 : -1;
		hash = sp->sp_pwdp;
	}
	if (strlcpy(buf, hash, bufsz) >= bufsz)
		return 0;
	return 1;
}

/* parent_auth_child - in the child: the check, one byte back */
static void
parent_auth_child(void *arg, int sock)
{
	const struct parent_auth	*a = arg;
	char				 hash[PASSWORD_HASH_MAX];
	int				 r;
	signed char			 c;

	if ((r = parent_auth_hash(a->user, hash, sizeof hash)) == -1)
		log_warn("parent: auth: account database");
	else if (r == 1 && (r = password_check(a->password, hash)) == -1)
		log_warnx("parent: auth: crypt failed");
	explicit_bzero(hash, sizeof hash);
	c = (signed char)r;
	parent_task_reply(sock, &c, 1, -1);
}

/* parent_auth_answer - the one answer to the dispatcher */
static void
parent_auth_answer(struct parent_auth *a, int r)
{
	if (!a->p->closed)
		msg_send_parent_check_password_result(a->p,
		    &(struct msg_parent_check_password_result){
		    .reqid = a->reqid, .r = r });
	explicit_bzero(a, sizeof *a);
	free(a);
}

/* parent_auth_done - the child's byte (or none: a temporary failure) */
static void
parent_auth_done(void *arg, const void *reply, size_t len, int fd,
    const char *failure)
{
	int	r = -1;

	if (fd != -1)
		close(fd);
	if (failure != NULL)
		log_warnx("parent: auth: the check %s", failure);
	else if (len == 1 && (*(const signed char *)reply == 0 ||
	    *(const signed char *)reply == 1))
		r = *(const signed char *)reply;
	parent_auth_answer(arg, r);
}

static struct parent_task_kind parent_auth_kind = {
	.name = "auth",
	.running_max = PARENT_AUTH_RUNNING_MAX,
	.waiting_max = PARENT_AUTH_WAITING_MAX,
	.timeout = PARENT_AUTH_TIMEOUT,
	.child = parent_auth_child,
	.done = parent_auth_done,
};

/* parent_on_check_password - IMSG_PARENT_CHECK_PASSWORD */
void
parent_on_check_password(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_check_password	 m;
	struct parent_auth			*a;

	if (msg_unpack_parent_check_password(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->p = p;
	a->reqid = m.reqid;
	if (strlcpy(a->user, m.user, sizeof a->user) >= sizeof a->user ||
	    strlcpy(a->password, m.password, sizeof a->password) >=
	    sizeof a->password) {
		parent_auth_answer(a, 0);	/* no such account */
		return;
	}
	if (parent_task_run(&parent_auth_kind, a) == -1) {
		log_warnx("parent: auth: %d checks already waiting",
		    PARENT_AUTH_WAITING_MAX);
		parent_auth_answer(a, -1);
	}
}
