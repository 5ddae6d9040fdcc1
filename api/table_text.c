/*
 * table_text.c -- codec of the OpenSMTPD 7.6+ table protocol, text
 * lines (table_text.h, libexec-protocols.md 7).
 *
 * Linked into smtpd (smtpd/table/table_proc.c) and into every table
 * helper (api/table_api.c): one implementation of the wire format.
 * Pure functions over caller buffers: they never log, never allocate,
 * and never read past a line's NUL; a malformed line is -1 with a
 * reason, whatever its bytes.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table_text.h"

static const char *const table_text_ops[] = {
	[TABLE_TEXT_NONE] = "?",
	[TABLE_TEXT_UPDATE] = "update",
	[TABLE_TEXT_CHECK] = "check",
	[TABLE_TEXT_LOOKUP] = "lookup",
	[TABLE_TEXT_FETCH] = "fetch",
};

#define TABLE_TEXT_NOPS	(sizeof table_text_ops / sizeof table_text_ops[0])

const char *
table_text_op_name(enum table_text_op op)
{
	return (size_t)op < TABLE_TEXT_NOPS ? table_text_ops[op] : "?";
}

/* table_text_op_from - the op called NAME (SUFFIX after it), or NONE */
static enum table_text_op
table_text_op_from(const char *name, const char *suffix)
{
	size_t	i, n;

	for (i = 1; i < TABLE_TEXT_NOPS; i++) {
		n = strlen(table_text_ops[i]);
		if (strncmp(name, table_text_ops[i], n) == 0 &&
		    strcmp(name + n, suffix) == 0)
			return (enum table_text_op)i;
	}
	return TABLE_TEXT_NONE;
}

/* table_text_field_ok - may S travel as a field (LAST: '|' allowed) */
static int
table_text_field_ok(const char *s, int last)
{
	if (s == NULL)
		return 0;
	return strpbrk(s, last ? "\r\n" : "\r\n|") == NULL;
}

/* table_text_put - printf into buf; the length or -1 if cut */
static int
table_text_put(char *buf, size_t bufsz, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
table_text_put(char *buf, size_t bufsz, size_t *len, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	if (*len >= bufsz)
		return -1;
	va_start(ap, fmt);
	r = vsnprintf(buf + *len, bufsz - *len, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= bufsz - *len)
		return -1;
	*len += (size_t)r;
	return 0;
}

int
table_text_encode_config(char *buf, size_t bufsz, const char *version,
    const char *table)
{
	size_t	len = 0;

	if (!table_text_field_ok(version, 1) || version[0] == '\0' ||
	    !table_text_field_ok(table, 1) || table[0] == '\0')
		return -1;
	if (table_text_put(buf, bufsz, &len, "config|smtpd-version|%s\n"
	    "config|protocol|%s\nconfig|tablename|%s\nconfig|ready\n",
	    version, TABLE_TEXT_PROTOCOL, table) == -1)
		return -1;
	return (int)len;
}

int
table_text_encode_register(char *buf, size_t bufsz, unsigned int services)
{
	unsigned int	bit;
	size_t		len = 0;
	const char	*name;

	if (services == 0)
		return -1;	/* a helper serves something */
	for (bit = 1; bit <= TABLE_TEXT_K_AUTH; bit <<= 1) {
		if ((services & bit) == 0)
			continue;
		name = bit == TABLE_TEXT_K_AUTH ? "auth" :
		    table_service_name((enum table_service)bit);
		if (strcmp(name, "unknown") == 0)
			continue;
		if (table_text_put(buf, bufsz, &len, "register|%s\n",
		    name) == -1)
			return -1;
	}
	if (len == 0 || table_text_put(buf, bufsz, &len,
	    "register|ready\n") == -1)
		return -1;
	return (int)len;
}

int
table_text_encode_request(char *buf, size_t bufsz,
    const struct table_text_request *m)
{
	const char	*svc = NULL;
	size_t		 len = 0;

	if (!table_text_field_ok(m->id, 0) || m->id[0] == '\0' ||
	    !table_text_field_ok(m->table, 0) || m->table[0] == '\0' ||
	    m->sec < 0 || m->usec < 0 || m->usec > 999999)
		return -1;
	if (m->op != TABLE_TEXT_UPDATE) {
		svc = table_service_name(m->service);
		if (strcmp(svc, "unknown") == 0)
			return -1;
	}
	if (table_text_put(buf, bufsz, &len, "table|%s|%lld.%06ld|%s|%s|",
	    TABLE_TEXT_PROTOCOL, m->sec, m->usec, m->table,
	    table_text_op_name(m->op)) == -1)
		return -1;
	switch (m->op) {
	case TABLE_TEXT_UPDATE:
		if (table_text_put(buf, bufsz, &len, "%s\n", m->id) == -1)
			return -1;
		break;
	case TABLE_TEXT_CHECK:
	case TABLE_TEXT_LOOKUP:
		if (!table_text_field_ok(m->key, 1) || table_text_put(buf,
		    bufsz, &len, "%s|%s|%s\n", svc, m->id, m->key) == -1)
			return -1;
		break;
	case TABLE_TEXT_FETCH:
		if (table_text_put(buf, bufsz, &len, "%s|%s\n", svc,
		    m->id) == -1)
			return -1;
		break;
	default:
		return -1;
	}
	return (int)len;
}

int
table_text_encode_reply(char *buf, size_t bufsz,
    const struct table_text_reply *m)
{
	size_t	len = 0;

	if (m->op == TABLE_TEXT_NONE || (size_t)m->op >= TABLE_TEXT_NOPS ||
	    !table_text_field_ok(m->id, 0) || m->id[0] == '\0')
		return -1;
	if (table_text_put(buf, bufsz, &len, "%s-result|%s|",
	    table_text_op_name(m->op), m->id) == -1)
		return -1;
	switch (m->result) {
	case TABLE_TEXT_FOUND:
		if (m->op == TABLE_TEXT_UPDATE)
			return table_text_put(buf, bufsz, &len, "ok\n") ==
			    -1 ? -1 : (int)len;
		if (m->op == TABLE_TEXT_CHECK)
			return table_text_put(buf, bufsz, &len, "found\n") ==
			    -1 ? -1 : (int)len;
		/* an empty value is refused by the daemon: never sent */
		if (!table_text_field_ok(m->value, 1) || m->value[0] == '\0')
			return -1;
		return table_text_put(buf, bufsz, &len, "found|%s\n",
		    m->value) == -1 ? -1 : (int)len;
	case TABLE_TEXT_NOT_FOUND:
		if (m->op == TABLE_TEXT_UPDATE)
			return -1;
		return table_text_put(buf, bufsz, &len, "not-found\n") ==
		    -1 ? -1 : (int)len;
	case TABLE_TEXT_ERROR:
		if (m->message == NULL || m->message[0] == '\0')
			return table_text_put(buf, bufsz, &len, "error\n") ==
			    -1 ? -1 : (int)len;
		if (!table_text_field_ok(m->message, 1))
			return -1;
		return table_text_put(buf, bufsz, &len, "error|%s\n",
		    m->message) == -1 ? -1 : (int)len;
	}
	return -1;
}

/* table_text_split - the field at *s, *s moved past its '|' (NULL after
 * the last field) */
static char *
table_text_split(char **s)
{
	char	*f = *s, *bar;

	if (f == NULL)
		return NULL;
	if ((bar = strchr(f, '|')) != NULL) {
		*bar = '\0';
		*s = bar + 1;
	} else
		*s = NULL;
	return f;
}

/* table_text_line_ok - no CR anywhere (LF cannot be: lines are split
 * on it) */
static int
table_text_line_ok(const char *line, const char **error)
{
	if (strchr(line, '\r') != NULL || strchr(line, '\n') != NULL) {
		*error = "carriage return or line feed inside a line";
		return 0;
	}
	return 1;
}

int
table_text_decode_config(char *line, const char **key, const char **value,
    const char **error)
{
	char	*s = line, *f;

	*key = *value = NULL;
	if (!table_text_line_ok(line, error))
		return -1;
	f = table_text_split(&s);
	if (strcmp(f, "config") != 0) {
		*error = "not a config line";
		return -1;
	}
	if ((f = table_text_split(&s)) == NULL || f[0] == '\0') {
		*error = "config line without a key";
		return -1;
	}
	*key = f;
	if (strcmp(f, "ready") == 0) {
		if (s != NULL) {
			*error = "config|ready with a value";
			return -1;
		}
		return 0;
	}
	if (s == NULL) {
		*error = "config line without a value";
		return -1;
	}
	*value = s;		/* the rest, '|' included */
	return 0;
}

int
table_text_decode_register(char *line, unsigned int *service,
    const char **error)
{
	char	*s = line, *f;

	*service = 0;
	if (!table_text_line_ok(line, error))
		return -1;
	f = table_text_split(&s);
	if (strcmp(f, "register") != 0) {
		*error = "not a register line";
		return -1;
	}
	if ((f = table_text_split(&s)) == NULL || s != NULL) {
		*error = "register line without one service";
		return -1;
	}
	if (strcmp(f, "ready") == 0)
		return 0;
	if (strcmp(f, "auth") == 0)
		*service = TABLE_TEXT_K_AUTH;
	else if ((*service = table_service_from_name(f)) == K_NONE) {
		*error = "unknown service registered";
		return -1;
	}
	return 0;
}

/* table_text_time - SEC.USEC; 0 or -1 */
static int
table_text_time(const char *s, long long *sec, long *usec)
{
	char	*end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	*sec = strtoll(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	s = end + 1;
	*usec = strtol(s, &end, 10);
	if (*end != '\0' || end - s > 6 || *sec < 0 || *usec < 0)
		return -1;
	return 0;
}

/* table_text_bad - fail decoding M because of WHY */
static int
table_text_bad(const char **error, const char *why)
{
	*error = why;
	return -1;
}

int
table_text_decode_request(char *line, struct table_text_request *m)
{
	char	*s = line, *f, *svc;

	memset(m, 0, sizeof *m);
	if (!table_text_line_ok(line, &m->error))
		return -1;
	if (strcmp(table_text_split(&s), "table") != 0)
		return table_text_bad(&m->error, "not a table request");
	if ((f = table_text_split(&s)) == NULL ||
	    strcmp(f, TABLE_TEXT_PROTOCOL) != 0)
		return table_text_bad(&m->error, "unknown protocol version");
	if ((f = table_text_split(&s)) == NULL ||
	    table_text_time(f, &m->sec, &m->usec) == -1)
		return table_text_bad(&m->error, "bad timestamp");
	if ((m->table = table_text_split(&s)) == NULL || m->table[0] == '\0')
		return table_text_bad(&m->error, "no table name");
	if ((f = table_text_split(&s)) == NULL ||
	    (m->op = table_text_op_from(f, "")) == TABLE_TEXT_NONE)
		return table_text_bad(&m->error, "unknown operation");
	if (m->op != TABLE_TEXT_UPDATE) {
		if ((svc = table_text_split(&s)) == NULL)
			return table_text_bad(&m->error, "no service");
		/* an unknown one is the helper's to answer: error */
		m->service = table_service_from_name(svc);
	}
	if (m->op == TABLE_TEXT_CHECK || m->op == TABLE_TEXT_LOOKUP) {
		if ((m->id = table_text_split(&s)) == NULL || s == NULL)
			return table_text_bad(&m->error, "no id or no key");
		m->key = s;	/* the last field, '|' included */
	} else if ((m->id = table_text_split(&s)) == NULL || s != NULL)
		return table_text_bad(&m->error, "no id, or fields after it");
	if (m->id[0] == '\0')
		return table_text_bad(&m->error, "empty id");
	return 0;
}

int
table_text_decode_reply(char *line, struct table_text_reply *m)
{
	char	*s = line, *f;

	memset(m, 0, sizeof *m);
	if (!table_text_line_ok(line, &m->error))
		return -1;
	f = table_text_split(&s);
	if ((m->op = table_text_op_from(f, "-result")) == TABLE_TEXT_NONE)
		return table_text_bad(&m->error, "unknown result name");
	if ((m->id = table_text_split(&s)) == NULL || m->id[0] == '\0' ||
	    s == NULL)
		return table_text_bad(&m->error, "no id or no result");
	f = table_text_split(&s);
	if (strcmp(f, "error") == 0) {
		m->result = TABLE_TEXT_ERROR;
		m->message = s;		/* NULL, or the rest */
		return 0;
	}
	if (m->op == TABLE_TEXT_UPDATE) {
		if (strcmp(f, "ok") != 0 || s != NULL)
			return table_text_bad(&m->error, "bad update result");
		m->result = TABLE_TEXT_FOUND;
		return 0;
	}
	if (strcmp(f, "not-found") == 0 && s == NULL) {
		m->result = TABLE_TEXT_NOT_FOUND;
		return 0;
	}
	if (strcmp(f, "found") != 0)
		return table_text_bad(&m->error, "bad result");
	m->result = TABLE_TEXT_FOUND;
	if (m->op == TABLE_TEXT_CHECK) {
		if (s != NULL)
			return table_text_bad(&m->error,
			    "a check result with a value");
		return 0;
	}
	if (s == NULL || s[0] == '\0')
		return table_text_bad(&m->error, "found with an empty value");
	m->value = s;
	return 0;
}
