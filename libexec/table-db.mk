OBJS_table-db := $(O)/o/smtpd/table/table_db.o \
		 $(O)/o/smtpd/table/table_db_verify.o \
		 $(O)/o/smtpd/table/table_match.o
