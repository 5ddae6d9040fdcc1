obj-fuzz/fuzz/smtpd/conf/conf_option.o: smtpd/conf/conf_option.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
