obj-fuzz/fuzz/smtpd/table/table_value.o: smtpd/table/table_value.c \
  smtpd/table/table.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/table/table_backends.h api/table_backend.h \
  api/table_service.h

smtpd/table/table.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:
