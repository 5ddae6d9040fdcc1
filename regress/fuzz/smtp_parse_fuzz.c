/*
 * smtp_parse_fuzz.c -- libFuzzer target for the SMTP server's command,
 * path and parameter parsers (smtpd/dispatcher/smtp_parse.c).
 *
 * The input, cut at the first NUL like a command line, goes through
 * smtp_parse_verb, then as MAIL and RCPT arguments through
 * smtp_parse_path and the parameter parsers, and as a HELO argument
 * through smtp_parse_domain.  Nothing may crash or read past the
 * input; an accepted address must hold no control byte and fit its
 * buffers; a refused parameter's echo must hold no control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parse.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_clean - no control byte in the first LEN bytes of S */
static void
fuzz_clean(const char *s, size_t size)
{
	size_t	i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 32 || s[i] == 127)
			abort();
	if (i == size)
		abort();	/* not terminated */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_mail_params	 mp;
	struct smtp_rcpt_params	 rp;
	struct mailaddr		 ma;
	const char		*args, *end;
	char			*line, bad[64];

	if (size > 4096)
		return 0;
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	(void)smtp_parse_verb(line, &args);
	if (args < line || args > line + strlen(line))
		abort();
	(void)smtp_parse_domain(line, strlen(line));
	if (smtp_parse_path(line, &end, SMTP_PATH_NULL_OK, "mx.example",
	    &ma) == 0) {
		if (end < line || end > line + strlen(line))
			abort();
		fuzz_clean(ma.user, sizeof ma.user);
		fuzz_clean(ma.domain, sizeof ma.domain);
		if (smtp_parse_mail_params(end, 0, 1000, &mp, bad, sizeof bad)
		    == SMTP_PARAM_OK) {
			fuzz_clean(mp.envid, sizeof mp.envid);
			if (mp.size > 1000)
				abort();
		} else
			fuzz_clean(bad, sizeof bad);
		if (smtp_parse_rcpt_params(end, 0, &rp, bad, sizeof bad) ==
		    SMTP_PARAM_OK) {
			fuzz_clean(rp.orcpt.user, sizeof rp.orcpt.user);
			fuzz_clean(rp.orcpt.domain, sizeof rp.orcpt.domain);
		} else
			fuzz_clean(bad, sizeof bad);
	}
	free(line);
	return 0;
}
