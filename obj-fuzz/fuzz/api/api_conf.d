obj-fuzz/fuzz/api/api_conf.o: api/api_conf.c api/api_conf.h \
  api/api_dict.h api/api_limits.h api/api_log.h api/api_proc.h \
  api/imsgbuf.h

api/api_conf.h:

api/api_dict.h:

api/api_limits.h:

api/api_log.h:

api/api_proc.h:

api/imsgbuf.h:
