/*
 * table_proc.c -- the proc backend: a table served by a helper program
 * <libexec>/table-NAME, spoken to with the imsg protocol of OpenSMTPD
 * 6.x (libexec-protocols.md 1 and 4, PROC_TABLE_API_VERSION 2), so the
 * helpers of opensmtpd-extras run unmodified.
 *
 * Runs in the lookup process, which forks the helpers after it dropped
 * privileges: the helper gets the socket on fd 0, inherits fds 1 and 2,
 * and is exec'd as execl(path, tablename, config).  Each request is a
 * synchronous call bounded by t->timeout_ms.  A helper that dies, hangs
 * or answers anything but a well-formed reply is logged with the table
 * name, killed by its PID, reaped, and restarted after a delay that
 * doubles from t->backoff_ms up to t->backoff_max_ms; meanwhile every
 * lookup is a temporary failure (-1) at once.  This file never calls
 * fatal, never installs a SIGCHLD handler and only ever waits for the
 * PIDs it started.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsgbuf.h"
#include "log.h"
#include "table.h"
#include "table_api.h"
#include "wire.h"
#include "xmalloc.h"

#define TABLE_PROC_CLOSE_WAIT_MS	1000	/* for a clean exit at close */

struct table_proc {
	char		 path[PATH_MAX];
	pid_t		 pid;		/* -1 when no helper runs */
	struct imsgbuf	 ib;		/* valid while pid != -1 */
	int		 delay_ms;	/* the next restart delay */
	long long	 restart_at;	/* monotonic ms; 0: start at once */
	unsigned int	 restarts;
};

/* table_proc_now - monotonic milliseconds */
static long long
table_proc_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* table_proc_status - "exited 1", "killed by signal 9" */
static void
table_proc_status(int status, char *buf, size_t bufsz)
{
	if (WIFEXITED(status))
		snprintf(buf, bufsz, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, bufsz, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, bufsz, "status 0x%x", status);
}

/* table_proc_reap - wait for our helper PID; blocking or not */
static int
table_proc_reap(pid_t pid, int block, int *status)
{
	pid_t	r;

	do {
		r = waitpid(pid, status, block ? 0 : WNOHANG);
	} while (r == -1 && errno == EINTR);
	return r == pid;
}

/* table_proc_schedule - next start after the delay, which then doubles */
static void
table_proc_schedule(struct table *t, struct table_proc *h)
{
	h->restart_at = table_proc_now() + h->delay_ms;
	h->delay_ms = h->delay_ms > t->backoff_max_ms / 2 ?
	    t->backoff_max_ms : h->delay_ms * 2;
}

/*
 * table_proc_fail - the helper misbehaved: log WHY, kill and reap it,
 * and schedule a restart after the current delay, which then doubles.
 */
static void
table_proc_fail(struct table *t, struct table_proc *h, const char *why)
{
	char	st[64] = "killed";
	int	status;

	if (h->pid != -1) {
		if (table_proc_reap(h->pid, 0, &status))
			table_proc_status(status, st, sizeof st);
		else {
			(void)kill(h->pid, SIGKILL);
			if (table_proc_reap(h->pid, 1, &status))
				table_proc_status(status, st, sizeof st);
		}
		imsgbuf_clear(&h->ib);
		close(h->ib.fd);
	}
	log_warnx("table %s: helper %s pid %ld: %s (%s); restart in %d ms",
	    t->name, h->path, (long)h->pid, why, st, h->delay_ms);
	h->pid = -1;
	table_proc_schedule(t, h);
}

/* table_proc_spawn - socketpair, fork, exec the helper on fd 0 */
static int
table_proc_spawn(struct table *t, struct table_proc *h)
{
	sigset_t	mask;
	int		sp[2];
	pid_t		pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("table %s: socketpair", t->name);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("table %s: fork", t->name);
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		if (sp[1] == 0) {
			if (fcntl(0, F_SETFD, 0) == -1)
				_exit(127);
		} else if (dup2(sp[1], 0) == -1)
			_exit(127);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&mask);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		if (t->config[0] != '\0')
			execl(h->path, t->name, t->config, (char *)NULL);
		else
			execl(h->path, t->name, (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    imsgbuf_init(&h->ib, sp[0]) == -1) {
		log_warn("table %s: helper channel", t->name);
		close(sp[0]);
		(void)kill(pid, SIGKILL);
		(void)table_proc_reap(pid, 1, &(int){ 0 });
		return -1;
	}
	h->pid = pid;
	log_debug("table %s: started helper %s pid %ld", t->name, h->path,
	    (long)pid);
	return 0;
}

/* table_proc_wait - poll the channel for EVENTS until DEADLINE */
static int
table_proc_wait(struct table_proc *h, short events, long long deadline,
    const char **why)
{
	struct pollfd	pfd;
	long long	left;
	int		r;

	for (;;) {
		left = deadline - table_proc_now();
		if (left <= 0) {
			*why = "timed out";
			return -1;
		}
		pfd.fd = h->ib.fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*why = "poll failed";
			return -1;
		}
		if (r == 1)
			return 0;
	}
}

/* table_proc_send - queue one request and write it out before DEADLINE */
static int
table_proc_send(struct table_proc *h, uint32_t type, const void *data,
    size_t len, long long deadline, const char **why)
{
	int	r;

	if (imsg_compose(&h->ib, type, 0, -1, data, len) == -1) {
		*why = "cannot queue the request";
		return -1;
	}
	while ((r = imsgbuf_write(&h->ib)) == 0)
		if (table_proc_wait(h, POLLOUT, deadline, why) == -1)
			return -1;
	if (r == -1) {
		*why = errno == EPIPE ? "closed its socket" : "write failed";
		return -1;
	}
	return 0;
}

/* table_proc_recv - one whole reply frame before DEADLINE */
static int
table_proc_recv(struct table_proc *h, struct imsg *imsg, long long deadline,
    const char **why)
{
	ssize_t	n;
	int	r;

	for (;;) {
		if ((r = imsg_get(&h->ib, imsg)) == 1)
			return 0;
		if (r == -1) {
			*why = "sent a malformed frame";
			return -1;
		}
		n = imsgbuf_read(&h->ib);
		if (n == 0) {
			*why = "closed its socket";
			return -1;
		}
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*why = errno == ENOBUFS ? "sent too much" :
			    "read failed";
			return -1;
		}
		if (table_proc_wait(h, POLLIN, deadline, why) == -1)
			return -1;
	}
}

/*
 * table_proc_idle_ok - before a request: the helper must not have said
 * anything unasked, nor gone away.
 */
static int
table_proc_idle_ok(struct table_proc *h, const char **why)
{
	struct pollfd	pfd;

	if (h->ib.rlen != h->ib.rpos) {
		*why = "sent data nobody asked for";
		return -1;
	}
	pfd.fd = h->ib.fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 1) {
		*why = (pfd.revents & POLLIN) && imsgbuf_read(&h->ib) > 0 ?
		    "sent data nobody asked for" : "closed its socket";
		return -1;
	}
	return 0;
}

/*
 * table_proc_call - one request and its reply of type OK without an fd.
 * 0 with *imsg to free, or -1 after the helper was failed.
 */
static int
table_proc_call(struct table *t, struct table_proc *h, uint32_t type,
    const void *data, size_t len, struct imsg *imsg)
{
	const char	*why = NULL;
	long long	 deadline = table_proc_now() + t->timeout_ms;

	if (table_proc_idle_ok(h, &why) == -1 ||
	    table_proc_send(h, type, data, len, deadline, &why) == -1 ||
	    table_proc_recv(h, imsg, deadline, &why) == -1) {
		table_proc_fail(t, h, why);
		return -1;
	}
	if (imsg->hdr.type != PROC_TABLE_OK || imsg->fd != -1 ||
	    (imsg->hdr.flags & IMSGF_HASFD)) {
		imsg_free(imsg);
		table_proc_fail(t, h, "answered with a bad message type");
		return -1;
	}
	return 0;
}

/* table_proc_start - spawn the helper and do the OPEN handshake */
static int
table_proc_start(struct table *t, struct table_proc *h)
{
	unsigned char	 params[TABLE_OPEN_PARAMS_SIZE];
	struct imsg	 imsg;
	uint32_t	 version = PROC_TABLE_API_VERSION;

	if (table_proc_spawn(t, h) == -1) {
		table_proc_schedule(t, h);
		return -1;
	}
	memset(params, 0, sizeof params);
	memcpy(params, &version, sizeof version);
	(void)strlcpy((char *)params + sizeof version, t->name,
	    sizeof params - sizeof version);
	if (table_proc_call(t, h, PROC_TABLE_OPEN, params, sizeof params,
	    &imsg) == -1)
		return -1;
	if (imsg.datalen != 0) {
		imsg_free(&imsg);
		table_proc_fail(t, h, "bad answer to OPEN");
		return -1;
	}
	imsg_free(&imsg);
	h->restarts++;
	return 0;
}

/*
 * table_proc_ready - a live, opened helper, or -1 at once while it is
 * down and its restart delay runs.
 */
static int
table_proc_ready(struct table *t, struct table_proc *h)
{
	char	st[64];
	int	status;

	if (h->pid != -1 && table_proc_reap(h->pid, 0, &status)) {
		table_proc_status(status, st, sizeof st);
		log_warnx("table %s: helper %s pid %ld %s; restart in %d ms",
		    t->name, h->path, (long)h->pid, st, h->delay_ms);
		imsgbuf_clear(&h->ib);
		close(h->ib.fd);
		h->pid = -1;
		table_proc_schedule(t, h);
	}
	if (h->pid != -1)
		return 0;
	if (table_proc_now() < h->restart_at)
		return -1;
	return table_proc_start(t, h);
}

/* table_proc_open - find the helper and start it */
static int
table_proc_open(struct table *t)
{
	struct table_proc	*h;

	if (t->handle == NULL) {
		h = xcalloc(1, sizeof *h);
		h->pid = -1;
		h->delay_ms = t->backoff_ms;
		/* gone since create: keep trying, each start will fail */
		if (table_find_helper(t->backend_name, h->path,
		    sizeof h->path) == -1)
			log_warnx("table %s: no helper table-%s any more",
			    t->name, t->backend_name);
		t->handle = h;
	}
	/* a helper that fails now is retried later: not an open error */
	(void)table_proc_ready(t, t->handle);
	return 0;
}

/* table_proc_close - ask the helper to leave, then make sure it did */
static void
table_proc_close(struct table *t)
{
	struct table_proc	*h = t->handle;
	long long		 deadline;
	int			 status;

	if (h == NULL)
		return;
	if (h->pid != -1) {
		(void)imsg_compose(&h->ib, PROC_TABLE_CLOSE, 0, -1, NULL, 0);
		(void)imsgbuf_write(&h->ib);
		imsgbuf_clear(&h->ib);
		close(h->ib.fd);
		deadline = table_proc_now() + TABLE_PROC_CLOSE_WAIT_MS;
		while (!table_proc_reap(h->pid, 0, &status)) {
			if (table_proc_now() >= deadline) {
				(void)kill(h->pid, SIGKILL);
				(void)table_proc_reap(h->pid, 1, &status);
				break;
			}
			usleep(10000);
		}
	}
	free(h);
	t->handle = NULL;
}

/* table_proc_result - the r of a reply and, with r == 1, its value */
static int
table_proc_result(struct table *t, struct table_proc *h, struct imsg *imsg,
    int with_value, char *dst, size_t dstsz)
{
	struct wire_reader	 rd;
	const void		*rest;
	size_t			 restlen;
	int32_t			 r;

	wire_reader_init(&rd, imsg->data, imsg->datalen);
	(void)wire_get_i32(&rd, &r);
	(void)wire_get_rest(&rd, &rest, &restlen);
	if (wire_end(&rd) != 0 || r < -1 || r > 1 ||
	    (restlen != 0 && (!with_value || r != 1)) ||
	    (with_value && r == 1 && (restlen == 0 ||
	    ((const char *)rest)[restlen - 1] != '\0' ||
	    memchr(rest, '\0', restlen - 1) != NULL))) {
		imsg_free(imsg);
		table_proc_fail(t, h, "answered garbage");
		return -1;
	}
	if (with_value && r == 1 && restlen > dstsz) {
		log_warnx("table %s: helper value of %zu bytes does not fit "
		    "%zu", t->name, restlen, dstsz);
		r = -1;
	} else if (with_value && r == 1)
		memcpy(dst, rest, restlen);
	imsg_free(imsg);
	/* a good answer: the helper is healthy again */
	h->delay_ms = t->backoff_ms;
	return r;
}

/* table_proc_request - CHECK, LOOKUP or FETCH of SERVICE, KEY */
static int
table_proc_request(struct table *t, uint32_t type,
    enum table_service service, const char *key, char *dst, size_t dstsz)
{
	struct table_proc	*h = t->handle;
	struct wire_writer	 w;
	struct imsg		 imsg;
	unsigned char		 buf[TABLE_KEY_MAX + 16];

	if (h == NULL || table_proc_ready(t, h) == -1)
		return -1;
	wire_writer_init(&w, buf, sizeof buf);
	(void)wire_put_i32(&w, (int32_t)service);
	(void)wire_put_sz(&w, 0);
	if (key != NULL)
		(void)wire_put_cstr(&w, key);
	if (wire_writer_error(&w) != 0)
		return -1;
	if (table_proc_call(t, h, type, buf, w.len, &imsg) == -1)
		return -1;
	return table_proc_result(t, h, &imsg, type != PROC_TABLE_CHECK, dst,
	    dstsz);
}

/* table_proc_lookup - backend lookup */
static int
table_proc_lookup(struct table *t, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	return table_proc_request(t, PROC_TABLE_LOOKUP, service, key, dst,
	    dstsz);
}

/* table_proc_check - backend check */
static int
table_proc_check(struct table *t, enum table_service service,
    const char *key)
{
	return table_proc_request(t, PROC_TABLE_CHECK, service, key, NULL, 0);
}

/* table_proc_fetch - backend fetch */
static int
table_proc_fetch(struct table *t, enum table_service service, char *dst,
    size_t dstsz)
{
	return table_proc_request(t, PROC_TABLE_FETCH, service, NULL, dst,
	    dstsz);
}

/* table_proc_update - forward UPDATE: 1 reloaded, 0 not */
static int
table_proc_update(struct table *t)
{
	struct table_proc	*h = t->handle;
	struct imsg		 imsg;
	int			 r;

	if (h == NULL || table_proc_ready(t, h) == -1)
		return 0;
	if (table_proc_call(t, h, PROC_TABLE_UPDATE, NULL, 0, &imsg) == -1)
		return 0;
	r = table_proc_result(t, h, &imsg, 0, NULL, 0);
	return r == 1 ? 1 : 0;
}

const struct table_proc_ops table_proc_ops = {
	.open = table_proc_open,
	.update = table_proc_update,
	.close = table_proc_close,
	.lookup = table_proc_lookup,
	.check = table_proc_check,
	.fetch = table_proc_fetch,
};
