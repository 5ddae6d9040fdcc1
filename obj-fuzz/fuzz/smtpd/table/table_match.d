obj-fuzz/fuzz/smtpd/table/table_match.o: smtpd/table/table_match.c \
  smtpd/table/table_backends.h api/imsgbuf.h api/table_backend.h \
  api/table_service.h

smtpd/table/table_backends.h:

api/imsgbuf.h:

api/table_backend.h:

api/table_service.h:
