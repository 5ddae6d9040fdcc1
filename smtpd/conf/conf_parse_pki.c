/*
 * conf_parse_pki.c -- `pki` and `ca` declarations of smtpd.conf, and
 * the lookup of a pki or ca by name for listeners and relay actions.
 *
 * Runs in parent and `smtpd -n`.  The legacy spellings (`certificate`,
 * `pki H ca F`, `dhparams`) are accepted here and mark the file as
 * legacy.  Nothing here fatals on the configuration's contents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

struct conf_pki *
conf_pki_get(struct conf_parser *p, const char *name, int create)
{
	struct conf_pki	*k;
	size_t		 i;

	for (i = 0; i < p->conf->npkis; i++)
		if (strcmp(p->conf->pkis[i]->name, name) == 0)
			return p->conf->pkis[i];
	if (!create)
		return NULL;
	k = conf_alloc(p->a, sizeof(*k));
	k->name = conf_strdup(p->a, name);
	conf_push(p->a, &p->conf->pkis, &p->conf->npkis, k);
	return k;
}

struct conf_ca *
conf_ca_get(struct conf_parser *p, const char *name, int create)
{
	struct conf_ca	*c;
	size_t		 i;

	for (i = 0; i < p->conf->ncas; i++)
		if (strcmp(p->conf->cas[i]->name, name) == 0)
			return p->conf->cas[i];
	if (!create)
		return NULL;
	c = conf_alloc(p->a, sizeof(*c));
	c->name = conf_strdup(p->a, name);
	conf_push(p->a, &p->conf->cas, &p->conf->ncas, c);
	return c;
}

/* conf_parse_pki - pki NAME { cert F | key F | dhe P }, legacy words too */
void
conf_parse_pki(struct conf_parser *p, int line)
{
	struct conf_pki	*k;
	struct conf_ca	*ca;
	char		*name, *v;
	int		 any = 0;

	name = conf_expect_string(p, "a pki name");
	k = conf_pki_get(p, name, 0);
	for (;;) {
		if (conf_accept_kw(p, "cert") ||
		    (conf_peek_kw(p, "certificate") && conf_next(p) &&
		    (conf_mode_mark(p, 1, line, "pki certificate"), 1))) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			k->cert = conf_expect_string(p, "a certificate path");
		} else if (conf_accept_kw(p, "key")) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			k->key = conf_expect_string(p, "a key path");
		} else if (conf_accept_kw(p, "dhe")) {
			if (k == NULL)
				k = conf_pki_get(p, name, 1);
			v = conf_expect_string(p, "none, auto or legacy");
			if (strcmp(v, "none") && strcmp(v, "auto") &&
			    strcmp(v, "legacy"))
				conf_error(p, line, "invalid dhe value: %s", v);
			k->dhe = v;
		} else if (conf_accept_kw(p, "ca")) {
			/* 5.4: pki H ca F -> ca H cert F */
			conf_mode_mark(p, 1, line, "pki ca");
			ca = conf_ca_get(p, name, 1);
			ca->cert = conf_expect_string(p, "a CA file path");
			conf_push(p->a, &p->legacy_cas, &p->nlegacy_cas, ca);
		} else if (conf_accept_kw(p, "dhparams")) {
			conf_mode_mark(p, 1, line, "pki dhparams");
			conf_expect_string(p, "a dhparams path");
			conf_warn(p, line, "pki dhparams ignored, use "
			    "\"pki %s dhe auto\"", name);
		} else
			break;
		any = 1;
	}
	if (!any)
		conf_unexpected(p, conf_next(p), "cert, key or dhe");
	conf_expect_nl(p, "the pki");
}

/* conf_parse_ca - ca NAME cert FILE */
void
conf_parse_ca(struct conf_parser *p, int line)
{
	char	*name;

	name = conf_expect_string(p, "a ca name");
	if (!conf_accept_kw(p, "cert")) {
		conf_expect_kw(p, "certificate");
		conf_mode_mark(p, 1, line, "ca certificate");
	}
	conf_ca_get(p, name, 1)->cert = conf_expect_string(p,
	    "a CA file path");
	conf_expect_nl(p, "the ca");
}
