/*
 * lookup_rcpt.c -- IMSG_LOOKUP_EXPAND_RCPT: one recipient of the
 * dispatcher, matched and expanded, answered under its request id with
 * zero or more IMSG_LOOKUP_EXPAND_RCPT_ENVELOPE and exactly one
 * IMSG_LOOKUP_EXPAND_RCPT_RESULT.
 *
 * Runs in the lookup process (lookup.c's handler table calls it) and in
 * the handler test.  The answer is sent from the expansion's
 * completion, never waited for; a channel closed meanwhile gets nothing
 * (the sibling died: the parent stops the daemon).  An envelope the
 * dispatcher sent that does not load is logged and answered 451, never
 * a crash; a malformed payload is the channel's business
 * (mproc_bad_payload).
 */
#include <stdlib.h>
#include <string.h>

#include "imsg_codec.h"
#include "log.h"
#include "lookup_expand.h"
#include "xmalloc.h"

/* one request until its result is sent */
struct lookup_rcpt {
	struct mproc	*p;
	uint64_t	 reqid;
	char		*buf;		/* ENVELOPE_TEXT_MAX + 1 */
};

/* lookup_rcpt_on_envelope - one envelope of the expansion, sent */
static void
lookup_rcpt_on_envelope(void *arg, const struct envelope *evp)
{
	struct lookup_rcpt	*q = arg;
	int			 len;

	if (q->p->closed)
		return;
	if ((len = envelope_dump(evp, q->buf, ENVELOPE_TEXT_MAX + 1)) <= 0) {
		/* the expander checked every field: ours to fix */
		log_warnx("lookup: reqid=%016llx: an envelope cannot be "
		    "written, dropped", (unsigned long long)q->reqid);
		return;
	}
	msg_send_lookup_expand_rcpt_envelope(q->p,
	    &(struct msg_lookup_expand_rcpt_envelope){ .reqid = q->reqid,
	    .envelope = q->buf, .envelope_len = (size_t)len });
}

/* lookup_rcpt_on_done - the one result, then the request is over */
static void
lookup_rcpt_on_done(void *arg, int code, const char *text)
{
	struct lookup_rcpt	*q = arg;

	log_debug("lookup: reqid=%016llx result=%d \"%s\"",
	    (unsigned long long)q->reqid, code, text);
	/* a dispatcher that died meanwhile: the parent stops the daemon */
	if (!q->p->closed)
		msg_send_lookup_expand_rcpt_result(q->p,
		    &(struct msg_lookup_expand_rcpt_result){
		    .reqid = q->reqid, .code = code, .text = text });
	free(q->buf);
	free(q);
}

/* lookup_rcpt_on_expand - the handler of IMSG_LOOKUP_EXPAND_RCPT */
void
lookup_rcpt_on_expand(struct lookup_rules *rules, struct mproc *p,
    struct imsg *imsg)
{
	struct msg_lookup_expand_rcpt	 m;
	struct lookup_rcpt		*q;
	struct envelope			*evp;
	char				 err[256];

	if (msg_unpack_lookup_expand_rcpt(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->reqid = m.reqid;
	q->buf = xmalloc(ENVELOPE_TEXT_MAX + 1);
	evp = xcalloc(1, sizeof *evp);
	if (envelope_load(evp, m.envelope, m.envelope_len, err,
	    sizeof err) == -1) {
		log_warnx("lookup: reqid=%016llx: bad envelope: %s",
		    (unsigned long long)q->reqid, err);
		lookup_rcpt_on_done(q, 451, "4.3.0 Temporary failure");
	} else if (rules == NULL) {
		log_warnx("lookup: reqid=%016llx: no rules loaded",
		    (unsigned long long)q->reqid);
		lookup_rcpt_on_done(q, 451, "4.3.0 Temporary failure");
	} else
		lookup_expand_rcpt(rules, evp, lookup_rcpt_on_envelope,
		    lookup_rcpt_on_done, q);
	free(evp);
}
