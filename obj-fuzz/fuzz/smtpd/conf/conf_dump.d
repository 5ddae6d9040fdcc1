obj-fuzz/fuzz/smtpd/conf/conf_dump.o: smtpd/conf/conf_dump.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h smtpd/common/imsg.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:

smtpd/common/imsg.h:
