/*
 * api_tree.c -- the uint64_t-keyed dictionary of helpers (api_tree.h).
 *
 * Runs in helper programs and in unit tests.  A sorted array: lookups
 * are binary searches, inserts shift.  The iteration cursor is an index
 * stored in the caller's void * (as OpenSMTPD's glue hands drivers a
 * void * cursor), so a walk needs no allocation.  Nothing here exits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_tree.h"

/* api_tree_init - an empty tree */
void
api_tree_init(struct tree *t)
{
	t->entries = NULL;
	t->count = 0;
	t->size = 0;
}

/* api_tree_find - index of ID, or where it would go (*found = 0) */
static size_t
api_tree_find(const struct tree *t, uint64_t id, int *found)
{
	size_t	lo = 0, hi = t->count, mid;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->entries[mid].id == id) {
			*found = 1;
			return mid;
		}
		if (id < t->entries[mid].id)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* api_tree_grow - room for N more entries; -1 on ENOMEM */
static int
api_tree_grow(struct tree *t, size_t n)
{
	struct tree_entry	*e;
	size_t			 nsize = t->size ? t->size : 8;

	if (t->count + n <= t->size)
		return 0;
	while (nsize < t->count + n)
		nsize *= 2;
	if ((e = reallocarray(t->entries, nsize, sizeof *e)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	t->entries = e;
	t->size = nsize;
	return 0;
}

/* api_tree_set - add or replace; the old value */
void *
api_tree_set(struct tree *t, uint64_t id, void *value, int *err)
{
	void	*old;
	size_t	 i;
	int	 found;

	if (err)
		*err = 0;
	i = api_tree_find(t, id, &found);
	if (found) {
		old = t->entries[i].value;
		t->entries[i].value = value;
		return old;
	}
	if (api_tree_grow(t, 1) == -1) {
		if (err)
			*err = -1;
		return NULL;
	}
	memmove(t->entries + i + 1, t->entries + i,
	    (t->count - i) * sizeof *t->entries);
	t->entries[i].id = id;
	t->entries[i].value = value;
	t->count++;
	return NULL;
}

/* api_tree_get - the value of ID, or NULL */
void *
api_tree_get(const struct tree *t, uint64_t id)
{
	size_t	i;
	int	found;

	i = api_tree_find(t, id, &found);
	return found ? t->entries[i].value : NULL;
}

/* api_tree_check - is ID there */
int
api_tree_check(const struct tree *t, uint64_t id)
{
	int	found;

	(void)api_tree_find(t, id, &found);
	return found;
}

/* api_tree_remove - drop entry I */
static void
api_tree_remove(struct tree *t, size_t i)
{
	memmove(t->entries + i, t->entries + i + 1,
	    (t->count - i - 1) * sizeof *t->entries);
	t->count--;
}

/* api_tree_pop - remove ID; its value */
void *
api_tree_pop(struct tree *t, uint64_t id)
{
	void	*value;
	size_t	 i;
	int	 found;

	i = api_tree_find(t, id, &found);
	if (!found)
		return NULL;
	value = t->entries[i].value;
	api_tree_remove(t, i);
	return value;
}

/* api_tree_count - how many entries */
size_t
api_tree_count(const struct tree *t)
{
	return t->count;
}

/* api_tree_root - the entry of the lowest id */
int
api_tree_root(const struct tree *t, uint64_t *id, void **value)
{
	if (t->count == 0)
		return 0;
	if (id)
		*id = t->entries[0].id;
	if (value)
		*value = t->entries[0].value;
	return 1;
}

/* api_tree_poproot - remove the entry of the lowest id */
int
api_tree_poproot(struct tree *t, uint64_t *id, void **value)
{
	if (api_tree_root(t, id, value) == 0)
		return 0;
	api_tree_remove(t, 0);
	return 1;
}

/* api_tree_iter - the next entry of a walk in id order */
int
api_tree_iter(const struct tree *t, void **cursor, uint64_t *id,
    void **value)
{
	size_t	i = (size_t)(uintptr_t)*cursor;

	if (i >= t->count)
		return 0;
	if (id)
		*id = t->entries[i].id;
	if (value)
		*value = t->entries[i].value;
	*cursor = (void *)(uintptr_t)(i + 1);
	return 1;
}

/* api_tree_iterfrom - a walk from the first id >= FROM */
int
api_tree_iterfrom(const struct tree *t, void **cursor, uint64_t from,
    uint64_t *id, void **value)
{
	int	found;

	if (*cursor == NULL)
		*cursor = (void *)(uintptr_t)api_tree_find(t, from, &found);
	return api_tree_iter(t, cursor, id, value);
}

/* api_tree_merge - move SRC into DST, all or nothing */
int
api_tree_merge(struct tree *dst, struct tree *src)
{
	size_t	i;

	for (i = 0; i < src->count; i++)
		if (api_tree_check(dst, src->entries[i].id)) {
			errno = EEXIST;
			return -1;
		}
	if (api_tree_grow(dst, src->count) == -1)
		return -1;
	/* room is there: these inserts cannot fail */
	for (i = 0; i < src->count; i++)
		(void)api_tree_set(dst, src->entries[i].id,
		    src->entries[i].value, NULL);
	free(src->entries);
	api_tree_init(src);
	return 0;
}

/* api_tree_clear - remove everything */
void
api_tree_clear(struct tree *t, void (*freecb)(void *))
{
	size_t	i;

	if (freecb)
		for (i = 0; i < t->count; i++)
			freecb(t->entries[i].value);
	free(t->entries);
	api_tree_init(t);
}
