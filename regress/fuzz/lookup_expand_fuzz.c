/*
 * lookup_expand_fuzz.c -- libFuzzer target for rule matching and
 * recipient expansion (smtpd/lookup/lookup_rules.c, lookup_expand.c)
 * over a hostile alias table.
 *
 * The input's first line is the recipient (any bytes); every further
 * line "key: value" is an entry of the table used both as the alias
 * table of a local action and as the virtual table of another.  The
 * expansion must end with exactly one result, a code between 200 and
 * 599; envelopes come only with a 250, at least one then, and each must
 * be writable as envelope text (no CR or LF, nothing truncated).  Any
 * breach aborts; loops and chains must end by themselves.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "lookup_expand.h"
#include "smtpd.h"

struct smtpd_env	*env;
static struct smtpd_env	expand_fuzz_env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char expand_fuzz_conf[] =
	"table aliases { postmaster = alice }\n"
	"table users { alice = \"1000:1000:/home/alice\", "
	"bob = \"1001:1001:/home/bob\", root = \"0:0:/root\" }\n"
	"action \"local\" mbox alias <aliases> userbase <users>\n"
	"action v maildir virtual <aliases> userbase <users>\n"
	"action fo forward-only alias <aliases> userbase <users>\n"
	"action out relay\n"
	"match from any for domain v.example action v\n"
	"match from any for domain fo.example action fo\n"
	"match from any for domain junk.example reject\n"
	"match from any for local action \"local\"\n"
	"match from local for any action out\n";

static struct smtpd_conf	*expand_fuzz_cf;
static struct table		*expand_fuzz_users;
static struct table		*expand_fuzz_aliases;

struct expand_fuzz_out {
	int	ndone;
	int	code;
	size_t	nevp;
};

static struct table *
expand_fuzz_find(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "users") == 0)
		return expand_fuzz_users;
	if (strcmp(name, "aliases") == 0)
		return expand_fuzz_aliases;
	return NULL;
}

static void
expand_fuzz_envelope(void *arg, const struct envelope *evp)
{
	static char		 buf[ENVELOPE_TEXT_MAX + 1];
	struct expand_fuzz_out	*o = arg;

	if (o->ndone != 0 || envelope_dump(evp, buf, sizeof buf) <= 0)
		abort();
	o->nevp++;
}

static void
expand_fuzz_done(void *arg, int code, const char *text)
{
	struct expand_fuzz_out	*o = arg;

	if (text == NULL || code < 200 || code > 599)
		abort();
	o->ndone++;
	o->code = code;
}

/* expand_fuzz_setup - the configuration and the users, once */
static int
expand_fuzz_setup(void)
{
	const struct conf_table	*ct;
	char			 err[256];
	size_t			 i;

	env = &expand_fuzz_env;
	log_init(1, 0);
	log_setverbose(0);
	expand_fuzz_cf = conf_load_string("fuzz.conf", expand_fuzz_conf,
	    strlen(expand_fuzz_conf), NULL, 0, stderr, NULL);
	if (expand_fuzz_cf == NULL)
		return -1;
	ct = conf_table_find(expand_fuzz_cf, "users");
	expand_fuzz_users = table_create("users", "static", NULL, NULL, err,
	    sizeof err);
	for (i = 0; ct != NULL && expand_fuzz_users != NULL &&
	    i < ct->nentries; i++)
		(void)table_add(expand_fuzz_users, ct->entries[i].key,
		    ct->entries[i].value, err, sizeof err);
	if (expand_fuzz_users == NULL ||
	    table_open(expand_fuzz_users, NULL, err, sizeof err) == -1)
		return -1;
	return 0;
}

/* expand_fuzz_table - the alias table from the input's lines */
static struct table *
expand_fuzz_table(const char *p, const char *end)
{
	struct table	*t;
	char		 line[4096], err[256], *colon, *value;
	const char	*nl;
	size_t		 n;

	if ((t = table_create("aliases", "static", NULL, NULL, err,
	    sizeof err)) == NULL)
		return NULL;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		p = nl != NULL ? nl + 1 : end;
		if (n >= sizeof line)
			continue;
		memcpy(line, p - n - (nl != NULL ? 1 : 0), n);
		line[n] = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		for (value = colon + 1; *value == ' '; value++)
			;
		(void)table_add(t, line, value, err, sizeof err);
	}
	if (table_open(t, NULL, err, sizeof err) == -1)
		table_free(&t);
	return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	struct lookup_params	 params;
	struct lookup_rules	*rules;
	struct expand_fuzz_out	 out;
	struct envelope		 evp;
	const char		*p = (const char *)data, *end = p + size, *nl;
	const char		*at;
	char			 rcpt[600], err[256];
	size_t			 n;

	if (!ready) {
		if (expand_fuzz_setup() == -1)
			abort();
		ready = 1;
	}
	if (size > 65536 || memchr(data, '\0', size) != NULL)
		return 0;
	nl = memchr(p, '\n', size);
	n = (size_t)((nl != NULL ? nl : end) - p);
	if (n >= sizeof rcpt)
		return 0;
	memcpy(rcpt, p, n);
	rcpt[n] = '\0';
	if ((expand_fuzz_aliases = expand_fuzz_table(nl != NULL ? nl + 1 :
	    end, end)) == NULL)
		return 0;
	memset(&params, 0, sizeof params);
	params.server_name = "mx.fuzz.example";
	params.table_find = expand_fuzz_find;
	params.no_interfaces = 1;
	if ((rules = lookup_rules_new(expand_fuzz_cf, &params, err,
	    sizeof err)) == NULL)
		abort();
	memset(&evp, 0, sizeof evp);
	evp.version = ENVELOPE_VERSION;
	evp.ss.ss_family = AF_UNIX;
	at = strrchr(rcpt, '@');
	(void)snprintf(evp.rcpt.user, sizeof evp.rcpt.user, "%.*s",
	    (int)(at != NULL ? (size_t)(at - rcpt) : n), rcpt);
	(void)snprintf(evp.rcpt.domain, sizeof evp.rcpt.domain, "%s",
	    at != NULL ? at + 1 : "localhost");
	memset(&out, 0, sizeof out);
	lookup_expand_rcpt(rules, &evp, expand_fuzz_envelope,
	    expand_fuzz_done, &out);
	/* embedded tables only: the result is there before the return */
	if (out.ndone != 1 || (out.code == 250) != (out.nevp > 0))
		abort();
	lookup_rules_free(&rules);
	table_free(&expand_fuzz_aliases);
	return 0;
}
