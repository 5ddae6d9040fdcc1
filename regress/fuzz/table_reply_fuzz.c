/*
 * table_reply_fuzz.c -- libFuzzer target for the daemon's decoder of
 * table helpers' replies (table_proc_decode_reply in
 * smtpd/table/table_proc.c, libexec-protocols.md 4.4).  The first byte
 * chooses the request the reply answers (check, lookup, fetch, update);
 * the rest is the reply's payload, as a helper may send anything.  A
 * reply is accepted only with r in -1..1 and, for a found lookup or
 * fetch, exactly one NUL-terminated value; nothing may read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "table_api.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t	 types[] = { PROC_TABLE_CHECK,
	    PROC_TABLE_LOOKUP, PROC_TABLE_FETCH, PROC_TABLE_UPDATE };
	const char		*value;
	unsigned char		*copy;
	size_t			 len;
	int			 r;

	if (size == 0)
		return 0;
	/* a copy of exactly the payload, so ASan sees any overread */
	if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (table_proc_decode_reply(types[data[0] % 4], copy, size - 1, &r,
	    &value, &len) == 0) {
		if (r < -1 || r > 1)
			abort();
		if (value != NULL && (r != 1 || strlen(value) != len ||
		    (const unsigned char *)value + len >= copy + size - 1 + 1))
			abort();
	}
	free(copy);
	return 0;
}
