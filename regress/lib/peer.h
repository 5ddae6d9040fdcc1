/*
 * peer.h -- the daemon's end of a helper conversation, for the unit
 * tests of the helper glue (api/table_api.c, queue_api.c,
 * scheduler_api.c).
 *
 * peer_start() forks a helper that serves the other end of a
 * socketpair; the test then writes request frames byte for byte,
 * reads replies with api/imsgbuf and checks the helper's exit status:
 * 0 after EOF or a clean stop, 1 after a protocol violation, never a
 * signal.  Every wait is bounded: the child arms alarm() and the parent
 * polls with a deadline of PEER_TIMEOUT seconds.
 */
#ifndef REGRESS_PEER_H
#define REGRESS_PEER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "imsgbuf.h"

#define PEER_TIMEOUT	10	/* seconds, per child */
#define PEER_OK		0	/* the reply type of every protocol */
#define PEER_BAD_MAX	64	/* the largest peer_bad payload */

struct peer {
	pid_t		pid;
	int		fd;
	struct imsgbuf	ib;
};

/* One malformed request, sent after an optional good handshake */
struct peer_bad {
	const char	*name;
	int		 init;		/* the handshake first */
	int		 mode;		/* the test's own set-up */
	uint32_t	 type;
	int		 len;		/* header len, -1: 16 + datalen */
	uint16_t	 flags;
	size_t		 datalen;	/* zeros unless begin() fills */
	int		 fd;		/* attach a real fd */
};

/* peer_start - fork a helper: the child runs serve(fd) and exits with
 * what it returns; exits 2 if the set-up fails */
void	peer_start(struct peer *, int (*serve)(int fd));
/* peer_stop - close our end; the exit status, or -1 (signal, timeout) */
int	peer_stop(struct peer *);
/* peer_exit - wait for the helper to leave on its own, then peer_stop;
 * -2 if it did not close its end in time */
int	peer_exit(struct peer *);

/* peer_frame - one raw frame (see imsg_frame.h); exits 2 unless written
 * or the helper is gone */
void	peer_frame(struct peer *, uint32_t type, uint16_t len,
	    uint16_t flags, const void *data, size_t datalen, int fd);
/* peer_send - a well-formed request; peer_send_fd with an fd */
void	peer_send(struct peer *, uint32_t type, const void *data,
	    size_t len);
void	peer_send_fd(struct peer *, uint32_t type, const void *data,
	    size_t len, int fd);

/* peer_recv - one reply within the timeout: 1 with *imsg, or 0 */
int	peer_recv(struct peer *, struct imsg *);
/* peer_skip - receive and drop one reply */
void	peer_skip(struct peer *);
/* peer_expect - one OK reply, no fd, peerid 0, payload exactly want */
int	peer_expect(struct peer *, const void *want, size_t wantlen);
/* peer_r - an OK reply that is r alone */
int	peer_r(struct peer *, int32_t r);

/*
 * peer_violations - for each row: begin() starts a helper (and sends
 * the handshake when row->init) and may fill the payload, then the row's
 * frame goes out and the helper must exit 1.  One CHECK per row.
 */
void	peer_violations(const struct peer_bad *, size_t n,
	    void (*begin)(struct peer *, const struct peer_bad *,
	    unsigned char *data));

#endif
