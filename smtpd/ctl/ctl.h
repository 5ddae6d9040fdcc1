/*
 * ctl.h -- the programs the smtpctl binary serves besides smtpctl itself,
 * chosen by the name it is run as (COMPAT-08).
 */
#ifndef SMTPD_CTL_H
#define SMTPD_CTL_H

/* makemap.c: build a db table from a text file (COMPAT-06) */
int	makemap_main(int, char **);

struct imsg;
struct mproc;

/*
 * ctl_queue.c: the queue verbs and counters (CTL-01/03/04/05/12/13/16/
 * 17).  send: check the arguments; given a channel, send the request
 * (0, or -1 said why).  on: an answer's handler.  again: show queue's
 * next request, 1 sent, 0 at the end, -1 on error.  done: print, and
 * the exit status.
 */
int	ctl_queue_send_show_queue(struct mproc *, char **);
int	ctl_queue_send_show_envelope(struct mproc *, char **);
int	ctl_queue_send_show_message(struct mproc *, char **);
int	ctl_queue_send_show_stats(struct mproc *, char **);
int	ctl_queue_send_show_hoststats(struct mproc *, char **);
int	ctl_queue_send_show_routes(struct mproc *, char **);
int	ctl_queue_send_show_hosts(struct mproc *, char **);
int	ctl_queue_send_show_relays(struct mproc *, char **);
int	ctl_queue_send_resume_route(struct mproc *, char **);
int	ctl_queue_send_pause_mta_from(struct mproc *, char **);
int	ctl_queue_send_resume_mta_from(struct mproc *, char **);
int	ctl_queue_send_show_mta(struct mproc *, char **);
int	ctl_queue_send_schedule(struct mproc *, char **);
int	ctl_queue_send_remove(struct mproc *, char **);
int	ctl_queue_send_suspend(struct mproc *, char **);
int	ctl_queue_send_release(struct mproc *, char **);
int	ctl_queue_send_pause(struct mproc *, char **);
int	ctl_queue_send_resume(struct mproc *, char **);
int	ctl_queue_again_show_queue(struct mproc *);
void	ctl_queue_on_lines(struct mproc *, struct imsg *);
void	ctl_queue_on_text(struct mproc *, struct imsg *);
void	ctl_queue_on_count(struct mproc *, struct imsg *);
void	ctl_queue_on_message_fd(struct mproc *, struct imsg *);
int	ctl_queue_done_show_queue(void);
int	ctl_queue_done_text(void);
int	ctl_queue_done_show_stats(void);
int	ctl_queue_done_show_message(void);
int	ctl_queue_done_change(void);
int	ctl_queue_done_ok(void);
int	ctl_queue_stat(const char *, long long *);
/* smtpctl.c: smtpctl's own verbs, argv as smtpctl's */
int	ctl_main(int, char **);
/* ctl_encrypt.c: smtpctl encrypt [string] (CTL-24); the exit status */
int	ctl_encrypt(int, char **);

/* sendmail.c: sendmail, send-mail, mailq, newaliases (COMPAT-01..05) */
int	sendmail_main(int, char **);
int	mailq_main(int, char **);
int	newaliases_main(int, char **);

/* sendmail_msg.c: the message read on standard input */
#define SENDMAIL_MESSAGE_MAX	(1024UL * 1024 * 1024)	/* bytes */
#define SENDMAIL_RCPT_MAX	10000	/* recipients of one message */
#define SENDMAIL_ADDR_MAX	512	/* bytes of one address */

struct sendmail_msg {
	char	*text;		/* LF line ends, NUL-terminated */
	size_t	 len, cap;
	size_t	 hdrlen;	/* the header block: text[0..hdrlen) */
	int	 blank;		/* a blank line follows it (skipped) */
	int	 has_from, has_to;
	char	**rcpts;	/* To/Cc/Bcc addresses, when extracted */
	size_t	 nrcpts;
};

int	sendmail_msg_parse(struct sendmail_msg *, const char *, size_t,
	    int dot_ends, int extract, int strip_bcc, const char **why);
void	sendmail_msg_free(struct sendmail_msg *);
int	sendmail_addr_list(struct sendmail_msg *, const char *, size_t,
	    const char **why);
int	sendmail_dot_stuff(const char *, size_t,
	    int (*)(void *, const char *, size_t), void *);

#endif
