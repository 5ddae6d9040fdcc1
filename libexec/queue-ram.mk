OBJS_queue-ram := $(O)/o/smtpd/queue/queue_ram.o
