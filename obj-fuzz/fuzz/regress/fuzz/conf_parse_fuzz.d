obj-fuzz/fuzz/regress/fuzz/conf_parse_fuzz.o: \
  regress/fuzz/conf_parse_fuzz.c smtpd/conf/conf.h smtpd/common/imsg.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/conf/conf.h:

smtpd/common/imsg.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
