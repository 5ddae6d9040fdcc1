obj-fuzz/fuzz/smtpd/conf/conf_equal.o: smtpd/conf/conf_equal.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
