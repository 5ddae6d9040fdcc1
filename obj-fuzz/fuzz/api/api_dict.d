obj-fuzz/fuzz/api/api_dict.o: api/api_dict.c api/api_dict.h

api/api_dict.h:
