obj-fuzz/fuzz/smtpd/queue/queue_backend.o: smtpd/queue/queue_backend.c \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/common/log.h smtpd/queue/queue_backend.h \
  api/queue_api.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/log.h:

smtpd/queue/queue_backend.h:

api/queue_api.h:
