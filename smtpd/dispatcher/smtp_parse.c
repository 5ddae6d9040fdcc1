/*
 * smtp_parse.c -- command verbs, paths, MAIL/RCPT parameters and
 * domains of the SMTP server (RFC 5321 4.1.2, RFC 1870, RFC 3461,
 * RFC 6152), as pure functions.
 *
 * Runs wherever the SMTP library runs (dispatcher, smtpfd) and in the
 * unit tests and fuzz targets.  Source routes "<@a,@b:u@d>" are
 * accepted, each hop checked as a domain, and dropped (RFC 5321 4.1.2
 * and appendix C: a server may ignore them).  The percent hack and
 * bang paths are plain local-part characters: nothing here routes.
 * What it must never do: read past its input, accept a control byte
 * into an address, or let SIZE= wrap.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"
#include "smtp_parse.h"

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} smtp_verbs[] = {
	{ "HELO", SMTP_VERB_HELO }, { "EHLO", SMTP_VERB_EHLO },
	{ "MAIL", SMTP_VERB_MAIL }, { "RCPT", SMTP_VERB_RCPT },
	{ "DATA", SMTP_VERB_DATA }, { "RSET", SMTP_VERB_RSET },
	{ "NOOP", SMTP_VERB_NOOP }, { "HELP", SMTP_VERB_HELP },
	{ "QUIT", SMTP_VERB_QUIT }, { "VRFY", SMTP_VERB_VRFY },
	{ "EXPN", SMTP_VERB_EXPN }, { "WIZ",  SMTP_VERB_WIZ },
	{ "AUTH", SMTP_VERB_AUTH },
	{ "STARTTLS", SMTP_VERB_STARTTLS },
};

/* smtp_parse_verb - the verb of LINE and where its arguments start */
enum smtp_verb
smtp_parse_verb(const char *line, const char **args)
{
	size_t	i, n;

	for (n = 0; line[n] != '\0' && line[n] != ' ' && line[n] != '\t'; n++)
		;
	*args = line + n;
	while (**args == ' ' || **args == '\t')
		(*args)++;
	for (i = 0; i < sizeof smtp_verbs / sizeof smtp_verbs[0]; i++)
		if (strlen(smtp_verbs[i].name) == n &&
		    strncasecmp(line, smtp_verbs[i].name, n) == 0)
			return smtp_verbs[i].verb;
	return SMTP_VERB_UNKNOWN;
}

/* smtp_parse_literal - "[IPv4]" or "[IPv6:addr]" (LEN bytes) */
static int
smtp_parse_literal(const char *s, size_t len)
{
	char		buf[64];
	unsigned char	addr[16];

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' ||
	    len - 2 >= sizeof buf)
		return 0;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	return inet_pton(AF_INET, buf, addr) == 1;
}

/* smtp_parse_domain - LDH labels or an address literal */
int
smtp_parse_domain(const char *s, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > 255)
		return 0;
	if (s[0] == '[')
		return smtp_parse_literal(s, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && !(c == '-' && label > 0) && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	/* a trailing dot, or a label ending in '-' */
	return label > 0 && s[len - 1] != '-';
}

/* smtp_parse_atext - RFC 5322 atext */
static int
smtp_parse_atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c)
	    != NULL);
}

/* smtp_parse_local - the local part at S; its length, or 0 when bad */
static size_t
smtp_parse_local(const char *s)
{
	size_t	i = 0;

	if (s[0] == '"') {
		for (i = 1; s[i] != '"'; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				c = (unsigned char)s[++i];
				if (c < 32 || c > 126)
					return 0;
			} else if (c < 32 || c > 126)
				return 0;	/* NUL (end), CR, LF, 8-bit */
		}
		return i + 1;
	}
	for (;;) {
		size_t start = i;

		while (smtp_parse_atext((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;	/* empty atom: "..", leading '.' */
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* smtp_parse_route - skip "@a,@b:" at *S, each hop a domain; 0 or -1 */
static int
smtp_parse_route(const char **sp)
{
	const char	*s = *sp, *e;

	if (*s != '@')
		return 0;
	for (;;) {
		if (*s != '@')
			return -1;
		s++;
		for (e = s; *e != '\0' && *e != ',' && *e != ':' &&
		    *e != '>'; e++)
			;
		if (!smtp_parse_domain(s, e - s))
			return -1;
		if (*e == ':')
			break;
		if (*e != ',')
			return -1;
		s = e + 1;
	}
	*sp = e + 1;
	return 0;
}

/* smtp_parse_path - "<[route:]local[@domain]>" or "<>" */
int
smtp_parse_path(const char *s, const char **end, int flags,
    const char *defdomain, struct mailaddr *ma)
{
	const char	*d, *e;
	size_t		 ulen, dlen;

	memset(ma, 0, sizeof *ma);
	if (*s++ != '<')
		return -1;
	if (*s == '>') {
		if (!(flags & SMTP_PATH_NULL_OK))
			return -1;
		*end = s + 1;
		return 0;
	}
	if (smtp_parse_route(&s) == -1)
		return -1;
	if ((ulen = smtp_parse_local(s)) == 0 || ulen >= sizeof ma->user)
		return -1;
	memcpy(ma->user, s, ulen);
	s += ulen;
	if (*s == '>') {		/* no domain: the server's (SMTP-17) */
		if (defdomain == NULL || *defdomain == '\0' ||
		    strlen(defdomain) >= sizeof ma->domain)
			return -1;
		strcpy(ma->domain, defdomain);
		*end = s + 1;
		return 0;
	}
	if (*s++ != '@')
		return -1;
	d = s;
	if (*d == '[')
		e = strchr(d, ']') ? strchr(d, ']') + 1 : d;
	else
		for (e = d; *e != '\0' && *e != '>'; e++)
			;
	dlen = e - d;
	if (*e != '>' || !smtp_parse_domain(d, dlen) ||
	    dlen >= sizeof ma->domain)
		return -1;
	memcpy(ma->domain, d, dlen);
	*end = e + 1;
	return 0;
}

/* smtp_xtext_valid - RFC 3461 4: xchar or "+" HEXCHAR HEXCHAR */
int
smtp_xtext_valid(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			if (len - i < 3)
				return 0;
			if (!isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]) ||
			    islower((unsigned char)s[i + 1]) ||
			    islower((unsigned char)s[i + 2]))
				return 0;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

/* smtp_xtext_hex - value of an uppercase hex digit */
static int
smtp_xtext_hex(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : c - 'A' + 10;
}

/* smtp_xtext_decode - xtext to text, no control byte allowed */
int
smtp_xtext_decode(const char *s, size_t len, char *dst, size_t dstsz)
{
	size_t	i, n = 0;
	int	c;

	if (!smtp_xtext_valid(s, len))
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '+') {
			c = smtp_xtext_hex(s[i + 1]) * 16 +
			    smtp_xtext_hex(s[i + 2]);
			i += 2;
		}
		if (c < 32 || c == 127 || n + 1 >= dstsz)
			return -1;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return 0;
}

/* smtp_sanitize - a printable copy of at most SRCLEN bytes */
void
smtp_sanitize(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t	i;

	if (dstsz == 0)
		return;
	for (i = 0; i < srclen && i + 1 < dstsz && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 32 || c == 127) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* smtp_param_next - the next KEY[=VALUE] token: bounds, or 0 at end */
static int
smtp_param_next(const char **sp, const char **key, size_t *klen,
    const char **val, size_t *vlen)
{
	const char	*s = *sp, *eq;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	*key = s;
	while (*s != '\0' && *s != ' ')
		s++;
	*sp = s;
	eq = memchr(*key, '=', s - *key);
	if (eq == NULL) {
		*klen = s - *key;
		*val = NULL;
		*vlen = 0;
	} else {
		*klen = eq - *key;
		*val = eq + 1;
		*vlen = s - (eq + 1);
	}
	return 1;
}

/* smtp_param_is - KEY (KLEN bytes) is NAME, case-insensitive */
static int
smtp_param_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && strncasecmp(key, name, klen) == 0;
}

/* smtp_param_value_is - same for a value */
#define smtp_param_value_is	smtp_param_is

/* smtp_param_bad - name the offending token and return ERR */
static enum smtp_param_err
smtp_param_bad(enum smtp_param_err err, const char *key, size_t len,
    char *bad, size_t badsz)
{
	smtp_sanitize(bad, badsz, key, len > 64 ? 64 : len);
	return err;
}

/* smtp_param_size - SIZE=digits, no wrap: too many digits is too big */
static enum smtp_param_err
smtp_param_size(const char *v, size_t vlen, long long max, long long *out)
{
	long long	n = 0;
	size_t		i;

	if (v == NULL || vlen == 0)
		return SMTP_PARAM_SYNTAX;
	for (i = 0; i < vlen; i++) {
		if (!isdigit((unsigned char)v[i]))
			return SMTP_PARAM_SYNTAX;
		if (n > (LLONG_MAX - 9) / 10)
			n = LLONG_MAX;	/* saturate: above any limit */
		else
			n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return n > max ? SMTP_PARAM_TOO_BIG : SMTP_PARAM_OK;
}

/* smtp_parse_mail_param - one MAIL parameter */
static enum smtp_param_err
smtp_parse_mail_param(const char *k, size_t kl, const char *v, size_t vl,
    int no_dsn, long long max, struct smtp_mail_params *p)
{
	if (smtp_param_is(k, kl, "SIZE"))
		return p->size != -1 ? SMTP_PARAM_SYNTAX :
		    smtp_param_size(v, vl, max, &p->size);
	if (smtp_param_is(k, kl, "BODY")) {
		if (v != NULL && smtp_param_value_is(v, vl, "7BIT"))
			p->body8 = 0;
		else if (v != NULL && smtp_param_value_is(v, vl, "8BITMIME"))
			p->body8 = 1;
		else
			return SMTP_PARAM_SYNTAX;
		return SMTP_PARAM_OK;
	}
	if (smtp_param_is(k, kl, "AUTH"))
		return v != NULL ? SMTP_PARAM_OK : SMTP_PARAM_SYNTAX;
	if (no_dsn)
		return SMTP_PARAM_UNKNOWN;
	if (smtp_param_is(k, kl, "RET")) {
		if (p->dsn_ret != 0 || v == NULL)
			return SMTP_PARAM_SYNTAX;
		if (smtp_param_value_is(v, vl, "FULL"))
			p->dsn_ret = 1;
		else if (smtp_param_value_is(v, vl, "HDRS"))
			p->dsn_ret = 2;
		else
			return SMTP_PARAM_SYNTAX;
		return SMTP_PARAM_OK;
	}
	if (smtp_param_is(k, kl, "ENVID")) {
		if (p->envid[0] != '\0' || v == NULL || vl == 0 ||
		    vl >= sizeof p->envid || !smtp_xtext_valid(v, vl))
			return SMTP_PARAM_SYNTAX;
		memcpy(p->envid, v, vl);
		p->envid[vl] = '\0';
		return SMTP_PARAM_OK;
	}
	return SMTP_PARAM_UNKNOWN;
}

/* smtp_parse_mail_params - every MAIL parameter */
enum smtp_param_err
smtp_parse_mail_params(const char *s, int no_dsn, long long max,
    struct smtp_mail_params *p, char *bad, size_t badsz)
{
	const char		*k, *v;
	size_t			 kl, vl;
	enum smtp_param_err	 err;

	memset(p, 0, sizeof *p);
	p->size = -1;
	if (badsz > 0)
		bad[0] = '\0';
	while (smtp_param_next(&s, &k, &kl, &v, &vl)) {
		err = smtp_parse_mail_param(k, kl, v, vl, no_dsn, max, p);
		if (err != SMTP_PARAM_OK)
			return smtp_param_bad(err, k, v ? kl + 1 + vl : kl,
			    bad, badsz);
	}
	return SMTP_PARAM_OK;
}

/* smtp_param_notify - NOTIFY=NEVER or a list of SUCCESS,FAILURE,DELAY */
static enum smtp_param_err
smtp_param_notify(const char *v, size_t vl, uint8_t *out)
{
	const char	*e, *end = v + vl;
	uint8_t		 bits = 0, bit;

	if (*out != 0 || vl == 0)
		return SMTP_PARAM_NOTIFY;
	while (v < end) {
		for (e = v; e < end && *e != ','; e++)
			;
		if (smtp_param_value_is(v, e - v, "SUCCESS"))
			bit = DSN_NOTIFY_SUCCESS;
		else if (smtp_param_value_is(v, e - v, "FAILURE"))
			bit = DSN_NOTIFY_FAILURE;
		else if (smtp_param_value_is(v, e - v, "DELAY"))
			bit = DSN_NOTIFY_DELAY;
		else if (smtp_param_value_is(v, e - v, "NEVER"))
			bit = DSN_NOTIFY_NEVER;
		else
			return SMTP_PARAM_NOTIFY;
		bits |= bit;
		v = e < end ? e + 1 : e;
		if (e < end && v == end)
			return SMTP_PARAM_NOTIFY;	/* trailing comma */
	}
	if ((bits & DSN_NOTIFY_NEVER) && bits != DSN_NOTIFY_NEVER)
		return SMTP_PARAM_NOTIFY;
	*out = bits;
	return SMTP_PARAM_OK;
}

/* smtp_param_orcpt - ORCPT=rfc822;xtext, decoded to an address */
static enum smtp_param_err
smtp_param_orcpt(const char *v, size_t vl, struct mailaddr *ma)
{
	char	buf[MAILADDR_TEXT_SIZE];

	if (ma->user[0] != '\0' || ma->domain[0] != '\0' || vl < 8 ||
	    strncasecmp(v, "rfc822;", 7) != 0 ||
	    smtp_xtext_decode(v + 7, vl - 7, buf, sizeof buf) == -1 ||
	    buf[0] == '\0' ||
	    mailaddr_parse(ma, buf, strlen(buf), NULL, 0) == -1 ||
	    ma->user[0] == '\0') {
		memset(ma, 0, sizeof *ma);
		return SMTP_PARAM_ORCPT;
	}
	return SMTP_PARAM_OK;
}

/* smtp_parse_rcpt_params - every RCPT parameter */
enum smtp_param_err
smtp_parse_rcpt_params(const char *s, int no_dsn, struct smtp_rcpt_params *p,
    char *bad, size_t badsz)
{
	const char		*k, *v;
	size_t			 kl, vl;
	enum smtp_param_err	 err;

	memset(p, 0, sizeof *p);
	if (badsz > 0)
		bad[0] = '\0';
	while (smtp_param_next(&s, &k, &kl, &v, &vl)) {
		if (no_dsn)
			err = SMTP_PARAM_UNKNOWN;
		else if (smtp_param_is(k, kl, "NOTIFY"))
			err = v ? smtp_param_notify(v, vl, &p->notify) :
			    SMTP_PARAM_NOTIFY;
		else if (smtp_param_is(k, kl, "ORCPT"))
			err = v ? smtp_param_orcpt(v, vl, &p->orcpt) :
			    SMTP_PARAM_ORCPT;
		else
			err = SMTP_PARAM_UNKNOWN;
		if (err != SMTP_PARAM_OK)
			return smtp_param_bad(err, k, v ? kl + 1 + vl : kl,
			    bad, badsz);
	}
	return SMTP_PARAM_OK;
}
