/*
 * parent_auth.c -- SMTP AUTH against the system's accounts (AUTH-04):
 * the dispatcher hands a user and password it decoded; the parent, the
 * only process that may read the shadow file, checks them with crypt(3)
 * and answers 1 (right), 0 (wrong, no such user, locked or password-less
 * account) or -1 (the account database cannot be read: a temporary
 * failure for the client).
 *
 * Runs in the privileged parent.  The look-up reads local files
 * (getspnam, getpwnam), as the parent's other account look-ups do; no
 * network, no helper.  What it must never do: log the password, answer
 * yes for an account without a usable hash, or fatal on a request.
 */
#include <sys/types.h>

#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <string.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "password.h"
#include "smtpd.h"

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

/* parent_on_check_password - IMSG_PARENT_CHECK_PASSWORD */
void
parent_on_check_password(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_check_password	m;
	char					hash[PASSWORD_HASH_MAX];
	int					r;

	if (msg_unpack_parent_check_password(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((r = parent_auth_hash(m.user, hash, sizeof hash)) == -1)
		log_warn("parent: auth: account database");
	else if (r == 1 && (r = password_check(m.password, hash)) == -1)
		log_warnx("parent: auth: crypt failed");
	explicit_bzero(hash, sizeof hash);
	msg_send_parent_check_password_result(p,
	    &(struct msg_parent_check_password_result){ .reqid = m.reqid,
	    .r = r });
}
