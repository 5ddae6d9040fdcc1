obj-fuzz/fuzz/api/table_rotation.o: api/table_rotation.c \
  api/table_rotation.h api/table_format.h api/api_dict.h \
  api/table_service.h

api/table_rotation.h:

api/table_format.h:

api/api_dict.h:

api/table_service.h:
