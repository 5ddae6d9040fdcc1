/*
 * envelope_show.c -- `smtpctl show queue` lines and operator ids
 * (envelope_show.h).
 *
 * Runs in the queue process (lines) and in smtpctl (ids).  The fields
 * come from a stored envelope, which the codec already checked; still,
 * every byte written is printable except the newline that ends the
 * line, and a line that does not fit is refused, never cut.
 */
#include <sys/socket.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "envelope_show.h"
#include "scheduler_api.h"

/* envelope_show_flag - append WORD to a comma list when BIT is set */
static void
envelope_show_flag(char *buf, size_t size, int set, const char *word)
{
	size_t	len = strlen(buf);

	if (!set)
		return;
	(void)snprintf(buf + len, size - len, "%s%s", len ? "," : "", word);
}

/* envelope_show_runstate - "pending|N", "inflight|N" or "invalid|" */
static void
envelope_show_runstate(const struct envelope_runstate *rs, time_t now,
    char *buf, size_t size)
{
	if (rs->flags & EF_PENDING)
		(void)snprintf(buf, size, "pending|%lld",
		    (long long)(rs->time - now));
	else if (rs->flags & EF_INFLIGHT)
		(void)snprintf(buf, size, "inflight|%lld",
		    (long long)(now - rs->time));
	else
		(void)snprintf(buf, size, "invalid|");
}

/* envelope_show_family - the client's address family, as a word */
static const char *
envelope_show_family(const struct envelope *evp)
{
	switch (evp->ss.ss_family) {
	case AF_UNIX:
		return "local";
	case AF_INET:
		return "inet4";
	case AF_INET6:
		return "inet6";
	default:
		return "?";
	}
}

/* envelope_show_type - the delivery agent, as a word */
static const char *
envelope_show_type(const struct envelope *evp)
{
	switch (evp->type) {
	case ENVELOPE_MDA:
		return "mda";
	case ENVELOPE_MTA:
		return "mta";
	case ENVELOPE_BOUNCE:
		return "bounce";
	default:
		return "?";
	}
}

int
envelope_show_line(const struct envelope *evp,
    const struct envelope_runstate *rs, time_t now, char *buf, size_t size)
{
	char	flags[64] = "", run[64], err[ENVELOPE_ERRORLINE_SIZE];
	size_t	i;
	int	n;

	envelope_show_flag(flags, sizeof flags,
	    evp->flags & ENVELOPE_F_BOUNCE, "bounce");
	envelope_show_flag(flags, sizeof flags,
	    evp->flags & ENVELOPE_F_AUTHENTICATED, "auth");
	envelope_show_flag(flags, sizeof flags,
	    evp->flags & ENVELOPE_F_INTERNAL, "internal");
	envelope_show_flag(flags, sizeof flags, rs->flags & EF_SUSPEND,
	    "suspend");
	envelope_show_flag(flags, sizeof flags, rs->flags & EF_HOLD, "hold");
	envelope_show_runstate(rs, now, run, sizeof run);
	for (i = 0; i < sizeof err - 1 && evp->errorline[i] != '\0'; i++)
		err[i] = (unsigned char)evp->errorline[i] < 0x20 ||
		    evp->errorline[i] == 0x7f ? '?' : evp->errorline[i];
	err[i] = '\0';
	n = snprintf(buf, size, "%016" PRIx64 "|%s|%s|%s|%s@%s|%s@%s|%s@%s"
	    "|%lld|%lld|%lld|%u|%s|%s\n", evp->evpid,
	    envelope_show_family(evp), envelope_show_type(evp), flags,
	    evp->sender.user, evp->sender.domain, evp->rcpt.user,
	    evp->rcpt.domain, evp->dest.user, evp->dest.domain,
	    (long long)evp->creation, (long long)(evp->creation + evp->ttl),
	    (long long)evp->lasttry, (unsigned int)evp->retry, run, err);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int
envelope_show_parse_id(const char *s, uint64_t *id)
{
	char		lower[EVPID_TEXT_SIZE];
	uint32_t	msgid;
	size_t		i, len = strnlen(s, sizeof lower);

	if (len != MSGID_TEXT_SIZE - 1 && len != EVPID_TEXT_SIZE - 1)
		return -1;
	for (i = 0; i < len; i++)
		lower[i] = s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' :
		    s[i];
	lower[len] = '\0';
	if (len == MSGID_TEXT_SIZE - 1) {
		if (msgid_parse(lower, &msgid) == -1)
			return -1;
		*id = msgid;
		return 0;
	}
	return evpid_parse(lower, id);
}
