/*
 * table_rotation.c -- the FETCH list of database table helpers
 * (table_rotation.h).
 *
 * Runs in helper programs.  Values come from a database server: each
 * is checked (no NULL, no NUL byte) and the count is bounded.  It
 * returns -1 on no memory and never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table_rotation.h"

/* table_rotation_now - monotonic seconds */
static time_t
table_rotation_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
table_rotation_init(struct table_rotation *r, long long expire,
    long long refresh)
{
	memset(r, 0, sizeof *r);
	r->expire = expire;
	r->refresh = refresh;
}

void
table_rotation_clear(struct table_rotation *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		free(r->values[i]);
	free(r->values);
	r->values = NULL;
	r->n = r->next = 0;
	r->loaded = 0;
	r->served = 0;
}

int
table_rotation_due(const struct table_rotation *r)
{
	return !r->loaded || r->served >= r->refresh ||
	    (long long)(table_rotation_now() - r->when) >= r->expire;
}

/* table_rotation_cmp - qsort order of two values */
static int
table_rotation_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
table_rotation_load(struct table_rotation *r, const struct table_field *f,
    size_t n, char *err, size_t errsz)
{
	char	**v;
	size_t	  i, k;

	table_rotation_clear(r);
	if (n > TABLE_ROTATION_MAX) {
		snprintf(err, errsz, "%zu values, more than %d", n,
		    TABLE_ROTATION_MAX);
		return -1;
	}
	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (f[i].data == NULL || memchr(f[i].data, '\0', f[i].len)) {
			snprintf(err, errsz, "value %zu is NULL or holds a "
			    "NUL byte", i + 1);
			goto fail;
		}
		if ((v[i] = strndup(f[i].data, f[i].len)) == NULL) {
			snprintf(err, errsz, "out of memory");
			goto fail;
		}
	}
	qsort(v, n, sizeof *v, table_rotation_cmp);
	for (i = k = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1], v[i]) == 0)
			free(v[i]);
		else
			v[k++] = v[i];
	}
	r->values = v;
	r->n = k;
	r->loaded = 1;
	r->when = table_rotation_now();
	return 0;
fail:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

int
table_rotation_next(struct table_rotation *r, char *dst, size_t dstsz)
{
	r->served++;
	if (r->n == 0)
		return 0;
	if (r->next >= r->n)
		r->next = 0;
	if (strlcpy(dst, r->values[r->next++], dstsz) >= dstsz)
		return -1;
	return 1;
}
