obj-fuzz/fuzz/regress/fuzz/table_proto_fuzz.o: \
  regress/fuzz/table_proto_fuzz.c api/table_proto.h api/table_api.h \
  api/api_dict.h api/table_backend.h api/table_service.h api/wire.h

api/table_proto.h:

api/table_api.h:

api/api_dict.h:

api/table_backend.h:

api/table_service.h:

api/wire.h:
