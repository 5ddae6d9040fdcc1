/*
 * api_util.c -- string, base64 and exiting memory helpers (api_util.h).
 *
 * Runs in helper programs.  strip, lowercase and the base64 codec are
 * bounded by the caller's buffer and never exit; base64 follows RFC
 * 4648 (standard alphabet, '=' padding) and skips white space when
 * decoding.  The x-functions are for drivers written against
 * OpenSMTPD's extras glue, whose contract is to exit when memory runs
 * out or a key is misused; they log what failed and where.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_log.h"
#include "api_util.h"

static const char api_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* api_strip - cut white space at both ends */
char *
api_strip(char *s)
{
	size_t	len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* api_lowercase - lower-cased copy, 0 if truncated */
int
api_lowercase(char *dst, const char *src, size_t dstsz)
{
	size_t	i;

	if (dstsz == 0)
		return 0;
	for (i = 0; src[i] != '\0'; i++) {
		if (i + 1 >= dstsz) {
			dst[i] = '\0';
			return 0;
		}
		dst[i] = (char)tolower((unsigned char)src[i]);
	}
	dst[i] = '\0';
	return 1;
}

/* api_base64_encode - RFC 4648 encoding with padding */
int
api_base64_encode(const unsigned char *src, size_t srclen, char *dst,
    size_t dstsz)
{
	size_t		i, n = 0, need;
	uint32_t	v;

	need = (srclen + 2) / 3 * 4;
	if (srclen > (SIZE_MAX - 3) / 4 * 3 || need >= dstsz ||
	    need > INT32_MAX)
		return -1;
	for (i = 0; i < srclen; i += 3) {
		v = (uint32_t)src[i] << 16;
		if (i + 1 < srclen)
			v |= (uint32_t)src[i + 1] << 8;
		if (i + 2 < srclen)
			v |= src[i + 2];
		dst[n++] = api_b64[(v >> 18) & 0x3f];
		dst[n++] = api_b64[(v >> 12) & 0x3f];
		dst[n++] = i + 1 < srclen ? api_b64[(v >> 6) & 0x3f] : '=';
		dst[n++] = i + 2 < srclen ? api_b64[v & 0x3f] : '=';
	}
	dst[n] = '\0';
	return (int)n;
}

/* api_base64_value - the 6 bits of C, or -1 */
static int
api_base64_value(unsigned char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(api_b64, c)) == NULL)
		return -1;
	return (int)(p - api_b64);
}

/* api_base64_decode - RFC 4648 decoding, white space skipped */
int
api_base64_decode(const char *src, unsigned char *dst, size_t dstsz)
{
	size_t		n = 0, q = 0, pad = 0;
	uint32_t	v = 0;
	int		c;

	for (; *src != '\0'; src++) {
		if (isspace((unsigned char)*src))
			continue;
		if (*src == '=') {
			/* padding only at the end of a quantum of 2 or 3 */
			if (q < 2 || pad + q >= 4)
				return -1;
			pad++;
			continue;
		}
		if (pad > 0 || (c = api_base64_value((unsigned char)*src)) == -1)
			return -1;
		v = v << 6 | (uint32_t)c;
		if (++q < 4)
			continue;
		if (n + 3 > dstsz || n + 3 > INT32_MAX)
			return -1;
		dst[n++] = (unsigned char)(v >> 16);
		dst[n++] = (unsigned char)(v >> 8);
		dst[n++] = (unsigned char)v;
		q = 0;
		v = 0;
	}
	if (q == 1 || (pad > 0 && q + pad != 4))
		return -1;
	if (q > 1) {
		v <<= 6 * (4 - q);
		if (n + q - 1 > dstsz)
			return -1;
		dst[n++] = (unsigned char)(v >> 16);
		if (q == 3)
			dst[n++] = (unsigned char)(v >> 8);
	}
	return (int)n;
}

/* api_xmalloc - malloc or exit */
void *
api_xmalloc(size_t size, const char *where)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		api_fatal("%s: malloc(%zu)", where, size);
	return p;
}

/* api_xcalloc - calloc or exit */
void *
api_xcalloc(size_t nmemb, size_t size, const char *where)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) ==
	    NULL)
		api_fatal("%s: calloc(%zu, %zu)", where, nmemb, size);
	return p;
}

/* api_xstrdup - strdup or exit */
char *
api_xstrdup(const char *s, const char *where)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		api_fatal("%s: strdup", where);
	return p;
}

/* api_xmemdup - a copy of LEN bytes or exit */
void *
api_xmemdup(const void *src, size_t len, const char *where)
{
	void	*p = api_xmalloc(len, where);

	memcpy(p, src, len);
	return p;
}

/* api_dict_set_compat - dict_set: exit on ENOMEM */
void *
api_dict_set_compat(struct dict *d, const char *key, void *value)
{
	void	*old;
	int	 err;

	old = api_dict_set(d, key, value, &err);
	if (err == -1)
		api_fatal("dict_set: \"%s\"", key);
	return old;
}

/* api_dict_xset_compat - dict_xset: exit if the key is there */
void *
api_dict_xset_compat(struct dict *d, const char *key, void *value)
{
	if (api_dict_check(d, key))
		api_fatalx("dict_xset: key \"%s\" already present", key);
	return api_dict_set_compat(d, key, value);
}

/* api_dict_xget_compat - dict_xget: exit if the key is missing */
void *
api_dict_xget_compat(struct dict *d, const char *key)
{
	if (!api_dict_check(d, key))
		api_fatalx("dict_xget: no key \"%s\"", key);
	return api_dict_get(d, key);
}

/* api_dict_xpop_compat - dict_xpop: exit if the key is missing */
void *
api_dict_xpop_compat(struct dict *d, const char *key)
{
	if (!api_dict_check(d, key))
		api_fatalx("dict_xpop: no key \"%s\"", key);
	return api_dict_pop(d, key);
}

/* api_dict_merge_compat - dict_merge: exit on failure */
void
api_dict_merge_compat(struct dict *dst, struct dict *src)
{
	if (api_dict_merge(dst, src) == -1)
		api_fatal("dict_merge");
}

/* api_tree_set_compat - tree_set: exit on ENOMEM */
void *
api_tree_set_compat(struct tree *t, uint64_t id, void *value)
{
	void	*old;
	int	 err;

	old = api_tree_set(t, id, value, &err);
	if (err == -1)
		api_fatal("tree_set: %016llx", (unsigned long long)id);
	return old;
}

/* api_tree_xset_compat - tree_xset: exit if the id is there */
void
api_tree_xset_compat(struct tree *t, uint64_t id, void *value)
{
	if (api_tree_check(t, id))
		api_fatalx("tree_xset: id %016llx already present",
		    (unsigned long long)id);
	(void)api_tree_set_compat(t, id, value);
}

/* api_tree_xget_compat - tree_xget: exit if the id is missing */
void *
api_tree_xget_compat(struct tree *t, uint64_t id)
{
	if (!api_tree_check(t, id))
		api_fatalx("tree_xget: no id %016llx", (unsigned long long)id);
	return api_tree_get(t, id);
}

/* api_tree_xpop_compat - tree_xpop: exit if the id is missing */
void *
api_tree_xpop_compat(struct tree *t, uint64_t id)
{
	if (!api_tree_check(t, id))
		api_fatalx("tree_xpop: no id %016llx", (unsigned long long)id);
	return api_tree_pop(t, id);
}

/* api_tree_merge_compat - tree_merge: exit on failure */
void
api_tree_merge_compat(struct tree *dst, struct tree *src)
{
	if (api_tree_merge(dst, src) == -1)
		api_fatal("tree_merge");
}
