/*
 * api_ldap.h -- the text side of table-ldap's config: search filter
 * templates with their specifiers, RFC 4515 escaping of the key, and
 * attribute lists.
 *
 * Used by libexec/table-ldap (which alone links libldap) and by the
 * unit test and fuzz target that check these parsers without a
 * directory server.  A template is a filter holding %u (the key), %s
 * (the same, as OpenSMTPD's table-ldap accepts it), %h (the table's
 * name) and %% (a '%'); every substituted string is escaped, so that a
 * key holding * ( ) or \ is only ever a value, never filter syntax.
 * Nothing here logs or does I/O: errors come back with a reason.
 */
#ifndef API_API_LDAP_H
#define API_API_LDAP_H

#include <stddef.h>

#define API_LDAP_FILTER_MAX	4096	/* an expanded filter, NUL included */
#define API_LDAP_ATTRS_MAX	3	/* attributes of one service */

/*
 * api_ldap_escape - IN escaped as an RFC 4515 assertion value into dst
 * (* ( ) \ and control bytes as \XX).  Its length, or -1 when it does
 * not fit.
 */
int	 api_ldap_escape(const char *in, char *dst, size_t dstsz);

/*
 * api_ldap_filter_check - TEMPLATE has only known specifiers, balanced
 * parentheses and starts with '('.  0, or -1 with the reason in err.
 */
int	 api_ldap_filter_check(const char *tmpl, char *err, size_t errsz);

/*
 * api_ldap_filter_expand - TEMPLATE with the key and the table name
 * substituted (escaped) into dst.  0, or -1 with the reason in err.
 */
int	 api_ldap_filter_expand(const char *tmpl, const char *key,
	    const char *tname, char *dst, size_t dstsz, char *err,
	    size_t errsz);

/*
 * api_ldap_attrs_parse - the comma-separated attribute names of VALUE
 * (blanks around each ignored) into attrs, which has API_LDAP_ATTRS_MAX
 * + 1 slots (strdup'ed, NULL after the last), their number in *n.
 * 0, or -1 with the reason in err and nothing allocated.
 */
int	 api_ldap_attrs_parse(const char *value, char **attrs, size_t *n,
	    char *err, size_t errsz);
/* api_ldap_attrs_free - what api_ldap_attrs_parse allocated */
void	 api_ldap_attrs_free(char **attrs);

#endif
