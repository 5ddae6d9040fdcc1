obj-fuzz/fuzz/smtpd/ca/ca.o: smtpd/ca/ca.c smtpd/common/mproc.h \
  api/imsgbuf.h smtpd/common/imsg.h smtpd/common/proc.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/proc.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
