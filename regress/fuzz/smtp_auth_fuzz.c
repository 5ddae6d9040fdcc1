/*
 * smtp_auth_fuzz.c -- libFuzzer target for the decoders of the SMTP
 * AUTH exchange (smtpd/dispatcher/smtp_auth.c, smtp_auth.h).
 *
 * The input, cut at its first NUL like a response line, goes through
 * smtp_auth_decode; what decodes goes through PLAIN's field splitter
 * and LOGIN's single-field checks; the raw input (NULs included) also
 * goes straight to the PLAIN splitter.  Nothing may crash or read past
 * its input; a decoded length fits its buffer; an accepted user is
 * terminated, non-empty and free of control bytes; a refusal leaves no
 * password behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_auth.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* fuzz_user - an accepted user: terminated, not empty, no control */
static void
fuzz_user(const char *user)
{
	size_t	i;

	for (i = 0; i < SMTP_AUTH_USER_MAX && user[i] != '\0'; i++)
		if ((unsigned char)user[i] < 32 || user[i] == 127)
			abort();
	if (i == 0 || i == SMTP_AUTH_USER_MAX)
		abort();
}

/* fuzz_plain - the PLAIN splitter on LEN bytes of BUF */
static void
fuzz_plain(const char *buf, size_t len)
{
	char	user[SMTP_AUTH_USER_MAX], pass[SMTP_AUTH_PASS_MAX];

	if (smtp_auth_plain(buf, len, user, pass) == SMTP_AUTH_OK) {
		fuzz_user(user);
		if (memchr(pass, '\0', sizeof pass) == NULL || pass[0] == '\0')
			abort();
	} else if (pass[0] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	buf[SMTP_AUTH_DECODED_MAX + 1];
	char		field[SMTP_AUTH_PASS_MAX], *line;
	size_t		len;

	if (size > SMTP_AUTH_LINE_MAX + 16)
		return 0;
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (smtp_auth_decode(line, buf, sizeof buf, &len) == SMTP_AUTH_OK) {
		if (len >= sizeof buf || buf[len] != '\0')
			abort();
		fuzz_plain(buf, len);
		if (smtp_auth_field(buf, len, 1, field) == SMTP_AUTH_OK)
			fuzz_user(field);
		(void)smtp_auth_field(buf, len, 0, field);
	}
	fuzz_plain((const char *)data, size);
	free(line);
	return 0;
}
