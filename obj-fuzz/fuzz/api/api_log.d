obj-fuzz/fuzz/api/api_log.o: api/api_log.c api/api_log.h

api/api_log.h:
