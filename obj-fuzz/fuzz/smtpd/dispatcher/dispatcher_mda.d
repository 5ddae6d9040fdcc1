obj-fuzz/fuzz/smtpd/dispatcher/dispatcher_mda.o: \
  smtpd/dispatcher/dispatcher_mda.c api/api_tree.h smtpd/conf/conf.h \
  smtpd/dispatcher/dispatcher.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/dispatcher/smtp.h \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h smtpd/common/imsg.h \
  smtpd/common/log.h smtpd/common/smtpd.h smtpd/common/smtpd_limits.h \
  smtpd/common/xmalloc.h

api/api_tree.h:

smtpd/conf/conf.h:

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

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
