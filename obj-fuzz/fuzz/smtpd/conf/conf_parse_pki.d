obj-fuzz/fuzz/smtpd/conf/conf_parse_pki.o: smtpd/conf/conf_parse_pki.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
