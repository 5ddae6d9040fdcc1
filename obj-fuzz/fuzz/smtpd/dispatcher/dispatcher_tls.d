obj-fuzz/fuzz/smtpd/dispatcher/dispatcher_tls.o: \
  smtpd/dispatcher/dispatcher_tls.c smtpd/conf/conf.h \
  smtpd/dispatcher/dispatcher.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp.h \
  smtpd/common/log.h smtpd/common/smtpd.h smtpd/common/imsg.h \
  smtpd/common/smtpd_limits.h smtpd/common/xmalloc.h

smtpd/conf/conf.h:

smtpd/dispatcher/dispatcher.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp.h:

smtpd/common/log.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
