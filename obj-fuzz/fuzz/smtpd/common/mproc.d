obj-fuzz/fuzz/smtpd/common/mproc.o: smtpd/common/mproc.c \
  smtpd/common/log.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/xmalloc.h

smtpd/common/log.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/xmalloc.h:
