/*
 * api_log.c -- stderr logging for helper programs (see api_log.h).
 *
 * Runs in helpers only (the daemon has smtpd/common/log.c).  Each call
 * formats into a bounded buffer and writes the line with one write(2),
 * so that lines from a helper and from the daemon sharing the same
 * stderr do not interleave mid-line.  Over-long messages are cut and
 * marked with "...".  It never logs on its own initiative and never
 * exits except in api_fatal/api_fatalx.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_log.h"

#define API_LOG_LINE_MAX	2048

static struct {
	char	name[64];
	int	verbose;
	void	(*sink)(int, const char *);
} api_log = { "helper", 0, NULL };

void
api_log_set_sink(void (*fn)(int, const char *))
{
	api_log.sink = fn;
}

void
api_log_init(int debug)
{
	(void)debug;
}

void
api_log_setname(const char *name)
{
	const char	*slash;

	/* a path is shortened to its last component */
	if ((slash = strrchr(name, '/')) != NULL && slash[1] != '\0')
		name = slash + 1;
	strlcpy(api_log.name, name, sizeof api_log.name);
}

void
api_log_verbose(int v)
{
	api_log.verbose = v;
}

/* api_log_vline - write "<name>[pid]: <msg>[: <strerror>]\n" in one go,
 * or hand "<msg>[: <strerror>]" to the sink */
static void
api_log_vline(int level, int errnum, const char *fmt, va_list ap)
{
	char	line[API_LOG_LINE_MAX];
	size_t	len;
	int	n;

	if (api_log.sink != NULL)
		n = 0;
	else
		n = snprintf(line, sizeof line, "%s[%ld]: ", api_log.name,
		    (long)getpid());
	if (n < 0)
		return;
	len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	n = vsnprintf(line + len, sizeof line - len, fmt, ap);
	if (n > 0)
		len = len + (size_t)n < sizeof line ? len + (size_t)n :
		    sizeof line - 1;
	if (errnum) {
		n = snprintf(line + len, sizeof line - len, ": %s",
		    strerror(errnum));
		if (n > 0)
			len = len + (size_t)n < sizeof line ? len + (size_t)n :
			    sizeof line - 1;
	}
	if (len >= sizeof line - 1) {		/* cut: say so */
		len = sizeof line - 2;
		memcpy(line + len - 3, "...", 3);
	}
	if (api_log.sink != NULL) {
		line[len] = '\0';
		api_log.sink(level, line);
		return;
	}
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}

void
api_log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	api_log_vline(API_LOG_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
api_log_warnx(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	api_log_vline(API_LOG_WARN, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
api_log_info(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	api_log_vline(API_LOG_INFO, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
api_log_debug(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (!api_log.verbose)
		return;
	va_start(ap, fmt);
	api_log_vline(API_LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* api_log_trace - a debug line when the verbosity has a bit of MASK (the
 * extras glue's log_trace: verbosity is a mask of TRACE_* there) */
void
api_log_trace(int mask, const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (!(api_log.verbose & mask))
		return;
	va_start(ap, fmt);
	api_log_vline(API_LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
api_fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	api_log_vline(API_LOG_WARN, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
api_fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	api_log_vline(API_LOG_WARN, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
