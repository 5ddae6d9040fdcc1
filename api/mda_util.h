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

/*
 * The long-lived delivery agent (MDA-02, MDA-16): instead of one process per
 * delivery, the parent may keep a program running as the user and send
 * it one delivery after the other over a SOCK_SEQPACKET socket.  A
 * request is one packet, "MDA1\0SIZE\0ARG\0ARG...\0" (SIZE as
 * MDA_UTIL_SIZE_ENV, "-" for none; the ARGs are what the program would
 * get after its name) carrying exactly one descriptor, the message, by
 * SCM_RIGHTS; the answer is one packet "CODE LINE": the exit status it
 * would have had and its one line.  The socket closed: the agent exits.
 */
#define MDA_UTIL_AGENT_MAGIC	"MDA1"
#define MDA_UTIL_AGENT_REQ_MAX	8192	/* a request packet */
#define MDA_UTIL_AGENT_ARGS	32	/* arguments in a request */
#define MDA_UTIL_AGENT_FD	3	/* the agent's socket, once serving */
/*
 * mda_util_agent - serve the requests on SOCK (moved onto fd 3): each
 * with the message on stdin, RUN(argc, argv) called with argv[0] NAME;
 * mda_util_fail returns to the loop with its code and line instead of
 * exiting.  Descriptors above 3 are closed after each delivery.
 * Returns the exit status once the socket is closed (0) or unusable.
 */
int	mda_util_agent(int sock, const char *name,
	    int (*run)(int argc, char *argv[]));
/* mda_util_main - a delivery program's main(): with -A alone it serves
 * as the agent (mda_util_agent on stdin), else RUN(argc, argv) is one
 * delivery; the exit status.  NAME is the program's name */
int	mda_util_main(int argc, char *argv[], const char *name,
	    int (*run)(int argc, char *argv[]));
/* mda_util_serving - 1 when started as an agent (a usage error is then
 * answered with mda_util_fail, not printed) */
int	mda_util_serving(void);
/*
 * mda_util_agent_request - encode a request into BUF: its length, or -1
 * when it does not fit (the parent's side of the same format)
 */
int	mda_util_agent_request(char *buf, size_t bufsz,
	    unsigned long long size, int argc, char *const argv[]);
/*
 * mda_util_agent_parse - decode request REQ/LEN in place: argv[0] =
 * NAME, then its ARGs, argv[argc] NULL; *SIZE the announced size (0 with
 * *HAS_SIZE 0 for "-").  argc, or -1 when it is malformed
 */
int	mda_util_agent_parse(char *req, size_t len, const char *name,
	    char *argv[MDA_UTIL_AGENT_ARGS + 2], unsigned long long *size,
	    int *has_size);
/*
 * mda_util_agent_answer - decode answer ANS/LEN: its code and line (one
 * line, control characters as '?'); -1 when it is malformed
 */
int	mda_util_agent_answer(const char *ans, size_t len, int *code,
	    char *line, size_t linesz);

#endif
