obj-fuzz/fuzz/api/table_api.o: api/table_api.c api/smtpd-api.h \
  api/api_conf.h api/api_dict.h api/api_limits.h api/api_log.h \
  api/api_tree.h api/api_util.h api/imsgbuf.h api/queue_api.h \
  api/scheduler_api.h api/table_api.h api/table_backend.h \
  api/table_service.h api/wire.h api/api_proc.h api/table_proto.h

api/smtpd-api.h:

api/api_conf.h:

api/api_dict.h:

api/api_limits.h:

api/api_log.h:

api/api_tree.h:

api/api_util.h:

api/imsgbuf.h:

api/queue_api.h:

api/scheduler_api.h:

api/table_api.h:

api/table_backend.h:

api/table_service.h:

api/wire.h:

api/api_proc.h:

api/table_proto.h:
