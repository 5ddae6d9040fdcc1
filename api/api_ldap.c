/*
 * api_ldap.c -- search filter templates, RFC 4515 escaping and
 * attribute lists for table-ldap (see api_ldap.h).
 *
 * Runs inside the table-ldap helper at config load and for every
 * request; its input is the operator's config and the daemon's keys,
 * so every copy is bounded and checked.  It must never log, allocate
 * more than the attribute names, or call libldap: it is linked by
 * tests that have no directory server.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_ldap.h"

/* api_ldap_escape - RFC 4515 section 3: escape what is filter syntax */
int
api_ldap_escape(const char *in, char *dst, size_t dstsz)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p;
	size_t			 n = 0;

	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p == '*' || *p == '(' || *p == ')' || *p == '\\' ||
		    *p < 0x20 || *p == 0x7f) {
			if (n + 3 >= dstsz)
				return -1;
			dst[n++] = '\\';
			dst[n++] = hex[*p >> 4];
			dst[n++] = hex[*p & 0xf];
		} else {
			if (n + 1 >= dstsz)
				return -1;
			dst[n++] = (char)*p;
		}
	}
	if (n >= dstsz)
		return -1;
	dst[n] = '\0';
	return (int)n;
}

/* api_ldap_filter_check - specifiers and parentheses of a template */
int
api_ldap_filter_check(const char *tmpl, char *err, size_t errsz)
{
	const char	*p;
	int		 depth = 0;

	if (tmpl[0] != '(') {
		snprintf(err, errsz, "a filter starts with '('");
		return -1;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '%') {
			if (p[1] != 'u' && p[1] != 's' && p[1] != 'h' &&
			    p[1] != '%') {
				snprintf(err, errsz, "unknown specifier %%%c "
				    "(%%u, %%s, %%h and %%%% are known)",
				    p[1] ? p[1] : ' ');
				return -1;
			}
			p++;
		} else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			break;
		else if (*p == '\\' && p[1] != '\0')
			p++;	/* an escaped byte of the template itself */
	}
	if (depth != 0) {
		snprintf(err, errsz, "unbalanced parentheses");
		return -1;
	}
	if (strlen(tmpl) >= API_LDAP_FILTER_MAX) {
		snprintf(err, errsz, "filter longer than %d bytes",
		    API_LDAP_FILTER_MAX - 1);
		return -1;
	}
	return 0;
}

/* api_ldap_filter_expand - substitute %u %s %h %% */
int
api_ldap_filter_expand(const char *tmpl, const char *key, const char *tname,
    char *dst, size_t dstsz, char *err, size_t errsz)
{
	const char	*p;
	size_t		 n = 0;
	int		 r;

	if (dstsz == 0)
		goto toolong;
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			if (n + 1 >= dstsz)
				goto toolong;
			dst[n++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			if (n + 1 >= dstsz)
				goto toolong;
			dst[n++] = '%';
			continue;
		}
		if (*p != 'u' && *p != 's' && *p != 'h') {
			snprintf(err, errsz, "unknown specifier in filter");
			return -1;
		}
		if ((r = api_ldap_escape(*p == 'h' ? tname : key, dst + n,
		    dstsz - n)) == -1)
			goto toolong;
		n += (size_t)r;
	}
	dst[n] = '\0';
	return 0;
toolong:
	snprintf(err, errsz, "filter with the key longer than %zu bytes",
	    dstsz ? dstsz - 1 : 0);
	return -1;
}

/* api_ldap_attr_ok - an attribute description: letters, digits, - ; . */
static int
api_ldap_attr_ok(const char *a)
{
	if (*a == '\0')
		return 0;
	for (; *a != '\0'; a++)
		if (!isalnum((unsigned char)*a) && *a != '-' && *a != ';' &&
		    *a != '.')
			return 0;
	return 1;
}

/* api_ldap_attrs_free - the names and nothing else */
void
api_ldap_attrs_free(char **attrs)
{
	size_t	i;

	for (i = 0; i < API_LDAP_ATTRS_MAX && attrs[i] != NULL; i++) {
		free(attrs[i]);
		attrs[i] = NULL;
	}
}

/* api_ldap_attrs_parse - "a, b, c" into names */
int
api_ldap_attrs_parse(const char *value, char **attrs, size_t *np, char *err,
    size_t errsz)
{
	const char	*p = value, *comma, *b, *e;
	size_t		 n = 0, i;

	for (i = 0; i <= API_LDAP_ATTRS_MAX; i++)
		attrs[i] = NULL;
	for (;;) {
		comma = strchr(p, ',');
		e = comma ? comma : p + strlen(p);
		for (b = p; b < e && isspace((unsigned char)*b); b++)
			;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (n == API_LDAP_ATTRS_MAX) {
			snprintf(err, errsz, "more than %d attributes",
			    API_LDAP_ATTRS_MAX);
			goto fail;
		}
		if ((attrs[n] = strndup(b, (size_t)(e - b))) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
		if (!api_ldap_attr_ok(attrs[n++])) {
			snprintf(err, errsz, "\"%.*s\" is not an attribute "
			    "name", (int)(e - b > 64 ? 64 : e - b), b);
			goto fail;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*np = n;
	return 0;
fail:
	api_ldap_attrs_free(attrs);
	return -1;
}
