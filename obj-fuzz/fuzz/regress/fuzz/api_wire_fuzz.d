obj-fuzz/fuzz/regress/fuzz/api_wire_fuzz.o: regress/fuzz/api_wire_fuzz.c \
  api/wire.h

api/wire.h:
