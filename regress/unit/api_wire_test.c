/*
 * api_wire_test.c -- unit tests for api/wire.c, the typed payload codec.
 *
 * Every put/get pair round-trips, the byte layout is the unpadded native
 * layout of libexec-protocols.md section 3, and every malformed payload
 * (short, oversized, unterminated, bad tag, trailing bytes) is refused
 * through the sticky error, never by reading past the buffer.  Buffers
 * under test are heap copies of exact size so that ASan builds catch
 * any overrun.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "test.h"

/* wire_test_dup - exact-size heap copy, so an overread trips ASan */
static unsigned char *
wire_test_dup(const void *p, size_t n)
{
	unsigned char	*q;

	q = malloc(n ? n : 1);
	if (q == NULL) {
		perror("malloc");
		exit(2);
	}
	if (n)
		memcpy(q, p, n);
	return q;
}

/* wire_test_scalars - every fixed-size type round-trips, unpadded */
static void
wire_test_scalars(void)
{
	unsigned char		 buf[64];
	struct wire_writer	 w;
	struct wire_reader	 r;
	uint16_t		 u16;
	int32_t			 i32;
	uint32_t		 u32;
	uint64_t		 u64;
	size_t			 sz;
	time_t			 tt;
	unsigned char		 raw[3];

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_u16(&w, 0xbeef);
	wire_put_i32(&w, -2);
	wire_put_u32(&w, 0xdeadbeefu);
	wire_put_u64(&w, 0x0102030405060708ull);
	wire_put_sz(&w, (size_t)12345678901ull);
	wire_put_tt(&w, (time_t)1700000000);
	wire_put_raw(&w, "abc", 3);
	CHECK(wire_writer_error(&w) == 0, "scalars: writer has no error");
	CHECK(w.len == 2 + 4 + 4 + 8 + 8 + 8 + 3,
	    "scalars: fields follow each other with no padding");
	CHECK(memcmp(buf + 2, "\xfe\xff\xff\xff", 4) == 0,
	    "scalars: i32 -2 is native little-endian at offset 2");

	wire_reader_init(&r, buf, w.len);
	CHECK(wire_get_u16(&r, &u16) == 0 && u16 == 0xbeef, "get u16");
	CHECK(wire_get_i32(&r, &i32) == 0 && i32 == -2, "get i32");
	CHECK(wire_get_u32(&r, &u32) == 0 && u32 == 0xdeadbeefu, "get u32");
	CHECK(wire_get_u64(&r, &u64) == 0 && u64 == 0x0102030405060708ull,
	    "get u64");
	CHECK(wire_get_sz(&r, &sz) == 0 && sz == (size_t)12345678901ull,
	    "get sz");
	CHECK(wire_get_tt(&r, &tt) == 0 && tt == (time_t)1700000000,
	    "get tt");
	CHECK(wire_get_raw(&r, raw, 3) == 0 && memcmp(raw, "abc", 3) == 0,
	    "get raw");
	CHECK(wire_remaining(&r) == 0, "scalars: nothing remains");
	CHECK(wire_end(&r) == 0, "scalars: wire_end accepts exact payload");
}

/* wire_test_table_check - the spec's verified CHECK payload, byte exact */
static void
wire_test_table_check(void)
{
	static const unsigned char want[] =
	    "\x02\x00\x00\x00" "\x00\x00\x00\x00\x00\x00\x00\x00"
	    "example.com";	/* the literal's own NUL ends the key */
	unsigned char		 buf[64];
	struct wire_writer	 w;
	struct wire_reader	 r;
	int32_t			 service;
	size_t			 n;
	const char		*key;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, 2);
	wire_put_sz(&w, 0);
	wire_put_cstr(&w, "example.com");
	CHECK(wire_writer_error(&w) == 0 && w.len == sizeof want &&
	    memcmp(buf, want, sizeof want) == 0,
	    "CHECK domain example.com payload matches spec 4.3 (24 bytes)");

	wire_reader_init(&r, want, sizeof want);
	wire_get_i32(&r, &service);
	wire_get_sz(&r, &n);
	wire_get_cstr(&r, &key);
	CHECK(wire_end(&r) == 0 && service == 2 && n == 0,
	    "CHECK payload decodes");
	CHECK_STR(key, "example.com", "CHECK key decodes");
}

/* wire_test_strings - cstr and tagged str, NULL, empty, bad tags */
static void
wire_test_strings(void)
{
	unsigned char		 buf[64], *p;
	struct wire_writer	 w;
	struct wire_reader	 r;
	const char		*s1, *s2, *s3, *s4;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_cstr(&w, "ab");
	wire_put_cstr(&w, "");
	wire_put_str(&w, "xy");
	wire_put_str(&w, NULL);
	CHECK(wire_writer_error(&w) == 0 && w.len == 3 + 1 + 4 + 1,
	    "strings: sizes are cstr n+1, str 1+n+1, NULL str 1");
	CHECK(memcmp(buf, "ab\0\0sxy\0\0", 9) == 0,
	    "strings: tag byte is 's' (0x73), NULL is a single 0x00");

	p = wire_test_dup(buf, w.len);
	wire_reader_init(&r, p, w.len);
	s4 = "sentinel";
	wire_get_cstr(&r, &s1);
	wire_get_cstr(&r, &s2);
	wire_get_str(&r, &s3);
	wire_get_str(&r, &s4);
	CHECK(wire_end(&r) == 0, "strings: all decoded, nothing left");
	CHECK_STR(s1, "ab", "cstr round-trips");
	CHECK_STR(s2, "", "empty cstr round-trips");
	CHECK_STR(s3, "xy", "tagged str round-trips");
	CHECK(s4 == NULL, "tagged NULL string decodes as NULL");
	free(p);

	/* cstr without its NUL */
	p = wire_test_dup("abc", 3);
	wire_reader_init(&r, p, 3);
	CHECK(wire_get_cstr(&r, &s1) == -1 && r.error == EBADMSG,
	    "cstr missing NUL is refused with EBADMSG");
	free(p);

	/* cstr on an empty payload */
	wire_reader_init(&r, NULL, 0);
	CHECK(wire_get_cstr(&r, &s1) == -1, "cstr on empty payload is refused");

	/* tagged str without its NUL */
	p = wire_test_dup("sabc", 4);
	wire_reader_init(&r, p, 4);
	CHECK(wire_get_str(&r, &s1) == -1, "tagged str missing NUL is refused");
	free(p);

	/* tagged str with a tag that is neither 0 nor 's' */
	p = wire_test_dup("xabc", 5);
	wire_reader_init(&r, p, 5);
	CHECK(wire_get_str(&r, &s1) == -1, "tagged str with bad tag is refused");
	free(p);

	/* tagged str with the tag only */
	p = wire_test_dup("s", 1);
	wire_reader_init(&r, p, 1);
	CHECK(wire_get_str(&r, &s1) == -1, "tagged str with tag only is refused");
	free(p);

	/* put_cstr(NULL) is an error, not a crash */
	wire_writer_init(&w, buf, sizeof buf);
	CHECK(wire_put_cstr(&w, NULL) == -1 && wire_writer_error(&w) == EINVAL,
	    "put_cstr(NULL) fails with EINVAL");
}

