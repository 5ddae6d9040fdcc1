obj-fuzz/fuzz/smtpd/common/password.o: smtpd/common/password.c \
  smtpd/common/password.h

smtpd/common/password.h:
