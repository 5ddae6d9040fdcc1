/*
 * xmalloc.h -- allocation that cannot fail (smtpd processes only).
 *
 * Out of memory in the daemon is an unrecoverable resource failure of our
 * own process: it is logged and the process exits.  api/ and the libexec
 * drivers never use these; they return -1 and let the caller tempfail.
 */
#ifndef SMTPD_XMALLOC_H
#define SMTPD_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
