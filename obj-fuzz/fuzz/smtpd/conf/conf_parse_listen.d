obj-fuzz/fuzz/smtpd/conf/conf_parse_listen.o: \
  smtpd/conf/conf_parse_listen.c smtpd/conf/conf_int.h smtpd/conf/conf.h \
  smtpd/common/smtpd.h smtpd/common/imsg.h smtpd/common/smtpd_limits.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:
