/*
 * api_dict.c -- sorted-array dictionary for helpers (see api_dict.h).
 *
 * Runs in helper programs and in unit tests.  Lookups are binary
 * searches; inserts shift the array.  Keys are owned copies.  Nothing
 * here exits: allocation failure is returned to the caller.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_dict.h"

void
api_dict_init(struct dict *d)
{
	d->entries = NULL;
	d->count = 0;
	d->size = 0;
}

/* api_dict_find - index of key, or where it would go with *found = 0 */
static size_t
api_dict_find(const struct dict *d, const char *key, int *found)
{
	size_t	lo = 0, hi = d->count, mid;
	int	c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, d->entries[mid].key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void *
api_dict_set(struct dict *d, const char *key, void *value, int *err)
{
	struct dict_entry	*e;
	void			*old;
	size_t			 i, nsize;
	char			*k;
	int			 found;

	if (err)
		*err = 0;
	i = api_dict_find(d, key, &found);
	if (found) {
		old = d->entries[i].value;
		d->entries[i].value = value;
		return old;
	}
	if (d->count == d->size) {
		nsize = d->size ? d->size * 2 : 8;
		e = reallocarray(d->entries, nsize, sizeof *e);
		if (e == NULL)
			goto fail;
		d->entries = e;
		d->size = nsize;
	}
	if ((k = strdup(key)) == NULL)
		goto fail;
	memmove(d->entries + i + 1, d->entries + i,
	    (d->count - i) * sizeof *d->entries);
	d->entries[i].key = k;
	d->entries[i].value = value;
	d->count++;
	return NULL;
fail:
	if (err)
		*err = -1;
	errno = ENOMEM;
	return NULL;
}

void *
api_dict_get(const struct dict *d, const char *key)
{
	size_t	i;
	int	found;

	i = api_dict_find(d, key, &found);
	return found ? d->entries[i].value : NULL;
}

int
api_dict_check(const struct dict *d, const char *key)
{
	int	found;

	(void)api_dict_find(d, key, &found);
	return found;
}

void *
api_dict_pop(struct dict *d, const char *key)
{
	void	*value;
	size_t	 i;
	int	 found;

	i = api_dict_find(d, key, &found);
	if (!found)
		return NULL;
	value = d->entries[i].value;
	free(d->entries[i].key);
	memmove(d->entries + i, d->entries + i + 1,
	    (d->count - i - 1) * sizeof *d->entries);
	d->count--;
	return value;
}

size_t
api_dict_count(const struct dict *d)
{
	return d->count;
}

int
api_dict_iter(const struct dict *d, size_t *cursor, const char **key,
    void **value)
{
	if (*cursor >= d->count)
		return 0;
	if (key)
		*key = d->entries[*cursor].key;
	if (value)
		*value = d->entries[*cursor].value;
	(*cursor)++;
	return 1;
}

/* api_dict_walk - the next entry of a walk in key order */
int
api_dict_walk(const struct dict *d, void **cursor, const char **key,
    void **value)
{
	size_t	i = (size_t)(uintptr_t)*cursor;

	if (api_dict_iter(d, &i, key, value) == 0)
		return 0;
	*cursor = (void *)(uintptr_t)i;
	return 1;
}

/* api_dict_walkfrom - a walk from the first key >= FROM */
int
api_dict_walkfrom(const struct dict *d, void **cursor, const char *from,
    const char **key, void **value)
{
	int	found;

	if (*cursor == NULL)
		*cursor = (void *)(uintptr_t)api_dict_find(d, from, &found);
	return api_dict_walk(d, cursor, key, value);
}

/* api_dict_root - the entry of the lowest key */
int
api_dict_root(const struct dict *d, const char **key, void **value)
{
	size_t	i = 0;

	return api_dict_iter(d, &i, key, value);
}

/* api_dict_poproot - remove the entry of the lowest key */
int
api_dict_poproot(struct dict *d, void **value)
{
	if (d->count == 0)
		return 0;
	if (value)
		*value = d->entries[0].value;
	free(d->entries[0].key);
	memmove(d->entries, d->entries + 1,
	    (d->count - 1) * sizeof *d->entries);
	d->count--;
	return 1;
}

/* api_dict_merge - move SRC into DST, all or nothing */
int
api_dict_merge(struct dict *dst, struct dict *src)
{
	struct dict	merged;
	size_t		i = 0, j = 0, n = 0;
	int		c;

	/* both are sorted: one merge pass into a new array */
	for (i = 0; i < src->count; i++)
		if (api_dict_check(dst, src->entries[i].key)) {
			errno = EEXIST;
			return -1;
		}
	api_dict_init(&merged);
	merged.size = dst->count + src->count;
	if (merged.size == 0)
		return 0;
	merged.entries = reallocarray(NULL, merged.size,
	    sizeof *merged.entries);
	if (merged.entries == NULL) {
		errno = ENOMEM;
		return -1;
	}
	i = 0;
	while (i < dst->count || j < src->count) {
		if (j == src->count)
			c = -1;
		else if (i == dst->count)
			c = 1;
		else
			c = strcmp(dst->entries[i].key, src->entries[j].key);
		merged.entries[n++] = c < 0 ? dst->entries[i++] :
		    src->entries[j++];
	}
	merged.count = n;
	free(dst->entries);
	free(src->entries);
	*dst = merged;
	api_dict_init(src);
	return 0;
}

void
api_dict_clear(struct dict *d, void (*freecb)(void *))
{
	size_t	i;

	for (i = 0; i < d->count; i++) {
		free(d->entries[i].key);
		if (freecb)
			freecb(d->entries[i].value);
	}
	free(d->entries);
	api_dict_init(d);
}
