/*
 * table_text_reply_fuzz.c -- libFuzzer target for the daemon's side of
 * api/table_text.c, the codec of the OpenSMTPD 7.6+ text table protocol
 * (libexec-protocols.md 7): the decoders smtpd's table host
 * (smtpd/table/table_proc.c) feeds with whatever a helper writes, the
 * reply lines (OP-result|ID|...) and the handshake's register| lines.
 *
 * The input is one line (an exact-size, NUL-terminated copy, so that
 * ASan sees any overread; a NUL inside ends it, as the host refuses such
 * lines before decoding).  A decoded reply must be consistent (a value
 * exactly when found by a lookup or a fetch, never empty) and must
 * encode again to a line that decodes to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table_text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ttfuzz_same_str - both NULL, or the same string */
static int
ttfuzz_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ttfuzz_reply - decode, check, encode, decode again */
static void
ttfuzz_reply(char *line)
{
	static char		 buf[TABLE_TEXT_LINE_MAX * 2];
	struct table_text_reply	 m, m2;
	int			 n;

	if (table_text_decode_reply(line, &m) == -1) {
		if (m.error == NULL)
			abort();
		return;
	}
	if ((m.value != NULL) != (m.result == TABLE_TEXT_FOUND &&
	    (m.op == TABLE_TEXT_LOOKUP || m.op == TABLE_TEXT_FETCH)))
		abort();
	if (m.value != NULL && m.value[0] == '\0')
		abort();
	if (m.message != NULL && m.message[0] == '\0')
		m.message = NULL;	/* "error|" is sent as "error" */
	if ((n = table_text_encode_reply(buf, sizeof buf, &m)) <= 0 ||
	    buf[n - 1] != '\n')
		abort();
	buf[n - 1] = '\0';
	if (table_text_decode_reply(buf, &m2) == -1 || m2.op != m.op ||
	    m2.result != m.result || strcmp(m2.id, m.id) != 0 ||
	    !ttfuzz_same_str(m2.value, m.value) ||
	    !ttfuzz_same_str(m2.message, m.message))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int	 svc;
	const char	*why = NULL;
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
	ttfuzz_reply(line);
	if (table_text_decode_register(copy, &svc, &why) == -1) {
		if (why == NULL)
			abort();
	} else if (svc != 0 && svc != TABLE_TEXT_K_AUTH &&
	    (svc & (svc - 1)) != 0)
		abort();	/* one service at a time */
	free(line);
	free(copy);
	return 0;
}
