obj-fuzz/fuzz/regress/fuzz/smtp_parse_fuzz.o: \
  regress/fuzz/smtp_parse_fuzz.c smtpd/dispatcher/smtp_parse.h \
  smtpd/common/mailaddr.h api/api_limits.h

smtpd/dispatcher/smtp_parse.h:

smtpd/common/mailaddr.h:

api/api_limits.h:
