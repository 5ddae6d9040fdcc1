/*
 * parent_task.c -- short-lived forked workers of the parent: a request
 * that may take time (a file opened as a user on a dead NFS server, a
 * password checked against an account database behind NSS) runs in a
 * child of its own, so the parent's loop only ever waits for a socket's
 * event.
 *
 * A kind of task (struct parent_task_kind, one per user of this module)
 * gives the child's work, which sends one reply (a datagram of at most
 * PARENT_TASK_REPLY_MAX bytes and maybe a descriptor, parent_task_reply)
 * and exits; and the completion, called exactly once from the event loop
 * with that reply, or with none and why (the child died without one, it
 * did not answer within the kind's timeout and was killed, fork failed).
 * At most running_max children of a kind run; waiting_max more requests
 * wait, and past that parent_task_run refuses at once.  A task is freed
 * once both answered and reaped (parent_task_reaped, from the SIGCHLD
 * reaper).  Runs in the parent only; never blocks; kills only the PIDs
 * it forked.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "log.h"
#include "parent.h"
#include "smtpd.h"
#include "xmalloc.h"

struct parent_task {
	TAILQ_ENTRY(parent_task)	 entry;		/* waiting */
	struct parent_task_kind		*kind;
	void				*arg;
	pid_t				 pid;
	int				 sock;
	struct event			*ev_read;
	struct event			*ev_timeout;
	int				 answered;
	int				 reaped;
};

static struct tree	parent_task_children;	/* pid -> task */

static void	parent_task_start_next(struct parent_task_kind *);

/* parent_task_free - both ends over: answered, and the child reaped */
static void
parent_task_free(struct parent_task *t)
{
	if (t->sock != -1)
		close(t->sock);
	if (t->ev_read != NULL)
		event_free(t->ev_read);
	if (t->ev_timeout != NULL)
		event_free(t->ev_timeout);
	free(t);
}

/* parent_task_finish - the one completion; the slot and events freed */
static void
parent_task_finish(struct parent_task *t, const void *reply, size_t len,
    int fd, const char *failure)
{
	struct parent_task_kind	*k = t->kind;

	t->answered = 1;
	if (t->ev_read != NULL)
		event_del(t->ev_read);
	if (t->ev_timeout != NULL)
		evtimer_del(t->ev_timeout);
	if (t->sock != -1) {
		close(t->sock);
		t->sock = -1;
	}
	k->running--;
	k->done(t->arg, reply, len, fd, failure);
	if (t->reaped || t->pid == -1)
		parent_task_free(t);
	parent_task_start_next(k);
}

/* parent_task_on_read - the child answered, or closed its end */
static void
parent_task_on_read(evutil_socket_t sock, short ev, void *arg)
{
	struct parent_task	*t = arg;
	unsigned char		 buf[PARENT_TASK_REPLY_MAX];
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}			 cmsgbuf;
	ssize_t			 n;
	int			 fd = -1;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = buf;
	iov.iov_len = sizeof buf;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof cmsgbuf.buf;
	if ((n = recvmsg(t->sock, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		parent_task_finish(t, NULL, 0, -1, strerror(errno));
		return;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)) && fd == -1)
			memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	if (n == 0) {
		if (fd != -1)
			close(fd);
		parent_task_finish(t, NULL, 0, -1, "ended without an answer");
		return;
	}
	parent_task_finish(t, buf, (size_t)n, fd, NULL);
	explicit_bzero(buf, sizeof buf);
}

/* parent_task_on_timeout - the child hangs: kill it */
static void
parent_task_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct parent_task	*t = arg;

	if (t->pid > 1 && !t->reaped)
		(void)kill(t->pid, SIGKILL);
	parent_task_finish(t, NULL, 0, -1, "did not answer in time, killed");
}

/* parent_task_spawn - fork the child; 0, or -1 with errno */
static int
parent_task_spawn(struct parent_task *t)
{
	struct timeval	tv = { t->kind->timeout, 0 };
	int		sv[2], err = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if ((t->pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (t->pid == 0) {
		close(sv[0]);
		(void)signal(SIGPIPE, SIG_IGN);
		(void)setsid();
		t->kind->child(t->arg, sv[1]);
		_exit(1);	/* a child that forgot to reply */
	}
	close(sv[1]);
	t->sock = sv[0];
	if (fcntl(t->sock, F_SETFL, O_NONBLOCK) == -1 ||
	    (t->ev_read = event_new(env->evb, t->sock, EV_READ | EV_PERSIST,
	    parent_task_on_read, t)) == NULL ||
	    (t->ev_timeout = evtimer_new(env->evb, parent_task_on_timeout,
	    t)) == NULL || event_add(t->ev_read, NULL) == -1 ||
	    evtimer_add(t->ev_timeout, &tv) == -1)
		fatalx("parent: %s task events", t->kind->name);
	api_tree_set(&parent_task_children, (uint64_t)t->pid, t, &err);
	if (err)
		fatalx("parent: out of memory");
	return 0;
}

/* parent_task_start_next - start waiting tasks while slots are free */
static void
parent_task_start_next(struct parent_task_kind *k)
{
	struct parent_task	*t;

	while (k->running < k->running_max &&
	    (t = TAILQ_FIRST(&k->waiting)) != NULL) {
		TAILQ_REMOVE(&k->waiting, t, entry);
		k->nwaiting--;
		k->running++;
		if (parent_task_spawn(t) == -1) {
			t->pid = -1;
			parent_task_finish(t, NULL, 0, -1, strerror(errno));
			return;	/* finish started the next one */
		}
	}
}

int
parent_task_run(struct parent_task_kind *k, void *arg)
{
	struct parent_task	*t;

	if (!k->ready) {
		TAILQ_INIT(&k->waiting);
		k->ready = 1;
	}
	if (k->nwaiting >= k->waiting_max)
		return -1;
	t = xcalloc(1, sizeof *t);
	t->kind = k;
	t->arg = arg;
	t->sock = -1;
	TAILQ_INSERT_TAIL(&k->waiting, t, entry);
	k->nwaiting++;
	parent_task_start_next(k);
	return 0;
}

void
parent_task_reply(int sock, const void *reply, size_t len, int fd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = (void *)(uintptr_t)reply;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof cmsgbuf);
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof cmsgbuf.buf;
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	}
	_exit(sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : 1);
}

int
parent_task_reaped(pid_t pid)
{
	struct parent_task	*t;

	if ((t = api_tree_pop(&parent_task_children, (uint64_t)pid)) == NULL)
		return -1;
	t->reaped = 1;
	if (t->answered)
		parent_task_free(t);
	return 0;
}
