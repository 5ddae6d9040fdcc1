/*
 * dispatcher_bounce_report.c -- the text of a delivery status
 * notification (RFC 3464 in an RFC 6522 multipart/report), as pure
 * functions over envelopes and streams.
 *
 * Used by the bounce agent (dispatcher_bounce.c) in the dispatcher, and
 * by the unit tests and the fuzz target.  The diagnostic comes from
 * outside (a remote reply, a delivery program's output): it passes
 * dispatcher_bounce_sanitize() before it lands in a report, so a report
 * never holds a control character, a byte above 0x7e or a line longer
 * than the limits below.  The parts:
 *   text/plain              what happened, in words, per recipient
 *   message/delivery-status Reporting-MTA, Original-Envelope-Id,
 *                           Arrival-Date; per recipient Original-
 *                           Recipient, Final-Recipient, Action, Status,
 *                           Diagnostic-Code, Last-Attempt-Date,
 *                           Will-Retry-Until (delays)
 *   message/rfc822          the original, for a failure without
 *                           RET=HDRS when it is at most BOUNCE_FULL_MAX
 *   text/rfc822-headers     its headers otherwise
 * Never reads a global; never allocates more than one diagnostic line.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dispatcher.h"
#include "envelope.h"
#include "mailaddr.h"

size_t
dispatcher_bounce_sanitize(char *dst, size_t dstsz, const char *src,
    size_t srclen)
{
	size_t		i, n = 0, max;
	unsigned char	c;

	if (dstsz == 0)
		return 0;
	max = dstsz - 1 < BOUNCE_DIAG_MAX ? dstsz - 1 : BOUNCE_DIAG_MAX;
	for (i = 0; i < srclen && src[i] != '\0'; i++) {
		c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c > 0x7f)
			c = '?';
		if (c == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;	/* no leading or doubled blanks */
		if (n == max) {
			/* cut: say so in the last three places */
			if (max >= 3)
				memcpy(dst + max - 3, "...", 3);
			break;
		}
		dst[n++] = (char)c;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
	return n;
}

/* dispatcher_bounce_digits - 1 to 3 digits at *P: their value, *P moved
 * past them; -1 when there are none or more */
static int
dispatcher_bounce_digits(const char **p)
{
	int	v = 0, n;

	for (n = 0; n < 4 && **p >= '0' && **p <= '9'; n++, (*p)++)
		v = v * 10 + (**p - '0');
	return n >= 1 && n <= 3 ? v : -1;
}

/* dispatcher_bounce_parse_status - "[NNN[ -]]C.S.D" at the start of
 * TEXT into BUF, class C only, S and D 1 to 3 digits (RFC 3463; no
 * sign, no blank): 1, else 0 */
static int
dispatcher_bounce_parse_status(const char *text, int class, char *buf,
    size_t bufsz)
{
	const char	*p = text;
	int		 s, d;

	if (p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-'))
		p += 4;
	if (p[0] - '0' != class || p[1] != '.')
		return 0;
	p += 2;
	if ((s = dispatcher_bounce_digits(&p)) == -1 || *p++ != '.' ||
	    (d = dispatcher_bounce_digits(&p)) == -1 ||
	    (*p != '\0' && *p != ' '))
		return 0;
	return snprintf(buf, bufsz, "%d.%d.%d", class, s, d) > 0;
}

void
dispatcher_bounce_status(const struct envelope *e, char *buf, size_t bufsz)
{
	int	class = e->bounce_type == BOUNCE_DELIVERED ||
		    e->bounce_type == BOUNCE_RELAYED ? 2 :
		    e->bounce_type == BOUNCE_DELAYED ? 4 : 5;

	if (e->esc_class != 0 && (e->esc_class == class ||
	    (class == 5 && e->esc_class == 4))) {
		(void)snprintf(buf, bufsz, "%u.%u.%u", e->esc_class,
		    e->esc_code / 10, e->esc_code % 10);
		return;
	}
	if (dispatcher_bounce_parse_status(e->errorline, class, buf, bufsz) ||
	    (class == 5 && dispatcher_bounce_parse_status(e->errorline, 4,
	    buf, bufsz)))
		return;
	(void)snprintf(buf, bufsz, "%d.0.0", class);
}

/* dispatcher_bounce_date - an RFC 5322 date, in UTC, locale-free */
static void
dispatcher_bounce_date(time_t t, char *buf, size_t bufsz)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr", "May",
				    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
				    "Dec" };
	struct tm		 tm;

	if (gmtime_r(&t, &tm) == NULL) {
		(void)snprintf(buf, bufsz, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	(void)snprintf(buf, bufsz, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* dispatcher_bounce_addr - ADDR as text made safe ("" for <>) */
static void
dispatcher_bounce_addr(const struct mailaddr *a, char *buf, size_t bufsz)
{
	char	raw[MAILADDR_TEXT_SIZE];

	if (mailaddr_is_null(a) || mailaddr_format(a, raw, sizeof raw) == -1)
		raw[0] = '\0';
	(void)dispatcher_bounce_sanitize(buf, bufsz, raw, sizeof raw);
}

const char *
dispatcher_bounce_action(enum envelope_bounce_type t)
{
	return t == BOUNCE_DELAYED ? "delayed" : t == BOUNCE_DELIVERED ?
	    "delivered" : t == BOUNCE_RELAYED ? "relayed" : "failed";
}

/* dispatcher_bounce_headers - the report's own header */
static void
dispatcher_bounce_headers(const struct bounce_report *r, FILE *out)
{
	char	date[64], to[MAILADDR_TEXT_SIZE];

	dispatcher_bounce_date(r->now, date, sizeof date);
	dispatcher_bounce_addr(&r->evps[0]->sender, to, sizeof to);
	fprintf(out, "From: Mailer Daemon <MAILER-DAEMON@%s>\n"
	    "To: <%s>\n"
	    "Subject: Delivery status notification: %s\n"
	    "Date: %s\n"
	    "Message-ID: <%016" PRIx64 ".%lld.report@%s>\n"
	    "Auto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%016" PRIx64 "/report\"\n"
	    "\n"
	    "This is a MIME-encapsulated message.\n\n",
	    r->reporting_mta, to,
	    r->type == BOUNCE_DELAYED ? "Delay" : r->type == BOUNCE_DELIVERED ||
	    r->type == BOUNCE_RELAYED ? "Success" : "Error", date, r->id, (long long)r->now,
	    r->reporting_mta, r->id);
}

/* dispatcher_bounce_human - the text/plain part */
static void
dispatcher_bounce_human(const struct bounce_report *r, FILE *out)
{
	char	rcpt[MAILADDR_TEXT_SIZE], diag[BOUNCE_DIAG_MAX + 1];
	size_t	i;

	fprintf(out, "--%016" PRIx64 "/report\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Description: Notification\n\n"
	    "This is the mail system at %s.\n\n", r->id, r->reporting_mta);
	if (r->type == BOUNCE_DELAYED)
		fprintf(out, "Your message could not be delivered yet to the "
		    "recipients below.\nDelivery is still being tried; you "
		    "need not send it again.\n\n");
	else if (r->type == BOUNCE_DELIVERED)
		fprintf(out, "Your message was delivered to the recipients "
		    "below.\n\n");
	else if (r->type == BOUNCE_RELAYED)
		fprintf(out, "Your message was relayed to the recipients "
		    "below, to a mail system\nthat will send no further "
		    "notification of its delivery.\n\n");
	else
		fprintf(out, "Your message could not be delivered to the "
		    "recipients below.\nThis is a permanent error; delivery "
		    "has been abandoned.\n\n");
	for (i = 0; i < r->nevps; i++) {
		dispatcher_bounce_addr(&r->evps[i]->rcpt, rcpt, sizeof rcpt);
		(void)dispatcher_bounce_sanitize(diag, sizeof diag,
		    r->evps[i]->errorline, sizeof r->evps[i]->errorline);
		fprintf(out, "  <%s>%s%s\n", rcpt, diag[0] ? ": " : "", diag);
	}
	fprintf(out, "\n%s\n\n", r->full ? "The original message follows." :
	    "The headers of the original message follow.");
}

/* dispatcher_bounce_recipient - one recipient's fields (RFC 3464 2.3) */
static void
dispatcher_bounce_recipient(const struct envelope *e, FILE *out)
{
	char	addr[MAILADDR_TEXT_SIZE], diag[BOUNCE_DIAG_MAX + 1];
	char	status[16], date[64];

	fprintf(out, "\n");
	if (!mailaddr_is_null(&e->dsn_orcpt)) {
		dispatcher_bounce_addr(&e->dsn_orcpt, addr, sizeof addr);
		fprintf(out, "Original-Recipient: rfc822; %s\n", addr);
	}
	dispatcher_bounce_addr(&e->rcpt, addr, sizeof addr);
	dispatcher_bounce_status(e, status, sizeof status);
	fprintf(out, "Final-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n",
	    addr, dispatcher_bounce_action(e->bounce_type), status);
	(void)dispatcher_bounce_sanitize(diag, sizeof diag, e->errorline,
	    sizeof e->errorline);
	if (diag[0] != '\0' && e->bounce_type != BOUNCE_DELIVERED &&
	    e->bounce_type != BOUNCE_RELAYED)
		fprintf(out, "Diagnostic-Code: %s; %s\n",
		    diag[0] >= '2' && diag[0] <= '5' && diag[1] >= '0' &&
		    diag[1] <= '9' && diag[2] >= '0' && diag[2] <= '9' ?
		    "smtp" : "X-Unix", diag);
	if (e->lasttry > 0) {
		dispatcher_bounce_date(e->lasttry, date, sizeof date);
		fprintf(out, "Last-Attempt-Date: %s\n", date);
	}
	if (e->bounce_type == BOUNCE_DELAYED && e->bounce_ttl > 0) {
		/* bounce-ttl: the delayed envelope's own ttl */
		dispatcher_bounce_date(e->creation + e->bounce_ttl, date,
		    sizeof date);
		fprintf(out, "Will-Retry-Until: %s\n", date);
	}
}

/* dispatcher_bounce_status_part - the message/delivery-status part */
static void
dispatcher_bounce_status_part(const struct bounce_report *r, FILE *out)
{
	const struct envelope	*e0 = r->evps[0];
	char			 date[64], envid[ENVELOPE_DSN_ENVID_SIZE];
	size_t			 i;

	fprintf(out, "--%016" PRIx64 "/report\n"
	    "Content-Type: message/delivery-status\n"
	    "Content-Description: Delivery report\n\n"
	    "Reporting-MTA: dns; %s\n", r->id, r->reporting_mta);
	(void)dispatcher_bounce_sanitize(envid, sizeof envid, e0->dsn_envid,
	    sizeof e0->dsn_envid);
	if (envid[0] != '\0')
		fprintf(out, "Original-Envelope-Id: %s\n", envid);
	if (e0->creation > 0) {
		dispatcher_bounce_date(e0->creation, date, sizeof date);
		fprintf(out, "Arrival-Date: %s\n", date);
	}
	for (i = 0; i < r->nevps; i++)
		dispatcher_bounce_recipient(r->evps[i], out);
	fprintf(out, "\n");
}

/* dispatcher_bounce_original - the last part: the message or its
 * headers (up to the first empty line, at most BOUNCE_HEADERS_MAX) */
static void
dispatcher_bounce_original(const struct bounce_report *r, FILE *out)
{
	char	buf[4096];
	size_t	len, total = 0;
	int	last = '\n';

	fprintf(out, "--%016" PRIx64 "/report\n"
	    "Content-Type: %s\n"
	    "Content-Description: %s\n\n", r->id,
	    r->full ? "message/rfc822" : "text/rfc822-headers",
	    r->full ? "Undelivered message" : "Message headers");
	while (r->original != NULL) {
		if (r->full) {
			if ((len = fread(buf, 1, sizeof buf, r->original)) == 0)
				break;
			fwrite(buf, 1, len, out);
			last = buf[len - 1];
			continue;
		}
		if (fgets(buf, sizeof buf, r->original) == NULL ||
		    (last == '\n' && (strcmp(buf, "\n") == 0 ||
		    strcmp(buf, "\r\n") == 0)))
			break;
		len = strlen(buf);
		if (len == 0 || total + len > BOUNCE_HEADERS_MAX)
			break;
		total += len;
		fwrite(buf, 1, len, out);
		last = buf[len - 1];
	}
	if (last != '\n')
		fputc('\n', out);
	fprintf(out, "\n--%016" PRIx64 "/report--\n", r->id);
}

int
dispatcher_bounce_report_write(const struct bounce_report *r, FILE *out)
{
	if (r->nevps == 0 || r->reporting_mta == NULL)
		return -1;
	dispatcher_bounce_headers(r, out);
	dispatcher_bounce_human(r, out);
	dispatcher_bounce_status_part(r, out);
	dispatcher_bounce_original(r, out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
