obj-fuzz/fuzz/regress/fuzz/lookup_dns_fuzz.o: \
  regress/fuzz/lookup_dns_fuzz.c smtpd/lookup/lookup_dns.h \
  smtpd/common/imsg.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/smtpd.h smtpd/common/smtpd_limits.h

smtpd/lookup/lookup_dns.h:

smtpd/common/imsg.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:
