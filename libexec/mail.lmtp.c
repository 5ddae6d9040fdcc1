/*
 * mail.lmtp.c -- mail.lmtp: hand the message on stdin to an LMTP server
 * (RFC 2033) (MDA-05, MDA-19).
 *
 * Started by the parent as the recipient:
 *   mail.lmtp -d dest [-f from] [-l lhlo] [-r | -u] [-t secs] rcpt ...
 * dest is unix:/path, /path or host:port ([v6addr]:port).  It sends
 * LHLO, MAIL FROM, one RCPT TO per recipient (-u, the default: the user
 * part only; -r: the address as given), DATA with CRLF line ends and
 * dot-stuffing, and reads one reply per accepted recipient.  Exit 0
 * only if every recipient was delivered; any 4xx, a timeout, a lost or
 * refused connection or a reply it cannot parse is EX_TEMPFAIL; a 5xx
 * (and no 4xx) is permanent (EX_NOUSER at RCPT, EX_DATAERR otherwise).
 * Every read and write has a timeout.  One line on stderr says why.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mda_util.h"

#define LMTP_LINE_MAX		4096	/* one reply line, CRLF included */
#define LMTP_TIMEOUT		300	/* seconds, per read or write */
#define LMTP_RCPT_MAX		1000

struct lmtp {
	int	 fd;
	char	 in[LMTP_LINE_MAX];
	size_t	 inlen;
	char	 out[65536];
	size_t	 outlen;
	char	 reply[LMTP_LINE_MAX];	/* the last reply's last line */
	/* the outcome so far */
	int	 temp, perm;
	int	 permcode;
	char	 why[MDA_UTIL_LINE_MAX];
};

static void	lmtp_usage(void) __attribute__((noreturn));

static void
lmtp_usage(void)
{
	fprintf(stderr, "usage: mail.lmtp -d dest [-f from] [-l lhlo] "
	    "[-r | -u] [-t timeout] rcpt ...\n");
	exit(EX_USAGE);
}

/* lmtp_set_timeout - SO_RCVTIMEO/SO_SNDTIMEO (connect obeys the latter) */
static void
lmtp_set_timeout(int fd, int secs)
{
	struct timeval	tv = { secs, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		mda_util_fail(EX_TEMPFAIL, "setsockopt: %s", strerror(errno));
}

/* lmtp_connect_unix - a local socket */
static int
lmtp_connect_unix(const char *path, int secs)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		mda_util_fail(EX_USAGE, "%s: socket path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		mda_util_fail(EX_TEMPFAIL, "socket: %s", strerror(errno));
	lmtp_set_timeout(fd, secs);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		mda_util_fail(EX_TEMPFAIL, "connect %s: %s", path,
		    strerror(errno));
	return fd;
}

/* lmtp_connect_inet - host:port or [addr]:port, each address in turn */
static int
lmtp_connect_inet(const char *dest, int secs)
{
	char		 host[256], *port;
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, r, err = 0;

	if (strlcpy(host, dest, sizeof(host)) >= sizeof(host) ||
	    (port = strrchr(host, ':')) == NULL || port[1] == '\0')
		mda_util_fail(EX_USAGE, "%s: not unix:/path, /path nor "
		    "host:port", dest);
	*port++ = '\0';
	if (host[0] == '[') {
		size_t	n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			mda_util_fail(EX_USAGE, "%s: bad address", dest);
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		mda_util_fail(r == EAI_NONAME ? EX_NOHOST : EX_TEMPFAIL,
		    "%s: %s", dest, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			err = errno;
			continue;
		}
		lmtp_set_timeout(fd, secs);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		mda_util_fail(EX_TEMPFAIL, "connect %s: %s", dest,
		    strerror(err == EAGAIN || err == EINPROGRESS ? ETIMEDOUT :
		    err));
	return fd;
}

/* lmtp_flush - the buffered output, or a temporary failure */
static void
lmtp_flush(struct lmtp *l)
{
	if (mda_util_write_all(l->fd, l->out, l->outlen) == -1)
		mda_util_fail(EX_TEMPFAIL, "write to LMTP server: %s",
		    errno == EAGAIN ? "timeout" : strerror(errno));
	l->outlen = 0;
}

static void
lmtp_put(struct lmtp *l, const char *p, size_t n)
{
	while (n > 0) {
		size_t	k = sizeof(l->out) - l->outlen;

		if (k == 0) {
			lmtp_flush(l);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(l->out + l->outlen, p, k);
		l->outlen += k;
		p += k;
		n -= k;
	}
}

/* lmtp_cmd - one command line, sent at once */
static void
lmtp_cmd(struct lmtp *l, const char *fmt, const char *arg)
{
	char	line[1024];
	int	n;

	n = snprintf(line, sizeof(line), fmt, arg);
	if (n < 0 || (size_t)n >= sizeof(line))
		mda_util_fail(EX_DATAERR, "command too long: %.40s", arg);
	lmtp_put(l, line, (size_t)n);
	lmtp_flush(l);
}

/* lmtp_getline - one CRLF (or LF) line into L->reply, timed out */
static void
lmtp_getline(struct lmtp *l)
{
	char	*nl;
	ssize_t	 n;
	size_t	 len;

	while ((nl = memchr(l->in, '\n', l->inlen)) == NULL) {
		if (l->inlen == sizeof(l->in))
			mda_util_fail(EX_TEMPFAIL, "LMTP reply line too long");
		n = mda_util_read(l->fd, l->in + l->inlen,
		    sizeof(l->in) - l->inlen);
		if (n == 0)
			mda_util_fail(EX_TEMPFAIL, "LMTP server closed the "
			    "connection");
		if (n == -1)
			mda_util_fail(EX_TEMPFAIL, "read from LMTP server: %s",
			    errno == EAGAIN ? "timeout" : strerror(errno));
		l->inlen += (size_t)n;
	}
	len = (size_t)(nl - l->in);
	memcpy(l->reply, l->in, len);
	if (len > 0 && l->reply[len - 1] == '\r')
		len--;
	l->reply[len] = '\0';
	l->inlen -= (size_t)(nl + 1 - l->in);
	memmove(l->in, nl + 1, l->inlen);
}

/* lmtp_reply - read one (possibly multi-line) reply: its code */
static int
lmtp_reply(struct lmtp *l)
{
	int	code, last;

	for (;;) {
		lmtp_getline(l);
		if ((code = mda_util_reply_code(l->reply, &last)) == -1)
			mda_util_fail(EX_TEMPFAIL, "bad LMTP reply: %.80s",
			    l->reply);
		if (last)
			return code;
	}
}

/* lmtp_note - record a 4xx/5xx for the final status */
static void
lmtp_note(struct lmtp *l, int code, const char *what, int permcode)
{
	if (code >= 400 && code < 500) {
		if (!l->temp)
			(void)snprintf(l->why, sizeof(l->why), "%.200s: %.290s",
			    what, l->reply);
		l->temp = 1;
	} else if (code >= 500) {
		if (!l->temp && !l->perm)
			(void)snprintf(l->why, sizeof(l->why), "%.200s: %.290s",
			    what, l->reply);
		if (!l->perm)
			l->permcode = permcode;
		l->perm = 1;
	}
}

/* lmtp_expect - a reply in the 2xx/3xx class WANT or fail the session */
static void
lmtp_expect(struct lmtp *l, int want, const char *what)
{
	int	code = lmtp_reply(l);

	if (code / 100 == want)
		return;
	if (code / 100 == 2 || code / 100 == 3)
		mda_util_fail(EX_TEMPFAIL, "%s: unexpected reply: %.80s", what,
		    l->reply);
	lmtp_note(l, code, what, EX_DATAERR);
	lmtp_cmd(l, "QUIT\r\n", "");
	mda_util_fail(l->temp ? EX_TEMPFAIL : l->permcode, "%s", l->why);
}

/* lmtp_data - stdin as DATA: CRLF line ends, dot-stuffed, ".\r\n" */
static void
lmtp_data(struct lmtp *l)
{
	char	buf[65536];
	ssize_t	n;
	int	bol = 1, cr = 0;

	while ((n = mda_util_read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			char	c = buf[i];

			if (bol && c == '.')
				lmtp_put(l, ".", 1);
			if (c == '\n' && !cr)
				lmtp_put(l, "\r", 1);
			lmtp_put(l, &c, 1);
			bol = c == '\n';
			cr = c == '\r';
		}
	}
	if (n == -1)
		mda_util_fail(EX_TEMPFAIL, "read message: %s", strerror(errno));
	/* truncated: leave without the final dot, the server drops it */
	if (!mda_util_input_complete())
		mda_util_fail(EX_TEMPFAIL, "message truncated on input");
	if (!bol)
		lmtp_put(l, cr ? "\n" : "\r\n", cr ? 1 : 2);
	lmtp_put(l, ".\r\n", 3);
	lmtp_flush(l);
}

/* lmtp_rcpt_arg - the RCPT TO argument: -u drops "@domain" */
static const char *
lmtp_rcpt_arg(const char *rcpt, int full, char *buf, size_t bufsz)
{
	const char	*at;

	if (full || (at = strrchr(rcpt, '@')) == NULL)
		return rcpt;
	if ((size_t)(at - rcpt) >= bufsz)
		mda_util_fail(EX_DATAERR, "recipient too long");
	memcpy(buf, rcpt, (size_t)(at - rcpt));
	buf[at - rcpt] = '\0';
	return buf;
}

/* lmtp_check_arg - no CR, LF, '<' or '>' may reach a command */
static void
lmtp_check_arg(const char *what, const char *s)
{
	if (strpbrk(s, "\r\n<>") != NULL || strlen(s) > 512)
		mda_util_fail(EX_DATAERR, "bad %s", what);
}

int
main(int argc, char *argv[])
{
	static struct lmtp	 l;
	char			 host[256], user[512], what[600];
	const char		*dest = NULL, *from = "", *lhlo = NULL, *arg;
	int			 ch, full = 0, secs = LMTP_TIMEOUT, i, code;
	int			 accepted[LMTP_RCPT_MAX], naccepted = 0;
	char			*end;

	mda_util_setname("mail.lmtp");
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "d:f:l:rut:")) != -1) {
		switch (ch) {
		case 'd': dest = optarg; break;
		case 'f': from = optarg; break;
		case 'l': lhlo = optarg; break;
		case 'r': full = 1; break;
		case 'u': full = 0; break;
		case 't':
			secs = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || secs < 1 || secs > 3600)
				lmtp_usage();
			break;
		default:
			lmtp_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (dest == NULL || argc < 1 || argc > LMTP_RCPT_MAX)
		lmtp_usage();
	if (lhlo == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			(void)strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		lhlo = host;
	}
	lmtp_check_arg("lhlo", lhlo);
	lmtp_check_arg("sender", from);
	for (i = 0; i < argc; i++)
		lmtp_check_arg("recipient", argv[i]);

	if (strncmp(dest, "unix:", 5) == 0)
		l.fd = lmtp_connect_unix(dest + 5, secs);
	else if (dest[0] == '/')
		l.fd = lmtp_connect_unix(dest, secs);
	else
		l.fd = lmtp_connect_inet(dest, secs);

	lmtp_expect(&l, 2, "greeting");
	lmtp_cmd(&l, "LHLO %s\r\n", lhlo);
	lmtp_expect(&l, 2, "LHLO");
	lmtp_cmd(&l, "MAIL FROM:<%s>\r\n", from);
	lmtp_expect(&l, 2, "MAIL FROM");
	for (i = 0; i < argc; i++) {
		arg = lmtp_rcpt_arg(argv[i], full, user, sizeof(user));
		lmtp_cmd(&l, "RCPT TO:<%s>\r\n", arg);
		code = lmtp_reply(&l);
		(void)snprintf(what, sizeof(what), "RCPT TO:<%s>", arg);
		if (code / 100 == 2)
			accepted[naccepted++] = i;
		else if (code / 100 == 3)
			mda_util_fail(EX_TEMPFAIL, "%s: unexpected reply: "
			    "%.80s", what, l.reply);
		else
			lmtp_note(&l, code, what, EX_NOUSER);
	}
	if (naccepted > 0) {
		lmtp_cmd(&l, "DATA\r\n", "");
		lmtp_expect(&l, 3, "DATA");
		lmtp_data(&l);
		for (i = 0; i < naccepted; i++) {
			code = lmtp_reply(&l);
			arg = lmtp_rcpt_arg(argv[accepted[i]], full, user,
			    sizeof(user));
			(void)snprintf(what, sizeof(what), "delivery to <%s>",
			    arg);
			if (code / 100 != 2)
				lmtp_note(&l, code, what, EX_DATAERR);
		}
	}
	lmtp_cmd(&l, "QUIT\r\n", "");
	close(l.fd);
	if (l.temp)
		mda_util_fail(EX_TEMPFAIL, "%s", l.why);
	if (l.perm)
		mda_util_fail(l.permcode, "%s", l.why);
	return EX_OK;
}
