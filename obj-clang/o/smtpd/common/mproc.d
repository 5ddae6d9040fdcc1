obj-clang/o/smtpd/common/mproc.o: smtpd/common/mproc.c smtpd/common/log.h \
  smtpd/common/mproc.h api/imsgbuf.h smtpd/common/imsg.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h \
  smtpd/common/xmalloc.h

smtpd/common/log.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
