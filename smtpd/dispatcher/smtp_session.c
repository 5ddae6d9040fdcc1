/*
 * smtp_session.c -- one SMTP server session: the greeting, the command
 * loop with real pipelining, the transaction, the body, the replies,
 * the limits, and the calls to the host's hooks.
 *
 * Runs in the dispatcher process (or any host of smtp.h) on the host's
 * libevent loop, thousands of sessions at once.  An idle session is
 * this struct and a bufferevent with empty buffers (a transaction and
 * the body's buffer are allocated only while in use).  Every entry
 * point (read, write, event, a done() call, the end-of-turn write of
 * corked replies) ends in smtp_session_settle,
 * the only place a session is freed, and never while a hook is pending.
 * Policy decisions are documented in smtp.h.  What it must never do:
 * block (the body file is a local spool file written with plain write()
 * in big chunks), echo a control byte, or answer 250 to a body that was
 * not fully written.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "smtp_int.h"

#define SMTP_REPLY_MAX		1024	/* one reply line, with CRLF */
#define SMTP_ECHO_MAX		128	/* echoed client text */
#define SMTP_CMD_STACK		1024	/* command lines above: malloc */
#define SMTP_BODY_FLUSH		65536	/* write the body in such chunks */
#define SMTP_OUTPUT_MAX		65536	/* replies not yet read by the
					 * client: above, stop reading */

static void	smtp_session_process(struct smtp_session *);
static void	smtp_session_command(struct smtp_session *, char *);

/*
 * Replies on a plain socket are corked: the bufferevent's write event
 * stays off and what a turn of the loop replied, to any number of
 * sessions, is written by smtp_server_on_flush at the end of that turn,
 * one write per session, straight to its socket.  So a reply costs a
 * write, not two epoll_ctl calls and a turn of the loop waiting for the
 * socket to be writable, and the replies to pipelined commands still
 * leave together.  What the socket does not take goes the bufferevent's
 * way (its write event on until its output is drained, then off
 * again).  TLS sessions (a bufferevent pair) are never corked.
 * A hook's answer (smtp_session_resume) is corked too: the flush runs
 * the input held back first, so the replies it makes (250 to RCPT, then
 * 354 to DATA) leave in the same write as the answer's.
 */

/* smtp_session_corkable - S's replies wait for the end of the turn */
static int
smtp_session_corkable(const struct smtp_session *s)
{
	return s->tls_io == NULL && s->srv->flush != NULL &&
	    !(bufferevent_get_enabled(s->bev) & EV_WRITE);
}

/* smtp_session_cork - S has replies to write: at the end of the turn */
static void
smtp_session_cork(struct smtp_session *s)
{
	struct smtp_server	*srv = s->srv;

	if (s->corked || !smtp_session_corkable(s))
		return;		/* the bufferevent writes them */
	TAILQ_INSERT_TAIL(&srv->corked, s, cork_entry);
	s->corked = 1;
	event_active(srv->flush, 0, 0);
}

/* smtp_session_uncork - S out of the server's list */
static void
smtp_session_uncork(struct smtp_session *s)
{
	s->resume = 0;		/* whoever uncorks it runs its input */
	if (!s->corked)
		return;
	TAILQ_REMOVE(&s->srv->corked, s, cork_entry);
	s->corked = 0;
}

void
smtp_session_flush(struct smtp_session *s)
{
	struct evbuffer	*out;
	int		 fd;

	smtp_session_uncork(s);
	if (s->bev == NULL || s->gone || s->tls_io != NULL)
		return;
	out = bufferevent_get_output(s->bev);
	if (evbuffer_get_length(out) == 0)
		return;
	/* an error (EAGAIN, a reset) leaves the output to the bufferevent,
	 * whose own write then waits or reports it */
	if ((fd = bufferevent_getfd(s->bev)) != -1) {
		/* the bufferevent keeps its output's start frozen but while
		 * it writes; so do we */
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, fd);
		evbuffer_freeze(out, 1);
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(s->bev, EV_WRITE);
}

void
smtp_server_on_flush(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_server	*srv = arg;
	struct smtp_session	*s;

	(void)fd;
	(void)ev;
	/* bounded: a session corked again by the processing below has
	 * consumed input, and its input is refilled only by the loop */
	while ((s = TAILQ_FIRST(&srv->corked)) != NULL) {
		if (s->resume) {
			/* a hook answered: its replies wait for those the
			 * input held back makes */
			s->resume = 0;
			s->held = 1;
			smtp_session_process(s);
			s->held = 0;
		}
		smtp_session_flush(s);
		if (s->bev != NULL && !s->gone && evbuffer_get_length(
		    bufferevent_get_output(s->bev)) == 0)
			/* drained: go on with input held back while replies
			 * piled up, as the bufferevent's write callback would */
			smtp_session_process(s);
		else
			smtp_session_settle(s);		/* may free it */
	}
}

/* smtp_reply - send one reply line (FMT has no CRLF) */
void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	char	buf[SMTP_REPLY_MAX];
	va_list	ap;
	int	n;

	if (s->gone || s->closing)	/* nothing after a 421 or a 221 */
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 3)
		n = sizeof buf - 3;
	buf[n++] = '\r';
	buf[n++] = '\n';
	log_trace(TRACE_SMTP, "%016llx smtp out: %.*s",
	    (unsigned long long)s->id, n - 2, buf);
	if (bufferevent_write(s->bev, buf, n) == -1)
		s->gone = 1;
	else
		smtp_session_cork(s);
	if (strncmp(buf, "421", 3) == 0)
		s->closing = 1;
}

/* smtp_reply_error - a reply for a bad command; too many: 421 */
void
smtp_reply_error(struct smtp_session *s, const char *fmt, ...)
{
	char	buf[SMTP_REPLY_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	smtp_reply(s, "%s", buf);
	if (++s->errors >= s->l->limits.errors_max)
		smtp_reply(s, "421 4.7.0 %s Too many errors, closing "
		    "connection", s->l->hostname);
}

/* smtp_reply_host - a done() answer: CODE and TEXT, or DEF */
static void
smtp_reply_host(struct smtp_session *s, int code, const char *text,
    const char *def)
{
	char	safe[512];

	if (code < 200 || code > 599) {
		log_warnx("%016llx smtp host answered code %d",
		    (unsigned long long)s->id, code);
		code = 451;
		text = NULL;
	}
	if (text == NULL)
		text = def != NULL ? def : code < 500 ?
		    "4.3.0 Temporary failure" : "5.0.0 Failed";
	smtp_sanitize(safe, sizeof safe, text, strlen(text));
	smtp_reply(s, "%d %s", code, safe);
}

/* smtp_tx_end - the transaction is over: tx_abort if BEGUN */
static void
smtp_tx_end(struct smtp_session *s, int abort_it)
{
	struct smtp_xact	*x = s->x;

	if (x == NULL)
		return;
	if (x->fd != -1)
		close(x->fd);
	if (abort_it && x->begun && s->srv->hooks.tx_abort != NULL)
		s->srv->hooks.tx_abort(s->srv->arg, s, &x->tx);
	smtp_buf_free(&x->out);
	free(x);
	s->x = NULL;
	if (s->state != SMTP_S_GREETING)
		s->state = SMTP_S_HELO;
}

/* smtp_session_free - the end: session_end, then the memory */
void
smtp_session_free(struct smtp_session *s)
{
	struct smtp_server	*srv = s->srv;

	smtp_tx_end(s, 1);
	smtp_auth_free(s);
	smtp_session_uncork(s);
	TAILQ_REMOVE(&srv->sessions, s, entry);
	srv->nsessions--;
	if (srv->hooks.session_end != NULL)
		srv->hooks.session_end(srv->arg, s);
	log_event(s->id, "smtp", "disconnected", "address=%s", s->addr);
	smtp_tls_free(s);
	free(s);
}

/* smtp_session_settle - free the session when it is done with */
void
smtp_session_settle(struct smtp_session *s)
{
	if (s->busy || s->held || s->pending != SMTP_HOOK_NONE)
		return;
	if (s->gone || (s->closing &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) == 0))
		smtp_session_free(s);
}

/* smtp_session_resume - a hook answered: go on with the input, later
 * on the loop (the host may still be using the session pointer): in
 * the flush when the session is corked, else by the bufferevent */
