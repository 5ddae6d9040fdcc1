/*
 * api_proc.h -- the machinery every helper protocol glue shares.
 *
 * table_api.c, queue_api.c and scheduler_api.c each speak one proc
 * protocol (libexec-protocols.md 4, 5, 6), but the way they serve it is
 * the same: the helper's options, the privilege drop when started as
 * root, a synchronous read loop over imsg_read_one() that routes each
 * request through a handler table, one reply of the protocol's OK type
 * per request, and the same exit statuses (0 on EOF or a clean stop, 1
 * after a protocol violation or an I/O error).  That part lives here;
 * each glue file keeps only its message layouts and driver callbacks.
 *
 * Nothing here calls exit, and nothing reachable from the daemon's
 * bytes can crash the helper: a malformed request ends the loop.
 */
#ifndef API_PROC_H
#define API_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "api_limits.h"
#include "imsgbuf.h"

/* "table-api: table=" and a table name */
#define API_PROC_PREFIX_MAX	(API_NAME_MAX + 32)

/* handler flags */
#define API_PROC_HANDSHAKE	0x01	/* the first request: OPEN, INIT */
#define API_PROC_FD		0x02	/* the request carries an fd */
#define API_PROC_FD_ANY		0x04	/* an fd may come, unused */

struct api_proc;

/*
 * One handler per request type.  fn returns 0 to go on, 1 to stop
 * cleanly (exit status 0), -1 for a protocol violation or an I/O error
 * (exit status 1).  Unless flagged API_PROC_FD or API_PROC_FD_ANY, a
 * request carrying an fd is a violation; no handler but the handshake
 * runs before the handshake succeeded, and the handshake runs once.
 */
struct api_proc_handler {
	uint32_t	  type;
	const char	 *name;		/* "OPEN", for the logs */
	int		  flags;
	int		(*fn)(struct api_proc *, struct imsg *);
};

/* One protocol's side of the conversation.  The protocol initialises
 * name, ok_type and the privilege fields; the rest is the loop's. */
struct api_proc {
	const char	*name;		/* "queue-api", the log prefix */
	uint32_t	 ok_type;	/* the type of every reply */
	int		 privdrop;	/* -c -n -u; chroot, setuid */
	const char	*chroot;	/* NULL: no chroot */
	const char	*user;		/* NULL: keep the uid */
	/* extra options of api_proc_init: getopt letters and their
	 * handler (0, or -1 for a usage error) */
	const char	*options;
	int		(*on_option)(int ch, const char *arg);
	/* the conversation, reset by api_proc_dispatch() */
	char		 prefix[API_PROC_PREFIX_MAX];
	int		 opened;
	struct imsgbuf	 ib;
};

/*
 * api_proc_init - common start of a helper's main(): program name for
 * the logs, -v (verbose), then -c dir, -n and -u user when p->privdrop,
 * then p->options through p->on_option; p may be NULL (-v only).
 * Returns the index in argv of the first operand, or -1
 * after logging "usage: progname usage".
 */
int	api_proc_init(struct api_proc *p, const char *progname, int argc,
	    char *argv[], const char *usage);

/*
 * api_proc_drop_privileges - when root: chroot to p->chroot and drop to
 * p->user (either may be NULL); not root, neither, said in the log.
 * Returns 0, or -1 (logged).
 */
int	api_proc_drop_privileges(struct api_proc *p);

/*
 * api_proc_dispatch - drop privileges (when p->privdrop), then serve
 * requests on fd through handlers until EOF, a clean stop or a
 * violation.  Returns the helper's exit status: 0 or 1.
 */
int	api_proc_dispatch(struct api_proc *p, int fd,
	    const struct api_proc_handler *handlers, size_t nhandlers);

/*
 * api_proc_set_object - name the object of the conversation in the log
 * prefix ("table-api: table=NAME"); printf-style, cut to fit.
 */
void	api_proc_set_object(struct api_proc *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Replies.  Each sends one frame of type p->ok_type and flushes it.
 * fd (-1: none) is owned by the glue from here on.  Returns 0 when
 * sent, 1 when the daemon is gone (EPIPE: the same as EOF), -1 on error
 * (logged).
 */
struct wire_writer;
int	api_proc_reply(struct api_proc *p, int fd, const void *buf,
	    size_t len);
/* api_proc_reply_wire - what w holds; -1 if it did not fit */
int	api_proc_reply_wire(struct api_proc *p, struct wire_writer *w);
/* api_proc_reply_r - a payload that is r alone (i32) */
int	api_proc_reply_r(struct api_proc *p, int32_t r);

/*
 * Requests whose payload is exactly one value (native byte order, as
 * the structs of the protocols travel).  Each returns 0, or -1 after
 * logging "bad msg len N for what".
 */
int	api_proc_bad_len(struct api_proc *p, struct imsg *imsg,
	    const char *what);
int	api_proc_get_none(struct api_proc *p, struct imsg *imsg,
	    const char *what);
int	api_proc_get_exact(struct api_proc *p, struct imsg *imsg,
	    const char *what, void *v, size_t size);
int	api_proc_get_u32(struct api_proc *p, struct imsg *imsg,
	    const char *what, uint32_t *v);
int	api_proc_get_u64(struct api_proc *p, struct imsg *imsg,
	    const char *what, uint64_t *v);

/*
 * api_proc_result - a driver callback's answer r as the protocol allows
 * it: r itself when lowest <= r <= 1, else fail (logged).
 */
int32_t	api_proc_result(struct api_proc *p, int r, const char *what,
	    int lowest, int32_t fail);

#endif
