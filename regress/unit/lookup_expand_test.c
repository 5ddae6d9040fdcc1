/*
 * lookup_expand_test.c -- unit tests of rule matching and recipient
 * expansion (smtpd/lookup/lookup_rules.c, lookup_expand.c,
 * lookup_forward.c): every match criterion with and without `!`, table
 * and regex operands, first-match order, no match (never an open
 * relay), each alias kind, virtual lookup order, userbase, sub-address,
 * forward-only and expand-only, loops, duplicates, the depth and count
 * limits, :include: of a FIFO / huge / missing file, ~/.forward through
 * a fake hook (refusal rules, root, a hook answering later on the
 * event loop), temporary failure from a table backend that fails, and
 * bad addresses.  Configurations are parsed from text by the real
 * parser, tables built in-process; files live in a private temporary
 * directory, removed at the end.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "lookup_expand.h"
#include "smtpd.h"
#include "table.h"
#include "test.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;
static char		test_dir[64];
static uid_t		test_me_uid;	/* "me": owns the .forward files */

#define TEST_TABLES_MAX	32
#define TEST_OUT_MAX	16

/* the configuration under test and its tables */
static struct smtpd_conf	*fx_conf;
static struct table		*fx_tables[TEST_TABLES_MAX];
static size_t			 fx_ntables;
static struct lookup_rules	*fx_rules;
static struct event_base	*fx_evb;

/* a client: what the dispatcher puts in the envelope */
struct client {
	const char	*addr;		/* NULL: the local socket */
	const char	*hostname;
	const char	*helo;
	const char	*tag;
	const char	*auth;		/* authenticated user, or NULL */
	const char	*sender;	/* NULL: <> */
};

static const struct client	c_socket = { NULL, "localhost", "localhost",
				    NULL, NULL, "root@localhost" };
static const struct client	c_remote = { "192.0.2.7", "mx.example.net",
				    "mx.example.net", NULL, NULL,
				    "someone@example.net" };

/* the outcome of one expansion */
struct outcome {
	int		ndone;
	int		code;
	char		text[256];
	int		n;
	struct envelope	evp[TEST_OUT_MAX];
};

/* ---- fake forward hook ------------------------------------------------- */

struct fwd_hook {
	const char	*user;		/* the one user with a .forward */
	const char	*path;		/* opened for that user */
	int		 error;		/* instead: -1 with this errno */
	int		 later;		/* answer from the event loop */
	int		 calls;		/* for user */
	int		 total;		/* for anyone */
};

static struct fwd_hook	fx_fwd;

struct fwd_later {
	lookup_forward_done_fn	 done;
	void			*arg;
	int			 fd;
	int			 error;
};

static void
fwd_on_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct fwd_later	*l = arg;

	(void)fd;
	(void)ev;
	l->done(l->arg, l->fd, l->error);
	free(l);
}

/* fwd_open - the fake hook: the parent's part, played in-process */
static void
fwd_open(void *hook_arg, const char *user, const char *home, uid_t uid,
    gid_t gid, lookup_forward_done_fn done, void *done_arg)
{
	struct fwd_hook		*h = hook_arg;
	struct fwd_later	*l;
	struct timeval		 tv = { 0, 1000 };
	int			 fd = -1, error = ENOENT;

	(void)home;
	(void)uid;
	(void)gid;
	h->total++;
	if (h->user != NULL && strcmp(user, h->user) == 0) {
		h->calls++;
		if (h->error != 0)
			error = h->error;
		else if ((fd = open(h->path, O_RDONLY | O_NONBLOCK)) == -1)
			error = errno;
	}
	if (!h->later) {
		done(done_arg, fd, error);
		return;
	}
	l = calloc(1, sizeof *l);
	l->done = done;
	l->arg = done_arg;
	l->fd = fd;
	l->error = error;
	event_base_once(fx_evb, -1, EV_TIMEOUT, fwd_on_timer, l, &tv);
}

/* ---- a table backend that fails ----------------------------------------- */

static int
fail_lookup(void *ctx, enum table_service s, const char *key, char *dst,
    size_t dstsz)
{
	(void)ctx; (void)s; (void)key; (void)dst; (void)dstsz;
	return -1;
}

static int
fail_check(void *ctx, enum table_service s, const char *key)
{
	(void)ctx; (void)s; (void)key;
	return -1;
}

static const struct table_backend	test_backend_fail = {
	.version = TABLE_BACKEND_V1,
	.name = "fail",
	.services = K_ANY,
	.lookup = fail_lookup,
	.check = fail_check,
};

/* ---- fixture ------------------------------------------------------------ */

static struct table *
fx_find(void *arg, const char *name)
{
	size_t	i;

	(void)arg;
	for (i = 0; i < fx_ntables; i++)
		if (strcmp(table_name(fx_tables[i]), name) == 0)
			return fx_tables[i];
	return NULL;
}

static void
fx_teardown(void)
{
	size_t	i;

	lookup_rules_free(&fx_rules);
	for (i = 0; i < fx_ntables; i++) {
		if (fx_tables[i]->backend == &test_backend_fail)
			fx_tables[i]->backend = &table_backend_static;
		table_free(&fx_tables[i]);
	}
	fx_ntables = 0;
	conf_free(&fx_conf);
}

/*
 * fx_setup - parse TEXT (%%D, once formatted %D, is the temporary
 * directory), build its
 * tables; a table named "failing" gets the failing backend.  0 or -1.
 */
static int
fx_setup(const char *fmt, ...)
{
	struct lookup_params	 p;
	struct table		*t;
	const struct conf_table	*ct;
	char			 text[8192], err[512];
	const char		*f;
	size_t			 i, j, n = 0;
	va_list			 ap;
	char			 tmp[4096];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	for (f = tmp; *f != '\0' && n + 64 < sizeof text; f++) {
		if (f[0] == '%' && f[1] == 'D') {
			n += (size_t)snprintf(text + n, sizeof text - n, "%s",
			    test_dir);
			f++;
		} else
			text[n++] = *f;
	}
	text[n] = '\0';
	fx_teardown();
	fx_conf = conf_load_string("test.conf", text, strlen(text), NULL, 0,
	    stderr, NULL);
	if (fx_conf == NULL)
		return -1;
	for (i = 0; i < fx_conf->ntables && i < TEST_TABLES_MAX; i++) {
		ct = fx_conf->tables[i];
		t = table_create(ct->name, strcmp(ct->backend, "inline") == 0 ?
		    "static" : ct->backend, ct->config, NULL, err, sizeof err);
		if (t == NULL) {
			printf("# table %s: %s\n", ct->name, err);
			return -1;
		}
		for (j = 0; j < ct->nentries; j++)
			(void)table_add(t, ct->entries[j].key,
			    ct->entries[j].value, err, sizeof err);
		(void)table_open(t, fx_evb, err, sizeof err);
		if (strcmp(ct->name, "failing") == 0)
			t->backend = &test_backend_fail;
		fx_tables[fx_ntables++] = t;
	}
	memset(&p, 0, sizeof p);
	p.server_name = "mx.test.example";
	p.subaddr_delim = fx_conf->sub_addr_delim;
	p.alias_user = "_aliasuser";
	p.libexec = "/usr/libexec/test";
	p.forward_open = fwd_open;
	p.forward_arg = &fx_fwd;
	p.table_find = fx_find;
	p.no_interfaces = 1;
	if ((fx_rules = lookup_rules_new(fx_conf, &p, err, sizeof err)) ==
	    NULL) {
		printf("# rules: %s\n", err);
		return -1;
	}
	lookup_rules_add_local(fx_rules, "10.9.9.9");
	return 0;
}

/* fx_addr - split TEXT at its last '@' into A (no checks: bad input) */
static void
fx_addr(struct mailaddr *a, const char *text)
{
	const char	*at = strrchr(text, '@');

	memset(a, 0, sizeof *a);
	if (at == NULL) {
		snprintf(a->user, sizeof a->user, "%s", text);
		return;
	}
	snprintf(a->user, sizeof a->user, "%.*s", (int)(at - text), text);
	snprintf(a->domain, sizeof a->domain, "%s", at + 1);
}

/* fx_envelope - the envelope the dispatcher would send for C and RCPT */
static void
fx_envelope(struct envelope *e, const struct client *c, const char *rcpt)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&e->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&e->ss;

	memset(e, 0, sizeof *e);
	e->version = ENVELOPE_VERSION;
	if (c->addr == NULL)
		e->ss.ss_family = AF_UNIX;
	else if (inet_pton(AF_INET, c->addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, c->addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	snprintf(e->hostname, sizeof e->hostname, "%s",
	    c->hostname ? c->hostname : "");
	snprintf(e->helo, sizeof e->helo, "%s", c->helo ? c->helo : "");
	snprintf(e->tag, sizeof e->tag, "%s", c->tag ? c->tag : "");
	snprintf(e->smtpname, sizeof e->smtpname, "mx.test.example");
	if (c->auth != NULL) {
		e->flags |= ENVELOPE_F_AUTHENTICATED;
		snprintf(e->username, sizeof e->username, "%s", c->auth);
	}
	if (c->sender != NULL)
		fx_addr(&e->sender, c->sender);
	fx_addr(&e->rcpt, rcpt);
}

/* ---- matching ----------------------------------------------------------- */

struct match_answer {
	int			 done;
	int			 r;
	const struct conf_rule	*rule;
};

static void
on_match(void *arg, int r, const struct conf_rule *rule)
{
	struct match_answer	*m = arg;

	m->done++;
	m->r = r;
	m->rule = rule;
}

/* which - the action name of the first matching rule, or what else */
static const char *
which(const struct client *c, const char *rcpt, int internal)
{
	struct match_answer	m = { 0, 0, NULL };
	struct envelope		e;

	if (fx_rules == NULL)
		return "no-config";
	fx_envelope(&e, c, rcpt);
	lookup_rules_match(fx_rules, &e, internal, on_match, &m);
	if (m.done != 1)
		return "not-done";
	if (m.r == -1)
		return "tempfail";
	if (m.r == 0)
		return "none";
	return m.rule->reject ? "reject" : m.rule->action->name;
}

/* crit - load "action yes/no relay" and RULES */
static void
crit(const char *rules)
{
	if (fx_setup("table failing { x }\naction yes relay\n"
	    "action no relay\n%s", rules) == -1)
		printf("# could not load: %s\n", rules);
}

#define MATCH(c, rcpt, want, what) \
	CHECK_STR(which((c), (rcpt), 0), (want), (what))

static void
test_from(void)
{
	struct client	c = c_remote;

	crit("match from any for any action yes\n");
	MATCH(&c_remote, "a@b.example", "yes", "from any: remote client");
	MATCH(&c_socket, "a@b.example", "yes", "from any: socket");

	crit("match action yes\nmatch from any for any action no\n");
	MATCH(&c_socket, "a@localhost", "yes", "default from local for local");
	MATCH(&c_socket, "a@MX.Test.Example", "yes",
	    "for local: the server name, any case");
	MATCH(&c_socket, "a@[10.9.9.9]", "yes", "for local: address literal");
	MATCH(&c_socket, "a@elsewhere.example", "no",
	    "default for local refuses other domains");
	MATCH(&c_remote, "a@localhost", "no",
	    "default from local refuses remote clients");
	CHECK_STR(which(&c_remote, "a@localhost", 1), "yes",
	    "RULE-27: an expanded address is from local");

	crit("match from local for any action yes\nmatch from any for any "
	    "action no\n");
	c.addr = "10.9.9.9";
	MATCH(&c, "a@x.example", "yes",
	    "from local: a client on one of the host's addresses");
	MATCH(&c_socket, "a@x.example", "yes", "from local: the socket");
	MATCH(&c_remote, "a@x.example", "no", "from local: remote refused");

	crit("match from socket for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_socket, "a@x.example", "yes", "from socket: socket");
	MATCH(&c, "a@x.example", "no", "from socket: local TCP is not it");
	CHECK_STR(which(&c_socket, "a@x.example", 1), "no",
	    "from socket: an expanded address is not the socket");

	crit("table nets { 192.0.2.0/24, 2001:db8::/32 }\n"
	    "match from src <nets> for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "from src: in the CIDR");
	c.addr = "2001:db8::25";
	MATCH(&c, "a@x.example", "yes", "from src: IPv6 CIDR");
	c.addr = "198.51.100.1";
	MATCH(&c, "a@x.example", "no", "from src: outside");

	crit("match from src regex \"^192\\.0\\.2\\.\" for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "from src regex: matches");
	MATCH(&c, "a@x.example", "no", "from src regex: does not");

	crit("match from rdns for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "from rdns: has a name");
	c = c_remote;
	c.hostname = "";
	MATCH(&c, "a@x.example", "no", "from rdns: no name");

	crit("match from rdns \"*.example.net\" for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "from rdns NAME: wildcard");
	c.hostname = "mx.other.org";
	MATCH(&c, "a@x.example", "no", "from rdns NAME: other name");

	crit("match from rdns regex \"^mx\\.\" for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "from rdns regex");

	crit("match from auth for any action yes\n"
	    "match from any for any action no\n");
	c = c_remote;
	MATCH(&c, "a@x.example", "no", "from auth: anonymous");
	c.auth = "alice";
	MATCH(&c, "a@x.example", "yes", "from auth: authenticated");

	crit("match from auth { alice, carol } for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "from auth <t>: listed user");
	c.auth = "bob";
	MATCH(&c, "a@x.example", "no", "from auth <t>: other user");

	crit("match from auth regex \"^b\" for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "from auth regex");

	crit("match from mail-from \"@junk.example\" for any reject\n"
	    "match from any for any action yes\n");
	c = c_remote;
	c.sender = "spam@junk.example";
	MATCH(&c, "a@x.example", "reject", "from mail-from @domain");
	MATCH(&c_remote, "a@x.example", "yes", "from mail-from: other sender");
	c.sender = NULL;
	MATCH(&c, "a@x.example", "yes", "from mail-from: null sender");

	crit("match from mail-from regex \"^spam@\" for any reject\n"
	    "match from any for any action yes\n");
	c.sender = "spam@junk.example";
	MATCH(&c, "a@x.example", "reject", "from mail-from regex");
}

static void
test_for(void)
{
	crit("match from any for any action yes\n");
	MATCH(&c_remote, "a@anything.example", "yes", "for any");

	crit("match from any for domain { example.org, \"*.example.org\" } "
	    "action yes\nmatch from any for any action no\n");
	MATCH(&c_remote, "a@example.org", "yes", "for domain: exact");
	MATCH(&c_remote, "a@Sub.Example.ORG", "yes",
	    "for domain: wildcard, case folded");
	MATCH(&c_remote, "a@example.net", "no", "for domain: other");

	crit("match from any for domain regex \"^(mail\\.)?example\\."
	    "(com|org)$\" action yes\nmatch from any for any action no\n");
	MATCH(&c_remote, "a@mail.example.com", "yes", "for domain regex");
	MATCH(&c_remote, "a@web.example.com", "no", "for domain regex: no");

	crit("table rcpts { bob@example.org, \"@team.example\", carol }\n"
	    "match from any for rcpt-to <rcpts> action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "bob@example.org", "yes", "for rcpt-to: address");
	MATCH(&c_remote, "x@team.example", "yes", "for rcpt-to: @domain");
	MATCH(&c_remote, "carol+tag@any.example", "yes",
	    "for rcpt-to: user, tagged key");
	MATCH(&c_remote, "alice@example.org", "no", "for rcpt-to: other");

	crit("match from any for rcpt-to regex \"^post\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "postmaster@x.example", "yes", "for rcpt-to regex");
}

static void
test_other_criteria(void)
{
	struct client	c = c_remote;

	crit("match from any for any tag t1 action yes\n"
	    "match from any for any action no\n");
	c.tag = "t1";
	MATCH(&c, "a@x.example", "yes", "tag: same tag");
	c.tag = "t2";
	MATCH(&c, "a@x.example", "no", "tag: other tag");
	MATCH(&c_remote, "a@x.example", "no", "tag: untagged session");
	crit("match from any for any tag regex \"^t[0-9]$\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "tag regex");

	crit("match from any for any helo \"*.example.net\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "helo: wildcard");
	c = c_remote;
	c.helo = "[192.0.2.7]";
	MATCH(&c, "a@x.example", "no", "helo: other");
	crit("match from any for any helo regex \"^\\[\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "helo regex");

	crit("match from any for any auth action yes\n"
	    "match from any for any action no\n");
	c = c_remote;
	MATCH(&c, "a@x.example", "no", "auth: anonymous");
	MATCH(&c_socket, "a@x.example", "yes",
	    "auth: the socket counts as authenticated");
	c.auth = "alice";
	MATCH(&c, "a@x.example", "yes", "auth: authenticated");
	crit("match from any for any !auth reject\n"
	    "match from any for any action yes\n");
	MATCH(&c_remote, "a@x.example", "reject", "!auth catches anonymous");
	MATCH(&c, "a@x.example", "yes", "!auth: authenticated passes");
	crit("match from any for any auth { alice } action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "auth <t>: listed");
	c.auth = "bob";
	MATCH(&c, "a@x.example", "no", "auth <t>: not listed");
	crit("match from any for any auth regex \"^b\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c, "a@x.example", "yes", "auth regex");

	crit("match from any for any mail-from \"@example.net\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "mail-from: @domain");
	MATCH(&c_socket, "a@x.example", "no", "mail-from: other");
	crit("match from any for any mail-from regex \"^root@\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_socket, "a@x.example", "yes", "mail-from regex");

	crit("match from any for any rcpt-to \"bob@x.example\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "bob@x.example", "yes", "rcpt-to: address");
	MATCH(&c_remote, "ann@x.example", "no", "rcpt-to: other");
	crit("match from any for any rcpt-to regex \"^bob\" action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "bob@x.example", "yes", "rcpt-to regex");

	crit("match from any for any tls action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "no",
	    "tls: never yet (the envelope has no TLS state)");
	crit("match from any for any !tls action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "yes", "!tls");
}

static void
test_negation_order(void)
{
	struct client	c = c_remote;

	crit("match !from src 192.0.2.0/24 for any action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "no", "!from src: inside");
	c.addr = "198.51.100.9";
	MATCH(&c, "a@x.example", "yes", "!from src: outside");

	crit("match from any !for domain x.example action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "no", "!for domain: listed");
	MATCH(&c_remote, "a@y.example", "yes", "!for domain: other");

	crit("match !from local !for local action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@y.example", "yes", "!from local !for local");
	MATCH(&c_socket, "a@y.example", "no", "!from local: the socket");

	crit("match from any for domain x.example reject\n"
	    "match from any for any action yes\n");
	MATCH(&c_remote, "a@x.example", "reject",
	    "RULE-01: a reject placed first wins");
	crit("match from any for any action yes\n"
	    "match from any for domain x.example reject\n");
	MATCH(&c_remote, "a@x.example", "yes",
	    "RULE-01: an accept placed first wins");

	crit("match from local for any action yes\n");
	MATCH(&c_remote, "a@x.example", "none",
	    "no rule: remote to remote is not relayed");
	crit("match action yes\n");
	MATCH(&c_remote, "a@localhost", "none",
	    "defaults alone accept nothing remote");

	crit("match from any for domain <failing> action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "tempfail",
	    "RULE-26: a table failure is a temporary failure");
	crit("match from any !for domain <failing> action yes\n"
	    "match from any for any action no\n");
	MATCH(&c_remote, "a@x.example", "tempfail",
	    "a negated failing criterion is still a temporary failure");
	crit("match from any for domain x.example action yes\n"
	    "match from any for domain <failing> action no\n");
	MATCH(&c_remote, "a@x.example", "yes",
	    "a failing table after the match is not consulted");
	fx_teardown();
}

/* ---- expansion ---------------------------------------------------------- */

static void
on_envelope(void *arg, const struct envelope *e)
{
	struct outcome	*o = arg;

	if (o->n < TEST_OUT_MAX)
		o->evp[o->n] = *e;
	o->n++;
}

static void
on_done(void *arg, int code, const char *text)
{
	struct outcome	*o = arg;

	o->ndone++;
	o->code = code;
	snprintf(o->text, sizeof o->text, "%s", text);
}

/* expand - the outcome for C and RCPT; runs the loop until done */
static struct outcome *
expand(const struct client *c, const char *rcpt)
{
	static struct outcome	o;
	struct envelope		e;
	int			i;

	memset(&o, 0, sizeof o);
	if (fx_rules == NULL) {
		o.code = -1;
		return &o;
	}
	fx_envelope(&e, c, rcpt);
	lookup_expand_rcpt(fx_rules, &e, on_envelope, on_done, &o);
	for (i = 0; o.ndone == 0 && i < 2000; i++)
		event_base_loop(fx_evb, EVLOOP_ONCE | EVLOOP_NONBLOCK),
		    usleep(1000);
	return &o;
}

/* has - is there an envelope of TYPE to DEST (with MDA_USER if set) */
static const struct envelope *
has(const struct outcome *o, enum envelope_type type, const char *dest,
    const char *mda_user)
{
	char	d[MAILADDR_TEXT_SIZE];
	int	i;

	for (i = 0; i < o->n && i < TEST_OUT_MAX; i++) {
		snprintf(d, sizeof d, "%s@%s", o->evp[i].dest.user,
		    o->evp[i].dest.domain);
		if (o->evp[i].type == type && strcmp(d, dest) == 0 &&
		    (mda_user == NULL || strcmp(o->evp[i].mda_user,
		    mda_user) == 0))
			return &o->evp[i];
	}
	return NULL;
}

#define RESULT(o, c, n_, what) \
	CHECK((o)->ndone == 1 && (o)->code == (c) && (o)->n == (n_), what)

/* test_file - write DATA to NAME in the directory, owned by "me" */
static const char *
test_file(const char *name, const char *data, char *path, size_t pathsz)
{
	FILE	*fp;

	snprintf(path, pathsz, "%s/%s", test_dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(data, fp);
		fclose(fp);
	}
	if (getuid() == 0)
		(void)chown(path, test_me_uid, test_me_uid);
	return path;
}

static const char test_aliases[] =
	"# aliases of the test\n"
	"postmaster: alice\n"
	"staff: alice, bob\n"
	"dup: alice, alice, alice@localhost, bob, staff\n"
	"archive: /var/mail/archive\n"
	"ticket: \"|/usr/bin/ticket --new\"\n"
	"inc: :include:%D/list\n"
	"fifo: :include:%D/fifo\n"
	"huge: :include:%D/huge\n"
	"many: :include:%D/many\n"
	"missing: :include:%D/missing\n"
	"nobody: error:550 5.1.1 no such person here\n"
	"later: error:450 4.2.1 try later\n"
	"ext: someone@remote.example\n"
	"mixed: alice, someone@remote.example\n"
	"loop1: loop2\n"
	"loop2: loop1\n"
	"dave: dave, /var/mail/dave-archive\n"
	"alice+special: carol\n"
	"c0: c1\nc1: c2\nc2: c3\nc3: c4\nc4: c5\nc5: c6\nc6: c7\n"
	"c7: c8\nc8: c9\nc9: c10\nc10: c11\nc11: alice\n"
	"s0: s1\ns1: s2\ns2: s3\ns3: s4\ns4: alice\n"
	"tofail: alice@fail.example\n"
	"ghost: nosuchuser\n"
	"erin: erin@localhost\n"
	"frank: frank@LOCALHOST, bob\n"
	"gina: gina, bob\n"
	"hank: hank@remote.example, hank@localhost\n"
	"ivy: ivy@virt3.example\n"
	"spacey: \"/var/mail/my box\"\n"
	"quoty: \"/var/mail/it's\"\n"
	"fmt: /var/mail/%{rcpt}\n";

/* main_conf - the expansion configuration */
static int
main_conf(void)
{
	char	path[256], buf[8192];
	int	fd, i;
	size_t	n = 0;
	FILE	*fp;

	snprintf(buf, sizeof buf, "%s", test_aliases);
	/* %D in the file too */
	snprintf(path, sizeof path, "%s/aliases", test_dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '%' && buf[i + 1] == 'D') {
			fputs(test_dir, fp);
			i++;
		} else
			fputc(buf[i], fp);
	fclose(fp);
	test_file("list", "# a list\nalice\n\nbob, carol\n", path,
	    sizeof path);
	snprintf(path, sizeof path, "%s/fifo", test_dir);
	(void)mkfifo(path, 0600);
	snprintf(path, sizeof path, "%s/huge", test_dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1) {
		memset(buf, 'a', sizeof buf);
		for (i = 0; i < 10; i++)
			(void)write(fd, buf, sizeof buf);
		close(fd);
	}
	snprintf(path, sizeof path, "%s/many", test_dir);
	if ((fp = fopen(path, "w")) != NULL) {
		for (i = 0; i < LOOKUP_EXPAND_NODES_MAX + 1; i++)
			n += (size_t)fprintf(fp, "u%d@remote.example\n", i);
		fclose(fp);
	}
	(void)n;
	return fx_setup(
	    "table users { alice = \"1000:1000:/home/alice\", "
	    "bob = \"1001:1001:/home/bob\", carol = \"1002:1002:/home/carol\", "
	    "dave = \"1003:1003:/home/dave\", me = \"%u:%u:%%D\", "
	    "toor = \"0:0:/root\", erin = \"1004:1004:/home/erin\", "
	    "frank = \"1005:1005:/home/frank\", "
	    "gina = \"1006:1006:/home/gina\", "
	    "hank = \"1007:1007:/home/hank\", ivy = \"1008:1008:/home/ivy\" }\n"
	    "table aliases file:%%D/aliases\n"
	    "table virt { \"alice@virt.example\" = alice, "
	    "\"@virt.example\" = carol, info = \"bob, ext@remote.example\" }\n"
	    "table virt2 { \"x@virt2.example\" = alice, \"@\" = bob }\n"
	    "table virt3 { \"x@virt3.example\" = alice }\n"
	    "table fwdal { remote = \"r@remote.example\", \"local\" = alice, "
	    "pipe = \"|/bin/true\" }\n"
	    "table expal { pipe = \"|/bin/true\", file = \"/tmp/f\", "
	    "remote = \"r@remote.example\" }\n"
	    "table failing { x = y }\n"
	    "action \"local\" mbox alias <aliases> userbase <users>\n"
	    "action \"virtual\" maildir virtual <virt> userbase <users>\n"
	    "action virtual2 maildir virtual <virt2> userbase <users>\n"
	    "action virtual3 maildir virtual <virt3> userbase <users>\n"
	    "action fwd forward-only alias <fwdal> userbase <users>\n"
	    "action exp expand-only alias <expal> userbase <users>\n"
	    "action aliasfail mbox alias <failing> userbase <users>\n"
	    "action userfail mbox userbase <failing>\n"
	    "action vmail maildir userbase <users> user me\n"
	    "action \"relay\" relay ttl 2h\n"
	    "match from any for domain virt.example action \"virtual\"\n"
	    "match from any for domain virt2.example action virtual2\n"
	    "match from any for domain virt3.example action virtual3\n"
	    "match from any for domain fwd.example action fwd\n"
	    "match from any for domain exp.example action exp\n"
	    "match from any for domain aliasfail.example action aliasfail\n"
	    "match from any for domain userfail.example action userfail\n"
	    "match from any for domain vmail.example action vmail\n"
	    "match from any for domain fail.example reject\n"
	    "match from any for local action \"local\"\n"
	    "match from local for any action \"relay\"\n",
	    (unsigned)test_me_uid, (unsigned)test_me_uid);
}

static void
test_aliases_kinds(void)
{
	const struct envelope	*e;
	struct outcome		*o;

	CHECK(main_conf() == 0, "expansion configuration loads");

	o = expand(&c_remote, "alice@localhost");
	RESULT(o, 250, 1, "plain local user: one envelope");
	CHECK_STR(o->text, "2.1.5 Destination address valid: Recipient ok",
	    "250 text");
	e = has(o, ENVELOPE_MDA, "alice@localhost", "alice");
	CHECK(e != NULL && strcmp(e->dispatcher, "local") == 0 &&
	    e->mda_exec[0] == '\0' && strcmp(e->rcpt.user, "alice") == 0,
	    "mda envelope: dest, mda_user, dispatcher");

	o = expand(&c_remote, "Staff@localhost");
	RESULT(o, 250, 2, "EXP-01: alias list, key case-folded");
	CHECK(has(o, ENVELOPE_MDA, "alice@localhost", "alice") &&
	    has(o, ENVELOPE_MDA, "bob@localhost", "bob"),
	    "staff: alice and bob");
	o = expand(&c_remote, "dave@localhost");
	RESULT(o, 250, 2, "dave: dave, /var/mail/dave-archive");
	CHECK(has(o, ENVELOPE_MDA, "dave@localhost", "dave") != NULL,
	    "a user aliased to itself keeps the mailbox");

	o = expand(&c_remote, "erin@localhost");
	RESULT(o, 250, 1, "alias of a user to its own address: mailbox");
	CHECK(has(o, ENVELOPE_MDA, "erin@localhost", "erin") != NULL,
	    "erin: erin@localhost delivers to erin");
	o = expand(&c_remote, "frank@localhost");
	RESULT(o, 250, 2, "own address (case apart) and another user");
	CHECK(has(o, ENVELOPE_MDA, "frank@LOCALHOST", "frank") != NULL &&
	    has(o, ENVELOPE_MDA, "bob@localhost", "bob") != NULL,
	    "frank: frank@LOCALHOST, bob delivers to frank and bob");
	o = expand(&c_remote, "gina@localhost");
	RESULT(o, 250, 2, "own name and another user");
	CHECK(has(o, ENVELOPE_MDA, "gina@localhost", "gina") != NULL &&
	    has(o, ENVELOPE_MDA, "bob@localhost", "bob") != NULL,
	    "gina: gina, bob delivers to gina and bob");
	o = expand(&c_socket, "hank@localhost");
	RESULT(o, 250, 2, "same user part elsewhere relays, own address kept");
	CHECK(has(o, ENVELOPE_MTA, "hank@remote.example", NULL) != NULL &&
	    has(o, ENVELOPE_MDA, "hank@localhost", "hank") != NULL,
	    "hank: remote copy and mailbox");
	o = expand(&c_remote, "ivy@localhost");
	CHECK(o->ndone == 1 && o->code == 550,
	    "own user part in another (virtual) domain is not the mailbox");

	o = expand(&c_remote, "dup@localhost");
	CHECK(o->code == 250 && has(o, ENVELOPE_MDA, "alice@localhost",
	    "alice") != NULL, "EXP-13: duplicates accepted");
	{
		int	i, nalice = 0;

		for (i = 0; i < o->n && i < TEST_OUT_MAX; i++)
			nalice += strcmp(o->evp[i].dest.user, "alice") == 0 &&
			    o->evp[i].mda_exec[0] == '\0';
		CHECK(nalice == 1, "EXP-13: alice delivered once");
	}

	o = expand(&c_remote, "archive@localhost");
	RESULT(o, 250, 1, "EXP-02: /file target");
	CHECK(o->n == 1 && strcmp(o->evp[0].mda_exec, "/usr/libexec/test/"
	    "mail.mboxfile -f %{mbox.from} /var/mail/archive") == 0 &&
	    strcmp(o->evp[0].mda_user, "_aliasuser") == 0,
	    "file: mail.mboxfile, as the daemon's user (EXP-14)");

	o = expand(&c_remote, "spacey@localhost");
	RESULT(o, 250, 1, "a /file target with a space");
	CHECK(o->n == 1 && strcmp(o->evp[0].mda_exec, "/usr/libexec/test/"
	    "mail.mboxfile -f %{mbox.from} '/var/mail/my box'") == 0,
	    "a file name with a space is single-quoted for sh");
	o = expand(&c_remote, "quoty@localhost");
	RESULT(o, 550, 0, "a file name with a quote is refused");
	o = expand(&c_remote, "fmt@localhost");
	RESULT(o, 550, 0, "a file name with %{ is refused");

	o = expand(&c_remote, "ticket@localhost");
	RESULT(o, 250, 1, "EXP-02: |command target");
	CHECK(o->n == 1 && strcmp(o->evp[0].mda_exec,
	    "/usr/bin/ticket --new") == 0 &&
	    strcmp(o->evp[0].mda_user, "_aliasuser") == 0 &&
	    o->evp[0].type == ENVELOPE_MDA, "command: mda_exec as is");

	o = expand(&c_remote, "inc@localhost");
	RESULT(o, 250, 3, "EXP-02: :include: list, comments, blank lines");
	CHECK(has(o, ENVELOPE_MDA, "carol@localhost", "carol") != NULL,
	    ":include: second line's list");

	o = expand(&c_remote, "nobody@localhost");
	RESULT(o, 550, 0, "EXP-02: error:550");
	CHECK_STR(o->text, "5.1.1 no such person here", "error: text");
	o = expand(&c_remote, "later@localhost");
	RESULT(o, 450, 0, "EXP-02: error:450 is temporary");

	o = expand(&c_remote, "ext@localhost");
	RESULT(o, 250, 1, "EXP-02: address target");
	e = has(o, ENVELOPE_MTA, "someone@remote.example", NULL);
	CHECK(e != NULL && strcmp(e->dispatcher, "relay") == 0 &&
	    e->ttl == 7200, "RULE-27: relayed as from local, action's ttl");

	o = expand(&c_remote, "mixed@localhost");
	RESULT(o, 250, 2, "local and remote targets together");

	o = expand(&c_remote, "postmaster@LOCALHOST");
	RESULT(o, 250, 1, "postmaster alias, domain in upper case");

	o = expand(&c_remote, "nosuchuser@localhost");
	RESULT(o, 550, 0, "EXP-12: unknown local user");
	CHECK_STR(o->text, "5.1.1 Invalid recipient", "550 5.1.1 text");
	o = expand(&c_remote, "ghost@localhost");
	RESULT(o, 550, 0, "alias to an unknown user: 550");

	o = expand(&c_remote, "someone@remote.example");
	RESULT(o, 550, 0, "no open relay: remote to remote refused");
	CHECK_STR(o->text, "5.7.1 Invalid recipient", "550 5.7.1 text");
	o = expand(&c_socket, "someone@remote.example");
	RESULT(o, 250, 1, "local sender relays");
	o = expand(&c_remote, "x@fail.example");
	RESULT(o, 550, 0, "reject rule: 550 5.7.1");
	o = expand(&c_remote, "tofail@localhost");
	RESULT(o, 550, 0, "an expanded address hitting a reject rule");
}

static void
test_limits_loops(void)
{
	struct outcome	*o;

	o = expand(&c_remote, "loop1@localhost");
	RESULT(o, 524, 0, "alias loop ends, nothing left: 524 (EXP-03)");
	CHECK_STR(o->text, "5.2.4 Mailing list expansion problem",
	    "524 text");
	o = expand(&c_remote, "c0@localhost");
	RESULT(o, 524, 0, "alias chain of 12 levels: 524");
	o = expand(&c_remote, "s0@localhost");
	RESULT(o, 250, 1, "alias chain of 5 levels: fine");
	o = expand(&c_remote, "many@localhost");
	RESULT(o, 524, 0, "more than 1000 addresses: 524");
	o = expand(&c_remote, "fifo@localhost");
	RESULT(o, 451, 0, ":include: of a FIFO: 451, no hang");
	o = expand(&c_remote, "huge@localhost");
	RESULT(o, 451, 0, ":include: of an 80 KiB file: 451");
	o = expand(&c_remote, "missing@localhost");
	RESULT(o, 451, 0, ":include: of a missing file: 451");
}

static void
test_subaddr_virtual(void)
{
	const struct envelope	*e;
	struct outcome		*o;

	o = expand(&c_remote, "alice+news@localhost");
	RESULT(o, 250, 1, "EXP-05: user+tag");
	e = has(o, ENVELOPE_MDA, "alice@localhost", "alice");
	CHECK(e != NULL && strcmp(e->mda_subaddress, "news") == 0 &&
	    strcmp(e->rcpt.user, "alice+news") == 0,
	    "sub-address: delivered to alice, tag kept, rcpt as given");
	o = expand(&c_remote, "alice+special@localhost");
	RESULT(o, 250, 1, "EXP-05: user+tag looked up as is first");
	CHECK(has(o, ENVELOPE_MDA, "carol@localhost", "carol") != NULL,
	    "alice+special is carol's");
	o = expand(&c_remote, "staff+x@localhost");
	RESULT(o, 250, 2, "alias found without the tag");

	o = expand(&c_remote, "alice@virt.example");
	RESULT(o, 250, 1, "EXP-04: virtual user@domain");
	e = has(o, ENVELOPE_MDA, "alice@virt.example", "alice");
	CHECK(e != NULL && strcmp(e->dispatcher, "virtual") == 0,
	    "virtual: dest keeps the domain");
	o = expand(&c_remote, "info@virt.example");
	RESULT(o, 250, 2, "EXP-04: virtual by user before @domain");
	CHECK(has(o, ENVELOPE_MTA, "ext@remote.example", NULL) != NULL &&
	    has(o, ENVELOPE_MDA, "bob@virt.example", "bob") != NULL,
	    "virtual: a user and a remote address");
	o = expand(&c_remote, "zed@virt.example");
	RESULT(o, 250, 1, "EXP-04: @domain catch-all");
	CHECK(has(o, ENVELOPE_MDA, "carol@virt.example", "carol") != NULL,
	    "catch-all goes to carol");
	o = expand(&c_remote, "zed@virt2.example");
	RESULT(o, 250, 1, "EXP-04: @ catch-all");
	o = expand(&c_remote, "zed@virt3.example");
	RESULT(o, 550, 0, "virtual without a match: 550 5.1.1");
	o = expand(&c_remote, "x+y@virt3.example");
	RESULT(o, 250, 1, "virtual: tag removed for the key");
}

static void
test_actions(void)
{
	struct outcome	*o;

	o = expand(&c_remote, "remote@fwd.example");
	RESULT(o, 250, 1, "EXP-10: forward-only with a remote alias");
	CHECK(o->n == 1 && o->evp[0].type == ENVELOPE_MTA,
	    "forward-only: relayed");
	o = expand(&c_remote, "alice@fwd.example");
	RESULT(o, 550, 0, "EXP-10: forward-only, plain user refused");
	o = expand(&c_remote, "local@fwd.example");
	RESULT(o, 550, 0, "EXP-10: forward-only, alias to a local user");
	o = expand(&c_remote, "pipe@fwd.example");
	RESULT(o, 550, 0, "EXP-10: forward-only, alias to a pipe");

	o = expand(&c_remote, "pipe@exp.example");
	RESULT(o, 250, 1, "EXP-11: expand-only with an alias");
	o = expand(&c_remote, "file@exp.example");
	RESULT(o, 250, 1, "EXP-11: expand-only, file");
	o = expand(&c_remote, "alice@exp.example");
	RESULT(o, 550, 0, "EXP-11: expand-only without alias refused");

	o = expand(&c_remote, "alice@aliasfail.example");
	RESULT(o, 451, 0, "alias table failing: 451");
	CHECK_STR(o->text, "4.3.0 Temporary failure", "451 text");
	o = expand(&c_remote, "alice@userfail.example");
	RESULT(o, 451, 0, "userbase failing: 451");

	o = expand(&c_remote, "alice@vmail.example");
	RESULT(o, 250, 1, "action user: delivered");
	CHECK(o->n == 1 && strcmp(o->evp[0].mda_user, "me") == 0,
	    "action user: mda_user is the action's user");
}

static void
test_bad_input(void)
{
	struct outcome	*o;
	char		 big[600];

	o = expand(&c_remote, "ali\rce@localhost");
	RESULT(o, 550, 0, "CR in the user part: 550, no envelope");
	o = expand(&c_remote, "ali\nce@localhost");
	RESULT(o, 550, 0, "LF in the user part: 550");
	o = expand(&c_remote, "a b@localhost");
	RESULT(o, 550, 0, "space in the user part: 550");
	o = expand(&c_socket, "a@exa$mple.org");
	RESULT(o, 550, 0, "odd character in the domain: 550");
	o = expand(&c_remote, "@localhost");
	RESULT(o, 550, 0, "empty user: 550");
	memset(big, 'a', 300);
	big[300] = '\0';
	o = expand(&c_remote, big);
	CHECK(o->ndone == 1 && o->code >= 500, "overlong user: refused");
}

static void
test_forward(void)
{
	struct outcome	*o;
	const struct envelope *e;
	char		 path[256];

	memset(&fx_fwd, 0, sizeof fx_fwd);
	fx_fwd.user = "me";
	fx_fwd.path = test_file("fwd1", "# my forward\n\nbob\n"
	    "someone@remote.example, \"|/usr/bin/vacation me\"\n", path,
	    sizeof path);
	chmod(path, 0644);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 3, "EXP-06: .forward read, three targets");
	CHECK(fx_fwd.calls == 1, "the hook was asked once");
	e = has(o, ENVELOPE_MDA, "me@localhost", "me");
	CHECK(e != NULL && strcmp(e->mda_exec, "/usr/bin/vacation me") == 0,
	    "EXP-14: .forward pipe runs as the file's owner");
	CHECK(has(o, ENVELOPE_MTA, "someone@remote.example", NULL) != NULL &&
	    has(o, ENVELOPE_MDA, "bob@localhost", NULL) != NULL,
	    ".forward: remote address and local user");

	fx_fwd.path = test_file("fwd2", "me, bob\n", path, sizeof path);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 2, ".forward naming its own user: mailbox kept");
	CHECK(has(o, ENVELOPE_MDA, "me@localhost", "me") != NULL,
	    "own mailbox delivered");

	fx_fwd.path = test_file("fwd2b", "\\me, bob\n", path, sizeof path);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 2, ".forward: \\me is me (the backslash escapes)");
	CHECK(has(o, ENVELOPE_MDA, "me@localhost", "me") != NULL,
	    "\\me keeps the mailbox");
	fx_fwd.path = test_file("fwd2c", "me@localhost, bob\n", path,
	    sizeof path);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 2, ".forward naming its own address: mailbox kept");
	CHECK(has(o, ENVELOPE_MDA, "me@localhost", "me") != NULL &&
	    has(o, ENVELOPE_MDA, "bob@localhost", "bob") != NULL,
	    "own address and bob");
	if (getuid() == 0) {
		(void)chown(path, 0, 0);
		o = expand(&c_remote, "me@localhost");
		RESULT(o, 250, 2, "a .forward owned by root is used");
	}

	chmod(path, 0664);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 1, "group-writable .forward ignored: mailbox");
	chmod(path, 0646);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 1, "world-writable .forward ignored: mailbox");
	chmod(path, 0644);
	if (getuid() == 0) {
		(void)chown(path, 1, 1);
		o = expand(&c_remote, "me@localhost");
		RESULT(o, 250, 1, ".forward of another owner ignored");
		(void)chown(path, test_me_uid, test_me_uid);
	} else
		test_not_run("chown needs root");
	fx_fwd.path = test_dir;
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 1, ".forward that is a directory ignored");

	fx_fwd.path = test_file("fwd3", "bob\n\001bad\n", path, sizeof path);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 451, 0, "malformed .forward: 451");

	fx_fwd.path = test_file("fwd4", "", path, sizeof path);
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 1, "empty .forward: mailbox");

	fx_fwd.error = ENOENT;
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 1, "no .forward: mailbox");
	fx_fwd.error = EPERM;
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 1, "refused by the opener: mailbox");
	fx_fwd.error = EAGAIN;
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 451, 0, "opener's temporary failure: 451");
	fx_fwd.error = 0;

	if (getuid() == 0) {
		fx_fwd.user = "toor";
		fx_fwd.path = test_file("fwd5", "|/bin/evil\n", path,
		    sizeof path);
		(void)chown(path, 0, 0);
		o = expand(&c_remote, "toor@localhost");
		RESULT(o, 550, 0, "EXP-07: root's .forward with a pipe");
		fx_fwd.path = test_file("fwd6", "bob\n", path, sizeof path);
		(void)chown(path, 0, 0);
		o = expand(&c_remote, "toor@localhost");
		RESULT(o, 250, 1, "root's .forward to a user is fine");
		fx_fwd.path = test_file("fwd8", "dave\n", path, sizeof path);
		(void)chown(path, 0, 0);
		o = expand(&c_remote, "toor@localhost");
		RESULT(o, 250, 2, "root's .forward to a user whose alias has "
		    "a file: allowed, the alias is not root's");
		fx_fwd.user = "me";
	} else
		test_not_run("root's .forward needs uid 0");

	fx_fwd.path = test_file("fwd7", "bob, someone@remote.example\n", path,
	    sizeof path);
	fx_fwd.later = 1;
	o = expand(&c_remote, "me@localhost");
	RESULT(o, 250, 2, "a hook answering later, from the event loop");
	fx_fwd.later = 0;

	fx_fwd.total = 0;
	o = expand(&c_remote, "alice@vmail.example");
	CHECK(o->code == 250 && fx_fwd.total == 0,
	    "EXP-08: with `user me`, alice's .forward is not read");
	memset(&fx_fwd, 0, sizeof fx_fwd);
}

static void
test_delim(void)
{
	struct outcome	*o;

	CHECK(fx_setup("smtp sub-addr-delim \"-\"\n"
	    "table users { alice = \"1000:1000:/home/alice\" }\n"
	    "action \"local\" mbox userbase <users>\n"
	    "match from any for local action \"local\"\n") == 0,
	    "sub-addr-delim configuration loads");
	o = expand(&c_remote, "alice-box@localhost");
	RESULT(o, 250, 1, "sub-addr-delim -: user-tag");
	CHECK(o->n == 1 && strcmp(o->evp[0].mda_subaddress, "box") == 0,
	    "tag after '-'");
	o = expand(&c_remote, "alice+box@localhost");
	RESULT(o, 550, 0, "'+' is then part of the user name");
	fx_teardown();
}

/* ---- .forward parser ------------------------------------------------------ */

static int
count_cb(const struct table_alias *a, void *arg)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

static void
test_forward_parse(void)
{
	char		 err[256], big[TABLE_LINE_MAX + 10];
	struct stat	 st;
	int		 n = 0;

	CHECK(lookup_forward_parse("a, b\n#c\n\n  d@e.example \r\n", 25,
	    count_cb, &n, err, sizeof err) == 0 && n == 3,
	    "parse: three elements, CRLF line");
	n = 0;
	CHECK(lookup_forward_parse("a\0b\n", 4, count_cb, &n, err,
	    sizeof err) == -1 && strstr(err, "NUL") != NULL, "parse: NUL");
	CHECK(lookup_forward_parse("a\rb\n", 4, count_cb, &n, err,
	    sizeof err) == -1, "parse: CR inside a line");
	CHECK(lookup_forward_parse("error:999 x\n", 12, count_cb, &n, err,
	    sizeof err) == -1 && strstr(err, "line 1") != NULL,
	    "parse: bad element named with its line");
	memset(big, 'a', sizeof big);
	CHECK(lookup_forward_parse(big, sizeof big, count_cb, &n, err,
	    sizeof err) == -1, "parse: overlong line");
	memset(&st, 0, sizeof st);
	st.st_mode = S_IFREG | 0644;
	st.st_uid = 5;
	CHECK(lookup_forward_check(&st, 5, err, sizeof err) == 0,
	    "check: regular, owned, 0644");
	CHECK(lookup_forward_check(&st, 6, err, sizeof err) == -1,
	    "check: other owner");
	st.st_mode = S_IFREG | 0620;
	CHECK(lookup_forward_check(&st, 5, err, sizeof err) == -1,
	    "check: group writable");
	st.st_mode = S_IFIFO | 0600;
	CHECK(lookup_forward_check(&st, 5, err, sizeof err) == -1,
	    "check: FIFO");
}

/* test_cleanup - remove the temporary directory's files */
static void
test_cleanup(void)
{
	static const char *const files[] = { "aliases", "list", "fifo",
	    "huge", "many", "fwd1", "fwd2", "fwd3", "fwd4", "fwd5", "fwd6",
	    "fwd7", "fwd8", NULL };
	char	path[256];
	size_t	i;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof path, "%s/%s", test_dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(test_dir);
}

int
main(void)
{
	env = &test_env;
	log_init(1, 0);
	test_me_uid = getuid() == 0 ? 4242 : getuid();
	snprintf(test_dir, sizeof test_dir, "/tmp/lookup_expand.XXXXXX");
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	chmod(test_dir, 0755);
	fx_evb = event_base_new();
	test_forward_parse();
	test_from();
	test_for();
	test_other_criteria();
	test_negation_order();
	test_aliases_kinds();
	test_limits_loops();
	test_subaddr_virtual();
	test_actions();
	test_bad_input();
	test_forward();
	fx_teardown();
	test_delim();
	event_base_free(fx_evb);
	test_cleanup();
	return test_done();
}
