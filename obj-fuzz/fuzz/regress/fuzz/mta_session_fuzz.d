obj-fuzz/fuzz/regress/fuzz/mta_session_fuzz.o: \
  regress/fuzz/mta_session_fuzz.c smtpd/common/imsg.h \
  smtpd/dispatcher/mta.h

smtpd/common/imsg.h:

smtpd/dispatcher/mta.h:
