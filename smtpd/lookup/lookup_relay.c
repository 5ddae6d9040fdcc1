/*
 * lookup_relay.c -- the relay's table lookups in the lookup process
 * (issue 9 part 7; MTA-08): the dispatcher's MTA asks for the entry of
 * a key in a table one of the relay actions names for that service
 * (IMSG_LOOKUP_RELAY_TABLE): `auth <table>` (K_CREDENTIALS) keyed by
 * the label of a smarthost URL, the value "user:password" in clear.
 *
 * Answered through the table layer's completion: 1 with the value, 0
 * not found, -1 the table failed (the relay fails temporarily).  A
 * table no relay action names for that service is refused (-1, logged):
 * the dispatcher never reads a listener's hashes this way.  The value
 * is a secret: it is never logged, and wiped once sent.
 *
 * A `src` (K_SOURCE, MTA-09) or `relay host` (K_RELAYHOST, MTA-06)
 * table that is not inline (file, db, a helper: sqlite, postgres, proc
 * ...) is a list the table layer hands out one value per FETCH, in
 * turn and wrapping (libexec-protocols.md 4.7).  IMSG_LOOKUP_RELAY_LIST
 * fetches until a value comes again (the list went round) or
 * LOOKUP_RELAY_LIST_MAX values, and answers them all, one per line; the
 * relay then takes its turns over that list itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "lookup_expand.h"
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

#define LOOKUP_RELAY_KEY_MAX	256
#define LOOKUP_RELAY_LIST_MAX	32	/* values of a fetched list */
#define LOOKUP_RELAY_VALUE_MAX	400	/* bytes of one, NUL included */

struct lookup_relay {
	struct mproc	*p;
	uint64_t	 reqid;
	char		 table[TABLE_NAME_MAX];
};

/* lookup_relay_allowed - does a relay action name TABLE for SERVICE,
 * a table to look keys up in, or with LIST one to fetch */
static int
lookup_relay_allowed(const char *table, int service, int list)
{
	const struct smtpd_conf		*c = env->conf;
	const struct conf_action	*a;
	const struct conf_table		*t;
	size_t				 i;

	for (i = 0; i < c->nactions; i++) {
		a = c->actions[i];
		if (a->method != CONF_METHOD_RELAY)
			continue;
		if (list)
			t = service == K_SOURCE ? a->src : service ==
			    K_RELAYHOST ? a->host : NULL;
		else
			t = service == K_CREDENTIALS ? a->auth : service ==
			    K_RELAYHOST ? a->domain : service == K_ADDRNAME ?
			    a->helo_src : NULL;
		if (t != NULL && t->name != NULL && strcmp(t->name, table) == 0)
			return 1;

	}
	return 0;
}

/* lookup_relay_find - the table NAME of RULES, or NULL */
static struct table *
lookup_relay_find(struct lookup_rules *rules, const char *name)
{
	const struct lookup_params	*lp;

	if (rules == NULL)
		return NULL;
	lp = lookup_rules_params(rules);
	return lp->table_find != NULL ? lp->table_find(lp->table_arg, name) :
	    NULL;
}

/* lookup_relay_on_value - the table's answer, to the dispatcher */
static void
lookup_relay_on_value(void *arg, int r, const char *value)
{
	struct lookup_relay	*q = arg;

	if (r == -1)
		log_warnx("lookup: relay: table %s: temporary failure",
		    q->table);
	if (!q->p->closed)
		msg_send_lookup_relay_table_result(q->p,
		    &(struct msg_lookup_relay_table_result){ .reqid = q->reqid,
			.r = r == 1 && value == NULL ? -1 : r,
			.value = r == 1 ? value : NULL });
	explicit_bzero(q, sizeof *q);
	free(q);
}

/* lookup_relay_on_table - IMSG_LOOKUP_RELAY_TABLE */
void
lookup_relay_on_table(struct lookup_rules *rules, struct mproc *p,
    struct imsg *imsg)
{
	struct msg_lookup_relay_table	 m;
	struct lookup_relay		*q;
	struct table			*t;

	if (msg_unpack_lookup_relay_table(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->reqid = m.reqid;
	if (strlcpy(q->table, m.table, sizeof q->table) >= sizeof q->table ||
	    strlen(m.key) >= LOOKUP_RELAY_KEY_MAX ||
	    !lookup_relay_allowed(m.table, m.service, 0)) {
		log_warnx("lookup: relay: refused lookup in table %.64s",
		    m.table);
		lookup_relay_on_value(q, -1, NULL);
		return;
	}
	if ((t = lookup_relay_find(rules, q->table)) == NULL) {
		log_warnx("lookup: relay: no table %s", q->table);
		lookup_relay_on_value(q, -1, NULL);
		return;
	}
	table_lookup(t, (enum table_service)m.service, m.key,
	    lookup_relay_on_value, q);
}

/* a list being fetched */
struct lookup_relay_list {
	struct mproc	*p;
	uint64_t	 reqid;
	struct table	*t;
	int		 service;
	char		 table[TABLE_NAME_MAX];
	char		*values[LOOKUP_RELAY_LIST_MAX];
	size_t		 n;
};

/* lookup_relay_list_end - answer R (1, 0 or -1) with the values */
static void
lookup_relay_list_end(struct lookup_relay_list *q, int r)
{
	char	buf[LOOKUP_RELAY_LIST_MAX * LOOKUP_RELAY_VALUE_MAX];
	size_t	i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < q->n; i++) {
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
		    i > 0 ? "\n" : "", q->values[i]);
		free(q->values[i]);
	}
	if (r == 1 && q->n == 0)
		r = 0;
	if (r == -1)
		log_warnx("lookup: relay: table %s: temporary failure", q->table);
	if (!q->p->closed)
		msg_send_lookup_relay_list_result(q->p,
		    &(struct msg_lookup_relay_list_result){ .reqid = q->reqid,
			.r = r, .values = r == 1 ? buf : "" });
	free(q);
}

/* lookup_relay_on_fetch - one value: kept, and the next asked, until
 * the list comes round again */
static void
lookup_relay_on_fetch(void *arg, int r, const char *value)
{
	struct lookup_relay_list	*q = arg;
	size_t				 i;

	if (r != 1 || value == NULL) {
		lookup_relay_list_end(q, r == 1 ? -1 : r);
		return;
	}
	for (i = 0; i < q->n; i++)
		if (strcmp(q->values[i], value) == 0) {
			lookup_relay_list_end(q, 1);	/* went round */
			return;
		}
	if (value[0] == '\0' || strlen(value) >= LOOKUP_RELAY_VALUE_MAX ||
	    strchr(value, '\n') != NULL) {
		log_warnx("lookup: relay: table %s: a value empty, too long or "
		    "of several lines: the list ends before it", q->table);
		lookup_relay_list_end(q, q->n > 0 ? 1 : -1);
		return;
	}
	q->values[q->n++] = xstrdup(value);
	if (q->n == LOOKUP_RELAY_LIST_MAX) {
		log_warnx("lookup: relay: table %s: more than %d values, the "
		    "first %d used", q->table, LOOKUP_RELAY_LIST_MAX,
		    LOOKUP_RELAY_LIST_MAX);
		lookup_relay_list_end(q, 1);
		return;
	}
	table_fetch(q->t, (enum table_service)q->service,
	    lookup_relay_on_fetch, q);
}

/* lookup_relay_on_list - IMSG_LOOKUP_RELAY_LIST */
void
lookup_relay_on_list(struct lookup_rules *rules, struct mproc *p,
    struct imsg *imsg)
{
	struct msg_lookup_relay_list	 m;
	struct lookup_relay_list	*q;

	if (msg_unpack_lookup_relay_list(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->reqid = m.reqid;
	q->service = m.service;
	if (strlcpy(q->table, m.table, sizeof q->table) >= sizeof q->table ||
	    !lookup_relay_allowed(m.table, m.service, 1)) {
		log_warnx("lookup: relay: refused fetch in table %.64s",
		    m.table);
		lookup_relay_list_end(q, -1);
		return;
	}
	if ((q->t = lookup_relay_find(rules, q->table)) == NULL) {
		log_warnx("lookup: relay: no table %s", q->table);
		lookup_relay_list_end(q, -1);
		return;
	}
	table_fetch(q->t, (enum table_service)q->service,
	    lookup_relay_on_fetch, q);
}
