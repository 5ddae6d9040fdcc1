OBJS_queue-fs := $(O)/o/smtpd/queue/queue_fs.o \
		 $(O)/o/smtpd/queue/queue_fs_journal.o \
		 $(O)/o/smtpd/queue/queue_fs_walk.o
