obj-fuzz/fuzz/smtpd/parent/parent_conf.o: smtpd/parent/parent_conf.c \
  smtpd/conf/conf.h smtpd/common/log.h smtpd/parent/parent.h \
  smtpd/common/imsg.h smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/conf/conf.h:

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/common/imsg.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
