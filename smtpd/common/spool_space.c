/*
 * spool_space.c -- the spool's free space rule (QUEUE-11): new mail is
 * refused before the disk is full, so what is queued can still be
 * updated and delivered.  A file system that reports no inodes (some
 * do) is judged on its blocks alone.
 */
#include "spool_space.h"

int
spool_space_low(const struct statvfs *sv)
{
	if ((unsigned long long)sv->f_bavail * 100 <
	    (unsigned long long)sv->f_blocks * SPOOL_FREE_PCT)
		return 1;
	return sv->f_files > 0 && (unsigned long long)sv->f_favail * 100 <
	    (unsigned long long)sv->f_files * SPOOL_FREE_PCT;
}
