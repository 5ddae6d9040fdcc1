LIBS_table-redis := $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
