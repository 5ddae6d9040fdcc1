obj-clang/o/smtpd/smtpd.o: smtpd/smtpd.c smtpd/common/log.h \
  smtpd/common/smtpd.h smtpd/common/imsg.h smtpd/common/smtpd_limits.h

smtpd/common/log.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:
