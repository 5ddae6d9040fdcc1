/*
 * api_ldap_fuzz.c -- libFuzzer target for api/api_ldap.c, the parsers
 * of table-ldap's config (filter templates, attribute lists) and the
 * RFC 4515 escaping of the daemon's keys.
 *
 * The input is split at the first 0xff byte into a template (or an
 * attribute list) and a key; the first byte picks the output size.
 * Nothing may crash; an accepted template expanded with any key must
 * give a NUL-terminated filter inside the buffer in which no byte of
 * the key appears unescaped as filter syntax (* ( ) \ outside an
 * escape), and a refused input must come with a reason.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_ldap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* api_ldap_fuzz_escaped - the escape of KEY holds no filter syntax */
static void
api_ldap_fuzz_escaped(const char *key, size_t dstsz)
{
	char	out[1024];
	int	n, i;

	if ((n = api_ldap_escape(key, out, dstsz < sizeof out ? dstsz :
	    sizeof out)) == -1)
		return;
	if ((size_t)n != strlen(out))
		abort();
	for (i = 0; i < n; i++) {
		if (out[i] == '*' || out[i] == '(' || out[i] == ')')
			abort();
		if (out[i] == '\\') {
			if (i + 2 >= n || !isxdigit((unsigned char)out[i + 1]) ||
			    !isxdigit((unsigned char)out[i + 2]))
				abort();
			i += 2;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 text[2048], key[512], dst[API_LDAP_FILTER_MAX], err[256];
	char		*attrs[API_LDAP_ATTRS_MAX + 1];
	const uint8_t	*sep;
	size_t		 tlen, klen, dstsz, n;

	if (size < 1 || size > 2048)
		return 0;
	dstsz = 1 + (size_t)data[0] * 16;
	data++;
	size--;
	sep = memchr(data, 0xff, size);
	tlen = sep ? (size_t)(sep - data) : size;
	klen = sep ? size - tlen - 1 : 0;
	if (tlen >= sizeof text || klen >= sizeof key)
		return 0;
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	if (sep != NULL)
		memcpy(key, sep + 1, klen);
	key[klen] = '\0';

	api_ldap_fuzz_escaped(key, dstsz);
	err[0] = '\0';
	if (api_ldap_filter_check(text, err, sizeof err) == -1) {
		if (err[0] == '\0')
			abort();
	} else if (api_ldap_filter_expand(text, key, "table", dst, dstsz,
	    err, sizeof err) == 0) {
		if (memchr(dst, '\0', dstsz) == NULL)
			abort();
	} else if (err[0] == '\0')
		abort();
	err[0] = '\0';
	if (api_ldap_attrs_parse(text, attrs, &n, err, sizeof err) == 0) {
		if (n == 0 || n > API_LDAP_ATTRS_MAX || attrs[n] != NULL)
			abort();
		api_ldap_attrs_free(attrs);
	} else if (err[0] == '\0' || attrs[0] != NULL)
		abort();
	return 0;
}
