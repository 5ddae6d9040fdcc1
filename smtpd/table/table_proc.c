/*
 * table_proc.c -- the table protocol of a helper program
 * <libexec>/table-NAME, in either of two protocols chosen when the
 * table is declared: the imsg protocol of OpenSMTPD 6.x
 * (libexec-protocols.md 1 and 4, PROC_TABLE_API_VERSION 2), so the
 * helpers of opensmtpd-extras run unmodified, its requests encoded and
 * its replies decoded by api/table_proto.c; or the text lines of
 * OpenSMTPD 7.6+ (section 7: config| handshake, register| services,
 * table|0.1|... requests, OP-result|ID|... replies), coded by
 * api/table_text.c.  Both codecs are the ones the helper glue shares,
 * fuzzed, and each reply completes its table query.  A text reply of
 * another operation or another id, an empty found| value or a line
 * that does not parse is a log line naming the table and a restart;
 * what a helper wrote is logged with its unprintable bytes as '?'.
 * The helper itself is hosted by api/api_host.c: its own channel, a bounded FIFO, a timer
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
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_host.h"
#include "imsgbuf.h"
#include "log.h"
#include "smtpd.h"
#include "table.h"
#include "table_api.h"
#include "table_proto.h"
#include "table_text.h"
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
	int			 text;		/* the 7.6+ protocol */
	unsigned int		 services;	/* text: registered */
	unsigned int		 registering;	/* text: in the handshake */
	struct api_host		*host;		/* from table_proc_start */
	table_done_fn		 closed;	/* table_proc_close's */
	void			*closed_arg;
};

/* a query waiting for the helper's reply */
struct table_proc_call {
	struct table_proc	*h;
	uint32_t		 type;
	enum table_text_op	 op;		/* text */
	char			 id[TABLE_TEXT_ID_SIZE];	/* text */
	table_done_fn		 done;
	void			*arg;
};

/* table_proc_text_op - the text operation of a PROC_TABLE_* type */
static enum table_text_op
table_proc_text_op(uint32_t type)
{
	switch (type) {
	case PROC_TABLE_UPDATE:
		return TABLE_TEXT_UPDATE;
	case PROC_TABLE_CHECK:
		return TABLE_TEXT_CHECK;
	case PROC_TABLE_LOOKUP:
		return TABLE_TEXT_LOOKUP;
	case PROC_TABLE_FETCH:
		return TABLE_TEXT_FETCH;
	}
	return TABLE_TEXT_NONE;
}

/* table_proc_on_register - one line of a text helper's handshake: 1
 * more to come, 0 register|ready after at least one service, -1 bad */
static int
table_proc_on_register(void *arg, struct imsg *line)
{
	struct table_proc	*h = arg;
	const char		*why;
	unsigned int		 svc;

	if (table_text_decode_register(line->data, &svc, &why) == -1) {
		log_warnx("table %s: bad handshake line: %s", h->name, why);
		h->registering = 0;
		return -1;
	}
	if (svc != 0) {
		h->registering |= svc;
		return 1;
	}
	if ((h->registering & K_ANY) == 0) {
		log_warnx("table %s: helper registered no service we use",
		    h->name);
		h->registering = 0;
		return -1;
	}
	h->services = h->registering;
	h->registering = 0;
	return 0;
}

/* table_proc_printable - SRC cut to DSTSZ, unprintable bytes '?' */
static const char *
table_proc_printable(char *dst, size_t dstsz, const char *src)
{
	size_t	i;

	for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
	return dst;
}

/* table_proc_text_result - a text reply's r, VALUE set when found; -1
 * with a log line if the reply is not the one asked for (a restart) */
static int
table_proc_text_result(struct table_proc_call *c, char *line, int *r,
    const char **value)
{
	struct table_text_reply	m;
	char			p[201];

	if (table_text_decode_reply(line, &m) == -1) {
		log_warnx("table %s: bad %s reply: %s", c->h->name,
		    table_text_op_name(c->op), m.error);
		return -1;
	}
	if (m.op != c->op || strcmp(m.id, c->id) != 0) {
		log_warnx("table %s: %s-result for id %s answers the %s "
		    "request of id %s", c->h->name, table_text_op_name(m.op),
		    table_proc_printable(p, 17, m.id),
		    table_text_op_name(c->op), c->id);
		return -1;
	}
	if (m.result == TABLE_TEXT_ERROR)
		log_warnx("table %s: helper answered error to %s%s%s",
		    c->h->name, table_text_op_name(c->op),
		    m.message != NULL ? ": " : "",
		    table_proc_printable(p, sizeof p, m.message != NULL ?
		    m.message : ""));
	*r = m.result == TABLE_TEXT_FOUND ? 1 :
	    m.result == TABLE_TEXT_NOT_FOUND ? 0 : -1;
	*value = m.value;
	return 0;
}

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

	if (reply != NULL && c->h->text) {
		if ((rc = table_proc_text_result(c, reply->data, &r,
		    &value)) == -1)
			r = -1;
		else if (value != NULL)
			valuelen = strlen(value);
	} else if (reply != NULL) {
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
    int text, char *err, size_t errsz)
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
	h->text = text;
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

/* table_proc_host_params - what both protocols' hosts share */
static void
table_proc_host_params(struct table_proc *h, struct api_host_params *p,
    char *argv[3])
{
	argv[0] = h->name;
	argv[1] = h->config[0] != '\0' ? h->config : NULL;
	argv[2] = NULL;
	memset(p, 0, sizeof *p);
	p->name = h->label;
	p->path = h->path;
	p->argv = argv;
	p->pinned = 1;
	p->exec_fd = h->exec_fd;
	p->timeout_ms = h->timeout_ms;
	/* TABLE_PROC_QUEUE_MAX waiting, and the one in flight */
	p->fifo_max = TABLE_PROC_QUEUE_MAX + 1;
	p->backoff_min_ms = h->backoff_ms;
	p->backoff_max_ms = h->backoff_max_ms;
	p->stop_wait_ms = TABLE_PROC_STOP_WAIT_MS;
}

/* table_proc_start_text - the host of a 7.6+ text helper: its socket on
 * fd 0 and 1, the config| lines first, its register| lines awaited */
static int
table_proc_start_text(struct table_proc *h, struct event_base *evb)
{
	char			 hello[TABLE_NAME_MAX + 256];
	struct api_host_params	 p;
	char			*argv[3];
	int			 n;

	if ((n = table_text_encode_config(hello, sizeof hello,
	    SMTPD_VERSION, h->name)) == -1)
		return -1;
	table_proc_host_params(h, &p, argv);
	p.lines = 1;
	p.line_max = TABLE_TEXT_LINE_MAX;
	p.hello_name = "config|ready";
	p.hello = hello;
	p.hellolen = (size_t)n;
	p.hello_more = table_proc_on_register;
	p.hello_arg = h;
	h->exec_fd = -1;		/* the host's, even on failure */
	if ((h->host = api_host_new(evb, &p)) == NULL)
		return -1;
	api_host_start(h->host);
	return 0;
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
	if (h->text)
		return table_proc_start_text(h, evb);
	memset(&m, 0, sizeof m);
	m.type = PROC_TABLE_OPEN;
	m.version = PROC_TABLE_API_VERSION;
	m.name = h->name;
	wire_writer_init(&w, open, sizeof open);
	if (table_proto_encode_request(&m, &w) == -1 || w.len != sizeof open)
		return -1;	/* a name shorter than TABLE_NAME_MAX fits */
	table_proc_host_params(h, &p, argv);
	p.ok_type = PROC_TABLE_OK;
	p.hello_name = "OPEN";
	p.hello_type = PROC_TABLE_OPEN;
	p.hello = open;
	p.hellolen = sizeof open;
	p.hello_ok = table_proc_on_open;
	p.hello_hint = "if this helper was written for OpenSMTPD 7.6 or "
	    "later, it speaks the text protocol: declare its table "
	    "text-NAME:CONFIG or proc:/path (smtpd.conf(5))";
	h->exec_fd = -1;		/* the host's, even on failure */
	if ((h->host = api_host_new(evb, &p)) == NULL)
		return -1;
	api_host_start(h->host);
	return 0;
}

/* table_proc_request_text - one text request line of C into BUF: its
 * length, or -1 (logged) */
static int
table_proc_request_text(struct table_proc_call *c, enum table_service
    service, const char *key, char *buf, size_t bufsz)
{
	struct table_text_request	m;
	struct timespec			ts;
	int				n;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(c->id, sizeof c->id, "%08x", arc4random());
	memset(&m, 0, sizeof m);
	m.op = c->op;
	m.service = service;
	m.id = c->id;
	m.table = c->h->name;
	m.key = key != NULL ? key : "";
	m.sec = (long long)ts.tv_sec;
	m.usec = ts.tv_nsec / 1000;
	if (c->op != TABLE_TEXT_UPDATE && c->h->services != 0 &&
	    (c->h->services & service) == 0) {
		log_warnx("table %s: helper did not register %s: temporary "
		    "failure", c->h->name, table_service_name(service));
		return -1;
	}
	if ((n = table_text_encode_request(buf, bufsz, &m)) == -1)
		log_warnx("table %s: %s%s does not fit a request line",
		    c->h->name, table_text_op_name(c->op),
		    key != NULL ? " key" : "");
	return n;
}

/* table_proc_request - queue one request; DONE gets r and the value */
void
table_proc_request(struct table_proc *h, uint32_t type,
    enum table_service service, const char *key, table_done_fn done,
    void *arg)
{
	unsigned char		 payload[TABLE_KEY_MAX + TABLE_NAME_MAX + 128];
	struct table_proc_call	*c;
	struct table_msg	 m;
	struct wire_writer	 w;
	int			 n;

	if (h->host == NULL) {
		log_debug("table %s: helper not started: temporary failure",
		    h->name);
		done(arg, -1, NULL);
		return;
	}
	if (h->text) {
		c = xcalloc(1, sizeof *c);
		c->h = h;
		c->type = type;
		c->op = table_proc_text_op(type);
		c->done = done;
		c->arg = arg;
		if ((n = table_proc_request_text(c, service, key,
		    (char *)payload, sizeof payload)) == -1) {
			free(c);
			done(arg, -1, NULL);
			return;
		}
		api_host_request(h->host, type, -1, payload, (size_t)n,
		    table_proc_on_reply, c);
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
