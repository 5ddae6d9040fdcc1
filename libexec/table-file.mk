OBJS_table-file := smtpd/table/table_file.c smtpd/table/table_static.c \
		   smtpd/table/table_match.c
