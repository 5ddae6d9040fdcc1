obj-fuzz/fuzz/regress/fuzz/smtp_data_fuzz.o: \
  regress/fuzz/smtp_data_fuzz.c smtpd/dispatcher/smtp_data.h \
  smtpd/common/mailaddr.h api/api_limits.h

smtpd/dispatcher/smtp_data.h:

smtpd/common/mailaddr.h:

api/api_limits.h:
