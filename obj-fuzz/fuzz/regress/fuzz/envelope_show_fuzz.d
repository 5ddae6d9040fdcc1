obj-fuzz/fuzz/regress/fuzz/envelope_show_fuzz.o: \
  regress/fuzz/envelope_show_fuzz.c smtpd/common/envelope.h \
  api/imsgbuf.h smtpd/common/mailaddr.h api/api_limits.h \
  smtpd/common/envelope_show.h smtpd/common/smtpd.h smtpd/common/imsg.h \
  smtpd/common/smtpd_limits.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/envelope_show.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:
