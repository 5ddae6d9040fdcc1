obj-fuzz/fuzz/api/api_util.o: api/api_util.c api/api_log.h api/api_util.h \
  api/api_dict.h api/api_tree.h

api/api_log.h:

api/api_util.h:

api/api_dict.h:

api/api_tree.h:
