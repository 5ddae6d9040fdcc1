obj-fuzz/fuzz/regress/fuzz/dispatcher_bounce_fuzz.o: \
  regress/fuzz/dispatcher_bounce_fuzz.c smtpd/dispatcher/dispatcher.h \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/dispatcher/smtp.h

smtpd/dispatcher/dispatcher.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp.h:
