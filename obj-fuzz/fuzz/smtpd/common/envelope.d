obj-fuzz/fuzz/smtpd/common/envelope.o: smtpd/common/envelope.c \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:
