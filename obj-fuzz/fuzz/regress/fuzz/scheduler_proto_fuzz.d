obj-fuzz/fuzz/regress/fuzz/scheduler_proto_fuzz.o: \
  regress/fuzz/scheduler_proto_fuzz.c api/scheduler_api.h \
  api/scheduler_proto.h api/imsgbuf.h api/wire.h

api/scheduler_api.h:

api/scheduler_proto.h:

api/imsgbuf.h:

api/wire.h:
