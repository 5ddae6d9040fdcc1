obj-fuzz/fuzz/smtpd/scheduler/scheduler_proc.o: \
  smtpd/scheduler/scheduler_proc.c api/api_host.h api/imsgbuf.h \
  smtpd/common/log.h smtpd/scheduler/scheduler_proc.h \
  api/scheduler_api.h api/scheduler_proto.h api/wire.h

api/api_host.h:

api/imsgbuf.h:

smtpd/common/log.h:

smtpd/scheduler/scheduler_proc.h:

api/scheduler_api.h:

api/scheduler_proto.h:

api/wire.h:
