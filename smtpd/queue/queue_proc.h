/*
 * queue_proc.h -- the queue process's host of a queue backend, linked
 * in or run as a helper (DESIGN "Backends and helpers"), behind one
 * completion-based interface.
 *
 * A caller hands a request (struct queue_msg of api/queue_proto.h: op
 * and its fields) and a completion; an embedded backend completes at
 * once, a helper-hosted one when its reply, its timer or its death
 * arrives.  The reply's status is a QUEUE_* result; over the helper
 * protocol only "done" travels, so a helper's failure is QUEUE_TEMPFAIL
 * (and an empty ENVELOPE_LOAD QUEUE_NOTFOUND).  Nothing here waits.
 */
#ifndef SMTPD_QUEUE_PROC_H
#define SMTPD_QUEUE_PROC_H

#include "queue_api.h"
#include "queue_proto.h"

struct event_base;
struct queue_host;

/*
 * A completion: reply->status is the QUEUE_* result, the other fields
 * are those of the op's reply; data lives during the call only; an fd
 * (MESSAGE_FD_R) belongs to the callback.  It may make new calls; it
 * must not free the host.
 */
typedef void	(*queue_host_done_fn)(void *arg, struct queue_msg *reply);
/* the end of queue_host_close: the backend is closed, the helper gone */
typedef void	(*queue_host_stopped_fn)(void *arg);

/* the defaults of a helper-hosted queue; at close, a helper has
 * QUEUE_HOST_BYE_WAIT_MS after CLOSE before SIGTERM */
#define QUEUE_HOST_TIMEOUT_MS	5000
#define QUEUE_HOST_FIFO_MAX	256
#define QUEUE_HOST_BYE_WAIT_MS	1000

/* queue_host_embedded - backend B opened on ROOT in this process; NULL
 * when it does not open (logged) */
struct queue_host *queue_host_embedded(const struct queue_backend *b,
	    const char *root);

/*
 * queue_host_helper - the helper PATH (argv, NULL-terminated) on base,
 * speaking the daemon numbering, or the extras one when EXTRAS; started
 * on the first call.  NULL on allocation failure (logged).
 */
struct queue_host *queue_host_helper(struct event_base *base,
	    const char *name, const char *path, char *const argv[], int extras,
	    int timeout_ms);

/*
 * queue_host_call - run REQ (and FD, COMMIT's body, which COMMIT
 * needs: the host owns it from here on, -1 for none); DONE is called
 * once, maybe before this returns.  INIT is the host's handshake (sent
 * at each helper start): a caller's INIT is refused as a temporary
 * failure.
 */
void	queue_host_call(struct queue_host *h, const struct queue_msg *req,
	    int fd, queue_host_done_fn done, void *arg);

/* queue_host_pid, queue_host_starts - the helper's PID (-1: none, or
 * embedded) and how many times it was started (tests) */
long	queue_host_pid(const struct queue_host *h);
unsigned int queue_host_starts(const struct queue_host *h);

/*
 * queue_host_close - the end, never waiting: an embedded backend closes
 * at once; a helper gets CLOSE (PROC_QUEUE_CLOSE) and EOF, then, if it
 * is still there QUEUE_HOST_BYE_WAIT_MS later, SIGTERM, then SIGKILL.
 * Pending calls fail, later ones fail at once.  STOPPED (may be NULL)
 * once the helper is reaped; queue_host_free after that.
 */
void	queue_host_close(struct queue_host *h, queue_host_stopped_fn stopped,
	    void *arg);

/* queue_host_free - close the backend, or stop the helper now (CLOSE,
 * EOF and SIGKILL unless queue_host_close ended it); NULLs *hp */
void	queue_host_free(struct queue_host **hp);

#endif
