obj-fuzz/fuzz/regress/fuzz/envelope_fuzz.o: regress/fuzz/envelope_fuzz.c \
  smtpd/common/envelope.h api/imsgbuf.h smtpd/common/mailaddr.h \
  api/api_limits.h smtpd/common/smtpd.h smtpd/common/imsg.h \
  smtpd/common/smtpd_limits.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:
