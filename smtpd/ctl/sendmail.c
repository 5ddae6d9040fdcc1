/*
 * sendmail.c -- the sendmail interface of the smtpctl binary: sendmail
 * (and send-mail), mailq and newaliases (COMPAT-01..05, QUEUE-15).
 *
 * Runs as the invoking user, outside the daemon.  sendmail reads a
 * message on standard input and submits it as an SMTP session on the
 * daemon's local socket listener: it asks control for a session
 * (IMSG_CTL_ENQUEUE_SESSION), receives one end of a socketpair whose
 * other end the dispatcher serves, and speaks SMTP on it, blocking (it
 * is a client).  With the daemon down, the message and the arguments go
 * to SPOOL/offline, a file per message owned by the user, which the
 * parent submits at its next start by running `sendmail -S` as the
 * file's owner with the file on standard input.  -bs is SMTP on
 * stdin/stdout through the same session; -bp is mailq; -bi newaliases.
 * Exit codes are sysexits(3).  It never trusts its input: the message is
 * bounded (sendmail_msg.c), and the offline header is checked.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtpd.h"
#include "ctl.h"

#define SENDMAIL_TIMEOUT	300	/* seconds per SMTP reply */
#define SENDMAIL_CTL_TIMEOUT	30	/* seconds for control's answer */
#define SENDMAIL_OFFLINE_MAGIC	"SMTPD-OFFLINE 1\n"
#define SENDMAIL_ARGS_MAX	1024	/* arguments kept offline */

struct sendmail {
	char		 sock[PATH_MAX];
	char		 offline[PATH_MAX];
	char		 conf[PATH_MAX];
	const char	*from;		/* -f / -r */
	const char	*fullname;	/* -F */
	const char	*notify;	/* -N */
	const char	*ret;		/* -R */
	const char	*envid;		/* -V */
	int		 extract;	/* -t */
	int		 dot_ends;	/* not -i */
	int		 verbose;	/* -v */
	int		 offline_run;	/* -S: from the offline queue */
	char		 mode;		/* -b: 'm' send, 's', 'p', 'i' */
	char		**rcpts;	/* on the command line */
	int		 nrcpts;
	char		 login[256];
	char		 servername[256];
	/* control exchange */
	struct event_base *evb;
	int		 hello;
	int		 fd;		/* the session's socket */
	int		 failed;
	/* SMTP replies */
	char		 in[8192];
	size_t		 inlen;
	char		 reply[1024];
};

/* sendmail_paths - the socket, the offline directory, the config:
 * SMTPD_RUNDIR (smtpd -r DIR) or the compiled-in ones */
static void
sendmail_paths(struct sendmail *sm)
{
	const char	*d = getenv("SMTPD_RUNDIR");

	if (d != NULL && *d != '\0') {
		snprintf(sm->sock, sizeof sm->sock, "%s/smtpd.sock", d);
		snprintf(sm->offline, sizeof sm->offline, "%s/spool/offline",
		    d);
		snprintf(sm->conf, sizeof sm->conf, "%s/smtpd.conf", d);
	} else {
		snprintf(sm->sock, sizeof sm->sock, "%s/smtpd.sock",
		    PATH_SMTPD_RUN);
		snprintf(sm->offline, sizeof sm->offline, "%s/offline",
		    PATH_SMTPD_SPOOL);
		snprintf(sm->conf, sizeof sm->conf, "%s", PATH_SMTPD_CONF);
	}
	if ((d = getenv("SMTPD_SOCKET")) != NULL && *d != '\0')
		snprintf(sm->sock, sizeof sm->sock, "%s", d);
}

static void
sendmail_usage(void)
{
	fprintf(stderr, "usage: sendmail [-itv] [-f from | -r from] "
	    "[-F name] [-N dsn] [-R ret] [-V envid] [-bm | -bs | -bp | -bi] "
	    "[to ...]\n");
	exit(EX_USAGE);
}

/* sendmail_options - sendmail's flags; those of sendmail(8) we do not
 * implement are accepted and ignored */
static void
sendmail_options(struct sendmail *sm, int argc, char **argv)
{
	int	ch;

	optind = 1;
	while ((ch = getopt(argc, argv,
	    "A:B:b:C:d:e:EF:f:h:iL:mN:o:O:p:qr:R:StvV:x")) != -1) {
		switch (ch) {
		case 'b':
			if (strcmp(optarg, "m") != 0 &&
			    strcmp(optarg, "s") != 0 &&
			    strcmp(optarg, "p") != 0 &&
			    strcmp(optarg, "i") != 0) {
				fprintf(stderr, "sendmail: -b%s: unsupported "
				    "mode\n", optarg);
				exit(EX_USAGE);
			}
			sm->mode = optarg[0];
			break;
		case 'F':
			sm->fullname = optarg;
			break;
		case 'f':
		case 'r':
			sm->from = optarg;
			break;
		case 'i':
			sm->dot_ends = 0;
			break;
		case 'o':
			if (optarg[0] == 'i' && optarg[1] == '\0')
				sm->dot_ends = 0;	/* -oi */
			break;
		case 'N':
			sm->notify = optarg;
			break;
		case 'R':
			sm->ret = optarg;
			break;
		case 'V':
			sm->envid = optarg;
			break;
		case 'q':
			fprintf(stderr, "sendmail: -q: unsupported; use "
			    "smtpctl schedule all\n");
			exit(EX_USAGE);
		case 'S':
			sm->offline_run = 1;
			break;
		case 't':
			sm->extract = 1;
			break;
		case 'v':
			sm->verbose = 1;
			break;
		case 'A': case 'B': case 'C': case 'd': case 'e': case 'E':
		case 'h': case 'L': case 'm': case 'O': case 'p': case 'x':
			break;	/* sendmail's, ignored */
		default:
			sendmail_usage();
		}
	}
	sm->rcpts = argv + optind;
	sm->nrcpts = argc - optind;
}

/* sendmail_read_all - FD to its end, bounded; NULL with errno set */
static char *
sendmail_read_all(int fd, size_t *lenp)
{
	char	*buf = NULL, *p;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SENDMAIL_MESSAGE_MAX + 65536 ||
			    (p = realloc(buf, cap)) == NULL) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			buf = p;
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	return buf;
}

/* ---- the session from control ---- */

static struct sendmail	*sendmail_cur;	/* for the handlers below */

static void
sendmail_ctl_done(int failed)
{
	sendmail_cur->failed = failed;
	event_base_loopexit(sendmail_cur->evb, NULL);
}

static void
sendmail_on_ok(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_ok	m;

	if (msg_unpack_ctl_ok(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (!sendmail_cur->hello) {
		sendmail_cur->hello = 1;
		return;
	}
	if (sendmail_cur->fd != -1)
		sendmail_ctl_done(0);
}

static void
sendmail_on_fail(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_fail	m;

	if (msg_unpack_ctl_fail(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	fprintf(stderr, "sendmail: smtpd refused: %s\n", m.reason);
	sendmail_ctl_done(1);
}

static void
sendmail_on_session_fd(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_session_fd	m;

	if (msg_unpack_ctl_session_fd(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (sendmail_cur->fd != -1)
		close(sendmail_cur->fd);
	sendmail_cur->fd = m.fd;	/* control's CTL_OK follows */
}

static const struct imsg_handler sendmail_handlers[] = {
	{ IMSG_CTL_OK,         PROC_CONTROL, sendmail_on_ok },
	{ IMSG_CTL_FAIL,       PROC_CONTROL, sendmail_on_fail },
	{ IMSG_CTL_SESSION_FD, PROC_CONTROL, sendmail_on_session_fd },
};

static void
sendmail_on_lost(struct mproc *p, const char *why)
{
	if (sendmail_cur->fd == -1 && !sendmail_cur->failed) {
		fprintf(stderr, "sendmail: connection to smtpd lost: %s\n",
		    why);
		sendmail_ctl_done(1);
	}
}

static void
sendmail_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	fprintf(stderr, "sendmail: no answer from smtpd in %ds\n",
	    SENDMAIL_CTL_TIMEOUT);
	sendmail_ctl_done(1);
}

/* sendmail_connect - the control socket; -1 with *down set when the
 * daemon is not running (no socket, refused), -2 on another failure */
static int
sendmail_connect(struct sendmail *sm, int *down)
{
	struct sockaddr_un	 sun;
	int			 s;

	*down = 0;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sm->sock, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		fprintf(stderr, "sendmail: socket path too long\n");
		return -2;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -2;
	if (connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		*down = errno == ENOENT || errno == ECONNREFUSED;
		if (!*down || sm->verbose)
			fprintf(stderr, "sendmail: %s: %s\n", sm->sock,
			    strerror(errno));
		close(s);
		return -1;
	}
	return s;
}

/*
 * sendmail_session - the SMTP session's socket from the daemon; -1 with
 * *down set when the daemon is not running, -2 on any other failure
 * (said on stderr)
 */
static int
sendmail_session(struct sendmail *sm, int *down)
{
	struct mproc		*p;
	struct event		*ev;
	struct timeval		 tv = { SENDMAIL_CTL_TIMEOUT, 0 };
	int			 s, flags;

	if ((s = sendmail_connect(sm, down)) < 0)
		return s;
	sendmail_cur = sm;
	sm->fd = -1;
	if ((sm->evb = event_base_new()) == NULL ||
	    (ev = evtimer_new(sm->evb, sendmail_on_timeout, NULL)) == NULL) {
		fprintf(stderr, "sendmail: cannot set up an event loop\n");
		close(s);
		return -2;
	}
	p = mproc_new(sm->evb, PROC_CLIENT, s, PROC_CONTROL, 0,
	    sendmail_handlers, sizeof sendmail_handlers /
	    sizeof sendmail_handlers[0], sendmail_on_lost);
	if (msg_send_ctl_hello(p, &(struct msg_ctl_hello){
	    .version = IMSG_VERSION }) == -1 ||
	    msg_send_ctl_enqueue_session(p,
	    &(struct msg_ctl_enqueue_session){ 0 }) == -1)
		sm->failed = 1;
	else {
		evtimer_add(ev, &tv);
		event_base_dispatch(sm->evb);
	}
	mproc_free(&p);
	event_free(ev);
	event_base_free(sm->evb);
	if (sm->failed || sm->fd == -1) {
		if (sm->fd != -1)
			close(sm->fd);
		return -2;
	}
	/* a client blocks: the session is ours alone */
	if ((flags = fcntl(sm->fd, F_GETFL)) != -1)
		(void)fcntl(sm->fd, F_SETFL, flags & ~O_NONBLOCK);
	return sm->fd;
}

/* ---- SMTP on the session ---- */

/* sendmail_write - all of S, or -1 */
static int
sendmail_write(void *arg, const char *s, size_t n)
{
	int	fd = *(int *)arg;
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* sendmail_reply - read one (multi-line) reply; its code, or -1 */
static int
sendmail_reply(struct sendmail *sm)
{
	struct pollfd	 pfd = { sm->fd, POLLIN, 0 };
	char		*nl;
	size_t		 n;
	ssize_t		 r;
	int		 code;

	for (;;) {
		while ((nl = memchr(sm->in, '\n', sm->inlen)) != NULL) {
			n = (size_t)(nl - sm->in) + 1;
			snprintf(sm->reply, sizeof sm->reply, "%.*s",
			    (int)(n > 1 && nl[-1] == '\r' ? n - 2 : n - 1),
			    sm->in);
			memmove(sm->in, sm->in + n, sm->inlen - n);
			sm->inlen -= n;
			if (sm->verbose)
				fprintf(stderr, "<<< %s\n", sm->reply);
			if (strlen(sm->reply) < 3 || sm->reply[3] == '-')
				continue;
			code = atoi(sm->reply);
			return code >= 200 && code <= 599 ? code : -1;
		}
		if (sm->inlen == sizeof sm->in)
			return -1;	/* a line longer than any reply */
		if (poll(&pfd, 1, SENDMAIL_TIMEOUT * 1000) != 1)
			return -1;
		r = read(sm->fd, sm->in + sm->inlen, sizeof sm->in -
		    sm->inlen);
		if (r <= 0)
			return -1;
		sm->inlen += (size_t)r;
	}
}

/* sendmail_cmd - one command, its reply's code (-1: connection lost) */
static int
sendmail_cmd(struct sendmail *sm, const char *fmt, const char *a,
    const char *b)
{
	char	line[2048];
	int	n;

	n = snprintf(line, sizeof line, fmt, a, b);
	if (n < 0 || (size_t)n >= sizeof line - 2)
		return -1;
	if (sm->verbose)
		fprintf(stderr, ">>> %s\n", line);
	memcpy(line + n, "\r\n", 2);
	if (sendmail_write(&sm->fd, line, (size_t)n + 2) == -1)
		return -1;
	return sendmail_reply(sm);
}

/* sendmail_exit_code - sysexits for a refused step */
static int
sendmail_exit_code(int code)
{
	if (code == -1)
		return EX_TEMPFAIL;
	return code >= 500 ? (code == 550 || code == 553 ? EX_NOUSER :
	    EX_UNAVAILABLE) : EX_TEMPFAIL;
}

/* sendmail_fail - say what the daemon answered to WHAT; the exit code */
static int
sendmail_fail(struct sendmail *sm, const char *what, int code)
{
	if (code == -1)
		fprintf(stderr, "sendmail: %s: connection to smtpd lost\n",
		    what);
	else
		fprintf(stderr, "sendmail: %s: %s\n", what, sm->reply);
	return sendmail_exit_code(code);
}

/* sendmail_added_headers - From when absent (Date and Message-ID are
 * the server's: the socket listener completes headers, SMTP-22) */
static int
sendmail_added_headers(struct sendmail *sm, const struct sendmail_msg *m,
    const char *sender, char *buf, size_t size)
{
	int		 n;

	buf[0] = '\0';
	if (!m->has_from) {
		n = sm->fullname != NULL && *sm->fullname != '\0' ?
		    snprintf(buf, size, "From: %s <%s>\n", sm->fullname,
		    sender) : snprintf(buf, size, "From: <%s>\n", sender);
		if (n < 0 || (size_t)n >= size)
			return -1;
	}
	return 0;
}

/* sendmail_data - the message after DATA: added headers, the headers,
 * the blank line, the body, dot-stuffed; the final dot */
static int
sendmail_data(struct sendmail *sm, const struct sendmail_msg *m,
    const char *sender)
{
	char		 added[1024];
	const char	*body = m->text + m->hdrlen + m->blank;
	size_t		 bodylen = m->len - m->hdrlen - m->blank;

	if (sendmail_added_headers(sm, m, sender, added, sizeof added) == -1)
		return -1;
	if (sendmail_dot_stuff(added, strlen(added), sendmail_write,
	    &sm->fd) == -1 ||
	    sendmail_dot_stuff(m->text, m->hdrlen, sendmail_write,
	    &sm->fd) == -1 ||
	    sendmail_write(&sm->fd, "\r\n", 2) == -1 ||
	    sendmail_dot_stuff(body, bodylen, sendmail_write, &sm->fd) == -1 ||
	    sendmail_write(&sm->fd, ".\r\n", 3) == -1)
		return -1;
	return sendmail_reply(sm);
}

/* sendmail_mail_from - MAIL FROM with the DSN parameters asked */
static int
sendmail_mail_from(struct sendmail *sm, const char *sender)
{
	char	params[256];

	snprintf(params, sizeof params, "%s%s%s%s",
	    sm->ret ? " RET=" : "", sm->ret ? sm->ret : "",
	    sm->envid ? " ENVID=" : "", sm->envid ? sm->envid : "");
	return sendmail_cmd(sm, "MAIL FROM:<%s>%s", sender, params);
}

/* sendmail_rcpt_to - one RCPT, with NOTIFY when -N was given */
static int
sendmail_rcpt_to(struct sendmail *sm, const char *rcpt)
{
	char	params[128];

	snprintf(params, sizeof params, "%s%s", sm->notify ? " NOTIFY=" : "",
	    sm->notify ? sm->notify : "");
	return sendmail_cmd(sm, "RCPT TO:<%s>%s", rcpt, params);
}

/* sendmail_smtp - the transaction for M; the exit code */
static int
sendmail_smtp(struct sendmail *sm, const struct sendmail_msg *m)
{
	char	sender[SENDMAIL_ADDR_MAX];
	size_t	i;
	int	code;

	if (sm->from != NULL)
		snprintf(sender, sizeof sender, "%s", sm->from);
	else
		snprintf(sender, sizeof sender, "%s@%s", sm->login,
		    sm->servername);
	if ((code = sendmail_reply(sm)) != 220)
		return sendmail_fail(sm, "greeting", code);
	if ((code = sendmail_cmd(sm, "EHLO %s%s", "localhost", "")) != 250)
		return sendmail_fail(sm, "EHLO", code);
	if ((code = sendmail_mail_from(sm, sender)) != 250)
		return sendmail_fail(sm, "MAIL FROM", code);
	for (i = 0; i < (size_t)sm->nrcpts; i++)
		if ((code = sendmail_rcpt_to(sm, sm->rcpts[i])) / 100 != 2)
			return sendmail_fail(sm, sm->rcpts[i], code);
	for (i = 0; i < m->nrcpts; i++)
		if ((code = sendmail_rcpt_to(sm, m->rcpts[i])) / 100 != 2)
			return sendmail_fail(sm, m->rcpts[i], code);
	if ((code = sendmail_cmd(sm, "DATA%s%s", "", "")) != 354)
		return sendmail_fail(sm, "DATA", code);
	if ((code = sendmail_data(sm, m, sender)) != 250)
		return sendmail_fail(sm, "end of data", code);
	if (sm->verbose)
		fprintf(stderr, "sendmail: %s\n", sm->reply);
	(void)sendmail_cmd(sm, "QUIT%s%s", "", "");
	return EX_OK;
}

/* ---- -bs: SMTP on stdin/stdout ---- */

/* sendmail_relay - copy both ways between stdin/stdout and the session
 * until either side ends; the exit code */
static int
sendmail_relay(int fd)
{
	struct pollfd	pfd[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
	char		buf[16384];
	ssize_t		n;
	int		out = 1, in_open = 1;

	for (;;) {
		pfd[0].fd = in_open ? 0 : -1;
		if (poll(pfd, 2, SENDMAIL_TIMEOUT * 1000) <= 0)
			return EX_TEMPFAIL;
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(fd, buf, sizeof buf)) <= 0)
				return EX_OK;	/* the server closed */
			if (sendmail_write(&out, buf, (size_t)n) == -1)
				return EX_IOERR;
		}
		if (in_open && (pfd[0].revents & (POLLIN | POLLHUP |
		    POLLERR))) {
			if ((n = read(0, buf, sizeof buf)) <= 0) {
				in_open = 0;
				shutdown(fd, SHUT_WR);
			} else if (sendmail_write(&fd, buf, (size_t)n) == -1)
				return EX_IOERR;
		}
	}
}

/* ---- offline queue (QUEUE-15) ---- */

/* sendmail_offline_store - the arguments and the message into a new
 * file of the offline directory; the exit code */
static int
sendmail_offline_store(struct sendmail *sm, int argc, char **argv,
    const char *msg, size_t len)
{
	char	tmp[PATH_MAX], final[PATH_MAX], head[32];
	int	fd, i, n, ok;

	n = snprintf(tmp, sizeof tmp, "%s/.new.XXXXXX", sm->offline);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return EX_OSERR;
	umask(077);
	if ((fd = mkstemp(tmp)) == -1) {	/* O_EXCL, mode 0600 */
		fprintf(stderr, "sendmail: smtpd is not running and the "
		    "offline queue %s is not usable: %s\n", sm->offline,
		    strerror(errno));
		return EX_TEMPFAIL;
	}
	snprintf(head, sizeof head, "%d\n", argc - 1);
	ok = sendmail_write(&fd, SENDMAIL_OFFLINE_MAGIC,
	    strlen(SENDMAIL_OFFLINE_MAGIC)) == 0 &&
	    sendmail_write(&fd, head, strlen(head)) == 0;
	for (i = 1; ok && i < argc; i++)
		ok = sendmail_write(&fd, argv[i], strlen(argv[i]) + 1) == 0;
	ok = ok && sendmail_write(&fd, msg, len) == 0 && fsync(fd) == 0;
	/* a name nobody else has: rename would replace the user's own */
	n = snprintf(final, sizeof final, "%s/%lld.%ld.%s", sm->offline,
	    (long long)time(NULL), (long)getpid(), strrchr(tmp, '/') + 6);
	if (close(fd) == -1 || !ok || n < 0 || (size_t)n >= sizeof final ||
	    rename(tmp, final) == -1) {
		fprintf(stderr, "sendmail: %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		return EX_TEMPFAIL;
	}
	if (sm->verbose)
		fprintf(stderr, "sendmail: smtpd is not running; the message "
		    "waits in %s\n", final);
	return EX_OK;
}

/*
 * sendmail_offline_args - the header of an offline file (-S): the
 * arguments it was submitted with, the message after them.  -1 when the
 * file is not one of ours.
 */
static int
sendmail_offline_args(char *buf, size_t len, int *argcp, char ***argvp,
    size_t *skip)
{
	static char	*argv[SENDMAIL_ARGS_MAX + 2];
	size_t		 magic = strlen(SENDMAIL_OFFLINE_MAGIC), pos;
	char		*end, *nul;
	long		 n, i;

	if (len < magic || memcmp(buf, SENDMAIL_OFFLINE_MAGIC, magic) != 0)
		return -1;
	pos = magic;
	if ((end = memchr(buf + pos, '\n', len - pos)) == NULL)
		return -1;
	*end = '\0';
	n = strtol(buf + pos, &nul, 10);
	if (*nul != '\0' || n < 0 || n > SENDMAIL_ARGS_MAX)
		return -1;
	pos = (size_t)(end - buf) + 1;
	argv[0] = "sendmail";
	for (i = 0; i < n; i++) {
		if ((nul = memchr(buf + pos, '\0', len - pos)) == NULL)
			return -1;
		argv[i + 1] = buf + pos;
		pos = (size_t)(nul - buf) + 1;
	}
	argv[n + 1] = NULL;
	*argcp = (int)n + 1;
	*argvp = argv;
	*skip = pos;
	return 0;
}

/* sendmail_identity - who submits: the login name and the server name */
static int
sendmail_identity(struct sendmail *sm)
{
	struct passwd	*pw;
	char		*comma;
	static char	 gecos[256];

	if ((pw = getpwuid(getuid())) == NULL) {
		fprintf(stderr, "sendmail: uid %lu has no account\n",
		    (unsigned long)getuid());
		return -1;
	}
	snprintf(sm->login, sizeof sm->login, "%s", pw->pw_name);
	if (sm->fullname == NULL && pw->pw_gecos != NULL &&
	    *pw->pw_gecos != '\0') {
		snprintf(gecos, sizeof gecos, "%s", pw->pw_gecos);
		if ((comma = strchr(gecos, ',')) != NULL)
			*comma = '\0';
		if (*gecos != '\0')
			sm->fullname = gecos;
	}
	if (smtpd_server_name(PATH_MAILNAME, sm->servername,
	    sizeof sm->servername) == -1)
		snprintf(sm->servername, sizeof sm->servername, "localhost");
	return 0;
}

/* sendmail_send - -bm: read, parse, submit (or store offline) */
static int
sendmail_send(struct sendmail *sm, int argc, char **argv, char *raw,
    size_t rawlen)
{
	struct sendmail_msg	 m;
	const char		*why = NULL;
	int			 down, r;

	if (sm->nrcpts == 0 && !sm->extract) {
		fprintf(stderr, "sendmail: no recipients\n");
		return EX_USAGE;
	}
	if (sendmail_msg_parse(&m, raw, rawlen, sm->dot_ends, sm->extract,
	    sm->extract, &why) == -1) {
		fprintf(stderr, "sendmail: %s\n", why);
		sendmail_msg_free(&m);
		return EX_DATAERR;
	}
	if (sm->nrcpts == 0 && m.nrcpts == 0) {
		fprintf(stderr, "sendmail: no recipients\n");
		sendmail_msg_free(&m);
		return EX_USAGE;
	}
	if (sendmail_session(sm, &down) < 0) {
		sendmail_msg_free(&m);
		if (down && !sm->offline_run)
			return sendmail_offline_store(sm, argc, argv, raw,
			    rawlen);
		return EX_TEMPFAIL;
	}
	r = sendmail_smtp(sm, &m);
	close(sm->fd);
	sendmail_msg_free(&m);
	return r;
}

/* sendmail_offline_unlink - -S: the offline file PATH is submitted;
 * remove it if it is still the file on standard input */
static void
sendmail_offline_unlink(const char *path)
{
	struct stat	a, b;

	if (path == NULL || fstat(0, &a) == -1 || lstat(path, &b) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return;
	if (unlink(path) == -1)
		fprintf(stderr, "sendmail: %s: %s\n", path, strerror(errno));
}

/* sendmail_offline_run - -S: the arguments stored with the message
 * replace ours; 0, or -1 when RAW is not an offline file */
static int
sendmail_offline_run(struct sendmail *sm, char *raw, size_t rawlen,
    size_t *skip)
{
	char	**oargv;
	int	  oargc;

	if (sendmail_offline_args(raw, rawlen, &oargc, &oargv, skip) == -1) {
		fprintf(stderr, "sendmail: -S: not an offline message\n");
		return -1;
	}
	sendmail_options(sm, oargc, oargv);
	sm->offline_run = 1;
	return sm->mode == 'm' ? 0 : -1;
}

int
sendmail_main(int argc, char **argv)
{
	struct sendmail	 sm;
	char		*raw;
	size_t		 rawlen, skip = 0;
	int		 down, r;

	memset(&sm, 0, sizeof sm);
	sm.dot_ends = 1;
	sm.mode = 'm';
	sendmail_paths(&sm);
	sendmail_options(&sm, argc, argv);
	if (sm.mode == 'p')
		return mailq_main(argc, argv);
	if (sm.mode == 'i')
		return newaliases_main(argc, argv);
	if (sendmail_identity(&sm) == -1)
		return EX_NOUSER;
	if (sm.mode == 's') {
		if (sendmail_session(&sm, &down) < 0) {
			if (down)
				fprintf(stderr, "sendmail: smtpd is not "
				    "running\n");
			return EX_UNAVAILABLE;
		}
		r = sendmail_relay(sm.fd);
		close(sm.fd);
		return r;
	}
	if ((raw = sendmail_read_all(0, &rawlen)) == NULL) {
		fprintf(stderr, "sendmail: standard input: %s\n",
		    strerror(errno));
		return EX_IOERR;
	}
	if (sm.offline_run &&
	    sendmail_offline_run(&sm, raw, rawlen, &skip) == -1) {
		free(raw);
		return EX_DATAERR;
	}
	r = sendmail_send(&sm, argc, argv, raw + skip, rawlen - skip);
	if (sm.offline_run && r == EX_OK)
		sendmail_offline_unlink(getenv("SMTPD_OFFLINE_FILE"));
	free(raw);
	return r;
}

/* mailq_main - mailq, sendmail -bp: the queue listing (CTL-02), which is
 * `smtpctl show queue` on the socket sendmail would use */
int
mailq_main(int argc, char **argv)
{
	struct sendmail	 sm;
	char		*av[] = { (char *)"smtpctl", (char *)"-s", NULL,
			    (char *)"show", (char *)"queue", NULL };

	memset(&sm, 0, sizeof sm);
	sendmail_paths(&sm);
	av[2] = sm.sock;
	return ctl_main(5, av);
}
