obj-fuzz/fuzz/smtpd/dispatcher/smtp_data.o: smtpd/dispatcher/smtp_data.c \
  smtpd/common/hdraddr.h smtpd/dispatcher/smtp_data.h

smtpd/common/hdraddr.h:

smtpd/dispatcher/smtp_data.h:
