obj-fuzz/fuzz/smtpd/conf/conf_parse_action.o: \
  smtpd/conf/conf_parse_action.c smtpd/conf/conf_int.h smtpd/conf/conf.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:
