/*
 * spool_space.h -- when the spool's file system is too full for new mail
 * (QUEUE-11), as the queue (at each create) and the dispatcher (before
 * it hands out a message made ahead) both judge it.
 */
#ifndef SMTPD_SPOOL_SPACE_H
#define SMTPD_SPOOL_SPACE_H

#include <sys/statvfs.h>

#define SPOOL_FREE_PCT	5	/* below: new mail refused, 452 */

/* spool_space_low - 1 when SV (the spool's file system) has less than
 * SPOOL_FREE_PCT % of its blocks or of its inodes free, else 0 */
int	spool_space_low(const struct statvfs *sv);

#endif
