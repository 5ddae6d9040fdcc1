/*
 * log.c -- logging to stderr (foreground) or syslog (mail facility).
 *
 * Used by every process and by smtpctl.  Its state (destination, level,
 * process name, trace mask) is private to this module.  It never
 * allocates: each line is formatted into a bounded stack buffer, cut if
 * longer, and control characters are escaped so a peer's bytes cannot
 * forge a log line.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "api_log.h"
#include "log.h"

#define LOG_LINE_MAX	4096

static int		 log_foreground = 1;
static int		 log_verbose;
static unsigned int	 log_tracemask;
static char		 log_procname[32] = "smtpd";
static pid_t		 log_pid;	/* 0: ask; forgotten in a fork's child */
static int		 log_atfork;	/* the hook that forgets it is set */

/* log_pid_forget - in the child of a fork: its own pid, asked anew */
static void
log_pid_forget(void)
{
	log_pid = 0;
}

void
log_init(int foreground, int verbose)
{
	/* api/ code linked into any of our programs logs here too */
	api_log_set_sink(log_api_line);
	log_foreground = foreground;
	log_verbose = verbose;
	if (!log_atfork && pthread_atfork(NULL, NULL, log_pid_forget) == 0)
		log_atfork = 1;
	log_pid = 0;
	if (!foreground)
		openlog("smtpd", LOG_PID | LOG_NDELAY, LOG_MAIL);
	tzset();
}

void
log_setproc(const char *name)
{
	snprintf(log_procname, sizeof log_procname, "%s", name);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_settrace(unsigned int mask)
{
	log_tracemask = mask;
}

unsigned int
log_gettrace(void)
{
	return log_tracemask;
}

unsigned int
log_trace_parse(const char *name)
{
	static const struct {
		const char	*name;
		unsigned int	 mask;
	} names[] = {
#define X(n, s) { s, 1u << n##_BIT },
		TRACE_LIST(X)
#undef X
		{ "all", TRACE_ALL },
	};
	size_t	i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].mask;
	return 0;
}

/* log_escape - replace control bytes in place so a line stays one line */
static void
log_escape(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* log_emit - write one formatted line at the given syslog priority */
static void
log_emit(int pri, const char *prefix, const char *fmt, va_list ap,
    const char *suffix)
{
	char	line[LOG_LINE_MAX];
	int	saved = errno;

	vsnprintf(line, sizeof line, fmt, ap);
	log_escape(line);
	if (log_foreground) {
		/* one getpid per process, not per line (fork resets it;
		 * without the atfork hook, every line asks) */
		if (log_pid == 0 || !log_atfork)
			log_pid = getpid();
		fprintf(stderr, "%s[%d]: %s%s%s%s\n", log_procname,
		    (int)log_pid, prefix, line, suffix ? ": " : "",
		    suffix ? suffix : "");
		fflush(stderr);
	} else {
		syslog(pri, "%s: %s%s%s%s", log_procname, prefix, line,
		    suffix ? ": " : "", suffix ? suffix : "");
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list		 ap;
	const char	*err = strerror(errno);

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warn: ", fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warn: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_trace(unsigned int mask, const char *fmt, ...)
{
	va_list	ap;

	if ((log_tracemask & mask) == 0)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "trace: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_event(uint64_t id, const char *subsystem, const char *event,
    const char *fmt, ...)
{
	char	buf[LOG_LINE_MAX];
	va_list	ap;
	int	n;

	n = snprintf(buf, sizeof buf, "%016" PRIx64 " %s %s%s", id,
	    subsystem, event, *fmt ? " " : "");
	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	log_info("%s", buf);
}

const char *
log_quote(char *buf, size_t size, const char *value)
{
	size_t	i, o;

	if (value[strcspn(value, " \t\"=")] == '\0' && *value != '\0')
		return value;
	o = 0;
	if (size < 3)
		return "\"\"";
	buf[o++] = '"';
	for (i = 0; value[i] && o + 3 < size; i++) {
		if (value[i] == '"' || value[i] == '\\')
			buf[o++] = '\\';
		buf[o++] = value[i];
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void
fatal(const char *fmt, ...)
{
	va_list		 ap;
	const char	*err = strerror(errno);

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
log_api_line(int level, const char *msg)
{
	switch (level) {
	case API_LOG_WARN:
		log_warnx("%s", msg);
		break;
	case API_LOG_INFO:
		log_info("%s", msg);
		break;
	default:
		log_debug("%s", msg);
		break;
	}
}
