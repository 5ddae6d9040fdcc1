obj-fuzz/fuzz/smtpd/common/servername.o: smtpd/common/servername.c \
  smtpd/common/smtpd.h smtpd/common/imsg.h smtpd/common/smtpd_limits.h

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:
