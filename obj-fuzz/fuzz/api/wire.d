obj-fuzz/fuzz/api/wire.o: api/wire.c api/wire.h

api/wire.h:
