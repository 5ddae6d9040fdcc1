/*
 * mproc.h -- a channel to another process: an imsgbuf driven by libevent,
 * with dispatch through a handler table.
 *
 * A trusted channel links two processes of ours: an unknown message, a
 * message from the wrong sender or a malformed frame is an internal
 * inconsistency (fatalx naming both processes).  An untrusted channel is
 * a control client: the same faults only drop that client.  A channel
 * knows its own event base and which process owns it (self): this code
 * reads no program global, so any program with an event loop may use it.
 */
#ifndef SMTPD_MPROC_H
#define SMTPD_MPROC_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "imsgbuf.h"
#include "imsg.h"

struct mproc;

struct imsg_handler {
	uint32_t	 type;
	enum proc_id	 from;
	void		(*fn)(struct mproc *, struct imsg *);
};

struct mproc {
	struct event_base		*evb;
	enum proc_id			 self;
	enum proc_id			 peer;
	int				 trusted;
	struct imsgbuf			 ib;
	struct event			*ev;	/* readable, always armed */
	struct event			*evw;	/* flush; armed when full */
	int				 flushing; /* evw active or armed */
	const struct imsg_handler	*handlers;
	size_t				 nhandlers;
	/*
	 * called once, at the end of the event that lost the channel (EOF,
	 * error, bad input, or a handler that closed it); it may free the
	 * mproc.  A channel closed from elsewhere is its closer's business.
	 */
	void				(*on_lost)(struct mproc *, const char *);
	void				*arg;
	int				 closed;
	const char			*why;
};

/* mproc_new - a channel of process self on a connected socket, events
 * enabled on evb */
struct mproc	*mproc_new(struct event_base *, enum proc_id self, int fd,
		    enum proc_id peer, int trusted,
		    const struct imsg_handler *, size_t,
		    void (*on_lost)(struct mproc *, const char *));
void		 mproc_free(struct mproc **);
/* mproc_compose - queue one message; -1 when it cannot be built */
int		 mproc_compose(struct mproc *, uint32_t type, int fd,
		    const void *, size_t);
/* mproc_send - as mproc_compose, but fatal for a channel of ours */
void		 mproc_send(struct mproc *, uint32_t type, int fd,
		    const void *, size_t);
void		 mproc_close(struct mproc *, const char *);
/* mproc_bad_payload - a handler found the payload malformed */
void		 mproc_bad_payload(struct mproc *, struct imsg *);
/* mproc_queued_bytes - output not yet written to the peer */
size_t		 mproc_queued_bytes(const struct mproc *);

#endif
