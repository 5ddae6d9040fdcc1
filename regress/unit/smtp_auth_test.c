/*
 * smtp_auth_test.c -- SMTP AUTH in the SMTP library (smtp_auth.c; AUTH-01
 * to 03, 07, 08; LSN-13/22/23; SEC-08/15): the decoders, then real
 * sessions on socketpairs served by the library on this process's event
 * loop, the test playing the client (every wait bounded in turns).
 *
 * The session's "secure" flag stands for TLS, which this branch lacks:
 * the test sets it as the TLS layer will.  The host's auth hook knows
 * alice/secret (1), "tmp" (-1: cannot tell), anyone else (0).  Checked:
 * AUTH is neither advertised nor accepted on a listener without auth or
 * on a session not secure; every refusal's reply; PLAIN with an initial
 * response and after "334 "; LOGIN's two challenges; "*"; bad base64; a
 * 20 KB response; a bad line inside the exchange; the failure delayed by
 * a timer (measured: above 0, below 1 s) and counted toward errors_max;
 * 421 on "cannot tell"; `auth` refusing MAIL before AUTH and letting it
 * through after; the user given to the hooks (tx.auth_user) and to the
 * Received header (ESMTPA, received-auth); masquerade's From:.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_util.h"
#include "smtp.h"
#include "smtp_auth.h"
#include "smtp_int.h"
#include "test.h"

#define TURNS_MAX	5000	/* of at most ~1 ms each */

static struct {
	struct event_base	*base;
	struct smtp_server	*srv;
	char			 auth_user[256];	/* seen by tx_begin */
	int			 nauth;			/* auth hook calls */
	char			 last_pass[64];
	char			 body[64];		/* the body's file */
	int			 ended;
} t;

static void
hook_tx_begin(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
	snprintf(t.auth_user, sizeof t.auth_user, "%s",
	    tx->auth_user != NULL ? tx->auth_user : "(none)");
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
	int	fd;

	snprintf(t.body, sizeof t.body, "/tmp/smtp_auth_test.XXXXXX");
	fd = mkstemp(t.body);
	smtp_data_begin_done(s, fd == -1 ? 451 : 354, fd, NULL);
}

static void
hook_data_end(void *arg, struct smtp_session *s, const struct smtp_tx *tx)
{
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

/* hook_auth_later - the answer for "slow", from the loop */
static void
hook_auth_later(evutil_socket_t fd, short ev, void *arg)
{
	smtp_auth_done(arg, 1);
}

static void
hook_auth(void *arg, struct smtp_session *s, const char *user,
    const char *pass)
{
	struct timeval	tv = { 0, 50000 };

	t.nauth++;
	snprintf(t.last_pass, sizeof t.last_pass, "%s", pass);
	if (strcmp(user, "slow") == 0)
		event_base_once(t.base, -1, EV_TIMEOUT, hook_auth_later, s, &tv);
	else if (strcmp(user, "tmp") == 0)
		smtp_auth_done(s, -1);
	else
		smtp_auth_done(s, strcmp(user, "alice") == 0 &&
		    strcmp(pass, "secret") == 0);
}

static const struct smtp_hooks hooks = {
	.tx_begin = hook_tx_begin, .rcpt = hook_rcpt,
	.data_begin = hook_data_begin, .data_end = hook_data_end,
	.tx_abort = hook_tx_abort, .session_end = hook_session_end,
	.auth = hook_auth
};

/* reply - turn the loop until a final reply line arrives on FD; its
 * code, or -1 (closed, or nothing in TURNS_MAX turns) */
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
	size_t	off = 0, len = strlen(line);
	ssize_t	n;
	int	turn;

	/* a long line may not fit the socket at once: feed it as read */
	for (turn = 0; off < len && turn < TURNS_MAX; turn++) {
		n = send(fd, line + off, len - off, MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else
			usleep(1000);
		event_base_loop(t.base, EVLOOP_NONBLOCK);
	}
	if (off < len)
		return -1;
	return reply(fd, buf, size);
}

/* closed - the server closed FD (EOF within the bound) */
static int
closed(int fd)
{
	char	c;
	int	turn;
	ssize_t	n;

	for (turn = 0; turn < TURNS_MAX; turn++) {
		event_base_loop(t.base, EVLOOP_NONBLOCK);
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n < 0)
			usleep(1000);
	}
	return 0;
}

/* session - a session as listener L, secure or not; the client's end,
 * its greeting read */
static int
session(const struct smtp_listener *l, int secure)
{
	struct sockaddr_storage	 ss;
	struct smtp_session	*s;
	char			 buf[512];
	uint64_t		 id;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	if ((id = smtp_server_session(t.srv, sv[0], l, &ss)) == 0) {
		close(sv[1]);
		return -1;
	}
	TAILQ_FOREACH(s, &t.srv->sessions, entry)	/* as TLS will */
		if (s->id == id)
			smtp_session_set_secure(s, secure);
	if (reply(sv[1], buf, sizeof buf) != 220) {
		close(sv[1]);
		return -1;
	}
	return sv[1];
}

/* b64 - base64 of LEN bytes of S, in a static buffer */
static const char *
b64(const char *s, size_t len)
{
	static char	out[256];

	if (api_base64_encode((const unsigned char *)s, len, out,
	    sizeof out) < 0)
		return "";
	return out;
}

/* line - "FMT\r\n" with ARG, in a static buffer */
static const char *
line(const char *fmt, const char *arg)
{
	static char	out[512];

	snprintf(out, sizeof out, fmt, arg);
	return out;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_decoders(void)
{
	char		 buf[SMTP_AUTH_DECODED_MAX + 1], user[SMTP_AUTH_USER_MAX];
	char		 pass[SMTP_AUTH_PASS_MAX], big[SMTP_AUTH_LINE_MAX + 2];
	size_t		 len;

	CHECK(smtp_auth_decode("AGFsaWNlAHNlY3JldA==", buf, sizeof buf, &len)
	    == SMTP_AUTH_OK && len == 13 && memcmp(buf, "\0alice\0secret",
	    13) == 0, "decode: PLAIN's response");
	CHECK(smtp_auth_decode("=", buf, sizeof buf, &len) == SMTP_AUTH_OK &&
	    len == 0, "decode: \"=\" is empty");
	CHECK(smtp_auth_decode("*", buf, sizeof buf, &len) ==
	    SMTP_AUTH_CANCEL, "decode: \"*\" cancels");
	CHECK(smtp_auth_decode("!!!", buf, sizeof buf, &len) ==
	    SMTP_AUTH_BASE64, "decode: bad characters");
	CHECK(smtp_auth_decode("YW J j", buf, sizeof buf, &len) ==
	    SMTP_AUTH_BASE64, "decode: blanks inside");
	CHECK(smtp_auth_decode("Y", buf, sizeof buf, &len) ==
	    SMTP_AUTH_BASE64, "decode: a lone sextet");
	CHECK(smtp_auth_decode("", buf, sizeof buf, &len) ==
	    SMTP_AUTH_BASE64, "decode: empty line");
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(smtp_auth_decode(big, buf, sizeof buf, &len) ==
	    SMTP_AUTH_TOO_LONG, "decode: above 12288 characters");
	big[SMTP_AUTH_LINE_MAX] = '\0';
	CHECK(smtp_auth_decode(big, buf, sizeof buf, &len) == SMTP_AUTH_OK &&
	    len == SMTP_AUTH_DECODED_MAX, "decode: 12288 characters fit");

	CHECK(smtp_auth_plain("\0alice\0secret", 13, user, pass) ==
	    SMTP_AUTH_OK && strcmp(user, "alice") == 0 &&
	    strcmp(pass, "secret") == 0, "plain: no authzid");
	CHECK(smtp_auth_plain("alice\0alice\0secret", 18, user, pass) ==
	    SMTP_AUTH_OK, "plain: authzid = user");
	CHECK(smtp_auth_plain("bob\0alice\0secret", 16, user, pass) ==
	    SMTP_AUTH_REFUSED && pass[0] == '\0',
	    "plain: authzid of someone else refused, password wiped");
	CHECK(smtp_auth_plain("alice", 5, user, pass) == SMTP_AUTH_MALFORMED,
	    "plain: no NUL");
	CHECK(smtp_auth_plain("\0alice", 6, user, pass) ==
	    SMTP_AUTH_MALFORMED, "plain: one NUL");
	CHECK(smtp_auth_plain("\0alice\0se\0cret", 14, user, pass) ==
	    SMTP_AUTH_REFUSED, "plain: a NUL in the password");
	CHECK(smtp_auth_plain("\0\0secret", 8, user, pass) ==
	    SMTP_AUTH_REFUSED, "plain: empty user");
	CHECK(smtp_auth_plain("\0alice\0", 7, user, pass) ==
	    SMTP_AUTH_REFUSED, "plain: empty password");
	CHECK(smtp_auth_plain("\0al\nice\0secret", 14, user, pass) ==
	    SMTP_AUTH_REFUSED, "plain: a control character in the user");
	CHECK(smtp_auth_field("alice@example.org", 17, 1, user) ==
	    SMTP_AUTH_OK && strcmp(user, "alice@example.org") == 0,
	    "field: a user with @");
	memset(buf, 'u', 300);
	CHECK(smtp_auth_field(buf, 300, 1, user) == SMTP_AUTH_REFUSED,
	    "field: a 300-byte user");
	CHECK(smtp_auth_field(buf, 300, 0, pass) == SMTP_AUTH_OK,
	    "field: a 300-byte password");
}

/* test_not_offered - no auth, or not secure: neither said nor taken */
static void
test_not_offered(void)
{
	static struct smtp_listener none = { .hostname = "mx.example.test" };
	static struct smtp_listener opt = { .hostname = "mx.example.test",
				       .auth = SMTP_AUTH_OPTIONAL };
	static struct smtp_listener req = { .hostname = "mx.example.test",
				       .auth = SMTP_AUTH_REQUIRE };
	char			 buf[4096];
	int			 fd;

	fd = session(&none, 1);
	CHECK(cmd(fd, "EHLO c.example\r\n", buf, sizeof buf) == 250 &&
	    strstr(buf, "AUTH") == NULL, "no auth: EHLO without AUTH");
	CHECK(cmd(fd, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", buf, sizeof buf)
	    == 503 && strstr(buf, "503 5.5.1") != NULL && t.nauth == 0,
	    "no auth: AUTH -> 503, the host never asked");
	close(fd);

	fd = session(&opt, 0);
	CHECK(cmd(fd, "EHLO c.example\r\n", buf, sizeof buf) == 250 &&
	    strstr(buf, "AUTH") == NULL, "not secure: EHLO without AUTH");
	CHECK(cmd(fd, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", buf, sizeof buf)
	    == 503 && strstr(buf, "secure channel") != NULL && t.nauth == 0,
	    "not secure: AUTH -> 503 naming the secure channel");
	CHECK(cmd(fd, "MAIL FROM:<a@example.test>\r\n", buf, sizeof buf) ==
	    250 && strcmp(t.auth_user, "(none)") == 0,
	    "auth-optional: anonymous MAIL accepted, no user");
	close(fd);

	fd = session(&req, 0);
	CHECK(cmd(fd, "EHLO c.example\r\n", buf, sizeof buf) == 250,
	    "auth required, not secure: EHLO");
	CHECK(cmd(fd, "MAIL FROM:<a@example.test>\r\n", buf, sizeof buf) ==
	    530 && strstr(buf, "530 5.5.1 Invalid command: Must issue an "
	    "AUTH command first") != NULL, "auth required: MAIL -> 530");
	close(fd);
}

/* test_exchange - the replies of one secure session, auth required */
static void
test_exchange(void)
{
	static struct smtp_listener req = { .hostname = "mx.example.test",
				       .auth = SMTP_AUTH_REQUIRE,
				       .received_auth = 1,
				       .limits.errors_max = 50 };
	char			 buf[4096], *big;
	double			 t0, dt;
	int			 fd, code;
	FILE			*f;

	fd = session(&req, 1);
	CHECK(cmd(fd, "AUTH PLAIN\r\n", buf, sizeof buf) == 503 &&
	    strstr(buf, "HELO first") != NULL, "AUTH before EHLO -> 503");
	CHECK(cmd(fd, "EHLO c.example\r\n", buf, sizeof buf) == 250 &&
	    strstr(buf, "250-AUTH PLAIN LOGIN\r\n") != NULL,
	    "secure: EHLO says AUTH PLAIN LOGIN");
	CHECK(cmd(fd, "MAIL FROM:<a@example.test>\r\n", buf, sizeof buf) ==
	    530, "MAIL before AUTH -> 530");
	CHECK(cmd(fd, "AUTH\r\n", buf, sizeof buf) == 501 &&
	    strstr(buf, "501 5.5.4") != NULL, "AUTH without mechanism -> 501");
	CHECK(cmd(fd, "AUTH CRAM-MD5\r\n", buf, sizeof buf) == 504 &&
	    strstr(buf, "504 5.7.4") != NULL &&
	    strstr(buf, "AUTH method \"CRAM-MD5\" not supported") != NULL,
	    "AUTH CRAM-MD5 -> 504 5.7.4 naming it");
	CHECK(cmd(fd, "AUTH PLAIN !!!\r\n", buf, sizeof buf) == 501 &&
	    strstr(buf, "501 5.5.2") != NULL, "bad base64 -> 501 5.5.2");
	CHECK(cmd(fd, "AUTH PLAIN\r\n", buf, sizeof buf) == 334 &&
	    strcmp(buf, "334 \r\n") == 0, "PLAIN without response -> \"334 \"");
	CHECK(cmd(fd, "*\r\n", buf, sizeof buf) == 501 &&
	    strstr(buf, "501 5.7.0") != NULL, "\"*\" cancels -> 501");
	CHECK(cmd(fd, "AUTH PLAIN\r\n", buf, sizeof buf) == 334,
	    "PLAIN again");
	t0 = now();
	code = cmd(fd, line("%s\r\n", b64("\0alice\0wrong", 12)), buf,
	    sizeof buf);
	dt = now() - t0;
	CHECK(code == 535 && strstr(buf, "535 5.7.8 Authentication failed")
	    != NULL && strcmp(t.last_pass, "wrong") == 0,
	    "a wrong password -> 535 5.7.8");
	CHECK(dt > 0.05 && dt < 1.0, "the failure came after a delay "
	    "above 0 and below 1 s");
	printf("# failure delay %.3f s\n", dt);
	CHECK(cmd(fd, "MAIL FROM:<a@example.test>\r\n", buf, sizeof buf) ==
	    530, "a failed AUTH grants nothing: MAIL -> 530");
	CHECK(cmd(fd, "AUTH PLAIN =\r\n", buf, sizeof buf) == 501,
	    "PLAIN with an empty initial response -> 501");

	big = malloc(20 * 1024 + 16);
	memset(big, 'A', 20 * 1024);
	memcpy(big + 20 * 1024, "\r\n", 3);
	CHECK(cmd(fd, "AUTH LOGIN\r\n", buf, sizeof buf) == 334 &&
	    strcmp(buf, "334 VXNlcm5hbWU6\r\n") == 0,
	    "LOGIN -> 334 VXNlcm5hbWU6");
	CHECK(cmd(fd, big, buf, sizeof buf) == 500 &&
	    strstr(buf, "500 5.5.6") != NULL, "a 20 KB response -> 500 5.5.6");
	memcpy(big, "AUTH PLAIN ", 11);
	CHECK(cmd(fd, big, buf, sizeof buf) == 500,
	    "a 20 KB initial response -> 500 5.5.6");
	free(big);
	CHECK(cmd(fd, "AUTH LOGIN\r\n", buf, sizeof buf) == 334, "LOGIN");
	CHECK(cmd(fd, "YWxp\rY2U=\r\n", buf, sizeof buf) == 501 &&
	    strstr(buf, "501 5.5.2") != NULL,
	    "a CR inside a response ends the exchange -> 501");
	CHECK(cmd(fd, "NOOP\r\n", buf, sizeof buf) == 250,
	    "the next line is a command again");

	/* a fresh session for the success */
	close(fd);
	fd = session(&req, 1);
	(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
	CHECK(cmd(fd, "AUTH LOGIN\r\n", buf, sizeof buf) == 334, "LOGIN");
	CHECK(cmd(fd, "YWxpY2U=\r\n", buf, sizeof buf) == 334 &&
	    strcmp(buf, "334 UGFzc3dvcmQ6\r\n") == 0,
	    "LOGIN user -> 334 UGFzc3dvcmQ6");
	CHECK(cmd(fd, "c2VjcmV0\r\n", buf, sizeof buf) == 235 &&
	    strstr(buf, "235 2.0.0") != NULL, "LOGIN password -> 235 2.0.0");
	CHECK(cmd(fd, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", buf, sizeof buf)
	    == 503 && strstr(buf, "Already authenticated") != NULL,
	    "a second AUTH -> 503 Already authenticated");
	CHECK(cmd(fd, "EHLO c.example\r\n", buf, sizeof buf) == 250 &&
	    strstr(buf, "AUTH") == NULL, "authenticated: AUTH no more said");
	CHECK(cmd(fd, "MAIL FROM:<alice@example.test>\r\n", buf, sizeof buf)
	    == 250 && strcmp(t.auth_user, "alice") == 0,
	    "after AUTH: MAIL accepted, the hooks see user alice");
	(void)cmd(fd, "RCPT TO:<r@example.test>\r\n", buf, sizeof buf);
	(void)cmd(fd, "DATA\r\n", buf, sizeof buf);
	CHECK(cmd(fd, "Subject: x\r\n\r\nbody\r\n.\r\n", buf, sizeof buf) ==
	    250, "the message is accepted");
	buf[0] = '\0';
	if ((f = fopen(t.body, "r")) != NULL) {
		buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
		fclose(f);
	}
	unlink(t.body);
	CHECK(strstr(buf, "with ESMTPA id 00001234 (auth=yes user=alice)") !=
	    NULL, "Received: ESMTPA and received-auth's auth=yes user=alice");
	close(fd);
}

/* test_outcomes - transaction, tempfail, errors_max */
static void
test_outcomes(void)
{
	static struct smtp_listener opt = { .hostname = "mx.example.test",
				       .auth = SMTP_AUTH_OPTIONAL,
				       .limits.errors_max = 2 };
	char			 buf[4096];
	int			 fd;

	fd = session(&opt, 1);
	(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
	CHECK(cmd(fd, "MAIL FROM:<a@example.test>\r\n", buf, sizeof buf) ==
	    250, "auth-optional: MAIL without AUTH");
	CHECK(cmd(fd, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", buf, sizeof buf)
	    == 503 && strstr(buf, "transaction") != NULL,
	    "AUTH inside a transaction -> 503");
	CHECK(cmd(fd, "RSET\r\n", buf, sizeof buf) == 250, "RSET");
	CHECK(cmd(fd, line("AUTH PLAIN %s\r\n", b64("\0tmp\0x", 6)), buf,
	    sizeof buf) == 421 && strstr(buf, "421 4.7.0") != NULL,
	    "the host cannot tell -> 421 4.7.0");
	CHECK(closed(fd), "and the session closes");
	close(fd);

	fd = session(&opt, 1);
	(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
	CHECK(cmd(fd, line("AUTH PLAIN %s\r\n", b64("\0bob\0x", 6)), buf,
	    sizeof buf) == 535, "first failure");
	CHECK(cmd(fd, line("AUTH PLAIN %s\r\n", b64("\0bob\0y", 6)), buf,
	    sizeof buf) == 535 && (strstr(buf, "421 4.7.0") != NULL ||
	    reply(fd, buf, sizeof buf) == 421), "second failure: errors_max "
	    "reached -> 421");
	CHECK(closed(fd), "and the session closes");
	close(fd);

	/* the client leaves during the delay: no crash, the session ends */
	fd = session(&opt, 1);
	(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
	t.ended = 0;
	CHECK(write(fd, "AUTH PLAIN AGJvYgB4\r\n", 21) == 21, "AUTH sent");
	close(fd);
	for (int i = 0; i < TURNS_MAX && t.ended == 0; i++) {
		event_base_loop(t.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK(t.ended == 1, "a client gone during the delay: session ended");

	/* the host answers later, from the loop */
	fd = session(&opt, 1);
	(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
	CHECK(cmd(fd, line("AUTH PLAIN %s\r\n", b64("\0slow\0x", 7)), buf,
	    sizeof buf) == 235, "an answer from the loop -> 235");
	close(fd);
	/* ... and the client leaves before it: freed when it comes */
	fd = session(&opt, 1);
	(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
	t.ended = 0;
	snprintf(buf, sizeof buf, "AUTH PLAIN %s\r\n", b64("\0slow\0x", 7));
	CHECK(write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf),
	    "AUTH sent");
	close(fd);
	for (int i = 0; i < TURNS_MAX && t.ended == 0; i++) {
		event_base_loop(t.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK(t.ended == 1, "a client gone before the host's answer: "
	    "session ended once answered");
}

/* test_masquerade - From: becomes MAIL FROM, authenticated only */
static void
test_masquerade(void)
{
	static struct smtp_listener	 masq = { .hostname = "mx.example.test",
					       .auth = SMTP_AUTH_OPTIONAL,
					       .masquerade = 1 };
	static const char		*body = "From: Evil <x@evil.example>,\r\n"
	    "\tfolded@evil.example\r\nSubject: s\r\n\r\nFrom: body\r\n.\r\n";
	char				 buf[4096];
	int				 fd, i;
	FILE				*f;

	for (i = 0; i < 2; i++) {
		fd = session(&masq, 1);
		(void)cmd(fd, "EHLO c.example\r\n", buf, sizeof buf);
		if (i == 0)
			CHECK(cmd(fd, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", buf,
			    sizeof buf) == 235, "masquerade: authenticated");
		(void)cmd(fd, "MAIL FROM:<alice@example.test>\r\n", buf,
		    sizeof buf);
		(void)cmd(fd, "RCPT TO:<r@example.test>\r\n", buf, sizeof buf);
		(void)cmd(fd, "DATA\r\n", buf, sizeof buf);
		CHECK(cmd(fd, body, buf, sizeof buf) == 250,
		    "masquerade: accepted");
		buf[0] = '\0';
		if ((f = fopen(t.body, "r")) != NULL) {
			buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
			fclose(f);
		}
		unlink(t.body);
		if (i == 0)
			CHECK(strstr(buf, "\nFrom: alice@example.test\n"
			    "Subject: s\n\nFrom: body\n") != NULL &&
			    strstr(buf, "evil") == NULL, "masquerade: the From: "
			    "header, folded part too, is the MAIL FROM; the "
			    "body untouched");
		else
			CHECK(strstr(buf, "From: Evil <x@evil.example>,\n"
			    "\tfolded@evil.example\n") != NULL,
			    "masquerade: an anonymous session's From: kept");
		close(fd);
	}
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_decoders();
	t.base = event_base_new();
	t.srv = smtp_server_new(t.base, &hooks, NULL);
	CHECK(t.srv != NULL, "server");
	test_not_offered();
	test_exchange();
	test_outcomes();
	test_masquerade();
	smtp_server_free(&t.srv);
	event_base_free(t.base);
	return test_done();
}
