/*
 * password.h -- crypt(3) passwords: check one against its hash, make a
 * hash.  Used by the lookup process (credentials tables), the parent
 * (system accounts) and smtpctl encrypt.  It never logs or keeps a
 * password: its buffers are wiped before it returns.
 */
#ifndef SMTPD_PASSWORD_H
#define SMTPD_PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX	256	/* a crypt(3) string, with its NUL */
#define PASSWORD_SALT_LEN	16	/* SHA-512 crypt's longest salt */

/* password_check - was HASH (a crypt(3) string) made from PASSWORD: 1
 * yes, 0 no (an empty or locked hash never matches), -1 crypt failed;
 * the comparison takes the same time wherever the strings differ */
int	password_check(const char *password, const char *hash);
/* password_hash - SHA-512 crypt ("$6$", a random salt) of PASSWORD in
 * BUF (PASSWORD_HASH_MAX bytes is enough): 0, or -1 */
int	password_hash(const char *password, char *buf, size_t bufsz);

#endif
