/*
 * table_text_request_fuzz.c -- libFuzzer target for the helper's side
 * of api/table_text.c, the codec of the OpenSMTPD 7.6+ text table
 * protocol (libexec-protocols.md 7): the decoders every helper's glue
 * (api/table_api.c) feeds with the daemon's lines, the requests
 * (table|0.1|TIME|NAME|OP|...) and the handshake's config| lines.
 *
 * The input is one line (an exact-size, NUL-terminated copy, so that
 * ASan sees any overread).  A decoded request must be consistent (a key
 * exactly for check and lookup) and, when its service is one we know,
 * must encode again to a line that decodes to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table_text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ttfuzz_request - decode, check, encode, decode again */
static void
ttfuzz_request(char *line)
{
	static char			 buf[TABLE_TEXT_LINE_MAX * 2];
	struct table_text_request	 m, m2;
	int				 n;

	if (table_text_decode_request(line, &m) == -1) {
		if (m.error == NULL)
			abort();
		return;
	}
	if ((m.key != NULL) != (m.op == TABLE_TEXT_CHECK ||
	    m.op == TABLE_TEXT_LOOKUP) || m.id == NULL || m.id[0] == '\0' ||
	    m.table == NULL || m.usec < 0 || m.usec > 999999)
		abort();
	if (m.op != TABLE_TEXT_UPDATE && m.service == K_NONE)
		return;		/* the helper answers error: nothing to send */
	if ((n = table_text_encode_request(buf, sizeof buf, &m)) <= 0 ||
	    buf[n - 1] != '\n')
		abort();
	buf[n - 1] = '\0';
	if (table_text_decode_request(buf, &m2) == -1 || m2.op != m.op ||
	    m2.service != m.service || m2.sec != m.sec ||
	    m2.usec != m.usec || strcmp(m2.id, m.id) != 0 ||
	    strcmp(m2.table, m.table) != 0 || (m.key != NULL &&
	    strcmp(m2.key, m.key) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*key, *value, *why = NULL;
	char		*line, *copy;

	if (size > TABLE_TEXT_LINE_MAX)
		return 0;
	if ((line = malloc(size + 1)) == NULL ||
	    (copy = malloc(size + 1)) == NULL) {
		free(line);
		return 0;
	}
	memcpy(line, data, size);
	line[size] = '\0';
	memcpy(copy, line, size + 1);
	ttfuzz_request(line);
	if (table_text_decode_config(copy, &key, &value, &why) == -1) {
		if (why == NULL)
			abort();
	} else if (key == NULL || (strcmp(key, "ready") == 0) !=
	    (value == NULL))
		abort();
	free(line);
	free(copy);
	return 0;
}
