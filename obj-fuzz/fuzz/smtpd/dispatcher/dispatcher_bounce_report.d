obj-fuzz/fuzz/smtpd/dispatcher/dispatcher_bounce_report.o: \
  smtpd/dispatcher/dispatcher_bounce_report.c \
  smtpd/dispatcher/dispatcher.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp.h

smtpd/dispatcher/dispatcher.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp.h:
