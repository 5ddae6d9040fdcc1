obj-fuzz/fuzz/smtpd/common/log.o: smtpd/common/log.c api/api_log.h \
  smtpd/common/log.h

api/api_log.h:

smtpd/common/log.h:
