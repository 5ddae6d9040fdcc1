OBJS_table-db := smtpd/table/table_db.c smtpd/table/table_db_verify.c \
		 smtpd/table/table_match.c
