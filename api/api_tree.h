/*
 * api_tree.h -- a small dictionary keyed by uint64_t, for helpers.
 *
 * The id-keyed twin of api_dict.h (queue and scheduler drivers keep
 * envelopes and messages by id): a sorted array, iterated in key order,
 * values are caller pointers.  Allocation failure is reported, never
 * fatal; smtpd-api.h maps the tree_* names of OpenSMTPD's extras glue
 * onto these (and its x-variants, which exit, for such drivers only).
 */
#ifndef API_TREE_H
#define API_TREE_H

#include <stddef.h>
#include <stdint.h>

struct tree_entry {
	uint64_t	 id;
	void		*value;
};

struct tree {
	struct tree_entry	*entries;
	size_t			 count;
	size_t			 size;
};

void	 api_tree_init(struct tree *);
/* api_tree_set - add or replace; the old value or NULL (*err -1: ENOMEM) */
void	*api_tree_set(struct tree *, uint64_t id, void *value, int *err);
void	*api_tree_get(const struct tree *, uint64_t id);
int	 api_tree_check(const struct tree *, uint64_t id);
/* api_tree_pop - remove ID; its value or NULL */
void	*api_tree_pop(struct tree *, uint64_t id);
size_t	 api_tree_count(const struct tree *);
/* api_tree_root - some entry (the lowest id): 1, or 0 when empty */
int	 api_tree_root(const struct tree *, uint64_t *id, void **value);
/* api_tree_poproot - remove and return some entry: 1, or 0 when empty */
int	 api_tree_poproot(struct tree *, uint64_t *id, void **value);
/*
 * api_tree_iter - walk in id order: *cursor starts NULL; 1 per entry, 0
 * at the end.  api_tree_iterfrom starts at the first id >= from.  The
 * tree must not change during a walk.
 */
int	 api_tree_iter(const struct tree *, void **cursor, uint64_t *id,
	    void **value);
int	 api_tree_iterfrom(const struct tree *, void **cursor, uint64_t from,
	    uint64_t *id, void **value);
/* api_tree_merge - move every entry of SRC into DST; -1 (ENOMEM, or
 * EEXIST for an id in both: nothing moved then) */
int	 api_tree_merge(struct tree *dst, struct tree *src);
/* api_tree_clear - remove everything, calling freecb (may be NULL) */
void	 api_tree_clear(struct tree *, void (*freecb)(void *));

#endif
