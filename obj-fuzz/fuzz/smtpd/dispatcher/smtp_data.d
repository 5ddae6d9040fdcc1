obj-fuzz/fuzz/smtpd/dispatcher/smtp_data.o: smtpd/dispatcher/smtp_data.c \
  smtpd/common/hdraddr.h smtpd/dispatcher/smtp_data.h \
  smtpd/common/mailaddr.h api/api_limits.h

smtpd/common/hdraddr.h:

smtpd/dispatcher/smtp_data.h:

smtpd/common/mailaddr.h:

api/api_limits.h:
