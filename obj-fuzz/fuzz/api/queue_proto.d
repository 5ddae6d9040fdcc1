obj-fuzz/fuzz/api/queue_proto.o: api/queue_proto.c api/queue_api.h \
  api/queue_proto.h api/wire.h

api/queue_api.h:

api/queue_proto.h:

api/wire.h:
