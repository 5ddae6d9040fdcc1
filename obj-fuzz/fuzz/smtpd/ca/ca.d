obj-fuzz/fuzz/smtpd/ca/ca.o: smtpd/ca/ca.c smtpd/common/ca_sign.h \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/common/proc.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h \
  smtpd/common/xmalloc.h

smtpd/common/ca_sign.h:

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/common/proc.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
