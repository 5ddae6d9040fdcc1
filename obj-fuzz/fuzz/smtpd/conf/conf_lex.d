obj-fuzz/fuzz/smtpd/conf/conf_lex.o: smtpd/conf/conf_lex.c \
  smtpd/conf/conf_int.h smtpd/conf/conf.h smtpd/common/xmalloc.h

smtpd/conf/conf_int.h:

smtpd/conf/conf.h:

smtpd/common/xmalloc.h:
