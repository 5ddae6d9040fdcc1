/*
 * dispatcher_mda.c -- local deliveries: the mda agent of the dispatcher.
 *
 * The queue hands us an envelope with the body's descriptor; lookup
 * tells us the account it runs as (uid, gid, home, from the action's
 * userbase: system accounts or virtual users); we ask the
 * parent to start the delivery program as that user (it alone
 * may change user), get the write end of the program's standard input,
 * and feed it a Return-Path: and a Delivered-To: header and then the
 * body, read from the queue's file in chunks, whenever the pipe takes
 * more.  The parent reports the program's end (exit status and its one
 * line of error); that, and whether the whole message went in, is the
 * outcome the queue gets.  Global and per-user concurrency limits (mda
 * limit max-session, max-session-per-user) hold the rest in a FIFO.
 * Bounce envelopes go to the bounce agent (dispatcher_bounce.c).
 * Relay (mta) envelopes go to the mta agent (dispatcher_mta.c).
 * Never blocks: the pipe is nonblocking and driven by its event.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "conf.h"
#include "dispatcher.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtpd.h"
#include "xmalloc.h"

#define MDA_CHUNK	65536

struct mda_delivery {
	TAILQ_ENTRY(mda_delivery) entry;
	uint64_t	 evpid;
	char		 user[ENVELOPE_MDA_USER_SIZE];
	char		 action[ENVELOPE_NAME_SIZE];
	uint32_t	 uid, gid;	/* from lookup */
	char		*home;
	char		*text;		/* the envelope, for the parent */
	size_t		 textlen;
	int		 msgfd;		/* the queue's body, read */
	int		 pipefd;	/* the program's stdin, written */
	struct event	*ev;
	char		*buf;		/* headers, then body chunks */
	size_t		 buflen, bufoff;
	int		 eof;		/* the body is all in the pipe */
	int		 running;	/* the parent was asked */
	int		 input_error;	/* could not feed the program */
};

static TAILQ_HEAD(, mda_delivery) mda_waiting =
    TAILQ_HEAD_INITIALIZER(mda_waiting);
static struct tree	mda_running;	/* evpid -> delivery */
static struct tree	mda_resolving;	/* evpid -> waiting for lookup */
static int		mda_paused;	/* -P mda: hold every delivery */

static void	mda_start_waiting(void);
static void	mda_resolve(struct mda_delivery *);

static void
mda_result(uint64_t evpid, int status, const char *error)
{
	char	id[EVPID_TEXT_SIZE], q[ENVELOPE_ERRORLINE_SIZE + 8];

	evpid_format(evpid, id, sizeof id);
	log_event(0, "mda", "delivery", "evpid=%s result=%s%s%s", id,
	    status == DELIVERY_OK ? "ok" : status == DELIVERY_TEMPFAIL ?
	    "tempfail" : "permfail", *error ? " error=" : "",
	    *error ? log_quote(q, sizeof q, error) : "");
	msg_send_queue_delivery_result(env->peers[PROC_QUEUE],
	    &(struct msg_queue_delivery_result){ .evpid = evpid,
		.status = status, .error = error });
}

static void
mda_close_pipe(struct mda_delivery *d)
{
	if (d->ev != NULL) {
		event_free(d->ev);
		d->ev = NULL;
	}
	if (d->pipefd != -1) {
		close(d->pipefd);
		d->pipefd = -1;
	}
}

static void
mda_free(struct mda_delivery *d)
{
	mda_close_pipe(d);
	if (d->msgfd != -1)
		close(d->msgfd);
	free(d->text);
	free(d->buf);
	free(d->home);
	free(d);
}

/* mda_user_running - deliveries running for USER */
static long long
mda_user_running(const char *user)
{
	void			*cursor = NULL, *v;
	uint64_t		 id;
	long long		 n = 0;

	while (api_tree_iter(&mda_running, &cursor, &id, &v))
		n += strcmp(((struct mda_delivery *)v)->user, user) == 0;
	return n;
}

static void
mda_start(struct mda_delivery *d)
{
	struct stat	st;
	uint64_t	size = 0;
	int		err = 0;

	api_tree_set(&mda_running, d->evpid, d, &err);
	if (err)
		fatalx("mda: out of memory");
	d->running = 1;
	/* what the program must read: a shorter input means we died */
	if (fstat(d->msgfd, &st) == 0 && st.st_size >= 0)
		size = (uint64_t)st.st_size + d->buflen;
	msg_send_parent_fork_mda(env->peers[PROC_PARENT],
	    &(struct msg_parent_fork_mda){ .id = d->evpid, .uid = d->uid,
		.gid = d->gid, .home = d->home, .size = size,
		.envelope = d->text, .envelope_len = d->textlen });
}

static void
mda_start_waiting(void)
{
	const struct conf_mda_limits	*lim = &env->conf->mda_limits;
	struct mda_delivery		*d, *next;

	if (mda_paused)
		return;
	for (d = TAILQ_FIRST(&mda_waiting); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if ((long long)api_tree_count(&mda_running) >=
		    lim->max_session)
			return;
		if (mda_user_running(d->user) >= lim->max_session_per_user)
			continue;
		TAILQ_REMOVE(&mda_waiting, d, entry);
		mda_start(d);
	}
}

/* mda_fill - the next bytes for the pipe: 0, or -1 on a read error */
static int
mda_fill(struct mda_delivery *d)
{
	ssize_t	n;

	if (d->buf == NULL)
		d->buf = xmalloc(MDA_CHUNK);
	do
		n = read(d->msgfd, d->buf, MDA_CHUNK);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	d->buflen = (size_t)n;
	d->bufoff = 0;
	if (n == 0)
		d->eof = 1;
	return 0;
}

static void
mda_on_writable(evutil_socket_t fd, short ev, void *arg)
{
	struct mda_delivery	*d = arg;
	ssize_t			 n;

	for (;;) {
		if (d->bufoff == d->buflen) {
			if (mda_fill(d) == -1) {
				log_warn("mda: reading the queued message");
				d->input_error = 1;
				mda_close_pipe(d);
				return;
			}
			if (d->eof) {
				mda_close_pipe(d);	/* EOF for the program */
				return;
			}
		}
		n = write(d->pipefd, d->buf + d->bufoff, d->buflen - d->bufoff);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			/* EPIPE: the program stopped reading; its status
			 * tells the rest */
			d->input_error = 1;
			mda_close_pipe(d);
			return;
		}
		d->bufoff += (size_t)n;
	}
	event_add(d->ev, NULL);
}

/* mda_headers - Return-Path and Delivered-To before the body */
static int
mda_headers(struct mda_delivery *d, const struct envelope *e)
{
	char	sender[MAILADDR_TEXT_SIZE], rcpt[MAILADDR_TEXT_SIZE];
	int	n;

	if (mailaddr_is_null(&e->sender))
		sender[0] = '\0';
	else if (mailaddr_format(&e->sender, sender, sizeof sender) == -1)
		return -1;
	if (mailaddr_format(&e->rcpt, rcpt, sizeof rcpt) == -1)
		return -1;
	d->buf = xmalloc(MDA_CHUNK);
	n = snprintf(d->buf, MDA_CHUNK, "Return-Path: <%s>\n"
	    "Delivered-To: %s\n", sender, rcpt);
	if (n < 0 || n >= MDA_CHUNK)
		return -1;
	d->buflen = (size_t)n;
	d->bufoff = 0;
	return 0;
}

void
dispatcher_mda_pause(int paused)
{
	mda_paused = paused;
	mda_start_waiting();
}

void
dispatcher_on_deliver_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_dispatcher_deliver_envelope	 m;
	struct mda_delivery			*d;
	struct envelope				*e;
	char					 err[128];
	int					 loaded;

	if (msg_unpack_dispatcher_deliver_envelope(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	e = envelope_new();
	loaded = envelope_load(e, m.envelope, m.envelope_len, err,
	    sizeof err) == 0;
	if (loaded && e->type == ENVELOPE_BOUNCE) {
		dispatcher_bounce_envelope(m.evpid, m.fd, e);
		return;
	}
	if (loaded && e->type == ENVELOPE_MTA) {
		dispatcher_mta_envelope(m.evpid, m.fd, e);
		envelope_free(&e);
		return;
	}
	if (!loaded || e->type != ENVELOPE_MDA) {
		close(m.fd);
		mda_result(m.evpid, DELIVERY_TEMPFAIL,
		    "envelope unreadable by the dispatcher");
		envelope_free(&e);
		return;
	}
	d = xcalloc(1, sizeof *d);
	d->evpid = m.evpid;
	d->msgfd = m.fd;
	d->pipefd = -1;
	strlcpy(d->user, e->mda_user, sizeof d->user);
	strlcpy(d->action, e->dispatcher, sizeof d->action);
	d->text = xmalloc(m.envelope_len);
	memcpy(d->text, m.envelope, m.envelope_len);
	d->textlen = m.envelope_len;
	if (api_tree_check(&mda_running, d->evpid) ||
	    api_tree_check(&mda_resolving, d->evpid) ||
	    mda_headers(d, e) == -1) {
		mda_result(m.evpid, DELIVERY_TEMPFAIL,
		    "envelope already in delivery or unusable addresses");
		mda_free(d);
	} else
		mda_resolve(d);
	envelope_free(&e);
}

/* mda_resolve - ask lookup which account the delivery runs as */
static void
mda_resolve(struct mda_delivery *d)
{
	int	err = 0;

	api_tree_set(&mda_resolving, d->evpid, d, &err);
	if (err)
		fatalx("mda: out of memory");
	msg_send_lookup_userinfo(env->peers[PROC_LOOKUP],
	    &(struct msg_lookup_userinfo){ .reqid = d->evpid,
		.action = d->action, .user = d->user });
}

void
dispatcher_on_userinfo_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_userinfo_result	 m;
	struct mda_delivery			*d;
	char					 why[300];

	if (msg_unpack_lookup_userinfo_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((d = api_tree_pop(&mda_resolving, m.reqid)) == NULL)
		fatalx("mda: lookup answered for an unknown delivery");
	if (m.r != 1) {
		snprintf(why, sizeof why, "%s: %s", d->user, m.r == 0 ?
		    "no such user in the action's userbase" :
		    "userbase lookup failed");
		mda_result(d->evpid, m.r == 0 ? DELIVERY_PERMFAIL :
		    DELIVERY_TEMPFAIL, why);
		mda_free(d);
		return;
	}
	d->uid = m.uid;
	d->gid = m.gid;
	d->home = xstrdup(m.home);
	TAILQ_INSERT_TAIL(&mda_waiting, d, entry);
	mda_start_waiting();
}

void
dispatcher_on_fork_mda_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_fork_mda_result	 m;
	struct mda_delivery			*d;

	if (msg_unpack_parent_fork_mda_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((d = api_tree_get(&mda_running, m.id)) == NULL ||
	    d->pipefd != -1)
		fatalx("mda: parent answered for an unknown delivery");
	d->pipefd = m.fd;
	if (fcntl(d->pipefd, F_SETFL, O_NONBLOCK) == -1 ||
	    (d->ev = event_new(env->evb, d->pipefd, EV_WRITE,
	    mda_on_writable, d)) == NULL) {
		log_warn("mda: pipe");
		d->input_error = 1;
		mda_close_pipe(d);
		return;
	}
	event_add(d->ev, NULL);
}

void
dispatcher_on_mda_done(struct mproc *p, struct imsg *imsg)
{
	struct msg_dispatcher_mda_done	 m;
	struct mda_delivery		*d;
	int				 status;
	const char			*error;

	if (msg_unpack_dispatcher_mda_done(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((d = api_tree_pop(&mda_running, m.id)) == NULL)
		fatalx("mda: parent reported an unknown delivery");
	status = m.status == DELIVERY_LOOP ? DELIVERY_PERMFAIL : m.status;
	error = m.error;
	if (status == DELIVERY_OK && (d->input_error || !d->eof ||
	    d->pipefd != -1)) {
		/* it said yes without reading the whole message */
		status = DELIVERY_TEMPFAIL;
		error = "delivery program exited before reading the whole "
		    "message";
	}
	mda_result(d->evpid, status, error);
	mda_free(d);
	mda_start_waiting();
}
