/*
 * ctl_encrypt.c -- smtpctl encrypt [string] (CTL-24): a SHA-512 crypt(3)
 * hash with a random salt ("$6$..."), the form a credentials table
 * (`auth <table>`, "user  hash") and the system's accounts use.  With a
 * STRING, its hash; without, one hash per line read on standard input
 * (the line's end removed).
 *
 * Runs in smtpctl, for any user; it talks to no daemon.  What it must
 * never do: echo the string, or keep it after its hash is printed.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "password.h"

#define CTL_ENCRYPT_LINE_MAX	1024	/* a password read on stdin */

/* ctl_encrypt_one - print the hash of S: 0, or -1 */
static int
ctl_encrypt_one(const char *s)
{
	char	hash[PASSWORD_HASH_MAX];

	if (password_hash(s, hash, sizeof hash) == -1) {
		fprintf(stderr, "smtpctl: encrypt: crypt failed\n");
		return -1;
	}
	printf("%s\n", hash);
	return 0;
}

/* ctl_encrypt - ARGV: the string, or nothing (stdin); the exit status */
int
ctl_encrypt(int argc, char **argv)
{
	char	line[CTL_ENCRYPT_LINE_MAX + 2];
	size_t	len;
	int	r = 0;

	if (argc > 1) {
		fprintf(stderr, "usage: smtpctl encrypt [string]\n");
		return 1;
	}
	if (argc == 1)
		return ctl_encrypt_one(argv[0]) == 0 ? 0 : 1;
	while (r == 0 && fgets(line, sizeof line, stdin) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			fprintf(stderr, "smtpctl: encrypt: line longer than "
			    "%d bytes\n", CTL_ENCRYPT_LINE_MAX);
			r = -1;
			break;
		}
		r = ctl_encrypt_one(line);
	}
	explicit_bzero(line, sizeof line);
	if (ferror(stdin)) {
		fprintf(stderr, "smtpctl: encrypt: cannot read stdin\n");
		r = -1;
	}
	return r == 0 ? 0 : 1;
}
