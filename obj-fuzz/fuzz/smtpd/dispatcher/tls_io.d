obj-fuzz/fuzz/smtpd/dispatcher/tls_io.o: smtpd/dispatcher/tls_io.c \
  smtpd/dispatcher/tls_io.h

smtpd/dispatcher/tls_io.h:
