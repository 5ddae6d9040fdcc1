/*
 * envelope_show.h -- what smtpctl shows of queued envelopes: one line
 * per envelope for `show queue` (CTL-01), and the ids an operator types.
 *
 * Used by the queue process (which has the envelopes) and by smtpctl
 * (which parses ids); pure functions, no global read, no allocation.
 * The line is OpenSMTPD's format, fields separated by '|':
 *   evpid|family|type|flags|sender|rcpt|dest|ctime|expire|lasttry|
 *   retries|runstate|delay|error
 * family local, inet4, inet6 or ?; type mda, mta or bounce; flags a
 * comma list of bounce, auth, internal, suspend, hold; runstate
 * pending (delay: seconds until the next try), inflight (delay:
 * seconds since it was handed out) or invalid (delay empty); error the
 * last error with every control character shown as '?'.
 */
#ifndef SMTPD_ENVELOPE_SHOW_H
#define SMTPD_ENVELOPE_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct envelope;

/* the runtime state the scheduler adds (struct evpstate of api/) */
struct envelope_runstate {
	uint16_t	flags;		/* EF_PENDING, EF_INFLIGHT, EF_SUSPEND,
					   EF_HOLD */
	time_t		time;		/* due (pending), or handed out */
};

/* the longest line envelope_show_line writes, with its newline */
#define ENVELOPE_SHOW_LINE_MAX	4096

/*
 * envelope_show_line - EVP's line (with its newline) into BUF, as of
 * NOW; its length, or -1 when it does not fit SIZE.
 */
int	envelope_show_line(const struct envelope *evp,
	    const struct envelope_runstate *rs, time_t now, char *buf,
	    size_t size);

/*
 * envelope_show_parse_id - an id as typed: 16 hex digits (an evpid),
 * 8 hex digits (a msgid, returned below 2^32), upper or lower case.
 * 0, or -1 for anything else (an empty or over-long string, a zero
 * msgid, a non-hex character).
 */
int	envelope_show_parse_id(const char *s, uint64_t *id);

#endif
