/*
 * imsg.h -- every message exchanged between smtpd processes, and between
 * the control process and its clients (smtpctl).
 *
 * One line per message: name, sender, receiver, payload.  The enum, the
 * names printed in logs and the routing check are all generated from this
 * one list.  Payload layouts are encoded by api/wire.c; each message has a
 * msg_send_* / msg_unpack_* pair in imsg_codec.c.  Bump IMSG_VERSION on any
 * change: processes of one daemon always come from one binary, but a
 * control client may not.
 */
#ifndef SMTPD_IMSG_H
#define SMTPD_IMSG_H

#include <stdint.h>

#define IMSG_VERSION	1

/* the processes; CLIENT is a control-socket client, not a process of ours */
#define PROC_LIST(X)				\
	X(PROC_PARENT,     "parent")		\
	X(PROC_CONTROL,    "control")		\
	X(PROC_LOOKUP,     "lookup")		\
	X(PROC_QUEUE,      "queue")		\
	X(PROC_SCHEDULER,  "scheduler")		\
	X(PROC_DISPATCHER, "dispatcher")	\
	X(PROC_CA,         "ca")		\
	X(PROC_CLIENT,     "client")

enum proc_id {
#define X(id, name) id,
	PROC_LIST(X)
#undef X
	PROC__COUNT
};
#define PROC_CHILD_FIRST	PROC_CONTROL
#define PROC_CHILD_LAST		PROC_CA

/* "ANY" as a sender or receiver means every process of ours */
#define PROC_ANY	PROC__COUNT

#define IMSG_LIST(X)								\
	/* parent -> children: start-up wiring */				\
	X(IMSG_PARENT_PEER_FD,          PARENT,     ANY,        "proc i32 + fd")	\
	X(IMSG_PARENT_CONTROL_FD,       PARENT,     CONTROL,    "fd (listening)")	\
	X(IMSG_PARENT_CONF_DATA,        PARENT,     ANY,        "bytes of the serialized configuration") \
	X(IMSG_PARENT_CONF_END,         PARENT,     ANY,        "total sz")	\
	X(IMSG_PARENT_START,            PARENT,     ANY,        "")		\
	/* children -> parent */						\
	X(IMSG_PARENT_CHILD_READY,      ANY,        PARENT,     "uid u32, gid u32, root str, state str") \
	X(IMSG_PARENT_GET_STATUS,       CONTROL,    PARENT,     "reqid u64")	\
	X(IMSG_PARENT_GET_STATUS_RESULT, PARENT,    CONTROL,    "reqid u64, last i32, proc i32, pid i32, uid u32, gid u32, root str, state str") \
	/* control -> dispatcher */						\
	X(IMSG_DISPATCHER_GET_STATUS,   CONTROL,    DISPATCHER, "reqid u64")	\
	X(IMSG_DISPATCHER_GET_STATUS_RESULT, DISPATCHER, CONTROL, "reqid u64, mda i32, mta i32, smtp i32") \
	/* control -> lookup: tables */					\
	X(IMSG_LOOKUP_TABLE_QUERY,      CONTROL,    LOOKUP,     "reqid u64, op i32, table str, service i32, key str|NULL") \
	X(IMSG_LOOKUP_TABLE_QUERY_RESULT, LOOKUP,   CONTROL,    "reqid u64, r i32, value str|NULL, error str|NULL") \
	X(IMSG_LOOKUP_UPDATE_TABLE,     CONTROL,    LOOKUP,     "reqid u64, table str") \
	X(IMSG_LOOKUP_UPDATE_TABLE_RESULT, LOOKUP,  CONTROL,    "reqid u64, r i32, error str|NULL") \
	/* control socket: client <-> control */				\
	X(IMSG_CTL_HELLO,               CLIENT,     CONTROL,    "version u32")	\
	X(IMSG_CTL_SHOW_STATUS,         CLIENT,     CONTROL,    "")		\
	X(IMSG_CTL_TABLE_QUERY,         CLIENT,     CONTROL,    "op i32, table str, service str, key str|NULL") \
	X(IMSG_CTL_UPDATE_TABLE,        CLIENT,     CONTROL,    "table str")	\
	X(IMSG_CTL_TABLE_RESULT,        CONTROL,    CLIENT,     "r i32, value str|NULL") \
	X(IMSG_CTL_PROC_STATUS,         CONTROL,    CLIENT,     "proc i32, pid i32, uid u32, gid u32, root str, state str") \
	X(IMSG_CTL_AGENT_STATUS,        CONTROL,    CLIENT,     "mda i32, mta i32, smtp i32") \
	X(IMSG_CTL_OK,                  CONTROL,    CLIENT,     "")		\
	X(IMSG_CTL_FAIL,                CONTROL,    CLIENT,     "reason str")

/* table query operations */
#define TABLE_OP_LOOKUP	1
#define TABLE_OP_CHECK	2
#define TABLE_OP_FETCH	3

enum imsg_type {
	IMSG_NONE = 0,		/* never sent: 0 is the helpers' OK reply */
#define X(name, from, to, doc) name,
	IMSG_LIST(X)
#undef X
	IMSG__MAX
};

const char	*proc_name(enum proc_id);
/* proc_lookup - process id of a name, or PROC__COUNT when unknown */
enum proc_id	 proc_lookup(const char *);
const char	*imsg_name(uint32_t);
/* imsg_route_ok - may `from` send this message to `to`? */
int		 imsg_route_ok(uint32_t, enum proc_id from, enum proc_id to);

#endif
