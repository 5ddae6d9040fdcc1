obj-fuzz/fuzz/smtpd/queue/queue_reload.o: smtpd/queue/queue_reload.c \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/common/imsg_codec.h smtpd/common/mproc.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/queue/queue.h \
  smtpd/queue/queue_backend.h api/queue_api.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/queue/queue.h:

smtpd/queue/queue_backend.h:

api/queue_api.h:
