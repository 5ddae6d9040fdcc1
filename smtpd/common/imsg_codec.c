/*
 * imsg_codec.c -- encoding and decoding of every message of imsg.h.
 *
 * Used by every process and by smtpctl.  Encoders write into a stack
 * buffer of the largest payload; decoders read with api/wire.c and refuse
 * short, oversized and trailing-garbage payloads.  Nothing here trusts a
 * peer: a bad payload is a -1, never a crash.  It reads no program
 * global: the channel says who we are.
 */
#include <errno.h>
#include <string.h>

#include "imsg_codec.h"
#include "log.h"
#include "wire.h"

#define MSG_WRITER(w)					\
	unsigned char		 w##_buf[IMSG_MAX_PAYLOAD];	\
	struct wire_writer	 w;				\
	wire_writer_init(&w, w##_buf, sizeof w##_buf)

/* msg_finish - send a built payload; an encoding error is our own bug */
static void
msg_finish(struct mproc *p, uint32_t type, int fd, struct wire_writer *w)
{
	if (wire_writer_error(w))
		fatalx("%s: cannot encode %s for %s", proc_name(p->self),
		    imsg_name(type), proc_name(p->peer));
	mproc_send(p, type, fd, w->buf, w->len);
}

/* msg_reader - a reader on an imsg's payload */
static void
msg_reader(struct wire_reader *r, struct imsg *imsg)
{
	wire_reader_init(r, imsg->data, imsg->datalen);
}

/* msg_unpack_empty - a message with no payload */
static int
msg_unpack_empty(struct imsg *imsg)
{
	return imsg->datalen == 0 ? 0 : -1;
}

static void
msg_put_proc_status(struct wire_writer *w, const struct msg_proc_status *s)
{
	wire_put_i32(w, s->proc);
	wire_put_i32(w, s->pid);
	wire_put_u32(w, s->uid);
	wire_put_u32(w, s->gid);
	wire_put_str(w, s->root);
	wire_put_str(w, s->state);
}

static void
msg_get_proc_status(struct wire_reader *r, struct msg_proc_status *s)
{
	wire_get_i32(r, &s->proc);
	wire_get_i32(r, &s->pid);
	wire_get_u32(r, &s->uid);
	wire_get_u32(r, &s->gid);
	wire_get_str(r, &s->root);
	wire_get_str(r, &s->state);
	if (s->root == NULL || s->state == NULL ||
	    s->proc < 0 || s->proc >= PROC__COUNT)
		r->error = EBADMSG;
}

static void
msg_put_agent_status(struct wire_writer *w, const struct msg_agent_status *s)
{
	wire_put_i32(w, s->mda);
	wire_put_i32(w, s->mta);
	wire_put_i32(w, s->smtp);
}

static void
msg_get_agent_status(struct wire_reader *r, struct msg_agent_status *s)
{
	wire_get_i32(r, &s->mda);
	wire_get_i32(r, &s->mta);
	wire_get_i32(r, &s->smtp);
}

void
msg_send_parent_peer_fd(struct mproc *p, enum proc_id peer, int fd)
{
	MSG_WRITER(w);

	wire_put_i32(&w, (int32_t)peer);
	msg_finish(p, IMSG_PARENT_PEER_FD, fd, &w);
}

int
msg_unpack_parent_peer_fd(struct imsg *imsg, enum proc_id *peer)
{
	struct wire_reader	r;
	int32_t			v = -1;

	msg_reader(&r, imsg);
	wire_get_i32(&r, &v);
	if (wire_end(&r) == -1 || v < PROC_CHILD_FIRST ||
	    v > PROC_CHILD_LAST || imsg->fd == -1)
		return -1;
	*peer = (enum proc_id)v;
	return 0;
}

void
msg_send_parent_control_fd(struct mproc *p, int fd)
{
	mproc_send(p, IMSG_PARENT_CONTROL_FD, fd, NULL, 0);
}

int
msg_unpack_parent_control_fd(struct imsg *imsg)
{
	return msg_unpack_empty(imsg) == -1 || imsg->fd == -1 ? -1 : 0;
}

void
msg_send_parent_conf(struct mproc *p, const unsigned char *buf, size_t len)
{
	size_t	off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < IMSG_MAX_PAYLOAD ? len - off : IMSG_MAX_PAYLOAD;
		mproc_send(p, IMSG_PARENT_CONF_DATA, -1, buf + off, n);
	}
	{
		MSG_WRITER(w);

		wire_put_sz(&w, len);
		msg_finish(p, IMSG_PARENT_CONF_END, -1, &w);
	}
}

int
msg_unpack_parent_conf_data(struct imsg *imsg, const void **data,
    size_t *len)
{
	if (imsg->datalen == 0)
		return -1;
	*data = imsg->data;
	*len = imsg->datalen;
	return 0;
}

int
msg_unpack_parent_conf_end(struct imsg *imsg, size_t *total)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_sz(&r, total);
	return wire_end(&r);
}

void
msg_send_parent_start(struct mproc *p)
{
	mproc_send(p, IMSG_PARENT_START, -1, NULL, 0);
}

int
msg_unpack_parent_start(struct imsg *imsg)
{
	return msg_unpack_empty(imsg);
}

void
msg_send_parent_child_ready(struct mproc *p, uint32_t uid, uint32_t gid,
    const char *root, const char *state)
{
	MSG_WRITER(w);

	wire_put_u32(&w, uid);
	wire_put_u32(&w, gid);
	wire_put_str(&w, root);
	wire_put_str(&w, state);
	msg_finish(p, IMSG_PARENT_CHILD_READY, -1, &w);
}

int
msg_unpack_parent_child_ready(struct imsg *imsg, uint32_t *uid, uint32_t *gid,
    const char **root, const char **state)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u32(&r, uid);
	wire_get_u32(&r, gid);
	wire_get_str(&r, root);
	wire_get_str(&r, state);
	if (wire_end(&r) == -1 || *root == NULL || *state == NULL)
		return -1;
	return 0;
}

void
msg_send_parent_get_status(struct mproc *p, uint64_t reqid)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	msg_finish(p, IMSG_PARENT_GET_STATUS, -1, &w);
}

int
msg_unpack_parent_get_status(struct imsg *imsg, uint64_t *reqid)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	return wire_end(&r);
}

void
msg_send_parent_get_status_result(struct mproc *p, uint64_t reqid, int last,
    const struct msg_proc_status *s)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	wire_put_i32(&w, last);
	msg_put_proc_status(&w, s);
	msg_finish(p, IMSG_PARENT_GET_STATUS_RESULT, -1, &w);
}

int
msg_unpack_parent_get_status_result(struct imsg *imsg, uint64_t *reqid,
    int *last, struct msg_proc_status *s)
{
	struct wire_reader	r;
	int32_t			l = 0;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	wire_get_i32(&r, &l);
	msg_get_proc_status(&r, s);
	*last = l != 0;
	return wire_end(&r);
}

void
msg_send_dispatcher_get_status(struct mproc *p, uint64_t reqid)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	msg_finish(p, IMSG_DISPATCHER_GET_STATUS, -1, &w);
}

int
msg_unpack_dispatcher_get_status(struct imsg *imsg, uint64_t *reqid)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	return wire_end(&r);
}

void
msg_send_dispatcher_get_status_result(struct mproc *p, uint64_t reqid,
    const struct msg_agent_status *s)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	msg_put_agent_status(&w, s);
	msg_finish(p, IMSG_DISPATCHER_GET_STATUS_RESULT, -1, &w);
}

int
msg_unpack_dispatcher_get_status_result(struct imsg *imsg, uint64_t *reqid,
    struct msg_agent_status *s)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	msg_get_agent_status(&r, s);
	return wire_end(&r);
}

/* msg_table_op_ok - a known operation, with a key unless it fetches */
static int
msg_table_op_ok(const struct msg_table_query *q)
{
	if (q->table == NULL)
		return 0;
	switch (q->op) {
	case TABLE_OP_LOOKUP:
	case TABLE_OP_CHECK:
		return q->key != NULL;
	case TABLE_OP_FETCH:
		return q->key == NULL;
	default:
		return 0;
	}
}

void
msg_send_lookup_table_query(struct mproc *p, uint64_t reqid,
    const struct msg_table_query *q)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	wire_put_i32(&w, q->op);
	wire_put_str(&w, q->table);
	wire_put_i32(&w, q->service_bit);
	wire_put_str(&w, q->key);
	msg_finish(p, IMSG_LOOKUP_TABLE_QUERY, -1, &w);
}

int
msg_unpack_lookup_table_query(struct imsg *imsg, uint64_t *reqid,
    struct msg_table_query *q)
{
	struct wire_reader	r;

	memset(q, 0, sizeof *q);
	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	wire_get_i32(&r, &q->op);
	wire_get_str(&r, &q->table);
	wire_get_i32(&r, &q->service_bit);
	wire_get_str(&r, &q->key);
	if (wire_end(&r) == -1 || !msg_table_op_ok(q))
		return -1;
	return 0;
}

static void
msg_put_table_result(struct wire_writer *w, const struct msg_table_result *t,
    int with_value)
{
	wire_put_i32(w, t->r);
	if (with_value)
		wire_put_str(w, t->value);
	wire_put_str(w, t->error);
}

static int
msg_get_table_result(struct wire_reader *r, struct msg_table_result *t,
    int with_value)
{
	memset(t, 0, sizeof *t);
	wire_get_i32(r, &t->r);
	if (with_value)
		wire_get_str(r, &t->value);
	wire_get_str(r, &t->error);
	if (wire_end(r) == -1 || t->r < -1 || t->r > 1)
		return -1;
	return 0;
}

void
msg_send_lookup_table_query_result(struct mproc *p, uint64_t reqid,
    const struct msg_table_result *t)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	msg_put_table_result(&w, t, 1);
	msg_finish(p, IMSG_LOOKUP_TABLE_QUERY_RESULT, -1, &w);
}

int
msg_unpack_lookup_table_query_result(struct imsg *imsg, uint64_t *reqid,
    struct msg_table_result *t)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	return msg_get_table_result(&r, t, 1);
}

void
msg_send_lookup_update_table(struct mproc *p, uint64_t reqid,
    const char *table)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	wire_put_str(&w, table);
	msg_finish(p, IMSG_LOOKUP_UPDATE_TABLE, -1, &w);
}

int
msg_unpack_lookup_update_table(struct imsg *imsg, uint64_t *reqid,
    const char **table)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	wire_get_str(&r, table);
	if (wire_end(&r) == -1 || *table == NULL)
		return -1;
	return 0;
}

void
msg_send_lookup_update_table_result(struct mproc *p, uint64_t reqid,
    const struct msg_table_result *t)
{
	MSG_WRITER(w);

	wire_put_u64(&w, reqid);
	msg_put_table_result(&w, t, 0);
	msg_finish(p, IMSG_LOOKUP_UPDATE_TABLE_RESULT, -1, &w);
}

int
msg_unpack_lookup_update_table_result(struct imsg *imsg, uint64_t *reqid,
    struct msg_table_result *t)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u64(&r, reqid);
	return msg_get_table_result(&r, t, 0);
}

void
msg_send_ctl_table_query(struct mproc *p, const struct msg_table_query *q)
{
	MSG_WRITER(w);

	wire_put_i32(&w, q->op);
	wire_put_str(&w, q->table);
	wire_put_str(&w, q->service);
	wire_put_str(&w, q->key);
	msg_finish(p, IMSG_CTL_TABLE_QUERY, -1, &w);
}

int
msg_unpack_ctl_table_query(struct imsg *imsg, struct msg_table_query *q)
{
	struct wire_reader	r;

	memset(q, 0, sizeof *q);
	msg_reader(&r, imsg);
	wire_get_i32(&r, &q->op);
	wire_get_str(&r, &q->table);
	wire_get_str(&r, &q->service);
	wire_get_str(&r, &q->key);
	if (wire_end(&r) == -1 || q->service == NULL || !msg_table_op_ok(q))
		return -1;
	return 0;
}

void
msg_send_ctl_update_table(struct mproc *p, const char *table)
{
	MSG_WRITER(w);

	wire_put_str(&w, table);
	msg_finish(p, IMSG_CTL_UPDATE_TABLE, -1, &w);
}

int
msg_unpack_ctl_update_table(struct imsg *imsg, const char **table)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_str(&r, table);
	if (wire_end(&r) == -1 || *table == NULL)
		return -1;
	return 0;
}

void
msg_send_ctl_table_result(struct mproc *p, const struct msg_table_result *t)
{
	MSG_WRITER(w);

	msg_put_table_result(&w, t, 1);
	msg_finish(p, IMSG_CTL_TABLE_RESULT, -1, &w);
}

int
msg_unpack_ctl_table_result(struct imsg *imsg, struct msg_table_result *t)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	return msg_get_table_result(&r, t, 1);
}

void
msg_send_ctl_hello(struct mproc *p, uint32_t version)
{
	MSG_WRITER(w);

	wire_put_u32(&w, version);
	msg_finish(p, IMSG_CTL_HELLO, -1, &w);
}

int
msg_unpack_ctl_hello(struct imsg *imsg, uint32_t *version)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_u32(&r, version);
	return wire_end(&r);
}

void
msg_send_ctl_show_status(struct mproc *p)
{
	mproc_send(p, IMSG_CTL_SHOW_STATUS, -1, NULL, 0);
}

int
msg_unpack_ctl_show_status(struct imsg *imsg)
{
	return msg_unpack_empty(imsg);
}

void
msg_send_ctl_proc_status(struct mproc *p, const struct msg_proc_status *s)
{
	MSG_WRITER(w);

	msg_put_proc_status(&w, s);
	msg_finish(p, IMSG_CTL_PROC_STATUS, -1, &w);
}

int
msg_unpack_ctl_proc_status(struct imsg *imsg, struct msg_proc_status *s)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	msg_get_proc_status(&r, s);
	return wire_end(&r);
}

void
msg_send_ctl_agent_status(struct mproc *p, const struct msg_agent_status *s)
{
	MSG_WRITER(w);

	msg_put_agent_status(&w, s);
	msg_finish(p, IMSG_CTL_AGENT_STATUS, -1, &w);
}

int
msg_unpack_ctl_agent_status(struct imsg *imsg, struct msg_agent_status *s)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	msg_get_agent_status(&r, s);
	return wire_end(&r);
}

void
msg_send_ctl_ok(struct mproc *p)
{
	mproc_send(p, IMSG_CTL_OK, -1, NULL, 0);
}

int
msg_unpack_ctl_ok(struct imsg *imsg)
{
	return msg_unpack_empty(imsg);
}

void
msg_send_ctl_fail(struct mproc *p, const char *reason)
{
	MSG_WRITER(w);

	wire_put_str(&w, reason);
	msg_finish(p, IMSG_CTL_FAIL, -1, &w);
}

int
msg_unpack_ctl_fail(struct imsg *imsg, const char **reason)
{
	struct wire_reader	r;

	msg_reader(&r, imsg);
	wire_get_str(&r, reason);
	if (wire_end(&r) == -1 || *reason == NULL)
		return -1;
	return 0;
}
