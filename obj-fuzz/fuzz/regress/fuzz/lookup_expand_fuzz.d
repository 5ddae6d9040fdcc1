obj-fuzz/fuzz/regress/fuzz/lookup_expand_fuzz.o: \
  regress/fuzz/lookup_expand_fuzz.c smtpd/conf/conf.h smtpd/common/log.h \
  smtpd/lookup/lookup_expand.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/common/mproc.h \
  smtpd/common/imsg.h smtpd/table/table.h smtpd/table/table_backends.h \
  api/table_backend.h api/table_service.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h

smtpd/conf/conf.h:

smtpd/common/log.h:

smtpd/lookup/lookup_expand.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/mproc.h:

smtpd/common/imsg.h:

smtpd/table/table.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
