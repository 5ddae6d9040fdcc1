obj-fuzz/fuzz/smtpd/dispatcher/mta_reply.o: smtpd/dispatcher/mta_reply.c \
  smtpd/common/imsg.h smtpd/dispatcher/mta.h

smtpd/common/imsg.h:

smtpd/dispatcher/mta.h:
