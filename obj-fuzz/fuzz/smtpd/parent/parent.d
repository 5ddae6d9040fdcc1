obj-fuzz/fuzz/smtpd/parent/parent.o: smtpd/parent/parent.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/parent/parent.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h \
  smtpd/common/xmalloc.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
