/*
 * api_util.h -- small string and memory helpers for helper programs,
 * with the semantics OpenSMTPD's extras glue gives its drivers.
 *
 * strip, lowercase and base64 never exit.  The x-functions (xmalloc,
 * xstrdup, dict_xset, tree_xget, ...) exit through api_fatalx, naming
 * the caller's WHERE, when memory runs out or the key is (not) there:
 * they exist for drivers written against the extras glue; our own api/
 * code and drivers return -1 instead (STYLE.md 9).
 */
#ifndef API_UTIL_H
#define API_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "api_dict.h"
#include "api_tree.h"

/* api_strip - cut leading and trailing white space in place; the start */
char	*api_strip(char *);
/* api_lowercase - lower-cased copy: 1, or 0 when it does not fit */
int	 api_lowercase(char *dst, const char *src, size_t dstsz);
/* api_base64_encode - NUL-terminated encoding: its length, or -1 if
 * DST is too small */
int	 api_base64_encode(const unsigned char *src, size_t srclen,
	    char *dst, size_t dstsz);
/* api_base64_decode - decode (white space skipped): the byte count, or
 * -1 for bad input or a DST too small */
int	 api_base64_decode(const char *src, unsigned char *dst, size_t dstsz);

void	*api_xmalloc(size_t, const char *where);
void	*api_xcalloc(size_t, size_t, const char *where);
char	*api_xstrdup(const char *, const char *where);
void	*api_xmemdup(const void *, size_t, const char *where);

/* the exiting variants of the dictionaries (extras semantics) */
void	*api_dict_xset_compat(struct dict *, const char *key, void *value);
void	*api_dict_set_compat(struct dict *, const char *key, void *value);
void	*api_dict_xget_compat(struct dict *, const char *key);
void	*api_dict_xpop_compat(struct dict *, const char *key);
void	 api_dict_merge_compat(struct dict *, struct dict *);
void	*api_tree_set_compat(struct tree *, uint64_t id, void *value);
void	 api_tree_xset_compat(struct tree *, uint64_t id, void *value);
void	*api_tree_xget_compat(struct tree *, uint64_t id);
void	*api_tree_xpop_compat(struct tree *, uint64_t id);
void	 api_tree_merge_compat(struct tree *, struct tree *);

#endif
