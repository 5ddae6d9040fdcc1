/*
 * envelope_show_test.c -- unit tests for what smtpctl's queue verbs
 * print and parse (smtpd/common/envelope_show.c) and for the counters
 * of show stats (smtpd/common/stats.c).
 *
 * The show queue line of a known envelope is compared whole, for each
 * runstate and flag; a line that does not fit is refused, never cut;
 * control characters of an error line never reach the output.  Ids:
 * both widths, either case, and every malformed form refused.  Stats:
 * counting, gauges, the table's bound, the text form.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "envelope_show.h"
#include "scheduler_api.h"
#include "smtpd.h"
#include "stats.h"
#include "test.h"

struct smtpd_env	*env;

/* test_envelope - a local delivery of a known shape */
static void
test_envelope(struct envelope *evp)
{
	memset(evp, 0, sizeof *evp);
	evp->evpid = 0xa00f594b46ddc024ULL;
	evp->type = ENVELOPE_MDA;
	evp->ss.ss_family = AF_INET;
	strcpy(evp->sender.user, "s");
	strcpy(evp->sender.domain, "example.net");
	strcpy(evp->rcpt.user, "u");
	strcpy(evp->rcpt.domain, "example.org");
	strcpy(evp->dest.user, "v");
	strcpy(evp->dest.domain, "example.org");
	evp->creation = 1000;
	evp->ttl = 500;
	evp->lasttry = 1200;
	evp->retry = 2;
	strcpy(evp->errorline, "451 busy\r\nx|y");
}

static void
test_lines(void)
{
	static struct envelope		evp;
	struct envelope_runstate	rs = { EF_PENDING, 1300 };
	char				line[ENVELOPE_SHOW_LINE_MAX];
	int				n;

	test_envelope(&evp);
	n = envelope_show_line(&evp, &rs, 1250, line, sizeof line);
	CHECK_STR(line, "a00f594b46ddc024|inet4|mda||s@example.net|"
	    "u@example.org|v@example.org|1000|1500|1200|2|pending|50|"
	    "451 busy??x|y\n", "pending: the whole line");
	CHECK(n == (int)strlen(line), "its length");
	rs.flags = EF_INFLIGHT | EF_SUSPEND | EF_HOLD;
	evp.flags = ENVELOPE_F_BOUNCE | ENVELOPE_F_AUTHENTICATED |
	    ENVELOPE_F_INTERNAL;
	evp.ss.ss_family = AF_UNIX;
	evp.type = ENVELOPE_BOUNCE;
	evp.errorline[0] = '\0';
	memset(&evp.sender, 0, sizeof evp.sender);
	envelope_show_line(&evp, &rs, 1310, line, sizeof line);
	CHECK_STR(line, "a00f594b46ddc024|local|bounce|bounce,auth,internal,"
	    "suspend,hold|@|u@example.org|v@example.org|1000|1500|1200|2|"
	    "inflight|10|\n", "in flight, every flag, null sender");
	rs.flags = 0;
	evp.ss.ss_family = AF_INET6;
	evp.type = ENVELOPE_MTA;
	evp.flags = 0;
	n = envelope_show_line(&evp, &rs, 1310, line, sizeof line);
	CHECK_STR(line, "a00f594b46ddc024|inet6|mta||@|u@example.org|"
	    "v@example.org|1000|1500|1200|2|invalid||\n", "no runstate");
	CHECK(envelope_show_line(&evp, &rs, 1310, line, 20) == -1,
	    "a line that does not fit is refused");
	CHECK(envelope_show_line(&evp, &rs, 1310, line, (size_t)n) == -1,
	    "one byte short is refused");
	CHECK(envelope_show_line(&evp, &rs, 1310, line, (size_t)n + 1) == n,
	    "an exact fit is taken");
}

static void
test_ids(void)
{
	static const struct {
		const char	*s;
		int		 ok;
		uint64_t	 id;
	} cases[] = {
		{ "a00f594b46ddc024", 0, 0xa00f594b46ddc024ULL },
		{ "A00F594B46DDC024", 0, 0xa00f594b46ddc024ULL },
		{ "a00f594b", 0, 0xa00f594bULL },
		{ "0000000b", 0, 0xbULL },
		{ "00000000", -1, 0 },
		{ "0000000046ddc024", -1, 0 },
		{ "a00f594b00000000", -1, 0 },
		{ "a00f594", -1, 0 },
		{ "a00f594b4", -1, 0 },
		{ "a00f594b46ddc0245", -1, 0 },
		{ "a00f594b46ddc02g", -1, 0 },
		{ "a00f594b 6ddc024", -1, 0 },
		{ "", -1, 0 },
		{ "all", -1, 0 },
		{ "-a00f594", -1, 0 },
	};
	uint64_t	id;
	size_t		i;
	int		r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		id = 0;
		r = envelope_show_parse_id(cases[i].s, &id);
		CHECK(r == cases[i].ok && (r == -1 || id == cases[i].id),
		    cases[i].s);
	}
}

static int	test_collected;

static void
test_collect(void)
{
	test_collected++;
	stats_set("gauge", 42);
}

static void
test_stats(void)
{
	static const char	*names[STATS_MAX + 1];
	static char		 namebuf[STATS_MAX + 1][16];
	char			 buf[4096];
	size_t			 i;

	stats_free();
	stats_add("a.b", 2);
	stats_add("a.b", -1);
	stats_set("c", 7);
	CHECK(stats_get("a.b") == 1 && stats_get("c") == 7 &&
	    stats_get("none") == 0, "add, set, get");
	CHECK(stats_format(buf, sizeof buf) == 10 &&
	    strcmp(buf, "a.b=1\nc=7\n") == 0, "name=value lines");
	CHECK(stats_format(buf, 5) == -1 && strcmp(buf, "") == 0,
	    "too small: refused, cut at a line");
	stats_on_collect(test_collect);
	stats_free();
	for (i = 0; i < STATS_MAX + 1; i++) {
		snprintf(namebuf[i], sizeof namebuf[i], "n%zu", i);
		names[i] = namebuf[i];
		stats_add(names[i], 1);
	}
	CHECK(stats_get(names[STATS_MAX - 1]) == 1 &&
	    stats_get(names[STATS_MAX]) == 0, "past STATS_MAX: dropped");
	stats_free();
	CHECK(test_collected == 0 && stats_get("n0") == 0, "free forgets");
}

int
main(void)
{
	test_lines();
	test_ids();
	test_stats();
	return test_done();
}
