/*
 * dispatcher_bounce.c -- the bounce agent of the dispatcher: delivery
 * status notifications queued as new messages (DSN-01..08).
 *
 * The queue hands us bounce envelopes (type bounce: the recipient a
 * report is about, its sender, bounce-type, errorline) with the
 * original message's descriptor.  Envelopes of one message and one
 * report type arriving within BOUNCE_GROUP_MS form a group: one report
 * listing them all.  A group then goes through the queue like mail from
 * a local session (dispatcher_req.c): create a message, write the
 * report (dispatcher_bounce_report.c) into it, let lookup's rules route
 * its one recipient, the original sender, as an internal local sender
 * (envelopes flagged bounce and internal: never a report about them),
 * submit, commit.  Only once the commit succeeded is each bounce
 * envelope answered ok (the queue deletes it); a temporary failure
 * anywhere answers tempfail (the queue keeps it and retries); a report
 * the rules refuse is a permanent failure (logged; no report of a
 * report).  Log line: "<0> bounce report msgid=... original=...
 * type=... rcpts=N to=<...> result=ok|tempfail|refused".  Never blocks:
 * the only I/O here is on queue files.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "dispatcher.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "queue_api.h"
#include "smtpd.h"
#include "xmalloc.h"

struct dispatcher_bounce_evp {
	struct dispatcher_bounce_evp	*next;
	size_t			 len;
	char			 text[];
};

struct dispatcher_bounce_group {
	uint64_t		 key;		/* msgid << 2 | bounce_type */
	uint64_t		 evpids[BOUNCE_GROUP_MAX];
	struct envelope		*evps[BOUNCE_GROUP_MAX];
	size_t			 n;
	int			 msgfd;		/* the original message */
	struct event		*timer;
	uint32_t		 msgid;		/* the report */
	struct dispatcher_bounce_evp	*out, **out_tail; /* its envelopes */
};

/* the groups still gathering envelopes, by key */
static struct tree	dispatcher_bounce_gathering;

static void	dispatcher_bounce_flush(evutil_socket_t, short, void *);

/* dispatcher_bounce_answer - every envelope of G gets STATUS; G goes */
static void
dispatcher_bounce_answer(struct dispatcher_bounce_group *g, int status,
    const char *result, const char *error)
{
	struct dispatcher_bounce_evp	*o;
	char			 to[MAILADDR_TEXT_SIZE];
	char			 q[MAILADDR_TEXT_SIZE + 8];
	size_t			 i;

	if (mailaddr_format(&g->evps[0]->sender, to, sizeof to) == -1)
		to[0] = '\0';
	log_event(0, "bounce", "report", "msgid=%08" PRIx32 " original=%08"
	    PRIx32 " type=%s rcpts=%zu to=%s result=%s", g->msgid,
	    (uint32_t)(g->key >> 2), dispatcher_bounce_action(
	    g->evps[0]->bounce_type), g->n, log_quote(q, sizeof q, to),
	    result);
	for (i = 0; i < g->n; i++) {
		msg_send_queue_delivery_result(env->peers[PROC_QUEUE],
		    &(struct msg_queue_delivery_result){ .evpid = g->evpids[i],
			.status = status, .error = error });
		envelope_free(&g->evps[i]);
	}
	while ((o = g->out) != NULL) {
		g->out = o->next;
		free(o);
	}
	if (g->msgfd != -1)
		close(g->msgfd);
	if (g->timer != NULL)
		event_free(g->timer);
	free(g);
}

/* dispatcher_bounce_abandon - the report message goes, the envelopes wait */
static void
dispatcher_bounce_abandon(struct dispatcher_bounce_group *g, int status,
    const char *result, const char *error)
{
	if (g->msgid != 0)
		msg_send_queue_delete_message(env->peers[PROC_QUEUE],
		    &(struct msg_queue_delete_message){ .msgid = g->msgid });
	dispatcher_bounce_answer(g, status, result, error);
}

/* dispatcher_bounce_template - the envelope lookup expands for the report */
static int
dispatcher_bounce_template(const struct dispatcher_bounce_group *g, char *buf,
    size_t bufsz)
{
	struct envelope	*e;
	int		 n;

	e = envelope_new();
	e->version = ENVELOPE_VERSION;
	e->type = ENVELOPE_MDA;
	strlcpy(e->smtpname, env->servername, sizeof e->smtpname);
	strlcpy(e->helo, env->servername, sizeof e->helo);
	strlcpy(e->hostname, "localhost", sizeof e->hostname);
	e->ss.ss_family = AF_UNIX;		/* a local session */
	e->rcpt = g->evps[0]->sender;
	e->dest = e->rcpt;
	e->creation = time(NULL);
	e->ttl = BOUNCE_REPORT_TTL;
	e->flags = ENVELOPE_F_BOUNCE | ENVELOPE_F_INTERNAL;
	e->dsn_notify = DSN_NOTIFY_NEVER;
	n = envelope_dump(e, buf, bufsz);
	envelope_free(&e);
	return n;
}

/* dispatcher_bounce_write - the report into FD (closed here): 0, or -1 */
static int
dispatcher_bounce_write(struct dispatcher_bounce_group *g, int fd)
{
	struct bounce_report	 r;
	struct stat		 st;
	FILE			*out, *in = NULL;
	int			 ret, dfd;

	memset(&r, 0, sizeof r);
	r.reporting_mta = env->servername;
	r.now = time(NULL);
	r.id = g->evpids[0];
	r.type = g->evps[0]->bounce_type;
	r.evps = (const struct envelope **)g->evps;
	r.nevps = g->n;
	r.full = r.type == BOUNCE_FAILED && g->evps[0]->dsn_ret !=
	    DSN_RET_HDRS && fstat(g->msgfd, &st) == 0 &&
	    st.st_size <= BOUNCE_FULL_MAX;
	if ((dfd = dup(g->msgfd)) != -1 && lseek(dfd, 0, SEEK_SET) == 0)
		in = fdopen(dfd, "r");
	if (in == NULL && dfd != -1)
		close(dfd);
	r.original = in;
	if ((out = fdopen(fd, "w")) == NULL) {
		close(fd);
		ret = -1;
	} else {
		ret = dispatcher_bounce_report_write(&r, out);
		if (fclose(out) != 0)
			ret = -1;
	}
	if (in != NULL)
		fclose(in);
	return ret;
}

static void
dispatcher_bounce_on_committed(void *arg, const struct dispatcher_req_answer *a)
{
	struct dispatcher_bounce_group	*g = arg;

	if (a->r == QUEUE_OK)
		dispatcher_bounce_answer(g, DELIVERY_OK, "ok", "report queued");
	else
		dispatcher_bounce_answer(g, DELIVERY_TEMPFAIL, "tempfail",
		    "report not stored");
}

/* dispatcher_bounce_on_expanded - the report's envelopes, then the
 * rules' answer */
static void
dispatcher_bounce_on_expanded(void *arg, const struct dispatcher_req_answer *a)
{
	struct dispatcher_bounce_group	*g = arg;
	struct dispatcher_bounce_evp	*o;

	if (!a->final) {
		o = xmalloc(sizeof *o + a->envelope_len);
		o->next = NULL;
		o->len = a->envelope_len;
		memcpy(o->text, a->envelope, a->envelope_len);
		*g->out_tail = o;
		g->out_tail = &o->next;
		return;
	}
	if (a->code / 100 == 5) {
		dispatcher_bounce_abandon(g, DELIVERY_PERMFAIL, "refused",
		    a->text);
		return;
	}
	if (a->code / 100 != 2 || a->nenvelopes == 0) {
		dispatcher_bounce_abandon(g, DELIVERY_TEMPFAIL, "tempfail",
		    a->text);
		return;
	}
	for (o = g->out; o != NULL; o = o->next)
		msg_send_queue_submit_envelope(env->peers[PROC_QUEUE],
		    &(struct msg_queue_submit_envelope){ .msgid = g->msgid,
			.envelope = o->text, .envelope_len = o->len });
	dispatcher_req_commit_message(g->msgid, dispatcher_bounce_on_committed,
	    g);
}

static void
dispatcher_bounce_on_created(void *arg, const struct dispatcher_req_answer *a)
{
	static char		 buf[ENVELOPE_TEXT_MAX];
	struct dispatcher_bounce_group	*g = arg;
	int			 n;

	if (a->r != QUEUE_OK) {
		dispatcher_bounce_answer(g, DELIVERY_TEMPFAIL, "tempfail",
		    "queue unavailable for the report");
		return;
	}
	g->msgid = a->msgid;
	if (dispatcher_bounce_write(g, a->fd) == -1) {
		log_warn("bounce: writing the report msgid=%08" PRIx32,
		    g->msgid);
		dispatcher_bounce_abandon(g, DELIVERY_TEMPFAIL, "tempfail",
		    "report not written");
		return;
	}
	if ((n = dispatcher_bounce_template(g, buf, sizeof buf)) <= 0) {
		dispatcher_bounce_abandon(g, DELIVERY_PERMFAIL, "refused",
		    "sender address unusable");
		return;
	}
	dispatcher_req_expand_rcpt(buf, (size_t)n,
	    dispatcher_bounce_on_expanded, g);
}

/* dispatcher_bounce_flush - the window closed (or the group is full): report */
static void
dispatcher_bounce_flush(evutil_socket_t fd, short ev, void *arg)
{
	struct dispatcher_bounce_group	*g = arg;

	(void)fd;
	(void)ev;
	if (api_tree_get(&dispatcher_bounce_gathering, g->key) == g)
		(void)api_tree_pop(&dispatcher_bounce_gathering, g->key);
	dispatcher_req_create_message(dispatcher_bounce_on_created, g);
}

/* dispatcher_bounce_group_new - a group gathering for KEY, its timer running */
static struct dispatcher_bounce_group *
dispatcher_bounce_group_new(uint64_t key)
{
	struct dispatcher_bounce_group	*g;
	struct timeval		 tv = { BOUNCE_GROUP_MS / 1000,
				    (BOUNCE_GROUP_MS % 1000) * 1000 };
	int			 err = 0;

	g = xcalloc(1, sizeof *g);
	g->key = key;
	g->msgfd = -1;
	g->out_tail = &g->out;
	g->timer = evtimer_new(env->evb, dispatcher_bounce_flush, g);
	if (g->timer == NULL)
		fatalx("bounce: cannot make a timer");
	evtimer_add(g->timer, &tv);
	api_tree_set(&dispatcher_bounce_gathering, key, g, &err);
	if (err)
		fatalx("bounce: out of memory");
	return g;
}

void
dispatcher_bounce_envelope(uint64_t evpid, int fd, struct envelope *e)
{
	struct dispatcher_bounce_group	*g;
	uint64_t		 key;

	key = (uint64_t)evpid_to_msgid(evpid) << 2 |
	    ((uint64_t)e->bounce_type & 3);
	if ((g = api_tree_get(&dispatcher_bounce_gathering, key)) == NULL)
		g = dispatcher_bounce_group_new(key);
	g->evpids[g->n] = evpid;
	g->evps[g->n++] = e;
	if (g->msgfd == -1)
		g->msgfd = fd;
	else
		close(fd);
	if (g->n == BOUNCE_GROUP_MAX) {
		evtimer_del(g->timer);
		dispatcher_bounce_flush(-1, 0, g);
	}
}
