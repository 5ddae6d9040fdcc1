obj-fuzz/fuzz/smtpd/conf/conf_parse.o: smtpd/conf/conf_parse.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
