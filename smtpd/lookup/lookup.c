/*
 * lookup.c -- the lookup process: rule matching, recipient expansion,
 * tables and DNS.
 *
 * Runs as smtpd -x lookup, unprivileged but not chrooted when started as
 * root (it reads system files and starts table helpers, which run as its
 * user).  It owns every table of the configuration: it opens them once
 * the configuration has arrived, and answers operators' look-ups and
 * reloads from control through the same table layer mail uses.  A table
 * that fails, or a helper that misbehaves, is a temporary failure of
 * that request, never the end of this process.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

struct lookup_state {
	struct table	**tables;	/* the configuration's named tables */
	size_t		  ntables;
};

static struct lookup_state	lookup_state_storage;

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

/* lookup_table_create - the table of one declaration, filled and opened */
static struct table *
lookup_table_create(const struct conf_table *ct)
{
	struct table	*t;
	char		 err[512];
	size_t		 i;

	/* the parser calls inline tables "inline", the table layer "static" */
	t = table_create(ct->name, strcmp(ct->backend, "inline") == 0 ?
	    "static" : ct->backend, ct->config, err, sizeof err);
	if (t == NULL)
		fatalx("lookup: table %s: %s", ct->name, err);
	for (i = 0; i < ct->nentries; i++)
		if (table_add(t, ct->entries[i].key, ct->entries[i].value, err,
		    sizeof err) == -1)
			fatalx("lookup: table %s: %s", ct->name, err);
	if (table_open(t, err, sizeof err) == -1)
		fatalx("lookup: table %s: %s", ct->name, err);
	return t;
}

/* lookup_tables_open - every named table, at start (fatal: start-up) */
static void
lookup_tables_open(void)
{
	const struct smtpd_conf	*conf = env->conf;
	size_t			 i;

	lookup_state()->tables = xcalloc(conf->ntables,
	    sizeof *lookup_state()->tables);
	for (i = 0; i < conf->ntables; i++)
		lookup_state()->tables[lookup_state()->ntables++] =
		    lookup_table_create(conf->tables[i]);
	log_debug("lookup: %zu tables open", lookup_state()->ntables);
}

/* lookup_table_query - run one operator query; fills res */
static void
lookup_table_query(const struct msg_lookup_table_query *q, char *value,
    size_t valuesz, struct msg_lookup_table_query_result *res)
{
	struct table	*t;

	memset(res, 0, sizeof *res);
	if ((t = lookup_table_find(q->table)) == NULL) {
		res->r = -1;
		res->error = "no such table";
		return;
	}
	if ((table_services(t) & (unsigned int)q->service_bit) == 0) {
		res->r = -1;
		res->error = "the table does not provide that service";
		return;
	}
	switch (q->op) {
	case TABLE_OP_LOOKUP:
		res->r = table_lookup(t, q->service_bit, q->key, value,
		    valuesz);
		break;
	case TABLE_OP_CHECK:
		res->r = table_check(t, q->service_bit, q->key);
		break;
	default:
		res->r = table_fetch(t, q->service_bit, value, valuesz);
		break;
	}
	if (res->r == 1 && q->op != TABLE_OP_CHECK)
		res->value = value;
	if (res->r == -1)
		res->error = "temporary failure";
}

static void
lookup_on_table_query(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_table_query		q;
	struct msg_lookup_table_query_result	res;
	char					value[TABLE_VALUE_MAX];
	char					key[TABLE_KEY_MAX], err[256];

	if (msg_unpack_lookup_table_query(imsg, &q) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	memset(&res, 0, sizeof res);
	if (q.key != NULL &&
	    table_normalize_key(q.key, key, sizeof key, err, sizeof err) == -1) {
		res.r = -1;
		res.error = err;
	} else
		lookup_table_query(&q, value, sizeof value, &res);
	log_debug("lookup: operator %s table=%s service=%s r=%d",
	    q.op == TABLE_OP_FETCH ? "fetch" : q.op == TABLE_OP_CHECK ?
	    "check" : "lookup", q.table, table_service_name(q.service_bit),
	    res.r);
	res.reqid = q.reqid;
	msg_send_lookup_table_query_result(p, &res);
}

static void
lookup_on_update_table(struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_update_table_result	 res;
	struct msg_lookup_update_table		 m;
	struct table				*t;
	const char				*name;

	if (msg_unpack_lookup_update_table(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	name = m.table;
	memset(&res, 0, sizeof res);
	if ((t = lookup_table_find(name)) == NULL) {
		res.r = -1;
		res.error = "no such table";
	} else if ((res.r = table_update(t)) != 1)
		res.error = "update failed, the old content stays";
	res.reqid = m.reqid;
	msg_send_lookup_update_table_result(p, &res);
}

static const struct imsg_handler lookup_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_LOOKUP_TABLE_QUERY,  PROC_CONTROL, lookup_on_table_query },
	{ IMSG_LOOKUP_UPDATE_TABLE, PROC_CONTROL, lookup_on_update_table },
};

int
lookup_main(void)
{
	env->state = &lookup_state_storage;
	proc_child_init(PROC_LOOKUP, lookup_handlers,
	    sizeof lookup_handlers / sizeof lookup_handlers[0],
	    lookup_tables_open, NULL);
	proc_child_loop();
}
