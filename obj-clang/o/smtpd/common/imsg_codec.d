obj-clang/o/smtpd/common/imsg_codec.o: smtpd/common/imsg_codec.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h api/wire.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

api/wire.h:
