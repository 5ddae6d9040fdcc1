obj-fuzz/fuzz/smtpd/table/table.o: smtpd/table/table.c smtpd/common/log.h \
  smtpd/table/table.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/table/table_backends.h api/table_backend.h \
  api/table_service.h api/table_api.h api/api_dict.h \
  smtpd/common/xmalloc.h

smtpd/common/log.h:

smtpd/table/table.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:

api/table_api.h:

api/api_dict.h:

smtpd/common/xmalloc.h:
