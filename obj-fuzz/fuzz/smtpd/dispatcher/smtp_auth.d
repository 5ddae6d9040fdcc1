obj-fuzz/fuzz/smtpd/dispatcher/smtp_auth.o: smtpd/dispatcher/smtp_auth.c \
  api/api_util.h api/api_dict.h api/api_tree.h smtpd/common/log.h \
  smtpd/dispatcher/smtp_auth.h smtpd/dispatcher/smtp_int.h \
  smtpd/dispatcher/smtp.h smtpd/common/mailaddr.h api/api_limits.h \
  smtpd/dispatcher/smtp_data.h smtpd/dispatcher/smtp_parse.h

api/api_util.h:

api/api_dict.h:

api/api_tree.h:

smtpd/common/log.h:

smtpd/dispatcher/smtp_auth.h:

smtpd/dispatcher/smtp_int.h:

smtpd/dispatcher/smtp.h:

smtpd/common/mailaddr.h:

api/api_limits.h:

smtpd/dispatcher/smtp_data.h:

smtpd/dispatcher/smtp_parse.h:
