obj-fuzz/fuzz/smtpd/common/hdraddr.o: smtpd/common/hdraddr.c \
  smtpd/common/hdraddr.h

smtpd/common/hdraddr.h:
