/*
 * smtpd-defines.h (api/compat) -- the constants header of OpenSMTPD's
 * extras glue, for drivers that include it by that name (extras'
 * table_postgres.c includes it before smtpd-api.h).  It gives the same
 * names: nitems, the process types, the TRACE_* and PROFILE_* bits
 * (log_trace's masks), the SMTPD_MAX* sizes, the default accounts and
 * paths, TAG_CHAR.  Sizes that smtpd-api.h already gives keep our
 * values (api_limits.h); the rest are the values that glue documents.
 *
 * Used by outside drivers only, through -Iapi/compat; the daemon has
 * its own definitions and never includes this.
 */
#ifndef API_COMPAT_SMTPD_DEFINES_H
#define API_COMPAT_SMTPD_DEFINES_H

#include "smtpd-api.h"

#ifndef nitems
#define nitems(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* the process a message comes from, in the glue's numbering */
enum smtp_proc_type {
	PROC_PARENT = 0,
	PROC_LKA,
	PROC_QUEUE,
	PROC_CONTROL,
	PROC_SCHEDULER,
	PROC_PONY,
	PROC_CA,
	PROC_FILTER,
	PROC_CLIENT
};

/* verbosity bits: log_trace(TRACE_TABLES, ...) logs when set */
#define TRACE_DEBUG		0x0001
#define TRACE_IMSG		0x0002
#define TRACE_IO		0x0004
#define TRACE_SMTP		0x0008
#define TRACE_FILTERS		0x0010
#define TRACE_MTA		0x0020
#define TRACE_BOUNCE		0x0040
#define TRACE_SCHEDULER		0x0080
#define TRACE_LOOKUP		0x0100
#define TRACE_STAT		0x0200
#define TRACE_RULES		0x0400
#define TRACE_MPROC		0x0800
#define TRACE_EXPAND		0x1000
#define TRACE_TABLES		0x2000
#define TRACE_QUEUE		0x4000

#define PROFILE_TOSTAT		0x0001
#define PROFILE_IMSG		0x0002
#define PROFILE_QUEUE		0x0004
#define PROFILE_BUFFERS		0x0008

#define SMTPD_MAXLOGNAME	32
#define SMTPD_MAXPATHLEN	1024
#define SMTPD_MAXHOSTNAMELEN	256

#ifndef SMTPD_USER
#define SMTPD_USER		"_smtpd"
#endif
#ifndef SMTPD_QUEUE_USER
#define SMTPD_QUEUE_USER	"_smtpq"
#endif
#ifndef PATH_CHROOT
#define PATH_CHROOT		"/var/empty"
#endif
#ifndef PATH_SPOOL
#define PATH_SPOOL		"/var/spool/smtpd"
#endif

#define TAG_CHAR		'+'	/* user+tag@domain */

#endif
