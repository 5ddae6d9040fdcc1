obj-fuzz/fuzz/smtpd/parent/parent_mda.o: smtpd/parent/parent_mda.c \
  smtpd/conf/conf.h smtpd/common/envelope.h api/imsgbuf.h \
  smtpd/common/mailaddr.h api/api_limits.h smtpd/common/imsg.h \
  smtpd/parent/parent_mda.h

smtpd/conf/conf.h:

smtpd/common/envelope.h:

api/imsgbuf.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/common/imsg.h:

smtpd/parent/parent_mda.h:
