/*
 * lookup.c -- the lookup process: rule matching, recipient expansion,
 * tables and DNS.
 *
 * Runs as smtpd -x lookup, unprivileged but not chrooted when started as
 * root (it reads system files and starts table helpers, which run as its
 * user).  It owns every table of the configuration: it creates them once
 * the configuration has arrived, helper tables while still root so that
 * each helper's executable can be opened wherever it lies, then drops
 * privileges and opens them (helpers start in the background: being ready never waits
 * for one).  Operators' look-ups and reloads from control go through the
 * same completion-based table layer mail uses, answered in the
 * completion under the request id.  A table that fails, or a helper
 * that misbehaves, is a temporary failure of that request, never the end
 * of this process; at stop every helper is closed and reaped first.
 * Each RCPT TO of the dispatcher is matched and expanded by
 * lookup_rcpt.c over the rules built here (lookup_rules.c); a user's
 * ~/.forward is asked of the parent (IMSG_PARENT_OPEN_FORWARD), which
 * opens it as the user and answers with the descriptor or an errno;
 * the expansion waits for that answer in its completion.  DNS requests
 * of the dispatcher (MX and host addresses for relaying, a client's
 * reverse name) go to the asynchronous resolver of lookup_dns.c, set up
 * with the configuration from -o resolver / resolv-conf or
 * /etc/resolv.conf.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "lookup_dns.h"
#include "lookup_expand.h"
#include "mproc.h"
#include "proc.h"
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

/* one operator query or reload, until its completion answers control */
struct lookup_query {
	TAILQ_ENTRY(lookup_query)	 entry;
	uint64_t			 reqid;
	struct mproc			*p;
	int32_t				 op;	/* TABLE_OP_*, or -1: update */
	char				 table[TABLE_NAME_MAX];
	enum table_service		 service;
};

/* what a query or a reload answers control */
struct lookup_result {
	int		 r;		/* 1, 0, -1 */
	const char	*value;
	const char	*error;
};

struct lookup_state {
	struct table	**tables;	/* the configuration's named tables */
	size_t		  ntables;
	TAILQ_HEAD(, lookup_query) queries;	/* waiting for a table */
	size_t		  nclosing;	/* tables still closing at stop */
	struct lookup_rules *rules;	/* the match rules, on the tables */
	char		  libexec[PATH_MAX];	/* mail.mboxfile's directory */
	struct tree	  forwards;	/* reqid -> lookup_forward_wait */
	uint64_t	  forward_reqid;
	struct tree	  noforward;	/* lookup_noforward_key -> time_t */
	struct lookup_dns *dns;		/* the resolver (lookup_dns.c) */
};

/* one ~/.forward asked of the parent, until it answers */
struct lookup_forward_wait {
	lookup_forward_done_fn	 done;
	void			*done_arg;
	uint64_t		 key;		/* lookup_noforward_key */
};

/*
 * A user the parent found without a ~/.forward is believed to have none
 * for LOOKUP_NOFORWARD_TTL seconds: asking again forks an opener as the
 * user (parent_forward.c), once per recipient, which the benchmark found
 * to be the costliest step of local mail.  A .forward created meanwhile
 * is read at most that much later; one that exists is always read anew.
 */
#define LOOKUP_NOFORWARD_TTL	10
#define LOOKUP_NOFORWARD_MAX	4096	/* then the cache starts over */

static struct lookup_state	lookup_state_storage;

static void	lookup_dns_start(void);

static struct lookup_state *
lookup_state(void)
{
	return env->state;
}

/* lookup_table_find - a named table of the configuration, or NULL */
static struct table *
lookup_table_find(const char *name)
{
	size_t	i;

	for (i = 0; i < lookup_state()->ntables; i++)
		if (strcmp(table_name(lookup_state()->tables[i]), name) == 0)
			return lookup_state()->tables[i];
	return NULL;
}

/* lookup_table_backend - the table layer's name of a declaration's */
static const char *
lookup_table_backend(const struct conf_table *ct)
{
	/* the parser calls inline tables "inline", the table layer "static" */
	return strcmp(ct->backend, "inline") == 0 ? "static" : ct->backend;
}

/* lookup_table_create - the table of one declaration, filled */
static struct table *
lookup_table_create(const struct conf_table *ct)
{
	struct table	*t;
	char		 err[PATH_MAX + 512];
	size_t		 i;

	t = table_create(ct->name, lookup_table_backend(ct), ct->config,
	    env->opts.libexec, err, sizeof err);
	if (t == NULL)
		fatalx("lookup: table %s: %s", ct->name, err);
	for (i = 0; i < ct->nentries; i++)
		if (table_add(t, ct->entries[i].key, ct->entries[i].value, err,
		    sizeof err) == -1)
			fatalx("lookup: table %s: %s", ct->name, err);
	return t;
}

/* lookup_rules_find_table - lookup_params.table_find */
static struct table *
lookup_rules_find_table(void *arg, const char *name)
{
	(void)arg;
	return lookup_table_find(name);
}

/* lookup_noforward_key - UID and a hash of HOME (FNV-1a), for the cache
 * of users without a ~/.forward */
static uint64_t
lookup_noforward_key(uid_t uid, const char *home)
{
	uint32_t	h = 2166136261u;

	for (; *home != '\0'; home++)
		h = (h ^ (unsigned char)*home) * 16777619u;
	return (uint64_t)uid << 32 | h;
}

/* lookup_noforward_known - KEY is a user known to have no .forward */
static int
lookup_noforward_known(uint64_t key)
{
	time_t	*until;

	if ((until = api_tree_get(&lookup_state()->noforward, key)) == NULL)
		return 0;
	if (*until > time(NULL))
		return 1;
	free(api_tree_pop(&lookup_state()->noforward, key));
	return 0;
}

/* lookup_noforward_add - KEY has no .forward, for a while */
static void
lookup_noforward_add(uint64_t key)
{
	time_t	*until;
	int	 e2 = 0;

	if (api_tree_count(&lookup_state()->noforward) >= LOOKUP_NOFORWARD_MAX)
		api_tree_clear(&lookup_state()->noforward, free);
	until = api_tree_get(&lookup_state()->noforward, key);
	if (until == NULL) {
		until = xmalloc(sizeof *until);
		api_tree_set(&lookup_state()->noforward, key, until, &e2);
		if (e2)
			fatalx("lookup: out of memory");
	}
	*until = time(NULL) + LOOKUP_NOFORWARD_TTL;
}

/*
 * lookup_forward_ask - the ~/.forward hook: the parent opens it as the
 * user and answers under REQID (lookup_on_open_forward_*), unless the
 * user was just found without one
 */
static void
lookup_forward_ask(void *hook_arg, const char *user, const char *home,
    uid_t uid, gid_t gid, lookup_forward_done_fn done, void *done_arg)
{
	struct lookup_forward_wait	*w;
	uint64_t			 reqid, key;
	int				 e2 = 0;

	(void)hook_arg;
	key = lookup_noforward_key(uid, home);
	if (lookup_noforward_known(key)) {
		done(done_arg, -1, ENOENT);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->done = done;
	w->done_arg = done_arg;
	w->key = key;
	reqid = ++lookup_state()->forward_reqid;
	api_tree_set(&lookup_state()->forwards, reqid, w, &e2);
	if (e2)
		fatalx("lookup: out of memory");
	msg_send_parent_open_forward(env->peers[PROC_PARENT],
	    &(struct msg_parent_open_forward){ .reqid = reqid,
	    .uid = (uint32_t)uid, .gid = (uint32_t)gid, .user = user,
	    .home = home });
}

/* lookup_forward_answered - the parent's answer to REQID, to its hook */
static void
lookup_forward_answered(uint64_t reqid, int fd, int error)
{
	struct lookup_forward_wait	*w;

	if ((w = api_tree_pop(&lookup_state()->forwards, reqid)) == NULL)
		fatalx("lookup: the parent answered an unknown .forward "
		    "request %llu", (unsigned long long)reqid);
	if (fd == -1 && error == ENOENT)
		lookup_noforward_add(w->key);
	w->done(w->done_arg, fd, error);
	free(w);
}

static void
lookup_on_open_forward_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_open_forward_result	m;

	if (msg_unpack_lookup_open_forward_result(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	lookup_forward_answered(m.reqid, -1, m.error);
}

static void
lookup_on_open_forward_fd(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_open_forward_fd	m;

	if (msg_unpack_lookup_open_forward_fd(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	lookup_forward_answered(m.reqid, m.fd, 0);
}

/*
 * lookup_libexec_find - where the delivery programs are, for the
 * /file targets' mail.mboxfile: the libexec directory when it holds
 * them, else the libexec/ beside our own binary (a build tree run in
 * place: make run, the tests), as the parent finds them.  At start,
 * while /proc/self/exe may still be read.
 */
static void
lookup_libexec_find(void)
{
	char	*dir = lookup_state()->libexec, path[PATH_MAX + 32], *slash;
	ssize_t	 n;

	(void)strlcpy(dir, env->opts.libexec, PATH_MAX);
	(void)snprintf(path, sizeof path, "%s/mail.mboxfile", dir);
	if (access(path, X_OK) == 0)
		return;
	if ((n = readlink("/proc/self/exe", path, PATH_MAX - 1)) <= 0)
		return;
	path[n] = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		return;
	*slash = '\0';
	(void)strlcat(path, "/libexec/mail.mboxfile", sizeof path);
	if (access(path, X_OK) == 0 && strlen(path) < PATH_MAX) {
		*strrchr(path, '/') = '\0';
		(void)strlcpy(dir, path, PATH_MAX);
	}
}

/* lookup_rules_load - the rules over the open tables (fatal: start-up) */
static void
lookup_rules_load(void)
{
	struct lookup_params	params;
	char			name[SMTPD_NAME_MAX + 1], err[512];

	memset(&params, 0, sizeof params);
	if (smtpd_server_name(PATH_MAILNAME, name, sizeof name) == -1)
		(void)strlcpy(name, "localhost", sizeof name);
	params.server_name = name;
	params.subaddr_delim = env->conf->sub_addr_delim;
	params.alias_user = env->opts.user;
	params.libexec = lookup_state()->libexec;
	params.forward_open = lookup_forward_ask;
	params.table_find = lookup_rules_find_table;
	lookup_state()->rules = lookup_rules_new(env->conf, &params, err,
	    sizeof err);
	if (lookup_state()->rules == NULL)
		fatalx("lookup: rules: %s", err);
}

/*
 * lookup_tables_open - every named table, at start (fatal: start-up).
 * Helper tables are created while still root, which opens their
 * executables wherever they lie; the others, which read files, as our
 * user, as their reloads will.  All are opened unprivileged (helpers run
 * as our user).
 */
static void
lookup_tables_open(void)
{
	const struct smtpd_conf	*conf = env->conf;
	struct table		**tables;
	char			 err[512];
	size_t			 i;
	int			 pass;

	tables = xcalloc(conf->ntables, sizeof *tables);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1)
			proc_child_drop();
		for (i = 0; i < conf->ntables; i++)
			if (table_is_helper(lookup_table_backend(
			    conf->tables[i])) == (pass == 0))
				tables[i] = lookup_table_create(conf->tables[i]);
	}
	lookup_state()->tables = tables;
	lookup_state()->ntables = conf->ntables;
	if (table_open_all(tables, conf->ntables, env->evb, err,
	    sizeof err) == -1)
		fatalx("lookup: %s", err);
	log_debug("lookup: %zu tables open", lookup_state()->ntables);
	lookup_rules_load();
	lookup_dns_start();
}

/* lookup_query_new - a pending query of control, keyed by its reqid */
static struct lookup_query *
lookup_query_new(struct mproc *p, uint64_t reqid, int32_t op,
    const char *table, enum table_service service)
{
	struct lookup_query	*q;

	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->reqid = reqid;
	q->op = op;
	q->service = service;
	(void)strlcpy(q->table, table, sizeof q->table);
	TAILQ_INSERT_TAIL(&lookup_state()->queries, q, entry);
	return q;
}

/* lookup_send_result - a query's or a reload's result, to control */
static void
lookup_send_result(struct mproc *p, uint64_t reqid, int update,
    const struct lookup_result *res)
{
	if (update)
		msg_send_lookup_update_table_result(p,
		    &(struct msg_lookup_update_table_result){ .reqid = reqid,
		    .r = res->r, .error = res->error });
	else
		msg_send_lookup_table_query_result(p,
		    &(struct msg_lookup_table_query_result){ .reqid = reqid,
		    .r = res->r, .value = res->value, .error = res->error });
}

/* lookup_query_answer - the result of a pending query, to control */
static void
lookup_query_answer(struct lookup_query *q, struct lookup_result *res)
{
	TAILQ_REMOVE(&lookup_state()->queries, q, entry);
	if (q->op != -1)
		log_debug("lookup: operator %s table=%s service=%s r=%d",
		    q->op == TABLE_OP_FETCH ? "fetch" :
		    q->op == TABLE_OP_CHECK ? "check" : "lookup", q->table,
		    table_service_name(q->service), res->r);
	lookup_send_result(q->p, q->reqid, q->op == -1, res);
	free(q);
}

/* lookup_on_table_done - a table answered an operator's query */
static void
lookup_on_table_done(void *arg, int r, const char *value)
{
	struct lookup_query	*q = arg;
	struct lookup_result	 res;

	memset(&res, 0, sizeof res);
	res.r = r;
	if (r == 1 && q->op != TABLE_OP_CHECK)
		res.value = value;
	if (r == -1)
		res.error = "temporary failure";
	lookup_query_answer(q, &res);
}

/* lookup_on_update_done - a table's reload is over */
static void
lookup_on_update_done(void *arg, int r, const char *value)
{
	struct lookup_query	*q = arg;
	struct lookup_result	 res;

	(void)value;
	memset(&res, 0, sizeof res);
	res.r = r == 1 ? 1 : 0;
	if (res.r != 1)
		res.error = "update failed, the old content stays";
	else if (env->peers[PROC_DISPATCHER] != NULL)
		/* the lists the relay fetched from it are stale now */
		msg_send_dispatcher_table_updated(env->peers[PROC_DISPATCHER],
		    &(struct msg_dispatcher_table_updated){ .table = q->table });
	lookup_query_answer(q, &res);
}

/* lookup_refuse - answer a query of control at once with an error */
static void
lookup_refuse(struct mproc *p, uint64_t reqid, int update, const char *why)
{
	struct lookup_result	res;

	memset(&res, 0, sizeof res);
	res.r = -1;
	res.error = why;
	lookup_send_result(p, reqid, update, &res);
}

static void
lookup_on_table_query(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_table_query	 q;
	struct lookup_query		*lq;
	struct table			*t;
	char				 key[TABLE_KEY_MAX], err[256];
	uint64_t			 reqid;

	if (msg_unpack_lookup_table_query(imsg, &q) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	reqid = q.reqid;
	if (q.key != NULL &&
	    table_normalize_key(q.key, key, sizeof key, err, sizeof err) == -1)
		lookup_refuse(p, reqid, 0, err);
	else if ((t = lookup_table_find(q.table)) == NULL)
		lookup_refuse(p, reqid, 0, "no such table");
	else if ((table_services(t) & (unsigned int)q.service_bit) == 0)
		lookup_refuse(p, reqid, 0,
		    "the table does not provide that service");
	else {
		lq = lookup_query_new(p, reqid, q.op, q.table, q.service_bit);
		if (q.op == TABLE_OP_LOOKUP)
			table_lookup(t, q.service_bit, q.key,
			    lookup_on_table_done, lq);
		else if (q.op == TABLE_OP_CHECK)
			table_check(t, q.service_bit, q.key,
			    lookup_on_table_done, lq);
		else
			table_fetch(t, q.service_bit, lookup_on_table_done,
			    lq);
	}
}

static void
lookup_on_update_table(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_update_table	 m;
	struct lookup_query		*lq;
	struct table			*t;
	const char			*name;
	uint64_t			 reqid;

	if (msg_unpack_lookup_update_table(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	reqid = m.reqid;
	name = m.table;
	if ((t = lookup_table_find(name)) == NULL) {
		lookup_refuse(p, reqid, 1, "no such table");
		return;
	}
	lq = lookup_query_new(p, reqid, -1, name, K_NONE);
	table_update(t, lookup_on_update_done, lq);
}

/*
 * lookup_on_closed_exit - every helper stopped: release each table (an
 * embedded backend's context, e.g. an open db, lives until table_free)
 * and exit.
 */
static void
lookup_on_closed_exit(evutil_socket_t fd, short ev, void *arg)
{
	size_t	i;

	(void)fd;
	(void)ev;
	(void)arg;
	lookup_rules_free(&lookup_state()->rules);
	lookup_dns_free(&lookup_state()->dns);
	api_tree_clear(&lookup_state()->noforward, free);
	for (i = 0; i < lookup_state()->ntables; i++)
		table_free(&lookup_state()->tables[i]);
	free(lookup_state()->tables);
	lookup_state()->tables = NULL;
	lookup_state()->ntables = 0;
	log_debug("lookup: every table closed, exiting");
	exit(0);
}

/* lookup_on_table_closed - one more table stopped; the last one exits */
static void
lookup_on_table_closed(void *arg, int r, const char *value)
{
	(void)arg;
	(void)r;
	(void)value;
	if (--lookup_state()->nclosing > 0)
		return;
	/* free the tables from the loop, not from inside a close callback */
	if (event_base_once(env->evb, -1, EV_TIMEOUT, lookup_on_closed_exit,
	    NULL, NULL) == -1)
		lookup_on_closed_exit(-1, 0, NULL);
}

/* lookup_stop - the parent closed our channel: close every helper first */
static void
lookup_stop(void)
{
	size_t	i, n = lookup_state()->ntables;

	/* one more than the tables, so that no close finishes it early */
	lookup_state()->nclosing = n + 1;
	for (i = 0; i < n; i++)
		table_close(lookup_state()->tables[i], lookup_on_table_closed,
		    NULL);
	lookup_on_table_closed(NULL, 1, NULL);
}

/* lookup_on_expand_rcpt - one RCPT TO: matched, expanded, answered */
static void
lookup_on_expand_rcpt(struct mproc *p, struct imsg *imsg)
{
	lookup_rcpt_on_expand(lookup_state()->rules, p, imsg);
}

/* lookup_on_dns_mx - the addresses to relay a domain's mail to */
static void
lookup_on_dns_mx(struct mproc *p, struct imsg *imsg)
{
	lookup_dns_on_mx(lookup_state()->dns, p, imsg);
}

/* lookup_on_dns_host - the addresses of a relay host */
static void
lookup_on_dns_host(struct mproc *p, struct imsg *imsg)
{
	lookup_dns_on_host(lookup_state()->dns, p, imsg);
}

/* lookup_on_dns_ptr - a client's reverse name */
static void
lookup_on_dns_ptr(struct mproc *p, struct imsg *imsg)
{
	lookup_dns_on_ptr(lookup_state()->dns, p, imsg);
}

/*
 * lookup_dns_start - the resolver, at start (fatal: start-up): the
 * servers of -o resolver, else those of -o resolv-conf or
 * /etc/resolv.conf, read now (this process is not chrooted).
 */
static void
lookup_dns_start(void)
{
	struct lookup_dns_params	params;
	char				err[512];

	memset(&params, 0, sizeof params);
	if (env->opts.resolver[0] != '\0')
		params.servers = env->opts.resolver;
	if (env->opts.resolv_conf[0] != '\0')
		params.resolv_conf = env->opts.resolv_conf;
	if ((lookup_state()->dns = lookup_dns_new(env->evb, &params, err,
	    sizeof err)) == NULL)
		fatalx("lookup: dns: %s", err);
	log_debug("lookup: resolver ready (%s)", params.servers != NULL ?
	    params.servers : params.resolv_conf != NULL ? params.resolv_conf :
	    "/etc/resolv.conf");
}

/* lookup_on_userinfo - the account a delivery runs as */
static void
lookup_on_userinfo(struct mproc *p, struct imsg *imsg)
{
	lookup_userinfo_on_request(lookup_state()->rules, p, imsg);
}

/* lookup_on_check_credentials - AUTH against a credentials table */
static void
lookup_on_check_credentials(struct mproc *p, struct imsg *imsg)
{
	lookup_auth_on_check_credentials(lookup_state()->rules, p, imsg);
}

/* lookup_on_check_sender - `senders`: may the user send as this */
static void
lookup_on_check_sender(struct mproc *p, struct imsg *imsg)
{
	lookup_auth_on_check_sender(lookup_state()->rules, p, imsg);
}

/* lookup_on_relay_table - a relay action's table entry (mtatls) */
static void
lookup_on_relay_table(struct mproc *p, struct imsg *imsg)
{
	lookup_relay_on_table(lookup_state()->rules, p, imsg);
}

/* lookup_on_relay_list - a relay action's fetched list */
static void
lookup_on_relay_list(struct mproc *p, struct imsg *imsg)
{
	lookup_relay_on_list(lookup_state()->rules, p, imsg);
}

static const struct imsg_handler lookup_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_LOOKUP_TABLE_QUERY,  PROC_CONTROL, lookup_on_table_query },
	{ IMSG_LOOKUP_UPDATE_TABLE, PROC_CONTROL, lookup_on_update_table },
	{ IMSG_LOOKUP_EXPAND_RCPT,  PROC_DISPATCHER, lookup_on_expand_rcpt },
	{ IMSG_LOOKUP_USERINFO,     PROC_DISPATCHER, lookup_on_userinfo },
	{ IMSG_LOOKUP_CHECK_CREDENTIALS, PROC_DISPATCHER,
	    lookup_on_check_credentials },
	{ IMSG_LOOKUP_CHECK_SENDER, PROC_DISPATCHER, lookup_on_check_sender },
	{ IMSG_LOOKUP_RELAY_TABLE, PROC_DISPATCHER, lookup_on_relay_table },
	{ IMSG_LOOKUP_RELAY_LIST,  PROC_DISPATCHER, lookup_on_relay_list },
	{ IMSG_LOOKUP_DNS_MX,       PROC_DISPATCHER, lookup_on_dns_mx },
	{ IMSG_LOOKUP_DNS_HOST,     PROC_DISPATCHER, lookup_on_dns_host },
	{ IMSG_LOOKUP_DNS_PTR,      PROC_DISPATCHER, lookup_on_dns_ptr },
	{ IMSG_LOOKUP_OPEN_FORWARD_RESULT, PROC_PARENT,
	    lookup_on_open_forward_result },
	{ IMSG_LOOKUP_OPEN_FORWARD_FD, PROC_PARENT, lookup_on_open_forward_fd },
};

int
lookup_main(void)
{
	env->state = &lookup_state_storage;
	TAILQ_INIT(&lookup_state()->queries);
	api_tree_init(&lookup_state()->forwards);
	api_tree_init(&lookup_state()->noforward);
	lookup_libexec_find();
	proc_child_drop_late();
	proc_child_on_stop(lookup_stop);
	proc_child_init(PROC_LOOKUP, lookup_handlers,
	    sizeof lookup_handlers / sizeof lookup_handlers[0],
	    lookup_tables_open, NULL);
	proc_child_loop();
}
