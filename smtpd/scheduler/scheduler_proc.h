/*
 * scheduler_proc.h -- the scheduler process's host of a scheduler
 * backend, linked in (ramqueue, the default) or run as a helper, behind
 * one completion-based interface.
 *
 * A caller hands a request (struct scheduler_msg of
 * api/scheduler_proto.h) and a completion; an embedded backend
 * completes at once, a helper-hosted one when its reply, its timer or
 * its death arrives.  reply->tempfail says no answer came (the helper
 * failed, hung or is restarting): retry later.  Nothing here waits.
 */
#ifndef SMTPD_SCHEDULER_PROC_H
#define SMTPD_SCHEDULER_PROC_H

#include "scheduler_api.h"
#include "scheduler_proto.h"

struct event_base;
struct scheduler_host;

/*
 * A completion.  The reply's arrays belong to the host and live during
 * the call only.  It may make new calls; it must not free the host.
 */
typedef void	(*scheduler_host_done_fn)(void *arg,
		    struct scheduler_msg *reply);
/* the end of scheduler_host_close: closed, the helper gone */
typedef void	(*scheduler_host_stopped_fn)(void *arg);

/* at close, a helper has SCHEDULER_HOST_BYE_WAIT_MS after EOF (the
 * protocol has no CLOSE) before SIGTERM */
#define SCHEDULER_HOST_TIMEOUT_MS	5000
#define SCHEDULER_HOST_FIFO_MAX		256
#define SCHEDULER_HOST_BYE_WAIT_MS	1000

/* the backends linked in */
extern const struct scheduler_backend	scheduler_backend_ramqueue;

/* scheduler_host_embedded - backend B opened in this process, or NULL */
struct scheduler_host *scheduler_host_embedded(
	    const struct scheduler_backend *b);
/* scheduler_host_helper - the helper PATH (argv), started on first call */
struct scheduler_host *scheduler_host_helper(struct event_base *base,
	    const char *name, const char *path, char *const argv[],
	    int timeout_ms);
/* scheduler_host_call - run REQ; DONE is called once, maybe at once.
 * INIT is the host's handshake (done at open or at each helper start):
 * a caller's INIT is refused as a temporary failure. */
void	scheduler_host_call(struct scheduler_host *h,
	    const struct scheduler_msg *req, scheduler_host_done_fn done,
	    void *arg);
/* scheduler_host_pid - the helper's PID, -1 if none or embedded (tests) */
long	scheduler_host_pid(const struct scheduler_host *h);
/*
 * scheduler_host_close - the end, never waiting: an embedded backend
 * closes at once; a helper gets EOF, then, if it is still there
 * SCHEDULER_HOST_BYE_WAIT_MS later, SIGTERM, then SIGKILL.  Pending
 * calls fail, later ones fail at once.  STOPPED (may be NULL) once the
 * helper is reaped; scheduler_host_free after that.
 */
void	scheduler_host_close(struct scheduler_host *h,
	    scheduler_host_stopped_fn stopped, void *arg);
/* scheduler_host_free - close the backend, or stop the helper now (EOF
 * and SIGKILL unless scheduler_host_close ended it) */
void	scheduler_host_free(struct scheduler_host **hp);

#endif
