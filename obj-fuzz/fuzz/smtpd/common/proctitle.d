obj-fuzz/fuzz/smtpd/common/proctitle.o: smtpd/common/proctitle.c \
  smtpd/common/smtpd.h smtpd/common/imsg.h smtpd/common/smtpd_limits.h

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:
