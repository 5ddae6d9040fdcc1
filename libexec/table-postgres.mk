LIBS_table-postgres := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
