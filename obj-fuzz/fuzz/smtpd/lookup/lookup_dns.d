obj-fuzz/fuzz/smtpd/lookup/lookup_dns.o: smtpd/lookup/lookup_dns.c \
  smtpd/common/log.h smtpd/lookup/lookup_dns.h smtpd/common/imsg.h \
  smtpd/common/mproc.h api/imsgbuf.h

smtpd/common/log.h:

smtpd/lookup/lookup_dns.h:

smtpd/common/imsg.h:

smtpd/common/mproc.h:

api/imsgbuf.h:
