/*
 * dispatcher_rdns.c -- the reverse name of an SMTP client (SMTP-30):
 * the SMTP server's connect hook in the dispatcher.
 *
 * At connect the session (smtp.h) holds its greeting and we ask lookup
 * (IMSG_LOOKUP_DNS_PTR); its answer (IMSG_LOOKUP_DNS_PTR_RESULT) gives
 * the session its name, which goes into the Received header, the log
 * and the envelope (`match from rdns`).  The greeting never waits more
 * than DISPATCHER_RDNS_WAIT_MS: then the session goes on as <unknown>
 * and the late answer is dropped when it comes.  A request is kept
 * until lookup answers (lookup bounds its own requests), so an answer
 * for a reqid we never issued is an internal inconsistency (fatal).
 * A session that ends meanwhile (only at the server's end: otherwise a
 * session with its hook pending lives on) is forgotten first.
 * Runs in the dispatcher; never blocks.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>

#include "api_tree.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtp.h"
#include "smtpd.h"
#include "xmalloc.h"

/* one PTR request, until lookup answers */
struct dispatcher_rdns {
	struct smtp_session	*s;	/* NULL once the greeting went on */
	struct event		*timer;
	uint64_t		 reqid;
};

/* the requests out (a cache of this module: the reqids it issued) */
static struct tree	dispatcher_rdns_reqs;
static uint64_t		dispatcher_rdns_last;

/* dispatcher_rdns_on_timeout - lookup is slow: greet as <unknown> */
static void
dispatcher_rdns_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct dispatcher_rdns	*w = arg;
	struct smtp_session	*s = w->s;

	(void)fd;
	(void)ev;
	log_debug("dispatcher: reverse name of session request %llu not "
	    "found within %d ms", (unsigned long long)w->reqid,
	    DISPATCHER_RDNS_WAIT_MS);
	w->s = NULL;
	smtp_connect_done(s, NULL, 0);
}

/* dispatcher_rdns_ask - the connect hook: ask lookup for ADDR's name */
void
dispatcher_rdns_ask(void *arg, struct smtp_session *s,
    const struct sockaddr_storage *ss, const char *addr)
{
	struct dispatcher_rdns	*w;
	struct mproc		*lookup = env->peers[PROC_LOOKUP];
	struct timeval		 tv;
	int			 err = 0;

	(void)arg;
	(void)ss;
	if (lookup == NULL || lookup->closed) {
		smtp_connect_done(s, NULL, 0);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->s = s;
	w->reqid = ++dispatcher_rdns_last;
	api_tree_set(&dispatcher_rdns_reqs, w->reqid, w, &err);
	if (err)
		fatalx("dispatcher: out of memory");
	tv.tv_sec = DISPATCHER_RDNS_WAIT_MS / 1000;
	tv.tv_usec = (DISPATCHER_RDNS_WAIT_MS % 1000) * 1000;
	if ((w->timer = evtimer_new(env->evb, dispatcher_rdns_on_timeout, w))
	    == NULL || evtimer_add(w->timer, &tv) == -1)
		fatalx("dispatcher: reverse name timer");
	msg_send_lookup_dns_ptr(lookup, &(struct msg_lookup_dns_ptr){
	    .reqid = w->reqid, .addr = addr });
}

/*
 * dispatcher_rdns_forget - session S ends: a request still out for it
 * must not touch it (smtp_server_free ends sessions with a hook pending)
 */
void
dispatcher_rdns_forget(struct smtp_session *s)
{
	struct dispatcher_rdns	*w;
	void			*cursor = NULL, *value;
	uint64_t		 id;

	while (api_tree_iter(&dispatcher_rdns_reqs, &cursor, &id, &value))
		if ((w = value)->s == s) {
			w->s = NULL;
			evtimer_del(w->timer);
		}
}

/* dispatcher_on_dns_ptr_result - lookup's answer: the session goes on */
void
dispatcher_on_dns_ptr_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_dns_ptr_result	 m;
	struct dispatcher_rdns			*w;

	if (msg_unpack_lookup_dns_ptr_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((w = api_tree_pop(&dispatcher_rdns_reqs, m.reqid)) == NULL)
		fatalx("dispatcher: lookup answered an unknown reverse name "
		    "request %llu", (unsigned long long)m.reqid);
	event_free(w->timer);
	if (w->s != NULL)
		smtp_connect_done(w->s, m.status == DNS_OK ? m.name : NULL,
		    m.status == DNS_OK && m.fcrdns);
	free(w);
}
