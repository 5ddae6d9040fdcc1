/*
 * smtp_server_session_test.c -- smtp_server_session (smtp.h): a session
 * on an already connected socket, as the dispatcher opens for sendmail.
 *
 * The server runs on an event loop in this process; the test plays the
 * client on the other end of a socketpair, turning the loop without
 * blocking until each reply has come (bounded in turns).  Checked: the
 * greeting names the listener's host name, the client's address is
 * "local" (AF_UNIX) in the hooks, a whole transaction reaches the hooks
 * with the listener's tag, a second session for the same listener is
 * served alongside (the server counts both), pause does not stop a
 * handed-in session, a listener the server would refuse gives -1 with
 * the descriptor closed, and smtp_server_free releases it all.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "smtp.h"
#include "test.h"

#define TURNS_MAX	2000

static struct {
	struct event_base	*base;
	int			 family;	/* seen by tx_begin */
	char			 tag[64];
	char			 sender[600];
	int			 data_end;
	int			 ended;
} t;

static void
hook_tx_begin(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	t.family = tx->ss != NULL ? tx->ss->ss_family : -1;
	snprintf(t.tag, sizeof t.tag, "%s", tx->tag ? tx->tag : "");
	snprintf(t.sender, sizeof t.sender, "%s@%s", tx->sender.user,
	    tx->sender.domain);
	smtp_tx_begin_done(s, 250, 0x1234, NULL);
}

static void
hook_rcpt(void *arg, struct smtp_session *s, const struct smtp_tx *tx,
    const struct smtp_rcpt *r)
{
	smtp_rcpt_done(s, 250, NULL);
}

static void
hook_data_begin(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	FILE	*f = tmpfile();
	int	 fd = f ? dup(fileno(f)) : -1;

	if (f)
		fclose(f);
	smtp_data_begin_done(s, fd == -1 ? 451 : 354, fd, NULL);
}

static void
hook_data_end(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	t.data_end++;
	smtp_data_end_done(s, 250, NULL);
}

static void
hook_tx_abort(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
}

static void
hook_session_end(void *arg, struct smtp_session *s)
{
	t.ended++;
}

static const struct smtp_hooks hooks = {
	hook_tx_begin, hook_rcpt, hook_data_begin, hook_data_end,
	hook_tx_abort, hook_session_end, NULL, NULL
};

/* reply - turn the loop until a final reply line arrives on FD; its
 * code, or -1 (closed, or no reply in TURNS_MAX turns) */
static int
reply(int fd, char *buf, size_t size)
{
	size_t	len = 0;
	ssize_t	n;
	char	*line;
	int	turn;

	for (turn = 0; turn < TURNS_MAX; turn++) {
		event_base_loop(t.base, EVLOOP_NONBLOCK);
		n = recv(fd, buf + len, size - len - 1, MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		/* the last complete line: "NNN text" ends the reply */
		for (line = buf; len > 0 && strchr(line, '\n') != NULL;) {
			if (strlen(line) > 3 && line[3] == ' ')
				return atoi(line);
			line = strchr(line, '\n') + 1;
		}
		if (n < 0)
			usleep(1000);
	}
	return -1;
}

static int
cmd(int fd, const char *line, char *buf, size_t size)
{
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		return -1;
	return reply(fd, buf, size);
}

/* session - a session handed in as L; the client's end */
static int
session(struct smtp_server *srv, const struct smtp_listener *l)
{
	struct sockaddr_storage	ss;
	int			sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	if (smtp_server_session(srv, sv[0], l, &ss) == 0) {
		close(sv[1]);
		return -1;
	}
	return sv[1];
}

int
main(void)
{
	struct smtp_listener	 l = { .hostname = "mx.example.test",
				       .tag = "LOCAL", .local = 1 };
	struct smtp_listener	 bad = { .hostname = NULL };
	struct smtp_server	*srv;
	char			 buf[4096];
	int			 a, b, sv[2];

	t.base = event_base_new();
	srv = smtp_server_new(t.base, &hooks, NULL);
	CHECK(srv != NULL, "server");

	a = session(srv, &l);
	CHECK(a != -1, "a session handed in");
	CHECK(reply(a, buf, sizeof buf) == 220 &&
	    strstr(buf, "220 mx.example.test ESMTP") == buf,
	    "greeting with the listener's host name");
	CHECK(cmd(a, "EHLO localhost\r\n", buf, sizeof buf) == 250 &&
	    strstr(buf, "[local]") != NULL, "EHLO: the client is local");
	CHECK(cmd(a, "MAIL FROM:<u@example.test>\r\n", buf, sizeof buf) ==
	    250, "MAIL");
	CHECK(t.family == AF_UNIX && strcmp(t.tag, "LOCAL") == 0 &&
	    strcmp(t.sender, "u@example.test") == 0,
	    "the hooks see AF_UNIX, the tag and the sender");
	CHECK(cmd(a, "RCPT TO:<r@example.test>\r\n", buf, sizeof buf) ==
	    250, "RCPT");
	CHECK(cmd(a, "DATA\r\n", buf, sizeof buf) == 354, "DATA");
	CHECK(cmd(a, "Subject: x\r\n\r\nbody\r\n.\r\n", buf, sizeof buf) ==
	    250 && t.data_end == 1, "end of data reaches the host");

	/* a second session while the first is open, the server paused */
	smtp_server_pause(srv);
	b = session(srv, &l);
	CHECK(b != -1 && reply(b, buf, sizeof buf) == 220,
	    "a second session, paused server: greeted");
	CHECK(smtp_server_sessions(srv) == 2 &&
	    smtp_server_listener_sessions(srv, &l) == 2 &&
	    smtp_server_listener_sessions(srv, &bad) == 0,
	    "two sessions counted, for that listener");
	CHECK(cmd(b, "QUIT\r\n", buf, sizeof buf) == 221, "QUIT");
	close(b);
	CHECK(cmd(a, "QUIT\r\n", buf, sizeof buf) == 221, "QUIT first");
	close(a);
	(void)reply(a, buf, sizeof buf);	/* turn the loop: both end */
	CHECK(t.ended == 2, "both sessions ended");

	/* a listener the server refuses: -1, the descriptor closed */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	errno = 0;
	CHECK(smtp_server_session(srv, sv[0], &bad, NULL) == 0 &&
	    errno == EINVAL, "no host name: 0, EINVAL");
	CHECK(fcntl(sv[0], F_GETFD) == -1 && errno == EBADF,
	    "the refused descriptor is closed");
	close(sv[1]);

	smtp_server_free(&srv);
	CHECK(srv == NULL, "server freed");
	event_base_free(t.base);
	return test_done();
}
