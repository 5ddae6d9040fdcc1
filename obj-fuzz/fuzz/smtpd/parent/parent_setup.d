obj-fuzz/fuzz/smtpd/parent/parent_setup.o: smtpd/parent/parent_setup.c \
  smtpd/common/log.h smtpd/parent/parent.h smtpd/common/imsg.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/common/imsg.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
