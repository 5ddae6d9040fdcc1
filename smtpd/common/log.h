/*
 * log.h -- logging for every smtpd process and tool.
 *
 * One line per event.  Milestones (log_info) are written as
 *   <16-hex session id> <subsystem> <event> key=value ...
 * through log_event(); daemon-wide events use session id 0.
 * Foreground mode (-d) writes to stderr, otherwise to syslog (mail).
 */
#ifndef SMTPD_LOG_H
#define SMTPD_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

#define TRACE_LIST(X)			\
	X(TRACE_IMSG,      "imsg")	\
	X(TRACE_IO,        "io")	\
	X(TRACE_SMTP,      "smtp")	\
	X(TRACE_FILTERS,   "filters")	\
	X(TRACE_TRANSFER,  "transfer")	\
	X(TRACE_BOUNCE,    "bounce")	\
	X(TRACE_SCHEDULER, "scheduler")	\
	X(TRACE_EXPAND,    "expand")	\
	X(TRACE_LOOKUP,    "lookup")	\
	X(TRACE_STAT,      "stat")	\
	X(TRACE_RULES,     "rules")	\
	X(TRACE_MPROC,     "mproc")	\
	X(TRACE_TABLES,    "tables")

enum trace_bit {
#define X(name, str) name##_BIT,
	TRACE_LIST(X)
#undef X
	TRACE__COUNT
};
#define X(name, str) static const unsigned int name = 1u << name##_BIT;
TRACE_LIST(X)
#undef X
#define TRACE_ALL	((1u << TRACE__COUNT) - 1)

void	log_init(int foreground, int verbose);
void	log_setproc(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_settrace(unsigned int);
unsigned int log_gettrace(void);
/* log_trace_parse - "imsg" or "all" to its mask; 0 for an unknown name */
unsigned int log_trace_parse(const char *);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_trace(unsigned int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* log_event - "<id> <subsystem> <event> <fmt...>" at info level */
void	log_event(uint64_t id, const char *subsystem, const char *event,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* log_quote - value for key=value: as is, or quoted when it has spaces */
const char *log_quote(char *buf, size_t size, const char *value);
/* log_api_line - a line of a backend of api/, for api_log_set_sink() */
void	log_api_line(int level, const char *msg);

_Noreturn void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
