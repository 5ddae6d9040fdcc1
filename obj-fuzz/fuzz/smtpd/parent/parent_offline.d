obj-fuzz/fuzz/smtpd/parent/parent_offline.o: \
  smtpd/parent/parent_offline.c smtpd/common/log.h smtpd/parent/parent.h \
  smtpd/common/imsg.h smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/common/imsg.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
