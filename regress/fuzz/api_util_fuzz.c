/*
 * api_util_fuzz.c -- libFuzzer target for the string helpers drivers
 * get from api/ (api_util.c): base64 decoding of outside data, then a
 * round trip through the encoder, strip and lowercase.  Decoding must
 * never write past the given size, re-encoding what was decoded must
 * decode to the same bytes, and nothing may crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*dec, *again;
	char		*text, *enc, *low, *s;
	size_t		 decsz;
	int		 n, m;

	if (size > 65536 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* a small first byte tests a too-small destination */
	decsz = size > 0 && data[0] < 8 ? data[0] : size;
	dec = malloc(decsz + 1);
	enc = malloc(size * 2 + 8);
	again = malloc(size + 1);
	low = malloc(size + 1);
	if (dec && enc && again && low) {
		n = api_base64_decode(text, dec, decsz);
		if (n >= 0) {
			if ((size_t)n > decsz)
				abort();
			if (api_base64_encode(dec, (size_t)n, enc,
			    size * 2 + 8) < 0)
				abort();
			m = api_base64_decode(enc, again, size + 1);
			if (m != n || memcmp(dec, again, (size_t)n) != 0)
				abort();
		}
		(void)api_lowercase(low, text, size + 1);
		s = api_strip(text);
		if (s < text || s > text + size)
			abort();
	}
	free(dec);
	free(enc);
	free(again);
	free(low);
	free(text);
	return 0;
}
