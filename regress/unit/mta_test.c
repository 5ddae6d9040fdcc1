/*
 * mta_test.c -- the MTA's pure parts (smtpd/dispatcher/mta.h): replies
 * of a next hop (codes, multi-line, every malformed shape, safe text),
 * relay URLs, numeric addresses and the backup-MX rule (MTA-03, MTA-04,
 * MTA-17).
 */
#include <stdlib.h>
#include <string.h>

#include "imsg.h"
#include "mta.h"
#include "test.h"

struct smtpd_env	*env;

/* feed - LINES separated by \n; the last feed's result */
static int
feed(struct mta_reply *r, const char *lines, char *err, size_t errsz)
{
	const char	*p = lines, *nl;
	int		 ret = MTA_REPLY_MORE;

	mta_reply_init(r);
	err[0] = '\0';
	do {
		nl = strchr(p, '\n');
		ret = mta_reply_feed(r, p, nl ? (size_t)(nl - p) : strlen(p),
		    err, errsz);
		if (ret != MTA_REPLY_MORE || nl == NULL)
			break;
		p = nl + 1;
	} while (*p);
	return ret;
}

static void
test_replies(void)
{
	static const struct {
		const char	*in;
		int		 ret;
		int		 code;
		const char	*text;		/* or the error's start */
	} cases[] = {
		{ "250 2.0.0 Ok", MTA_REPLY_DONE, 250, "250 2.0.0 Ok" },
		{ "250", MTA_REPLY_DONE, 250, "250" },
		{ "250-mx.example\n250-PIPELINING\n250 SIZE 1000",
		    MTA_REPLY_DONE, 250,
		    "250 mx.example PIPELINING SIZE 1000" },
		{ "550-5.1.1 no\n550 5.1.1 such user", MTA_REPLY_DONE, 550,
		    "550 5.1.1 no 5.1.1 such user" },
		{ "250-first", MTA_REPLY_MORE, 250, "250 first" },
		{ "25", MTA_REPLY_ERROR, 0, "bad reply code" },
		{ "", MTA_REPLY_ERROR, 0, "bad reply code" },
		{ "abc text", MTA_REPLY_ERROR, 0, "bad reply code" },
		{ "650 x", MTA_REPLY_ERROR, 0, "bad reply code" },
		{ "150 x", MTA_REPLY_ERROR, 0, "bad reply code" },
		{ "2500 x", MTA_REPLY_ERROR, 0, "bad separator" },
		{ "250_x", MTA_REPLY_ERROR, 0, "bad separator" },
		{ "250 o\rk", MTA_REPLY_ERROR, 0, "bare CR" },
		{ "250-a\n550 b", MTA_REPLY_ERROR, 250, "reply code changes" },
		{ "250 tab\there \x01 \x7f \xff", MTA_REPLY_DONE, 250,
		    "250 tab here ? ? ?" },
	};
	struct mta_reply	r;
	char			err[128], what[160];
	size_t			i;
	int			ret;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ret = feed(&r, cases[i].in, err, sizeof err);
		snprintf(what, sizeof what, "reply case %zu", i);
		CHECK(ret == cases[i].ret, what);
		if (ret == MTA_REPLY_ERROR)
			CHECK(strncmp(err, cases[i].text,
			    strlen(cases[i].text)) == 0, err);
		else {
			CHECK(r.code == cases[i].code, what);
			CHECK_STR(r.text, cases[i].text, what);
		}
	}
	/* NUL inside */
	mta_reply_init(&r);
	CHECK(mta_reply_feed(&r, "250 a\0b", 7, err, sizeof err) ==
	    MTA_REPLY_ERROR && strstr(err, "NUL") != NULL, "NUL refused");
}

static void
test_reply_bounds(void)
{
	struct mta_reply	r;
	char			line[MTA_REPLY_LINE_MAX + 10], err[128];
	size_t			i;
	int			ret = 0;

	/* a long line: refused above the limit, cut text below it */
	memset(line, 'x', sizeof line);
	memcpy(line, "250 ", 4);
	mta_reply_init(&r);
	CHECK(mta_reply_feed(&r, line, MTA_REPLY_LINE_MAX, err, sizeof err) ==
	    MTA_REPLY_ERROR, "line above MTA_REPLY_LINE_MAX refused");
	mta_reply_init(&r);
	CHECK(mta_reply_feed(&r, line, MTA_REPLY_LINE_MAX - 2, err,
	    sizeof err) == MTA_REPLY_DONE, "line at the limit taken");
	CHECK(r.textlen == strlen(r.text) && r.textlen < sizeof r.text &&
	    strcmp(r.text + r.textlen - 3, "...") == 0, "long text cut");
	/* many lines: MTA_REPLY_LINES_MAX taken, one more refused */
	mta_reply_init(&r);
	for (i = 0; i < MTA_REPLY_LINES_MAX; i++)
		ret = mta_reply_feed(&r, "250-line", 8, err, sizeof err);
	CHECK(ret == MTA_REPLY_MORE && r.nlines == MTA_REPLY_LINES_MAX,
	    "MTA_REPLY_LINES_MAX lines taken");
	CHECK(strlen(r.text) < sizeof r.text, "text bounded");
	CHECK(mta_reply_feed(&r, "250 end", 7, err, sizeof err) ==
	    MTA_REPLY_ERROR, "one line more refused");
	CHECK(mta_reply_status(250) == DELIVERY_OK &&
	    mta_reply_status(451) == DELIVERY_TEMPFAIL &&
	    mta_reply_status(354) == DELIVERY_TEMPFAIL &&
	    mta_reply_status(554) == DELIVERY_PERMFAIL, "reply classes");
}

static void
test_urls(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		enum mta_scheme	 scheme;
		const char	*host;
		int		 port;
		int		 literal;
	} cases[] = {
		{ "smtp://127.0.0.1:2526", 1, MTA_SCHEME_SMTP, "127.0.0.1",
		    2526, 1 },
		{ "127.0.0.1", 1, MTA_SCHEME_SMTP, "127.0.0.1", 25, 1 },
		{ "[::1]", 1, MTA_SCHEME_SMTP, "::1", 25, 1 },
		{ "[127.0.0.1]:2526", 1, MTA_SCHEME_SMTP, "127.0.0.1", 2526,
		    1 },
		{ "smtps://mx.example", 1, MTA_SCHEME_SMTPS, "mx.example",
		    465, 0 },
		{ "smtp+tls://lab@mx.example:587", 1, MTA_SCHEME_SMTP_TLS,
		    "mx.example", 587, 0 },
		{ "smtp+notls://mx.example", 1, MTA_SCHEME_SMTP_NOTLS,
		    "mx.example", 25, 0 },
		{ "lmtp://[::1]:24", 1, MTA_SCHEME_LMTP, "::1", 24, 1 },
		{ "lmtp://127.0.0.1", 0, 0, NULL, 0, 0 },
		{ "gopher://x", 0, 0, NULL, 0, 0 },
		{ "smtp://x:0", 0, 0, NULL, 0, 0 },
		{ "smtp://x:65536", 0, 0, NULL, 0, 0 },
		{ "smtp://x:25z", 0, 0, NULL, 0, 0 },
		{ "smtp://[mx.example]", 0, 0, NULL, 0, 0 },
		{ "smtp://", 0, 0, NULL, 0, 0 },
	};
	struct mta_url	u;
	char		err[256];
	size_t		i;
	int		r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = mta_url_parse(cases[i].in, &u, err, sizeof err);
		CHECK((r == 0) == cases[i].ok, cases[i].in);
		if (r != 0 || !cases[i].ok)
			continue;
		CHECK(u.scheme == cases[i].scheme, cases[i].in);
		CHECK_STR(u.host, cases[i].host, cases[i].in);
		CHECK(mta_url_port(&u) == cases[i].port, cases[i].in);
		CHECK(u.literal == cases[i].literal, cases[i].in);
	}
}

static size_t
mx_set(struct mta_mx *mx, const char *spec)
{
	char	buf[256], *p, *name, *save = NULL;
	size_t	n = 0;

	strlcpy(buf, spec, sizeof buf);
	for (p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		name = strchr(p, ':');
		*name++ = '\0';
		mx[n].preference = (uint32_t)atoi(p);
		mx[n].host = strdup(name);
		mx[n].index = n;
		n++;
	}
	return n;
}

static void
test_backup(void)
{
	static const struct {
		const char	*list, *ours, *kept;
	} cases[] = {
		{ "10:a.example 20:b.example 30:c.example", "b.example",
		    "a.example" },
		{ "10:a.example 20:b.example 30:c.example", "B.Example.",
		    "a.example" },
		{ "10:a.example 20:b.example 20:d.example 30:c.example",
		    "c.example", "a.example b.example d.example" },
		{ "10:a.example 20:b.example", "a.example", "" },
		{ "10:a.example 20:b.example", "z.example",
		    "a.example b.example" },
	};
	struct mta_mx	mx[8];
	char		got[256], *names[8];
	size_t		i, j, n, all;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		all = mx_set(mx, cases[i].list);
		for (j = 0; j < all; j++)
			names[j] = (char *)mx[j].host;
		n = mta_mx_backup(mx, all, cases[i].ours);
		got[0] = '\0';
		for (j = 0; j < n; j++) {
			if (j)
				strlcat(got, " ", sizeof got);
			strlcat(got, mx[j].host, sizeof got);
			if (strcmp(names[mx[j].index], mx[j].host) != 0)
				strlcat(got, "(bad index)", sizeof got);
		}
		for (j = 0; j < all; j++)
			free(names[j]);
		CHECK_STR(got, cases[i].kept, cases[i].ours);
	}
}

static void
test_addr(void)
{
	struct sockaddr_storage	ss;
	socklen_t		len;

	CHECK(mta_addr_parse("127.0.0.1", 25, &ss, &len) == 0 &&
	    ss.ss_family == AF_INET, "IPv4");
	CHECK(mta_addr_parse("IPv6:::1", 25, &ss, &len) == 0 &&
	    ss.ss_family == AF_INET6, "IPv6: prefix");
	CHECK(mta_addr_parse("mx.example", 25, &ss, &len) == -1,
	    "a name is not an address");
}

/* test_auth - the AUTH capability of an EHLO line (mtatls, MTA-08) */
static void
test_auth(void)
{
	static const struct {
		const char	*line;
		unsigned int	 want;
	} cases[] = {
		{ "AUTH PLAIN LOGIN", MTA_AUTH_PLAIN | MTA_AUTH_LOGIN },
		{ "auth login", MTA_AUTH_LOGIN },
		{ "AUTH=LOGIN PLAIN", MTA_AUTH_PLAIN | MTA_AUTH_LOGIN },
		{ "AUTH CRAM-MD5 PLAIN", MTA_AUTH_PLAIN },
		{ "AUTH CRAM-MD5", 0 },
		{ "AUTH  PLAIN ", MTA_AUTH_PLAIN },
		{ "AUTH PLAINX LOGINX XPLAIN", 0 },
		{ "AUTHPLAIN", 0 },
		{ "AUTH", 0 },
		{ "PLAIN LOGIN", 0 },
		{ "XAUTH PLAIN", 0 },
		{ "AUTH ", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK(mta_reply_auth(cases[i].line) == cases[i].want,
		    cases[i].line);
}

int
main(void)
{
	test_replies();
	test_reply_bounds();
	test_urls();
	test_backup();
	test_addr();
	test_auth();
	return test_done();
}
