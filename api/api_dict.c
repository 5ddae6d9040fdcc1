/*
 * api_dict.c -- sorted-array dictionary for helpers (see api_dict.h).
 *
 * Runs in helper programs and in unit tests.  Lookups are binary
 * searches; inserts shift the array.  Keys are owned copies.  Nothing
 * here exits: allocation failure is returned to the caller.
 */
#include <errno.h>
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
