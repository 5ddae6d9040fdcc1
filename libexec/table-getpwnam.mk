OBJS_table-getpwnam := $(O)/o/smtpd/table/table_getpwnam.o
