/*
 * dispatcher_enqueue.c -- local enqueue (sendmail, COMPAT-02): an SMTP
 * session on the implicit `listen on socket` listener, opened on a
 * socketpair at control's request, whose other end goes back to the
 * client through control.
 *
 * Runs in the dispatcher.  The session is the SMTP server's own (smtp.h,
 * smtp_server_session), with the socket listener's options (tag,
 * mask-src, no-dsn, hostname) and the client's address AF_UNIX, so that
 * `match from local` / `from socket` hold for it; the submitter's uid
 * (control took it from SO_PEERCRED) is logged with it.  At most
 * DISPATCHER_ENQUEUE_MAX such sessions live at once, so local users
 * cannot take every descriptor of the process.  It must never block, and
 * a failure (the limit, no descriptors) is an answer to control, never
 * an exit.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtp.h"
#include "smtpd.h"
#include "xmalloc.h"

#define DISPATCHER_ENQUEUE_MAX	128	/* local sessions at once */

/* dispatcher_enqueue_listener - the socket listener's options, made once
 * (the SMTP server keys its listener by this pointer); NULL if none */
static const struct smtp_listener *
dispatcher_enqueue_listener(void)
{
	static struct smtp_listener	*l;
	const struct smtpd_conf		*c = env->conf;
	const struct conf_listener	*cl = NULL;
	size_t				 i;

	if (l != NULL)
		return l;
	for (i = 0; i < c->nlisteners && cl == NULL; i++)
		if (c->listeners[i]->kind == CONF_LISTEN_SOCKET)
			cl = c->listeners[i];
	if (cl == NULL)
		return NULL;
	l = dispatcher_listener_new(cl, 1);
	l->complete_headers = 1;	/* SMTP-22: sendmail's messages too */
	return l;
}

/* dispatcher_enqueue_open - a session on one end of a socketpair (its
 * id in *id); the other end, or -1 with *why set */
static int
dispatcher_enqueue_open(uint64_t *id, const char **why)
{
	const struct smtp_listener	*l;
	struct sockaddr_storage		 ss;
	int				 sv[2];

	if ((l = dispatcher_enqueue_listener()) == NULL) {
		*why = "no socket listener configured";
		return -1;
	}
	if (smtp_server_listener_sessions(dispatcher_smtp_server(), l) >=
	    DISPATCHER_ENQUEUE_MAX) {
		*why = "temporary failure: too many local submissions in "
		    "progress";
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("dispatcher: local enqueue: socketpair");
		*why = "temporary failure: out of descriptors";
		return -1;
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
		log_warn("dispatcher: local enqueue: fcntl");
		close(sv[0]);
		close(sv[1]);
		*why = "temporary failure";
		return -1;
	}
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	if ((*id = smtp_server_session(dispatcher_smtp_server(), sv[0], l,
	    &ss)) == 0) {
		log_warn("dispatcher: local enqueue: session");
		close(sv[1]);
		*why = "temporary failure: no session";
		return -1;
	}
	return sv[1];
}

/* dispatcher_on_enqueue_session - control asks a session for a client */
void
dispatcher_on_enqueue_session(struct mproc *p, struct imsg *imsg)
{
	struct msg_dispatcher_enqueue_session	m;
	const char				*why = NULL;
	uint64_t				 id = 0;
	int					 fd;

	if (msg_unpack_dispatcher_enqueue_session(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((fd = dispatcher_enqueue_open(&id, &why)) == -1) {
		log_warnx("dispatcher: local enqueue for uid=%u pid=%d "
		    "refused: %s", m.uid, m.pid, why);
		msg_send_dispatcher_enqueue_session_fail(p,
		    &(struct msg_dispatcher_enqueue_session_fail){
			.reqid = m.reqid, .error = why });
		return;
	}
	log_event(id, "smtp", "enqueue", "uid=%u pid=%d", m.uid, m.pid);
	msg_send_dispatcher_enqueue_session_result(p,
	    &(struct msg_dispatcher_enqueue_session_result){
		.reqid = m.reqid, .fd = fd });
}
