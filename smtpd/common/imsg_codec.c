/*
 * imsg_codec.c -- encoding and decoding of every message of imsg.h,
 * generated from the catalogue's field lists.
 *
 * Used by every process and by smtpctl.  Encoders write into a stack
 * buffer of the largest payload; decoders read with api/wire.c (sticky
 * errors) and refuse short, oversized, out-of-range and trailing-garbage
 * payloads, and descriptors where none belongs.  Nothing here trusts a
 * peer: a bad payload is a -1, never a crash.  It reads no program
 * global: the channel says who we are.
 */
#include <errno.h>
#include <string.h>

#include "imsg_codec.h"
#include "log.h"
#include "wire.h"

/* msg_put_ranged - an i32 that must lie in [lo, hi] */
static void
msg_put_ranged(struct wire_writer *w, int64_t v, int32_t lo, int32_t hi)
{
	if (v < lo || v > hi) {
		if (w->error == 0)
			w->error = EINVAL;
		return;
	}
	wire_put_i32(w, (int32_t)v);
}

/* msg_get_ranged - an i32 that must lie in [lo, hi] */
static int32_t
msg_get_ranged(struct wire_reader *r, int32_t lo, int32_t hi)
{
	int32_t	v = lo;

	if (wire_get_i32(r, &v) == 0 && (v < lo || v > hi))
		r->error = EBADMSG;
	return v < lo || v > hi ? lo : v;
}

/* msg_put_str - a string that must not be NULL */
static void
msg_put_str(struct wire_writer *w, const char *s)
{
	if (s == NULL) {
		if (w->error == 0)
			w->error = EINVAL;
		return;
	}
	wire_put_str(w, s);
}

/* msg_get_str - a string that must not be NULL */
static const char *
msg_get_str(struct wire_reader *r)
{
	const char	*s = NULL;

	if (wire_get_str(r, &s) == 0 && s == NULL)
		r->error = EBADMSG;
	return s;
}

/* msg_put_data - the rest of the payload, at least one byte */
static void
msg_put_data(struct wire_writer *w, const void *data, size_t len)
{
	if (len == 0) {
		if (w->error == 0)
			w->error = EINVAL;
		return;
	}
	wire_put_raw(w, data, len);
}

/* msg_get_data - the rest of the payload, at least one byte */
static void
msg_get_data(struct wire_reader *r, const void **data, size_t *len)
{
	if (wire_get_rest(r, data, len) == 0 && *len == 0)
		r->error = EBADMSG;
}

/* msg_get_fd - the descriptor that must come with the message */
static int
msg_get_fd(struct wire_reader *r, const struct imsg *imsg)
{
	if (imsg->fd < 0)
		r->error = EBADMSG;
	return imsg->fd;
}

/* encoding of one field of a struct msg_<stem> *m */
#define MSG_PUT_NONE(w, m, n)
#define MSG_PUT_U32(w, m, n)		wire_put_u32(w, (m)->n);
#define MSG_PUT_I32(w, m, n)		wire_put_i32(w, (m)->n);
#define MSG_PUT_U64(w, m, n)		wire_put_u64(w, (m)->n);
#define MSG_PUT_SZ(w, m, n)		wire_put_sz(w, (m)->n);
#define MSG_PUT_BOOL(w, m, n)		msg_put_ranged(w, (m)->n, 0, 1);
#define MSG_PUT_TRI(w, m, n)		msg_put_ranged(w, (m)->n, -1, 1);
#define MSG_PUT_PROC(w, m, n)		msg_put_ranged(w, (m)->n, 0, \
					    PROC__COUNT - 1);
#define MSG_PUT_CHILD(w, m, n)		msg_put_ranged(w, (m)->n, \
					    PROC_CHILD_FIRST, PROC_CHILD_LAST);
#define MSG_PUT_TABLE_OP(w, m, n)	msg_put_ranged(w, (m)->n, \
					    TABLE_OP_LOOKUP, TABLE_OP_FETCH);
#define MSG_PUT_DELIVERY(w, m, n)	msg_put_ranged(w, (m)->n, \
					    DELIVERY_OK, DELIVERY_LOOP);
#define MSG_PUT_STR(w, m, n)		msg_put_str(w, (m)->n);
#define MSG_PUT_STR_OR_NULL(w, m, n)	wire_put_str(w, (m)->n);
#define MSG_PUT_FD(w, m, n)		if ((m)->n < 0) (w)->error = EBADF;
#define MSG_PUT_DATA(w, m, n)		msg_put_data(w, (m)->n, (m)->n##_len);

/* decoding of one field into a struct msg_<stem> *m */
#define MSG_GET_NONE(r, m, n)
#define MSG_GET_U32(r, m, n)		wire_get_u32(r, &(m)->n);
#define MSG_GET_I32(r, m, n)		wire_get_i32(r, &(m)->n);
#define MSG_GET_U64(r, m, n)		wire_get_u64(r, &(m)->n);
#define MSG_GET_SZ(r, m, n)		wire_get_sz(r, &(m)->n);
#define MSG_GET_BOOL(r, m, n)		(m)->n = msg_get_ranged(r, 0, 1);
#define MSG_GET_TRI(r, m, n)		(m)->n = msg_get_ranged(r, -1, 1);
#define MSG_GET_PROC(r, m, n)		(m)->n = (enum proc_id) \
					    msg_get_ranged(r, 0, PROC__COUNT - 1);
#define MSG_GET_CHILD(r, m, n)		(m)->n = (enum proc_id) \
					    msg_get_ranged(r, PROC_CHILD_FIRST, \
					    PROC_CHILD_LAST);
#define MSG_GET_TABLE_OP(r, m, n)	(m)->n = msg_get_ranged(r, \
					    TABLE_OP_LOOKUP, TABLE_OP_FETCH);
#define MSG_GET_DELIVERY(r, m, n)	(m)->n = msg_get_ranged(r, \
					    DELIVERY_OK, DELIVERY_LOOP);
#define MSG_GET_STR(r, m, n)		(m)->n = msg_get_str(r);
#define MSG_GET_STR_OR_NULL(r, m, n)	wire_get_str(r, &(m)->n);
#define MSG_GET_FD(r, m, n)		(m)->n = msg_get_fd(r, imsg);
#define MSG_GET_DATA(r, m, n)		msg_get_data(r, &(m)->n, &(m)->n##_len);

/* the descriptor a field carries */
#define MSG_TAKEFD_FD(m, n)		fd = (m)->n;
#define MSG_TAKEFD_NONE(m, n)
#define MSG_TAKEFD_U32(m, n)
#define MSG_TAKEFD_I32(m, n)
#define MSG_TAKEFD_U64(m, n)
#define MSG_TAKEFD_SZ(m, n)
#define MSG_TAKEFD_BOOL(m, n)
#define MSG_TAKEFD_TRI(m, n)
#define MSG_TAKEFD_PROC(m, n)
#define MSG_TAKEFD_CHILD(m, n)
#define MSG_TAKEFD_TABLE_OP(m, n)
#define MSG_TAKEFD_DELIVERY(m, n)
#define MSG_TAKEFD_STR(m, n)
#define MSG_TAKEFD_STR_OR_NULL(m, n)
#define MSG_TAKEFD_DATA(m, n)

/* how many descriptors a field carries */
#define MSG_NFD_FD		1
#define MSG_NFD_NONE		0
#define MSG_NFD_U32		0
#define MSG_NFD_I32		0
#define MSG_NFD_U64		0
#define MSG_NFD_SZ		0
#define MSG_NFD_BOOL		0
#define MSG_NFD_TRI		0
#define MSG_NFD_PROC		0
#define MSG_NFD_CHILD		0
#define MSG_NFD_TABLE_OP	0
#define MSG_NFD_DELIVERY	0
#define MSG_NFD_STR		0
#define MSG_NFD_STR_OR_NULL	0
#define MSG_NFD_DATA		0

/* msg_finish - send a built payload; an encoding error is ours */
static int
msg_finish(struct mproc *p, uint32_t type, int fd, struct wire_writer *w)
{
	if (wire_writer_error(w)) {
		if (p->trusted)
			fatalx("%s: cannot encode %s for %s",
			    proc_name(p->self), imsg_name(type),
			    proc_name(p->peer));
		log_warnx("%s: cannot encode %s for %s", proc_name(p->self),
		    imsg_name(type), proc_name(p->peer));
		return -1;
	}
	if (mproc_compose(p, type, fd, w->buf, w->len) == -1) {
		if (p->trusted)
			fatal("%s: cannot send %s to %s", proc_name(p->self),
			    imsg_name(type), proc_name(p->peer));
		return -1;
	}
	return 0;
}

/* msg_encode_<stem>: a struct's payload into w */
#define F(n, type)	MSG_PUT_##type(w, m, n)
#define X(id, stem, from, to, fields, check)				\
static int								\
msg_encode_##stem(struct wire_writer *w, const void *arg)		\
{									\
	const struct msg_##stem	*m = arg;				\
									\
	(void)m;							\
	fields								\
	return wire_writer_error(w) ? -1 : 0;				\
}
IMSG_LIST(X)
#undef X
#undef F

/* msg_fd_<stem>: the descriptor a struct carries, or -1 */
#define F(n, type)	MSG_TAKEFD_##type(m, n)
#define X(id, stem, from, to, fields, check)				\
static int								\
msg_fd_##stem(const struct msg_##stem *m)				\
{									\
	int	fd = -1;						\
									\
	(void)m;							\
	fields								\
	return fd;							\
}
IMSG_LIST(X)
#undef X
#undef F

/* msg_send_<stem> */
#define X(id, stem, from, to, fields, check)				\
int									\
msg_send_##stem(struct mproc *p, const struct msg_##stem *m)		\
{									\
	unsigned char		buf[IMSG_MAX_PAYLOAD];			\
	struct wire_writer	w;					\
									\
	wire_writer_init(&w, buf, sizeof buf);				\
	msg_encode_##stem(&w, m);					\
	return msg_finish(p, id, msg_fd_##stem(m), &w);			\
}
IMSG_LIST(X)
#undef X

/* msg_send_any_<stem>: the same, behind a void pointer */
#define X(id, stem, from, to, fields, check)				\
static int								\
msg_send_any_##stem(struct mproc *p, const void *m)			\
{									\
	return msg_send_##stem(p, m);					\
}
IMSG_LIST(X)
#undef X

/* msg_unpack_<stem>: every field, the message's check, nothing left
 * over, a descriptor exactly when the message has one (then moved) */
#define F(n, type)	MSG_GET_##type(&r, m, n)
#define X(id, stem, from, to, fields, check)				\
int									\
msg_unpack_##stem(struct imsg *imsg, struct msg_##stem *m)		\
{									\
	struct wire_reader	r;					\
									\
	memset(m, 0, sizeof *m);					\
	wire_reader_init(&r, imsg->data, imsg->datalen);		\
	fields								\
	if (wire_end(&r) == -1 || !(check))				\
		return -1;						\
	if (msg_fd_##stem(m) == -1 && imsg->fd != -1)			\
		return -1;						\
	imsg->fd = -1;		/* none, or now m's */			\
	return 0;							\
}
IMSG_LIST(X)
#undef X
#undef F

/* the codec of every message, by type */
#define X(id, stem, from, to, fields, check)				\
static int								\
msg_unpack_any_##stem(struct imsg *imsg, void *m)			\
{									\
	return msg_unpack_##stem(imsg, m);				\
}
IMSG_LIST(X)
#undef X

#define F(n, type)	+ MSG_NFD_##type
static const struct msg_codec	msg_codecs[IMSG__MAX] = {
#define X(id, stem, from, to, fields, check)				\
	[id] = { #stem, sizeof(struct msg_##stem), (0 fields) > 0,	\
	    msg_unpack_any_##stem, msg_encode_##stem },
	IMSG_LIST(X)
#undef X
};
#undef F

const struct msg_codec *
msg_codec(uint32_t type)
{
	if (type == IMSG_NONE || type >= IMSG__MAX)
		return NULL;
	return &msg_codecs[type];
}

static int	(*const msg_senders[IMSG__MAX])(struct mproc *, const void *) = {
#define X(id, stem, from, to, fields, check)	[id] = msg_send_any_##stem,
	IMSG_LIST(X)
#undef X
};

int
msg_send(struct mproc *p, uint32_t type, const void *m)
{
	if (type == IMSG_NONE || type >= IMSG__MAX)
		fatalx("%s: no such message %u", proc_name(p->self), type);
	return msg_senders[type](p, m);
}

void
msg_send_parent_conf(struct mproc *p, const unsigned char *buf, size_t len)
{
	size_t	off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < IMSG_MAX_PAYLOAD ? len - off : IMSG_MAX_PAYLOAD;
		msg_send_parent_conf_data(p, &(struct msg_parent_conf_data){
		    .data = buf + off, .data_len = n });
	}
	msg_send_parent_conf_end(p, &(struct msg_parent_conf_end){
	    .total = len });
}
