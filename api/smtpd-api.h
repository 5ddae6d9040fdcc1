/*
 * smtpd-api.h -- the one header a helper program includes.
 *
 * libsmtpd-api gives libexec/ helpers the imsg framing (imsgbuf.h), the
 * payload codec (wire.h), logging (api_log.h), a small dictionary
 * (api_dict.h), config files and bounded line input (api_conf.h) and
 * the table protocol glue (table_api.h).  The header is named like
 * OpenSMTPD's extras glue header and maps the names a table driver of
 * the extras uses (log_*, fatal*, dict_*, K_*) onto ours, so such a
 * driver builds here with at most trivial changes.
 *
 * The daemon never includes this file: its log_* are its own
 * (smtpd/common/log.h).  Only here are the driver-facing names mapped,
 * with function-like macros, so nothing clashes at link time.
 */
#ifndef API_SMTPD_API_H
#define API_SMTPD_API_H

#include <stddef.h>
#include <stdint.h>

#include "api_conf.h"
#include "api_dict.h"
#include "api_limits.h"
#include "api_log.h"
#include "imsgbuf.h"
#include "queue_api.h"
#include "scheduler_api.h"
#include "table_api.h"
#include "table_service.h"
#include "wire.h"


/* the logging names of the extras glue */
#define log_init(debug)		api_log_init(debug)
#define log_verbose(v)		api_log_verbose(v)
#define log_warn(...)		api_log_warn(__VA_ARGS__)
#define log_warnx(...)		api_log_warnx(__VA_ARGS__)
#define log_info(...)		api_log_info(__VA_ARGS__)
#define log_debug(...)		api_log_debug(__VA_ARGS__)
#define fatal(...)		api_fatal(__VA_ARGS__)
#define fatalx(...)		api_fatalx(__VA_ARGS__)

/* the dictionary names of the extras glue (iteration differs: api_dict_iter) */
#define dict_init(d)		api_dict_init(d)
#define dict_set(d, k, v)	api_dict_set((d), (k), (v), NULL)
#define dict_get(d, k)		api_dict_get((d), (k))
#define dict_check(d, k)	api_dict_check((d), (k))
#define dict_pop(d, k)		api_dict_pop((d), (k))
#define dict_count(d)		api_dict_count(d)

#endif
