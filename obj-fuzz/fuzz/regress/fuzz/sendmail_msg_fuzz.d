obj-fuzz/fuzz/regress/fuzz/sendmail_msg_fuzz.o: \
  regress/fuzz/sendmail_msg_fuzz.c \
  regress/fuzz/../../smtpd/ctl/sendmail_msg.c \
  regress/fuzz/../../smtpd/ctl/ctl.h smtpd/common/hdraddr.h

regress/fuzz/../../smtpd/ctl/sendmail_msg.c:

regress/fuzz/../../smtpd/ctl/ctl.h:

smtpd/common/hdraddr.h:
