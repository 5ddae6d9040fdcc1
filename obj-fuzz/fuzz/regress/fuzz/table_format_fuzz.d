obj-fuzz/fuzz/regress/fuzz/table_format_fuzz.o: \
  regress/fuzz/table_format_fuzz.c api/smtpd-api.h api/api_conf.h \
  api/api_dict.h api/api_limits.h api/api_log.h api/api_tree.h \
  api/api_util.h api/imsgbuf.h api/queue_api.h api/scheduler_api.h \
  api/table_api.h api/table_backend.h api/table_service.h api/wire.h \
  api/table_format.h api/table_rotation.h

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

api/table_format.h:

api/table_rotation.h:
