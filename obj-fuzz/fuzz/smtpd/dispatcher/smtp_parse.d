obj-fuzz/fuzz/smtpd/dispatcher/smtp_parse.o: \
  smtpd/dispatcher/smtp_parse.c smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp_parse.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp_parse.h:
