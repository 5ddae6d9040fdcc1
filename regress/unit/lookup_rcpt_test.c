/*
 * lookup_rcpt_test.c -- the IMSG_LOOKUP_EXPAND_RCPT handler
 * (smtpd/lookup/lookup_rcpt.c) driven over a socketpair, as the
 * dispatcher would: two mproc channels on one event loop, the
 * dispatcher's end sending requests, the lookup end's handler table
 * calling lookup_rcpt_on_expand.  The alias table is a real helper,
 * obj/libexec/table-file (`proc-file:`), so answers come later, from
 * the loop.  Checked: each request gets its envelopes and then exactly
 * one result under its own reqid, several requests in flight at once,
 * the envelopes decode and carry the expansion, an envelope that does
 * not load is a 451 (no crash), and missing rules are a 451.  Every
 * wait is bounded; the helper is stopped and reaped by the table layer.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "lookup_expand.h"
#include "mproc.h"
#include "smtpd.h"
#include "table.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;

#define RQ_MAX		12
#define RQ_EVP_MAX	8
#define RQ_WAIT_MS	20000

/* what came back for one reqid */
struct rq {
	int		nresult;
	int		code;
	char		text[256];
	int		nevp;
	int		after_result;	/* envelopes after the result */
	struct envelope	evp[RQ_EVP_MAX];
};

static struct event_base	*t_evb;
static struct lookup_rules	*t_rules;
static struct rq		 t_rq[RQ_MAX];
static struct table		*t_tables[8];
static size_t			 t_ntables;
static char			 t_dir[64];

static void
t_on_envelope(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_expand_rcpt_envelope	 m;
	struct rq				*q;
	char					 err[256];

	(void)p;
	if (msg_unpack_lookup_expand_rcpt_envelope(imsg, &m) == -1 ||
	    m.reqid >= RQ_MAX)
		return;
	q = &t_rq[m.reqid];
	if (q->nresult > 0)
		q->after_result++;
	if (q->nevp < RQ_EVP_MAX && envelope_load(&q->evp[q->nevp],
	    m.envelope, m.envelope_len, err, sizeof err) == -1)
		printf("# envelope does not load: %s\n", err);
	q->nevp++;
}

static void
t_on_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_expand_rcpt_result	m;

	(void)p;
	if (msg_unpack_lookup_expand_rcpt_result(imsg, &m) == -1 ||
	    m.reqid >= RQ_MAX)
		return;
	t_rq[m.reqid].nresult++;
	t_rq[m.reqid].code = m.code;
	snprintf(t_rq[m.reqid].text, sizeof t_rq[0].text, "%s", m.text);
}

static int			 t_close_after;	/* close the lookup end */

/* the lookup end: what lookup.c's handler does */
static void
t_on_expand(struct mproc *p, struct imsg *imsg)
{
	lookup_rcpt_on_expand(t_rules, p, imsg);
	if (t_close_after)
		mproc_close(p, "test: the dispatcher is gone");
}

static const struct imsg_handler t_disp_handlers[] = {
	{ IMSG_LOOKUP_EXPAND_RCPT_ENVELOPE, PROC_LOOKUP, t_on_envelope },
	{ IMSG_LOOKUP_EXPAND_RCPT_RESULT, PROC_LOOKUP, t_on_result },
};
static const struct imsg_handler t_lookup_handlers[] = {
	{ IMSG_LOOKUP_EXPAND_RCPT, PROC_DISPATCHER, t_on_expand },
};

/* t_send - one request: RCPT from the socket, as REQID */
static void
t_send(struct mproc *disp, uint64_t reqid, const char *user,
    const char *domain)
{
	struct envelope	e;
	char		buf[ENVELOPE_TEXT_MAX + 1];
	int		len;

	memset(&e, 0, sizeof e);
	e.version = ENVELOPE_VERSION;
	e.ss.ss_family = AF_UNIX;
	snprintf(e.sender.user, sizeof e.sender.user, "root");
	snprintf(e.sender.domain, sizeof e.sender.domain, "localhost");
	snprintf(e.rcpt.user, sizeof e.rcpt.user, "%s", user);
	snprintf(e.rcpt.domain, sizeof e.rcpt.domain, "%s", domain);
	e.dest = e.rcpt;
	len = envelope_dump(&e, buf, sizeof buf);
	if (len <= 0) {
		printf("# cannot dump the request\n");
		return;
	}
	msg_send_lookup_expand_rcpt(disp, &(struct msg_lookup_expand_rcpt){
	    .reqid = reqid, .envelope = buf, .envelope_len = (size_t)len });
}

/* t_wait - run the loop until every reqid below N has its result */
static int
t_wait(uint64_t n)
{
	struct timeval	tv = { 0, 10000 };
	uint64_t	i;
	int		loops, all = 0;

	for (loops = 0; !all && loops < RQ_WAIT_MS / 10; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
		for (all = 1, i = 0; i < n; i++)
			if (t_rq[i].nresult == 0)
				all = 0;
	}
	return all;
}

/* t_find - the envelope of Q to USER, or NULL */
static const struct envelope *
t_find(const struct rq *q, const char *user, enum envelope_type type)
{
	int	i;

	for (i = 0; i < q->nevp && i < RQ_EVP_MAX; i++)
		if (strcmp(q->evp[i].dest.user, user) == 0 &&
		    q->evp[i].type == type)
			return &q->evp[i];
	return NULL;
}

static struct table *
t_find_table(void *arg, const char *name)
{
	size_t	i;

	(void)arg;
	for (i = 0; i < t_ntables; i++)
		if (strcmp(table_name(t_tables[i]), name) == 0)
			return t_tables[i];
	return NULL;
}

static void
t_on_closed(void *arg, int r, const char *value)
{
	(void)r;
	(void)value;
	(*(int *)arg)++;
}

/* t_setup - configuration with a helper alias table; 0 or -1 */
static int
t_setup(struct smtpd_conf **confp)
{
	struct lookup_params	 p;
	struct smtpd_conf	*conf;
	const struct conf_table	*ct;
	char			 libexec[PATH_MAX], path[128], text[1024];
	char			 err[512];
	FILE			*fp;
	size_t			 i;

	if (test_build_path("libexec", libexec, sizeof libexec)[0] == '\0')
		return -1;
	snprintf(path, sizeof path, "%s/aliases", t_dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "staff: alice, bob\nfar: someone@remote.example\n"
	    "l1: l2\nl2: l1\n");
	fclose(fp);
	snprintf(path, sizeof path, "%s/blocked", t_dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "blocked.example\n*.blocked.example\n");
	fclose(fp);
	snprintf(path, sizeof path, "%s/aliases", t_dir);
	snprintf(text, sizeof text,
	    "table blocked proc-file:%s/blocked\n"
	    "table aliases proc-file:%s\n"
	    "table users { alice = \"1000:1000:/home/alice\", "
	    "bob = \"1001:1001:/home/bob\" }\n"
	    "action \"local\" mbox alias <aliases> userbase <users>\n"
	    "action out relay\n"
	    "match from any for domain <blocked> reject\n"
	    "match from any for local action \"local\"\n"
	    "match from local for any action out\n", t_dir, path);
	conf = conf_load_string("rcpt.conf", text, strlen(text), NULL, 0,
	    stderr, libexec);
	if ((*confp = conf) == NULL)
		return -1;
	for (i = 0; i < conf->ntables && i < 8; i++) {
		ct = conf->tables[i];
		t_tables[i] = table_create(ct->name,
		    strcmp(ct->backend, "inline") == 0 ? "static" :
		    ct->backend, ct->config, libexec, err, sizeof err);
		if (t_tables[i] == NULL) {
			printf("# %s\n", err);
			return -1;
		}
		t_ntables++;
		for (size_t j = 0; j < ct->nentries; j++)
			(void)table_add(t_tables[i], ct->entries[j].key,
			    ct->entries[j].value, err, sizeof err);
		if (table_open(t_tables[i], t_evb, err, sizeof err) == -1)
			return -1;
	}
	memset(&p, 0, sizeof p);
	p.server_name = "mx.test.example";
	p.table_find = t_find_table;
	p.no_interfaces = 1;
	t_rules = lookup_rules_new(conf, &p, err, sizeof err);
	return t_rules != NULL ? 0 : -1;
}

int
main(void)
{
	struct smtpd_conf	*conf = NULL;
	struct mproc		*disp, *lk;
	struct lookup_rules	*saved;
	const struct envelope	*e;
	size_t			 i;
	int			 sv[2], closed = 0, loops;
	struct timeval		 tv = { 0, 10000 };

	env = &test_env;
	log_init(1, 0);
	t_evb = event_base_new();
	env->evb = t_evb;
	snprintf(t_dir, sizeof t_dir, "/tmp/lookup_rcpt.XXXXXX");
	if (mkdtemp(t_dir) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1) {
		perror("setup");
		return 1;
	}
	CHECK(t_setup(&conf) == 0, "configuration with a helper table");
	disp = mproc_new(t_evb, PROC_DISPATCHER, sv[0], PROC_LOOKUP, 1,
	    t_disp_handlers, 2, NULL);
	lk = mproc_new(t_evb, PROC_LOOKUP, sv[1], PROC_DISPATCHER, 1,
	    t_lookup_handlers, 1, NULL);

	/* several requests in flight at once */
	t_send(disp, 0, "staff", "localhost");
	t_send(disp, 1, "alice", "localhost");
	t_send(disp, 2, "nosuch", "localhost");
	t_send(disp, 3, "far", "localhost");
	t_send(disp, 4, "someone", "remote.example");
	t_send(disp, 5, "l1", "localhost");
	CHECK(t_wait(6), "every request answered");
	for (i = 0; i < 6; i++)
		CHECK(t_rq[i].nresult == 1 && t_rq[i].after_result == 0,
		    "exactly one result, after the envelopes");
	CHECK(t_rq[0].code == 250 && t_rq[0].nevp == 2 &&
	    t_find(&t_rq[0], "alice", ENVELOPE_MDA) != NULL &&
	    t_find(&t_rq[0], "bob", ENVELOPE_MDA) != NULL,
	    "staff: two mda envelopes through the helper alias table");
	e = t_find(&t_rq[0], "alice", ENVELOPE_MDA);
	CHECK(e != NULL && strcmp(e->dispatcher, "local") == 0 &&
	    strcmp(e->mda_user, "alice") == 0 &&
	    strcmp(e->rcpt.user, "staff") == 0,
	    "decoded envelope: dispatcher, mda_user, rcpt as given");
	CHECK(t_rq[1].code == 250 && t_rq[1].nevp == 1, "alice: one");
	CHECK(t_rq[2].code == 550 && t_rq[2].nevp == 0 &&
	    strcmp(t_rq[2].text, "5.1.1 Invalid recipient") == 0,
	    "unknown user: 550 5.1.1, no envelope");
	CHECK(t_rq[3].code == 250 &&
	    t_find(&t_rq[3], "someone", ENVELOPE_MTA) != NULL,
	    "alias to a remote address: an mta envelope");
	CHECK(t_rq[4].code == 250 && t_rq[4].nevp == 1 &&
	    t_rq[4].evp[0].type == ENVELOPE_MTA &&
	    strcmp(t_rq[4].evp[0].dispatcher, "out") == 0,
	    "local client to a remote domain: relayed");
	CHECK(t_rq[5].code == 524 && t_rq[5].nevp == 0,
	    "alias loop, nothing left: 524");

	/* a rule whose table is a helper: matched from the loop */
	t_send(disp, 6, "x", "sub.blocked.example");
	t_send(disp, 7, "x", "fine.example");
	CHECK(t_wait(8) && t_rq[6].code == 550 && t_rq[6].nevp == 0 &&
	    strcmp(t_rq[6].text, "5.7.1 Invalid recipient") == 0,
	    "reject rule on a helper domain table: 550 5.7.1");
	CHECK(t_rq[7].code == 250 && t_rq[7].nevp == 1,
	    "helper domain table: other domain relayed");

	/* an envelope that does not load */
	msg_send_lookup_expand_rcpt(disp, &(struct msg_lookup_expand_rcpt){
	    .reqid = 8, .envelope = "garbage\n", .envelope_len = 8 });
	CHECK(t_wait(9) && t_rq[8].code == 451 && t_rq[8].nevp == 0,
	    "bad envelope text: 451, the process goes on");

	/* rules not loaded */
	saved = t_rules;
	t_rules = NULL;
	t_send(disp, 9, "alice", "localhost");
	CHECK(t_wait(10) && t_rq[9].code == 451, "no rules: 451");
	t_rules = saved;

	/* the channel closes while a helper answer is pending */
	t_close_after = 1;
	t_send(disp, 10, "staff", "localhost");
	for (loops = 0; loops < 50; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
	}
	CHECK(t_rq[10].nresult == 0 && lk->closed,
	    "channel closed mid-expansion: the late answer is dropped");

	lookup_rules_free(&t_rules);

	mproc_free(&disp);
	mproc_free(&lk);
	for (i = 0; i < t_ntables; i++)
		table_close(t_tables[i], t_on_closed, &closed);
	for (loops = 0; closed < (int)t_ntables && loops < 500; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
	}
	for (i = 0; i < t_ntables; i++)
		table_free(&t_tables[i]);
	conf_free(&conf);
	{
		char	path[128];

		snprintf(path, sizeof path, "%s/aliases", t_dir);
		unlink(path);
		snprintf(path, sizeof path, "%s/blocked", t_dir);
		unlink(path);
		rmdir(t_dir);
	}
	event_base_free(t_evb);
	return test_done();
}