/* wire_test_data - data and sockaddr fields */
static void
wire_test_data(void)
{
	unsigned char		 buf[128], *p;
	struct wire_writer	 w;
	struct wire_reader	 r;
	const void		*d1, *d2;
	size_t			 n1, n2, alen;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	 small;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(0xc0000201);
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(587);
	sin6.sin6_addr.s6_addr[15] = 1;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_data(&w, "hello", 5);
	wire_put_data(&w, NULL, 0);
	wire_put_addr(&w, (struct sockaddr *)&sin, sizeof sin);
	wire_put_addr(&w, (struct sockaddr *)&sin6, sizeof sin6);
	CHECK(wire_writer_error(&w) == 0 &&
	    w.len == 8 + 5 + 8 + 8 + 16 + 8 + 28,
	    "data/addr: size_t length then the bytes");

	p = wire_test_dup(buf, w.len);
	wire_reader_init(&r, p, w.len);
	wire_get_data(&r, &d1, &n1);
	wire_get_data(&r, &d2, &n2);
	CHECK(r.error == 0 && n1 == 5 && memcmp(d1, "hello", 5) == 0,
	    "data round-trips");
	CHECK(d2 == NULL && n2 == 0, "zero-length data reads as NULL");
	CHECK(wire_get_addr(&r, (struct sockaddr *)&ss, sizeof ss, &alen) == 0 &&
	    alen == sizeof sin && memcmp(&ss, &sin, sizeof sin) == 0,
	    "sockaddr_in round-trips (16 bytes)");
	CHECK(wire_get_addr(&r, (struct sockaddr *)&ss, sizeof ss, &alen) == 0 &&
	    alen == sizeof sin6 && memcmp(&ss, &sin6, sizeof sin6) == 0,
	    "sockaddr_in6 round-trips (28 bytes)");
	CHECK(wire_end(&r) == 0, "data/addr: nothing left");
	free(p);

	/* data length larger than what remains */
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_sz(&w, 100);
	wire_put_raw(&w, "abc", 3);
	p = wire_test_dup(buf, w.len);
	wire_reader_init(&r, p, w.len);
	CHECK(wire_get_data(&r, &d1, &n1) == -1, "data longer than payload refused");
	free(p);

	/* data length that would wrap the offset */
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_sz(&w, SIZE_MAX);
	p = wire_test_dup(buf, w.len);
	wire_reader_init(&r, p, w.len);
	CHECK(wire_get_data(&r, &d1, &n1) == -1, "data length SIZE_MAX refused");
	free(p);

	/* address larger than the caller's buffer */
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_addr(&w, (struct sockaddr *)&sin6, sizeof sin6);
	p = wire_test_dup(buf, w.len);
	wire_reader_init(&r, p, w.len);
	CHECK(wire_get_addr(&r, (struct sockaddr *)&small, sizeof small,
	    &alen) == -1, "address larger than destination refused");
	free(p);

	/* zero-length address */
	wire_writer_init(&w, buf, sizeof buf);
	wire_put_sz(&w, 0);
	p = wire_test_dup(buf, w.len);
	wire_reader_init(&r, p, w.len);
	CHECK(wire_get_addr(&r, (struct sockaddr *)&ss, sizeof ss, &alen) == -1,
	    "zero-length address refused");
	free(p);

	/* put_addr with an oversized length */
	wire_writer_init(&w, buf, sizeof buf);
	CHECK(wire_put_addr(&w, (struct sockaddr *)&ss, sizeof ss + 1) == -1 &&
	    wire_writer_error(&w) == EINVAL, "put_addr over sockaddr_storage fails");
}

/* wire_test_truncated - every getter refuses a payload one byte short */
static void
wire_test_truncated(void)
{
	static const unsigned char	 zeros[16];
	struct wire_reader		 r;
	unsigned char			*p;
	uint16_t			 u16;
	int32_t				 i32;
	uint32_t			 u32;
	uint64_t			 u64;
	size_t				 sz, n;
	time_t				 tt;
	const void			*d;
	struct sockaddr_storage		 ss;

#define TRUNC(len, call, what) do {					\
	p = wire_test_dup(zeros, (len));				\
	wire_reader_init(&r, p, (len));					\
	CHECK((call) == -1 && r.error == EBADMSG, what);		\
	free(p);							\
} while (0)
	TRUNC(1, wire_get_u16(&r, &u16), "u16 from 1 byte refused");
	TRUNC(3, wire_get_i32(&r, &i32), "i32 from 3 bytes refused");
	TRUNC(3, wire_get_u32(&r, &u32), "u32 from 3 bytes refused");
	TRUNC(7, wire_get_u64(&r, &u64), "u64 from 7 bytes refused");
	TRUNC(7, wire_get_sz(&r, &sz), "sz from 7 bytes refused");
	TRUNC(7, wire_get_tt(&r, &tt), "tt from 7 bytes refused");
	TRUNC(0, wire_get_raw(&r, &ss, 1), "raw from 0 bytes refused");
	TRUNC(7, wire_get_data(&r, &d, &n), "data length from 7 bytes refused");
	TRUNC(4, wire_get_addr(&r, (struct sockaddr *)&ss, sizeof ss, &n),
	    "addr length from 4 bytes refused");
#undef TRUNC
}

/* wire_test_sticky - after the first failure every call fails */
static void
wire_test_sticky(void)
{
	unsigned char		 buf[8], *p;
	struct wire_writer	 w;
	struct wire_reader	 r;
	uint64_t		 u64;
	uint16_t		 u16;
	const char		*s;
	const void		*d;
	size_t			 n;

	p = wire_test_dup("\x01\x02\x03\x04", 4);
	wire_reader_init(&r, p, 4);
	CHECK(wire_get_u64(&r, &u64) == -1, "sticky: first get fails");
	CHECK(wire_get_u16(&r, &u16) == -1,
	    "sticky: a get that would fit still fails");
	CHECK(wire_get_rest(&r, &d, &n) == -1, "sticky: get_rest fails");
	CHECK(wire_get_cstr(&r, &s) == -1, "sticky: get_cstr fails");
	CHECK(wire_end(&r) == -1, "sticky: wire_end reports the failure");
	free(p);

	wire_writer_init(&w, buf, sizeof buf);
	CHECK(wire_put_u64(&w, 1) == 0 && w.len == 8, "writer: exact fit ok");
	CHECK(wire_put_raw(&w, "x", 1) == -1 && wire_writer_error(&w) == ERANGE,
	    "writer overflow sets ERANGE");
	CHECK(wire_put_raw(&w, "", 0) == -1,
	    "writer: after overflow even an empty put fails");
	CHECK(w.len == 8, "writer: overflow did not move the length");

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_u32(&w, 1);
	CHECK(wire_put_u64(&w, 1) == -1 && wire_writer_error(&w) == ERANGE &&
	    w.len == 4, "writer: a field that does not fit is not partly written");
	CHECK(wire_put_u16(&w, 1) == -1, "writer: sticky after overflow");
	wire_writer_init(&w, buf, sizeof buf);
	CHECK(wire_put_cstr(&w, "12345678") == -1 &&
	    wire_writer_error(&w) == ERANGE, "writer: cstr with NUL over size");
	wire_writer_init(&w, buf, sizeof buf);
	CHECK(wire_put_data(&w, "a", 1) == -1, "writer: data over size");
	wire_writer_init(&w, buf, sizeof buf);
	CHECK(wire_put_data(&w, NULL, 3) == -1 && wire_writer_error(&w) == EINVAL,
	    "writer: NULL data with a length fails with EINVAL, no crash");
	wire_writer_init(&w, NULL, 0);
	CHECK(wire_put_u16(&w, 1) == -1 && wire_writer_error(&w) == ERANGE,
	    "writer: zero-size buffer overflows cleanly");
}

/* wire_test_end - trailing garbage and get_rest */
static void
wire_test_end(void)
{
	unsigned char		*p;
	struct wire_reader	 r;
	int32_t			 i32;
	const void		*d;
	size_t			 n;

	p = wire_test_dup("\x01\x00\x00\x00X", 5);
	wire_reader_init(&r, p, 5);
	CHECK(wire_get_i32(&r, &i32) == 0 && i32 == 1, "end: field read");
	CHECK(wire_remaining(&r) == 1, "end: one byte remains");
	CHECK(wire_end(&r) == -1, "end: trailing garbage rejected by wire_end");
	CHECK(wire_get_rest(&r, &d, &n) == 0 && n == 1 &&
	    memcmp(d, "X", 1) == 0, "get_rest returns the remainder");
	CHECK(wire_end(&r) == 0, "end: accepted after get_rest");
	CHECK(wire_get_rest(&r, &d, &n) == 0 && n == 0 && d == NULL,
	    "get_rest on nothing gives NULL, 0");
	free(p);

	wire_reader_init(&r, NULL, 0);
	CHECK(wire_end(&r) == 0, "end: empty payload is complete");
	CHECK(wire_get_i32(&r, &i32) == -1, "end: get from empty payload fails");
}

/* wire_test_oversized - a full imsg payload round-trips */
static void
wire_test_oversized(void)
{
	static unsigned char	 big[16368], out[16368];
	struct wire_writer	 w;
	struct wire_reader	 r;
	const char		*s;

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	wire_writer_init(&w, out, sizeof out);
	CHECK(wire_put_cstr(&w, (char *)big) == 0 && w.len == sizeof out,
	    "max payload cstr fits exactly");
	CHECK(wire_put_raw(&w, "", 1) == -1, "one more byte overflows");
	wire_reader_init(&r, out, sizeof out);
	CHECK(wire_get_cstr(&r, &s) == 0 && strlen(s) == sizeof big - 1 &&
	    wire_end(&r) == 0, "max payload cstr decodes");
}

int
main(void)
{
	wire_test_scalars();
	wire_test_table_check();
	wire_test_strings();
	wire_test_data();
	wire_test_truncated();
	wire_test_sticky();
	wire_test_end();
	wire_test_oversized();
	return test_done();
}
