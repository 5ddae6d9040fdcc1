OBJS_scheduler-ram := $(O)/o/smtpd/scheduler/scheduler_ramqueue.o
