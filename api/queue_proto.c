/*
 * queue_proto.c -- the proc queue protocol's codec (queue_proto.h).
 *
 * Linked into every queue helper (through api/queue_api.c) and into
 * smtpd (smtpd/queue/queue_proc.c): one description of each payload
 * of libexec-protocols.md 5.2, read and written with the wire codec.
 * Pure functions: no I/O, no logging, no allocation, never exits; a
 * payload of the wrong size or with leftover bytes decodes as -1.
 */
#include <string.h>

#include "queue_api.h"
#include "queue_proto.h"

/* the two numberings of section 5.1, by op; -1: absent there */
static const struct {
	const char	*name;
	int		 daemon;
	int		 extras;
} queue_proto_ops[QUEUE_OP__MAX] = {
	[QUEUE_OP_INIT] =		{ "INIT", 2, 2 },
	[QUEUE_OP_CLOSE] =		{ "CLOSE", 3, 3 },
	[QUEUE_OP_MESSAGE_CREATE] =	{ "MESSAGE_CREATE", 4, 4 },
	[QUEUE_OP_MESSAGE_DELETE] =	{ "MESSAGE_DELETE", 5, 5 },
	[QUEUE_OP_MESSAGE_COMMIT] =	{ "MESSAGE_COMMIT", 6, 6 },
	[QUEUE_OP_MESSAGE_FD_R] =	{ "MESSAGE_FD_R", 7, 7 },
	[QUEUE_OP_MESSAGE_CORRUPT] =	{ "MESSAGE_CORRUPT", -1, 8 },
	[QUEUE_OP_MESSAGE_UNCORRUPT] =	{ "MESSAGE_UNCORRUPT", -1, 9 },
	[QUEUE_OP_ENVELOPE_CREATE] =	{ "ENVELOPE_CREATE", 8, 10 },
	[QUEUE_OP_ENVELOPE_DELETE] =	{ "ENVELOPE_DELETE", 9, 11 },
	[QUEUE_OP_ENVELOPE_LOAD] =	{ "ENVELOPE_LOAD", 10, 12 },
	[QUEUE_OP_ENVELOPE_UPDATE] =	{ "ENVELOPE_UPDATE", 11, 13 },
	[QUEUE_OP_ENVELOPE_WALK] =	{ "ENVELOPE_WALK", 12, 14 },
	[QUEUE_OP_MESSAGE_WALK] =	{ "MESSAGE_WALK", -1, 15 },
};

const char *
queue_proto_name(enum queue_op op)
{
	if ((unsigned int)op >= QUEUE_OP__MAX)
		return "?";
	return queue_proto_ops[op].name;
}

int
queue_proto_type(int extras, enum queue_op op)
{
	if ((unsigned int)op >= QUEUE_OP__MAX)
		return -1;
	return extras ? queue_proto_ops[op].extras : queue_proto_ops[op].daemon;
}

int
queue_proto_op(int extras, uint32_t type)
{
	int	op;

	for (op = 0; op < QUEUE_OP__MAX; op++)
		if (queue_proto_type(extras, op) == (int64_t)type)
			return op;
	return -1;
}

int
queue_proto_request_fd(enum queue_op op)
{
	return op == QUEUE_OP_MESSAGE_COMMIT;
}

int
queue_proto_encode_request(const struct queue_msg *m, struct wire_writer *w)
{
	switch (m->op) {
	case QUEUE_OP_INIT:
		wire_put_u32(w, m->version);
		break;
	case QUEUE_OP_CLOSE:
	case QUEUE_OP_MESSAGE_CREATE:
	case QUEUE_OP_ENVELOPE_WALK:
		break;
	case QUEUE_OP_MESSAGE_DELETE:
	case QUEUE_OP_MESSAGE_COMMIT:
	case QUEUE_OP_MESSAGE_FD_R:
	case QUEUE_OP_MESSAGE_CORRUPT:
	case QUEUE_OP_MESSAGE_UNCORRUPT:
	case QUEUE_OP_MESSAGE_WALK:
		wire_put_u32(w, m->msgid);
		break;
	case QUEUE_OP_ENVELOPE_CREATE:
		wire_put_u32(w, m->msgid);
		wire_put_raw(w, m->data, m->len);
		break;
	case QUEUE_OP_ENVELOPE_DELETE:
	case QUEUE_OP_ENVELOPE_LOAD:
		wire_put_u64(w, m->evpid);
		break;
	case QUEUE_OP_ENVELOPE_UPDATE:
		wire_put_u64(w, m->evpid);
		wire_put_raw(w, m->data, m->len);
		break;
	default:
		return -1;
	}
	return wire_writer_error(w) ? -1 : 0;
}

int
queue_proto_decode_request(enum queue_op op, const void *buf, size_t len,
    struct queue_msg *m)
{
	struct wire_reader	r;

	memset(m, 0, sizeof *m);
	m->op = op;
	m->fd = -1;
	wire_reader_init(&r, buf, len);
	switch (op) {
	case QUEUE_OP_INIT:
		wire_get_u32(&r, &m->version);
		break;
	case QUEUE_OP_CLOSE:
	case QUEUE_OP_MESSAGE_CREATE:
	case QUEUE_OP_ENVELOPE_WALK:
		break;
	case QUEUE_OP_MESSAGE_DELETE:
	case QUEUE_OP_MESSAGE_COMMIT:
	case QUEUE_OP_MESSAGE_FD_R:
	case QUEUE_OP_MESSAGE_CORRUPT:
	case QUEUE_OP_MESSAGE_UNCORRUPT:
	case QUEUE_OP_MESSAGE_WALK:
		wire_get_u32(&r, &m->msgid);
		break;
	case QUEUE_OP_ENVELOPE_CREATE:
		wire_get_u32(&r, &m->msgid);
		wire_get_rest(&r, &m->data, &m->len);
		break;
	case QUEUE_OP_ENVELOPE_DELETE:
	case QUEUE_OP_ENVELOPE_LOAD:
		wire_get_u64(&r, &m->evpid);
		break;
	case QUEUE_OP_ENVELOPE_UPDATE:
		wire_get_u64(&r, &m->evpid);
		wire_get_rest(&r, &m->data, &m->len);
		break;
	default:
		return -1;
	}
	return wire_end(&r);
}

int
queue_proto_encode_reply(const struct queue_msg *m, struct wire_writer *w)
{
	switch (m->op) {
	case QUEUE_OP_INIT:
	case QUEUE_OP_MESSAGE_FD_R:
		break;		/* empty; FD_R's answer is the fd */
	case QUEUE_OP_ENVELOPE_LOAD:
		wire_put_raw(w, m->data, m->len);
		break;
	case QUEUE_OP_MESSAGE_CREATE:
		wire_put_i32(w, m->r);
		if (m->r == 1)
			wire_put_u32(w, m->msgid);
		break;
	case QUEUE_OP_ENVELOPE_CREATE:
		wire_put_i32(w, m->r);
		if (m->r == 1)
			wire_put_u64(w, m->evpid);
		break;
	case QUEUE_OP_ENVELOPE_WALK:
	case QUEUE_OP_MESSAGE_WALK:
		wire_put_i32(w, m->r);
		if (m->r > 0) {
			if ((size_t)m->r != m->len)
				return -1;
			wire_put_u64(w, m->evpid);
			wire_put_raw(w, m->data, m->len);
		}
		break;
	case QUEUE_OP_CLOSE:
	case QUEUE_OP_MESSAGE_DELETE:
	case QUEUE_OP_MESSAGE_COMMIT:
	case QUEUE_OP_MESSAGE_CORRUPT:
	case QUEUE_OP_MESSAGE_UNCORRUPT:
	case QUEUE_OP_ENVELOPE_DELETE:
	case QUEUE_OP_ENVELOPE_UPDATE:
		wire_put_i32(w, m->r);
		break;
	default:
		return -1;
	}
	return wire_writer_error(w) ? -1 : 0;
}

int
queue_proto_decode_reply(enum queue_op op, const void *buf, size_t len,
    struct queue_msg *m)
{
	struct wire_reader	r;

	memset(m, 0, sizeof *m);
	m->op = op;
	m->fd = -1;
	wire_reader_init(&r, buf, len);
	switch (op) {
	case QUEUE_OP_INIT:
	case QUEUE_OP_MESSAGE_FD_R:
		break;
	case QUEUE_OP_ENVELOPE_LOAD:
		wire_get_rest(&r, &m->data, &m->len);
		m->r = m->len > 0;
		break;
	case QUEUE_OP_MESSAGE_CREATE:
		wire_get_i32(&r, &m->r);
		if (m->r == 1)
			wire_get_u32(&r, &m->msgid);
		break;
	case QUEUE_OP_ENVELOPE_CREATE:
		wire_get_i32(&r, &m->r);
		if (m->r == 1)
			wire_get_u64(&r, &m->evpid);
		break;
	case QUEUE_OP_ENVELOPE_WALK:
	case QUEUE_OP_MESSAGE_WALK:
		wire_get_i32(&r, &m->r);
		if (m->r > 0) {
			wire_get_u64(&r, &m->evpid);
			wire_get_rest(&r, &m->data, &m->len);
			/* exactly r bytes follow the evpid (section 5.2) */
			if (m->len != (size_t)m->r)
				return -1;
		}
		break;
	case QUEUE_OP_CLOSE:
	case QUEUE_OP_MESSAGE_DELETE:
	case QUEUE_OP_MESSAGE_COMMIT:
	case QUEUE_OP_MESSAGE_CORRUPT:
	case QUEUE_OP_MESSAGE_UNCORRUPT:
	case QUEUE_OP_ENVELOPE_DELETE:
	case QUEUE_OP_ENVELOPE_UPDATE:
		wire_get_i32(&r, &m->r);
		break;
	default:
		return -1;
	}
	return wire_end(&r);
}
