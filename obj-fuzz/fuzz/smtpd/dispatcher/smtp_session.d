obj-fuzz/fuzz/smtpd/dispatcher/smtp_session.o: \
  smtpd/dispatcher/smtp_session.c smtpd/common/log.h \
  smtpd/dispatcher/smtp_int.h smtpd/dispatcher/smtp.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp_data.h \
  smtpd/dispatcher/smtp_parse.h

smtpd/common/log.h:

smtpd/dispatcher/smtp_int.h:

smtpd/dispatcher/smtp.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp_data.h:

smtpd/dispatcher/smtp_parse.h:
