obj-fuzz/fuzz/smtpd/parent/parent_auth.o: smtpd/parent/parent_auth.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/log.h smtpd/parent/parent.h \
  smtpd/common/password.h smtpd/common/smtpd.h \
  smtpd/common/smtpd_limits.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/parent/parent.h:

smtpd/common/password.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
