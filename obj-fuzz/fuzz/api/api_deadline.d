obj-fuzz/fuzz/api/api_deadline.o: api/api_deadline.c api/api_deadline.h

api/api_deadline.h:
