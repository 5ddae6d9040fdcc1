obj-fuzz/fuzz/smtpd/common/imsg_codec.o: smtpd/common/imsg_codec.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h api/wire.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

api/wire.h:
