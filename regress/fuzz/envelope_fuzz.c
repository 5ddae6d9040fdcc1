/*
 * envelope_fuzz.c -- libFuzzer target for the envelope text codec
 * (smtpd/common/envelope_text.c, mailaddr.c).
 *
 * The input is envelope text from a queue file or a queue helper.  A
 * load must never read past the input nor crash.  Whatever loads must
 * dump (the queue could not update it otherwise), the dump must load
 * again, and the second dump must equal the first byte for byte: the
 * codec is a fixed point after one round.  Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "smtpd.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct envelope	evp1, evp2;
	static char		out1[ENVELOPE_TEXT_MAX + 1];
	static char		out2[ENVELOPE_TEXT_MAX + 1];
	char			err[256];
	int			n1, n2;

	if (envelope_load(&evp1, (const char *)data, size, err,
	    sizeof err) == -1) {
		if (err[0] == '\0')
			abort();	/* every refusal says why */
		return 0;
	}
	if ((n1 = envelope_dump(&evp1, out1, sizeof out1)) <= 0)
		abort();
	if (out1[n1 - 1] != '\n' || memchr(out1, '\0', n1) != NULL)
		abort();
	if (envelope_load(&evp2, out1, (size_t)n1, err, sizeof err) == -1)
		abort();
	if ((n2 = envelope_dump(&evp2, out2, sizeof out2)) != n1 ||
	    memcmp(out1, out2, n1) != 0)
		abort();
	return 0;
}
