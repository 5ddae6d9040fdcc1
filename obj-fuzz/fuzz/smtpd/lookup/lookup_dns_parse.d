obj-fuzz/fuzz/smtpd/lookup/lookup_dns_parse.o: \
  smtpd/lookup/lookup_dns_parse.c smtpd/lookup/lookup_dns.h \
  smtpd/common/imsg.h smtpd/common/mproc.h api/imsgbuf.h

smtpd/lookup/lookup_dns.h:

smtpd/common/imsg.h:

smtpd/common/mproc.h:

api/imsgbuf.h:
