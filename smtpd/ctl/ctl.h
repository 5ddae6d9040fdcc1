/*
 * ctl.h -- the programs the smtpctl binary serves besides smtpctl itself,
 * chosen by the name it is run as (COMPAT-08).
 */
#ifndef SMTPD_CTL_H
#define SMTPD_CTL_H

/* makemap.c: build a db table from a text file (COMPAT-06) */
int	makemap_main(int, char **);

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
	int	 has_from, has_date, has_msgid, has_to;
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
