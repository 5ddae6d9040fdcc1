obj-fuzz/fuzz/smtpd/common/ca_keyid.o: smtpd/common/ca_keyid.c \
  smtpd/common/ca_sign.h

smtpd/common/ca_sign.h:
