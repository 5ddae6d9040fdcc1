obj-fuzz/fuzz/smtpd/parent/parent_pki.o: smtpd/parent/parent_pki.c \
  smtpd/common/ca_sign.h smtpd/conf/conf.h smtpd/common/imsg_codec.h \
  smtpd/common/mproc.h api/imsgbuf.h smtpd/common/imsg.h \
  smtpd/common/log.h smtpd/parent/parent.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h

smtpd/common/ca_sign.h:

smtpd/conf/conf.h:

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