void
smtp_session_resume(struct smtp_session *s)
{
	if (s->busy)
		return;		/* answered from inside the hook */
	if (s->bev != NULL && !s->gone && smtp_session_corkable(s)) {
		s->resume = 1;
		smtp_session_cork(s);
		return;
	}
	bufferevent_trigger(s->bev, EV_READ,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* smtp_done_check - a done() call matches the pending hook */
static int
smtp_done_check(struct smtp_session *s, enum smtp_hook h, const char *what)
{
	if (s->pending != h || s->x == NULL) {
		log_warnx("%016llx smtp %s without its hook pending",
		    (unsigned long long)s->id, what);
		return -1;
	}
	s->pending = SMTP_HOOK_NONE;
	return 0;
}

/* smtp_tx_begin_done - the host made (or refused) the message */
void
smtp_tx_begin_done(struct smtp_session *s, int code, uint32_t msgid,
    const char *text)
{
	if (smtp_done_check(s, SMTP_HOOK_TX_BEGIN, "tx_begin_done") == -1)
		return;
	if (code == 250) {
		s->x->begun = 1;
		s->x->tx.msgid = msgid;
		s->mails++;
		s->state = SMTP_S_MAIL;
		smtp_reply_host(s, code, text, "2.0.0 Ok");
	} else {
		smtp_reply_host(s, code, text, NULL);
		smtp_tx_end(s, 0);
	}
	if (s->closing)
		smtp_tx_end(s, 1);
	smtp_session_resume(s);
}

/* smtp_rcpt_done - the host accepted (or refused) a recipient */
void
smtp_rcpt_done(struct smtp_session *s, int code, const char *text)
{
	struct smtp_xact	*x = s->x;

	if (smtp_done_check(s, SMTP_HOOK_RCPT, "rcpt_done") == -1)
		return;
	if (code == 250) {
		if (x->tx.nrcpt++ == 0)
			x->first = x->rcpt.addr;
		smtp_reply_host(s, code, text,
		    "2.1.5 Destination address valid: Recipient ok");
	} else
		smtp_reply_host(s, code, text, NULL);
	if (s->closing)
		smtp_tx_end(s, 1);
	smtp_session_resume(s);
}

/* smtp_received - the Received: header, first line of the file */
static int
smtp_received(struct smtp_session *s)
{
	struct smtp_xact	*x = s->x;
	struct smtp_listen	*l = s->l;
	char			 buf[2048], date[64], from[600], rcpt[600];
	char			 auth[300], tls[256];
	struct tm		 tm;
	time_t			 now = time(NULL);
	int			 n;

	from[0] = rcpt[0] = '\0';
	if (!l->mask_src)
		snprintf(from, sizeof from, "from %s (%s [%s])\n\t",
		    s->helo, s->rdns[0] != '\0' ? s->rdns : "<unknown>",
		    s->addr);
	if (x->tx.nrcpt == 1)
		snprintf(rcpt, sizeof rcpt, "\n\tfor <%s@%s>",
		    x->first.user, x->first.domain);
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	smtp_tls_received(s, tls, sizeof tls);
	smtp_auth_received(s, auth, sizeof auth);
	/* RFC 3848: ESMTPS with TLS, ESMTPA authenticated, ESMTPSA both */
	n = snprintf(buf, sizeof buf, "Received: %sby %s (%s) with %s%s%s id "
	    "%08x%s%s%s;\n\t%s\n", from, l->hostname, l->product,
	    s->esmtp ? "ESMTP" : "SMTP", s->tls_io != NULL ? "S" : "",
	    s->auth_user[0] != '\0' ? "A" : "", x->tx.msgid, tls, auth, rcpt,
	    date);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	return smtp_buf_add(&x->out, buf, n);
}

/* smtp_completion - the Date: and Message-ID: lines a message without
 * them gets on a listener that completes headers, and the domain its
 * unqualified From/To/Cc addresses get (SMTP-22) */
static void
smtp_completion(struct smtp_session *s)
{
	struct smtp_data	*d = &s->x->data;
	struct tm		 tm;
	time_t			 now = time(NULL);
	char			 date[48];

	if (!s->l->complete_headers)
		return;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	snprintf(d->add_date, sizeof d->add_date, "Date: %s\n", date);
	snprintf(d->add_msgid, sizeof d->add_msgid,
	    "Message-ID: <%08x%08x@%s>\n", s->x->tx.msgid, arc4random(),
	    s->l->hostname);
	strlcpy(d->qualify, s->l->hostname, sizeof d->qualify);
}

/* smtp_data_begin_done - the host gave the body's file (354) or not */
void
smtp_data_begin_done(struct smtp_session *s, int code, int fd,
    const char *text)
{
	struct smtp_xact	*x = s->x;

	if (smtp_done_check(s, SMTP_HOOK_DATA_BEGIN, "data_begin_done")
	    == -1) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (code == 354 && fd != -1) {
		x->fd = fd;
		smtp_data_init(&x->data, s->l->limits.line_max,
		    s->l->limits.message_max);
		smtp_completion(s);
		if (s->l->masquerade && s->auth_user[0] != '\0' &&
		    x->tx.sender.user[0] != '\0')
			x->data.masquerade = &x->tx.sender;
		if (smtp_received(s) == -1) {
			smtp_reply(s, "421 4.3.0 Temporary failure");
		} else {
			smtp_reply(s, "354 Enter mail, end with \".\" on a "
			    "line by itself");
			s->state = SMTP_S_BODY;
		}
	} else {
		if (fd != -1)
			close(fd);
		smtp_reply_host(s, code == 354 ? 451 : code, text, NULL);
	}
	if (s->closing || s->gone)
		smtp_tx_end(s, 1);
	smtp_session_resume(s);
}

/* smtp_data_end_done - the host committed the message (or not) */
void
smtp_data_end_done(struct smtp_session *s, int code, const char *text)
{
	char	def[64];

	if (smtp_done_check(s, SMTP_HOOK_DATA_END, "data_end_done") == -1)
		return;
	snprintf(def, sizeof def, "2.0.0 %08x Message accepted for delivery",
	    s->x->tx.msgid);
	smtp_reply_host(s, code, text, def);
	if (code == 250)
		log_event(s->id, "smtp", "message", "msgid=%08x size=%lld "
		    "nrcpt=%zu proto=%s", s->x->tx.msgid, s->x->data.size,
		    s->x->tx.nrcpt, s->esmtp ? "ESMTP" : "SMTP");
	smtp_tx_end(s, 0);
	smtp_session_resume(s);
}

/* smtp_body_flush - write the body's buffer to its file */
static void
smtp_body_flush(struct smtp_xact *x)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < x->out.len && x->write_error == 0) {
		n = write(x->fd, x->out.data + off, x->out.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			x->write_error = n == 0 ? EIO : errno;
		else
			off += n;
	}
	x->out.len = 0;
}

/* smtp_body_refusal - why a complete body is refused: reply, log key */
static const char *
smtp_body_refusal(const struct smtp_xact *x, const char **reason)
{
	static const struct {
		unsigned int	 flag;
		const char	*reason, *reply;
	} why[] = {
		{ SMTP_DATA_TOO_BIG, "too-big", "554 5.3.4 Message too big" },
		{ SMTP_DATA_LOOP, "loop", "500 5.4.6 Loop detected" },
		{ SMTP_DATA_BADHDR, "folded-header", "550 5.7.1 Delivery not "
		    "authorized, message refused: Message is not RFC 2822 "
		    "compliant" },
		{ SMTP_DATA_BARE, "bare-cr-lf", "550 5.6.11 Bare CR or LF in "
		    "message, refused" },
	};
	size_t	i;

	if (x->data.oom) {
		*reason = "out-of-memory";
		return "451 4.3.0 Temporary failure: out of memory";
	}
	if (x->write_error != 0) {
		*reason = "write-error";
		return "452 4.3.1 Insufficient system storage";
	}
	for (i = 0; i < sizeof why / sizeof why[0]; i++)
		if (x->data.flags & why[i].flag) {
			*reason = why[i].reason;
			return why[i].reply;
		}
	return NULL;
}

/* smtp_body_end - CRLF.CRLF seen: refuse, or hand to data_end */
static void
smtp_body_end(struct smtp_session *s)
{
	struct smtp_xact	*x = s->x;
	const char		*reply, *reason;
	char			 err[128];

	smtp_body_flush(x);
	if (close(x->fd) == -1 && x->write_error == 0)
		x->write_error = errno;
	x->fd = -1;
	smtp_buf_free(&x->out);
	if ((reply = smtp_body_refusal(x, &reason)) == NULL) {
		s->state = SMTP_S_MAIL;
		s->pending = SMTP_HOOK_DATA_END;
		s->srv->hooks.data_end(s->srv->arg, s, &x->tx);
		return;
	}
	smtp_reply(s, "%s", reply);
	log_event(s->id, "smtp", "refused", "msgid=%08x size=%lld "
	    "reason=%s%s%s", x->tx.msgid, x->data.size, reason,
	    x->write_error ? " error=" : "", x->write_error ?
	    log_quote(err, sizeof err, strerror(x->write_error)) : "");
	smtp_tx_end(s, 1);
}

/* smtp_body_read - feed the input to the DATA machine; 1 to go on */
static int
smtp_body_read(struct smtp_session *s)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct smtp_xact	*x = s->x;
	struct evbuffer_iovec	 v;
	size_t			 n;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	n = smtp_data_feed(&x->data, v.iov_base, v.iov_len, &x->out);
	evbuffer_drain(in, n);
	if (x->out.len >= SMTP_BODY_FLUSH)
		smtp_body_flush(x);
	if (x->data.flags & SMTP_DATA_LINE) {
		smtp_reply(s, "500 5.0.0 Line too long");
		s->closing = 1;
		smtp_tx_end(s, 1);
		return 0;
	}
	if (x->data.done)
		smtp_body_end(s);
	return 1;
}

/* smtp_line_read - the next command line, NUL-terminated without its
 * LF, in BUF or malloc'd (*LINE); 0 none yet, 1 one, -1 too long */
static int
smtp_line_read(struct smtp_session *s, char *buf, size_t bufsz,
    char **line, size_t *len)
{
	struct evbuffer		*in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr	 p;
	size_t			 eol;

	p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
	if (p.pos == -1)
		return evbuffer_get_length(in) > s->l->limits.line_max + 1 ?
		    -1 : 0;
	if ((size_t)p.pos > s->l->limits.line_max + 1)
		return -1;
	*len = p.pos;
	*line = *len < bufsz ? buf : malloc(*len + 1);
	if (*line == NULL) {
		evbuffer_drain(in, *len + 1);
		return 1;
	}
	evbuffer_remove(in, *line, *len);
	evbuffer_drain(in, 1);
	(*line)[*len] = '\0';
	return 1;
}

/* smtp_line_check - a command line ends in CRLF and holds no CR/NUL */
static int
smtp_line_check(char *line, size_t len)
{
	if (len == 0 || line[len - 1] != '\r')
		return -1;
	line[--len] = '\0';
	if (memchr(line, '\r', len) != NULL || strlen(line) != len)
		return -1;
	return 0;
}

/* smtp_session_next - read and run one command; 0 when none is there */
static int
smtp_session_next(struct smtp_session *s)
{
	char	 buf[SMTP_CMD_STACK], *line = NULL;
	size_t	 len = 0;
	int	 r;

	if ((r = smtp_line_read(s, buf, sizeof buf, &line, &len)) == 0)
		return 0;
	if (r == -1) {
		smtp_reply(s, "500 5.0.0 Line too long");
		s->closing = 1;
		return 0;
	}
	if (line == NULL)
		smtp_reply(s, "421 4.3.0 Temporary failure: out of memory");
	else if (s->auth != NULL)	/* a password: never traced */
		smtp_auth_input(s, line, smtp_line_check(line, len) == -1);
	else if (smtp_line_check(line, len) == -1)
		smtp_reply_error(s, "500 5.5.2 Syntax error: a command line "
		    "must end with CRLF and hold no CR or NUL");
	else {
		log_trace(TRACE_SMTP, "%016llx smtp in: %s",
		    (unsigned long long)s->id, strncasecmp(line, "AUTH ", 5)
		    == 0 ? "AUTH ..." : line);
		smtp_session_command(s, line);
	}
	if (line != buf)
		free(line);
	return 1;
}

/* smtp_session_process - consume input while no hook is pending */
static void
smtp_session_process(struct smtp_session *s)
{
	if (s->busy)
		return;
	s->busy = 1;
	while (s->pending == SMTP_HOOK_NONE && !s->closing && !s->gone &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <
	    SMTP_OUTPUT_MAX) {
		if (s->state == SMTP_S_BODY ? !smtp_body_read(s) :
		    !smtp_session_next(s))
			break;
	}
	if (s->eof && s->pending == SMTP_HOOK_NONE &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <
	    SMTP_OUTPUT_MAX)
		s->closing = 1;		/* all its input is consumed */
	if (s->closing || s->gone) {
		bufferevent_disable(s->bev, EV_READ);
		if (s->pending == SMTP_HOOK_NONE)
			smtp_tx_end(s, 1);
	}
	s->busy = 0;
	smtp_session_settle(s);
}

/* smtp_session_on_read - input arrived (or a hook was answered) */
static void
smtp_session_on_read(struct bufferevent *bev, void *arg)
{
	smtp_session_process(arg);
}

/* smtp_session_on_write - output drained: go on with the input a
 * client that did not read its replies left waiting, or end */
static void
smtp_session_on_write(struct bufferevent *bev, void *arg)
{
	struct smtp_session	*s = arg;

	if (s->tls_io == NULL)
		bufferevent_disable(bev, EV_WRITE);	/* corked again */
	smtp_session_process(s);
}

/* smtp_session_on_event - EOF, error or timeout; after an EOF the
 * commands already received are still served (a pipelining client may
 * shut down its side after its last command) */
static void
smtp_session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session	*s = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		s->eof = 1;
		smtp_session_process(s);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    !s->closing) {
		smtp_reply(s, "421 4.4.2 %s Timeout exceeded",
		    s->l->hostname);
		bufferevent_disable(bev, EV_READ);
	} else
		s->gone = 1;
	if (s->pending == SMTP_HOOK_NONE)
		smtp_tx_end(s, 1);
	smtp_session_settle(s);
}

/* smtp_session_addr - the client's numeric address ("IPv6:" prefixed) */
static void
smtp_session_addr(struct smtp_session *s)
{
	const void	*a = NULL;
	char		*dst = s->addr;

	if (s->ss.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&s->ss)->sin_addr;
	else if (s->ss.ss_family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&s->ss)->sin6_addr;
		memcpy(s->addr, "IPv6:", 5);
		dst += 5;
	}
	if (a == NULL || inet_ntop(s->ss.ss_family, a, dst,
	    sizeof s->addr - (dst - s->addr)) == NULL)
		strlcpy(s->addr, "local", sizeof s->addr);
}

/* smtp_session_banner - the greeting, and the connected log line */
static void
smtp_session_banner(struct smtp_session *s)
{
	log_event(s->id, "smtp", "connected", "address=%s host=%s", s->addr,
	    s->rdns[0] != '\0' ? s->rdns : "<unknown>");
	smtp_reply(s, "220 %s ESMTP %s", s->l->hostname, s->l->product);
}

/* smtp_connect_done - the host found (or not) the client's name */
void
smtp_connect_done(struct smtp_session *s, const char *rdns, int fcrdns)
{
	size_t	i, len;

	if (s->pending != SMTP_HOOK_CONNECT) {
		log_warnx("%016llx smtp connect_done without its hook pending",
		    (unsigned long long)s->id);
		return;
	}
	s->pending = SMTP_HOOK_NONE;
	len = rdns != NULL ? strlen(rdns) : 0;
	/* a host name (letters, digits, '-', '_', '.') or nothing: it goes
	 * into a header and a log line */
	for (i = 0; i < len && len < sizeof s->rdns; i++)
		if (!isalnum((unsigned char)rdns[i]) && rdns[i] != '-' &&
		    rdns[i] != '_' && rdns[i] != '.')
			break;
	if (len > 0 && i == len && len < sizeof s->rdns) {
		memcpy(s->rdns, rdns, len + 1);
		s->fcrdns = fcrdns != 0;
	}
	if (!s->gone)
		smtp_session_banner(s);
	smtp_session_resume(s);
	smtp_session_settle(s);
}

/* smtp_session_start - a new client on FD: greet it (or refuse it) */
uint64_t
smtp_session_start(struct smtp_listen *l, int fd,
    const struct sockaddr_storage *ss, int over_limit)
{
	struct smtp_server	*srv = l->srv;
	struct smtp_session	*s;

	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (l->tls_mode != SMTP_TLS_SMTPS &&
	    (s->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)) {
		log_warn("smtp: new session");
		free(s);
		close(fd);
		return 0;
	}
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_WRITE);	/* replies corked */
	s->srv = srv;
	s->l = l;
	s->ss = *ss;
	s->id = srv->next_id++;
	smtp_session_addr(s);
	TAILQ_INSERT_TAIL(&srv->sessions, s, entry);
	srv->nsessions++;
	if (l->tls_mode == SMTP_TLS_SMTPS) {
		smtp_tls_accept(s, fd, over_limit);	/* then greets */
		return s->id;
	}
	smtp_session_bev_setup(s);
	smtp_session_greet(s, over_limit);
	return s->id;
}

/* smtp_session_bev_setup - s->bev (socket or TLS) serves the session */
void
smtp_session_bev_setup(struct smtp_session *s)
{
	struct smtp_listen	*l = s->l;
	struct timeval		 tv;

	tv.tv_sec = l->limits.timeout_ms / 1000;
	tv.tv_usec = (l->limits.timeout_ms % 1000) * 1000;
	bufferevent_setcb(s->bev, smtp_session_on_read, smtp_session_on_write,
	    smtp_session_on_event, s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_setwatermark(s->bev, EV_READ, 0,
	    l->limits.line_max + 2 > 16384 ? l->limits.line_max + 2 : 16384);
}

/* smtp_session_greet - 421 when OVER_LIMIT; else the greeting, once the
 * host's connect hook has found the client's name (SMTP-30) */
void
smtp_session_greet(struct smtp_session *s, int over_limit)
{
	struct smtp_listen	*l = s->l;
	struct smtp_server	*srv = s->srv;

	if (over_limit) {
		log_event(s->id, "smtp", "connected", "address=%s", s->addr);
		smtp_reply(s, "421 4.7.0 %s Too many connections, try again "
		    "later", l->hostname);
		smtp_session_settle(s);
		return;
	}
	bufferevent_enable(s->bev, EV_READ);
	if (srv->hooks.connect != NULL && (s->ss.ss_family == AF_INET ||
	    s->ss.ss_family == AF_INET6)) {
		/* the greeting waits for the name; input waits too */
		s->pending = SMTP_HOOK_CONNECT;
		s->busy = 1;
		srv->hooks.connect(srv->arg, s, &s->ss,
		    strncmp(s->addr, "IPv6:", 5) == 0 ? s->addr + 5 : s->addr);
		s->busy = 0;
		if (s->pending != SMTP_HOOK_CONNECT)
			smtp_session_settle(s);
		return;
	}
	smtp_session_banner(s);
}

/* ---- commands ---- */

/* smtp_cmd_helo - HELO / EHLO: identify, reset any transaction */
static void
smtp_cmd_helo(struct smtp_session *s, const char *arg, int esmtp)
{
	struct smtp_listen	*l = s->l;
	const char		*verb = esmtp ? "EHLO" : "HELO";

	size_t			 len = strlen(arg);

	while (len > 0 && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
		len--;			/* trailing blanks tolerated */
	if (len == 0) {
		smtp_reply_error(s, "501 5.5.4 Syntax: %s hostname", verb);
		return;
	}
	if (!smtp_parse_domain(arg, len)) {
		smtp_reply_error(s, "501 5.5.4 Invalid domain name");
		return;
	}
	smtp_tx_end(s, 1);
	memcpy(s->helo, arg, len);	/* len <= 255: a valid domain */
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	s->state = SMTP_S_HELO;
	smtp_reply(s, "250%c%s Hello %s [%s], pleased to meet you",
	    esmtp ? '-' : ' ', l->hostname, s->helo, s->addr);
	if (!esmtp)
		return;
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_reply(s, "250-SIZE %lld", l->limits.message_max);
	if (!l->no_dsn)
		smtp_reply(s, "250-DSN");
	smtp_tls_ehlo(s);
	smtp_reply(s, "250-PIPELINING");
	smtp_auth_ehlo(s);
	smtp_reply(s, "250 HELP");
}

/* smtp_cmd_arg_prefix - ARG starts with PFX ("FROM:"); after it */
static const char *
smtp_cmd_arg_prefix(const char *arg, const char *pfx)
{
	size_t	n = strlen(pfx);

	if (strncasecmp(arg, pfx, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

/* smtp_cmd_param_reply - the reply to a bad MAIL/RCPT parameter */
static void
smtp_cmd_param_reply(struct smtp_session *s, enum smtp_param_err e,
    const char *bad)
{
	switch (e) {
	case SMTP_PARAM_UNKNOWN:
		smtp_reply_error(s, "503 5.5.4 Unsupported option %s", bad);
		break;
	case SMTP_PARAM_TOO_BIG:
		smtp_reply(s, "552 5.3.4 Message size exceeds fixed maximum "
		    "message size");
		break;
	case SMTP_PARAM_NOTIFY:
		smtp_reply_error(s, "553 5.5.4 Invalid NOTIFY parameter");
		break;
	case SMTP_PARAM_ORCPT:
		smtp_reply_error(s, "553 5.5.4 Invalid ORCPT parameter");
		break;
	default:
		smtp_reply_error(s, "501 5.5.4 Invalid parameter %s", bad);
		break;
	}
}

/* smtp_tx_new - a transaction for sender FROM with MAIL params P */
static struct smtp_xact *
smtp_tx_new(struct smtp_session *s, const struct mailaddr *from,
    const struct smtp_mail_params *p)
{
	struct smtp_xact	*x;

	if ((x = calloc(1, sizeof *x)) == NULL)
		return NULL;
	x->fd = -1;
	x->tx.session_id = s->id;
	x->tx.ss = &s->ss;
	x->tx.helo = s->helo;
	x->tx.hostname = s->l->hostname;
	x->tx.tag = s->l->tag[0] != '\0' ? s->l->tag : NULL;
	x->tx.esmtp = s->esmtp;
	x->tx.rdns = s->rdns;
	x->tx.fcrdns = s->fcrdns;
	x->tx.sender = *from;
	x->tx.dsn_ret = p->dsn_ret;
	x->tx.auth_user = s->auth_user[0] != '\0' ? s->auth_user : NULL;
	memcpy(x->tx.dsn_envid, p->envid, sizeof x->tx.dsn_envid);
	return x;
}

/* smtp_cmd_mail - MAIL FROM:<path> [params] */
static void
smtp_cmd_mail(struct smtp_session *s, const char *arg)
{
	struct smtp_listen	*l = s->l;
	struct smtp_mail_params	 p;
	struct mailaddr		 from;
	struct smtp_xact	*x;
	enum smtp_param_err	 e;
	char			 bad[SMTP_ECHO_MAX];
	const char		*rest;

	if (s->state == SMTP_S_GREETING) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: Polite "
		    "people say HELO first");
		return;
	}
	if (s->x != NULL) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: "
		    "Transaction already in progress");
		return;
	}
	if (!smtp_auth_mail_ok(s))
		return;
	if ((arg = smtp_cmd_arg_prefix(arg, "FROM:")) == NULL) {
		smtp_reply_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (smtp_parse_path(arg, &rest, SMTP_PATH_NULL_OK, l->hostname,
	    &from) == -1 || (*rest != '\0' && *rest != ' ')) {
		smtp_reply_error(s, "553 5.1.0 Sender address syntax error");
		return;
	}
	if ((e = smtp_parse_mail_params(rest, l->no_dsn,
	    l->limits.message_max, &p, bad, sizeof bad)) != SMTP_PARAM_OK) {
		smtp_cmd_param_reply(s, e, bad);
		return;
	}
	if (s->mails >= l->limits.mails_max) {
		smtp_reply(s, "452 4.5.3 Too many messages sent");
		return;
	}
	if ((x = smtp_tx_new(s, &from, &p)) == NULL) {
		smtp_reply(s, "451 4.3.0 Temporary failure: out of memory");
		return;
	}
	s->x = x;
	s->pending = SMTP_HOOK_TX_BEGIN;
	s->srv->hooks.tx_begin(s->srv->arg, s, &x->tx);
}

/* smtp_cmd_rcpt - RCPT TO:<path> [params] */
static void
smtp_cmd_rcpt(struct smtp_session *s, const char *arg)
{
	struct smtp_xact	*x = s->x;
	struct smtp_rcpt_params	 p;
	enum smtp_param_err	 e;
	char			 bad[SMTP_ECHO_MAX];
	const char		*rest;

	if (x == NULL || !x->begun) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: Need MAIL "
		    "before RCPT");
		return;
	}
	if ((arg = smtp_cmd_arg_prefix(arg, "TO:")) == NULL) {
		smtp_reply_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (smtp_parse_path(arg, &rest, 0, s->l->hostname,
	    &x->rcpt.addr) == -1 || (*rest != '\0' && *rest != ' ')) {
		smtp_reply_error(s, "501 5.1.3 Recipient address syntax "
		    "error");
		return;
	}
	if ((e = smtp_parse_rcpt_params(rest, s->l->no_dsn, &p, bad,
	    sizeof bad)) != SMTP_PARAM_OK) {
		smtp_cmd_param_reply(s, e, bad);
		return;
	}
	if (x->tx.nrcpt >= s->l->limits.rcpt_max) {
		smtp_reply(s, "451 4.5.3 Too many recipients");
		return;
	}
	x->rcpt.dsn_notify = p.notify;
	x->rcpt.dsn_orcpt = p.orcpt;
	s->pending = SMTP_HOOK_RCPT;
	s->srv->hooks.rcpt(s->srv->arg, s, &x->tx, &x->rcpt);
}

/* smtp_cmd_data - DATA: ask the host for the body's file */
static void
smtp_cmd_data(struct smtp_session *s, const char *arg)
{
	if (s->x == NULL || !s->x->begun) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: Need MAIL "
		    "before DATA");
		return;
	}
	if (s->x->tx.nrcpt == 0) {
		smtp_reply_error(s, "503 5.5.1 Invalid command: No "
		    "recipient specified");
		return;
	}
	if (*arg != '\0') {
		smtp_reply_error(s, "501 5.5.4 Syntax: DATA takes no "
		    "parameter");
		return;
	}
	s->pending = SMTP_HOOK_DATA_BEGIN;
	s->srv->hooks.data_begin(s->srv->arg, s, &s->x->tx);
}

/* smtp_cmd_help - HELP: the commands served */
static void
smtp_cmd_help(struct smtp_session *s)
{
	smtp_reply(s, "214-2.0.0 This is %s", s->l->product);
	smtp_reply(s, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET "
	    "NOOP HELP QUIT");
	smtp_reply(s, "214 2.0.0 End of HELP info");
}

/* smtp_session_command - one command line (CRLF removed) */
static void
smtp_session_command(struct smtp_session *s, char *line)
{
	const char	*arg;
	enum smtp_verb	 verb = smtp_parse_verb(line, &arg);

	if (smtp_tls_refused(s, verb))
		return;
	switch (verb) {
	case SMTP_VERB_HELO:
		smtp_cmd_helo(s, arg, 0);
		break;
	case SMTP_VERB_EHLO:
		smtp_cmd_helo(s, arg, 1);
		break;
	case SMTP_VERB_MAIL:
		smtp_cmd_mail(s, arg);
		break;
	case SMTP_VERB_RCPT:
		smtp_cmd_rcpt(s, arg);
		break;
	case SMTP_VERB_DATA:
		smtp_cmd_data(s, arg);
		break;
	case SMTP_VERB_RSET:
		smtp_tx_end(s, 1);
		smtp_reply(s, "250 2.0.0 Reset state");
		break;
	case SMTP_VERB_NOOP:	/* arguments tolerated (SMTP-15) */
		smtp_reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_HELP:
		smtp_cmd_help(s);
		break;
	case SMTP_VERB_AUTH:
		smtp_auth_cmd(s, arg);
		break;
	case SMTP_VERB_STARTTLS:
		smtp_tls_cmd_starttls(s, arg);
		break;
	case SMTP_VERB_QUIT:
		smtp_tx_end(s, 1);
		smtp_reply(s, "221 2.0.0 Bye");
		s->closing = 1;
		break;
	default:	/* unknown, VRFY, EXPN (SMTP-04), WIZ */
		smtp_reply_error(s, "500 5.5.1 Invalid command: Command "
		    "unrecognized");
		break;
	}
}

void
smtp_session_set_arg(struct smtp_session *s, void *arg)
{
	s->host_arg = arg;
}

void *
smtp_session_arg(const struct smtp_session *s)
{
	return s->host_arg;
}
