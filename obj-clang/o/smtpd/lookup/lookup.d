obj-clang/o/smtpd/lookup/lookup.o: smtpd/lookup/lookup.c \
  smtpd/common/mproc.h api/imsgbuf.h smtpd/common/imsg.h \
  smtpd/common/proc.h smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/proc.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
