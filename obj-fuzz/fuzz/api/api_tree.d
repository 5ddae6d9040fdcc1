obj-fuzz/fuzz/api/api_tree.o: api/api_tree.c api/api_tree.h

api/api_tree.h:
