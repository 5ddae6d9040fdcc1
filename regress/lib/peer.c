/*
 * peer.c -- the daemon's end of a helper conversation (peer.h).
 * Linked into every regress/unit program; never into the daemon.
 * The helper runs in a forked child; nothing here waits without a
 * deadline, and a test's set-up failure exits 2 (not a test result).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg_frame.h"
#include "peer.h"
#include "test.h"

void
peer_start(struct peer *p, int (*serve)(int))
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(2);
	}
	fflush(stdout);
	if ((p->pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (p->pid == 0) {
		close(sv[0]);
		alarm(PEER_TIMEOUT);
		_exit(serve(sv[1]));
	}
	close(sv[1]);
	p->fd = sv[0];
	if (imsgbuf_init(&p->ib, p->fd) == -1) {
		perror("imsgbuf_init");
		exit(2);
	}
}

int
peer_stop(struct peer *p)
{
	int	status, i;
	pid_t	r = 0;

	imsgbuf_clear(&p->ib);
	close(p->fd);
	for (i = 0; i < PEER_TIMEOUT * 100; i++) {
		if ((r = waitpid(p->pid, &status, WNOHANG)) != 0)
			break;
		usleep(10000);
	}
	if (r == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
peer_exit(struct peer *p)
{
	struct pollfd	pfd = { .fd = p->fd, .events = POLLIN };
	char		c;

	/* the helper closes its end when it exits */
	if (poll(&pfd, 1, PEER_TIMEOUT * 1000) != 1 ||
	    read(p->fd, &c, 1) != 0)
		return -2;
	return peer_stop(p);
}

void
peer_frame(struct peer *p, uint32_t type, uint16_t len, uint16_t flags,
    const void *data, size_t datalen, int fd)
{
	if (imsg_frame_write(p->fd, type, len, flags, data, datalen, fd) ==
	    -1 && errno != EPIPE && errno != ECONNRESET) {
		perror("peer_frame");
		exit(2);
	}
}

void
peer_send_fd(struct peer *p, uint32_t type, const void *data, size_t len,
    int fd)
{
	peer_frame(p, type, (uint16_t)(IMSG_HEADER_SIZE + len),
	    fd == -1 ? 0 : IMSGF_HASFD, data, len, fd);
}

void
peer_send(struct peer *p, uint32_t type, const void *data, size_t len)
{
	peer_send_fd(p, type, data, len, -1);
}

int
peer_recv(struct peer *p, struct imsg *imsg)
{
	struct pollfd	pfd = { .fd = p->fd, .events = POLLIN };
	int		r;

	for (;;) {
		if ((r = imsg_get(&p->ib, imsg)) != 0)
			return r == 1;
		if (poll(&pfd, 1, PEER_TIMEOUT * 1000) != 1)
			return 0;
		if (imsgbuf_read(&p->ib) <= 0)
			return 0;
	}
}

void
peer_skip(struct peer *p)
{
	struct imsg	imsg;

	if (peer_recv(p, &imsg))
		imsg_free(&imsg);
}

int
peer_expect(struct peer *p, const void *want, size_t wantlen)
{
	struct imsg	imsg;
	int		ok;

	if (!peer_recv(p, &imsg))
		return 0;
	ok = imsg.hdr.type == PEER_OK && imsg.hdr.flags == 0 &&
	    imsg.hdr.peerid == 0 && imsg.datalen == wantlen &&
	    (wantlen == 0 || memcmp(imsg.data, want, wantlen) == 0);
	imsg_free(&imsg);
	return ok;
}

int
peer_r(struct peer *p, int32_t r)
{
	return peer_expect(p, &r, sizeof r);
}

void
peer_violations(const struct peer_bad *bads, size_t n,
    void (*begin)(struct peer *, const struct peer_bad *, unsigned char *))
{
	const struct peer_bad	*b;
	struct peer		 p;
	unsigned char		 data[PEER_BAD_MAX];
	char			 what[128];
	size_t			 i;
	int			 fd;

	for (i = 0; i < n; i++) {
		b = &bads[i];
		snprintf(what, sizeof what, "violation: %s -> exit 1", b->name);
		if (b->datalen > sizeof data) {
			CHECK(0, what);
			continue;
		}
		memset(data, 0, sizeof data);
		begin(&p, b, data);
		fd = b->fd ? open("/dev/null", O_RDONLY) : -1;
		peer_frame(&p, b->type, (uint16_t)(b->len == -1 ?
		    IMSG_HEADER_SIZE + (int)b->datalen : b->len), b->flags,
		    data, b->datalen, fd);
		if (fd != -1)
			close(fd);
		CHECK(peer_exit(&p) == 1, what);
	}
}
