obj-fuzz/fuzz/smtpd/dispatcher/smtp_tls.o: smtpd/dispatcher/smtp_tls.c \
  smtpd/common/log.h smtpd/dispatcher/smtp_int.h smtpd/dispatcher/smtp.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp_data.h \
  smtpd/dispatcher/smtp_parse.h smtpd/dispatcher/tls_io.h

smtpd/common/log.h:

smtpd/dispatcher/smtp_int.h:

smtpd/dispatcher/smtp.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp_data.h:

smtpd/dispatcher/smtp_parse.h:

smtpd/dispatcher/tls_io.h:
