obj-fuzz/fuzz/smtpd/lookup/lookup_dns_msg.o: \
  smtpd/lookup/lookup_dns_msg.c smtpd/common/imsg_codec.h \
  smtpd/common/mproc.h api/imsgbuf.h smtpd/common/imsg.h \
  smtpd/common/log.h smtpd/lookup/lookup_dns.h smtpd/common/xmalloc.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/log.h:

smtpd/lookup/lookup_dns.h:

smtpd/common/xmalloc.h:
