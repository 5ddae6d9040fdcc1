/*
 * lookup_userinfo.c -- the account a local delivery runs as.
 *
 * Before it asks the parent to start a delivery, the dispatcher's mda
 * agent asks us (IMSG_LOOKUP_USERINFO) for the uid, gid and home of the
 * envelope's delivery user, looked up in the action's userbase: a
 * `userbase` table (virtual users: uid:gid:home) or, by default, the
 * system's accounts.  The answer is found and vouched for here, where the
 * rules verified the recipient at RCPT time, so both use one source.
 * Completion-based over the table API; answers for a dispatcher that is
 * gone are dropped.  Never blocks, never fatal on a table's answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "lookup_expand.h"
#include "smtpd.h"
#include "xmalloc.h"

struct lookup_userinfo {
	struct mproc	*p;
	uint64_t	 reqid;
	char		 user[TABLE_USER_MAX];
};

static void
lookup_userinfo_answer(struct lookup_userinfo *q, int r,
    const struct table_userinfo *ui)
{
	if (!q->p->closed)
		msg_send_lookup_userinfo_result(q->p,
		    &(struct msg_lookup_userinfo_result){ .reqid = q->reqid,
		    .r = r, .uid = r == 1 ? (uint32_t)ui->uid : 0,
		    .gid = r == 1 ? (uint32_t)ui->gid : 0,
		    .home = r == 1 ? ui->directory : "" });
	free(q);
}

static void
lookup_userinfo_on_value(void *arg, int r, const char *value)
{
	struct lookup_userinfo	*q = arg;
	struct table_userinfo	 ui;
	char			 err[128];

	if (r == 1 && table_parse_userinfo(value, &ui, err, sizeof err) == -1) {
		log_warnx("lookup: userinfo of %s: %s", q->user, err);
		r = -1;
	}
	lookup_userinfo_answer(q, r, &ui);
}

/* lookup_userinfo_on_request - the handler of IMSG_LOOKUP_USERINFO */
void
lookup_userinfo_on_request(struct lookup_rules *rules, struct mproc *p,
    struct imsg *imsg)
{
	struct msg_lookup_userinfo	 m;
	struct lookup_userinfo		*q;
	const struct conf_action	*a;

	if (msg_unpack_lookup_userinfo(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->reqid = m.reqid;
	if (rules == NULL ||
	    (a = conf_action_find(env->conf, m.action)) == NULL ||
	    strlcpy(q->user, m.user, sizeof q->user) >= sizeof q->user) {
		log_warnx("lookup: userinfo of %s for action %s: no such "
		    "action or user too long", m.user, m.action);
		lookup_userinfo_answer(q, -1, NULL);
		return;
	}
	table_lookup(lookup_rules_userbase(rules, a), K_USERINFO, q->user,
	    lookup_userinfo_on_value, q);
}
