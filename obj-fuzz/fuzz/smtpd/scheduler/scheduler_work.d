obj-fuzz/fuzz/smtpd/scheduler/scheduler_work.o: \
  smtpd/scheduler/scheduler_work.c smtpd/common/imsg_codec.h \
  smtpd/common/mproc.h api/imsgbuf.h smtpd/common/imsg.h \
  smtpd/common/log.h smtpd/scheduler/scheduler.h \
  smtpd/scheduler/scheduler_proc.h api/scheduler_api.h \
  api/scheduler_proto.h api/wire.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h smtpd/common/stats.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/scheduler/scheduler.h:

smtpd/scheduler/scheduler_proc.h:

api/scheduler_api.h:

api/scheduler_proto.h:

api/wire.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/stats.h:
