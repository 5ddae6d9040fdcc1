/*
 * api_host.h -- the daemon's side of one helper program: a channel that
 * never blocks.  The one host of every helper: tables
 * (smtpd/table/table_proc.c), queue and scheduler backends
 * (smtpd/queue/queue_proc.c, smtpd/scheduler/scheduler_proc.c).
 *
 * A host starts the helper (socketpair, fork, exec by path or by a
 * descriptor pinned earlier, the socket on fd 0 and nothing else of the
 * daemon's but stdout and stderr, signal dispositions and mask reset),
 * sends its protocol's handshake, then carries requests one at a time,
 * as the proc protocols require, from a bounded FIFO: imsg frames, or
 * text lines (the 7.6+ table protocol, params.lines).  Every request
 * completes exactly once through its callback: with the helper's reply,
 * or with NULL (a temporary failure) when the FIFO is full, the helper is
 * in its restart delay, the request's timer expired, or the helper died,
 * hung, answered out of turn or answered garbage.  A misbehaving helper
 * is logged under the host's name, killed, reaped by PID (its real end
 * logged) and started again when a delay doubling from backoff_min_ms to
 * backoff_max_ms is over.  Everything is driven by the caller's libevent
 * base; nothing here waits, and nothing the helper sends can end the
 * caller's process.
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
/* the end of api_host_close: the helper is gone */
typedef void	(*api_host_stopped_fn)(void *arg);

struct api_host_params {
	const char	 *name;		/* "table aliases": starts each log line */
	const char	 *path;		/* the program, exec'd unless pinned */
	char *const	 *argv;		/* its argv, NULL-terminated */
	int		  pinned;	/* exec exec_fd rather than path */
	int		  exec_fd;	/* api_host_pin's; the host's from
					 * api_host_new on, even on failure */
	uint32_t	  ok_type;	/* the type of every reply */
	int		  fd_replies;	/* a reply may carry a descriptor */
	/* the handshake sent first after each start, and its check */
	const char	 *hello_name;	/* "OPEN", for the logs */
	uint32_t	  hello_type;
	const void	 *hello;
	size_t		  hellolen;
	int		(*hello_ok)(struct imsg *reply);	/* 0 or -1 */
	/* logged once, after the first helper failed its handshake:
	 * what may be wrong (NULL: nothing) */
	const char	 *hello_hint;
	/* or, with a context: 0 done, 1 more replies to come (lines
	 * mode: one call per line), -1 bad */
	int		(*hello_more)(void *arg, struct imsg *reply);
	void		 *hello_arg;
	/*
	 * A line protocol (7.6+ tables): the socket on fd 0 and fd 1, the
	 * hello and the requests written as they are (whole lines), and
	 * each line read (at most line_max bytes) handed on as a reply of
	 * type ok_type whose data is the line without its '\n', writable
	 * and NUL-terminated (datalen without the NUL).  A NUL inside a
	 * line, or a longer one, is garbage.
	 */
	int		  lines;
	size_t		  line_max;
	int		  timeout_ms;	/* per request, and per reply */
	size_t		  fifo_max;	/* callers waiting, sent or not */
	int		  backoff_min_ms;
	int		  backoff_max_ms;
	int		  stop_wait_ms;	/* SIGTERM to SIGKILL at close */
	/*
	 * A polite close (queue, scheduler): with bye_wait_ms > 0,
	 * api_host_close first sends the protocol's goodbye (bye_type, when
	 * has_bye: PROC_QUEUE_CLOSE; the scheduler protocol has none) and
	 * closes the channel, then gives the helper bye_wait_ms to leave
	 * before SIGTERM.  0: SIGTERM at once (tables).
	 */
	int		  has_bye;
	uint32_t	  bye_type;
	int		  bye_wait_ms;
};

/*
 * api_host_pin - open the executable PATH now (exec needs no read
 * permission), for exec by descriptor later, when PATH may no longer be
 * reachable (privileges dropped, file removed): the descriptor, or -1
 * with *WHY saying why.
 */
int		 api_host_pin(const char *path, const char **why);

/* api_host_new - a host of P's helper on base (P and its strings are
 * copied); nothing starts yet.  NULL on failure (logged). */
struct api_host	*api_host_new(struct event_base *base,
		    const struct api_host_params *p);

/*
 * The fixed part of a proc protocol's hosts (queue, scheduler): what
 * api_host_new_proc fills api_host_params with for every helper of it.
 */
struct api_host_proto {
	const char	 *kind;		/* "queue": logs say "queue helper N" */
	uint32_t	  ok_type;	/* the type of every reply */
	int		  fd_replies;	/* a reply may carry a descriptor */
	uint32_t	  hello_type;	/* INIT, carrying version */
	uint32_t	  version;
	int		(*hello_ok)(struct imsg *reply);
	int		  has_bye;	/* CLOSE of bye_type before EOF */
	uint32_t	  bye_type;
	int		  bye_wait_ms;	/* then SIGTERM if still there */
	int		  timeout_ms;	/* default per request */
	size_t		  fifo_max;
	int		  backoff_min_ms;
	int		  backoff_max_ms;
};

/*
 * api_host_new_proc - a host of NAME, the helper PATH with ARGV, that
 * speaks PROTO: named "KIND helper NAME" in the logs, INIT with the
 * protocol's version as its handshake, closed politely; TIMEOUT_MS per
 * request (<= 0: the protocol's default).  NULL on failure (logged).
 */
struct api_host	*api_host_new_proc(struct event_base *base,
		    const struct api_host_proto *proto, const char *name,
		    const char *path, char *const argv[], int timeout_ms);

/* api_host_name - the name the host logs under ("queue helper ram") */
const char	*api_host_name(const struct api_host *h);

/* api_host_start - start the helper now rather than at the first
 * request; a failure is logged and retried after the delay */
void		 api_host_start(struct api_host *h);

/* api_host_set_limits - the request timeout and the restart delays */
void		 api_host_set_limits(struct api_host *h, int timeout_ms,
		    int backoff_min_ms, int backoff_max_ms);

/*
 * api_host_request - queue a request of TYPE with LEN bytes of DATA and
 * FD (-1: none; the host owns it from here on).  DONE is called once,
 * possibly before this returns (a full FIFO, a restart delay).
 */
void		 api_host_request(struct api_host *h, uint32_t type, int fd,
		    const void *data, size_t len, api_host_done_fn done,
		    void *arg);

/* api_host_pid - the helper's PID, or -1 when none runs (tests) */
long		 api_host_pid(const struct api_host *h);
/* api_host_starts - how many times the helper was started (tests) */
unsigned int	 api_host_starts(const struct api_host *h);

/*
 * api_host_close - stop for good: pending requests fail, the goodbye is
 * sent (bye_wait_ms > 0 and has_bye), the channel closes (a helper
 * leaves on EOF); then, at once or bye_wait_ms later if it is still
 * there, SIGTERM, and SIGKILL stop_wait_ms after that; STOPPED (may be
 * NULL) once it is reaped.  Never waits.
 */
void		 api_host_close(struct api_host *h, api_host_stopped_fn stopped,
		    void *arg);

/*
 * api_host_free - close if not closed, SIGKILL what still runs and reap
 * it by PID (the one wait here, short after SIGKILL); *hp set to NULL.
 */
void		 api_host_free(struct api_host **hp);

#endif
