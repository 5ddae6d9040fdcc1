obj-fuzz/fuzz/smtpd/table/table_file.o: smtpd/table/table_file.c \
  api/api_log.h smtpd/table/table_backends.h api/imsgbuf.h \
  api/table_backend.h api/table_service.h

api/api_log.h:

smtpd/table/table_backends.h:

api/imsgbuf.h:

api/table_backend.h:

api/table_service.h:
