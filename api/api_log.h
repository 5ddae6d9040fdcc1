/*
 * api_log.h -- logging for helper programs built on libsmtpd-api.
 *
 * Helpers write one line per event to stderr, which the daemon hands
 * them as its own log (libexec-protocols.md 1.2):
 *   <progname>[<pid>]: <message>
 * The names are prefixed api_ so that they never clash with the
 * daemon's log_* when both are linked into one test; smtpd-api.h maps
 * the familiar log_* and fatal* names onto these for drivers.
 * api_fatal/api_fatalx exit(1): drivers call them only at startup.
 */
#ifndef API_LOG_H
#define API_LOG_H

#include <stdarg.h>

/* api_log_init - start logging to stderr; debug is kept for compatibility */
void	api_log_init(int debug);
/* api_log_setname - the program name printed at the start of each line */
void	api_log_setname(const char *);
/* api_log_verbose - non-zero enables api_log_debug output */
void	api_log_verbose(int);

/*
 * api_log_set_sink - send each line elsewhere than stderr: fn gets the
 * level (API_LOG_WARN, _INFO, _DEBUG) and the message without the
 * "progname[pid]: " prefix.  smtpd sets one, so that a backend of api/
 * linked into a daemon process logs where the daemon does.  NULL
 * restores stderr.
 */
#define API_LOG_WARN	1
#define API_LOG_INFO	2
#define API_LOG_DEBUG	3
void	api_log_set_sink(void (*fn)(int level, const char *msg));

void	api_log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	api_log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	api_log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	api_log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* api_log_trace - api_log_debug when the verbosity (a mask) has a bit of
 * the first argument's */
void	api_log_trace(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
_Noreturn void	api_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
_Noreturn void	api_fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
