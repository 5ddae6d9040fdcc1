/*
 * mda_util.c -- helpers shared by the local delivery programs in
 * libexec/ (mail.maildir, mail.mboxfile, mail.lmtp).
 *
 * Besides the exit helpers, the three parsers of outside input they
 * share, kept pure so that regress/fuzz/mda_util_fuzz.c reaches them:
 * the mboxrd escaper, the X-Spam header test and the reply line.
 * Runs only in those programs, as the recipient.  It must never print
 * more than one line for a failure, nor a control character in it: the
 * parent copies that line into the envelope.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "mda_util.h"

static const char	*mda_util_name = "mda";
static void		(*mda_util_hook)(void);

/* serving as an agent: where mda_util_fail returns to, with what */
static sigjmp_buf	 mda_util_agent_jmp;
static int		 mda_util_agent_on;
static int		 mda_util_serving_on;	/* started with -A */
static int		 mda_util_agent_code;
static char		 mda_util_agent_line[MDA_UTIL_LINE_MAX];
static int		 mda_util_agent_has_size;
static unsigned long long mda_util_agent_size;

/* mda_util_on_fail - the clean-up before a failure's exit */
void
mda_util_on_fail(void (*fn)(void))
{
	mda_util_hook = fn;
}

/* mda_util_setname - the program name mda_util_fail prints */
void
mda_util_setname(const char *name)
{
	const char	*slash = strrchr(name, '/');

	mda_util_name = slash != NULL ? slash + 1 : name;
}

/* mda_util_clean - copy, each control or non-ASCII byte as '?' */
void
mda_util_clean(char *dst, size_t dstsz, const char *src)
{
	size_t	i;

	for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++) {
		unsigned char	c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* mda_util_fail - the one report line, then exit */
void
mda_util_fail(int code, const char *fmt, ...)
{
	char	raw[MDA_UTIL_LINE_MAX], line[MDA_UTIL_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	mda_util_clean(line, sizeof(line), raw);
	if (mda_util_hook != NULL)
		mda_util_hook();
	if (mda_util_agent_on) {
		(void)snprintf(mda_util_agent_line,
		    sizeof(mda_util_agent_line), "%.64s: %.440s",
		    mda_util_name, line);
		mda_util_agent_code = code;
		siglongjmp(mda_util_agent_jmp, 1);
	}
	dprintf(STDERR_FILENO, "%s: %s\n", mda_util_name, line);
	_exit(code);
}

/* mda_util_errno_code - sysexits code of a failed file operation */
int
mda_util_errno_code(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return EX_NOPERM;
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case EEXIST:
		return EX_CANTCREAT;
	default:
		/* ENOSPC, EDQUOT, EIO, EMFILE, ENOMEM...: try again later */
		return EX_TEMPFAIL;
	}
}

/* mda_util_write_all - write everything */
int
mda_util_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static unsigned long long	mda_util_stdin_bytes;

/* mda_util_read - read(2), EINTR retried */
ssize_t
mda_util_read(int fd, void *buf, size_t len)
{
	ssize_t	n;

	do {
		n = read(fd, buf, len);
	} while (n == -1 && errno == EINTR);
	if (fd == STDIN_FILENO && n > 0)
		mda_util_stdin_bytes += (unsigned long long)n;
	return n;
}

int
mda_util_input_complete(void)
{
	const char		*s = getenv(MDA_UTIL_SIZE_ENV);
	char			*end;
	unsigned long long	 want;

	if (mda_util_agent_on)
		return !mda_util_agent_has_size ||
		    mda_util_agent_size == mda_util_stdin_bytes;
	if (s == NULL || *s == '\0')
		return 1;
	errno = 0;
	want = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-')
		return 0;	/* a size we cannot read: do not trust it */
	return want == mda_util_stdin_bytes;
}

/* mda_util_mbox_init - a new escaper */
void
mda_util_mbox_init(struct mda_util_mbox *m,
    int (*put)(void *, const char *, size_t), void *arg)
{
	memset(m, 0, sizeof(*m));
	m->bol = 1;
	m->put = put;
	m->arg = arg;
}

/* mda_util_mbox_release - the held line start, with one more '>' when
 * it is a From_ line */
static int
mda_util_mbox_release(struct mda_util_mbox *m, int escape)
{
	if (escape && m->put(m->arg, ">", 1) == -1)
		return -1;
	for (; m->ngt > 0; m->ngt--)
		if (m->put(m->arg, ">", 1) == -1)
			return -1;
	if (m->nfrom > 0 && m->put(m->arg, "From ", m->nfrom) == -1)
		return -1;
	m->nfrom = 0;
	m->bol = 0;
	return 0;
}

/* mda_util_mbox_escape - one chunk, escaped */
int
mda_util_mbox_escape(struct mda_util_mbox *m, const char *p, size_t n)
{
	size_t	i, run;

	for (i = 0; i < n; ) {
		if (m->bol) {
			if (m->nfrom == 0 && p[i] == '>') {
				m->ngt++;
				i++;
				continue;
			}
			if (p[i] == "From "[m->nfrom]) {
				i++;
				if (++m->nfrom == 5 &&
				    mda_util_mbox_release(m, 1) == -1)
					return -1;
				continue;
			}
			if (mda_util_mbox_release(m, 0) == -1)
				return -1;
		}
		/* the rest of the line at once */
		for (run = i; run < n && p[run] != '\n'; run++)
			;
		if (run < n)
			run++;
		if (m->put(m->arg, p + i, run - i) == -1)
			return -1;
		m->bol = p[run - 1] == '\n';
		i = run;
	}
	return 0;
}

/* mda_util_mbox_end - what is held at the end */
int
mda_util_mbox_end(struct mda_util_mbox *m)
{
	if (m->bol && (m->ngt > 0 || m->nfrom > 0))
		return mda_util_mbox_release(m, 0);
	return 0;
}

/* mda_util_is_spam - "X-Spam: yes" in the header */
int
mda_util_is_spam(const char *head, size_t len)
{
	const char	*p = head, *end = head + len, *eol, *v;

	while (p < end && *p != '\n' && *p != '\r') {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol - p > 7 && strncasecmp(p, "X-Spam:", 7) == 0) {
			for (v = p + 7; v < eol && (*v == ' ' || *v == '\t');
			    v++)
				;
			if (eol - v >= 3 && strncasecmp(v, "yes", 3) == 0) {
				for (v += 3; v < eol && (*v == ' ' ||
				    *v == '\t' || *v == '\r'); v++)
					;
				if (v == eol)
					return 1;
			}
		}
		if (eol == end)
			break;
		p = eol + 1;
	}
	return 0;
}

/* mda_util_reply_code - NNN[ -]text or NNN alone */
int
mda_util_reply_code(const char *r, int *last)
{
	if (r[0] < '2' || r[0] > '5' || r[1] < '0' || r[1] > '9' ||
	    r[2] < '0' || r[2] > '9' ||
	    (r[3] != '\0' && r[3] != ' ' && r[3] != '-'))
		return -1;
	*last = r[3] != '-';
	return (r[0] - '0') * 100 + (r[1] - '0') * 10 + (r[2] - '0');
}

/* mda_util_agent_request - the request packet of the agent protocol */
int
mda_util_agent_request(char *buf, size_t bufsz, unsigned long long size,
    int argc, char *const argv[])
{
	char	num[24];
	size_t	off = 0, n;
	int	i;

	if (argc < 0 || argc > MDA_UTIL_AGENT_ARGS)
		return -1;
	if (size > 0)
		(void)snprintf(num, sizeof(num), "%llu", size);
	else
		(void)snprintf(num, sizeof(num), "-");
	for (i = -2; i < argc; i++) {
		const char	*a = i == -2 ? MDA_UTIL_AGENT_MAGIC :
		    i == -1 ? num : argv[i];

		n = strlen(a) + 1;
		if (n > bufsz - off)
			return -1;
		memcpy(buf + off, a, n);
		off += n;
	}
	return (int)off;
}

/* mda_util_agent_parse - a request packet, split in place */
int
mda_util_agent_parse(char *req, size_t len, const char *name,
    char *argv[MDA_UTIL_AGENT_ARGS + 2], unsigned long long *size,
    int *has_size)
{
	char	*p = req, *end = req + len, *nul, *num, *stop;
	int	 argc = 0, i;

	*size = 0;
	*has_size = 0;
	if (len == 0 || req[len - 1] != '\0')
		return -1;
	for (i = 0; p < end; i++, p = nul + 1) {
		nul = memchr(p, '\0', (size_t)(end - p));
		if (i == 0) {
			if (strcmp(p, MDA_UTIL_AGENT_MAGIC) != 0)
				return -1;
		} else if (i == 1) {
			num = p;
			if (strcmp(num, "-") == 0)
				continue;
			if (*num < '0' || *num > '9' || strlen(num) > 20)
				return -1;
			errno = 0;
			*size = strtoull(num, &stop, 10);
			if (errno != 0 || *stop != '\0')
				return -1;
			*has_size = 1;
		} else {
			if (argc == MDA_UTIL_AGENT_ARGS)
				return -1;
			argv[++argc] = p;
		}
	}
	if (i < 2)
		return -1;
	argv[0] = (char *)name;
	argv[argc + 1] = NULL;
	return argc + 1;
}

/* mda_util_agent_answer - an answer packet: code and line */
int
mda_util_agent_answer(const char *ans, size_t len, int *code, char *line,
    size_t linesz)
{
	char	buf[MDA_UTIL_LINE_MAX + 16];
	size_t	i;
	int	c = 0;

	if (len == 0 || len >= sizeof(buf) || linesz == 0)
		return -1;
	memcpy(buf, ans, len);
	buf[len] = '\0';
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9' && i < 3; i++)
		c = c * 10 + (buf[i] - '0');
	if (i == 0 || i >= len || buf[i] != ' ' || c > 255)
		return -1;
	*code = c;
	mda_util_clean(line, linesz, buf + i + 1);
	return 0;
}

/* mda_util_agent_recv - one request and its descriptor: the packet's
 * length, 0 at the end, -1 on a bad packet (*FD -1 or the descriptor) */
static ssize_t
mda_util_agent_recv(int sock, char *buf, size_t bufsz, int *fd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cm;
	struct iovec	 iov = { buf, bufsz };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 fds[4];

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		return n == 0 ? 0 : -2;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (*fd == -1)
				*fd = fds[i];
			else
				close(fds[i]);	/* one only */
		}
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || *fd == -1)
		return -1;
	return n;
}

/* mda_util_agent_send - the answer packet */
static int
mda_util_agent_send(int sock, int code, const char *line)
{
	char	buf[MDA_UTIL_LINE_MAX + 16];
	int	n;
	ssize_t	w;

	n = snprintf(buf, sizeof(buf), "%d %s", code, line);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	do {
		w = send(sock, buf, (size_t)n, MSG_NOSIGNAL);
	} while (w == -1 && errno == EINTR);
	return w == n ? 0 : -1;
}

/* mda_util_agent - the agent's loop */
int
mda_util_agent(int sock, const char *name, int (*run)(int, char *[]))
{
	static char		 req[MDA_UTIL_AGENT_REQ_MAX];
	char			*argv[MDA_UTIL_AGENT_ARGS + 2];
	volatile int		 code;
	ssize_t			 n;
	int			 fd, argc, null;

	if (sock != MDA_UTIL_AGENT_FD) {
		if (dup2(sock, MDA_UTIL_AGENT_FD) == -1)
			return EX_OSERR;
		close(sock);
	}
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    (null != STDIN_FILENO && (dup2(null, STDIN_FILENO) == -1 ||
	    close(null) == -1)))
		return EX_OSERR;
	for (;;) {
		n = mda_util_agent_recv(MDA_UTIL_AGENT_FD, req, sizeof(req),
		    &fd);
		if (n == 0)
			return EX_OK;		/* the parent is done with us */
		if (n == -2)
			return EX_OSERR;
		if (n == -1 || (argc = mda_util_agent_parse(req, (size_t)n,
		    name, argv, &mda_util_agent_size,
		    &mda_util_agent_has_size)) == -1) {
			if (fd != -1)
				close(fd);
			if (mda_util_agent_send(MDA_UTIL_AGENT_FD, EX_SOFTWARE,
			    "bad request to the delivery agent") == -1)
				return EX_OSERR;
			continue;
		}
		if (dup2(fd, STDIN_FILENO) == -1) {
			close(fd);
			if (mda_util_agent_send(MDA_UTIL_AGENT_FD, EX_OSERR,
			    "delivery agent: dup2 failed") == -1)
				return EX_OSERR;
			continue;
		}
		close(fd);
		mda_util_stdin_bytes = 0;
		mda_util_agent_line[0] = '\0';
		mda_util_agent_on = 1;
		optind = 0;		/* getopt starts over (glibc, BSD) */
		opterr = 0;		/* its complaint is the usage line */
		if (sigsetjmp(mda_util_agent_jmp, 0) == 0)
			code = run(argc, argv);
		else
			code = mda_util_agent_code;
		mda_util_agent_on = 0;
		/* what a failed delivery left open, and the message */
		(void)close_range(MDA_UTIL_AGENT_FD + 1, ~0U, 0);
		if ((null = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(null, STDIN_FILENO) == -1)
			return EX_OSERR;
		if (null != STDIN_FILENO)
			close(null);
		if (mda_util_agent_send(MDA_UTIL_AGENT_FD, code,
		    mda_util_agent_line[0] != '\0' ? mda_util_agent_line :
		    code == EX_OK ? "delivered" : "failed") == -1)
			return EX_OSERR;
	}
}

/* mda_util_serving - started as an agent (-A) */
int
mda_util_serving(void)
{
	return mda_util_serving_on;
}

/* mda_util_main - a delivery program's main: -A alone serves as the
 * agent, anything else is one delivery */
int
mda_util_main(int argc, char *argv[], const char *name,
    int (*run)(int, char *[]))
{
	mda_util_setname(name);
	if (argc == 2 && strcmp(argv[1], "-A") == 0) {
		mda_util_serving_on = 1;
		return mda_util_agent(STDIN_FILENO, name, run);
	}
	return run(argc, argv);
}
