/*
 * api_host.h -- the daemon's side of one helper program: a channel that
 * never blocks.
 *
 * A host starts the helper (socketpair, fork, exec with the socket on
 * fd 0 and no other descriptor of the daemon's but stderr, signal
 * dispositions and mask reset), speaks its protocol's
 * handshake, then carries requests one at a time, as the proc
 * protocols require, from a bounded FIFO.  Every request completes
 * exactly once through its callback: with the helper's reply, or with
 * NULL (a temporary failure) when the FIFO is full, the helper is in
 * its restart backoff, its timer expired, or the helper died, hung,
 * answered out of turn or answered garbage.  A misbehaving helper is
 * killed, reaped by PID and started again on the next request after a
 * growing delay.  Everything is driven by the caller's libevent base;
 * nothing here waits, and nothing reachable from the helper's bytes can
 * end the caller's process.  Used by smtpd/queue/queue_proc.c and
 * smtpd/scheduler/scheduler_proc.c.
 */
#ifndef API_HOST_H
#define API_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "imsgbuf.h"

struct event_base;
struct api_host;

/*
 * A completion.  reply is NULL for a temporary failure; else the
 * helper's reply, valid during the call only (its fd, if any, belongs
 * to the callback once it sets reply->fd to -1).  Return 0, or -1 if
 * the reply makes no sense to the protocol: the helper is then taken
 * for broken and restarted.  A callback may make new requests; it must
 * not free the host.
 */
typedef int	(*api_host_done_fn)(void *arg, struct imsg *reply);

struct api_host_params {
	const char	 *name;		/* "queue helper ram2", for the logs */
	const char	 *path;		/* the program */
	char *const	 *argv;		/* its argv, NULL-terminated */
	uint32_t	  ok_type;	/* the type of every reply */
	/* the handshake sent first after each start, and its check */
	uint32_t	  hello_type;
	const void	 *hello;
	size_t		  hellolen;
	int		(*hello_ok)(struct imsg *reply);	/* 0 or -1 */
	int		  timeout_ms;	/* per request, from its queuing */
	size_t		  fifo_max;	/* requests waiting, at most */
	int		  backoff_min_ms;
	int		  backoff_max_ms;
};

/* api_host_new - a host of P's helper on base (P and its strings are
 * copied); nothing starts yet.  NULL on allocation failure (logged). */
struct api_host	*api_host_new(struct event_base *base,
		    const struct api_host_params *p);

/*
 * api_host_request - queue a request of TYPE with LEN bytes of DATA and
 * FD (-1: none; the host owns it from here on).  DONE is called once,
 * possibly before this returns (a full FIFO, a backoff).
 */
void		 api_host_request(struct api_host *h, uint32_t type, int fd,
		    const void *data, size_t len, api_host_done_fn done,
		    void *arg);

/* api_host_pid - the helper's PID, or -1 when none runs (tests) */
long		 api_host_pid(const struct api_host *h);
/* api_host_starts - how many times the helper was started (tests) */
unsigned int	 api_host_starts(const struct api_host *h);

/*
 * api_host_free - fail what is pending, close the channel, stop the
 * helper (SIGKILL) and reap it by PID; *hp set to NULL.
 */
void		 api_host_free(struct api_host **hp);

#endif
