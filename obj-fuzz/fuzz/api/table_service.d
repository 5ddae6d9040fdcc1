obj-fuzz/fuzz/api/table_service.o: api/table_service.c \
  api/table_service.h

api/table_service.h:
