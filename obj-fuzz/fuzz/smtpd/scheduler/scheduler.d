obj-fuzz/fuzz/smtpd/scheduler/scheduler.o: smtpd/scheduler/scheduler.c \
  api/api_log.h smtpd/conf/conf.h smtpd/common/log.h \
  smtpd/common/mproc.h api/imsgbuf.h smtpd/common/imsg.h \
  smtpd/common/proc.h smtpd/scheduler/scheduler.h \
  smtpd/scheduler/scheduler_proc.h api/scheduler_api.h \
  api/scheduler_proto.h api/wire.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h smtpd/common/stats.h

api/api_log.h:

smtpd/conf/conf.h:

smtpd/common/log.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/proc.h:

smtpd/scheduler/scheduler.h:

smtpd/scheduler/scheduler_proc.h:

api/scheduler_api.h:

api/scheduler_proto.h:

api/wire.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/stats.h:
