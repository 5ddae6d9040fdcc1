/*
 * mda_util.h -- what the local delivery programs (libexec/mail.maildir,
 * mail.mboxfile, mail.lmtp) share: the one-line failure report, the
 * errno to sysexits mapping and full writes.
 *
 * A delivery program runs as the recipient, started by the parent with
 * the message on stdin; it reports by its exit status (sysexits.h: 0,
 * EX_TEMPFAIL temporary, other codes permanent) and ONE line on stderr
 * that the parent relays into the envelope's error line.  Nothing here
 * ever writes a control character to that line.
 */
#ifndef MDA_UTIL_H
#define MDA_UTIL_H

#include <sys/types.h>

#include <stddef.h>

#define MDA_UTIL_LINE_MAX	512	/* the stderr report, NUL included */

/* mda_util_fail - print "PROG: why" (control characters shown as '?')
 * on stderr and exit with CODE */
void	mda_util_fail(int code, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
/* mda_util_on_fail - FN runs in mda_util_fail before the exit (one
 * hook: the last set; NULL none), e.g. to remove a dotlock */
void	mda_util_on_fail(void (*fn)(void));
/* mda_util_setname - the program name mda_util_fail prints */
void	mda_util_setname(const char *);
/* mda_util_errno_code - the sysexits code for a failed file operation:
 * out of space or quota and anything unclassified are EX_TEMPFAIL */
int	mda_util_errno_code(int);
/* mda_util_write_all - write all of BUF (short writes and EINTR
 * retried): 0, or -1 with errno */
int	mda_util_write_all(int fd, const void *buf, size_t len);
/* mda_util_read - read(2), EINTR retried; bytes read from stdin counted */
ssize_t	mda_util_read(int fd, void *buf, size_t len);
/*
 * mda_util_input_complete - 1 when stdin gave exactly the size the daemon
 * announced in MDA_UTIL_SIZE_ENV (or none was announced), 0 when the
 * input ended early or ran over: the daemon's writer died mid-message,
 * and delivering would store a truncated copy that a retry then finds
 */
#define MDA_UTIL_SIZE_ENV	"SMTPD_MESSAGE_SIZE"
int	mda_util_input_complete(void);
/* the mboxrd escaper (mail.mboxfile): every line matching ^>*From
 * gets one more '>'; a line start is held while it may still match */
struct mda_util_mbox {
	int	  bol;		/* at the start of a line */
	size_t	  ngt;		/* held: '>' count, */
	size_t	  nfrom;	/* then bytes of "From " matched */
	int	(*put)(void *, const char *, size_t);	/* 0 or -1 */
	void	 *arg;
};

/* mda_util_mbox_init - a new escaper at the start of a line, its
 * output going to PUT(ARG, bytes, len) */
void	mda_util_mbox_init(struct mda_util_mbox *,
	    int (*put)(void *, const char *, size_t), void *arg);
/* mda_util_mbox_escape - one chunk of the message: 0, or -1 when PUT
 * failed */
int	mda_util_mbox_escape(struct mda_util_mbox *, const char *, size_t);
/* mda_util_mbox_end - the held line start, at the end: 0 or -1 */
int	mda_util_mbox_end(struct mda_util_mbox *);
/* mda_util_is_spam - the header in HEAD (up to the first blank line)
 * has a field "X-Spam: yes", any case, blanks around */
int	mda_util_is_spam(const char *head, size_t len);
/* mda_util_reply_code - an SMTP/LMTP reply line: its code (200-599),
 * *LAST 0 for a "NNN-" continuation; -1 when it is no reply line */
int	mda_util_reply_code(const char *line, int *last);
/* mda_util_clean - copy SRC into DST (DSTSZ > 0), each control or
 * non-ASCII byte replaced by '?', cut to fit */
void	mda_util_clean(char *dst, size_t dstsz, const char *src);

#endif
