obj-fuzz/fuzz/api/scheduler_proto.o: api/scheduler_proto.c \
  api/scheduler_proto.h api/imsgbuf.h api/scheduler_api.h api/wire.h

api/scheduler_proto.h:

api/imsgbuf.h:

api/scheduler_api.h:

api/wire.h:
