/*
 * smtp_auth.c -- SMTP AUTH on the server side (RFC 4954): the PLAIN
 * (RFC 4616) and LOGIN mechanisms, their decoders, the host's verdict
 * through the auth hook, the delayed failure, and what a session
 * carries once authenticated.
 *
 * Part of the SMTP library (smtp.h), on the host's event loop.  AUTH
 * is advertised and accepted only on a listener with auth set and a
 * session declared secure; a failed, cancelled or aborted exchange
 * grants nothing.  Replies: 503 5.5.1 when AUTH is not offered, before
 * HELO, when already authenticated or inside a transaction; 501 5.5.4
 * without a mechanism; 504 5.7.4 for another mechanism; 334 challenges;
 * 501 5.7.0 for "*"; 500 5.5.6 for a response above 12288 bytes;
 * 501 5.5.2 for bad base64 or a PLAIN response without its fields;
 * 235 2.0.0 on success; 535 5.7.8 after a random delay below one second
 * (a timer; no input is read meanwhile) on failure; 421 4.7.0 when the
 * host cannot tell.  Each refusal counts as an error (errors_max).
 * What it must never do: log, trace or keep a password (the buffer is
 * wiped once the host has it), or block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "api_util.h"
#include "log.h"
#include "smtp_auth.h"
#include "smtp_int.h"

#define SMTP_AUTH_DELAY_MIN_MS	100	/* the failure's delay: from ... */
#define SMTP_AUTH_DELAY_MAX_MS	900	/* ... to, in milliseconds */

enum smtp_auth_mech { SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN };

/* one exchange, from AUTH to its reply */
struct smtp_auth {
	enum smtp_auth_mech	 mech;
	int			 step;		/* LOGIN: 0 user, 1 password */
	int			 asked;		/* the host has it */
	struct event		*delay;		/* the failure's timer */
	char			 user[SMTP_AUTH_USER_MAX];
	char			 pass[SMTP_AUTH_PASS_MAX];
	char			 buf[SMTP_AUTH_DECODED_MAX + 1];
};

/* ---- decoders (pure) ---- */

/* smtp_auth_decode - a base64 response; "=" is empty */
enum smtp_auth_status
smtp_auth_decode(const char *line, char *dst, size_t dstsz, size_t *len)
{
	size_t	n = strlen(line);
	int	r;

	*len = 0;
	if (dstsz == 0)
		return SMTP_AUTH_TOO_LONG;
	dst[0] = '\0';
	if (n > SMTP_AUTH_LINE_MAX)
		return SMTP_AUTH_TOO_LONG;
	if (strcmp(line, "*") == 0)
		return SMTP_AUTH_CANCEL;
	if (strcmp(line, "=") == 0)
		return SMTP_AUTH_OK;
	if (n == 0 || strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789+/=") != n)
		return SMTP_AUTH_BASE64;	/* no blanks inside either */
	if ((r = api_base64_decode(line, (unsigned char *)dst, dstsz - 1)) < 0)
		return SMTP_AUTH_BASE64;
	dst[r] = '\0';
	*len = (size_t)r;
	return SMTP_AUTH_OK;
}

/* smtp_auth_field - one field: bounded, no NUL; a user has no control
 * character either (it goes to logs and envelopes) */
enum smtp_auth_status
smtp_auth_field(const char *buf, size_t len, int isuser, char *dst)
{
	size_t	i, max = isuser ? SMTP_AUTH_USER_MAX : SMTP_AUTH_PASS_MAX;

	dst[0] = '\0';
	if (len == 0 || len >= max || memchr(buf, '\0', len) != NULL)
		return SMTP_AUTH_REFUSED;
	for (i = 0; isuser && i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return SMTP_AUTH_REFUSED;
	memcpy(dst, buf, len);
	dst[len] = '\0';
	return SMTP_AUTH_OK;
}

/* smtp_auth_plain - "authzid NUL user NUL password"; an authzid other
 * than the user is refused (nobody may act for someone else) */
enum smtp_auth_status
smtp_auth_plain(const char *buf, size_t len, char *user, char *pass)
{
	const char	*u, *p;
	size_t		 zlen, ulen;

	user[0] = pass[0] = '\0';
	if ((u = memchr(buf, '\0', len)) == NULL)
		return SMTP_AUTH_MALFORMED;
	zlen = (size_t)(u - buf);
	u++;
	if ((p = memchr(u, '\0', len - zlen - 1)) == NULL)
		return SMTP_AUTH_MALFORMED;
	ulen = (size_t)(p - u);
	p++;
	if (smtp_auth_field(u, ulen, 1, user) != SMTP_AUTH_OK ||
	    smtp_auth_field(p, len - zlen - ulen - 2, 0, pass) !=
	    SMTP_AUTH_OK || (zlen != 0 && (zlen != ulen ||
	    memcmp(buf, u, ulen) != 0))) {
		explicit_bzero(pass, SMTP_AUTH_PASS_MAX);
		user[0] = '\0';
		return SMTP_AUTH_REFUSED;
	}
	return SMTP_AUTH_OK;
}

/* ---- the exchange ---- */

/* smtp_auth_end - the exchange is over: wipe and free it */
static void
smtp_auth_end(struct smtp_session *s)
{
	struct smtp_auth	*a = s->auth;

	if (a == NULL)
		return;
	if (a->delay != NULL)
		event_free(a->delay);
	explicit_bzero(a, sizeof *a);
	free(a);
	s->auth = NULL;
}

void
smtp_auth_free(struct smtp_session *s)
{
	smtp_auth_end(s);
}

/* smtp_auth_log - one line per outcome; never the password */
static void
smtp_auth_log(struct smtp_session *s, const char *user, const char *result)
{
	char	q[SMTP_AUTH_USER_MAX + 8];

	log_event(s->id, "smtp", "authentication", "user=%s result=%s",
	    log_quote(q, sizeof q, user), result);
}

/* smtp_auth_on_delay - the failure's delay is over: 535 */
static void
smtp_auth_on_delay(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_session	*s = arg;

	smtp_auth_end(s);
	s->pending = SMTP_HOOK_NONE;
	smtp_reply_error(s, "535 5.7.8 Authentication failed");
	smtp_session_resume(s);
}

/* smtp_auth_fail - refuse after a random delay below one second */
static void
smtp_auth_fail(struct smtp_session *s)
{
	struct smtp_auth	*a = s->auth;
	struct timeval		 tv;
	uint32_t		 ms;

	explicit_bzero(a->pass, sizeof a->pass);
	ms = SMTP_AUTH_DELAY_MIN_MS + arc4random_uniform(
	    SMTP_AUTH_DELAY_MAX_MS - SMTP_AUTH_DELAY_MIN_MS + 1);
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)ms * 1000;
	s->pending = SMTP_HOOK_AUTH;
	if (s->gone || (a->delay = evtimer_new(s->srv->base,
	    smtp_auth_on_delay, s)) == NULL || evtimer_add(a->delay, &tv)
	    == -1) {
		smtp_auth_on_delay(-1, 0, s);
		return;
	}
}

/* smtp_auth_check - USER and PASS are known: ask the host */
static void
smtp_auth_check(struct smtp_session *s)
{
	struct smtp_auth	*a = s->auth;

	s->pending = SMTP_HOOK_AUTH;
	a->asked = 1;
	if (s->srv->hooks.auth == NULL) {	/* a host without: can't tell */
		smtp_auth_done(s, -1);
		return;
	}
	s->srv->hooks.auth(s->srv->arg, s, a->user, a->pass);
	if (s->auth == a)	/* still there (answered or not): wipe */
		explicit_bzero(a->pass, sizeof a->pass);
}

/* smtp_auth_refuse - a response that ends the exchange: reply */
static void
smtp_auth_refuse(struct smtp_session *s, enum smtp_auth_status st)
{
	const char	*user = s->auth->user[0] != '\0' ? s->auth->user : "";

	switch (st) {
	case SMTP_AUTH_CANCEL:
		smtp_auth_end(s);
		smtp_reply_error(s, "501 5.7.0 Authentication canceled");
		break;
	case SMTP_AUTH_TOO_LONG:
		smtp_auth_end(s);
		smtp_reply_error(s, "500 5.5.6 Authentication Exchange line "
		    "is too long");
		break;
	case SMTP_AUTH_BASE64:
		smtp_auth_end(s);
		smtp_reply_error(s, "501 5.5.2 Syntax error: cannot decode "
		    "the base64 response");
		break;
	case SMTP_AUTH_MALFORMED:
		smtp_auth_end(s);
		smtp_reply_error(s, "501 5.5.2 Syntax error: malformed PLAIN "
		    "response");
		break;
	default:
		smtp_auth_log(s, user, "refused");
		smtp_auth_fail(s);
		break;
	}
}

/* smtp_auth_step - one response of the client (or the initial one) */
static void
smtp_auth_step(struct smtp_session *s, const char *line)
{
	struct smtp_auth	*a = s->auth;
	enum smtp_auth_status	 st;
	size_t			 len;

	st = smtp_auth_decode(line, a->buf, sizeof a->buf, &len);
	if (st == SMTP_AUTH_OK) {
		if (a->mech == SMTP_AUTH_PLAIN)
			st = smtp_auth_plain(a->buf, len, a->user, a->pass);
		else
			st = smtp_auth_field(a->buf, len, a->step == 0,
			    a->step == 0 ? a->user : a->pass);
	}
	explicit_bzero(a->buf, sizeof a->buf);
	if (st != SMTP_AUTH_OK) {
		smtp_auth_refuse(s, st);
		return;
	}
	if (a->mech == SMTP_AUTH_LOGIN && a->step++ == 0) {
		smtp_reply(s, "334 UGFzc3dvcmQ6");	/* "Password:" */
		return;
	}
	smtp_auth_check(s);
}

/* smtp_auth_offered - is AUTH offered to this session now */
static int
smtp_auth_offered(const struct smtp_session *s)
{
	return s->l->auth != SMTP_AUTH_NONE && s->secure &&
	    s->auth_user[0] == '\0';
}

/* smtp_auth_refused - the 503s: 1 when AUTH may not start now */
static int
smtp_auth_refused(struct smtp_session *s)
{
	if (s->l->auth == SMTP_AUTH_NONE)
		smtp_reply_error(s, "503 5.5.1 Invalid command: Command not "
		    "supported");
	else if (!s->secure)
		smtp_reply_error(s, "503 5.5.1 Invalid command: AUTH "
		    "requires a secure channel (TLS)");
	else if (s->state == SMTP_S_GREETING)
		smtp_reply_error(s, "503 5.5.1 Invalid command: Polite "
		    "people say HELO first");
	else if (s->auth_user[0] != '\0')
		smtp_reply_error(s, "503 5.5.1 Invalid command: Already "
		    "authenticated");
	else if (s->x != NULL)
		smtp_reply_error(s, "503 5.5.1 Invalid command: AUTH is not "
		    "allowed during a transaction");
	else
		return 0;
	return 1;
}

/* smtp_auth_cmd - AUTH mechanism [initial-response] */
void
smtp_auth_cmd(struct smtp_session *s, const char *arg)
{
	char		 mech[128];	/* the echo of an unknown one */
	const char	*resp;
	size_t		 n;

	if (smtp_auth_refused(s))
		return;
	n = strcspn(arg, " ");
	resp = arg + n;
	while (*resp == ' ')
		resp++;
	if (n == 0) {
		smtp_reply_error(s, "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]");
		return;
	}
	if ((n != 5 || strncasecmp(arg, "PLAIN", 5) != 0) &&
	    (n != 5 || strncasecmp(arg, "LOGIN", 5) != 0)) {
		smtp_sanitize(mech, sizeof mech, arg, n);
		smtp_reply_error(s, "504 5.7.4 Security features not "
		    "supported: AUTH method \"%s\" not supported", mech);
		return;
	}
	if ((s->auth = calloc(1, sizeof *s->auth)) == NULL) {
		smtp_reply(s, "421 4.3.0 Temporary failure: out of memory");
		return;
	}
	s->auth->mech = (arg[0] == 'P' || arg[0] == 'p') ? SMTP_AUTH_PLAIN :
	    SMTP_AUTH_LOGIN;
	if (*resp != '\0')
		smtp_auth_step(s, resp);
	else
		smtp_reply(s, s->auth->mech == SMTP_AUTH_PLAIN ? "334 " :
		    "334 VXNlcm5hbWU6");		/* "Username:" */
}

/* smtp_auth_input - the client's response line */
void
smtp_auth_input(struct smtp_session *s, const char *line, int bad)
{
	if (bad) {
		smtp_auth_end(s);
		smtp_reply_error(s, "501 5.5.2 Syntax error: a response line "
		    "must end with CRLF and hold no CR or NUL");
		return;
	}
	smtp_auth_step(s, line);
}

/* smtp_auth_done - the host's verdict */
void
smtp_auth_done(struct smtp_session *s, int r)
{
	struct smtp_auth	*a = s->auth;

	if (s->pending != SMTP_HOOK_AUTH || a == NULL || !a->asked ||
	    a->delay != NULL) {
		log_warnx("%016llx smtp auth_done without its hook pending",
		    (unsigned long long)s->id);
		return;
	}
	explicit_bzero(a->pass, sizeof a->pass);
	if (r == 0) {
		smtp_auth_log(s, a->user, "permfail");
		smtp_auth_fail(s);
		return;
	}
	s->pending = SMTP_HOOK_NONE;
	if (r == 1) {
		smtp_auth_log(s, a->user, "ok");
		(void)strlcpy(s->auth_user, a->user, sizeof s->auth_user);
		smtp_reply(s, "235 2.0.0 Authentication succeeded");
	} else {
		smtp_auth_log(s, a->user, "tempfail");
		smtp_reply(s, "421 4.7.0 %s Temporary authentication failure, "
		    "try again later", s->l->hostname);
	}
	smtp_auth_end(s);
	smtp_session_resume(s);
}

/* smtp_auth_ehlo - the EHLO keyword, when offered */
void
smtp_auth_ehlo(struct smtp_session *s)
{
	if (smtp_auth_offered(s))
		smtp_reply(s, "250-AUTH PLAIN LOGIN");
}

/* smtp_auth_mail_ok - `auth` (required): no MAIL before AUTH */
int
smtp_auth_mail_ok(struct smtp_session *s)
{
	if (s->l->auth != SMTP_AUTH_REQUIRE || s->auth_user[0] != '\0')
		return 1;
	smtp_reply_error(s, "530 5.5.1 Invalid command: Must issue an AUTH "
	    "command first");
	return 0;
}

/* smtp_auth_received - received-auth's part of the Received header */
void
smtp_auth_received(struct smtp_session *s, char *buf, size_t bufsz)
{
	char	user[SMTP_AUTH_USER_MAX];

	buf[0] = '\0';
	if (!s->l->received_auth)
		return;
	if (s->auth_user[0] == '\0') {
		(void)strlcpy(buf, " (auth=no)", bufsz);
		return;
	}
	smtp_sanitize(user, sizeof user, s->auth_user, strlen(s->auth_user));
	(void)snprintf(buf, bufsz, " (auth=yes user=%s)", user);
}

void
smtp_session_set_secure(struct smtp_session *s, int secure)
{
	s->secure = secure != 0;
}

int
smtp_session_secure(const struct smtp_session *s)
{
	return s->secure;
}

const struct smtp_listener *
smtp_session_listener(const struct smtp_session *s)
{
	return s->l->conf;
}
