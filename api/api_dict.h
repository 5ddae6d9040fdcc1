/*
 * api_dict.h -- a small string-keyed dictionary for helpers.
 *
 * Holds the parameters of a table request and the key/value pairs of a
 * driver's config file.  Keys are copied; values are caller pointers
 * (the owner frees them, e.g. with api_dict_clear's callback).  It is a
 * sorted array: helpers hold a few dozen entries at most.  Allocation
 * failure is reported as -1, never by exiting.
 *
 * The type is "struct dict" because driver callbacks written for the
 * OpenSMTPD extras glue take a struct dict *; the functions are
 * prefixed api_ and smtpd-api.h maps dict_* onto them.
 */
#ifndef API_DICT_H
#define API_DICT_H

#include <stddef.h>

struct dict_entry {
	char	*key;
	void	*value;
};

struct dict {
	struct dict_entry	*entries;
	size_t			 count;
	size_t			 size;
};

void	 api_dict_init(struct dict *);
/* api_dict_set - add or replace; returns the old value or NULL.  errno
 * is ENOMEM and *err set to -1 on allocation failure (err may be NULL) */
void	*api_dict_set(struct dict *, const char *key, void *value, int *err);
void	*api_dict_get(const struct dict *, const char *key);
int	 api_dict_check(const struct dict *, const char *key);
/* api_dict_pop - remove key; returns its value or NULL */
void	*api_dict_pop(struct dict *, const char *key);
size_t	 api_dict_count(const struct dict *);
/* api_dict_iter - walk in key order: *cursor starts at 0; 1 per entry, 0 at end */
int	 api_dict_iter(const struct dict *, size_t *cursor, const char **key,
	    void **value);
/*
 * api_dict_walk - the same walk with a void * cursor starting NULL, as
 * OpenSMTPD's glue hands drivers; api_dict_walkfrom starts at the first
 * key >= from.  The dictionary must not change during a walk.
 */
int	 api_dict_walk(const struct dict *, void **cursor, const char **key,
	    void **value);
int	 api_dict_walkfrom(const struct dict *, void **cursor,
	    const char *from, const char **key, void **value);
/* api_dict_root - some entry (the lowest key): 1, or 0 when empty */
int	 api_dict_root(const struct dict *, const char **key, void **value);
/* api_dict_poproot - remove some entry, its value in *value: 1, or 0 */
int	 api_dict_poproot(struct dict *, void **value);
/* api_dict_merge - move every entry of SRC into DST; -1 (ENOMEM, or
 * EEXIST for a key in both: nothing moved then) */
int	 api_dict_merge(struct dict *dst, struct dict *src);
/* api_dict_clear - remove everything, calling freecb (may be NULL) on values */
void	 api_dict_clear(struct dict *, void (*freecb)(void *));

#endif
