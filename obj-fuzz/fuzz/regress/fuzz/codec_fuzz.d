obj-fuzz/fuzz/regress/fuzz/codec_fuzz.o: regress/fuzz/codec_fuzz.c \
  smtpd/common/imsg_codec.h smtpd/common/mproc.h api/imsgbuf.h \
  smtpd/common/imsg.h smtpd/common/smtpd.h smtpd/common/smtpd_limits.h \
  api/wire.h

smtpd/common/imsg_codec.h:

smtpd/common/mproc.h:

api/imsgbuf.h:

smtpd/common/imsg.h:

smtpd/common/smtpd.h:

smtpd/common/smtpd_limits.h:

api/wire.h:
