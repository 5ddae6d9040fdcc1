obj-fuzz/fuzz/api/api_proc.o: api/api_proc.c api/api_log.h api/api_proc.h \
  api/api_limits.h api/imsgbuf.h api/wire.h

api/api_log.h:

api/api_proc.h:

api/api_limits.h:

api/imsgbuf.h:

api/wire.h:
