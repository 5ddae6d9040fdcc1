LIBS_table-mysql := $(shell pkg-config --libs libmariadb 2>/dev/null || echo -lmariadb)
