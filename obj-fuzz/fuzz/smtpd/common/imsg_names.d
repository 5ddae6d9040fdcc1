obj-fuzz/fuzz/smtpd/common/imsg_names.o: smtpd/common/imsg_names.c \
  smtpd/common/imsg.h

smtpd/common/imsg.h:
