OBJS_table-file := $(O)/o/smtpd/table/table_file.o \
		   $(O)/o/smtpd/table/table_static.o \
		   $(O)/o/smtpd/table/table_match.o
