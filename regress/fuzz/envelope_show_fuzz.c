/*
 * envelope_show_fuzz.c -- libFuzzer target for what smtpctl's queue
 * verbs decode and print (smtpd/common/envelope_show.c): the ids an
 * operator types, and the `show queue` line of a stored envelope.
 *
 * The first byte picks the case.  Even: the rest is an id as typed; an
 * accepted id must be 8 or 16 hex digits and print back to the same
 * digits (lower case).  Odd: the rest is envelope text from a queue
 * file, and the next bytes the scheduler's flags; whatever loads must
 * make one line that fits ENVELOPE_SHOW_LINE_MAX, has 14 fields (the
 * error last, it may hold '|'), ends with its only newline and holds no
 * other control character.  Any breach aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "envelope_show.h"
#include "smtpd.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_id - an id as typed */
static void
fuzz_id(const uint8_t *data, size_t size)
{
	char		s[64], back[32];
	uint64_t	id;
	size_t		i;

	if (size >= sizeof s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (envelope_show_parse_id(s, &id) == -1)
		return;
	if (strlen(s) == 8) {
		if (id == 0 || id > UINT32_MAX)
			abort();
		snprintf(back, sizeof back, "%08llx", (unsigned long long)id);
	} else if (strlen(s) == 16) {
		if (id >> 32 == 0 || (uint32_t)id == 0)
			abort();
		snprintf(back, sizeof back, "%016llx", (unsigned long long)id);
	} else
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if ((s[i] | 0x20) != back[i])
			abort();
}

/* fuzz_line - a stored envelope's line */
static void
fuzz_line(const uint8_t *data, size_t size)
{
	static struct envelope		evp;
	static char			line[ENVELOPE_SHOW_LINE_MAX];
	struct envelope_runstate	rs;
	char				err[256];
	size_t				i, bars = 0;
	int				n;

	if (size < 3)
		return;
	rs.flags = (uint16_t)(data[0] << 8 | data[1]);
	rs.time = (time_t)data[2] * 1000;
	if (envelope_load(&evp, (const char *)data + 3, size - 3, err,
	    sizeof err) == -1)
		return;
	evp.evpid = 0x0123456789abcdefULL;
	if ((n = envelope_show_line(&evp, &rs, 100000, line,
	    sizeof line)) <= 0 || line[n - 1] != '\n')
		abort();
	for (i = 0; i < (size_t)n - 1; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			abort();
		bars += line[i] == '|';
	}
	if (bars < 13)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_id(data + 1, size - 1);
	else
		fuzz_line(data + 1, size - 1);
	return 0;
}
