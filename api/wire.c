/*
 * wire.c -- typed payload encoding (see wire.h).
 *
 * Runs in every smtpd process and in every helper.  It must never read
 * or write outside the buffers it was given, and never abort: a short,
 * oversized or unterminated field only sets the sticky error.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "wire.h"

void
wire_writer_init(struct wire_writer *w, void *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->error = 0;
}

/* wire_put_raw - append bytes, or set ERANGE when they do not fit
 * (EINVAL for a NULL source with a nonzero length) */
int
wire_put_raw(struct wire_writer *w, const void *p, size_t n)
{
	if (w->error)
		return -1;
	if (n > 0 && p == NULL) {
		w->error = EINVAL;
		return -1;
	}
	if (n > w->size - w->len) {
		w->error = ERANGE;
		return -1;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

int
wire_put_u16(struct wire_writer *w, uint16_t v)
{
	return wire_put_raw(w, &v, sizeof v);
}

int
wire_put_i32(struct wire_writer *w, int32_t v)
{
	return wire_put_raw(w, &v, sizeof v);
}

int
wire_put_u32(struct wire_writer *w, uint32_t v)
{
	return wire_put_raw(w, &v, sizeof v);
}

int
wire_put_u64(struct wire_writer *w, uint64_t v)
{
	return wire_put_raw(w, &v, sizeof v);
}

int
wire_put_sz(struct wire_writer *w, size_t v)
{
	return wire_put_raw(w, &v, sizeof v);
}

int
wire_put_tt(struct wire_writer *w, time_t v)
{
	return wire_put_raw(w, &v, sizeof v);
}

/* wire_put_cstr - untagged string: bytes and NUL; NULL is refused */
int
wire_put_cstr(struct wire_writer *w, const char *s)
{
	if (s == NULL) {
		if (!w->error)
			w->error = EINVAL;
		return -1;
	}
	return wire_put_raw(w, s, strlen(s) + 1);
}

/* wire_put_str - tagged string: 0x00 for NULL, else 's' + bytes + NUL */
int
wire_put_str(struct wire_writer *w, const char *s)
{
	unsigned char	tag;

	tag = s ? WIRE_STR_TAG : 0;
	if (wire_put_raw(w, &tag, 1) == -1)
		return -1;
	return s ? wire_put_raw(w, s, strlen(s) + 1) : 0;
}

int
wire_put_data(struct wire_writer *w, const void *p, size_t n)
{
	if (wire_put_sz(w, n) == -1)
		return -1;
	return wire_put_raw(w, p, n);
}

int
wire_put_addr(struct wire_writer *w, const struct sockaddr *sa, size_t n)
{
	if (n > sizeof(struct sockaddr_storage)) {
		if (!w->error)
			w->error = EINVAL;
		return -1;
	}
	return wire_put_data(w, sa, n);
}

int
wire_writer_error(const struct wire_writer *w)
{
	return w->error;
}

void
wire_reader_init(struct wire_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = buf ? len : 0;
	r->off = 0;
	r->error = 0;
}

/* wire_reader_fail - mark the payload malformed */
static int
wire_reader_fail(struct wire_reader *r)
{
	r->error = EBADMSG;
	return -1;
}

/* wire_get_raw - copy n bytes off the front, or fail when fewer remain */
int
wire_get_raw(struct wire_reader *r, void *p, size_t n)
{
	if (r->error)
		return -1;
	if (n > r->len - r->off)
		return wire_reader_fail(r);
	if (n)
		memcpy(p, r->buf + r->off, n);
	r->off += n;
	return 0;
}

int
wire_get_u16(struct wire_reader *r, uint16_t *v)
{
	return wire_get_raw(r, v, sizeof *v);
}

int
wire_get_i32(struct wire_reader *r, int32_t *v)
{
	return wire_get_raw(r, v, sizeof *v);
}

int
wire_get_u32(struct wire_reader *r, uint32_t *v)
{
	return wire_get_raw(r, v, sizeof *v);
}

int
wire_get_u64(struct wire_reader *r, uint64_t *v)
{
	return wire_get_raw(r, v, sizeof *v);
}

int
wire_get_sz(struct wire_reader *r, size_t *v)
{
	return wire_get_raw(r, v, sizeof *v);
}

int
wire_get_tt(struct wire_reader *r, time_t *v)
{
	return wire_get_raw(r, v, sizeof *v);
}

/* wire_get_cstr - a NUL-terminated string starting at the cursor */
int
wire_get_cstr(struct wire_reader *r, const char **s)
{
	const unsigned char	*nul;
	size_t			 left;

	if (r->error)
		return -1;
	left = r->len - r->off;
	nul = left ? memchr(r->buf + r->off, '\0', left) : NULL;
	if (nul == NULL)
		return wire_reader_fail(r);
	*s = (const char *)(r->buf + r->off);
	r->off += (size_t)(nul - (r->buf + r->off)) + 1;
	return 0;
}

int
wire_get_str(struct wire_reader *r, const char **s)
{
	unsigned char	tag;

	if (wire_get_raw(r, &tag, 1) == -1)
		return -1;
	if (tag == 0) {
		*s = NULL;
		return 0;
	}
	if (tag != WIRE_STR_TAG)
		return wire_reader_fail(r);
	return wire_get_cstr(r, s);
}

int
wire_get_data(struct wire_reader *r, const void **p, size_t *n)
{
	size_t	len;

	if (wire_get_sz(r, &len) == -1)
		return -1;
	if (len > r->len - r->off)
		return wire_reader_fail(r);
	*p = len ? r->buf + r->off : NULL;
	*n = len;
	r->off += len;
	return 0;
}

int
wire_get_addr(struct wire_reader *r, struct sockaddr *sa, size_t size,
    size_t *len)
{
	const void	*p;
	size_t		 n;

	if (wire_get_data(r, &p, &n) == -1)
		return -1;
	if (n == 0 || n > size || n > sizeof(struct sockaddr_storage))
		return wire_reader_fail(r);
	memset(sa, 0, size);
	memcpy(sa, p, n);
	*len = n;
	return 0;
}

int
wire_get_rest(struct wire_reader *r, const void **p, size_t *n)
{
	if (r->error)
		return -1;
	*n = r->len - r->off;
	*p = *n ? r->buf + r->off : NULL;
	r->off = r->len;
	return 0;
}

size_t
wire_remaining(const struct wire_reader *r)
{
	return r->len - r->off;
}

int
wire_end(const struct wire_reader *r)
{
	if (r->error || r->off != r->len)
		return -1;
	return 0;
}
