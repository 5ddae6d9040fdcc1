obj-fuzz/fuzz/smtpd/common/xmalloc.o: smtpd/common/xmalloc.c \
  smtpd/common/log.h smtpd/common/xmalloc.h

smtpd/common/log.h:

smtpd/common/xmalloc.h:
