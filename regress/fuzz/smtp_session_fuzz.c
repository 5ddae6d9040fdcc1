/*
 * smtp_session_fuzz.c -- libFuzzer target for a whole SMTP server
 * session (smtpd/dispatcher/smtp_session.c and what it calls): the
 * fuzzer's bytes are what a client sends on 127.0.0.1, then it shuts
 * down its side.
 *
 * The server runs in-process on its own event loop with hooks that
 * answer (sender "t..." 451, recipient "u..." 550, "t..." 451, "b..."
 * 421; bodies to /dev/null) at once, or, when the first input byte is
 * odd, later from the loop (the rest of the input is the client's).  Every run must end with the
 * session freed (no leak, no hook left pending) within a bounded
 * number of loop turns, and no reply line may hold a control byte or
 * a bare CR / LF.  Any breach aborts.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "smtp.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_TURNS	20000
#define FUZZ_INPUT_MAX	65536

static struct event_base	*fuzz_base;
static int			 fuzz_async;
static struct smtp_server	*fuzz_srv;
static struct sockaddr_in	 fuzz_addr;

/* a deferred answer */
struct fuzz_answer {
	struct smtp_session	*s;
	int			 hook, code, fd;
	const char		*text;
};

static void
fuzz_answer_now(struct fuzz_answer *a)
{
	switch (a->hook) {
	case 0:
		smtp_tx_begin_done(a->s, a->code, 1, a->text);
		break;
	case 1:
		smtp_rcpt_done(a->s, a->code, a->text);
		break;
	case 2:
		smtp_data_begin_done(a->s, a->code, a->fd, a->text);
		break;
	case 3:
		smtp_data_end_done(a->s, a->code, a->text);
		break;
	default:
		smtp_connect_done(a->s, a->text, a->code);
		break;
	}
}

static void
fuzz_on_answer(evutil_socket_t fd, short ev, void *arg)
{
	fuzz_answer_now(arg);
	free(arg);
}

static void
fuzz_answer(struct smtp_session *s, int hook, int code, int fd,
    const char *text)
{
	struct fuzz_answer	a = { s, hook, code, fd, text }, *p;
	struct timeval		tv = { 0, 0 };

	if (!fuzz_async) {
		fuzz_answer_now(&a);
		return;
	}
	if ((p = malloc(sizeof *p)) == NULL)
		abort();
	*p = a;
	if (event_base_once(fuzz_base, -1, EV_TIMEOUT, fuzz_on_answer, p,
	    &tv) == -1)
		abort();
}

static void
fuzz_tx_begin(void *a, struct smtp_session *s, const struct smtp_tx *tx)
{
	fuzz_answer(s, 0, tx->sender.user[0] == 't' ? 451 : 250, -1, NULL);
}

static void
fuzz_rcpt(void *a, struct smtp_session *s, const struct smtp_tx *tx,
    const struct smtp_rcpt *r)
{
	switch (r->addr.user[0]) {
	case 'u':
		fuzz_answer(s, 1, 550, -1, "5.1.1 no\r\nsuch\0user");
		break;
	case 't':
		fuzz_answer(s, 1, 451, -1, NULL);
		break;
	case 'b':
		fuzz_answer(s, 1, 421, -1, NULL);
		break;
	default:
		fuzz_answer(s, 1, 250, -1, NULL);
		break;
	}
}

static void
fuzz_data_begin(void *a, struct smtp_session *s, const struct smtp_tx *tx)
{
	int	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	fuzz_answer(s, 2, fd == -1 ? 451 : 354, fd, NULL);
}

static void
fuzz_data_end(void *a, struct smtp_session *s, const struct smtp_tx *tx)
{
	fuzz_answer(s, 3, 250, -1, NULL);
}

static void
fuzz_connect(void *a, struct smtp_session *s,
    const struct sockaddr_storage *ss, const char *addr)
{
	fuzz_answer(s, 4, 1, -1, "client.fuzz.example");
}

/* fuzz_init - the server, once */
static void
fuzz_init(void)
{
	static const struct smtp_hooks hooks = {
		fuzz_tx_begin, fuzz_rcpt, fuzz_data_begin, fuzz_data_end,
		NULL, NULL, NULL, fuzz_connect
	};
	struct smtp_listener	l = { .hostname = "fuzz.example" };
	socklen_t		len = sizeof fuzz_addr;
	int			fd;

	signal(SIGPIPE, SIG_IGN);
	l.limits.line_max = 1024;
	l.limits.message_max = 4096;
	l.limits.rcpt_max = 5;
	l.limits.mails_max = 3;
	l.limits.errors_max = 20;
	fuzz_addr.sin_family = AF_INET;
	fuzz_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&fuzz_addr, &len) == -1)
		abort();
	if ((fuzz_base = event_base_new()) == NULL ||
	    (fuzz_srv = smtp_server_new(fuzz_base, &hooks, NULL)) == NULL ||
	    smtp_server_listen(fuzz_srv, fd, &l) == -1)
		abort();
}

/* fuzz_check_replies - no control byte but CRLF line ends */
static void
fuzz_check_replies(const char *p, size_t len, int *cr)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (*cr && c != '\n')
			abort();
		if (c == '\n' && !*cr)
			abort();
		*cr = c == '\r';
		if (c < 32 && c != '\r' && c != '\n')
			abort();
	}
}

static const struct linger	fuzz_linger = { 1, 0 };

/*
 * fuzz_connect_client - connect the non-blocking client socket c to the
 * listener; 0 once connected, -1 if the machine has no port left.  The
 * handshake over loopback may be deferred to the kernel's softirq thread
 * when the machine is busy, and libFuzzer's timer signal then interrupts
 * a blocking connect (EINTR, seen in CI): wait for it, bounded, instead.
 */
static int
fuzz_connect_client(int c)
{
	struct pollfd	pfd;
	socklen_t	len = sizeof(int);
	int		err = 0, i;

	if (connect(c, (struct sockaddr *)&fuzz_addr, sizeof fuzz_addr) == 0)
		return 0;
	if (errno == EADDRNOTAVAIL)
		return -1;
	if (errno != EINPROGRESS && errno != EINTR) {
		fprintf(stderr, "connect: %s\n", strerror(errno));
		abort();
	}
	pfd.fd = c;
	pfd.events = POLLOUT;
	for (i = 0; i < 5000; i++) {
		if (poll(&pfd, 1, 1) == 1)
			break;
		/* the listener's side runs in this same loop */
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	}
	if (i == 5000 ||
	    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) {
		if (err == EADDRNOTAVAIL)
			return -1;
		fprintf(stderr, "connect: %s\n", err ? strerror(err) :
		    "no answer in 5 s");
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pollfd	pfd;
	char		buf[65536];
	size_t		off = 0;
	ssize_t		n;
	int		c, turns, eof = 0, shut = 0, cr = 0;

	if (size < 1 || size > FUZZ_INPUT_MAX)
		return 0;
	fuzz_async = data[0] & 1;
	data++;
	size--;
	if (fuzz_base == NULL)
		fuzz_init();
	if ((c = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		abort();
	/* closed with a reset: tens of thousands of runs would otherwise
	 * leave the loopback's ephemeral ports in TIME_WAIT */
	(void)setsockopt(c, SOL_SOCKET, SO_LINGER, &fuzz_linger,
	    sizeof fuzz_linger);
	fcntl(c, F_SETFL, O_NONBLOCK);
	if (fuzz_connect_client(c) == -1) {
		/* no port left for a moment is the machine's, not a bug */
		close(c);
		return 0;
	}
	for (turns = 0; turns < FUZZ_TURNS; turns++) {
		if (off < size) {
			n = write(c, data + off, size - off);
			if (n > 0)
				off += n;
			else if (n == -1 && errno != EAGAIN)
				off = size;	/* the server closed */
		}
		if (off == size && !shut) {
			shutdown(c, SHUT_WR);
			shut = 1;
		}
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		while (!eof && (n = read(c, buf, sizeof buf)) != 0) {
			if (n == -1) {
				if (errno != EAGAIN)
					eof = 1;
				break;
			}
			fuzz_check_replies(buf, n, &cr);
		}
		if (n == 0)
			eof = 1;
		if (eof && smtp_server_sessions(fuzz_srv) == 0)
			break;
		pfd.fd = c;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 1);
	}
	close(c);
	if (turns == FUZZ_TURNS)
		abort();	/* the session did not end */
	return 0;
}
