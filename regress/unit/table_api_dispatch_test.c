/*
 * table_api_dispatch_test.c -- the table protocol glue (api/table_api.c)
 * driven over a socketpair, as the daemon drives a helper.
 *
 * The helper side runs table_api_dispatch_fd() in a forked child with
 * test callbacks; the parent plays the daemon with api/imsgbuf and
 * api/wire, checks every reply byte for byte (libexec-protocols.md 4)
 * and the child's exit status: 0 after EOF or CLOSE, 1 after any
 * protocol violation, never a signal.  Every wait is bounded
 * (regress/lib/peer.c).
 */
#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "peer.h"
#include "test.h"

static int	dispatch_test_fetch_next;

/* dispatch_test_check - "yes" is present, "err" fails, the rest absent */
static int
dispatch_test_check(int service, struct dict *params, const char *key)
{
	if (strcmp(key, "err") == 0)
		return -1;
	return strcmp(key, "yes") == 0;
}

/* dispatch_test_lookup - answers shaped by the key */
static int
dispatch_test_lookup(int service, struct dict *params, const char *key,
    char *dst, size_t sz)
{
	const char	*a;

	if (service == K_RELAYHOST)
		return -1;
	if (strcmp(key, "missing") == 0)
		return 0;
	if (strcmp(key, "weird") == 0)
		return 7;
	if (strcmp(key, "unterminated") == 0) {
		memset(dst, 'x', sz);
		return 1;
	}
	if (strcmp(key, "big") == 0) {
		memset(dst, 'b', sz - 1);
		dst[sz - 1] = '\0';
		return 1;
	}
	if (strcmp(key, "params") == 0) {
		a = dict_get(params, "a");
		snprintf(dst, sz, "n=%zu a=%s", dict_count(params),
		    a ? a : "-");
		return 1;
	}
	snprintf(dst, sz, "%s:%d", key, service);
	return 1;
}

/* dispatch_test_fetch - rotates over two values */
static int
dispatch_test_fetch(int service, struct dict *params, char *dst, size_t sz)
{
	if (service != K_SOURCE)
		return -1;
	strlcpy(dst, dispatch_test_fetch_next++ % 2 ? "192.0.2.11" :
	    "192.0.2.10", sz);
	return 1;
}

static int
dispatch_test_update(void)
{
	return 1;
}

/* dispatch_test_serve - the helper, every callback registered */
static int
dispatch_test_serve(int fd)
{
	table_api_on_check(dispatch_test_check);
	table_api_on_lookup(dispatch_test_lookup);
	table_api_on_fetch(dispatch_test_fetch);
	table_api_on_update(dispatch_test_update);
	return table_api_dispatch_fd(fd);
}

/* dispatch_test_open - the 2052-byte OPEN with a version and a name */
static void
dispatch_test_open(struct peer *p, uint32_t version,
    size_t len)
{
	unsigned char	buf[TABLE_OPEN_PARAMS_SIZE + 8];

	memset(buf, 0, sizeof buf);
	memcpy(buf, &version, sizeof version);
	strlcpy((char *)buf + 4, "mytable", 2048);
	peer_send(p, PROC_TABLE_OPEN, buf, len);
}

/* dispatch_test_request - CHECK/LOOKUP/FETCH with optional params */
static void
dispatch_test_request(struct peer *p, uint32_t type,
    int32_t service, const char *key, size_t nparams, const char *const *kv)
{
	unsigned char		buf[IMSG_MAX_PAYLOAD];
	struct wire_writer	w;
	size_t			i;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, service);
	wire_put_sz(&w, nparams);
	for (i = 0; i < nparams; i++) {
		wire_put_cstr(&w, kv[2 * i]);
		wire_put_cstr(&w, kv[2 * i + 1]);
	}
	if (key)
		wire_put_cstr(&w, key);
	peer_send(p, type, buf, w.len);
}

/* dispatch_test_answer - r and, when present, the value of a reply */
static int
dispatch_test_answer(struct peer *p, int32_t *r, char *value,
    size_t size)
{
	struct imsg		 imsg;
	struct wire_reader	 rd;
	const char		*v = NULL;
	int			 ok;

	value[0] = '\0';
	if (!peer_recv(p, &imsg))
		return 0;
	wire_reader_init(&rd, imsg.data, imsg.datalen);
	wire_get_i32(&rd, r);
	if (rd.error == 0 && *r == 1 && wire_remaining(&rd) > 0)
		wire_get_cstr(&rd, &v);
	ok = imsg.hdr.type == PROC_TABLE_OK && wire_end(&rd) == 0;
	if (v)
		strlcpy(value, v, size);
	imsg_free(&imsg);
	return ok;
}

/* dispatch_test_session - a whole good conversation */
static void
dispatch_test_session(void)
{
	static const char *const kv[] = { "a", "1", "b", "2" };
	struct peer	 p;
	struct imsg			 imsg;
	char				 v[IMSG_MAX_PAYLOAD];
	int32_t				 r;
	int				 got;

	peer_start(&p, dispatch_test_serve);
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.hdr.type == PROC_TABLE_OK && imsg.datalen == 0 &&
	    imsg.hdr.len == 16, "session: OPEN answered by an empty OK");
	if (got)
		imsg_free(&imsg);

	dispatch_test_request(&p, PROC_TABLE_CHECK, K_DOMAIN, "yes", 0, NULL);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.datalen == 4 && !memcmp(imsg.data, "\1\0\0\0", 4),
	    "session: CHECK present -> exactly 01 00 00 00");
	if (got)
		imsg_free(&imsg);
	dispatch_test_request(&p, PROC_TABLE_CHECK, K_DOMAIN, "no", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 0,
	    "session: CHECK absent -> 0");
	dispatch_test_request(&p, PROC_TABLE_CHECK, K_DOMAIN, "err", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: CHECK error -> -1, helper goes on");

	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_USERINFO, "vmail", 0,
	    NULL);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.datalen == 4 + 9 &&
	    !memcmp(imsg.data, "\1\0\0\0vmail:16\0", 13),
	    "session: LOOKUP found -> r=1 then the value cstr");
	if (got)
		imsg_free(&imsg);
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "missing", 0,
	    NULL);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.datalen == 4 && !memcmp(imsg.data, "\0\0\0\0", 4),
	    "session: LOOKUP not found -> r=0 and no value");
	if (got)
		imsg_free(&imsg);
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_RELAYHOST, "x", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: LOOKUP unsupported service -> -1");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, 0x1000, "x", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: LOOKUP unknown service bit -> -1");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS | K_DOMAIN, "x",
	    0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: LOOKUP two service bits -> -1");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "weird", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: callback returning 7 -> -1");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "unterminated",
	    0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: unterminated value -> -1");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "big", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    strlen(v) == API_TABLE_VALUE_MAX - 1,
	    "session: largest value fills a 16384-byte frame");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "params", 2, kv);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    !strcmp(v, "n=2 a=1"), "session: parameters reach the callback");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "params", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    !strcmp(v, "n=0 a=-"), "session: parameters do not leak across");

	dispatch_test_request(&p, PROC_TABLE_FETCH, K_SOURCE, NULL, 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    !strcmp(v, "192.0.2.10"), "session: FETCH first value");
	dispatch_test_request(&p, PROC_TABLE_FETCH, K_SOURCE, NULL, 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    !strcmp(v, "192.0.2.11"), "session: FETCH next value");
	dispatch_test_request(&p, PROC_TABLE_FETCH, K_ALIAS, NULL, 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "session: FETCH unsupported service -> -1");

	peer_send(&p, PROC_TABLE_UPDATE, NULL, 0);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1,
	    "session: UPDATE -> 1");
	CHECK(!strcmp(table_api_get_name(), ""),
	    "session: name is per process (parent never opened)");

	peer_send(&p, PROC_TABLE_CLOSE, NULL, 0);
	CHECK(peer_exit(&p) == 0, "session: CLOSE -> exit 0");
}

/*
 * A backend with a context (table_backend.h): table_api_serve hands
 * each method the context it was given, refuses services the backend
 * does not declare, and answers -1 for a method it lacks.
 */
struct dispatch_test_ctx {
	char	prefix[16];
	int	updates;
};

/* dispatch_test_ctx_lookup - "<prefix>:<key>"; "none" is not found */
static int
dispatch_test_ctx_lookup(void *ctx, enum table_service service,
    const char *key, char *dst, size_t dstsz)
{
	struct dispatch_test_ctx	*c = ctx;

	if (strcmp(key, "none") == 0)
		return 0;
	snprintf(dst, dstsz, "%s:%s:%d", c->prefix, key, c->updates);
	return 1;
}

/* dispatch_test_ctx_update - counts reloads in the context */
static int
dispatch_test_ctx_update(void *ctx)
{
	struct dispatch_test_ctx	*c = ctx;

	return ++c->updates > 1 ? 0 : 1;
}

static const struct table_backend dispatch_test_backend = {
	.version = TABLE_BACKEND_V1,
	.name = "test",
	.services = K_ALIAS | K_USERINFO,
	.update = dispatch_test_ctx_update,
	.lookup = dispatch_test_ctx_lookup,
};

/* dispatch_test_backend_serve - the helper: a backend, not callbacks */
static int
dispatch_test_backend_serve(int fd)
{
	struct dispatch_test_ctx	ctx = { "ctx", 0 };

	return table_api_serve_fd(&dispatch_test_backend, &ctx, fd);
}

/* dispatch_test_backend_session - table_api_serve with a context */
static void
dispatch_test_backend_session(void)
{
	struct peer	p;
	struct imsg	imsg;
	char		v[IMSG_MAX_PAYLOAD];
	int32_t		r;
	int		got;

	peer_start(&p, dispatch_test_backend_serve);
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.hdr.type == PROC_TABLE_OK && imsg.datalen == 0,
	    "backend: OPEN answered by an empty OK");
	if (got)
		imsg_free(&imsg);
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "k", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    !strcmp(v, "ctx:k:0"), "backend: LOOKUP gets its context");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_USERINFO, "none", 0,
	    NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 0,
	    "backend: LOOKUP not found -> 0");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_DOMAIN, "k", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "backend: a service it does not declare -> -1");
	dispatch_test_request(&p, PROC_TABLE_CHECK, K_ALIAS, "k", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "backend: no check method -> -1");
	dispatch_test_request(&p, PROC_TABLE_FETCH, K_ALIAS, NULL, 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == -1,
	    "backend: no fetch method -> -1");
	peer_send(&p, PROC_TABLE_UPDATE, NULL, 0);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1,
	    "backend: UPDATE -> the method's 1");
	dispatch_test_request(&p, PROC_TABLE_LOOKUP, K_ALIAS, "k", 0, NULL);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 1 &&
	    !strcmp(v, "ctx:k:1"), "backend: the context keeps its state");
	peer_send(&p, PROC_TABLE_UPDATE, NULL, 0);
	CHECK(dispatch_test_answer(&p, &r, v, sizeof v) && r == 0,
	    "backend: a failed UPDATE -> 0");
	peer_send(&p, PROC_TABLE_CLOSE, NULL, 0);
	CHECK(peer_exit(&p) == 0, "backend: CLOSE -> exit 0");
}

/* dispatch_test_eof - the daemon goes away: exit 0 */
static void
dispatch_test_eof(void)
{
	struct peer	p;

	peer_start(&p, dispatch_test_serve);
	CHECK(peer_stop(&p) == 0, "eof before OPEN -> exit 0");
	peer_start(&p, dispatch_test_serve);
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE);
	CHECK(peer_stop(&p) == 0, "eof after OPEN -> exit 0");
}

/* dispatch_test_bad - every protocol violation ends with exit 1 */
static void
dispatch_test_bad(void)
{
	struct peer	 p;
	unsigned char			 raw[64];
	size_t				 n;

	peer_start(&p, dispatch_test_serve);
	dispatch_test_open(&p, 1, TABLE_OPEN_PARAMS_SIZE);
	CHECK(peer_exit(&p) == 1, "bad: OPEN version 1 -> exit 1");

	peer_start(&p, dispatch_test_serve);
	dispatch_test_open(&p, 2, 2048);
	CHECK(peer_exit(&p) == 1, "bad: 2048-byte OPEN -> exit 1");

	peer_start(&p, dispatch_test_serve);
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE + 1);
	CHECK(peer_exit(&p) == 1, "bad: 2053-byte OPEN -> exit 1");

	peer_start(&p, dispatch_test_serve);
	memset(raw, 'n', sizeof raw);
	{
		unsigned char	open[TABLE_OPEN_PARAMS_SIZE];
		uint32_t	version = 2;

		memset(open, 'n', sizeof open);
		memcpy(open, &version, 4);
		peer_send(&p, PROC_TABLE_OPEN, open, sizeof open);
	}
	CHECK(peer_exit(&p) == 1,
	    "bad: OPEN name without NUL -> exit 1");

	peer_start(&p, dispatch_test_serve);
	dispatch_test_request(&p, PROC_TABLE_CHECK, K_DOMAIN, "yes", 0, NULL);
	CHECK(peer_exit(&p) == 1, "bad: CHECK before OPEN -> exit 1");

	peer_start(&p, dispatch_test_serve);
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE);
	peer_skip(&p);
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE);
	CHECK(peer_exit(&p) == 1, "bad: second OPEN -> exit 1");

#define BAD_AFTER_OPEN(send, what) do {					\
	peer_start(&p, dispatch_test_serve);				\
	dispatch_test_open(&p, 2, TABLE_OPEN_PARAMS_SIZE);		\
	peer_skip(&p);							\
	send;								\
	CHECK(peer_exit(&p) == 1, what);				\
} while (0)
	BAD_AFTER_OPEN(peer_send(&p, 42, NULL, 0),
	    "bad: unknown type 42 -> exit 1");
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_OK, NULL, 0),
	    "bad: OK sent to the helper -> exit 1");
	memcpy(raw, "\x02\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
	    "example.com", 23);
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_CHECK, raw, 23),
	    "bad: key without NUL -> exit 1");
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_LOOKUP, raw, 12),
	    "bad: LOOKUP without a key -> exit 1");
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_LOOKUP, raw, 3),
	    "bad: LOOKUP shorter than service -> exit 1");
	n = 0;
	memcpy(raw, "\x02\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
	    "k\0zz\0", 18);
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_CHECK, raw, 18),
	    "bad: bytes after the key -> exit 1");
	memcpy(raw, "\x20\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
	    "k\0", 14);
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_FETCH, raw, 14),
	    "bad: FETCH with trailing bytes -> exit 1");
	memcpy(raw, "\x02\x00\x00\x00" "\xff\xff\xff\xff\xff\xff\xff\xff"
	    "k\0", 14);
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_CHECK, raw, 14),
	    "bad: nparams 2^64-1 -> exit 1");
	memcpy(raw, "\x02\x00\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
	    "kk", 14);
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_CHECK, raw, 14),
	    "bad: parameter without NUL -> exit 1");
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_UPDATE, "x", 1),
	    "bad: UPDATE with a payload -> exit 1");
	BAD_AFTER_OPEN(peer_send(&p, PROC_TABLE_CLOSE, "x", 1),
	    "bad: CLOSE with a payload -> exit 1");
	memset(raw, 0, 16);
	raw[0] = 5;
	raw[4] = 8;		/* len 8 < 16 */
	BAD_AFTER_OPEN((void)!write(p.fd, raw, 16),
	    "bad: frame len 8 -> exit 1");
	(void)n;
#undef BAD_AFTER_OPEN
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	dispatch_test_session();
	dispatch_test_backend_session();
	dispatch_test_eof();
	dispatch_test_bad();
	return test_done();
}
