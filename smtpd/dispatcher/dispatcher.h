/*
 * dispatcher.h -- the dispatcher process's files: its entry
 * (dispatcher.c), its requests to queue and lookup (dispatcher_req.c),
 * the SMTP server's host (dispatcher_smtp.c), the local delivery agent
 * (dispatcher_mda.c) and the bounce agent (dispatcher_bounce.c, with
 * its report builder dispatcher_bounce_report.c).
 */
#ifndef SMTPD_DISPATCHER_H
#define SMTPD_DISPATCHER_H

#include <stddef.h>
#include <stdint.h>

struct envelope;
struct imsg;
struct mproc;
struct smtp_hooks;

/* envelopes lookup may return for one recipient (its own limit is lower) */
#define DISPATCHER_EXPAND_MAX	100000

/*
 * dispatcher_req.c: a request to queue or lookup and its completion.
 * CREATE completes once: r QUEUE_OK with msgid and fd (the completion
 * owns fd), or r < 0 (a QUEUE_* failure) and fd -1.  EXPAND completes
 * once per envelope lookup gives (final 0, envelope) and then once with
 * the SMTP answer (final 1, code, text, nenvelopes).  COMMIT completes
 * once with r.  Every answer is final except EXPAND's envelopes.
 */
enum dispatcher_req_kind {
	DISPATCHER_REQ_CREATE,
	DISPATCHER_REQ_EXPAND,
	DISPATCHER_REQ_COMMIT
};

struct dispatcher_req_answer {
	int		 final;
	int		 r;		/* CREATE, COMMIT: QUEUE_OK or < 0 */
	uint32_t	 msgid;		/* CREATE */
	int		 fd;		/* CREATE: the body, written */
	int		 code;		/* EXPAND final: 200..599 */
	const char	*text;		/* EXPAND final */
	size_t		 nenvelopes;	/* EXPAND final: envelopes given */
	const char	*envelope;	/* EXPAND not final: its text */
	size_t		 envelope_len;
};

typedef void	(*dispatcher_req_fn)(void *arg,
		    const struct dispatcher_req_answer *);

void	dispatcher_req_create_message(dispatcher_req_fn, void *);
void	dispatcher_req_expand_rcpt(const char *envelope, size_t len,
	    dispatcher_req_fn, void *);
void	dispatcher_req_commit_message(uint32_t msgid, dispatcher_req_fn,
	    void *);
/* dispatcher_req_pending - requests not answered yet */
size_t	dispatcher_req_pending(void);
void	dispatcher_on_create_message_result(struct mproc *, struct imsg *);
void	dispatcher_on_create_message_fail(struct mproc *, struct imsg *);
void	dispatcher_on_expand_rcpt_envelope(struct mproc *, struct imsg *);
void	dispatcher_on_expand_rcpt_result(struct mproc *, struct imsg *);
void	dispatcher_on_commit_message_result(struct mproc *, struct imsg *);

/* dispatcher_smtp.c */
extern const struct smtp_hooks dispatcher_smtp_hooks;

/* dispatcher_mda.c */
/* dispatcher_mda_pause - hold deliveries (1) or let them go (0) */
void	dispatcher_mda_pause(int);
void	dispatcher_on_deliver_envelope(struct mproc *, struct imsg *);
void	dispatcher_on_fork_mda_result(struct mproc *, struct imsg *);
void	dispatcher_on_mda_done(struct mproc *, struct imsg *);

#endif
