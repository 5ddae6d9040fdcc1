/*
 * scheduler_proto.c -- the proc scheduler protocol's codec
 * (scheduler_proto.h).
 *
 * Linked into every scheduler helper (through api/scheduler_api.c) and
 * into smtpd (smtpd/scheduler/scheduler_proc.c): one description of
 * each payload of libexec-protocols.md 6.1.  The two structs that
 * travel whole (section 3.3) are written field by field into a zeroed
 * copy, so padding always travels as zeros.  Pure functions: no I/O,
 * no logging, no allocation, never exits.
 */
#include <string.h>

#include "scheduler_proto.h"

static const char *const scheduler_proto_names[] = {
	[PROC_SCHEDULER_OK] = "OK",
	[PROC_SCHEDULER_FAIL] = "FAIL",
	[PROC_SCHEDULER_INIT] = "INIT",
	[PROC_SCHEDULER_INSERT] = "INSERT",
	[PROC_SCHEDULER_COMMIT] = "COMMIT",
	[PROC_SCHEDULER_ROLLBACK] = "ROLLBACK",
	[PROC_SCHEDULER_UPDATE] = "UPDATE",
	[PROC_SCHEDULER_DELETE] = "DELETE",
	[PROC_SCHEDULER_HOLD] = "HOLD",
	[PROC_SCHEDULER_RELEASE] = "RELEASE",
	[PROC_SCHEDULER_BATCH] = "BATCH",
	[PROC_SCHEDULER_MESSAGES] = "MESSAGES",
	[PROC_SCHEDULER_ENVELOPES] = "ENVELOPES",
	[PROC_SCHEDULER_SCHEDULE] = "SCHEDULE",
	[PROC_SCHEDULER_REMOVE] = "REMOVE",
	[PROC_SCHEDULER_SUSPEND] = "SUSPEND",
	[PROC_SCHEDULER_RESUME] = "RESUME",
};

const char *
scheduler_proto_name(uint32_t type)
{
	if (type >= sizeof scheduler_proto_names /
	    sizeof scheduler_proto_names[0])
		return "?";
	return scheduler_proto_names[type];
}

/* scheduler_proto_put_info - a scheduler_info, padding zeroed */
static void
scheduler_proto_put_info(struct wire_writer *w,
    const struct scheduler_info *si)
{
	struct scheduler_info	out;

	memset(&out, 0, sizeof out);
	out.evpid = si->evpid;
	out.type = si->type;
	out.retry = si->retry;
	out.creation = si->creation;
	out.ttl = si->ttl;
	out.lasttry = si->lasttry;
	out.lastbounce = si->lastbounce;
	out.nexttry = si->nexttry;
	wire_put_raw(w, &out, sizeof out);
}

int
scheduler_proto_encode_request(const struct scheduler_msg *m,
    struct wire_writer *w)
{
	switch (m->type) {
	case PROC_SCHEDULER_INIT:
		wire_put_u32(w, m->version);
		break;
	case PROC_SCHEDULER_INSERT:
	case PROC_SCHEDULER_UPDATE:
		scheduler_proto_put_info(w, &m->si);
		break;
	case PROC_SCHEDULER_COMMIT:
	case PROC_SCHEDULER_ROLLBACK:
		wire_put_u32(w, m->msgid);
		break;
	case PROC_SCHEDULER_DELETE:
	case PROC_SCHEDULER_SCHEDULE:
	case PROC_SCHEDULER_REMOVE:
	case PROC_SCHEDULER_SUSPEND:
	case PROC_SCHEDULER_RESUME:
		wire_put_u64(w, m->id);
		break;
	case PROC_SCHEDULER_HOLD:
		wire_put_u64(w, m->id);
		wire_put_u64(w, m->holdq);
		break;
	case PROC_SCHEDULER_RELEASE:
		wire_put_i32(w, m->dtype);
		wire_put_u64(w, m->holdq);
		wire_put_i32(w, m->n);
		break;
	case PROC_SCHEDULER_BATCH:
		wire_put_i32(w, m->typemask);
		wire_put_sz(w, m->count);
		break;
	case PROC_SCHEDULER_MESSAGES:
		wire_put_u32(w, m->msgid);
		wire_put_sz(w, m->count);
		break;
	case PROC_SCHEDULER_ENVELOPES:
		wire_put_u64(w, m->id);
		wire_put_sz(w, m->count);
		break;
	default:
		return -1;
	}
	return wire_writer_error(w) ? -1 : 0;
}

int
scheduler_proto_decode_request(uint32_t type, const void *buf, size_t len,
    struct scheduler_msg *m)
{
	struct wire_reader	r;

	memset(m, 0, sizeof *m);
	m->type = type;
	wire_reader_init(&r, buf, len);
	switch (type) {
	case PROC_SCHEDULER_INIT:
		wire_get_u32(&r, &m->version);
		break;
	case PROC_SCHEDULER_INSERT:
	case PROC_SCHEDULER_UPDATE:
		wire_get_raw(&r, &m->si, sizeof m->si);
		break;
	case PROC_SCHEDULER_COMMIT:
	case PROC_SCHEDULER_ROLLBACK:
		wire_get_u32(&r, &m->msgid);
		break;
	case PROC_SCHEDULER_DELETE:
	case PROC_SCHEDULER_SCHEDULE:
	case PROC_SCHEDULER_REMOVE:
	case PROC_SCHEDULER_SUSPEND:
	case PROC_SCHEDULER_RESUME:
		wire_get_u64(&r, &m->id);
		break;
	case PROC_SCHEDULER_HOLD:
		wire_get_u64(&r, &m->id);
		wire_get_u64(&r, &m->holdq);
		break;
	case PROC_SCHEDULER_RELEASE:
		wire_get_i32(&r, &m->dtype);
		wire_get_u64(&r, &m->holdq);
		wire_get_i32(&r, &m->n);
		break;
	case PROC_SCHEDULER_BATCH:
		wire_get_i32(&r, &m->typemask);
		wire_get_sz(&r, &m->count);
		break;
	case PROC_SCHEDULER_MESSAGES:
		wire_get_u32(&r, &m->msgid);
		wire_get_sz(&r, &m->count);
		break;
	case PROC_SCHEDULER_ENVELOPES:
		wire_get_u64(&r, &m->id);
		wire_get_sz(&r, &m->count);
		break;
	default:
		return -1;
	}
	return wire_end(&r);
}

int
scheduler_proto_encode_reply(const struct scheduler_msg *m,
    struct wire_writer *w)
{
	size_t	i;

	switch (m->type) {
	case PROC_SCHEDULER_INIT:
	case PROC_SCHEDULER_INSERT:
	case PROC_SCHEDULER_DELETE:
	case PROC_SCHEDULER_HOLD:
	case PROC_SCHEDULER_RELEASE:
	case PROC_SCHEDULER_SCHEDULE:
	case PROC_SCHEDULER_REMOVE:
	case PROC_SCHEDULER_SUSPEND:
	case PROC_SCHEDULER_RESUME:
		wire_put_i32(w, m->r);
		break;
	case PROC_SCHEDULER_COMMIT:
	case PROC_SCHEDULER_ROLLBACK:
		wire_put_sz(w, m->count);
		break;
	case PROC_SCHEDULER_UPDATE:
		wire_put_i32(w, m->r);
		if (m->r == 1)
			scheduler_proto_put_info(w, &m->si);
		break;
	case PROC_SCHEDULER_BATCH:
		wire_put_i32(w, m->r);
		wire_put_i32(w, m->delay);
		wire_put_sz(w, m->count);
		if (m->r > 0) {
			for (i = 0; i < m->count; i++)
				wire_put_u64(w, m->evpids[i]);
			for (i = 0; i < m->count; i++)
				wire_put_i32(w, m->types[i]);
		}
		break;
	case PROC_SCHEDULER_MESSAGES:
		/* native u32s one after the other: the array is the payload */
		for (i = 0; i < m->count; i++)
			wire_put_u32(w, m->msgids[i]);
		break;
	case PROC_SCHEDULER_ENVELOPES:
		wire_put_raw(w, m->states, m->count * sizeof m->states[0]);
		break;
	default:
		return -1;
	}
	return wire_writer_error(w) ? -1 : 0;
}

int
scheduler_proto_decode_reply(uint32_t type, const void *buf, size_t len,
    struct scheduler_msg *m)
{
	struct scheduler_msg	keep = *m;
	struct wire_reader	r;
	size_t			i;
	int32_t			t;

	memset(m, 0, sizeof *m);
	m->type = type;
	m->evpids = keep.evpids;
	m->types = keep.types;
	m->msgids = keep.msgids;
	m->states = keep.states;
	m->cap = keep.cap;
	wire_reader_init(&r, buf, len);
	switch (type) {
	case PROC_SCHEDULER_INIT:
	case PROC_SCHEDULER_INSERT:
	case PROC_SCHEDULER_DELETE:
	case PROC_SCHEDULER_HOLD:
	case PROC_SCHEDULER_RELEASE:
	case PROC_SCHEDULER_SCHEDULE:
	case PROC_SCHEDULER_REMOVE:
	case PROC_SCHEDULER_SUSPEND:
	case PROC_SCHEDULER_RESUME:
		wire_get_i32(&r, &m->r);
		break;
	case PROC_SCHEDULER_COMMIT:
	case PROC_SCHEDULER_ROLLBACK:
		wire_get_sz(&r, &m->count);
		break;
	case PROC_SCHEDULER_UPDATE:
		wire_get_i32(&r, &m->r);
		if (m->r == 1)
			wire_get_raw(&r, &m->si, sizeof m->si);
		break;
	case PROC_SCHEDULER_BATCH:
		wire_get_i32(&r, &m->r);
		wire_get_i32(&r, &m->delay);
		wire_get_sz(&r, &m->count);
		if (m->r <= 0) {
			m->count = 0;	/* echoed or stale: meaningless */
			break;
		}
		if (m->count == 0 || m->count > m->cap ||
		    wire_remaining(&r) != m->count * 12)
			return -1;
		for (i = 0; i < m->count; i++)
			wire_get_u64(&r, &m->evpids[i]);
		for (i = 0; i < m->count; i++) {
			wire_get_i32(&r, &t);
			m->types[i] = t;
		}
		break;
	case PROC_SCHEDULER_MESSAGES:
		if (len % sizeof(uint32_t) != 0 ||
		    len / sizeof(uint32_t) > m->cap)
			return -1;
		m->count = len / sizeof(uint32_t);
		for (i = 0; i < m->count; i++)
			wire_get_u32(&r, &m->msgids[i]);
		break;
	case PROC_SCHEDULER_ENVELOPES:
		if (len % sizeof(struct evpstate) != 0 ||
		    len / sizeof(struct evpstate) > m->cap)
			return -1;
		m->count = len / sizeof(struct evpstate);
		if (len > 0)
			wire_get_raw(&r, m->states, len);
		break;
	default:
		return -1;
	}
	return wire_end(&r);
}
