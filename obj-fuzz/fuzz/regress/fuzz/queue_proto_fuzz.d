obj-fuzz/fuzz/regress/fuzz/queue_proto_fuzz.o: \
  regress/fuzz/queue_proto_fuzz.c api/queue_api.h api/queue_proto.h \
  api/wire.h

api/queue_api.h:

api/queue_proto.h:

api/wire.h:
