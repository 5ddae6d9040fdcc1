obj-fuzz/fuzz/smtpd/parent/parent_mda_fork.o: \
  smtpd/parent/parent_mda_fork.c api/api_tree.h smtpd/conf/conf.h \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/common/imsg_codec.h smtpd/common/mproc.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/parent/parent.h \
  smtpd/parent/parent_mda.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h smtpd/common/xmalloc.h

api/api_tree.h:

smtpd/conf/conf.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/parent/parent_mda.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
