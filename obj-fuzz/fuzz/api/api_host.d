obj-fuzz/fuzz/api/api_host.o: api/api_host.c api/api_host.h api/imsgbuf.h \
  api/api_log.h

api/api_host.h:

api/imsgbuf.h:

api/api_log.h:
