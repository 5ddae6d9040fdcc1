obj-fuzz/fuzz/smtpd/dispatcher/mta_route.o: smtpd/dispatcher/mta_route.c \
  smtpd/dispatcher/mta.h

smtpd/dispatcher/mta.h:
