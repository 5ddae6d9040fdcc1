/*
 * conf_parse_fuzz.c -- libFuzzer target for the smtpd.conf parser.
 *
 * Feeds arbitrary bytes to conf_load_string(); when they parse, the
 * canonical dump must parse again (the serialized form other processes
 * rebuild from) into the same configuration field by field
 * (conf_equal), and dump to the same text: every value, including
 * backslashes before blanks, quotes or the end of a value, survives.
 * Any crash, sanitizer report, leak or hang is a bug: the parser must
 * refuse bad input with a message, never abort.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "imsg.h"
#include "smtpd.h"

/* the fuzz binary links every core object but not smtpd.c */
struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE		*devnull;
	struct smtpd_conf	*c, *c2;
	unsigned char		*buf, *buf2;
	size_t			 len, len2;
	char			 why[512];

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		return 0;
	c = conf_load_string("fuzz.conf", (const char *)data, size, NULL, 0,
	    devnull, NULL);
	if (c == NULL)
		return 0;
	if (conf_serialize(c, PROC_PARENT, &buf, &len) == 0) {
		c2 = conf_deserialize(buf, len);
		if (c2 == NULL)
			abort();	/* canonical text must parse back */
		if (!conf_equal(c, c2, why, sizeof(why))) {
			fprintf(stderr, "conf_equal: %s\n", why);
			abort();	/* ... to the same configuration */
		}
		if (conf_serialize(c2, 0, &buf2, &len2) == 0) {
			/* ... and be a fixed point */
			if (len2 != len || memcmp(buf, buf2, len) != 0)
				abort();
			free(buf2);
		}
		conf_free(&c2);
		free(buf);
	}
	conf_free(&c);
	return 0;
}
