obj-clang/o/smtpd/dispatcher/dispatcher.o: smtpd/dispatcher/dispatcher.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/proc.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/proc.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
