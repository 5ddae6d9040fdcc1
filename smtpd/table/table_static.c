/*
 * table_static.c -- the static backend: inline tables of smtpd.conf
 * (`{ a, b }` lists and `{ k = v }` mappings), and the in-memory entry
 * store that the file backend fills from a file.
 *
 * Runs in the parser (entries are added) and in the lookup process
 * (queries).  Entries keep their order of insertion, which is the order
 * of fetch rotation and of pattern scans (first match wins); an index
 * sorted by key serves exact lookups.  Duplicate keys: the first entry
 * wins and the others are reported once, with their line, when the
 * table is indexed, at its first query (makemap keeps the first one
 * too).  Written against api/ only (table_backends.h): the same object
 * serves smtpd and the table-file helper.  Never fatal: bad entries and
 * out of memory are -1 with a reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_log.h"
#include "table_backends.h"

/* table_entries_add - append one entry (VALUE NULL in a list) */
int
table_entries_add(struct table_entries *e, const char *key,
    const char *value, unsigned int line, char *err, size_t errsz)
{
	enum table_shape	 shape;
	struct table_entry	*ent;
	char			 lkey[TABLE_KEY_MAX], why[128];

	shape = value != NULL ? TABLE_SHAPE_MAPPING : TABLE_SHAPE_LIST;
	if (e->shape != TABLE_SHAPE_NONE && e->shape != shape) {
		snprintf(err, errsz, "a table is a list or a mapping, "
		    "not both");
		return -1;
	}
	if (key[0] == '\0') {
		snprintf(err, errsz, "empty key");
		return -1;
	}
	if (table_normalize_key(key, lkey, sizeof lkey, why, sizeof why) ==
	    -1) {
		snprintf(err, errsz, "%s", why);
		return -1;
	}
	if (value != NULL && strlen(value) >= TABLE_VALUE_MAX) {
		snprintf(err, errsz, "value longer than %d bytes",
		    TABLE_VALUE_MAX - 1);
		return -1;
	}
	if (e->n == e->size) {
		size_t	nsize = e->size ? e->size * 2 : 16;

		ent = reallocarray(e->v, nsize, sizeof *e->v);
		if (ent == NULL)
			goto nomem;
		e->v = ent;
		e->size = nsize;
	}
	ent = &e->v[e->n];
	memset(ent, 0, sizeof *ent);
	if ((ent->key = strdup(lkey)) == NULL)
		goto nomem;
	if (value != NULL && (ent->value = strdup(value)) == NULL) {
		free(ent->key);
		goto nomem;
	}
	e->n++;
	ent->line = line;
	e->shape = shape;
	free(e->sorted);
	e->sorted = NULL;
	return 0;
nomem:
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* the entries being sorted: qsort has no context argument */
static const struct table_entries	*table_entries_sorting;

/* table_entries_cmp - by key, then by insertion order */
static int
table_entries_cmp(const void *a, const void *b)
{
	size_t	ia = *(const size_t *)a, ib = *(const size_t *)b;
	int	r;

	r = strcmp(table_entries_sorting->v[ia].key,
	    table_entries_sorting->v[ib].key);
	if (r != 0)
		return r;
	return ia < ib ? -1 : ia > ib;
}

/* table_entries_finish - build the index; warn about duplicate keys */
void
table_entries_finish(struct table_entries *e, const char *tname,
    const char *source)
{
	const struct table_entry	*first, *dup;
	size_t				 i;

	free(e->sorted);
	e->sorted = NULL;
	if (e->n == 0)
		return;
	/* without an index lookups scan, in the same first-wins order */
	if ((e->sorted = reallocarray(NULL, e->n, sizeof *e->sorted)) == NULL)
		return;
	for (i = 0; i < e->n; i++)
		e->sorted[i] = i;
	table_entries_sorting = e;
	qsort(e->sorted, e->n, sizeof *e->sorted, table_entries_cmp);
	table_entries_sorting = NULL;
	for (i = 1; i < e->n; i++) {
		first = &e->v[e->sorted[i - 1]];
		dup = &e->v[e->sorted[i]];
		if (strcmp(first->key, dup->key) != 0)
			continue;
		if (source != NULL)
			api_log_warnx("table %s: %s:%u: duplicate key \"%s\" "
			    "ignored, line %u wins", tname, source, dup->line,
			    dup->key, first->line);
		else
			api_log_warnx("table %s: duplicate key \"%s\" ignored, "
			    "the first one wins", tname, dup->key);
	}
}

/* table_entries_clear - release every entry */
void
table_entries_clear(struct table_entries *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].key);
		free(e->v[i].value);
		table_match_regex_free(&e->v[i].regex);
	}
	free(e->v);
	free(e->sorted);
	memset(e, 0, sizeof *e);
}

/* table_entries_move - DST takes SRC's entries; SRC is left empty */
void
table_entries_move(struct table_entries *dst, struct table_entries *src)
{
	table_entries_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

/* table_entries_find - index of the first entry with KEY, or -1 */
static long
table_entries_find(const struct table_entries *e, const char *key)
{
	size_t	lo = 0, hi = e->n, mid;
	int	r;

	if (e->sorted == NULL) {
		for (lo = 0; lo < e->n; lo++)
			if (strcmp(e->v[lo].key, key) == 0)
				return (long)lo;
		return -1;
	}
	/* lower bound: the first sorted slot whose key is >= KEY */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = strcmp(e->v[e->sorted[mid]].key, key);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->n && strcmp(e->v[e->sorted[lo]].key, key) == 0)
		return (long)e->sorted[lo];
	return -1;
}

/* table_entries_answer - copy the answer of entry I into DST */
static int
table_entries_answer(const struct table_entries *e, const char *tname,
    size_t i, char *dst, size_t dstsz)
{
	const char	*v = e->v[i].value ? e->v[i].value : e->v[i].key;

	if (dst == NULL)
		return 1;
	if (strlcpy(dst, v, dstsz) >= dstsz) {
		api_log_warnx("table %s: value of \"%s\" longer than the "
		    "%zu-byte buffer", tname, e->v[i].key, dstsz);
		dst[0] = '\0';
		return -1;
	}
	return 1;
}

/*
 * table_entries_lookup - KEY for SERVICE: exact first, then (pattern
 * services) a scan in insertion order.  DST NULL: a check.
 */
int
table_entries_lookup(struct table_entries *e, const char *tname,
    enum table_service service, const char *key, char *dst, size_t dstsz)
{
	long	i;
	size_t	j;
	int	r;

	if ((i = table_entries_find(e, key)) != -1 && service != K_REGEX)
		return table_entries_answer(e, tname, (size_t)i, dst,
		    dstsz);
	if (!table_match_needs_scan(service))
		return 0;
	for (j = 0; j < e->n; j++) {
		r = table_match(service, e->v[j].key, key, &e->v[j].regex,
		    &e->v[j].regex_bad);
		if (r == -1) {
			api_log_warnx("table %s: entry \"%s\" is not a valid "
			    "regular expression", tname, e->v[j].key);
			return -1;
		}
		if (r == 1)
			return table_entries_answer(e, tname, j, dst, dstsz);
	}
	return 0;
}

/* table_entries_fetch - the next entry's answer, wrapping around */
int
table_entries_fetch(struct table_entries *e, const char *tname, char *dst,
    size_t dstsz)
{
	size_t	i;

	if (e->n == 0)
		return 0;
	if (e->fetch_next >= e->n)
		e->fetch_next = 0;
	i = e->fetch_next++;
	return table_entries_answer(e, tname, i, dst, dstsz);
}

/* table_static_new - an empty context for table TNAME (SOURCE: a file) */
struct table_static *
table_static_new(const char *tname, const char *source, char *err,
    size_t errsz)
{
	struct table_static	*s;

	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (source != NULL && (s->source = strdup(source)) == NULL)) {
		free(s);
		snprintf(err, errsz, "table \"%s\": out of memory", tname);
		return NULL;
	}
	(void)snprintf(s->name, sizeof s->name, "%s", tname);
	return s;
}

/* table_static_open - backend open: an inline table starts empty */
static void *
table_static_open(const char *tname, const char *config, char *err,
    size_t errsz)
{
	return table_static_new(tname, NULL, err, errsz);
}

/* table_static_close - backend close: free the entries */
void
table_static_close(void *ctx)
{
	struct table_static	*s = ctx;

	if (s == NULL)
		return;
	table_entries_clear(&s->entries);
	free(s->source);
	free(s);
}

/* table_static_add - backend add: one inline entry */
static int
table_static_add(void *ctx, const char *key, const char *value, char *err,
    size_t errsz)
{
	struct table_static	*s = ctx;

	s->indexed = 0;
	return table_entries_add(&s->entries, key, value, 0, err, errsz);
}

/* table_static_index - sort once, after the last add */
static struct table_entries *
table_static_index(struct table_static *s)
{
	if (!s->indexed) {
		table_entries_finish(&s->entries, s->name, s->source);
		s->indexed = 1;
	}
	return &s->entries;
}

/* table_static_lookup - backend lookup on the entries */
int
table_static_lookup(void *ctx, enum table_service service, const char *key,
    char *dst, size_t dstsz)
{
	struct table_static	*s = ctx;

	return table_entries_lookup(table_static_index(s), s->name, service,
	    key, dst, dstsz);
}

/* table_static_check - backend check on the entries */
int
table_static_check(void *ctx, enum table_service service, const char *key)
{
	struct table_static	*s = ctx;

	return table_entries_lookup(table_static_index(s), s->name, service,
	    key, NULL, 0);
}

/* table_static_fetch - backend fetch: rotate over the entries */
int
table_static_fetch(void *ctx, enum table_service service, char *dst,
    size_t dstsz)
{
	struct table_static	*s = ctx;

	return table_entries_fetch(table_static_index(s), s->name, dst,
	    dstsz);
}

/* table_static_shape - list or mapping; NONE while empty */
enum table_shape
table_static_shape(void *ctx)
{
	struct table_static	*s = ctx;

	return s->entries.n == 0 ? TABLE_SHAPE_NONE : s->entries.shape;
}

const struct table_backend table_backend_static = {
	.version = TABLE_BACKEND_V1,
	.name = "static",
	.services = K_ANY,
	.open = table_static_open,
	.close = table_static_close,
	.lookup = table_static_lookup,
	.check = table_static_check,
	.fetch = table_static_fetch,
	.add = table_static_add,
	.shape = table_static_shape,
};
