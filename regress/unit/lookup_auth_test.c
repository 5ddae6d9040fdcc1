/*
 * lookup_auth_test.c -- the checking side of SMTP AUTH: lookup's
 * IMSG_LOOKUP_CHECK_CREDENTIALS and _SENDER handlers (lookup_auth.c)
 * and the parent's IMSG_PARENT_CHECK_PASSWORD (parent_auth.c), driven
 * over socketpairs as the dispatcher would, plus `from auth <table>`
 * rules (lookup_rules.c) on an authenticated envelope (AUTH-04, 05, 08,
 * 09; CTL-24).
 *
 * The credentials file is written with hashes printed by the built
 * smtpctl encrypt (the round trip the manual promises); a user name
 * may hold "@".  Checked: right password 1, wrong 0, unknown user 0,
 * a table that does not exist -1, a bad hash in the table not a yes;
 * senders: listed address, "@domain", other address, <>, user without
 * entry; rules: `from auth <t>` matches a listed authenticated user
 * only.  The system accounts: an unknown user is 0; as root, a user
 * the test creates (useradd, removed at the end) with a known password
 * is 1 and a wrong password 0; as an ordinary user that part is not run.
 * Every wait is bounded.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <limits.h>
#include <netinet/in.h>
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
#include "password.h"
#include "smtpd.h"
#include "table.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;

/* parent_auth.c (smtpd/parent/parent.h is not on the tests' path) */
void	parent_on_check_password(struct mproc *, struct imsg *);

#define RQ_MAX		32
#define WAIT_MS		10000

static struct event_base	*t_evb;
static struct lookup_rules	*t_rules;
static struct table		*t_tables[8];
static size_t			 t_ntables;
static char			 t_dir[64];
static int			 t_r[RQ_MAX];	/* -2: no answer yet */
static int			 t_match;	/* -2: no answer yet */
static const struct conf_rule	*t_rule;

static void
t_on_cred(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_check_credentials_result	m;

	if (msg_unpack_lookup_check_credentials_result(imsg, &m) == 0 &&
	    m.reqid < RQ_MAX)
		t_r[m.reqid] = m.r;
}

static void
t_on_sender(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_check_sender_result	m;

	if (msg_unpack_lookup_check_sender_result(imsg, &m) == 0 &&
	    m.reqid < RQ_MAX)
		t_r[m.reqid] = m.r;
}

static void
t_on_password(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_check_password_result	m;

	if (msg_unpack_parent_check_password_result(imsg, &m) == 0 &&
	    m.reqid < RQ_MAX)
		t_r[m.reqid] = m.r;
}

static void
t_lookup_cred(struct mproc *p, struct imsg *imsg)
{
	lookup_auth_on_check_credentials(t_rules, p, imsg);
}

static void
t_lookup_sender(struct mproc *p, struct imsg *imsg)
{
	lookup_auth_on_check_sender(t_rules, p, imsg);
}

static const struct imsg_handler t_disp_handlers[] = {
	{ IMSG_LOOKUP_CHECK_CREDENTIALS_RESULT, PROC_LOOKUP, t_on_cred },
	{ IMSG_LOOKUP_CHECK_SENDER_RESULT, PROC_LOOKUP, t_on_sender },
	{ IMSG_PARENT_CHECK_PASSWORD_RESULT, PROC_PARENT, t_on_password },
};
static const struct imsg_handler t_lookup_handlers[] = {
	{ IMSG_LOOKUP_CHECK_CREDENTIALS, PROC_DISPATCHER, t_lookup_cred },
	{ IMSG_LOOKUP_CHECK_SENDER, PROC_DISPATCHER, t_lookup_sender },
};
static const struct imsg_handler t_parent_handlers[] = {
	{ IMSG_PARENT_CHECK_PASSWORD, PROC_DISPATCHER,
	    parent_on_check_password },
};

/* t_wait - run the loop until reqid N is answered: its r, or -2 */
static int
t_wait(uint64_t n)
{
	struct timeval	tv = { 0, 10000 };
	int		loops;

	for (loops = 0; t_r[n] == -2 && loops < WAIT_MS / 10; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
	}
	return t_r[n];
}

static int
t_cred(struct mproc *disp, uint64_t id, const char *table, const char *user,
    const char *pass)
{
	msg_send_lookup_check_credentials(disp,
	    &(struct msg_lookup_check_credentials){ .reqid = id,
	    .table = table, .user = user, .password = pass });
	return t_wait(id);
}

static int
t_sender(struct mproc *disp, uint64_t id, const char *user,
    const char *sender)
{
	msg_send_lookup_check_sender(disp, &(struct msg_lookup_check_sender){
	    .reqid = id, .table = "sendmap", .user = user, .sender = sender });
	return t_wait(id);
}

static int
t_password(struct mproc *disp, uint64_t id, const char *user,
    const char *pass)
{
	msg_send_parent_check_password(disp,
	    &(struct msg_parent_check_password){ .reqid = id, .user = user,
	    .password = pass });
	return t_wait(id);
}

static struct table *
t_find_table(void *arg, const char *name)
{
	size_t	i;

	for (i = 0; i < t_ntables; i++)
		if (strcmp(table_name(t_tables[i]), name) == 0)
			return t_tables[i];
	return NULL;
}

/* t_encrypt - the hash smtpctl encrypt prints for PASS in BUF: 0, -1 */
static int
t_encrypt(const char *pass, char *buf, size_t bufsz)
{
	char	smtpctl[PATH_MAX], cmd[PATH_MAX + 64];
	FILE	*p;
	size_t	n;

	if (test_build_path("smtpctl", smtpctl, sizeof smtpctl)[0] == '\0')
		return -1;
	snprintf(cmd, sizeof cmd, "'%s' encrypt '%s'", smtpctl, pass);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(buf, (int)bufsz, p) == NULL)
		buf[0] = '\0';
	if (pclose(p) != 0)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return strncmp(buf, "$6$", 3) == 0 ? 0 : -1;
}

/* t_setup - the tables and rules; 0 or -1 */
static int
t_setup(struct smtpd_conf **confp)
{
	struct lookup_params	 p;
	struct smtpd_conf	*conf;
	const struct conf_table	*ct;
	char			 libexec[PATH_MAX], path[128], text[1024];
	char			 err[512], h1[PASSWORD_HASH_MAX];
	char			 h2[PASSWORD_HASH_MAX];
	FILE			*fp;
	size_t			 i, j;

	if (test_build_path("libexec", libexec, sizeof libexec)[0] == '\0' ||
	    t_encrypt("secret", h1, sizeof h1) == -1 ||
	    t_encrypt("p@ss word", h2, sizeof h2) == -1)
		return -1;
	CHECK(strcmp(h1, h2) != 0, "smtpctl encrypt: $6$ hashes, each salted");
	snprintf(path, sizeof path, "%s/creds", t_dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "alice %s\nbob@example.org %s\nbroken notahash\n", h1, h2);
	fclose(fp);
	snprintf(path, sizeof path, "%s/senders", t_dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "alice alice@example.org, @alias.example, postmaster\n");
	fclose(fp);
	snprintf(text, sizeof text,
	    "table creds file:%s/creds\n"
	    "table sendmap file:%s/senders\n"
	    "table authusers { alice }\n"
	    "action out relay\n"
	    "match from auth <authusers> for any action out\n",
	    t_dir, t_dir);
	conf = conf_load_string("auth.conf", text, strlen(text), NULL, 0,
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
		for (j = 0; j < ct->nentries; j++)
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

static void
t_on_match(void *arg, int r, const struct conf_rule *rule)
{
	t_match = r;
	t_rule = rule;
}

/* t_rules_match - does an envelope of USER (NULL: anonymous) match */
static int
t_rules_match(const char *user)
{
	struct envelope		 e;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&e.ss;
	struct timeval		 tv = { 0, 10000 };
	int			 loops;

	memset(&e, 0, sizeof e);
	e.version = ENVELOPE_VERSION;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0xc0000201);	/* 192.0.2.1 */
	snprintf(e.sender.user, sizeof e.sender.user, "a");
	snprintf(e.sender.domain, sizeof e.sender.domain, "example.org");
	snprintf(e.rcpt.user, sizeof e.rcpt.user, "x");
	snprintf(e.rcpt.domain, sizeof e.rcpt.domain, "remote.example");
	e.dest = e.rcpt;
	if (user != NULL) {
		snprintf(e.username, sizeof e.username, "%s", user);
		e.flags |= ENVELOPE_F_AUTHENTICATED;
	}
	t_match = -2;
	t_rule = NULL;
	lookup_rules_match(t_rules, &e, 0, t_on_match, NULL);
	for (loops = 0; t_match == -2 && loops < WAIT_MS / 10; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
	}
	return t_match == 1 && t_rule != NULL;
}

/* t_system - the parent's check of a system account */
static void
t_system(struct mproc *disp)
{
	char	user[32], hash[PASSWORD_HASH_MAX], cmd[512];
	int	ok;

	CHECK(t_password(disp, 20, "no-such-user-smtpd-test", "x") == 0,
	    "system: unknown user -> 0");
	if (getuid() != 0) {
		test_not_run("system accounts: a user can be created (and "
		    "the shadow file read) only as root");
		return;
	}
	snprintf(user, sizeof user, "smtpdau%d", (int)getpid() % 100000);
	if (password_hash("sys secret", hash, sizeof hash) == -1 ||
	    snprintf(cmd, sizeof cmd, "useradd -M -N -s /bin/false "
	    "-p '%s' %s >/dev/null 2>&1", hash, user) >= (int)sizeof cmd ||
	    system(cmd) != 0) {
		test_not_run("system accounts: useradd failed");
		return;
	}
	ok = t_password(disp, 21, user, "sys secret");
	CHECK(ok == 1, "system: a created user, right password -> 1");
	CHECK(t_password(disp, 22, user, "sys secreT") == 0,
	    "system: wrong password -> 0");
	snprintf(cmd, sizeof cmd, "userdel %s >/dev/null 2>&1", user);
	CHECK(system(cmd) == 0, "system: the user removed");
}

static void
t_on_closed(void *arg, int r, const char *value)
{
	(*(int *)arg)++;
}

int
main(void)
{
	struct smtpd_conf	*conf = NULL;
	struct mproc		*disp, *lk, *pdisp, *parent;
	struct timeval		 tv = { 0, 10000 };
	char			 path[128];
	size_t			 i;
	int			 sv[2], pv[2], closed = 0, loops;

	env = &test_env;
	log_init(1, 0);
	t_evb = event_base_new();
	env->evb = t_evb;
	for (i = 0; i < RQ_MAX; i++)
		t_r[i] = -2;
	snprintf(t_dir, sizeof t_dir, "/tmp/lookup_auth.XXXXXX");
	if (mkdtemp(t_dir) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pv) == -1) {
		perror("setup");
		return 1;
	}
	if (t_setup(&conf) == -1) {
		CHECK(0, "configuration, tables, smtpctl encrypt");
		return test_done();
	}
	disp = mproc_new(t_evb, PROC_DISPATCHER, sv[0], PROC_LOOKUP, 1,
	    t_disp_handlers, 3, NULL);
	lk = mproc_new(t_evb, PROC_LOOKUP, sv[1], PROC_DISPATCHER, 1,
	    t_lookup_handlers, 2, NULL);
	pdisp = mproc_new(t_evb, PROC_DISPATCHER, pv[0], PROC_PARENT, 1,
	    t_disp_handlers, 3, NULL);
	parent = mproc_new(t_evb, PROC_PARENT, pv[1], PROC_DISPATCHER, 1,
	    t_parent_handlers, 1, NULL);

	CHECK(t_cred(disp, 0, "creds", "alice", "secret") == 1,
	    "credentials: alice, right password (smtpctl encrypt's hash)");
	CHECK(t_cred(disp, 1, "creds", "alice", "Secret") == 0,
	    "credentials: wrong password -> 0");
	CHECK(t_cred(disp, 2, "creds", "bob@example.org", "p@ss word") == 1,
	    "credentials: a user name with @, a password with a blank");
	CHECK(t_cred(disp, 3, "creds", "carol", "secret") == 0,
	    "credentials: unknown user -> 0");
	CHECK(t_cred(disp, 4, "creds", "broken", "notahash") == 0,
	    "credentials: an entry that is not a hash grants nothing");
	CHECK(t_cred(disp, 5, "nosuch", "alice", "secret") == -1,
	    "credentials: no such table -> -1");

	CHECK(t_sender(disp, 6, "alice", "alice@example.org") == 1,
	    "senders: a listed address");
	CHECK(t_sender(disp, 7, "alice", "Anyone@ALIAS.example") == 1,
	    "senders: @domain covers any user there");
	CHECK(t_sender(disp, 8, "alice", "postmaster@elsewhere.example") == 1,
	    "senders: a bare user name covers any domain");
	CHECK(t_sender(disp, 9, "alice", "bob@example.org") == 0,
	    "senders: another address -> 0");
	CHECK(t_sender(disp, 10, "alice", "") == 0, "senders: <> -> 0");
	CHECK(t_sender(disp, 11, "bob", "bob@example.org") == 0,
	    "senders: a user without an entry -> 0");

	CHECK(t_rules_match("alice"), "from auth <authusers>: alice matches");
	CHECK(!t_rules_match("carol"), "from auth <authusers>: carol not");
	CHECK(!t_rules_match(NULL), "from auth: anonymous not");

	t_system(pdisp);

	lookup_rules_free(&t_rules);
	mproc_free(&disp);
	mproc_free(&lk);
	mproc_free(&pdisp);
	mproc_free(&parent);
	for (i = 0; i < t_ntables; i++)
		table_close(t_tables[i], t_on_closed, &closed);
	for (loops = 0; closed < (int)t_ntables && loops < 500; loops++) {
		event_base_loopexit(t_evb, &tv);
		event_base_dispatch(t_evb);
	}
	for (i = 0; i < t_ntables; i++)
		table_free(&t_tables[i]);
	conf_free(&conf);
	snprintf(path, sizeof path, "%s/creds", t_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/senders", t_dir);
	unlink(path);
	rmdir(t_dir);
	event_base_free(t_evb);
	return test_done();
}
