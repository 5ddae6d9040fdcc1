obj-fuzz/fuzz/regress/fuzz/api_imsg_fuzz.o: regress/fuzz/api_imsg_fuzz.c \
  api/imsgbuf.h

api/imsgbuf.h:
