/*
 * parent_mda_agent.c -- long-lived delivery agents: a maildir or mbox
 * delivery goes to a `mail.maildir -A` or `mail.mboxfile -A` already
 * running as its user, instead of a process forked and executed for
 * each delivery.
 *
 * The parent starts an agent the first time a user (uid, gid, program,
 * directory) has a delivery and no idle agent (parent_mda_spawn, as for
 * any delivery: the user's ids and groups, never root), and keeps it
 * while deliveries come; the dispatcher's limits (mda limit max-session,
 * max-session-per-user) bound how many run at once, so a user has at
 * most that many agents.  For each delivery the parent makes a pipe, sends
 * its read end with the arguments the program would have had (one
 * SOCK_SEQPACKET packet, the format in api/mda_util.h), and gives the
 * write end to the dispatcher, which feeds it as it feeds a process's
 * stdin.  The agent's answer (its exit code and one line) becomes the
 * outcome, exactly as a process's exit would.  An agent idle for
 * mda-agent-idle seconds (30) is told to go (its socket closed); one
 * that dies or answers nonsense during a delivery costs that delivery a
 * temporary failure and a log line; one still busy after the delivery
 * timeout is killed.  Nothing here waits: the socket is nonblocking and
 * read on the loop; an agent is never waited for (the reaper ignores
 * it once it is gone from here).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "envelope.h"
#include "log.h"
#include "mda_util.h"
#include "parent.h"
#include "parent_mda.h"
#include "smtpd.h"
#include "xmalloc.h"

#define AGENT_IDLE_DEFAULT	30	/* seconds an idle agent is kept */
#define AGENT_IDLE_KEPT		64	/* idle agents kept, all users */

struct parent_agent {
	TAILQ_ENTRY(parent_agent) entry;
	pid_t		 pid;
	int		 sock;		/* ours, nonblocking */
	int		 errfd;		/* its stdout+stderr */
	struct event	*ev_sock;
	struct event	*ev_err;
	struct event	*ev_timer;	/* idle, or the delivery's time */
	uid_t		 uid;
	gid_t		 gid;
	int		 cwd_first;
	char		 path[PATH_MAX];	/* the program */
	char		 cwd[PATH_MAX];
	uint64_t	 id;		/* the delivery, while busy */
	int		 busy;
	char		 err[PARENT_MDA_ERR_MAX];	/* its output's end */
	size_t		 errlen;
};

TAILQ_HEAD(parent_agent_list, parent_agent);
static struct parent_agent_list	agents = TAILQ_HEAD_INITIALIZER(agents);
static size_t	agents_idle;

static void	agent_close(struct parent_agent *, const char *why);

/* parent_mda_agent_enabled - whether deliveries may go to agents */
int
parent_mda_agent_enabled(void)
{
	return env->opts.mda_agent_idle != 0;
}

static int
agent_idle_seconds(void)
{
	return env->opts.mda_agent_idle > 0 ? env->opts.mda_agent_idle :
	    AGENT_IDLE_DEFAULT;
}

/* agent_read_err - what the agent printed, its last bytes kept */
static void
agent_read_err(struct parent_agent *a)
{
	parent_mda_read_output(&a->errfd, a->ev_err, a->err, sizeof a->err,
	    &a->errlen);
}

static void
agent_on_err(evutil_socket_t fd, short ev, void *arg)
{
	agent_read_err(arg);
}

/* agent_idle - ready for the next delivery of its user, for a while */
static void
agent_idle(struct parent_agent *a)
{
	struct timeval	tv = { agent_idle_seconds(), 0 };
	struct parent_agent *old;

	a->busy = 0;
	a->id = 0;
	agents_idle++;
	/* the newest idle agents first: the oldest ones age out */
	TAILQ_REMOVE(&agents, a, entry);
	TAILQ_INSERT_HEAD(&agents, a, entry);
	evtimer_add(a->ev_timer, &tv);
	if (agents_idle > AGENT_IDLE_KEPT) {
		TAILQ_FOREACH_REVERSE(old, &agents, parent_agent_list, entry)
			if (!old->busy)
				break;
		if (old != NULL && old != a)
			agent_close(old, "too many idle agents");
	}
}

/* agent_failed - the delivery in progress ends with a temporary
 * failure saying WHY and what the agent printed last */
static void
agent_failed(struct parent_agent *a, const char *why)
{
	char	line[ENVELOPE_ERRORLINE_SIZE], out[ENVELOPE_ERRORLINE_SIZE];

	agent_read_err(a);
	if (parent_mda_last_line(a->err, a->errlen, out, sizeof out))
		snprintf(line, sizeof line, "%.256s: %.1024s", why, out);
	else
		snprintf(line, sizeof line, "%s", why);
	log_warnx("parent: delivery agent pid=%ld uid=%lu: %s", (long)a->pid,
	    (unsigned long)a->uid, line);
	parent_mda_finished(a->id, DELIVERY_TEMPFAIL, line);
	a->busy = 0;
}

/* agent_close - the agent goes: its socket closed (it exits at that);
 * a delivery it had fails temporarily.  Never waited for */
static void
agent_close(struct parent_agent *a, const char *why)
{
	if (a->busy)
		agent_failed(a, why);
	else {
		agents_idle--;
		log_debug("parent: delivery agent pid=%ld uid=%lu closed: %s",
		    (long)a->pid, (unsigned long)a->uid, why);
	}
	TAILQ_REMOVE(&agents, a, entry);
	event_free(a->ev_sock);
	event_free(a->ev_timer);
	if (a->ev_err != NULL)
		event_free(a->ev_err);
	close(a->sock);
	if (a->errfd != -1)
		close(a->errfd);
	free(a);
}

static void
agent_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct parent_agent	*a = arg;
	char			 why[128];

	if (!a->busy) {
		agent_close(a, "idle");
		return;
	}
	snprintf(why, sizeof why, "delivery timed out after %ds",
	    PARENT_MDA_TIMEOUT);
	kill(a->pid, SIGKILL);
	agent_close(a, why);
}

/* agent_on_sock - the answer to the delivery in progress, or the end */
static void
agent_on_sock(evutil_socket_t fd, short ev, void *arg)
{
	struct parent_agent	*a = arg;
	char			 buf[MDA_UTIL_LINE_MAX + 16];
	char			 line[MDA_UTIL_LINE_MAX];
	char			 error[ENVELOPE_ERRORLINE_SIZE];
	ssize_t			 n;
	int			 code, status;

	n = recv(a->sock, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* a reset: it died with a request unread */
		agent_close(a, n == 0 || errno == ECONNRESET ?
		    "the delivery agent exited" :
		    "the delivery agent's socket failed");
		return;
	}
	if (!a->busy || (size_t)n > sizeof buf ||
	    mda_util_agent_answer(buf, (size_t)n, &code, line,
	    sizeof line) == -1) {
		kill(a->pid, SIGKILL);
		agent_close(a, "the delivery agent answered nonsense");
		return;
	}
	status = parent_mda_status(W_EXITCODE(code, 0), line, strlen(line),
	    error, sizeof error);
	evtimer_del(a->ev_timer);
	parent_mda_finished(a->id, status, error);
	agent_idle(a);
}

/* agent_matches - A serves deliveries as X would run */
static int
agent_matches(const struct parent_agent *a, const struct parent_mda_exec *x)
{
	return a->uid == x->uid && a->gid == x->gid &&
	    a->cwd_first == x->cwd_first && strcmp(a->path, x->path) == 0 &&
	    strcmp(a->cwd, x->cwd) == 0;
}

