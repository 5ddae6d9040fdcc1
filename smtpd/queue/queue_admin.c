/*
 * queue_admin.c -- the queue's side of the smtpctl queue verbs: the
 * stored half of `show queue` (CTL-01), `show envelope` (CTL-03) and
 * `show message` (CTL-04).
 *
 * Runs in the queue process.  A listing arrives from the scheduler as
 * one chunk of runtime states; each envelope is loaded and becomes one
 * line, as many as fit one answer, which goes straight to control with
 * the id to ask for next.  An envelope gone meanwhile (delivered,
 * removed) is left out.  `show envelope` answers the stored text;
 * `show message` the body's descriptor, which control passes on, so a
 * body never crosses a process boundary as bytes.  Nothing here
 * changes the queue, and nothing is fatal: what cannot be read is a
 * refusal with its reason.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "envelope_show.h"
#include "imsg_codec.h"
#include "log.h"
#include "queue.h"
#include "queue_backend.h"
#include "scheduler_api.h"
#include "smtpd.h"

/* room for the lines of one answer (the rest is reqid, next, tags) */
#define QUEUE_ADMIN_LINES_MAX	(IMSG_MAX_PAYLOAD - 64)

/* queue_admin_fail - refuse control's request REQID */
static void
queue_admin_fail(uint64_t reqid, const char *reason)
{
	msg_send_proc_admin_fail(env->peers[PROC_CONTROL],
	    &(struct msg_proc_admin_fail){ .reqid = reqid, .reason = reason });
}

/* queue_admin_load - EVPID's stored envelope into EVP: 0, or -1 with
 * the reason in *why */
static int
queue_admin_load(uint64_t evpid, struct envelope *evp, const char **why)
{
	switch (queue_load_envelope(evpid, evp)) {
	case QUEUE_OK:
		return 0;
	case QUEUE_NOTFOUND:
		*why = "no such envelope";
		return -1;
	default:
		*why = "envelope cannot be read now, try again";
		return -1;
	}
}

/*
 * queue_admin_lines - the lines of N states into BUF (SIZE, at least
 * one byte): the index of the first state that did not fit, N if all
 * did; -1 out of memory
 */
static int
queue_admin_lines(const struct evpstate *st, size_t n, char *buf,
    size_t size)
{
	struct envelope_runstate	 rs;
	struct envelope			*evp;
	const char			*why;
	time_t				 now = time(NULL);
	size_t				 i, len = 0;
	int				 w;

	buf[0] = '\0';
	if ((evp = envelope_new()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (st[i].evpid == 0)
			continue;	/* the "none" entry */
		memset(evp, 0, sizeof *evp);
		if (queue_admin_load(st[i].evpid, evp, &why) == -1) {
			log_debug("queue: show queue evpid=%016" PRIx64
			    " left out: %s", st[i].evpid, why);
			continue;
		}
		evp->evpid = st[i].evpid;
		rs.flags = st[i].flags;
		rs.time = st[i].time;
		if ((w = envelope_show_line(evp, &rs, now, buf + len,
		    size - len)) == -1) {
			buf[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	envelope_free(&evp);
	return (int)i;
}

void
queue_on_list_envelopes(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_list_envelopes	 m;
	struct evpstate			 st[IMSG_MAX_PAYLOAD /
					    sizeof(struct evpstate)];
	char				 lines[QUEUE_ADMIN_LINES_MAX];
	size_t				 n;
	int				 done;

	if (msg_unpack_queue_list_envelopes(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	n = m.states_len / sizeof st[0];
	memcpy(st, m.states, n * sizeof st[0]);	/* aligned copies */
	/* a line is far shorter than an answer: none fitting is no memory */
	if ((done = queue_admin_lines(st, n, lines, sizeof lines)) <= 0 &&
	    st[0].evpid != 0) {
		queue_admin_fail(m.reqid, "out of memory, try again");
		return;
	}
	msg_send_queue_list_envelopes_result(env->peers[PROC_CONTROL],
	    &(struct msg_queue_list_envelopes_result){ .reqid = m.reqid,
	    .next = (size_t)done < n ? st[done].evpid : m.next,
	    .lines = lines });
}

void
queue_on_show_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_show_envelope	 m;
	struct envelope			*evp;
	char				 text[ENVELOPE_TEXT_MAX + 1];
	const char			*why = NULL;

	if (msg_unpack_queue_show_envelope(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((evp = envelope_new()) == NULL)
		why = "out of memory";
	else if (queue_admin_load(m.evpid, evp, &why) == 0 &&
	    envelope_dump(evp, text, sizeof text) <= 0)
		why = "envelope cannot be written out";
	envelope_free(&evp);
	if (why != NULL) {
		queue_admin_fail(m.reqid, why);
		return;
	}
	msg_send_queue_show_envelope_result(env->peers[PROC_CONTROL],
	    &(struct msg_queue_show_envelope_result){ .reqid = m.reqid,
	    .text = text });
}

void
queue_on_show_message(struct mproc *p, struct imsg *imsg)
{
	struct msg_queue_show_message	m;
	int				fd = -1;

	if (msg_unpack_queue_show_message(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	switch (queue_open_message_read(m.msgid, &fd)) {
	case QUEUE_OK:
		msg_send_queue_show_message_result(env->peers[PROC_CONTROL],
		    &(struct msg_queue_show_message_result){ .reqid = m.reqid,
		    .fd = fd });
		break;
	case QUEUE_NOTFOUND:
		queue_admin_fail(m.reqid, "no such message");
		break;
	default:
		queue_admin_fail(m.reqid, "message cannot be opened now, "
		    "try again");
	}
}
