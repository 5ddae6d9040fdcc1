obj-clang/o/smtpd/ctl/smtpctl.o: smtpd/ctl/smtpctl.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
