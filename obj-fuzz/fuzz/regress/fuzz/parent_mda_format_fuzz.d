obj-fuzz/fuzz/regress/fuzz/parent_mda_format_fuzz.o: \
  regress/fuzz/parent_mda_format_fuzz.c smtpd/common/envelope.h \
  api/imsgbuf.h smtpd/common/mailaddr.h api/api_limits.h \
  smtpd/common/smtpd.h smtpd/common/imsg.h smtpd/common/smtpd_limits.h \
  regress/fuzz/../../smtpd/parent/parent_mda.h

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/smtpd.h:

smtpd/common/imsg.h:

smtpd/common/smtpd_limits.h:

regress/fuzz/../../smtpd/parent/parent_mda.h:
