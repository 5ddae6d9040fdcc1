/*
 * lookup_auth.c -- SMTP AUTH's side in the lookup process: a user's
 * password checked against a listener's credentials table (`auth
 * <table>`: "user  crypt-hash", AUTH-05), and an authenticated user's
 * MAIL FROM checked against `senders <table>` (a mailaddrmap: the
 * addresses, "@domain" or bare user names the user may send as; AUTH-09).
 *
 * Asked by the dispatcher (IMSG_LOOKUP_CHECK_CREDENTIALS, _SENDER) and
 * answered through the table layer's completions: 1 yes, 0 no, -1 the
 * table failed (a temporary failure for the client).  The password is
 * kept, for the table's answer only, in a request that is wiped when
 * freed; it is never logged.  crypt(3) is CPU work (no file is read).
 * Never fatal on a table's answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imsg_codec.h"
#include "log.h"
#include "lookup_expand.h"
#include "mailaddr.h"
#include "password.h"
#include "smtpd.h"
#include "table.h"
#include "xmalloc.h"

#define LOOKUP_AUTH_USER_MAX	256
#define LOOKUP_AUTH_PASS_MAX	1024

struct lookup_auth {
	struct mproc	*p;
	uint64_t	 reqid;
	int		 sender;	/* a senders check */
	char		 table[TABLE_NAME_MAX];
	char		 user[LOOKUP_AUTH_USER_MAX];
	char		 secret[LOOKUP_AUTH_PASS_MAX];	/* password, or the
							 * sender's address */
};

/* lookup_auth_answer - reply R to the dispatcher; forget the request */
static void
lookup_auth_answer(struct lookup_auth *q, int r)
{
	if (!q->p->closed) {
		if (q->sender)
			msg_send_lookup_check_sender_result(q->p,
			    &(struct msg_lookup_check_sender_result){
			    .reqid = q->reqid, .r = r });
		else
			msg_send_lookup_check_credentials_result(q->p,
			    &(struct msg_lookup_check_credentials_result){
			    .reqid = q->reqid, .r = r });
	}
	explicit_bzero(q, sizeof *q);
	free(q);
}

/* lookup_auth_table - the named table of the request, or NULL */
static struct table *
lookup_auth_table(struct lookup_rules *rules, const struct lookup_auth *q)
{
	const struct lookup_params	*lp;

	if (rules == NULL)
		return NULL;
	lp = lookup_rules_params(rules);
	return lp->table_find != NULL ?
	    lp->table_find(lp->table_arg, q->table) : NULL;
}

/* lookup_auth_new - a request from the fields; NULL when one is too
 * long (then answered 0: nothing that long can match) */
static struct lookup_auth *
lookup_auth_new(struct mproc *p, uint64_t reqid, int sender,
    const char *table, const char *user, const char *secret)
{
	struct lookup_auth	*q;

	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->reqid = reqid;
	q->sender = sender;
	if (strlcpy(q->table, table, sizeof q->table) >= sizeof q->table ||
	    strlcpy(q->user, user, sizeof q->user) >= sizeof q->user ||
	    strlcpy(q->secret, secret, sizeof q->secret) >= sizeof q->secret) {
		lookup_auth_answer(q, 0);
		return NULL;
	}
	return q;
}

/* lookup_auth_on_credentials - the user's entry: check the password */
static void
lookup_auth_on_credentials(void *arg, int r, const char *value)
{
	struct lookup_auth		*q = arg;
	struct table_credentials	*c;
	char				 err[128];

	if (r != 1) {
		if (r == -1)
			log_warnx("lookup: auth: table %s: temporary failure",
			    q->table);
		lookup_auth_answer(q, r);
		return;
	}
	c = xmalloc(sizeof *c);
	if (table_parse_credentials(q->user, value, c, err, sizeof err) ==
	    -1) {
		log_warnx("lookup: auth: table %s: bad entry: %s", q->table,
		    err);
		r = -1;
	} else if ((r = password_check(q->secret, c->password)) == -1)
		log_warnx("lookup: auth: table %s: unusable hash", q->table);
	explicit_bzero(c, sizeof *c);
	free(c);
	lookup_auth_answer(q, r);
}

/* lookup_auth_on_check_credentials - IMSG_LOOKUP_CHECK_CREDENTIALS */
void
lookup_auth_on_check_credentials(struct lookup_rules *rules,
    struct mproc *p, struct imsg *imsg)
{
	struct msg_lookup_check_credentials	 m;
	struct lookup_auth			*q;
	struct table				*t;

	if (msg_unpack_lookup_check_credentials(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((q = lookup_auth_new(p, m.reqid, 0, m.table, m.user,
	    m.password)) == NULL)
		return;
	if ((t = lookup_auth_table(rules, q)) == NULL) {
		log_warnx("lookup: auth: no table %s", q->table);
		lookup_auth_answer(q, -1);
		return;
	}
	table_lookup(t, K_CREDENTIALS, q->user, lookup_auth_on_credentials, q);
}

/* what the walk over a user's addresses looks for */
struct lookup_auth_walk {
	const char	*sender;	/* "user@domain" */
	int		 found;
};

/* lookup_auth_sender_match - list callback: ELEMENT allows the sender;
 * -1 stops the walk once it does */
static int
lookup_auth_sender_match(const char *element, void *arg)
{
	struct lookup_auth_walk	*w = arg;
	const char		*at = strrchr(w->sender, '@');
	size_t			 ulen;

	if (at == NULL)
		return 0;
	ulen = (size_t)(at - w->sender);
	if (element[0] == '@')		/* any user at that domain */
		w->found = strcasecmp(element + 1, at + 1) == 0;
	else if (strchr(element, '@') == NULL)	/* that user, any domain */
		w->found = strlen(element) == ulen &&
		    strncasecmp(element, w->sender, ulen) == 0;
	else
		w->found = strcasecmp(element, w->sender) == 0;
	return w->found ? -1 : 0;
}

/* lookup_auth_on_senders - the user's addresses: is the sender one */
static void
lookup_auth_on_senders(void *arg, int r, const char *value)
{
	struct lookup_auth	*q = arg;
	struct lookup_auth_walk	 w = { q->secret, 0 };
	char			 err[256];

	if (r == -1)
		log_warnx("lookup: senders: table %s: temporary failure",
		    q->table);
	if (r == 1) {
		(void)table_split_list(value, lookup_auth_sender_match, &w,
		    err, sizeof err);
		r = w.found;
	}
	lookup_auth_answer(q, r);
}

/* lookup_auth_on_check_sender - IMSG_LOOKUP_CHECK_SENDER */
void
lookup_auth_on_check_sender(struct lookup_rules *rules, struct mproc *p,
    struct imsg *imsg)
{
	struct msg_lookup_check_sender	 m;
	struct lookup_auth		*q;
	struct table			*t;

	if (msg_unpack_lookup_check_sender(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((q = lookup_auth_new(p, m.reqid, 1, m.table, m.user,
	    m.sender)) == NULL)
		return;
	if (q->secret[0] == '\0') {	/* <>: nobody's address */
		lookup_auth_answer(q, 0);
		return;
	}
	if ((t = lookup_auth_table(rules, q)) == NULL) {
		log_warnx("lookup: senders: no table %s", q->table);
		lookup_auth_answer(q, -1);
		return;
	}
	table_lookup(t, K_MAILADDRMAP, q->user, lookup_auth_on_senders, q);
}
