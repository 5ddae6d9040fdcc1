obj-fuzz/fuzz/smtpd/common/stats.o: smtpd/common/stats.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/common/stats.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/common/stats.h:
