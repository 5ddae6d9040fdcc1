obj-fuzz/fuzz/api/api_backoff.o: api/api_backoff.c api/api_backoff.h

api/api_backoff.h:
