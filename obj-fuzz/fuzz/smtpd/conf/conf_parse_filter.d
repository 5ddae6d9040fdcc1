obj-fuzz/fuzz/smtpd/conf/conf_parse_filter.o: \
  smtpd/conf/conf_parse_filter.c smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
