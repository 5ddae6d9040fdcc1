/*
 * password.c -- crypt(3) passwords (password.h): the check made by the
 * lookup process against a credentials table and by the parent against
 * the system's accounts, and the hash smtpctl encrypt prints.
 *
 * crypt_r with its state on the heap (tens of KiB), so that callers
 * keep no static state.  CPU work only: no file is read here.  Never
 * logs a password, and wipes the state that held one.
 */
#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"

/* password_equal - A and B equal, in time independent of where they
 * differ (the lengths are not secret) */
static int
password_equal(const char *a, const char *b)
{
	size_t			 la = strlen(a), lb = strlen(b), i;
	volatile unsigned char	 d = 0;

	if (la != lb)
		return 0;
	for (i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

int
password_check(const char *password, const char *hash)
{
	struct crypt_data	*cd;
	const char		*out;
	int			 r;

	/* "", "*", "!...": no password, or a locked account */
	if (hash[0] == '\0' || hash[0] == '*' || hash[0] == '!')
		return 0;
	if ((cd = calloc(1, sizeof *cd)) == NULL)
		return -1;
	out = crypt_r(password, hash, cd);
	if (out == NULL || out[0] == '*')
		r = out == NULL ? -1 : 0;	/* "*0": a setting it refused */
	else
		r = password_equal(out, hash);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return r;
}

int
password_hash(const char *password, char *buf, size_t bufsz)
{
	static const char	 set[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	struct crypt_data	*cd;
	char			 salt[3 + PASSWORD_SALT_LEN + 2];
	const char		*out;
	size_t			 i;
	int			 r = -1;

	memcpy(salt, "$6$", 3);
	for (i = 0; i < PASSWORD_SALT_LEN; i++)
		salt[3 + i] = set[arc4random_uniform(sizeof set - 1)];
	salt[3 + i] = '$';
	salt[4 + i] = '\0';
	if ((cd = calloc(1, sizeof *cd)) == NULL)
		return -1;
	out = crypt_r(password, salt, cd);
	if (out != NULL && strncmp(out, "$6$", 3) == 0 &&
	    strlcpy(buf, out, bufsz) < bufsz)
		r = 0;
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return r;
}
