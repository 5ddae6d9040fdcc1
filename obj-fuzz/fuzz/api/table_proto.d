obj-fuzz/fuzz/api/table_proto.o: api/table_proto.c api/api_limits.h \
  api/table_proto.h api/table_api.h api/api_dict.h api/table_backend.h \
  api/table_service.h api/wire.h

api/api_limits.h:

api/table_proto.h:

api/table_api.h:

api/api_dict.h:

api/table_backend.h:

api/table_service.h:

api/wire.h:
