/*
 * smtpd-api.h -- the one header a helper program includes.
 *
 * libsmtpd-api gives libexec/ helpers the imsg framing (imsgbuf.h), the
 * payload codec (wire.h), logging (api_log.h), dictionaries keyed by
 * string and by id (api_dict.h, api_tree.h), string and memory helpers
 * (api_util.h), config files and bounded line input (api_conf.h), the
 * table backend model and protocol glue (table_backend.h, table_api.h)
 * and the queue and scheduler glue.  The header is named like
 * OpenSMTPD's extras glue header and maps every name that glue gives a
 * driver (log_*, fatal*, dict_*, tree_*, x*, strip, base64_*,
 * lowercase, the evpid helpers, UID_MAX and the SMTPD_MAX* limits) onto
 * ours, so such a driver builds and links here unmodified
 * (regress/drivers/compat_driver.c uses every one).  The glue's other
 * two headers, "smtpd-defines.h" and "log.h", are in api/compat/, for
 * drivers only: a driver's build adds -Iapi/compat (log.h would shadow
 * the daemon's own if api/ held it).
 *
 * The daemon never includes this file: its log_* are its own
 * (smtpd/common/log.h).  Only here are the driver-facing names mapped,
 * with function-like macros, so nothing clashes at link time.
 */
#ifndef API_SMTPD_API_H
#define API_SMTPD_API_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "api_conf.h"
#include "api_dict.h"
#include "api_limits.h"
#include "api_log.h"
#include "api_tree.h"
#include "api_util.h"
#include "imsgbuf.h"
#include "queue_api.h"
#include "scheduler_api.h"
#include "table_api.h"
#include "table_backend.h"
#include "table_service.h"
#include "wire.h"


/* the logging names of the extras glue */
#define log_init(debug)		api_log_init(debug)
#define log_verbose(v)		api_log_verbose(v)
#define log_warn(...)		api_log_warn(__VA_ARGS__)
#define log_warnx(...)		api_log_warnx(__VA_ARGS__)
#define log_info(...)		api_log_info(__VA_ARGS__)
#define log_debug(...)		api_log_debug(__VA_ARGS__)
#define log_trace(m, ...)	api_log_trace((m), __VA_ARGS__)
#define fatal(...)		api_fatal(__VA_ARGS__)
#define fatalx(...)		api_fatalx(__VA_ARGS__)

/* the dictionary names of the extras glue: sorted, walked in key order */
#define dict_init(d)		api_dict_init(d)
#define dict_empty(d)		(api_dict_count(d) == 0)
#define dict_count(d)		api_dict_count(d)
#define dict_check(d, k)	api_dict_check((d), (k))
#define dict_set(d, k, v)	api_dict_set_compat((d), (k), (v))
#define dict_xset(d, k, v)	api_dict_xset_compat((d), (k), (v))
#define dict_get(d, k)		api_dict_get((d), (k))
#define dict_xget(d, k)		api_dict_xget_compat((d), (k))
#define dict_pop(d, k)		api_dict_pop((d), (k))
#define dict_xpop(d, k)		api_dict_xpop_compat((d), (k))
#define dict_poproot(d, v)	api_dict_poproot((d), (v))
#define dict_root(d, k, v)	api_dict_root((d), (k), (v))
#define dict_iter(d, i, k, v)	api_dict_walk((d), (i), (k), (v))
#define dict_iterfrom(d, i, f, k, v) api_dict_walkfrom((d), (i), (f), (k), (v))
#define dict_merge(d, s)	api_dict_merge_compat((d), (s))

/* the id-keyed tree names of the extras glue: walked in id order */
#define tree_init(t)		api_tree_init(t)
#define tree_empty(t)		(api_tree_count(t) == 0)
#define tree_count(t)		api_tree_count(t)
#define tree_check(t, k)	api_tree_check((t), (k))
#define tree_set(t, k, v)	api_tree_set_compat((t), (k), (v))
#define tree_xset(t, k, v)	api_tree_xset_compat((t), (k), (v))
#define tree_get(t, k)		api_tree_get((t), (k))
#define tree_xget(t, k)		api_tree_xget_compat((t), (k))
#define tree_pop(t, k)		api_tree_pop((t), (k))
#define tree_xpop(t, k)		api_tree_xpop_compat((t), (k))
#define tree_poproot(t, k, v)	api_tree_poproot((t), (k), (v))
#define tree_root(t, k, v)	api_tree_root((t), (k), (v))
#define tree_iter(t, i, k, v)	api_tree_iter((t), (i), (k), (v))
#define tree_iterfrom(t, i, f, k, v) api_tree_iterfrom((t), (i), (f), (k), (v))
#define tree_merge(t, s)	api_tree_merge_compat((t), (s))

/* memory and strings (the x-functions exit: extras semantics) */
#define xmalloc(n, w)		api_xmalloc((n), (w))
#define xcalloc(n, s, w)	api_xcalloc((n), (s), (w))
#define xstrdup(s, w)		api_xstrdup((s), (w))
#define xmemdup(p, n, w)	api_xmemdup((p), (n), (w))
#define strip(s)		api_strip(s)
#define lowercase(d, s, n)	api_lowercase((d), (s), (n))
#define base64_encode(s, n, d, m) api_base64_encode((s), (n), (d), (m))
#define base64_decode(s, d, m)	api_base64_decode((s), (d), (m))

/* limits drivers size their buffers with */
#ifndef UID_MAX
#define UID_MAX			UINT_MAX
#endif
#ifndef GID_MAX
#define GID_MAX			UINT_MAX
#endif
#define SMTPD_MAXLOCALPARTSIZE	API_LOCALPART_SIZE
#define SMTPD_MAXDOMAINPARTSIZE	API_DOMAINPART_SIZE
#define SMTPD_MAXMAILADDRSIZE	(API_LOCALPART_SIZE + API_DOMAINPART_SIZE)
#define SMTPD_MAXLINESIZE	API_LINE_MAX

/* an envelope id is its message id in the high 32 bits */
static inline uint32_t
evpid_to_msgid(uint64_t evpid)
{
	return (uint32_t)(evpid >> 32);
}

static inline uint64_t
msgid_to_evpid(uint32_t msgid)
{
	return (uint64_t)msgid << 32;
}

#endif
