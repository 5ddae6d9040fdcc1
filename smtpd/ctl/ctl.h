/*
 * ctl.h -- the programs the smtpctl binary serves besides smtpctl itself,
 * chosen by the name it is run as (COMPAT-08).
 */
#ifndef SMTPD_CTL_H
#define SMTPD_CTL_H

/* makemap.c: build a db table from a text file (COMPAT-06) */
int	makemap_main(int, char **);

#endif
