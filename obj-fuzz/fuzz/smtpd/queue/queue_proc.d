obj-fuzz/fuzz/smtpd/queue/queue_proc.o: smtpd/queue/queue_proc.c \
  api/api_host.h api/imsgbuf.h smtpd/common/log.h \
  smtpd/queue/queue_proc.h api/queue_api.h api/queue_proto.h api/wire.h

api/api_host.h:

api/imsgbuf.h:

smtpd/common/log.h:

smtpd/queue/queue_proc.h:

api/queue_api.h:

api/queue_proto.h:

api/wire.h:
