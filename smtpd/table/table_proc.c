/*
 * table_proc.c -- the table protocol of a helper program
 * <libexec>/table-NAME, the imsg protocol of OpenSMTPD 6.x
 * (libexec-protocols.md 1 and 4, PROC_TABLE_API_VERSION 2), so the
 * helpers of opensmtpd-extras run unmodified: its requests encoded, its
 * replies decoded by table_proc_decode_reply (fuzzed), each completing
 * its table query.  The helper itself is hosted by api/api_host.c: its
 * own channel, a bounded FIFO, a timer per request, restart with
 * backoff, a graceful stop, every log line naming the table.
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

/*
 * table_proc_decode_reply - the r and value of a helper's reply (DATA,
 * LEN) to a request of TYPE (libexec-protocols.md 4.4): 0, or -1 when
 * the payload is not that reply.  VALUE, when r is 1 for a lookup or a
 * fetch, points into DATA and is NUL-terminated at VALUELEN.
 */
int
table_proc_decode_reply(uint32_t type, const void *data, size_t len,
    int *r, const char **value, size_t *valuelen)
{
	struct wire_reader	 rd;
	const void		*rest;
	size_t			 restlen;
	int32_t			 v = 0;
	int			 with_value = type == PROC_TABLE_LOOKUP ||
				    type == PROC_TABLE_FETCH;

	wire_reader_init(&rd, data, len);
	(void)wire_get_i32(&rd, &v);
	(void)wire_get_rest(&rd, &rest, &restlen);
	if (wire_end(&rd) != 0 || v < -1 || v > 1)
		return -1;
	if (restlen != 0 && (!with_value || v != 1))
		return -1;
	if (with_value && v == 1 && (restlen == 0 ||
	    ((const char *)rest)[restlen - 1] != '\0' ||
	    memchr(rest, '\0', restlen - 1) != NULL))
		return -1;
	*r = v;
	*value = v == 1 && with_value ? rest : NULL;
	*valuelen = v == 1 && with_value ? restlen - 1 : 0;
	return 0;
}

/* table_proc_on_open - OPEN's answer: empty (4.3) */
static int
table_proc_on_open(struct imsg *reply)
{
	return reply->datalen == 0 ? 0 : -1;
}

/* table_proc_on_reply - the helper's reply to a query (NULL: -1) */
static int
table_proc_on_reply(void *arg, struct imsg *reply)
{
	struct table_proc_call	*c = arg;
	const char		*value = NULL;
	size_t			 valuelen = 0;
	int			 r = -1, rc = 0;

	if (reply != NULL && table_proc_decode_reply(c->type, reply->data,
	    reply->datalen, &r, &value, &valuelen) == -1) {
		r = -1;		/* the host restarts the helper */
		rc = -1;
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
	uint32_t		 version = PROC_TABLE_API_VERSION;
	struct api_host_params	 p;
	char			*argv[3];

	if (evb == NULL || h->host != NULL || h->exec_fd == -1)
		return -1;
	memset(open, 0, sizeof open);
	memcpy(open, &version, sizeof version);
	(void)strlcpy((char *)open + sizeof version, h->name,
	    sizeof open - sizeof version);
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
	struct wire_writer	 w;

	if (h->host == NULL) {
		log_debug("table %s: helper not started: temporary failure",
		    h->name);
		done(arg, -1, NULL);
		return;
	}
	wire_writer_init(&w, payload, sizeof payload);
	if (type != PROC_TABLE_UPDATE) {
		(void)wire_put_i32(&w, (int32_t)service);
		(void)wire_put_sz(&w, 0);
		if (key != NULL)
			(void)wire_put_cstr(&w, key);
		if (wire_writer_error(&w) != 0) {
			log_warnx("table %s: key does not fit a request",
			    h->name);
			done(arg, -1, NULL);
			return;
		}
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
