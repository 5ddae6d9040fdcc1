/*
 * lookup_forward_fuzz.c -- libFuzzer target for the parser of ~/.forward
 * and :include: files (smtpd/lookup/lookup_forward.c, with the alias
 * element parser of smtpd/table/table_value.c).
 *
 * The input is a user's file.  The parse must never crash nor read past
 * the input, and every element it hands over must be clean: no control
 * character in an address, a path, a command or an error text, so none
 * can reach an envelope.  Any breach aborts.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lookup_expand.h"
#include "smtpd.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* forward_fuzz_clean - abort on a control character in S */
static void
forward_fuzz_clean(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
	for (; *s != '\0'; s++)
		if (iscntrl((unsigned char)*s) && *s != '\t')
			abort();
}

static int
forward_fuzz_element(const struct table_alias *a, void *arg)
{
	(*(size_t *)arg)++;
	forward_fuzz_clean(a->addr.user, sizeof a->addr.user);
	forward_fuzz_clean(a->addr.domain, sizeof a->addr.domain);
	forward_fuzz_clean(a->text, sizeof a->text);
	if (a->kind == TABLE_ALIAS_ERROR && (a->code < 400 || a->code > 599))
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, err[256];
	size_t	 n = 0;

	if (size > LOOKUP_FILE_MAX)
		return 0;
	/* an exact-size copy, so that ASan sees any read past the end */
	if ((text = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	(void)lookup_forward_parse(text, size, forward_fuzz_element, &n, err,
	    sizeof err);
	free(text);
	return 0;
}
