obj-fuzz/fuzz/smtpd/conf/conf.o: smtpd/conf/conf.c smtpd/conf/conf_int.h \
  smtpd/conf/conf.h smtpd/common/log.h smtpd/common/xmalloc.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:

smtpd/common/log.h:

smtpd/common/xmalloc.h:
