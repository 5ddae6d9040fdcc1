/*
 * log.h (api/compat) -- the logging header of OpenSMTPD's extras glue,
 * for drivers that include it by that name (extras' table_postgres.c
 * does).  The names it declares there (log_init, log_verbose, log_warn,
 * log_warnx, log_info, log_debug, log_trace, fatal, fatalx) are mapped
 * onto api_log_* by smtpd-api.h, which this includes.
 *
 * Used by outside drivers only, through -Iapi/compat: never on the
 * include path of the daemon, whose smtpd/common/log.h has this name.
 */
#ifndef API_COMPAT_LOG_H
#define API_COMPAT_LOG_H

#include "smtpd-api.h"

#endif
