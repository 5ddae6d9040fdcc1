obj-fuzz/fuzz/regress/fuzz/smtp_session_fuzz.o: \
  regress/fuzz/smtp_session_fuzz.c smtpd/dispatcher/smtp.h \
  smtpd/common/mailaddr.h api/api_limits.h

smtpd/dispatcher/smtp.h:

smtpd/common/mailaddr.h:

api/api_limits.h:
