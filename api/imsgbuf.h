/*
 * imsgbuf.h -- imsg framing, wire-compatible with OpenBSD imsg.
 *
 * A frame is a 16-byte header in native byte order (type u32, len u16,
 * flags u16, peerid u32, pid u32) followed by len - 16 payload bytes;
 * len counts the header and is at most IMSG_MAX_SIZE (16384).  One file
 * descriptor may travel with a frame (flag IMSGF_HASFD), as SCM_RIGHTS
 * ancillary data sent with that frame's own bytes.
 *
 * This library is linked by smtpd and by every helper in libexec/: there
 * is one implementation of the framing.  It never calls exit: every
 * error is a return value, and a malformed frame from a peer is reported
 * as -1 with errno set, never a crash.
 */
#ifndef API_IMSGBUF_H
#define API_IMSGBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IMSG_HEADER_SIZE	16
#define IMSG_MAX_SIZE		16384
#define IMSG_MAX_PAYLOAD	(IMSG_MAX_SIZE - IMSG_HEADER_SIZE)
#define IMSGF_HASFD		0x0001
#define IMSG_READ_SIZE		65535	/* bytes asked of one recvmsg() */
#define IMSG_FD_QUEUE_MAX	64	/* received fds not yet claimed */

struct imsg_hdr {
	uint32_t	type;
	uint16_t	len;
	uint16_t	flags;
	uint32_t	peerid;
	uint32_t	pid;
};

/* One received message.  data points into the message's own buffer. */
struct imsg {
	struct imsg_hdr	 hdr;
	int		 fd;		/* -1 unless IMSGF_HASFD was set */
	void		*data;
	size_t		 datalen;
};

struct imsgbuf_out;

struct imsgbuf {
	int			 fd;
	pid_t			 pid;
	/* input: bytes read but not yet framed */
	unsigned char		*rbuf;
	size_t			 rpos;	/* first unframed byte */
	size_t			 rlen;	/* end of buffered bytes */
	size_t			 rsize;
	/* received fds in arrival order, claimed by IMSGF_HASFD frames */
	int			 rfds[IMSG_FD_QUEUE_MAX];
	size_t			 nrfds;
	/* output: queue of frames not yet written */
	struct imsgbuf_out	*out_head;
	struct imsgbuf_out	*out_tail;
	size_t			 out_count;
	size_t			 out_bytes;
};

/* imsgbuf_init - bind a buffer to a connected socket; returns 0 or -1 */
int	 imsgbuf_init(struct imsgbuf *, int fd);

/* imsgbuf_clear - drop queued output and unclaimed fds, free buffers */
void	 imsgbuf_clear(struct imsgbuf *);

/*
 * imsgbuf_read - one recvmsg() into the input buffer.
 * Returns bytes read (> 0), 0 on EOF, -1 on error (errno; EAGAIN and
 * EINTR are for the caller to retry).
 */
ssize_t	 imsgbuf_read(struct imsgbuf *);

/*
 * imsg_get - take the next complete frame off the input buffer.
 * Returns 1 with *imsg filled (release it with imsg_free), 0 when no
 * complete frame is buffered, -1 with errno = EBADMSG when the peer sent
 * a frame that cannot be valid (len < 16 or len > IMSG_MAX_SIZE, unknown
 * flag bits).  After -1 the stream is unusable.
 */
int	 imsg_get(struct imsgbuf *, struct imsg *);

/* imsg_free - release a message's payload and close its unused fd */
void	 imsg_free(struct imsg *);

/*
 * imsg_compose - queue one frame.  fd (-1 for none) is owned by the
 * buffer from here on, and closed once sent or on error.
 * Returns 0, or -1 with errno = ERANGE when the payload is over
 * IMSG_MAX_PAYLOAD, ENOMEM on allocation failure.
 */
int	 imsg_compose(struct imsgbuf *, uint32_t type, uint32_t peerid,
	    int fd, const void *data, size_t datalen);

/*
 * imsgbuf_write - write as much queued output as the socket takes.
 * Returns 1 when the queue is empty, 0 when the socket would block with
 * output left, -1 on error (errno; EPIPE when the peer is gone).
 */
int	 imsgbuf_write(struct imsgbuf *);

/*
 * imsgbuf_flush - write everything, blocking; returns 0 or -1.  For a
 * helper's own blocking loop (api_proc.c) and tests only: never call it
 * from a daemon process or under an event loop (use imsgbuf_write and a
 * write event there).
 */
int	 imsgbuf_flush(struct imsgbuf *);

/* imsgbuf_queued - number of frames waiting to be written */
size_t	 imsgbuf_queued(const struct imsgbuf *);

/*
 * imsg_read_one - blocking helper for synchronous protocols (helpers):
 * wait for one whole frame.  Returns 1, 0 on EOF, -1 on error.
 */
int	 imsg_read_one(struct imsgbuf *, struct imsg *);

#endif
