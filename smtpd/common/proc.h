/*
 * proc.h -- life of a child process (proc.c) and the map of which
 * processes talk to which.
 */
#ifndef SMTPD_PROC_H
#define SMTPD_PROC_H

#include <stddef.h>

#include "imsg.h"
#include "mproc.h"

/* the parent messages every child handles; first in its table */
#define PROC_CHILD_HANDLERS						\
	{ IMSG_PARENT_PEER_FD,   PROC_PARENT, proc_on_peer_fd },		\
	{ IMSG_PARENT_CONF_DATA, PROC_PARENT, proc_on_conf_data },	\
	{ IMSG_PARENT_CONF_END,  PROC_PARENT, proc_on_conf_end },	\
	{ IMSG_PARENT_START,     PROC_PARENT, proc_on_start }

void	proc_on_peer_fd(struct mproc *, struct imsg *);
void	proc_on_conf_data(struct mproc *, struct imsg *);
void	proc_on_conf_end(struct mproc *, struct imsg *);
void	proc_on_start(struct mproc *, struct imsg *);

/*
 * proc_child_init - name, chroot, setuid, event loop and parent channel.
 * on_config runs once the configuration has arrived, before the process
 * reports ready (open what it needs; fatal there is start-up); on_start
 * runs when every process is ready.
 */
void	proc_child_init(enum proc_id, const struct imsg_handler *, size_t,
	    void (*on_config)(void), void (*on_start)(void));
/*
 * proc_child_drop_late - called before proc_child_init by a role that
 * must open files as root once its configuration is in (lookup: helper
 * executables); it then calls proc_child_drop() in its on_config, and at
 * the latest the drop happens before the process reports ready.
 */
void	proc_child_drop_late(void);
/* proc_child_drop - chroot and setuid to the role's account, once */
void	proc_child_drop(void);
/* proc_child_on_stop - instead of exit(0) when the parent closes our
 * channel: ON_STOP winds down on the event loop, then exits */
void	proc_child_on_stop(void (*on_stop)(void));
/* proc_child_loop - run until the parent closes our channel */
_Noreturn void proc_child_loop(void);
void	proc_set_state(const char *);

/* the pairs of children that talk directly */
int	proc_peer_expected(enum proc_id self, enum proc_id peer);
int	proc_pair_next(size_t *, enum proc_id *, enum proc_id *);

#endif
