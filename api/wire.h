/*
 * wire.h -- typed payload encoding for imsg messages.
 *
 * Fields are concatenated in native byte order with no padding between
 * them, as the OpenSMTPD helper protocols and its mproc layer do (see
 * libexec-protocols.md section 3):
 *
 *   i32/u32 4 bytes, u16 2, u64/id 8, sz (size_t) 8, tt (time_t) 8,
 *   cstr    the bytes and one NUL (helper protocols; NULL not representable),
 *   str     tagged: 0x00 for NULL, else 's', the bytes, NUL (mproc strings),
 *   data    sz length then that many bytes,
 *   addr    sz length then a sockaddr (at most sizeof(sockaddr_storage)),
 *   raw     fixed-size bytes (a whole C struct, a mailaddr).
 *
 * The writer works on a caller-supplied buffer and never overflows it;
 * the reader never reads past the payload.  Both keep a sticky error: after
 * the first failure every call fails, so a codec is written as a straight
 * sequence of calls followed by one check (wire_end / wire_error).
 */
#ifndef API_WIRE_H
#define API_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sockaddr;

#define WIRE_STR_TAG	0x73	/* 's': a non-NULL tagged string */

struct wire_writer {
	unsigned char	*buf;
	size_t		 size;
	size_t		 len;
	int		 error;		/* ERANGE once the buffer overflowed */
};

struct wire_reader {
	const unsigned char	*buf;
	size_t			 len;
	size_t			 off;
	int			 error;	/* EBADMSG once a field was bad */
};

void	wire_writer_init(struct wire_writer *, void *buf, size_t size);
int	wire_put_raw(struct wire_writer *, const void *, size_t);
int	wire_put_u16(struct wire_writer *, uint16_t);
int	wire_put_i32(struct wire_writer *, int32_t);
int	wire_put_u32(struct wire_writer *, uint32_t);
int	wire_put_u64(struct wire_writer *, uint64_t);
int	wire_put_sz(struct wire_writer *, size_t);
int	wire_put_tt(struct wire_writer *, time_t);
int	wire_put_cstr(struct wire_writer *, const char *);
int	wire_put_str(struct wire_writer *, const char *);	/* NULL ok */
int	wire_put_data(struct wire_writer *, const void *, size_t);
int	wire_put_addr(struct wire_writer *, const struct sockaddr *, size_t);
/* wire_writer_error - 0 when every put succeeded, else an errno value */
int	wire_writer_error(const struct wire_writer *);

void	wire_reader_init(struct wire_reader *, const void *buf, size_t len);
int	wire_get_raw(struct wire_reader *, void *, size_t);
int	wire_get_u16(struct wire_reader *, uint16_t *);
int	wire_get_i32(struct wire_reader *, int32_t *);
int	wire_get_u32(struct wire_reader *, uint32_t *);
int	wire_get_u64(struct wire_reader *, uint64_t *);
int	wire_get_sz(struct wire_reader *, size_t *);
int	wire_get_tt(struct wire_reader *, time_t *);
/* strings and data point into the payload; they live as long as it does */
int	wire_get_cstr(struct wire_reader *, const char **);
int	wire_get_str(struct wire_reader *, const char **);	/* may give NULL */
int	wire_get_data(struct wire_reader *, const void **, size_t *);
int	wire_get_addr(struct wire_reader *, struct sockaddr *, size_t size,
	    size_t *len);
/* wire_get_rest - the unread remainder (may be empty), consumed */
int	wire_get_rest(struct wire_reader *, const void **, size_t *);
size_t	wire_remaining(const struct wire_reader *);
/* wire_end - 0 when every get succeeded and nothing is left over */
int	wire_end(const struct wire_reader *);

#endif
