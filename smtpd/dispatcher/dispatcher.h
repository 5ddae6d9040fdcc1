/*
 * dispatcher.h -- the dispatcher process's files: its entry
 * (dispatcher.c), the SMTP server's host (dispatcher_smtp.c) and the
 * local delivery agent (dispatcher_mda.c).
 */
#ifndef SMTPD_DISPATCHER_H
#define SMTPD_DISPATCHER_H

struct imsg;
struct mproc;
struct smtp_hooks;

/* envelopes lookup may return for one recipient (its own limit is lower) */
#define DISPATCHER_EXPAND_MAX	100000

/* dispatcher_smtp.c */
extern const struct smtp_hooks dispatcher_smtp_hooks;
void	dispatcher_on_create_message_result(struct mproc *, struct imsg *);
void	dispatcher_on_create_message_fail(struct mproc *, struct imsg *);
void	dispatcher_on_expand_rcpt_envelope(struct mproc *, struct imsg *);
void	dispatcher_on_expand_rcpt_result(struct mproc *, struct imsg *);
void	dispatcher_on_commit_message_result(struct mproc *, struct imsg *);

/* dispatcher.c: the SMTP server the process hosts */
struct smtp_server *dispatcher_smtp_server(void);

/* dispatcher_enqueue.c: local enqueue sessions (sendmail) */
void	dispatcher_on_enqueue_session(struct mproc *, struct imsg *);

/* dispatcher_mda.c */
/* dispatcher_mda_pause - hold deliveries (1) or let them go (0) */
void	dispatcher_mda_pause(int);
void	dispatcher_on_deliver_envelope(struct mproc *, struct imsg *);
void	dispatcher_on_fork_mda_result(struct mproc *, struct imsg *);
void	dispatcher_on_mda_done(struct mproc *, struct imsg *);
void	dispatcher_on_userinfo_result(struct mproc *, struct imsg *);

#endif
