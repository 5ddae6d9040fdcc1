obj-fuzz/fuzz/smtpd/common/mailaddr.o: smtpd/common/mailaddr.c \
  smtpd/common/mailaddr.h api/api_limits.h

smtpd/common/mailaddr.h:

api/api_limits.h:
