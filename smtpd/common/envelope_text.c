/*
 * envelope_text.c -- the envelope text codec, version 3 (spec 5.6).
 *
 * Used wherever an envelope crosses a process or reaches the disk.  One
 * table lists every field in writing order with its kind, its member,
 * when it is written and whether a reader requires it; envelope_dump
 * and envelope_load both walk it.  The reader takes a pointer and a
 * length, never reads past the length and needs no NUL; it refuses, with
 * a reason naming the field or line, anything the 6.8 reader refuses and
 * also duplicates, CR, a missing final newline and a missing
 * always-written field.  The writer refuses (-1) any value that would not
 * read back as itself, a line break above all (SEC-09).  No fatal here:
 * envelope text comes from disk and from helper processes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"

enum envelope_kind {
	EK_VERSION,		/* u32, must be ENVELOPE_VERSION */
	EK_STRING,		/* char[size] */
	EK_TYPE,		/* mda | mta | bounce */
	EK_SOCKADDR,		/* a.b.c.d | [v6] | local (| IPv6:v6 read) */
	EK_MAILADDR,		/* user@domain */
	EK_TIME,		/* time_t, 0..LLONG_MAX */
	EK_U16,
	EK_U8,
	EK_FLAGS,		/* words: authenticated bounce internal */
	EK_DSN_RET,		/* FULL | HDRS */
	EK_BOUNCE_TYPE		/* failed | delayed | delivered */
};

/* when a field is written; a field whose value is empty never is */
enum envelope_when {
	EW_ALWAYS,
	EW_ESC,			/* esc-class != 0 */
	EW_ORCPT,		/* dsn-orcpt: both parts non-empty */
	EW_MDA,			/* type mda */
	EW_BOUNCE,		/* type bounce */
	EW_DELAYED		/* type bounce and bounce-type delayed */
};

struct envelope_field {
	const char		*name;
	enum envelope_kind	 kind;
	size_t			 off;
	size_t			 size;
	enum envelope_when	 when;
	int			 required;	/* always written by 6.8 */
};

#define EF(name, kind, member, when, req)				\
	{ name, kind, offsetof(struct envelope, member),		\
	    sizeof(((struct envelope *)0)->member), when, req }

/* the writing order of 6.8; reading accepts any order */
static const struct envelope_field envelope_text_fields[] = {
	EF("version",		EK_VERSION,	version,	EW_ALWAYS, 1),
	EF("dispatcher",	EK_STRING,	dispatcher,	EW_ALWAYS, 0),
	EF("tag",		EK_STRING,	tag,		EW_ALWAYS, 0),
	EF("type",		EK_TYPE,	type,		EW_ALWAYS, 1),
	EF("smtpname",		EK_STRING,	smtpname,	EW_ALWAYS, 0),
	EF("helo",		EK_STRING,	helo,		EW_ALWAYS, 0),
	EF("hostname",		EK_STRING,	hostname,	EW_ALWAYS, 0),
	EF("username",		EK_STRING,	username,	EW_ALWAYS, 0),
	EF("errorline",		EK_STRING,	errorline,	EW_ALWAYS, 0),
	EF("sockaddr",		EK_SOCKADDR,	ss,		EW_ALWAYS, 0),
	EF("sender",		EK_MAILADDR,	sender,		EW_ALWAYS, 1),
	EF("rcpt",		EK_MAILADDR,	rcpt,		EW_ALWAYS, 1),
	EF("dest",		EK_MAILADDR,	dest,		EW_ALWAYS, 1),
	EF("ctime",		EK_TIME,	creation,	EW_ALWAYS, 1),
	EF("last-try",		EK_TIME,	lasttry,	EW_ALWAYS, 1),
	EF("last-bounce",	EK_TIME,	lastbounce,	EW_ALWAYS, 1),
	EF("ttl",		EK_TIME,	ttl,		EW_ALWAYS, 1),
	EF("retry",		EK_U16,		retry,		EW_ALWAYS, 1),
	EF("flags",		EK_FLAGS,	flags,		EW_ALWAYS, 0),
	EF("dsn-notify",	EK_U8,		dsn_notify,	EW_ALWAYS, 1),
	EF("dsn-ret",		EK_DSN_RET,	dsn_ret,	EW_ALWAYS, 0),
	EF("dsn-envid",		EK_STRING,	dsn_envid,	EW_ALWAYS, 0),
	EF("dsn-orcpt",		EK_MAILADDR,	dsn_orcpt,	EW_ORCPT,  0),
	EF("esc-class",		EK_U8,		esc_class,	EW_ESC,    0),
	EF("esc-code",		EK_U8,		esc_code,	EW_ESC,    0),
	EF("mda-exec",		EK_STRING,	mda_exec,	EW_MDA,    0),
	EF("mda-subaddress",	EK_STRING,	mda_subaddress,	EW_MDA,    0),
	EF("mda-user",		EK_STRING,	mda_user,	EW_MDA,    0),
	EF("bounce-ttl",	EK_TIME,	bounce_ttl,	EW_DELAYED, 0),
	EF("bounce-delay",	EK_TIME,	bounce_delay,	EW_DELAYED, 0),
	EF("bounce-type",	EK_BOUNCE_TYPE,	bounce_type,	EW_BOUNCE, 0),
};
#define ENVELOPE_NFIELDS \
	(sizeof envelope_text_fields / sizeof envelope_text_fields[0])

/* a formatted value: the largest string field, or "user@domain" */
#define ENVELOPE_VALUE_SIZE	2048
#define ENVELOPE_FIELD_NAME_MAX	16	/* "mda-subaddress" is 14 */
#define ENVELOPE_SOCKADDR_MAX	(INET6_ADDRSTRLEN + IF_NAMESIZE + 8)

_Static_assert(ENVELOPE_NFIELDS <= 64, "one bit per field in a u64");
_Static_assert(ENVELOPE_ERRORLINE_SIZE <= ENVELOPE_VALUE_SIZE &&
    ENVELOPE_MDA_EXEC_SIZE <= ENVELOPE_VALUE_SIZE &&
    MAILADDR_TEXT_SIZE <= ENVELOPE_VALUE_SIZE, "a value fits the buffer");
/* every field at its longest still fits one text: dump never runs out
 * of room in an ENVELOPE_TEXT_MAX + 1 buffer */
_Static_assert(ENVELOPE_NFIELDS * (ENVELOPE_FIELD_NAME_MAX + 3 + 24) +
    4 * ENVELOPE_NAME_SIZE + ENVELOPE_TAG_SIZE + ENVELOPE_USERNAME_SIZE +
    ENVELOPE_ERRORLINE_SIZE + 4 * MAILADDR_TEXT_SIZE +
    ENVELOPE_DSN_ENVID_SIZE + ENVELOPE_MDA_EXEC_SIZE +
    ENVELOPE_SUBADDR_SIZE + ENVELOPE_MDA_USER_SIZE <= ENVELOPE_TEXT_MAX,
    "the longest envelope fits ENVELOPE_TEXT_MAX");

/* envelope_text_error - fill ERR (may be NULL) and fail */
static int __attribute__((format(printf, 3, 4)))
envelope_text_error(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* envelope_text_member - the struct member a field describes */
static void *
envelope_text_member(struct envelope *evp, const struct envelope_field *f)
{
	return (char *)evp + f->off;
}

/* envelope_text_cmember - the same, read-only */
static const void *
envelope_text_cmember(const struct envelope *evp,
    const struct envelope_field *f)
{
	return (const char *)evp + f->off;
}

/* ---- writing ---- */

/* envelope_text_written - whether field F of EVP is written at all */
static int
envelope_text_written(const struct envelope *evp,
    const struct envelope_field *f)
{
	switch (f->when) {
	case EW_ALWAYS:
		return 1;
	case EW_ESC:
		return evp->esc_class != 0;
	case EW_ORCPT:
		return evp->dsn_orcpt.user[0] != '\0' &&
		    evp->dsn_orcpt.domain[0] != '\0';
	case EW_MDA:
		return evp->type == ENVELOPE_MDA;
	case EW_BOUNCE:
		return evp->type == ENVELOPE_BOUNCE;
	case EW_DELAYED:
		return evp->type == ENVELOPE_BOUNCE &&
		    evp->bounce_type == BOUNCE_DELAYED;
	}
	return 0;
}

/* envelope_text_format_ss - the client address as text ("" for none) */
static int
envelope_text_format_ss(const struct sockaddr_storage *ss, char *buf,
    size_t bufsz)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 a[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_UNSPEC:
		buf[0] = '\0';
		return 0;
	case AF_UNIX:
		return snprintf(buf, bufsz, "local");
	case AF_INET:
		sin = (const struct sockaddr_in *)ss;
		if (inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a) == NULL)
			return -1;
		return snprintf(buf, bufsz, "%s", a);
	case AF_INET6:
		/* the scope as a number: the text does not depend on the
		 * interfaces of the machine that writes it */
		sin6 = (const struct sockaddr_in6 *)ss;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a) == NULL)
			return -1;
		if (sin6->sin6_scope_id != 0)
			return snprintf(buf, bufsz, "[%s%%%u]", a,
			    (unsigned int)sin6->sin6_scope_id);
		return snprintf(buf, bufsz, "[%s]", a);
	}
	return -1;		/* a family the text cannot carry */
}

/* envelope_text_format_flags - the set flags as words, "" for none */
static int
envelope_text_format_flags(uint16_t flags, char *buf, size_t bufsz)
{
	return snprintf(buf, bufsz, "%s%s%s%s%s",
	    (flags & ENVELOPE_F_AUTHENTICATED) ? "authenticated" : "",
	    (flags & ENVELOPE_F_AUTHENTICATED) &&
	    (flags & (ENVELOPE_F_BOUNCE | ENVELOPE_F_INTERNAL)) ? " " : "",
	    (flags & ENVELOPE_F_BOUNCE) ? "bounce" : "",
	    (flags & ENVELOPE_F_BOUNCE) && (flags & ENVELOPE_F_INTERNAL) ?
	    " " : "",
	    (flags & ENVELOPE_F_INTERNAL) ? "internal" : "");
}

/* envelope_text_format - field F of EVP into BUF; its length or -1 */
static int
envelope_text_format(const struct envelope *evp,
    const struct envelope_field *f, char *buf, size_t bufsz)
{
	const void	*m = envelope_text_cmember(evp, f);
	const char	*s;
	size_t		 len;
	time_t		 t;

	switch (f->kind) {
	case EK_VERSION:
		return snprintf(buf, bufsz, "%d", ENVELOPE_VERSION);
	case EK_STRING:
		s = m;
		if ((len = strnlen(s, f->size)) == f->size || len >= bufsz)
			return -1;	/* no NUL in its buffer */
		memcpy(buf, s, len + 1);
		return (int)len;
	case EK_TYPE:
		switch (evp->type) {
		case ENVELOPE_MDA:
			return snprintf(buf, bufsz, "mda");
		case ENVELOPE_MTA:
			return snprintf(buf, bufsz, "mta");
		case ENVELOPE_BOUNCE:
			return snprintf(buf, bufsz, "bounce");
		}
		return -1;
	case EK_SOCKADDR:
		return envelope_text_format_ss(m, buf, bufsz);
	case EK_MAILADDR:
		return mailaddr_format(m, buf, bufsz);
	case EK_TIME:
		memcpy(&t, m, sizeof t);
		if (t < 0)
			return -1;	/* the reader takes 0..LLONG_MAX */
		return snprintf(buf, bufsz, "%lld", (long long)t);
	case EK_U16:
		return snprintf(buf, bufsz, "%u",
		    (unsigned int)*(const uint16_t *)m);
	case EK_U8:
		return snprintf(buf, bufsz, "%u",
		    (unsigned int)*(const uint8_t *)m);
	case EK_FLAGS:
		return envelope_text_format_flags(evp->flags, buf, bufsz);
	case EK_DSN_RET:
		switch (evp->dsn_ret) {
		case DSN_RET_UNSET:
			buf[0] = '\0';
			return 0;
		case DSN_RET_FULL:
			return snprintf(buf, bufsz, "FULL");
		case DSN_RET_HDRS:
			return snprintf(buf, bufsz, "HDRS");
		}
		return -1;
	case EK_BOUNCE_TYPE:
		switch (evp->bounce_type) {
		case BOUNCE_FAILED:
			return snprintf(buf, bufsz, "failed");
		case BOUNCE_DELAYED:
			return snprintf(buf, bufsz, "delayed");
		case BOUNCE_DELIVERED:
			return snprintf(buf, bufsz, "delivered");
		case BOUNCE_RELAYED:
			return snprintf(buf, bufsz, "relayed");
		}
		return -1;
	}
	return -1;
}

/*
 * envelope_dump - EVP as version 3 text into BUF, NUL-terminated (the
 * NUL is not part of the text).  Returns the text length, or -1 if it
 * does not fit BUFSZ or a field cannot be written faithfully: a CR or LF
 * in a value (SEC-09), a leading blank (the reader skips it), a bad
 * enum, a negative time, an unterminated string.
 */
int
envelope_dump(const struct envelope *evp, char *buf, size_t bufsz)
{
	const struct envelope_field	*f;
	char				 val[ENVELOPE_VALUE_SIZE];
	size_t				 len = 0, nlen, i;
	int				 vlen;

	for (i = 0; i < ENVELOPE_NFIELDS; i++) {
		f = &envelope_text_fields[i];
		if (!envelope_text_written(evp, f))
			continue;
		vlen = envelope_text_format(evp, f, val, sizeof val);
		if (vlen < 0 || (size_t)vlen >= sizeof val)
			return -1;
		if (vlen == 0)
			continue;	/* empty values are omitted */
		if (memchr(val, '\n', vlen) != NULL ||
		    memchr(val, '\r', vlen) != NULL ||
		    val[0] == ' ' || val[0] == '\t')
			return -1;
		nlen = strlen(f->name);
		if (len + nlen + 2 + (size_t)vlen + 1 > ENVELOPE_TEXT_MAX ||
		    len + nlen + 2 + (size_t)vlen + 1 >= bufsz)
			return -1;
		memcpy(buf + len, f->name, nlen);
		len += nlen;
		buf[len++] = ':';
		buf[len++] = ' ';
		memcpy(buf + len, val, vlen);
		len += vlen;
		buf[len++] = '\n';
	}
	if (len >= bufsz)
		return -1;
	buf[len] = '\0';
	return (int)len;
}

/* ---- reading ---- */

/* envelope_text_number - decimal digits only, at most MAX */
static int
envelope_text_number(const struct envelope_field *f, const char *v,
    size_t vlen, unsigned long long max, unsigned long long *out,
    char *err, size_t errsz)
{
	unsigned long long	n = 0;
	size_t			i;

	if (vlen == 0)
		return envelope_text_error(err, errsz, "%s: empty value",
		    f->name);
	for (i = 0; i < vlen; i++)
		if (v[i] < '0' || v[i] > '9')
			return envelope_text_error(err, errsz,
			    "%s: not a decimal number", f->name);
	for (i = 0; i < vlen; i++) {
		if (n > (max - (unsigned long long)(v[i] - '0')) / 10)
			return envelope_text_error(err, errsz,
			    "%s: %.*s%s out of range 0..%llu", f->name,
			    (int)(vlen > 24 ? 24 : vlen), v,
			    vlen > 24 ? "..." : "", max);
		n = n * 10 + (unsigned long long)(v[i] - '0');
	}
	*out = n;
	return 0;
}

/* envelope_text_is - V (VLEN bytes) equals WORD, ignoring case */
static int
envelope_text_is(const char *v, size_t vlen, const char *word)
{
	return strlen(word) == vlen && strncasecmp(v, word, vlen) == 0;
}

/* envelope_text_printable - V quotable in an error: printable ASCII */
static int
envelope_text_printable(const char *v, size_t vlen)
{
	size_t	i;

	for (i = 0; i < vlen; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return 0;
	return 1;
}

/* envelope_text_parse_v6 - an IPv6 address with an optional %scope */
static int
envelope_text_parse_v6(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in6	 sin6;
	char			 addr[INET6_ADDRSTRLEN];
	const char		*pct, *p;
	unsigned long long	 scope = 0;
	size_t			 alen;

	memset(&sin6, 0, sizeof sin6);
	pct = strchr(a, '%');
	alen = pct != NULL ? (size_t)(pct - a) : strlen(a);
	if (alen >= sizeof addr)
		return -1;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1)
		return -1;
	if (pct != NULL) {
		p = pct + 1;
		if (*p == '\0')
			return -1;
		if (*p >= '0' && *p <= '9') {
			for (; *p >= '0' && *p <= '9'; p++) {
				scope = scope * 10 +
				    (unsigned long long)(*p - '0');
				if (scope > UINT32_MAX)
					return -1;
			}
			if (*p != '\0' || scope == 0)
				return -1;
		} else if (strlen(p) >= IF_NAMESIZE ||
		    (scope = if_nametoindex(p)) == 0)
			return -1;	/* 6.8 writes interface names */
		sin6.sin6_scope_id = (uint32_t)scope;
	}
	sin6.sin6_family = AF_INET6;
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &sin6, sizeof sin6);
	return 0;
}

/* envelope_text_parse_ss - "local", "[v6]", "IPv6:v6" or "a.b.c.d" */
static int
envelope_text_parse_ss(struct sockaddr_storage *ss, const char *v,
    size_t vlen)
{
	struct sockaddr_in	sin;
	char			a[ENVELOPE_SOCKADDR_MAX];

	if (vlen >= sizeof a)
		return -1;
	memcpy(a, v, vlen);
	a[vlen] = '\0';
	if (strcmp(a, "local") == 0) {
		memset(ss, 0, sizeof *ss);
		ss->ss_family = AF_UNIX;
		return 0;
	}
	if (vlen >= 2 && a[0] == '[' && a[vlen - 1] == ']') {
		a[vlen - 1] = '\0';
		return envelope_text_parse_v6(ss, a + 1);
	}
	if (strncasecmp(a, "IPv6:", 5) == 0)
		return envelope_text_parse_v6(ss, a + 5);
	memset(&sin, 0, sizeof sin);
	if (inet_pton(AF_INET, a, &sin.sin_addr) != 1)
		return -1;
	sin.sin_family = AF_INET;
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &sin, sizeof sin);
	return 0;
}

/* envelope_text_parse_flags - words split by ' ', ',' or '|' */
static int
envelope_text_parse_flags(uint16_t *flags, const char *v, size_t vlen,
    char *err, size_t errsz)
{
	size_t	i, start;

	*flags = 0;
	for (start = 0, i = 0; i <= vlen; i++) {
		if (i < vlen && v[i] != ' ' && v[i] != ',' && v[i] != '|')
			continue;
		if (envelope_text_is(v + start, i - start, "authenticated"))
			*flags |= ENVELOPE_F_AUTHENTICATED;
		else if (envelope_text_is(v + start, i - start, "bounce"))
			*flags |= ENVELOPE_F_BOUNCE;
		else if (envelope_text_is(v + start, i - start, "internal"))
			*flags |= ENVELOPE_F_INTERNAL;
		else if (envelope_text_is(v + start, i - start, "enqueued"))
			;		/* an old flag, ignored as by 6.8 */
		else if (i == start)
			return envelope_text_error(err, errsz,
			    "flags: empty flag word");
		else if (envelope_text_printable(v + start, i - start))
			return envelope_text_error(err, errsz,
			    "flags: unknown flag \"%.*s\"",
			    (int)(i - start > 32 ? 32 : i - start), v + start);
		else
			return envelope_text_error(err, errsz,
			    "flags: unknown flag word");
		start = i + 1;
	}
	return 0;
}

/* envelope_text_parse - value V of field F into EVP */
static int
envelope_text_parse(struct envelope *evp, const struct envelope_field *f,
    const char *v, size_t vlen, char *err, size_t errsz)
{
	void			*m = envelope_text_member(evp, f);
	char			 why[128];
	unsigned long long	 n;
	time_t			 t;

	switch (f->kind) {
	case EK_VERSION:
		if (envelope_text_number(f, v, vlen, UINT32_MAX, &n, err,
		    errsz) == -1)
			return -1;
		if (n != ENVELOPE_VERSION)
			return envelope_text_error(err, errsz,
			    "version: %llu is not supported (want %d)", n,
			    ENVELOPE_VERSION);
		evp->version = (uint32_t)n;
		return 0;
	case EK_STRING:
		if (vlen >= f->size)
			return envelope_text_error(err, errsz,
			    "%s: value longer than %zu bytes", f->name,
			    f->size - 1);
		memcpy(m, v, vlen);
		((char *)m)[vlen] = '\0';
		return 0;
	case EK_TYPE:
		if (envelope_text_is(v, vlen, "mda"))
			evp->type = ENVELOPE_MDA;
		else if (envelope_text_is(v, vlen, "mta"))
			evp->type = ENVELOPE_MTA;
		else if (envelope_text_is(v, vlen, "bounce"))
			evp->type = ENVELOPE_BOUNCE;
		else
			return envelope_text_error(err, errsz,
			    "type: not mda, mta or bounce");
		return 0;
	case EK_SOCKADDR:
		if (envelope_text_parse_ss(m, v, vlen) == -1)
			return envelope_text_error(err, errsz,
			    "sockaddr: not local, an IPv4 or a [IPv6] address");
		return 0;
	case EK_MAILADDR:
		if (mailaddr_parse(m, v, vlen, why, sizeof why) == -1)
			return envelope_text_error(err, errsz, "%s: %s",
			    f->name, why);
		return 0;
	case EK_TIME:
		if (envelope_text_number(f, v, vlen, LLONG_MAX, &n, err,
		    errsz) == -1)
			return -1;
		t = (time_t)n;
		memcpy(m, &t, sizeof t);
		return 0;
	case EK_U16:
		if (envelope_text_number(f, v, vlen, UINT16_MAX, &n, err,
		    errsz) == -1)
			return -1;
		*(uint16_t *)m = (uint16_t)n;
		return 0;
	case EK_U8:
		if (envelope_text_number(f, v, vlen, UINT8_MAX, &n, err,
		    errsz) == -1)
			return -1;
		*(uint8_t *)m = (uint8_t)n;
		return 0;
	case EK_FLAGS:
		return envelope_text_parse_flags(&evp->flags, v, vlen, err,
		    errsz);
	case EK_DSN_RET:
		if (envelope_text_is(v, vlen, "FULL"))
			evp->dsn_ret = DSN_RET_FULL;
		else if (envelope_text_is(v, vlen, "HDRS"))
			evp->dsn_ret = DSN_RET_HDRS;
		else
			return envelope_text_error(err, errsz,
			    "dsn-ret: not FULL or HDRS");
		return 0;
	case EK_BOUNCE_TYPE:
		if (envelope_text_is(v, vlen, "failed") ||
		    envelope_text_is(v, vlen, "error"))
			evp->bounce_type = BOUNCE_FAILED;
		else if (envelope_text_is(v, vlen, "delayed") ||
		    envelope_text_is(v, vlen, "warn"))
			evp->bounce_type = BOUNCE_DELAYED;
		else if (envelope_text_is(v, vlen, "delivered") ||
		    envelope_text_is(v, vlen, "dsn"))
			evp->bounce_type = BOUNCE_DELIVERED;
		else if (envelope_text_is(v, vlen, "relayed"))
			evp->bounce_type = BOUNCE_RELAYED;
		else
			return envelope_text_error(err, errsz, "bounce-type: "
			    "not failed, delayed, delivered or relayed");
		return 0;
	}
	return envelope_text_error(err, errsz, "%s: internal error", f->name);
}

/* envelope_text_lookup - the field named NAME (NLEN bytes, any case) */
static const struct envelope_field *
envelope_text_lookup(const char *name, size_t nlen, size_t *idx)
{
	const char	*fname;
	size_t		 i;

	for (i = 0; i < ENVELOPE_NFIELDS; i++) {
		fname = envelope_text_fields[i].name;
		if (envelope_text_is(name, nlen, fname)) {
			*idx = i;
			return &envelope_text_fields[i];
		}
	}
	return NULL;
}

/* envelope_text_is_name_char - [A-Za-z0-9-], in any locale */
static int
envelope_text_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* envelope_text_load_line - one "name: value" line (no '\n') into EVP */
static int
envelope_text_load_line(struct envelope *evp, const char *line,
    size_t llen, unsigned int lineno, uint64_t *seen, char *err,
    size_t errsz)
{
	const struct envelope_field	*f;
	size_t				 i, nlen, idx;

	for (i = 0; i < llen && envelope_text_is_name_char(line[i]); i++)
		;
	if ((nlen = i) == 0)
		return envelope_text_error(err, errsz,
		    "line %u: no field name", lineno);
	while (i < llen && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == llen || line[i] != ':')
		return envelope_text_error(err, errsz,
		    "line %u: no ':' after the field name", lineno);
	i++;
	while (i < llen && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if ((f = envelope_text_lookup(line, nlen, &idx)) == NULL)
		return envelope_text_error(err, errsz,
		    "line %u: unknown field \"%.*s\"", lineno,
		    (int)(nlen > 32 ? 32 : nlen), line);
	if (memchr(line + i, '\r', llen - i) != NULL)
		return envelope_text_error(err, errsz, "%s: CR in the value",
		    f->name);
	/* 6.8 lets the last of two lines win; its writer never makes
	 * two, so a second one is a damaged or forged envelope */
	if (*seen & ((uint64_t)1 << idx))
		return envelope_text_error(err, errsz,
		    "line %u: duplicate field \"%s\"", lineno, f->name);
	*seen |= (uint64_t)1 << idx;
	return envelope_text_parse(evp, f, line + i, llen - i, err, errsz);
}

/*
 * envelope_load - LEN bytes of version 3 text into EVP.  The text need
 * not end in a NUL and is never read past LEN.  Returns 0, or -1 with
 * the reason in ERR (may be NULL) and EVP zeroed.  EVP's evpid is kept:
 * it is not part of the text.
 */
int
envelope_load(struct envelope *evp, const char *buf, size_t len, char *err,
    size_t errsz)
{
	const char	*nul, *nl;
	uint64_t	 seen = 0, evpid = evp->evpid;
	size_t		 pos, i;
	unsigned int	 lineno = 0;

	memset(evp, 0, sizeof *evp);
	evp->evpid = evpid;
	if (len > ENVELOPE_TEXT_MAX) {
		envelope_text_error(err, errsz,
		    "envelope of %zu bytes, more than %d", len,
		    ENVELOPE_TEXT_MAX);
		goto fail;
	}
	if (len > 0 && (nul = memchr(buf, '\0', len)) != NULL) {
		envelope_text_error(err, errsz, "NUL byte at offset %zu",
		    (size_t)(nul - buf));
		goto fail;
	}
	for (pos = 0; pos < len; pos = (size_t)(nl - buf) + 1) {
		lineno++;
		if ((nl = memchr(buf + pos, '\n', len - pos)) == NULL) {
			/* 6.8 refuses this too; a cut file must not load */
			envelope_text_error(err, errsz,
			    "line %u: no final newline (truncated?)", lineno);
			goto fail;
		}
		if (envelope_text_load_line(evp, buf + pos,
		    (size_t)(nl - (buf + pos)), lineno, &seen, err,
		    errsz) == -1)
			goto fail;
	}
	for (i = 0; i < ENVELOPE_NFIELDS; i++)
		if (envelope_text_fields[i].required &&
		    !(seen & ((uint64_t)1 << i))) {
			envelope_text_error(err, errsz, "%s: missing",
			    envelope_text_fields[i].name);
			goto fail;
		}
	return 0;

fail:
	memset(evp, 0, sizeof *evp);
	evp->evpid = evpid;
	return -1;
}
