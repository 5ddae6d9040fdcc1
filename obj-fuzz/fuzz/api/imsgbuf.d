obj-fuzz/fuzz/api/imsgbuf.o: api/imsgbuf.c api/imsgbuf.h

api/imsgbuf.h:
