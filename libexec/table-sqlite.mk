LIBS_table-sqlite := -lsqlite3
