obj-fuzz/fuzz/regress/fuzz/table_file_fuzz.o: \
  regress/fuzz/table_file_fuzz.c smtpd/common/log.h smtpd/common/smtpd.h \
  smtpd/common/imsg.h smtpd/common/smtpd_limits.h smtpd/table/table.h \
  api/imsgbuf.h smtpd/common/mailaddr.h api/api_limits.h \
  smtpd/table/table_backends.h api/table_backend.h api/table_service.h

smtpd/common/log.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:

smtpd/table/table.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:
