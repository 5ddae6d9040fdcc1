obj-fuzz/fuzz/regress/fuzz/mda_util_fuzz.o: regress/fuzz/mda_util_fuzz.c \
  api/mda_util.h

api/mda_util.h:
