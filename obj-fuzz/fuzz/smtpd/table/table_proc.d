obj-fuzz/fuzz/smtpd/table/table_proc.o: smtpd/table/table_proc.c \
  api/api_host.h api/imsgbuf.h smtpd/common/log.h smtpd/table/table.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/table/table_backends.h \
  api/table_backend.h api/table_service.h api/table_api.h api/api_dict.h \
  api/table_proto.h api/wire.h smtpd/common/xmalloc.h

api/api_host.h:

api/imsgbuf.h:

smtpd/common/log.h:

smtpd/table/table.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:

api/table_api.h:

api/api_dict.h:

api/table_proto.h:

api/wire.h:

smtpd/common/xmalloc.h:
