obj-fuzz/fuzz/api/table_format.o: api/table_format.c api/api_conf.h \
  api/api_dict.h api/api_limits.h api/api_log.h api/table_api.h \
  api/table_backend.h api/table_service.h api/table_format.h \
  api/table_rotation.h

api/api_conf.h:

api/api_dict.h:

api/api_limits.h:

api/api_log.h:

api/table_api.h:

api/table_backend.h:

api/table_service.h:

api/table_format.h:

api/table_rotation.h:
