obj-fuzz/fuzz/smtpd/conf/conf_parse_match.o: \
  smtpd/conf/conf_parse_match.c smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
