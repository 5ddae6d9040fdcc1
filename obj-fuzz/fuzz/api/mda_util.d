obj-fuzz/fuzz/api/mda_util.o: api/mda_util.c api/mda_util.h

api/mda_util.h:
