obj-fuzz/fuzz/smtpd/dispatcher/dispatcher_req.o: \
  smtpd/dispatcher/dispatcher_req.c api/api_tree.h \
  smtpd/dispatcher/dispatcher.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp.h \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h smtpd/common/imsg.h \
  smtpd/common/log.h api/queue_api.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h smtpd/common/xmalloc.h

api/api_tree.h:

smtpd/dispatcher/dispatcher.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp.h:

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

api/queue_api.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
