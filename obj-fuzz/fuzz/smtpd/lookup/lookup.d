obj-fuzz/fuzz/smtpd/lookup/lookup.o: smtpd/lookup/lookup.c api/api_tree.h \
  smtpd/conf/conf.h smtpd/common/imsg_codec.h smtpd/common/mproc.h \
  api/imsgbuf.h smtpd/common/imsg.h smtpd/common/log.h \
  smtpd/lookup/lookup_dns.h smtpd/lookup/lookup_expand.h \
  smtpd/common/envelope.h smtpd/common/mailaddr.h api/api_limits.h \
  smtpd/table/table.h smtpd/table/table_backends.h api/table_backend.h \
  api/table_service.h smtpd/common/proc.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h smtpd/common/xmalloc.h

api/api_tree.h:

smtpd/conf/conf.h:

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/lookup/lookup_dns.h:

smtpd/lookup/lookup_expand.h:

smtpd/common/envelope.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/table/table.h:

smtpd/table/table_backends.h:

api/table_backend.h:

api/table_service.h:

smtpd/common/proc.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
