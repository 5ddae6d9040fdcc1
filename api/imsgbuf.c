/*
 * imsgbuf.c -- imsg framing over a stream socket (see imsgbuf.h).
 *
 * Runs in every smtpd process and in every helper.  Input is read in
 * large chunks and split into frames by the header's length; received
 * fds wait in arrival order until a frame flagged IMSGF_HASFD claims
 * one.  Output frames are queued and gathered into one sendmsg(), which
 * stops after the first frame that carries an fd so that an fd always
 * travels with the bytes of its own frame.  It never exits the process
 * and never trusts a length it has not checked.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsgbuf.h"

#define IMSGBUF_IOV_MAX		64
#define IMSGBUF_RFD_BATCH	8	/* fds accepted from one recvmsg() */

struct imsgbuf_out {
	struct imsgbuf_out	*next;
	int			 fd;		/* -1 once sent or when none */
	size_t			 len;
	size_t			 off;		/* bytes already written */
	unsigned char		 data[];
};

int
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	memset(ib, 0, sizeof *ib);
	ib->fd = fd;
	ib->pid = getpid();
	ib->rsize = 2 * IMSG_READ_SIZE;
	ib->rbuf = malloc(ib->rsize);
	if (ib->rbuf == NULL)
		return -1;
	return 0;
}

void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct imsgbuf_out	*o, *next;
	size_t			 i;

	for (o = ib->out_head; o != NULL; o = next) {
		next = o->next;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	ib->out_head = ib->out_tail = NULL;
	ib->out_count = ib->out_bytes = 0;
	for (i = 0; i < ib->nrfds; i++)
		close(ib->rfds[i]);
	ib->nrfds = 0;
	free(ib->rbuf);
	ib->rbuf = NULL;
	ib->rpos = ib->rlen = ib->rsize = 0;
}

/* imsgbuf_take_fds - queue the fds of one control message, or close them */
static void
imsgbuf_take_fds(struct imsgbuf *ib, struct msghdr *msg)
{
	struct cmsghdr	*cm;
	size_t		 i, n;
	int		 fd;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			if (ib->nrfds < IMSG_FD_QUEUE_MAX)
				ib->rfds[ib->nrfds++] = fd;
			else
				close(fd);
		}
	}
}

ssize_t
imsgbuf_read(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(IMSGBUF_RFD_BATCH * sizeof(int))];
	}		 cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;

	if (ib->rbuf == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (ib->rpos > 0) {
		/* at most one partial frame is left before the new bytes */
		memmove(ib->rbuf, ib->rbuf + ib->rpos, ib->rlen - ib->rpos);
		ib->rlen -= ib->rpos;
		ib->rpos = 0;
	}
	if (ib->rsize - ib->rlen < IMSG_READ_SIZE / 2) {
		/* the caller did not drain frames with imsg_get */
		errno = ENOBUFS;
		return -1;
	}
	memset(&msg, 0, sizeof msg);
	memset(&cmsgbuf, 0, sizeof cmsgbuf);
	iov.iov_base = ib->rbuf + ib->rlen;
	iov.iov_len = ib->rsize - ib->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof cmsgbuf.buf;

	n = recvmsg(ib->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n == -1)
		return -1;
	imsgbuf_take_fds(ib, &msg);
	ib->rlen += (size_t)n;
	return n;
}

int
imsg_get(struct imsgbuf *ib, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	size_t		 datalen;

	memset(imsg, 0, sizeof *imsg);
	imsg->fd = -1;
	if (ib->rlen - ib->rpos < IMSG_HEADER_SIZE)
		return 0;
	memcpy(&hdr, ib->rbuf + ib->rpos, sizeof hdr);
	if (hdr.len < IMSG_HEADER_SIZE || hdr.len > IMSG_MAX_SIZE ||
	    (hdr.flags & ~IMSGF_HASFD) != 0) {
		errno = EBADMSG;
		return -1;
	}
	if (ib->rlen - ib->rpos < hdr.len)
		return 0;
	datalen = hdr.len - IMSG_HEADER_SIZE;
	/* one spare NUL byte: a stray string read can never run off the end */
	imsg->data = malloc(datalen + 1);
	if (imsg->data == NULL)
		return -1;
	memcpy(imsg->data, ib->rbuf + ib->rpos + IMSG_HEADER_SIZE, datalen);
	((unsigned char *)imsg->data)[datalen] = '\0';
	imsg->datalen = datalen;
	imsg->hdr = hdr;
	if ((hdr.flags & IMSGF_HASFD) && ib->nrfds > 0) {
		imsg->fd = ib->rfds[0];
		memmove(ib->rfds, ib->rfds + 1, (ib->nrfds - 1) * sizeof(int));
		ib->nrfds--;
	}
	ib->rpos += hdr.len;
	return 1;
}

void
imsg_free(struct imsg *imsg)
{
	free(imsg->data);
	imsg->data = NULL;
	imsg->datalen = 0;
	if (imsg->fd != -1)
		close(imsg->fd);
	imsg->fd = -1;
}

int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t datalen)
{
	struct imsgbuf_out	*o;
	struct imsg_hdr		 hdr;

	if (datalen > IMSG_MAX_PAYLOAD || (datalen && data == NULL)) {
		if (fd != -1)
			close(fd);
		errno = datalen > IMSG_MAX_PAYLOAD ? ERANGE : EINVAL;
		return -1;
	}
	o = malloc(sizeof *o + IMSG_HEADER_SIZE + datalen);
	if (o == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.len = (uint16_t)(IMSG_HEADER_SIZE + datalen);
	hdr.flags = fd != -1 ? IMSGF_HASFD : 0;
	hdr.peerid = peerid;
	hdr.pid = (uint32_t)ib->pid;
	memcpy(o->data, &hdr, sizeof hdr);
	if (datalen)
		memcpy(o->data + IMSG_HEADER_SIZE, data, datalen);
	o->next = NULL;
	o->fd = fd;
	o->len = IMSG_HEADER_SIZE + datalen;
	o->off = 0;
	if (ib->out_tail)
		ib->out_tail->next = o;
	else
		ib->out_head = o;
	ib->out_tail = o;
	ib->out_count++;
	ib->out_bytes += o->len;
	return 0;
}

/* imsgbuf_consume - drop n written bytes from the front of the queue */
static void
imsgbuf_consume(struct imsgbuf *ib, size_t n)
{
	struct imsgbuf_out	*o;
	size_t			 left;

	while (n > 0 && (o = ib->out_head) != NULL) {
		left = o->len - o->off;
		if (n < left) {
			o->off += n;
			ib->out_bytes -= n;
			return;
		}
		n -= left;
		ib->out_bytes -= left;
		ib->out_head = o->next;
		if (ib->out_head == NULL)
			ib->out_tail = NULL;
		ib->out_count--;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
}

int
imsgbuf_write(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}			 cmsgbuf;
	struct iovec		 iov[IMSGBUF_IOV_MAX];
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct imsgbuf_out	*o, *fdo;
	ssize_t			 n;
	int			 i;

	while (ib->out_head != NULL) {
		memset(&msg, 0, sizeof msg);
		fdo = NULL;
		i = 0;
		for (o = ib->out_head; o != NULL && i < IMSGBUF_IOV_MAX;
		    o = o->next) {
			iov[i].iov_base = o->data + o->off;
			iov[i].iov_len = o->len - o->off;
			i++;
			if (o->fd != -1) {
				fdo = o;
				break;
			}
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)i;
		if (fdo != NULL) {
			memset(&cmsgbuf, 0, sizeof cmsgbuf);
			msg.msg_control = &cmsgbuf.buf;
			msg.msg_controllen = sizeof cmsgbuf.buf;
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &fdo->fd, sizeof(int));
		}
		n = sendmsg(ib->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return 0;
			return -1;
		}
		if (fdo != NULL) {
			/* the fd went with these bytes: never send it twice */
			close(fdo->fd);
			fdo->fd = -1;
		}
		imsgbuf_consume(ib, (size_t)n);
	}
	return 1;
}

/* imsgbuf_wait - block until fd is ready for events; 0 or -1 */
static int
imsgbuf_wait(int fd, short events)
{
	struct pollfd	pfd;
	int		r;

	pfd.fd = fd;
	pfd.events = events;
	do {
		r = poll(&pfd, 1, -1);
	} while (r == -1 && errno == EINTR);
	return r == -1 ? -1 : 0;
}

int
imsgbuf_flush(struct imsgbuf *ib)
{
	int	r;

	while ((r = imsgbuf_write(ib)) == 0)
		if (imsgbuf_wait(ib->fd, POLLOUT) == -1)
			return -1;
	return r == 1 ? 0 : -1;
}

size_t
imsgbuf_queued(const struct imsgbuf *ib)
{
	return ib->out_count;
}

int
imsg_read_one(struct imsgbuf *ib, struct imsg *imsg)
{
	ssize_t	n;
	int	r;

	for (;;) {
		if ((r = imsg_get(ib, imsg)) != 0)
			return r;
		n = imsgbuf_read(ib);
		if (n == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (imsgbuf_wait(ib->fd, POLLIN) == -1)
					return -1;
				continue;
			}
			return -1;
		}
	}
}
