/*
 * api_limits.h -- bounds of libsmtpd-api's helper glue.
 *
 * Every size that comes from outside a helper (a config line, a passwd
 * line, a table value) is bounded by one of these.  The daemon's own
 * limits live in smtpd/common/smtpd_limits.h; these are the helpers'.
 */
#ifndef API_LIMITS_H
#define API_LIMITS_H

#define API_LINE_MAX		4096	/* one config or data-file line, NUL included */
#define API_NAME_MAX		2048	/* table name: LINE_MAX of the OPEN struct */
#define API_TABLE_VALUE_MAX	16364	/* lookup value: a reply payload minus r */
#define API_TABLE_PARAMS_MAX	256	/* key/value pairs in one request */
#define API_LOCALPART_SIZE	256	/* user part of an address, with the NUL */
#define API_DOMAINPART_SIZE	256	/* domain part, with the NUL */

#endif