/* agent_start - a new agent for X's user; NULL with ERR */
static struct parent_agent *
agent_start(const struct parent_mda_exec *x, char *err, size_t errsz)
{
	static struct parent_mda_exec	 ax;
	struct parent_mda_child		 child;
	struct parent_agent		*a;
	int				 sv[2], r;

	if (parent_mda_agent_exec(x, &ax) == -1) {
		snprintf(err, errsz, "delivery agent: command too long");
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errsz, "delivery agent: socketpair: %s",
		    strerror(errno));
		return NULL;
	}
	/* opened while root: the user may not reach the libexec directory */
	if ((ax.exec_fd = open(ax.path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%.*s: %s", (int)(errsz / 2), ax.path,
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	ax.has_exec_fd = 1;
	/* sv[1] becomes its stdin, closed here */
	r = parent_mda_spawn(&ax, sv[1], &child, err, errsz);
	close(ax.exec_fd);
	if (r == -1) {
		close(sv[0]);
		return NULL;
	}
	a = xcalloc(1, sizeof *a);
	a->pid = child.pid;
	a->sock = sv[0];
	a->errfd = child.err_fd;
	a->uid = x->uid;
	a->gid = x->gid;
	a->cwd_first = x->cwd_first;
	strlcpy(a->path, x->path, sizeof a->path);
	strlcpy(a->cwd, x->cwd, sizeof a->cwd);
	if (fcntl(a->sock, F_SETFL, O_NONBLOCK) == -1 ||
	    (a->ev_sock = event_new(env->evb, a->sock, EV_READ | EV_PERSIST,
	    agent_on_sock, a)) == NULL ||
	    (a->ev_err = event_new(env->evb, a->errfd, EV_READ | EV_PERSIST,
	    agent_on_err, a)) == NULL ||
	    (a->ev_timer = evtimer_new(env->evb, agent_on_timer, a)) == NULL)
		fatal("parent: delivery agent events");
	event_add(a->ev_sock, NULL);
	event_add(a->ev_err, NULL);
	TAILQ_INSERT_HEAD(&agents, a, entry);
	agents_idle++;		/* until given its first delivery */
	log_debug("parent: delivery agent pid=%ld started for uid=%lu",
	    (long)a->pid, (unsigned long)a->uid);
	return a;
}

/* agent_send - the request and the pipe's read end to A; 0, or -1 with
 * errno (the agent is gone: EPIPE, ECONNRESET) */
static int
agent_send(struct parent_agent *a, const char *req, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct iovec	 iov = { (void *)req, len };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	ssize_t		 n;

	memset(&msg, 0, sizeof msg);
	memset(&cm, 0, sizeof cm);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do {
		n = sendmsg(a->sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/*
 * parent_mda_agent_deliver - delivery ID of X (SIZE bytes announced) to
 * an agent of X's user: 0 with *IN_FD the pipe the dispatcher writes
 * the message into, the outcome later through parent_mda_finished; -1
 * with ERR, a temporary failure
 */
int
parent_mda_agent_deliver(uint64_t id, const struct parent_mda_exec *x,
    unsigned long long size, int *in_fd, char *err, size_t errsz)
{
	struct parent_agent	*a;
	char			 req[MDA_UTIL_AGENT_REQ_MAX];
	struct timeval		 tv = { PARENT_MDA_TIMEOUT, 0 };
	int			 len, p[2], tries;

	if ((len = mda_util_agent_request(req, sizeof req, size, x->argc - 1,
	    x->argv + 1)) == -1) {
		snprintf(err, errsz, "delivery agent: request too long");
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errsz, "delivery agent: pipe: %s",
		    strerror(errno));
		return -1;
	}
	/* an idle agent may have exited since (killed, out of memory): its
	 * send fails at once, and the next one, or a new one, is tried */
	for (tries = 0; tries < 4; tries++) {
		TAILQ_FOREACH(a, &agents, entry)
			if (!a->busy && agent_matches(a, x))
				break;
		if (a == NULL && (a = agent_start(x, err, errsz)) == NULL)
			break;
		if (agent_send(a, req, (size_t)len, p[0]) == 0) {
			close(p[0]);
			if (fcntl(p[1], F_SETFL, O_NONBLOCK) == -1)
				log_warn("parent: delivery pipe");
			evtimer_del(a->ev_timer);
			evtimer_add(a->ev_timer, &tv);
			agents_idle--;
			a->busy = 1;
			a->id = id;
			*in_fd = p[1];
			return 0;
		}
		snprintf(err, errsz, "delivery agent: send: %s",
		    strerror(errno));
		kill(a->pid, SIGKILL);
		agent_close(a, err);
	}
	close(p[0]);
	close(p[1]);
	return -1;
}
