obj-clang/o/smtpd/common/log.o: smtpd/common/log.c smtpd/common/log.h

smtpd/common/log.h:
