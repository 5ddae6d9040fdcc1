obj-fuzz/fuzz/regress/fuzz/api_util_fuzz.o: regress/fuzz/api_util_fuzz.c \
  api/api_util.h api/api_dict.h api/api_tree.h

api/api_util.h:

api/api_dict.h:

api/api_tree.h:
