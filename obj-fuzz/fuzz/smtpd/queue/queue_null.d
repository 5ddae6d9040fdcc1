obj-fuzz/fuzz/smtpd/queue/queue_null.o: smtpd/queue/queue_null.c \
  api/queue_api.h

api/queue_api.h:
