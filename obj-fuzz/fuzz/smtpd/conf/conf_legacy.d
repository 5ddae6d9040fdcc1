obj-fuzz/fuzz/smtpd/conf/conf_legacy.o: smtpd/conf/conf_legacy.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
