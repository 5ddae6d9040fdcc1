obj-fuzz/fuzz/regress/fuzz/mta_reply_fuzz.o: \
  regress/fuzz/mta_reply_fuzz.c smtpd/dispatcher/mta.h

smtpd/dispatcher/mta.h:
