obj-fuzz/fuzz/smtpd/queue/queue_bounce.o: smtpd/queue/queue_bounce.c \
  smtpd/conf/conf.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/common/imsg_codec.h \
  smtpd/common/mproc.h smtpd/common/imsg.h smtpd/common/log.h \
  smtpd/queue/queue.h smtpd/queue/queue_backend.h api/queue_api.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/conf/conf.h:

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

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
