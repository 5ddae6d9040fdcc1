obj-fuzz/fuzz/smtpd/dispatcher/smtp_data.o: smtpd/dispatcher/smtp_data.c \
  smtpd/dispatcher/smtp_data.h

smtpd/dispatcher/smtp_data.h:
