obj-fuzz/fuzz/regress/fuzz/smtp_auth_fuzz.o: \
  regress/fuzz/smtp_auth_fuzz.c smtpd/dispatcher/smtp_auth.h

smtpd/dispatcher/smtp_auth.h:
