/*
 * imsg_codec.h -- one send/unpack pair per message of imsg.h.
 *
 * Call sites never encode fields by hand.  msg_unpack_* checks every field
 * and that the payload is consumed exactly; it returns 0 or -1, and the
 * caller hands a -1 to mproc_bad_payload() (fatal from our own processes,
 * a dropped connection from a control client).  Strings in unpacked
 * structs point into the imsg and live as long as it does.
 */
#ifndef SMTPD_IMSG_CODEC_H
#define SMTPD_IMSG_CODEC_H

#include <stdint.h>

#include "mproc.h"

struct msg_proc_status {
	int32_t		 proc;
	int32_t		 pid;
	uint32_t	 uid;
	uint32_t	 gid;
	const char	*root;
	const char	*state;
};

struct msg_agent_status {
	int32_t		 mda;
	int32_t		 mta;
	int32_t		 smtp;
};

void	msg_send_parent_peer_fd(struct mproc *, enum proc_id, int fd);
int	msg_unpack_parent_peer_fd(struct imsg *, enum proc_id *);
void	msg_send_parent_control_fd(struct mproc *, int fd);
int	msg_unpack_parent_control_fd(struct imsg *);
/* msg_send_parent_conf - a configuration in chunks, then its length */
void	msg_send_parent_conf(struct mproc *, const unsigned char *, size_t);
int	msg_unpack_parent_conf_data(struct imsg *, const void **, size_t *);
int	msg_unpack_parent_conf_end(struct imsg *, size_t *);
void	msg_send_parent_start(struct mproc *);
int	msg_unpack_parent_start(struct imsg *);

void	msg_send_parent_child_ready(struct mproc *, uint32_t uid,
	    uint32_t gid, const char *root, const char *state);
int	msg_unpack_parent_child_ready(struct imsg *, uint32_t *, uint32_t *,
	    const char **, const char **);

void	msg_send_parent_get_status(struct mproc *, uint64_t reqid);
int	msg_unpack_parent_get_status(struct imsg *, uint64_t *);
void	msg_send_parent_get_status_result(struct mproc *, uint64_t reqid,
	    int last, const struct msg_proc_status *);
int	msg_unpack_parent_get_status_result(struct imsg *, uint64_t *, int *,
	    struct msg_proc_status *);

void	msg_send_dispatcher_get_status(struct mproc *, uint64_t reqid);
int	msg_unpack_dispatcher_get_status(struct imsg *, uint64_t *);
void	msg_send_dispatcher_get_status_result(struct mproc *, uint64_t,
	    const struct msg_agent_status *);
int	msg_unpack_dispatcher_get_status_result(struct imsg *, uint64_t *,
	    struct msg_agent_status *);

struct msg_table_query {
	int32_t		 op;		/* TABLE_OP_* */
	const char	*table;
	const char	*service;	/* a name from the client ... */
	int32_t		 service_bit;	/* ... the bit to lookup */
	const char	*key;		/* NULL for fetch */
};

struct msg_table_result {
	int32_t		 r;		/* 1 found, 0 not found, -1 error */
	const char	*value;
	const char	*error;
};

void	msg_send_lookup_table_query(struct mproc *, uint64_t,
	    const struct msg_table_query *);
int	msg_unpack_lookup_table_query(struct imsg *, uint64_t *,
	    struct msg_table_query *);
void	msg_send_lookup_table_query_result(struct mproc *, uint64_t,
	    const struct msg_table_result *);
int	msg_unpack_lookup_table_query_result(struct imsg *, uint64_t *,
	    struct msg_table_result *);
void	msg_send_lookup_update_table(struct mproc *, uint64_t, const char *);
int	msg_unpack_lookup_update_table(struct imsg *, uint64_t *,
	    const char **);
void	msg_send_lookup_update_table_result(struct mproc *, uint64_t,
	    const struct msg_table_result *);
int	msg_unpack_lookup_update_table_result(struct imsg *, uint64_t *,
	    struct msg_table_result *);

void	msg_send_ctl_hello(struct mproc *, uint32_t version);
int	msg_unpack_ctl_hello(struct imsg *, uint32_t *);
void	msg_send_ctl_show_status(struct mproc *);
int	msg_unpack_ctl_show_status(struct imsg *);
void	msg_send_ctl_table_query(struct mproc *,
	    const struct msg_table_query *);
int	msg_unpack_ctl_table_query(struct imsg *, struct msg_table_query *);
void	msg_send_ctl_update_table(struct mproc *, const char *);
int	msg_unpack_ctl_update_table(struct imsg *, const char **);
void	msg_send_ctl_table_result(struct mproc *,
	    const struct msg_table_result *);
int	msg_unpack_ctl_table_result(struct imsg *, struct msg_table_result *);
void	msg_send_ctl_proc_status(struct mproc *, const struct msg_proc_status *);
int	msg_unpack_ctl_proc_status(struct imsg *, struct msg_proc_status *);
void	msg_send_ctl_agent_status(struct mproc *,
	    const struct msg_agent_status *);
int	msg_unpack_ctl_agent_status(struct imsg *, struct msg_agent_status *);
void	msg_send_ctl_ok(struct mproc *);
int	msg_unpack_ctl_ok(struct imsg *);
void	msg_send_ctl_fail(struct mproc *, const char *reason);
int	msg_unpack_ctl_fail(struct imsg *, const char **);

#endif
