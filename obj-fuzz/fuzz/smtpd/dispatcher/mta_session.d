obj-fuzz/fuzz/smtpd/dispatcher/mta_session.o: \
  smtpd/dispatcher/mta_session.c smtpd/common/imsg.h smtpd/common/log.h \
  smtpd/dispatcher/mta.h

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/dispatcher/mta.h:
