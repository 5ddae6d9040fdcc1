/*
 * loadgen.c -- the benchmark's SMTP load generator, and the sink it is
 * measured against when no MTA sits in between.
 *
 * Used by bench/bench.py (make bench) against our smtpd, OpenSMTPD and
 * Postfix alike: the same client for all, so the figures compare servers,
 * not clients.  Each thread runs one epoll loop with many sessions;
 * commands are pipelined (MAIL, RCPT, DATA in one write) when the server
 * offers PIPELINING; the latency of a message is from its MAIL FROM to
 * the 250 after its DATA; a run's elapsed_s (and its rate) from the
 * start to the end of its last message.  Results are one JSON line on
 * stdout.
 *
 *   loadgen [-H addr] -p port [-c sessions] [-n messages] [-m per-conn]
 *           [-s size] [-t threads] [-T timeout] [-P 0|1] [-r rcpt]
 *           [-A addrs] [-W wait]	(sessions spread over 127.1.x.y
 *					sources; a session without a reply
 *					for WAIT s (60) fails)
 *   loadgen -p port -i N [-T timeout]	hold N idle sessions, probe
 *					banners, wait for stdin to close
 *   loadgen -S port [-T timeout]		the sink: a do-nothing SMTP server
 *
 * A message carries X-Bench-Sent: <CLOCK_REALTIME ns> so a delivered
 * file tells when it was sent.  This program is a test tool, never part
 * of the daemon: it may block (the idle mode's banner probes do, with a
 * timeout), but every wait is bounded by -T.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LG_INBUF	8192
#define LG_CMDBUF	1024
#define LG_EVENTS	256
#define LG_IDLE_RAMP	256	/* idle mode: sessions being opened at once */

enum lg_phase {
	LG_CONNECT, LG_BANNER, LG_EHLO, LG_MAIL, LG_RCPT, LG_DATA,
	LG_ENVELOPE,	/* pipelined MAIL+RCPT+DATA: 3 replies */
	LG_END, LG_QUIT, LG_IDLE, LG_CLOSED
};

static const char *lg_phase_name[] = {
	"connect", "banner", "EHLO", "MAIL", "RCPT", "DATA", "envelope",
	"end of data", "QUIT", "idle", "closed"
};

struct lg_conf {
	const char	*host;
	int		 port;
	int		 sessions;
	long		 messages;
	long		 perconn;
	size_t		 size;
	int		 threads;
	int		 timeout;
	int		 pipelining;
	const char	*rcpt;
	const char	*from;
	int		 idle;
	int		 nsrc;		/* source addresses 127.1.x.y, 0: any */
	int		 wait;		/* s without a reply: the session fails */
};

struct lg_session {
	int		 fd;
	enum lg_phase	 phase;
	int		 pipelined;	/* server offered PIPELINING */
	int		 replies;	/* still expected in LG_ENVELOPE */
	int		 envfail;
	int		 requeue;	/* MAIL refused for now: put it back */
	long		 sent;		/* messages in this connection */
	uint64_t	 t_mail;	/* ns, monotonic */
	uint64_t	 t_last;	/* last activity, ns */
	char		 in[LG_INBUF];
	size_t		 inlen;
	char		 cmd[LG_CMDBUF];	/* pending command bytes */
	size_t		 cmdlen, cmdoff;
	const char	*body;		/* then the shared body */
	size_t		 bodylen, bodyoff;
	int		 wantout;
	int		 clean;		/* closed after QUIT: reconnect now */
};

struct lg_thread {
	pthread_t		 tid;
	int			 ep;
	int			 nsess;
	struct lg_session	*sess;
	uint32_t		*lat;	/* microseconds, one per message ok */
	long			 nlat, maxlat;
	long			 ok, fail, connfail, conns;
	int			 next;	/* idle mode: sessions opened so far */
	char			 err[160];
};

static struct lg_conf	 lg;
static struct lg_thread	*lg_threads;
static struct sockaddr_in lg_addr;
static char		*lg_body;	/* headers' tail, body, "." */
static size_t		 lg_bodylen;
static atomic_long	 lg_left;	/* messages not yet started */
static atomic_long	 lg_done;	/* finished, ok or not */
static atomic_long	 lg_requeued;	/* refused for now, sent again */
static atomic_ullong	 lg_last_done;	/* lg_now() of the last message's end */
static uint64_t		 lg_deadline;

static uint64_t
lg_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
lg_wallclock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* lg_err - keep the first error, made safe for a JSON string */
static void
lg_err(struct lg_thread *t, const char *fmt, const char *arg)
{
	char	 buf[sizeof t->err];
	size_t	 i;

	if (t->err[0] != '\0')
		return;
	snprintf(buf, sizeof buf, "%s%.120s", strncmp(fmt, "%s", 2) == 0 ?
	    "" : fmt, arg);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '"' || buf[i] == '\\' ||
		    (unsigned char)buf[i] < 0x20)
			buf[i] = '?';
	memcpy(t->err, buf, sizeof buf);
}

/* lg_body_make - the message after its first headers: lines of 76 chars */
static void
lg_body_make(size_t size)
{
	static const char hdr[] = "Subject: bench\r\n\r\n";
	size_t	 n, i;

	lg_body = malloc(size + sizeof hdr + 128);
	if (lg_body == NULL) {
		perror("malloc");
		exit(2);
	}
	n = strlen(hdr);
	memcpy(lg_body, hdr, n);
	for (i = 0; n < size; i++) {
		lg_body[n++] = (i % 78 == 76) ? '\r' :
		    (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
	}
	memcpy(lg_body + n, "\r\n.\r\n", 5);
	lg_bodylen = n + 5;
}

static void
lg_epoll_set(struct lg_thread *t, struct lg_session *s, int out)
{
	struct epoll_event	ev;

	if (s->wantout == out)
		return;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = s;
	epoll_ctl(t->ep, EPOLL_CTL_MOD, s->fd, &ev);
	s->wantout = out;
}

/* lg_flush - write what is pending; 0 done, 1 more to write, -1 error */
static int
lg_flush(struct lg_thread *t, struct lg_session *s)
{
	ssize_t	n;

	while (s->cmdoff < s->cmdlen) {
		n = write(s->fd, s->cmd + s->cmdoff, s->cmdlen - s->cmdoff);
		if (n == -1) {
			if (errno == EAGAIN)
				goto more;
			return -1;
		}
		s->cmdoff += (size_t)n;
	}
	while (s->body != NULL && s->bodyoff < s->bodylen) {
		n = write(s->fd, s->body + s->bodyoff, s->bodylen - s->bodyoff);
		if (n == -1) {
			if (errno == EAGAIN)
				goto more;
			return -1;
		}
		s->bodyoff += (size_t)n;
	}
	s->body = NULL;
	lg_epoll_set(t, s, 0);
	return 0;
more:
	lg_epoll_set(t, s, 1);
	return 1;
}

static void
lg_send(struct lg_session *s, const char *text, const char *body,
    size_t bodylen)
{
	size_t	n = strlen(text);

	if (s->cmdoff == s->cmdlen)
		s->cmdoff = s->cmdlen = 0;
	if (s->cmdlen + n > sizeof s->cmd)
		n = sizeof s->cmd - s->cmdlen;
	memcpy(s->cmd + s->cmdlen, text, n);
	s->cmdlen += n;
	s->body = body;
	s->bodylen = bodylen;
	s->bodyoff = 0;
}

/*
 * lg_bind_source - session K connects from 127.1.(a/250).(1+a%250),
 * a = K mod the number of source addresses: servers that limit sessions
 * per client address see many clients, and each address has its own
 * ephemeral ports
 */
static int
lg_bind_source(int fd, int k)
{
	struct sockaddr_in	sin;
	int			a = k % lg.nsrc, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) |
	    ((unsigned)(a / 250) << 8) | (unsigned)(1 + a % 250));
#ifdef IP_BIND_ADDRESS_NO_PORT
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
	(void)one;
	return bind(fd, (struct sockaddr *)&sin, sizeof sin);
}

static int
lg_connect(struct lg_thread *t, struct lg_session *s)
{
	struct epoll_event	ev;
	int			one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd == -1) {
		lg_err(t, "socket: ", strerror(errno));
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (lg.nsrc > 0 && lg_bind_source(s->fd, (int)(s - t->sess) *
	    lg.threads + (int)(t - lg_threads)) == -1) {
		lg_err(t, "bind: ", strerror(errno));
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	if (connect(s->fd, (struct sockaddr *)&lg_addr, sizeof lg_addr) ==
	    -1 && errno != EINPROGRESS) {
		lg_err(t, "connect: ", strerror(errno));
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->phase = LG_BANNER;
	s->clean = 0;
	s->inlen = s->cmdlen = s->cmdoff = 0;
	s->body = NULL;
	s->sent = 0;
	s->pipelined = 0;
	s->t_last = lg_now();
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = s;
	s->wantout = 0;
	epoll_ctl(t->ep, EPOLL_CTL_ADD, s->fd, &ev);
	t->conns++;
	return 0;
}

static void
lg_close(struct lg_session *s)
{
	if (s->fd != -1) {
		close(s->fd);	/* removes it from the epoll set */
		s->fd = -1;
	}
	s->phase = LG_CLOSED;
}

/* lg_start_message - claim a message and send its envelope (or QUIT) */
static int
lg_start_message(struct lg_session *s)
{
	char	cmd[600];

	if ((lg.perconn > 0 && s->sent >= lg.perconn) ||
	    atomic_fetch_sub(&lg_left, 1) <= 0) {
		lg_send(s, "QUIT\r\n", NULL, 0);
		s->phase = LG_QUIT;
		return 0;
	}
	s->sent++;
	s->t_mail = lg_now();
	snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\n", lg.from);
	if (s->pipelined) {
		snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd),
		    "RCPT TO:<%s>\r\nDATA\r\n", lg.rcpt);
		s->phase = LG_ENVELOPE;
		s->replies = 3;
		s->envfail = s->requeue = 0;
	} else
		s->phase = LG_MAIL;
	lg_send(s, cmd, NULL, 0);
	return 0;
}

static int
lg_send_data(struct lg_session *s)
{
	char	hdr[400];

	snprintf(hdr, sizeof hdr, "From: <%s>\r\nTo: <%s>\r\n"
	    "X-Bench-Sent: %llu\r\n", lg.from, lg.rcpt,
	    (unsigned long long)lg_wallclock());
	lg_send(s, hdr, lg_body, lg_bodylen);
	s->phase = LG_END;
	return 0;
}

static void
lg_message_done(struct lg_thread *t, struct lg_session *s, int ok)
{
	uint64_t	now = lg_now(), us = (now - s->t_mail) / 1000;
	unsigned long long last = atomic_load(&lg_last_done);

	while (last < now &&
	    !atomic_compare_exchange_weak(&lg_last_done, &last, now))
		;
	if (ok) {
		t->ok++;
		if (t->nlat < t->maxlat)
			t->lat[t->nlat++] = us > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)us;
	} else
		t->fail++;
	atomic_fetch_add(&lg_done, 1);
}

/* lg_fail - the session is broken: its message (if any) failed */
static int
lg_fail(struct lg_thread *t, struct lg_session *s, const char *why)
{
	lg_err(t, "%s", why);
	if (s->phase >= LG_MAIL && s->phase <= LG_END)
		lg_message_done(t, s, 0);
	else if (s->phase <= LG_EHLO)
		t->connfail++;
	lg_close(s);
	return 0;
}

/*
 * lg_requeue - the server takes no more messages on this connection
 * (452 after its per-session limit): the message goes back to the pool,
 * the session quits and reconnects
 */
static int
lg_requeue(struct lg_session *s)
{
	atomic_fetch_add(&lg_left, 1);
	atomic_fetch_add(&lg_requeued, 1);
	s->sent--;
	lg_send(s, "QUIT\r\n", NULL, 0);
	s->phase = LG_QUIT;
	return 0;
}

/* lg_on_reply - one complete reply (last line LINE, code CODE) */
static int
lg_on_reply(struct lg_thread *t, struct lg_session *s, int code,
    const char *text)
{
	switch (s->phase) {
	case LG_BANNER:
		if (code != 220) {
			lg_err(t, "banner: ", text);
			return lg_fail(t, s, "banner refused");
		}
		lg_send(s, "EHLO loadgen.bench.test\r\n", NULL, 0);
		s->phase = LG_EHLO;
		return 0;
	case LG_EHLO:
		if (code != 250) {
			lg_err(t, "EHLO: ", text);
			return lg_fail(t, s, "EHLO refused");
		}
		if (lg.idle) {
			s->phase = LG_IDLE;
			return 0;
		}
		return lg_start_message(s);
	case LG_MAIL:
		if (code != 250) {
			lg_err(t, "MAIL: ", text);
			return lg_fail(t, s, "MAIL refused");
		}
		lg_send(s, "RCPT TO:<", NULL, 0);
		lg_send(s, lg.rcpt, NULL, 0);
		lg_send(s, ">\r\n", NULL, 0);
		s->phase = LG_RCPT;
		return 0;
	case LG_RCPT:
		if (code != 250 && code != 251) {
			lg_err(t, "RCPT: ", text);
			return lg_fail(t, s, "RCPT refused");
		}
		lg_send(s, "DATA\r\n", NULL, 0);
		s->phase = LG_DATA;
		return 0;
	case LG_DATA:
		if (code != 354) {
			lg_err(t, "DATA: ", text);
			return lg_fail(t, s, "DATA refused");
		}
		return lg_send_data(s);
	case LG_ENVELOPE:
		s->replies--;
		if (s->replies == 2 && (code == 452 || code == 421))
			s->requeue = 1;
		if (s->requeue) {
			if (s->replies > 0 && code != 421)
				return 0;
			return lg_requeue(s);
		}
		if ((s->replies > 0 && code / 100 != 2) ||
		    (s->replies == 0 && code != 354)) {
			if (!s->envfail)
				lg_err(t, "envelope: ", text);
			s->envfail = 1;
		}
		if (s->replies > 0)
			return 0;
		if (s->envfail)
			return lg_fail(t, s, "envelope refused");
		return lg_send_data(s);
	case LG_END:
		if (code != 250) {
			lg_err(t, "after DATA: ", text);
			lg_message_done(t, s, 0);
		} else
			lg_message_done(t, s, 1);
		return lg_start_message(s);
	case LG_QUIT:
		lg_close(s);
		s->clean = 1;
		return 0;
	default:
		return lg_fail(t, s, "unexpected reply");
	}
}

/* lg_read - read and handle every complete reply line; -1 closed */
static int
lg_read(struct lg_thread *t, struct lg_session *s)
{
	ssize_t	 n;
	char	*p, *eol;
	size_t	 used;

	n = read(s->fd, s->in + s->inlen, sizeof s->in - 1 - s->inlen);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		if (s->phase == LG_QUIT || s->phase == LG_IDLE) {
			lg_close(s);
			return -1;
		}
		lg_fail(t, s, n == 0 ? "connection closed by server" :
		    "read error");
		return -1;
	}
	if (n == -1)
		return 0;
	s->t_last = lg_now();
	s->inlen += (size_t)n;
	s->in[s->inlen] = '\0';
	p = s->in;
	while ((eol = memchr(p, '\n', s->inlen - (size_t)(p - s->in))) !=
	    NULL) {
		*eol = '\0';
		if (eol - p >= 3 && (eol - p == 3 || p[3] == ' ' ||
		    p[3] == '\r')) {
			lg_on_reply(t, s, atoi(p), p);
			if (s->fd == -1)
				return -1;
		} else if (eol - p < 4 || p[3] != '-') {
			lg_fail(t, s, "malformed reply");
			return -1;
		} else if (s->phase == LG_EHLO &&
		    strncasecmp(p + 4, "PIPELINING", 10) == 0 && lg.pipelining)
			s->pipelined = 1;
		p = eol + 1;
	}
	used = (size_t)(p - s->in);
	memmove(s->in, p, s->inlen - used);
	s->inlen -= used;
	if (s->inlen == sizeof s->in - 1) {
		lg_fail(t, s, "reply line too long");
		return -1;
	}
	return 0;
}

static void
lg_on_event(struct lg_thread *t, struct lg_session *s, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		lg_fail(t, s, s->phase == LG_BANNER ? "connect failed" :
		    "socket error");
		return;
	}
	if ((events & EPOLLIN) && lg_read(t, s) == -1) {
		if (s->clean && !lg.idle && atomic_load(&lg_left) > 0)
			lg_connect(t, s);
		return;
	}
	if (s->cmdoff < s->cmdlen || s->body != NULL) {
		if (lg_flush(t, s) == -1)
			lg_fail(t, s, "write error");
	}
}

/* lg_live - T's sessions still open */
static int
lg_live(const struct lg_thread *t)
{
	int	i, live = 0;

	for (i = 0; i < t->nsess; i++)
		live += t->sess[i].fd != -1;
	return live;
}

/* lg_sweep - reconnect closed sessions that have work; fail stuck ones */
static int
lg_sweep(struct lg_thread *t)
{
	uint64_t	now = lg_now();
	int		i, live = 0;

	for (i = 0; i < t->nsess; i++) {
		struct lg_session *s = &t->sess[i];

		if (s->fd != -1 && s->phase != LG_IDLE &&
		    now - s->t_last > (uint64_t)lg.wait * 1000000000u) {
			lg_err(t, "reply timeout, waiting for ",
			    lg_phase_name[s->phase]);
			lg_fail(t, s, "reply timeout");
		}
		if (s->fd == -1 && !lg.idle && atomic_load(&lg_left) > 0)
			lg_connect(t, s);
		live += s->fd != -1;
	}
	return live;
}

static void *
lg_thread_run(void *arg)
{
	struct lg_thread	*t = arg;
	struct epoll_event	 ev[LG_EVENTS];
	uint64_t		 lastsweep = 0;
	int			 i, n;

	for (i = 0; i < t->nsess; i++)
		t->sess[i].fd = -1;
	/* idle mode opens LG_IDLE_RAMP sessions at a time (a crowd of
	 * connections arriving at once measures the listen backlog) */
	t->next = lg.idle ? 0 : t->nsess;
	for (i = 0; i < t->nsess && (!lg.idle || i < LG_IDLE_RAMP); i++) {
		if (lg_connect(t, &t->sess[i]) == -1)
			t->connfail++;
		if (lg.idle)
			t->next++;
	}
	for (;;) {
		n = epoll_wait(t->ep, ev, LG_EVENTS, 100);
		for (i = 0; i < n; i++)
			lg_on_event(t, ev[i].data.ptr, ev[i].events);
		if (lg_now() > lg_deadline) {
			lg_err(t, "%s", "timeout");
			break;
		}
		if (lg.idle) {
			int	ready = 0, opening = 0;

			for (i = 0; i < t->next; i++) {
				struct lg_session *s = &t->sess[i];

				/* no banner or EHLO reply in time: failed */
				if (s->fd != -1 && s->phase != LG_IDLE &&
				    lg_now() - s->t_last >
				    (uint64_t)lg.wait * 1000000000u) {
					lg_err(t, "reply timeout, waiting for ",
					    lg_phase_name[s->phase]);
					lg_fail(t, s, "reply timeout");
				}
				ready += s->phase == LG_IDLE || s->fd == -1;
				opening += s->fd != -1 && s->phase != LG_IDLE;
			}
			while (t->next < t->nsess && opening++ <
			    LG_IDLE_RAMP) {
				if (lg_connect(t, &t->sess[t->next]) == -1)
					t->connfail++;
				t->next++;
			}
			if (ready == t->nsess)
				break;
			continue;
		}
		/* every message claimed and every session closed: done now,
		 * not at the next sweep (the run's time must not grow) */
		if (atomic_load(&lg_left) <= 0 && lg_live(t) == 0)
			break;
		if (n < LG_EVENTS && lg_now() - lastsweep > 50000000u) {
			lastsweep = lg_now();
			if (lg_sweep(t) == 0 && atomic_load(&lg_left) <= 0)
				break;
			if (t->ok == 0 && t->connfail > 1000) {
				lg_err(t, "%s", "server unreachable");
				break;
			}
		}
	}
	if (!lg.idle)
		for (i = 0; i < t->nsess; i++)
			if (t->sess[i].fd != -1)
				lg_fail(t, &t->sess[i], "timeout");
	return NULL;
}

static int
lg_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
lg_pct(const uint32_t *v, long n, double p)
{
	long	i;

	if (n == 0)
		return 0;
	i = (long)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* lg_banner_probe - one new session's connect-to-banner time, us; -1 */
static long
lg_banner_probe(void)
{
	struct pollfd	 pfd;
	uint64_t	 t0 = lg_now();
	char		 buf[512];
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&lg_addr, sizeof lg_addr) == -1) {
		close(fd);
		return -1;
	}
	while (got < sizeof buf - 1) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) != 1)
			break;
		if ((n = read(fd, buf + got, sizeof buf - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL) {
			close(fd);
			return strncmp(buf, "220", 3) == 0 ?
			    (long)((lg_now() - t0) / 1000) : -1;
		}
	}
	close(fd);
	return -1;
}

/* lg_idle_report - probes, the "ready" line, then wait for stdin EOF */
static void
lg_idle_report(struct lg_thread *th, int nt, double setup)
{
	struct pollfd	pfd;
	uint32_t	probes[20];
	long		idle = 0, failed = 0, us;
	int		i, j, np = 0, bad = 0;
	char		c;

	for (i = 0; i < nt; i++) {
		failed += th[i].connfail;
		for (j = 0; j < th[i].nsess; j++)
			idle += th[i].sess[j].phase == LG_IDLE;
	}
	for (i = 0; i < 20; i++) {
		if ((us = lg_banner_probe()) < 0)
			bad++;
		else
			probes[np++] = (uint32_t)us;
	}
	qsort(probes, (size_t)np, sizeof probes[0], lg_cmp);
	printf("{\"mode\":\"idle\",\"idle_sessions\":%ld,\"wanted\":%d,"
	    "\"failed\":%ld,\"setup_s\":%.3f,"
	    "\"banner_us\":{\"p50\":%u,\"max\":%u},"
	    "\"banner_failed\":%d,\"error\":\"%s\"}\n", idle, lg.sessions,
	    failed, setup, lg_pct(probes, np, 0.5), np ? probes[np - 1] : 0, bad,
	    th[0].err);
	fflush(stdout);
	pfd.fd = 0;
	pfd.events = POLLIN;
	while (lg_now() < lg_deadline) {
		if (poll(&pfd, 1, 200) == 1 && (read(0, &c, 1) <= 0 ||
		    c == '\n'))
			break;
	}
}

static void
lg_report(struct lg_thread *th, int nt, double secs)
{
	uint32_t	*all;
	long		 ok = 0, fail = 0, cf = 0, conns = 0, n = 0;
	const char	*err = "";
	int		 i;

	for (i = 0; i < nt; i++) {
		ok += th[i].ok;
		fail += th[i].fail;
		cf += th[i].connfail;
		conns += th[i].conns;
		n += th[i].nlat;
		if (*err == '\0')
			err = th[i].err;
	}
	all = calloc((size_t)n + 1, sizeof *all);
	n = 0;
	for (i = 0; i < nt; i++) {
		memcpy(all + n, th[i].lat, (size_t)th[i].nlat * sizeof *all);
		n += th[i].nlat;
	}
	qsort(all, (size_t)n, sizeof *all, lg_cmp);
	printf("{\"mode\":\"send\",\"sessions\":%d,\"size\":%zu,"
	    "\"per_conn\":%ld,\"wanted\":%ld,\"ok\":%ld,\"failed\":%ld,"
	    "\"conn_failed\":%ld,\"connections\":%ld,\"requeued\":%ld,\"elapsed_s\":%.3f,"
	    "\"rate\":%.1f,\"lat_us\":{\"p50\":%u,\"p90\":%u,\"p99\":%u,"
	    "\"max\":%u},\"error\":\"%s\"}\n", lg.sessions, lg.size,
	    lg.perconn, lg.messages, ok, fail, cf, conns,
	    (long)atomic_load(&lg_requeued), secs,
	    secs > 0 ? (double)ok / secs : 0.0, lg_pct(all, n, 0.5),
	    lg_pct(all, n, 0.9), lg_pct(all, n, 0.99),
	    n ? all[n - 1] : 0, err);
	free(all);
}

/* the sink: answers everything, stores nothing */
struct sink_conn {
	int	fd;
	int	data;
	char	in[LG_INBUF];
	size_t	inlen;
};

static void
sink_reply(struct sink_conn *c, const char *r)
{
	size_t	n = strlen(r);

	/* replies are short; a full socket buffer means a stuck client */
	if (write(c->fd, r, n) != (ssize_t)n) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
sink_line(struct sink_conn *c, const char *line)
{
	if (c->data) {
		if (strcmp(line, ".") == 0) {
			c->data = 0;
			sink_reply(c, "250 2.0.0 Ok: discarded\r\n");
		}
		return;
	}
	if (strncasecmp(line, "EHLO", 4) == 0)
		sink_reply(c, "250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	else if (strncasecmp(line, "DATA", 4) == 0) {
		c->data = 1;
		sink_reply(c, "354 go\r\n");
	} else if (strncasecmp(line, "QUIT", 4) == 0) {
		sink_reply(c, "221 bye\r\n");
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
	} else
		sink_reply(c, "250 Ok\r\n");
}

static void
sink_read(struct sink_conn *c)
{
	ssize_t	 n;
	char	*p, *eol;

	n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) {
			close(c->fd);
			c->fd = -1;
		}
		return;
	}
	c->inlen += (size_t)n;
	p = c->in;
	while (c->fd != -1 && (eol = memchr(p, '\n',
	    c->inlen - (size_t)(p - c->in))) != NULL) {
		*eol = '\0';
		if (eol > p && eol[-1] == '\r')
			eol[-1] = '\0';
		sink_line(c, p);
		p = eol + 1;
	}
	if (c->fd == -1)
		return;
	c->inlen -= (size_t)(p - c->in);
	memmove(c->in, p, c->inlen);
	if (c->inlen == sizeof c->in)
		c->inlen = 0;	/* an over-long line: dropped */
}

static int
sink_run(int port)
{
	struct sockaddr_in	 sin = lg_addr;
	struct epoll_event	 ev, evs[LG_EVENTS];
	struct sink_conn	*c;
	int			 lfd, ep, n, i, one = 1;

	sin.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) ==
	    -1 || listen(lfd, 1024) == -1) {
		perror("sink: listen");
		return 2;
	}
	ep = epoll_create1(0);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("{\"mode\":\"sink\",\"port\":%d}\n", port);
	fflush(stdout);
	while (lg_now() < lg_deadline) {
		n = epoll_wait(ep, evs, LG_EVENTS, 200);
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) != NULL) {
				sink_read(c);
				if (c->fd == -1)
					free(c);
				continue;
			}
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
			if (fd == -1 || (c = calloc(1, sizeof *c)) == NULL) {
				if (fd != -1)
					close(fd);
				continue;
			}
			c->fd = fd;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof one);
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			sink_reply(c, "220 sink ESMTP\r\n");
			if (c->fd == -1)
				free(c);
		}
	}
	return 0;
}

static void
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen [-H addr] -p port [-c sessions] "
	    "[-n messages] [-m per-conn] [-s size]\n"
	    "               [-t threads] [-T timeout] [-P 0|1] [-r rcpt] "
	    "[-f from] [-i idle] [-A addrs] [-W wait]\n"
	    "       loadgen -S port [-T timeout]\n");
	exit(2);
}

static long
lg_num(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "loadgen: bad number: %s\n", s);
		lg_usage();
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct lg_thread	*th;
	struct rlimit		 rl;
	uint64_t		 t0;
	int			 ch, i, sink = 0, per;

	lg = (struct lg_conf){ "127.0.0.1", 0, 1, 100, 0, 1024, 1, 300, 1,
	    "bench@bench.test", "loadgen@bench.test", 0, 0, 60 };
	while ((ch = getopt(argc, argv, "A:c:f:H:i:m:n:p:P:r:s:S:t:T:W:")) !=
	    -1) {
		switch (ch) {
		case 'A': lg.nsrc = (int)lg_num(optarg, 0, 60000); break;
		case 'c': lg.sessions = (int)lg_num(optarg, 1, 100000); break;
		case 'f': lg.from = optarg; break;
		case 'H': lg.host = optarg; break;
		case 'i': lg.idle = 1;
			lg.sessions = (int)lg_num(optarg, 1, 100000); break;
		case 'm': lg.perconn = lg_num(optarg, 0, 100000000); break;
		case 'n': lg.messages = lg_num(optarg, 0, 100000000); break;
		case 'p': lg.port = (int)lg_num(optarg, 1, 65535); break;
		case 'P': lg.pipelining = (int)lg_num(optarg, 0, 1); break;
		case 'r': lg.rcpt = optarg; break;
		case 's': lg.size = (size_t)lg_num(optarg, 0, 100000000); break;
		case 'S': sink = (int)lg_num(optarg, 1, 65535); break;
		case 't': lg.threads = (int)lg_num(optarg, 1, 64); break;
		case 'T': lg.timeout = (int)lg_num(optarg, 1, 86400); break;
		case 'W': lg.wait = (int)lg_num(optarg, 1, 3600); break;
		default: lg_usage();
		}
	}
	if (strlen(lg.rcpt) > 256 || strlen(lg.from) > 256)
		lg_usage();
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	lg_addr.sin_family = AF_INET;
	if (inet_pton(AF_INET, lg.host, &lg_addr.sin_addr) != 1) {
		fprintf(stderr, "loadgen: bad address: %s\n", lg.host);
		return 2;
	}
	lg_deadline = lg_now() + (uint64_t)lg.timeout * 1000000000u;
	if (sink)
		return sink_run(sink);
	if (lg.port == 0)
		lg_usage();
	lg_addr.sin_port = htons((uint16_t)lg.port);
	lg_body_make(lg.size);
	atomic_store(&lg_left, lg.idle ? 0 : lg.messages);
	if (lg.threads > lg.sessions)
		lg.threads = lg.sessions;
	th = lg_threads = calloc((size_t)lg.threads, sizeof *th);
	per = lg.sessions / lg.threads;
	for (i = 0; i < lg.threads; i++) {
		th[i].nsess = per + (i < lg.sessions % lg.threads);
		th[i].sess = calloc((size_t)th[i].nsess, sizeof *th[i].sess);
		th[i].maxlat = lg.messages + 1;
		th[i].lat = calloc((size_t)th[i].maxlat, sizeof *th[i].lat);
		th[i].ep = epoll_create1(0);
		if (th[i].sess == NULL || th[i].lat == NULL || th[i].ep == -1) {
			perror("loadgen");
			return 2;
		}
	}
	t0 = lg_now();
	for (i = 0; i < lg.threads; i++)
		pthread_create(&th[i].tid, NULL, lg_thread_run, &th[i]);
	for (i = 0; i < lg.threads; i++)
		pthread_join(th[i].tid, NULL);
	if (lg.idle)
		lg_idle_report(th, lg.threads, (double)(lg_now() - t0) / 1e9);
	else
		/* the messages' time: to the end of the last one, not to
		 * the threads' exit (QUIT, close) */
		lg_report(th, lg.threads, (double)((atomic_load(&lg_last_done) ?
		    atomic_load(&lg_last_done) : lg_now()) - t0) / 1e9);
	return 0;
}
