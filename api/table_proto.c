/*
 * table_proto.c -- the proc table protocol's codec (table_proto.h).
 *
 * Linked into every table helper (through api/table_api.c) and into
 * smtpd (smtpd/table/table_proc.c, in the lookup process): one
 * description of each payload of libexec-protocols.md 4.2-4.4, read and
 * written with the wire codec.  Pure functions: no I/O, no logging, no
 * allocation, never exits; a payload of the wrong size, with a field
 * cut short or with leftover bytes decodes as -1 with a reason.
 */
#include <string.h>

#include "api_limits.h"
#include "table_proto.h"

const char *
table_proto_name(uint32_t type)
{
	switch (type) {
	case PROC_TABLE_OK:
		return "OK";
	case PROC_TABLE_FAIL:
		return "FAIL";
	case PROC_TABLE_OPEN:
		return "OPEN";
	case PROC_TABLE_CLOSE:
		return "CLOSE";
	case PROC_TABLE_UPDATE:
		return "UPDATE";
	case PROC_TABLE_CHECK:
		return "CHECK";
	case PROC_TABLE_LOOKUP:
		return "LOOKUP";
	case PROC_TABLE_FETCH:
		return "FETCH";
	}
	return "?";
}

int
table_proto_has_value(uint32_t type)
{
	return type == PROC_TABLE_LOOKUP || type == PROC_TABLE_FETCH;
}

/* table_proto_params_ok - are P and LEN exactly N key/value pairs */
static int
table_proto_params_ok(const void *p, size_t len, size_t n)
{
	struct wire_reader	 r;
	const char		*k, *v;
	size_t			 i;

	if (n > API_TABLE_PARAMS_MAX)
		return 0;
	wire_reader_init(&r, p, len);
	for (i = 0; i < n; i++) {
		wire_get_cstr(&r, &k);
		wire_get_cstr(&r, &v);
	}
	return wire_end(&r) == 0;
}

int
table_proto_encode_request(const struct table_msg *m, struct wire_writer *w)
{
	char	name[API_NAME_MAX];

	switch (m->type) {
	case PROC_TABLE_OPEN:
		/* struct table_open_params: the name zero-padded */
		if (m->name == NULL || strlen(m->name) >= sizeof name)
			return -1;
		memset(name, 0, sizeof name);
		memcpy(name, m->name, strlen(m->name));
		wire_put_u32(w, m->version);
		wire_put_raw(w, name, sizeof name);
		break;
	case PROC_TABLE_CLOSE:
	case PROC_TABLE_UPDATE:
		break;
	case PROC_TABLE_CHECK:
	case PROC_TABLE_LOOKUP:
	case PROC_TABLE_FETCH:
		if (!table_proto_params_ok(m->params, m->paramslen,
		    m->nparams))
			return -1;
		if ((m->type == PROC_TABLE_FETCH) != (m->key == NULL))
			return -1;
		wire_put_i32(w, m->service);
		wire_put_sz(w, m->nparams);
		wire_put_raw(w, m->params, m->paramslen);
		if (m->key != NULL)
			wire_put_cstr(w, m->key);
		break;
	default:
		return -1;
	}
	return wire_writer_error(w) ? -1 : 0;
}

/* table_proto_bad - fail a decoding with WHY */
static int
table_proto_bad(struct table_msg *m, const char *why)
{
	m->error = why;
	return -1;
}

int
table_proto_decode_request(uint32_t type, const void *buf, size_t len,
    struct table_msg *m)
{
	struct wire_reader	 r;
	const unsigned char	*p = buf;
	const char		*k, *v;
	size_t			 i, start;

	memset(m, 0, sizeof *m);
	m->type = type;
	wire_reader_init(&r, buf, len);
	switch (type) {
	case PROC_TABLE_OPEN:
		if (len != TABLE_OPEN_PARAMS_SIZE)
			return table_proto_bad(m, "bad msg len");
		wire_get_u32(&r, &m->version);
		m->name = (const char *)p + r.off;
		if (memchr(m->name, '\0', wire_remaining(&r)) == NULL)
			return table_proto_bad(m,
			    "table name not NUL-terminated");
		return 0;
	case PROC_TABLE_CLOSE:
	case PROC_TABLE_UPDATE:
		if (len != 0)
			return table_proto_bad(m, "bad msg len");
		return 0;
	case PROC_TABLE_CHECK:
	case PROC_TABLE_LOOKUP:
	case PROC_TABLE_FETCH:
		break;
	default:
		return table_proto_bad(m, "unknown request");
	}
	wire_get_i32(&r, &m->service);
	wire_get_sz(&r, &m->nparams);
	if (r.error)
		return table_proto_bad(m, "bad msg len");
	/* each pair takes at least two bytes: never trust nparams further */
	if (m->nparams > API_TABLE_PARAMS_MAX ||
	    m->nparams > wire_remaining(&r) / 2)
		return table_proto_bad(m, "bogus parameter count");
	start = r.off;
	for (i = 0; i < m->nparams; i++)
		if (wire_get_cstr(&r, &k) == -1 || wire_get_cstr(&r, &v) == -1)
			return table_proto_bad(m, "bogus parameter");
	m->params = p + start;
	m->paramslen = r.off - start;
	if (type != PROC_TABLE_FETCH) {
		/* the key is the last field: the payload ends with its NUL */
		if (len == 0 || p[len - 1] != '\0' ||
		    wire_get_cstr(&r, &m->key) == -1)
			return table_proto_bad(m, "key not NUL-terminated");
	}
	if (wire_end(&r) == -1)
		return table_proto_bad(m, "garbage after request");
	return 0;
}

int
table_proto_param_next(const struct table_msg *m, size_t *off,
    const char **key, const char **value)
{
	struct wire_reader	r;

	if (*off >= m->paramslen)
		return 0;
	wire_reader_init(&r, m->params, m->paramslen);
	r.off = *off;
	if (wire_get_cstr(&r, key) == -1 || wire_get_cstr(&r, value) == -1)
		return 0;
	*off = r.off;
	return 1;
}

int
table_proto_encode_reply(const struct table_msg *m, struct wire_writer *w)
{
	switch (m->type) {
	case PROC_TABLE_OPEN:
		break;		/* empty */
	case PROC_TABLE_UPDATE:
	case PROC_TABLE_CHECK:
	case PROC_TABLE_LOOKUP:
	case PROC_TABLE_FETCH:
		if (m->r < -1 || m->r > 1)
			return -1;
		wire_put_i32(w, m->r);
		if (m->r == 1 && table_proto_has_value(m->type)) {
			if (m->value == NULL ||
			    strlen(m->value) >= API_TABLE_VALUE_MAX)
				return -1;
			wire_put_cstr(w, m->value);
		}
		break;
	default:
		return -1;	/* CLOSE has no reply */
	}
	return wire_writer_error(w) ? -1 : 0;
}

int
table_proto_decode_reply(uint32_t type, const void *buf, size_t len,
    struct table_msg *m)
{
	struct wire_reader	 r;
	const void		*rest;
	size_t			 restlen;

	memset(m, 0, sizeof *m);
	m->type = type;
	wire_reader_init(&r, buf, len);
	switch (type) {
	case PROC_TABLE_OPEN:
		if (len != 0)
			return table_proto_bad(m, "OPEN answered with a payload");
		return 0;
	case PROC_TABLE_UPDATE:
	case PROC_TABLE_CHECK:
	case PROC_TABLE_LOOKUP:
	case PROC_TABLE_FETCH:
		break;
	default:
		return table_proto_bad(m, "no reply expected");
	}
	if (wire_get_i32(&r, &m->r) == -1)
		return table_proto_bad(m, "bad msg len");
	if (m->r < -1 || m->r > 1)
		return table_proto_bad(m, "result out of range");
	wire_get_rest(&r, &rest, &restlen);
	if (m->r != 1 || !table_proto_has_value(type)) {
		if (restlen != 0)
			return table_proto_bad(m, "garbage after result");
		return 0;
	}
	/* exactly one value, and its NUL the payload's last byte */
	if (restlen == 0)
		return table_proto_bad(m, "value missing");
	if (((const char *)rest)[restlen - 1] != '\0' ||
	    memchr(rest, '\0', restlen - 1) != NULL)
		return table_proto_bad(m, "value not one NUL-terminated string");
	if (restlen - 1 >= API_TABLE_VALUE_MAX)
		return table_proto_bad(m, "value over the limit");
	m->value = rest;
	m->valuelen = restlen - 1;
	return 0;
}
