/*
 * makemap.c -- makemap(8): builds Berkeley DB tables for smtpd from text
 * files (COMPAT-06).  Runs as the invoking user; never touches the
 * daemon.  Not written yet: it refuses to run.
 */
#include <stdio.h>

#include "ctl.h"

int
makemap_main(int argc, char **argv)
{
	fprintf(stderr, "makemap: not implemented yet\n");
	return 1;
}
