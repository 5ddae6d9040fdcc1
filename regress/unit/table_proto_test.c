/*
 * table_proto_test.c -- unit tests for api/table_proto.c, the one codec
 * of the proc table protocol (libexec-protocols.md 4).
 *
 * Every request (OPEN, CLOSE, UPDATE, CHECK, LOOKUP, FETCH, with and
 * without parameters) and every reply round-trips through encode and
 * decode; the bytes are those the spec gives (the CHECK example of 4.3,
 * the OPEN frame of 4.2); and every truncation of each message, and each
 * with one byte more, is refused with a reason.  Decoded buffers are
 * exact-size heap copies so that ASan builds catch any overread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_limits.h"
#include "imsgbuf.h"
#include "table_proto.h"
#include "test.h"

typedef int (*tp_encode_fn)(const struct table_msg *, struct wire_writer *);
typedef int (*tp_decode_fn)(uint32_t, const void *, size_t,
    struct table_msg *);

static unsigned char	tp_buf[IMSG_MAX_PAYLOAD + 64];

/* tp_dup - exact-size heap copy, so an overread trips ASan */
static unsigned char *
tp_dup(const void *p, size_t n)
{
	unsigned char	*q;

	if ((q = malloc(n ? n : 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	if (n)
		memcpy(q, p, n);
	return q;
}

/* tp_encode - M with FN into tp_buf: its length, or -1 */
static long
tp_encode(tp_encode_fn fn, const struct table_msg *m)
{
	struct wire_writer	w;

	wire_writer_init(&w, tp_buf, sizeof tp_buf);
	if (fn(m, &w) == -1)
		return -1;
	return (long)w.len;
}

/* tp_decode - LEN bytes of P (copied exactly) decoded with FN */
static int
tp_decode(tp_decode_fn fn, uint32_t type, const void *p, size_t len,
    struct table_msg *m, unsigned char **copy)
{
	*copy = tp_dup(p, len);
	return fn(type, *copy, len, m);
}

/* tp_strict - every cut of the LEN bytes in tp_buf, and one byte more,
 * refused with a reason */
static void
tp_strict(tp_decode_fn fn, uint32_t type, size_t len, const char *what)
{
	struct table_msg	 m;
	unsigned char		*copy, *more;
	char			 name[160];
	size_t			 cut, refused = 0, cuts = 0;

	for (cut = 0; cut < len; cut++) {
		cuts++;
		if (tp_decode(fn, type, tp_buf, cut, &m, &copy) == -1 &&
		    m.error != NULL)
			refused++;
		free(copy);
	}
	snprintf(name, sizeof name, "%s: all %zu truncations refused", what,
	    cuts);
	CHECK(refused == cuts, name);
	more = tp_dup(tp_buf, len + 1);
	more[len] = '\0';
	snprintf(name, sizeof name, "%s: a trailing byte refused", what);
	CHECK(fn(type, more, len + 1, &m) == -1 && m.error != NULL, name);
	more[len] = 'x';
	snprintf(name, sizeof name, "%s: a trailing 'x' refused", what);
	CHECK(fn(type, more, len + 1, &m) == -1, name);
	free(more);
}

/* tp_test_open - OPEN: version 2 and the name, zero-padded, 2052 bytes */
static void
tp_test_open(void)
{
	struct table_msg	 m, d;
	unsigned char		*copy;
	long			 n;

	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_OPEN;
	m.version = PROC_TABLE_API_VERSION;
	m.name = "spy";
	n = tp_encode(table_proto_encode_request, &m);
	CHECK(n == TABLE_OPEN_PARAMS_SIZE, "open: 2052 bytes");
	CHECK(memcmp(tp_buf, "\x02\0\0\0spy\0\0", 9) == 0,
	    "open: bytes as 4.2 gives them");
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_OPEN, tp_buf,
	    (size_t)n, &d, &copy) == 0 && d.version == 2 &&
	    strcmp(d.name, "spy") == 0, "open: round trip");
	free(copy);
	tp_strict(table_proto_decode_request, PROC_TABLE_OPEN, (size_t)n,
	    "open");

	/* the name must end inside its 2048 bytes */
	memset(tp_buf + 4, 'a', TABLE_OPEN_PARAMS_SIZE - 4);
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_OPEN, tp_buf,
	    TABLE_OPEN_PARAMS_SIZE, &d, &copy) == -1 && d.error != NULL,
	    "open: unterminated name refused");
	free(copy);
	/* and a name of 2048 bytes does not fit */
	{
		static char	long_name[API_NAME_MAX + 1];

		memset(long_name, 'n', API_NAME_MAX);
		m.name = long_name;
		CHECK(tp_encode(table_proto_encode_request, &m) == -1,
		    "open: a name of 2048 bytes not encoded");
		long_name[API_NAME_MAX - 1] = '\0';
		CHECK(tp_encode(table_proto_encode_request, &m) ==
		    TABLE_OPEN_PARAMS_SIZE, "open: 2047 bytes fit");
	}
	/* OPEN's answer is empty */
	CHECK(table_proto_decode_reply(PROC_TABLE_OPEN, "", 0, &d) == 0,
	    "open reply: empty accepted");
	CHECK(table_proto_decode_reply(PROC_TABLE_OPEN, "\0\0\0\0", 4,
	    &d) == -1, "open reply: a payload refused");
	m.type = PROC_TABLE_OPEN;
	CHECK(tp_encode(table_proto_encode_reply, &m) == 0,
	    "open reply: encoded empty");
}

/* tp_test_empty - CLOSE and UPDATE requests are empty */
static void
tp_test_empty(void)
{
	static const uint32_t	 types[] = { PROC_TABLE_CLOSE,
	    PROC_TABLE_UPDATE };
	struct table_msg	 m, d;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		memset(&m, 0, sizeof m);
		m.type = types[i];
		m.key = "ignored";
		CHECK(tp_encode(table_proto_encode_request, &m) == 0,
		    table_proto_name(types[i]));
		CHECK(table_proto_decode_request(types[i], "", 0, &d) == 0 &&
		    d.type == types[i], "empty request decodes");
		CHECK(table_proto_decode_request(types[i], "\0", 1, &d) == -1 &&
		    d.error != NULL, "empty request: one byte refused");
	}
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_CLOSE;
	CHECK(tp_encode(table_proto_encode_reply, &m) == -1,
	    "close has no reply");
	CHECK(table_proto_decode_reply(PROC_TABLE_CLOSE, "\0\0\0\0", 4,
	    &d) == -1, "close: no reply decodes");
	CHECK(table_proto_decode_request(PROC_TABLE_OK, "", 0, &d) == -1 &&
	    table_proto_decode_request(8, "", 0, &d) == -1,
	    "OK and unknown types are no requests");
}

/* tp_test_queries - CHECK, LOOKUP, FETCH, with and without params */
static void
tp_test_queries(void)
{
	static const unsigned char	 check[] = {
		0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0 };
	static const char		 params[] = "a\0one\0bb\0two";
	struct table_msg		 m, d;
	unsigned char			*copy;
	const char			*k, *v;
	size_t				 off;
	long				 n;

	/* the example of 4.3, byte for byte */
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_CHECK;
	m.service = K_DOMAIN;
	m.key = "example.com";
	n = tp_encode(table_proto_encode_request, &m);
	CHECK(n == sizeof check && memcmp(tp_buf, check, sizeof check) == 0,
	    "check: the bytes of 4.3's example");
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_CHECK, tp_buf,
	    (size_t)n, &d, &copy) == 0 && d.service == K_DOMAIN &&
	    d.nparams == 0 && d.paramslen == 0 &&
	    strcmp(d.key, "example.com") == 0, "check: round trip");
	free(copy);
	tp_strict(table_proto_decode_request, PROC_TABLE_CHECK, (size_t)n,
	    "check");

	/* a lookup with two parameters, as the extras glue accepts them */
	m.type = PROC_TABLE_LOOKUP;
	m.service = K_ALIAS;
	m.key = "bob";
	m.nparams = 2;
	m.params = params;
	m.paramslen = sizeof params;
	n = tp_encode(table_proto_encode_request, &m);
	CHECK(n == 4 + 8 + (long)sizeof params + 4, "lookup: length");
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_LOOKUP, tp_buf,
	    (size_t)n, &d, &copy) == 0 && d.service == K_ALIAS &&
	    d.nparams == 2 && d.paramslen == sizeof params &&
	    strcmp(d.key, "bob") == 0, "lookup with params: round trip");
	off = 0;
	CHECK(table_proto_param_next(&d, &off, &k, &v) == 1 &&
	    strcmp(k, "a") == 0 && strcmp(v, "one") == 0, "param 1");
	CHECK(table_proto_param_next(&d, &off, &k, &v) == 1 &&
	    strcmp(k, "bb") == 0 && strcmp(v, "two") == 0, "param 2");
	CHECK(table_proto_param_next(&d, &off, &k, &v) == 0, "params end");
	free(copy);
	tp_strict(table_proto_decode_request, PROC_TABLE_LOOKUP, (size_t)n,
	    "lookup with params");
	m.nparams = 3;
	CHECK(tp_encode(table_proto_encode_request, &m) == -1,
	    "lookup: params that are not nparams pairs not encoded");
	m.nparams = 2;
	m.key = NULL;
	CHECK(tp_encode(table_proto_encode_request, &m) == -1,
	    "lookup: no key, not encoded");

	/* fetch: no key; the cut at 12 bytes is a fetch without params */
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_FETCH;
	m.service = K_SOURCE;
	n = tp_encode(table_proto_encode_request, &m);
	CHECK(n == 12, "fetch: 12 bytes");
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_FETCH, tp_buf,
	    (size_t)n, &d, &copy) == 0 && d.service == K_SOURCE &&
	    d.key == NULL, "fetch: round trip");
	free(copy);
	tp_strict(table_proto_decode_request, PROC_TABLE_FETCH, (size_t)n,
	    "fetch");
	m.key = "k";
	CHECK(tp_encode(table_proto_encode_request, &m) == -1,
	    "fetch: a key not encoded");

	/* a parameter count the payload cannot hold */
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_CHECK;
	m.key = "x";
	n = tp_encode(table_proto_encode_request, &m);
	memset(tp_buf + 4, 0xff, 8);
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_CHECK, tp_buf,
	    (size_t)n, &d, &copy) == -1 && d.error != NULL,
	    "check: a huge parameter count refused");
	free(copy);
	/* a key with a NUL inside leaves garbage after it */
	CHECK(tp_decode(table_proto_decode_request, PROC_TABLE_CHECK,
	    "\x02\0\0\0\0\0\0\0\0\0\0\0a\0b", 16, &d, &copy) == -1 &&
	    d.error != NULL, "check: bytes after the key refused");
	free(copy);
}

/* tp_test_replies - r alone, r and a value, and their refusals */
static void
tp_test_replies(void)
{
	static const uint32_t	 types[] = { PROC_TABLE_UPDATE,
	    PROC_TABLE_CHECK, PROC_TABLE_LOOKUP, PROC_TABLE_FETCH };
	static char		 big[API_TABLE_VALUE_MAX + 1];
	struct table_msg	 m, d;
	unsigned char		*copy;
	char			 name[96];
	size_t			 i;
	long			 n;
	int			 r;

	for (i = 0; i < 4; i++) {
		for (r = -1; r <= 1; r++) {
			memset(&m, 0, sizeof m);
			m.type = types[i];
			m.r = r;
			m.value = "bob@example.com";
			n = tp_encode(table_proto_encode_reply, &m);
			snprintf(name, sizeof name, "%s reply r=%d",
			    table_proto_name(types[i]), r);
			CHECK(n == (r == 1 && table_proto_has_value(types[i]) ?
			    4 + 16 : 4), name);
			CHECK(tp_decode(table_proto_decode_reply, types[i],
			    tp_buf, (size_t)n, &d, &copy) == 0 && d.r == r &&
			    (n == 4 ? d.value == NULL : d.value != NULL &&
			    d.valuelen == 15 &&
			    strcmp(d.value, "bob@example.com") == 0), name);
			free(copy);
			tp_strict(table_proto_decode_reply, types[i],
			    (size_t)n, name);
		}
		memset(&m, 0, sizeof m);
		m.type = types[i];
		m.r = 2;
		CHECK(tp_encode(table_proto_encode_reply, &m) == -1,
		    "r=2 not encoded");
		CHECK(table_proto_decode_reply(types[i], "\x02\0\0\0", 4,
		    &d) == -1 && d.error != NULL, "r=2 refused");
		CHECK(table_proto_decode_reply(types[i], "\xfe\xff\xff\xff", 4,
		    &d) == -1, "r=-2 refused");
	}
	/* values: missing, with a NUL inside, at and over the limit */
	CHECK(table_proto_decode_reply(PROC_TABLE_LOOKUP, "\x01\0\0\0", 4,
	    &d) == -1, "lookup r=1 without a value refused");
	CHECK(table_proto_decode_reply(PROC_TABLE_LOOKUP,
	    "\x01\0\0\0a\0b\0", 8, &d) == -1, "two values refused");
	CHECK(table_proto_decode_reply(PROC_TABLE_FETCH,
	    "\x01\0\0\0ab", 6, &d) == -1, "unterminated value refused");
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_LOOKUP;
	m.r = 1;
	m.value = NULL;
	CHECK(tp_encode(table_proto_encode_reply, &m) == -1,
	    "r=1 without a value not encoded");
	memset(big, 'v', sizeof big - 1);
	big[API_TABLE_VALUE_MAX - 1] = '\0';
	m.value = big;
	n = tp_encode(table_proto_encode_reply, &m);
	CHECK(n == IMSG_MAX_PAYLOAD, "the longest value fills a payload");
	CHECK(tp_decode(table_proto_decode_reply, PROC_TABLE_LOOKUP, tp_buf,
	    (size_t)n, &d, &copy) == 0 &&
	    d.valuelen == API_TABLE_VALUE_MAX - 1, "the longest value decodes");
	free(copy);
	big[API_TABLE_VALUE_MAX - 1] = 'v';
	CHECK(tp_encode(table_proto_encode_reply, &m) == -1,
	    "a value one byte longer not encoded");
	memcpy(tp_buf, "\x01\0\0\0", 4);
	memcpy(tp_buf + 4, big, sizeof big);
	CHECK(tp_decode(table_proto_decode_reply, PROC_TABLE_LOOKUP, tp_buf,
	    4 + sizeof big, &d, &copy) == -1 && d.error != NULL,
	    "a value one byte longer refused");
	free(copy);
}

int
main(void)
{
	tp_test_open();
	tp_test_empty();
	tp_test_queries();
	tp_test_replies();
	return test_done();
}
