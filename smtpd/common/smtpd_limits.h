/*
 * limits.h -- every fixed limit of the daemon, in one place.
 *
 * Sizes that come from outside (network, config, helpers, control
 * clients) are bounded by a name here; see STYLE.md section 8.
 */
#ifndef SMTPD_LIMITS_H
#define SMTPD_LIMITS_H

#define SMTP_LINE_MAX		1000	/* RFC 5321 4.5.3.1.6, with CRLF */
#define SMTP_CMD_MAX		512	/* RFC 5321 4.5.3.1.4 */
#define SMTP_PATH_MAX		256	/* RFC 5321 4.5.3.1.3 */
#define SMTPD_NAME_MAX		255	/* a host name */
#define SMTPD_MAXPATHLEN	4096

#define CONTROL_CLIENTS_MAX	128	/* concurrent smtpctl connections */
#define CONTROL_CLIENTS_ROOT	8	/* of those, kept for root (and the owner) */
#define CONTROL_CLIENTS_PER_UID	16	/* held by one unprivileged uid */
#define CONTROL_OUTPUT_MAX	(128 * 1024)	/* reply bytes queued to one client */
#define CONTROL_IDLE_TIMEOUT	10	/* seconds a client may wait idle */
#define CHILD_SHUTDOWN_WAIT	5	/* seconds before SIGKILL at exit */
#define CHILD_START_WAIT	30	/* seconds for every child to be ready */
#define CONF_TRANSFER_MAX	(64 * 1024 * 1024)	/* serialized config */
#define MACRO_DEFINE_MAX	64	/* -D macro=value on the command line */

#endif
