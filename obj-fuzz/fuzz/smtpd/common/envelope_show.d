obj-fuzz/fuzz/smtpd/common/envelope_show.o: smtpd/common/envelope_show.c \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/common/envelope_show.h api/scheduler_api.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/envelope_show.h:

api/scheduler_api.h:
