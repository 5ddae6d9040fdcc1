/*
 * table_proc.c -- the table protocol of a helper program
 * <libexec>/table-NAME, the imsg protocol of OpenSMTPD 6.x
 * (libexec-protocols.md 1 and 4, PROC_TABLE_API_VERSION 2), so the
 * helpers of opensmtpd-extras run unmodified: its requests encoded, its
 * replies decoded by api/table_proto.c (the codec the helper glue
 * shares, fuzzed), each completing its table query.  The helper itself
 * is hosted by api/api_host.c: its own channel, a bounded FIFO, a timer
 * per request, restart with backoff, a graceful stop, every log line
 * naming the table.
 *
 * Runs in the lookup process (and in tests), on its libevent loop.  The
 * helper's executable is pinned when the table is created, while the
 * process may still open it, and every start execs that descriptor.
 * Nothing here waits or calls fatal: a reply that is not the one asked
 * for is a temporary failure (-1) and a restart of the helper.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_host.h"
#include "imsgbuf.h"
#include "log.h"
#include "table.h"
#include "table_api.h"
#include "table_proto.h"
#include "wire.h"
#include "xmalloc.h"

struct table_proc {
	char			 name[TABLE_NAME_MAX];	/* the table's */
	char			 label[TABLE_NAME_MAX + 8]; /* "table NAME" */
	char			 path[PATH_MAX];
	char			 config[PATH_MAX];
	int			 exec_fd;	/* pinned, until the host has it */
	int			 timeout_ms;
	int			 backoff_ms;
	int			 backoff_max_ms;
	struct api_host		*host;		/* from table_proc_start */
	table_done_fn		 closed;	/* table_proc_close's */
	void			*closed_arg;
};

/* a query waiting for the helper's reply */
struct table_proc_call {
	struct table_proc	*h;
	uint32_t		 type;
	table_done_fn		 done;
	void			*arg;
};

/* table_proc_on_open - OPEN's answer: empty (4.2) */
static int
table_proc_on_open(struct imsg *reply)
{
	struct table_msg	m;

	return table_proto_decode_reply(PROC_TABLE_OPEN, reply->data,
	    reply->datalen, &m);
}

/* table_proc_on_reply - the helper's reply to a query (NULL: -1) */
static int
table_proc_on_reply(void *arg, struct imsg *reply)
{
	struct table_proc_call	*c = arg;
	struct table_msg	 m;
	const char		*value = NULL;
	size_t			 valuelen = 0;
	int			 r = -1, rc = 0;

	if (reply != NULL) {
		if (table_proto_decode_reply(c->type, reply->data,
		    reply->datalen, &m) == -1) {
			log_warnx("table %s: bad %s reply of %zu bytes: %s",
			    c->h->name, table_proto_name(c->type),
			    reply->datalen, m.error);
			rc = -1;	/* the host restarts the helper */
		} else {
			r = m.r;
			value = m.value;
			valuelen = m.valuelen;
		}
	}
	if (value != NULL && valuelen >= TABLE_VALUE_MAX) {
		log_warnx("table %s: helper answered a value of %zu bytes, "
		    "over the limit of %d: temporary failure", c->h->name,
		    valuelen, TABLE_VALUE_MAX - 1);
		r = -1;
		value = NULL;
	}
	c->done(c->arg, r, value);
	free(c);
	return rc;
}

/* table_proc_new - the host of helper PATH for table TNAME, its
 * executable pinned now; NULL with ERR when it cannot be */
struct table_proc *
table_proc_new(const char *tname, const char *path, const char *config,
    char *err, size_t errsz)
{
	struct table_proc	*h;
	const char		*why;
	int			 fd;

	if ((fd = api_host_pin(path, &why)) == -1) {
		snprintf(err, errsz, "table \"%s\": helper %s: %s", tname,
		    path, why);
		return NULL;
	}
	h = xcalloc(1, sizeof *h);
	h->exec_fd = fd;
	(void)strlcpy(h->name, tname, sizeof h->name);
	(void)snprintf(h->label, sizeof h->label, "table %s", tname);
	(void)strlcpy(h->path, path, sizeof h->path);
	(void)strlcpy(h->config, config, sizeof h->config);
	table_proc_set_limits(h, TABLE_PROC_TIMEOUT_MS, TABLE_PROC_BACKOFF_MS,
	    TABLE_PROC_BACKOFF_MAX_MS);
	return h;
}

/* table_proc_set_limits - request timeout and restart delays */
void
table_proc_set_limits(struct table_proc *h, int timeout_ms, int backoff_ms,
    int backoff_max_ms)
{
	h->timeout_ms = timeout_ms;
	h->backoff_ms = backoff_ms;
	h->backoff_max_ms = backoff_max_ms;
	if (h->host != NULL)
		api_host_set_limits(h->host, timeout_ms, backoff_ms,
		    backoff_max_ms);
}

/* table_proc_start - the host on EVB and the first start; never waits */
int
table_proc_start(struct table_proc *h, struct event_base *evb)
{
	unsigned char		 open[TABLE_OPEN_PARAMS_SIZE];
	struct api_host_params	 p;
	struct table_msg	 m;
	struct wire_writer	 w;
	char			*argv[3];

	if (evb == NULL || h->host != NULL || h->exec_fd == -1)
		return -1;
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_OPEN;
	m.version = PROC_TABLE_API_VERSION;
	m.name = h->name;
	wire_writer_init(&w, open, sizeof open);
	if (table_proto_encode_request(&m, &w) == -1 || w.len != sizeof open)
		return -1;	/* a name shorter than TABLE_NAME_MAX fits */
	argv[0] = h->name;
	argv[1] = h->config[0] != '\0' ? h->config : NULL;
	argv[2] = NULL;
	memset(&p, 0, sizeof p);
	p.name = h->label;
	p.path = h->path;
	p.argv = argv;
	p.pinned = 1;
	p.exec_fd = h->exec_fd;
	p.ok_type = PROC_TABLE_OK;
	p.hello_name = "OPEN";
	p.hello_type = PROC_TABLE_OPEN;
	p.hello = open;
	p.hellolen = sizeof open;
	p.hello_ok = table_proc_on_open;
	p.timeout_ms = h->timeout_ms;
	/* TABLE_PROC_QUEUE_MAX waiting, and the one in flight */
	p.fifo_max = TABLE_PROC_QUEUE_MAX + 1;
	p.backoff_min_ms = h->backoff_ms;
	p.backoff_max_ms = h->backoff_max_ms;
	p.stop_wait_ms = TABLE_PROC_STOP_WAIT_MS;
	h->exec_fd = -1;		/* the host's, even on failure */
	if ((h->host = api_host_new(evb, &p)) == NULL)
		return -1;
	api_host_start(h->host);
	return 0;
}

/* table_proc_request - queue one request; DONE gets r and the value */
void
table_proc_request(struct table_proc *h, uint32_t type,
    enum table_service service, const char *key, table_done_fn done,
    void *arg)
{
	unsigned char		 payload[TABLE_KEY_MAX + 16];
	struct table_proc_call	*c;
	struct table_msg	 m;
	struct wire_writer	 w;

	if (h->host == NULL) {
		log_debug("table %s: helper not started: temporary failure",
		    h->name);
		done(arg, -1, NULL);
		return;
	}
	/* the 6.x daemon never sends parameters (4.3) */
	memset(&m, 0, sizeof m);
	m.type = type;
	m.service = (int32_t)service;
	m.key = key;
	wire_writer_init(&w, payload, sizeof payload);
	if (table_proto_encode_request(&m, &w) == -1) {
		log_warnx("table %s: %s%s does not fit a request", h->name,
		    table_proto_name(type), key != NULL ? " key" : "");
		done(arg, -1, NULL);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->h = h;
	c->type = type;
	c->done = done;
	c->arg = arg;
	api_host_request(h->host, type, -1, payload, w.len,
	    table_proc_on_reply, c);
}

/* table_proc_on_stopped - the helper is gone after a close */
static void
table_proc_on_stopped(void *arg)
{
	struct table_proc	*h = arg;
	table_done_fn		 done = h->closed;

	h->closed = NULL;
	if (done != NULL)
		done(h->closed_arg, 1, NULL);
}

/*
 * table_proc_close - stop the helper: pending requests fail, the channel
 * closes (a helper leaves on EOF), SIGTERM, and SIGKILL if it is still
 * there after TABLE_PROC_STOP_WAIT_MS.  DONE once it is reaped.
 */
void
table_proc_close(struct table_proc *h, table_done_fn done, void *arg)
{
	h->closed = done;
	h->closed_arg = arg;
	if (h->host != NULL)
		api_host_close(h->host, table_proc_on_stopped, h);
	else
		table_proc_on_stopped(h);
}

/* table_proc_free - release the host; kills and reaps what still runs */
void
table_proc_free(struct table_proc **hp)
{
	struct table_proc	*h = *hp;

	if (h == NULL)
		return;
	h->closed = NULL;
	api_host_free(&h->host);
	if (h->exec_fd != -1)
		close(h->exec_fd);
	free(h);
	*hp = NULL;
}
