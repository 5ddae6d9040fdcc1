/*
 * conf_parse_fuzz.c -- libFuzzer target for the smtpd.conf parser.
 *
 * Feeds arbitrary bytes to conf_load_string(); when they parse, the
 * canonical dump must parse again (the serialized form other processes
 * rebuild from).  Any crash, sanitizer report, leak or hang is a bug:
 * the parser must refuse bad input with a message, never abort.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "smtpd.h"

/* the fuzz binary links every core object but not smtpd.c */
struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE		*devnull;
	struct smtpd_conf	*c, *c2;
	unsigned char		*buf;
	size_t			 len;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		return 0;
	c = conf_load_string("fuzz.conf", (const char *)data, size, NULL, 0,
	    devnull);
	if (c == NULL)
		return 0;
	if (conf_serialize(c, 0, &buf, &len) == 0) {
		c2 = conf_deserialize(buf, len);
		if (c2 == NULL)
			abort();	/* canonical text must parse back */
		conf_free(&c2);
		free(buf);
	}
	conf_free(&c);
	return 0;
}
