/*
 * table_format_fuzz.c -- libFuzzer target for api/table_format.c and
 * api/table_rotation.c, which turn what a database server answers
 * (outside input) into table values.
 *
 * The first byte picks the service and the destination size, the rest
 * is split at 0xff bytes into fields (an empty field at an odd
 * position stands for SQL NULL).  Every field is fed as a record, as
 * list elements and as a FETCH list.  Nothing may crash, an accepted
 * value must be NUL-terminated inside the destination and hold no NUL
 * byte before its end, a rejected one must come with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd-api.h"
#include "table_format.h"
#include "table_rotation.h"

#define TABLE_FORMAT_FUZZ_FIELDS	8

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* table_format_fuzz_split - fields of DATA, at most FIELDS */
static size_t
table_format_fuzz_split(const uint8_t *data, size_t size,
    struct table_field *f)
{
	size_t	n = 0, start = 0, i;

	for (i = 0; i <= size && n < TABLE_FORMAT_FUZZ_FIELDS; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		f[n].data = (const char *)data + start;
		f[n].len = i - start;
		if (f[n].len == 0 && n % 2 == 1)
			f[n].data = NULL;
		n++;
		start = i + 1;
	}
	return n;
}

/* table_format_fuzz_value_ok - a value the helper may send */
static void
table_format_fuzz_value_ok(const char *dst, size_t dstsz)
{
	if (memchr(dst, '\0', dstsz) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_field	f[TABLE_FORMAT_FUZZ_FIELDS];
	struct table_rotation	r;
	enum table_service	service;
	char			dst[256], err[256];
	size_t			n, i, dstsz;

	if (size < 1 || size > 4096)
		return 0;
	service = (enum table_service)(1 << (data[0] % 12));
	dstsz = 1 + (size_t)(data[0] >> 4) * 16;
	n = table_format_fuzz_split(data + 1, size - 1, f);
	err[0] = '\0';
	if (table_format_record(service, f, n, dst, dstsz, err,
	    sizeof err) == 0)
		table_format_fuzz_value_ok(dst, dstsz);
	else if (err[0] == '\0')
		abort();
	dst[0] = '\0';
	for (i = 0; i < n; i++)
		if (table_format_list_add(&f[i], dst, dstsz, err,
		    sizeof err) == 0)
			table_format_fuzz_value_ok(dst, dstsz);
	table_rotation_init(&r, 0, 0);
	if (table_rotation_load(&r, f, n, err, sizeof err) == 0)
		for (i = 0; i <= n; i++)
			if (table_rotation_next(&r, dst, dstsz) == 1)
				table_format_fuzz_value_ok(dst, dstsz);
	table_rotation_clear(&r);
	return 0;
}
