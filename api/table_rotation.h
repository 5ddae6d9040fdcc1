/*
 * table_rotation.h -- FETCH for database table helpers: the values of a
 * fetch_source query, kept for a while and served in turn
 * (libexec-protocols.md 4.7).
 *
 * As OpenSMTPD's extras drivers do, the list holds the distinct values
 * in sorted order, is served round-robin (wrapping), and is reloaded
 * when fetch_source_refresh FETCHes have been served from it or
 * fetch_source_expire seconds have passed since it was loaded (0 for
 * either: reload on every FETCH).
 */
#ifndef API_TABLE_ROTATION_H
#define API_TABLE_ROTATION_H

#include <stddef.h>
#include <time.h>

#include "table_format.h"

#define TABLE_ROTATION_EXPIRE	60	/* seconds, fetch_source_expire */
#define TABLE_ROTATION_REFRESH	1000	/* FETCHes, fetch_source_refresh */
#define TABLE_ROTATION_MAX	4096	/* values kept */

struct table_rotation {
	char		**values;
	size_t		  n;
	size_t		  next;
	int		  loaded;	/* a list was loaded (maybe empty) */
	time_t		  when;		/* CLOCK_MONOTONIC seconds */
	long long	  served;	/* FETCHes since the load */
	long long	  expire;
	long long	  refresh;
};

/* table_rotation_init - empty, not loaded */
void	table_rotation_init(struct table_rotation *, long long expire,
	    long long refresh);
/* table_rotation_due - the list must be (re)loaded before a FETCH */
int	table_rotation_due(const struct table_rotation *);
/*
 * table_rotation_load - replace the list by the N values (copied,
 * sorted, duplicates dropped).  0, or -1 with the reason in err (a
 * NULL or NUL-holding value, too many values, no memory): the old list
 * is then dropped too, so that a failed reload is not served as fresh.
 */
int	table_rotation_load(struct table_rotation *,
	    const struct table_field *, size_t n, char *err, size_t errsz);
/* table_rotation_next - the next value: 1, 0 when empty, -1 too long */
int	table_rotation_next(struct table_rotation *, char *dst, size_t dstsz);
/* table_rotation_clear - free the values, back to not loaded */
void	table_rotation_clear(struct table_rotation *);

#endif
