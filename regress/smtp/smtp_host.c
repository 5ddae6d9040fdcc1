/*
 * smtp_host.c -- a host of the SMTP library (smtpd/dispatcher/smtp.h)
 * for the tests in regress/smtp: an in-memory "queue" behind a real
 * server on 127.0.0.1 (or ::1), ephemeral port.
 *
 *   smtp_host -d DIR [-6] [-A] [-D] [-M] [-s BYTES] [-r RCPTS]
 *       [-m MAILS] [-l LINE] [-e ERRORS] [-t MS] [-p PERADDR]
 *
 * Writes "port N" to DIR/port when listening, and one line per hook to
 * DIR/events.log.  Bodies go to DIR/tmp.MSGID, renamed DIR/MSGID.eml
 * at data_end.  Sender "tempfail@..." gets 451 at MAIL; recipient
 * "unknown" 550 5.1.1, "tempfail" 451 4.3.0, "broken" 421; sender
 * "enospc@..." gets /dev/full as its body file.  -A answers every hook
 * later from the loop instead of from inside the hook.  SIGUSR1
 * pauses the server (no accept), SIGUSR2 resumes it; each logs
 * "paused N" / "resumed N" with the number of sessions.  SIGTERM ends
 * it.  Test code only: it never talks to anything but its listener.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "smtp.h"

struct host {
	struct event_base	*base;
	struct smtp_server	*srv;
	const char		*dir;
	FILE			*log;
	int			 async;
	uint32_t		 next_msgid;
};

/* a deferred answer (-A) */
struct host_answer {
	struct smtp_session	*s;
	int			 hook, code, fd;
	uint32_t		 msgid;
	const char		*text;
};

static void
host_answer_now(struct host_answer *a)
{
	switch (a->hook) {
	case 0:
		smtp_tx_begin_done(a->s, a->code, a->msgid, a->text);
		break;
	case 1:
		smtp_rcpt_done(a->s, a->code, a->text);
		break;
	case 2:
		smtp_data_begin_done(a->s, a->code, a->fd, a->text);
		break;
	default:
		smtp_data_end_done(a->s, a->code, a->text);
		break;
	}
}

static void
host_on_answer(evutil_socket_t fd, short ev, void *arg)
{
	host_answer_now(arg);
	free(arg);
}

/* host_answer - answer at once, or from the loop with -A */
static void
host_answer(struct host *h, struct smtp_session *s, int hook, int code,
    uint32_t msgid, int fd, const char *text)
{
	struct host_answer	 a = { s, hook, code, fd, msgid, text }, *p;
	struct timeval		 tv = { 0, 1000 };

	if (!h->async) {
		host_answer_now(&a);
		return;
	}
	if ((p = malloc(sizeof *p)) == NULL)
		err(1, "malloc");
	*p = a;
	if (event_base_once(h->base, -1, EV_TIMEOUT, host_on_answer, p,
	    &tv) == -1)
		errx(1, "event_base_once");
}

static void
host_tx_begin(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	struct host	*h = arg;

	fprintf(h->log, "tx_begin session=%016llx sender=%s@%s ret=%d "
	    "envid=%s esmtp=%d helo=%s\n", (unsigned long long)tx->session_id,
	    tx->sender.user, tx->sender.domain, tx->dsn_ret, tx->dsn_envid,
	    tx->esmtp, tx->helo);
	if (strcmp(tx->sender.user, "tempfail") == 0)
		host_answer(h, s, 0, 451, 0, -1, NULL);
	else
		host_answer(h, s, 0, 250, ++h->next_msgid, -1, NULL);
}

static void
host_rcpt(void *arg, struct smtp_session *s, const struct smtp_tx *tx,
    const struct smtp_rcpt *r)
{
	struct host	*h = arg;

	fprintf(h->log, "rcpt msgid=%08x rcpt=%s@%s notify=%d orcpt=%s@%s\n",
	    tx->msgid, r->addr.user, r->addr.domain, r->dsn_notify,
	    r->dsn_orcpt.user, r->dsn_orcpt.domain);
	if (strcmp(r->addr.user, "unknown") == 0)
		host_answer(h, s, 1, 550, 0, -1,
		    "5.1.1 Invalid recipient: user unknown");
	else if (strcmp(r->addr.user, "tempfail") == 0)
		host_answer(h, s, 1, 451, 0, -1,
		    "4.3.0 Temporary lookup failure\r\nX");
	else if (strcmp(r->addr.user, "broken") == 0)
		host_answer(h, s, 1, 421, 0, -1,
		    "4.3.0 Storing the recipient failed");
	else
		host_answer(h, s, 1, 250, 0, -1, NULL);
}

static void
host_data_begin(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	struct host	*h = arg;
	char		 path[1024];
	int		 fd;

	fprintf(h->log, "data_begin msgid=%08x nrcpt=%zu\n", tx->msgid,
	    tx->nrcpt);
	if (strcmp(tx->sender.user, "enospc") == 0)
		fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	else {
		snprintf(path, sizeof path, "%s/tmp.%08x", h->dir, tx->msgid);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	}
	if (fd == -1)
		host_answer(h, s, 2, 451, 0, -1, NULL);
	else
		host_answer(h, s, 2, 354, 0, fd, NULL);
}

static void
host_data_end(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	struct host	*h = arg;
	char		 from[1024], to[1024];

	snprintf(from, sizeof from, "%s/tmp.%08x", h->dir, tx->msgid);
	snprintf(to, sizeof to, "%s/%08x.eml", h->dir, tx->msgid);
	if (rename(from, to) == -1) {
		fprintf(h->log, "data_end msgid=%08x failed\n", tx->msgid);
		host_answer(h, s, 3, 451, 0, -1, NULL);
		return;
	}
	fprintf(h->log, "data_end msgid=%08x\n", tx->msgid);
	host_answer(h, s, 3, 250, 0, -1, NULL);
}

static void
host_tx_abort(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	struct host	*h = arg;
	char		 path[1024];

	snprintf(path, sizeof path, "%s/tmp.%08x", h->dir, tx->msgid);
	(void)unlink(path);
	fprintf(h->log, "tx_abort msgid=%08x\n", tx->msgid);
}

static void
host_session_end(void *arg, struct smtp_session *s)
{
	struct host	*h = arg;

	fprintf(h->log, "session_end\n");
}

static void
host_on_term(evutil_socket_t sig, short ev, void *arg)
{
	struct host	*h = arg;

	smtp_server_free(&h->srv);
	event_base_loopbreak(h->base);
}

static void
host_on_pause(evutil_socket_t sig, short ev, void *arg)
{
	struct host	*h = arg;

	if (sig == SIGUSR1)
		smtp_server_pause(h->srv);
	else
		smtp_server_resume(h->srv);
	fprintf(h->log, "%s %zu\n", sig == SIGUSR1 ? "paused" : "resumed",
	    smtp_server_sessions(h->srv));
}

/* host_listen - a listening socket on the loopback, its port */
static int
host_listen(int v6, int *port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof *sin6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *sin;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		err(1, "bind/listen");
	*port = ntohs(v6 ? sin6->sin6_port : sin->sin_port);
	return fd;
}

int
main(int argc, char *argv[])
{
	static const struct smtp_hooks hooks = {
		host_tx_begin, host_rcpt, host_data_begin, host_data_end,
		host_tx_abort, host_session_end, NULL, NULL
	};
	struct smtp_listener	 l = { .hostname = "mx.test.example" };
	struct host		 h = { 0 };
	struct event		*term, *usr1, *usr2;
	char			 path[1024];
	FILE			*f;
	int			 ch, fd, port, v6 = 0;

	while ((ch = getopt(argc, argv, "6Ad:DMs:r:m:l:e:t:p:")) != -1) {
		switch (ch) {
		case '6': v6 = 1; break;
		case 'A': h.async = 1; break;
		case 'd': h.dir = optarg; break;
		case 'D': l.no_dsn = 1; break;
		case 'M': l.mask_src = 1; break;
		case 's': l.limits.message_max = atoll(optarg); break;
		case 'r': l.limits.rcpt_max = strtoul(optarg, NULL, 10); break;
		case 'm': l.limits.mails_max = strtoul(optarg, NULL, 10); break;
		case 'l': l.limits.line_max = strtoul(optarg, NULL, 10); break;
		case 'e': l.limits.errors_max = atoi(optarg); break;
		case 't': l.limits.timeout_ms = atoi(optarg); break;
		case 'p': l.limits.sessions_per_addr = atoi(optarg); break;
		default:
			errx(2, "usage: smtp_host -d DIR [options]");
		}
	}
	if (h.dir == NULL)
		errx(2, "usage: smtp_host -d DIR [options]");
	log_init(1, 0);
	log_setproc("smtp_host");
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof path, "%s/events.log", h.dir);
	if ((h.log = fopen(path, "a")) == NULL)
		err(1, "%s", path);
	setvbuf(h.log, NULL, _IOLBF, 0);
	if ((h.base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	fd = host_listen(v6, &port);
	if ((h.srv = smtp_server_new(h.base, &hooks, &h)) == NULL ||
	    smtp_server_listen(h.srv, fd, &l) == -1)
		errx(1, "smtp_server");
	term = evsignal_new(h.base, SIGTERM, host_on_term, &h);
	evsignal_add(term, NULL);
	usr1 = evsignal_new(h.base, SIGUSR1, host_on_pause, &h);
	usr2 = evsignal_new(h.base, SIGUSR2, host_on_pause, &h);
	evsignal_add(usr1, NULL);
	evsignal_add(usr2, NULL);
	snprintf(path, sizeof path, "%s/port.tmp", h.dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fprintf(f, "%d\n", port);
	fclose(f);
	snprintf(path, sizeof path, "%s/port", h.dir);
	{
		char tmp[1024];

		snprintf(tmp, sizeof tmp, "%s/port.tmp", h.dir);
		if (rename(tmp, path) == -1)
			err(1, "rename");
	}
	event_base_dispatch(h.base);
	event_free(term);
	event_free(usr1);
	event_free(usr2);
	event_base_free(h.base);
	fprintf(h.log, "exit\n");
	fclose(h.log);
	return 0;
}
