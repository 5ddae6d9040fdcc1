obj-fuzz/fuzz/smtpd/conf/conf_parse_table.o: \
  smtpd/conf/conf_parse_table.c smtpd/conf/conf_int.h smtpd/conf/conf.h \
  smtpd/table/table.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/table/table_backends.h api/table_backend.h \
  api/table_service.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:

smtpd/table/table.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:
