obj-fuzz/fuzz/smtpd/common/options.o: smtpd/common/options.c \
  smtpd/common/log.h smtpd/common/smtpd.h smtpd/common/imsg.h \
  smtpd/common/smtpd_limits.h smtpd/common/xmalloc.h

smtpd/common/log.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:

smtpd/common/xmalloc.h:
