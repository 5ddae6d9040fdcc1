/*
 * conf_parse_listen.c -- `listen on` of smtpd.conf, in both grammars:
 * interface, address, host name or the local socket, and every
 * listener option with its uniqueness and TLS/auth/pki checks.
 *
 * Runs in parent and `smtpd -n`.  Problems that OpenSMTPD reports
 * without a line number when it creates the sockets are FILE:LINE
 * errors here.  Never binds a socket; never fatals on input.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"
#include "smtpd.h"

#ifndef CONF_MAILNAME
#endif

/* conf_listen_kind - what the name after "listen on" designates */
static int
conf_listen_kind(struct conf_parser *p, struct conf_listener *l, int line)
{
	unsigned char	buf[16];

	if (inet_pton(AF_INET, l->on, buf) == 1 ||
	    inet_pton(AF_INET6, l->on, buf) == 1)
		l->kind = CONF_LISTEN_ADDRESS;
	else if (strcmp(l->on, "all") == 0 || strcmp(l->on, "egress") == 0 ||
	    strcmp(l->on, "localhost") == 0 || strcmp(l->on, "lo0") == 0)
		l->kind = CONF_LISTEN_GROUP;
	else if (if_nametoindex(l->on) != 0)
		l->kind = CONF_LISTEN_IFACE;
	else if (strchr(l->on, '.') != NULL)
		l->kind = CONF_LISTEN_HOST;
	else if (p->trusted)
		l->kind = CONF_LISTEN_IFACE;	/* parent saw it; gone since */
	else {
		conf_error(p, line, "invalid listen address or interface: %s",
		    l->on);
		return -1;
	}
	return 0;
}

/* a TLS listener declared without pki, resolved by conf_listen_finish */
struct conf_tls_nopki {
	struct conf_listener	*l;
	const char		*file;
	int			 line;
};

/* conf_pki_named - the pki called NAME, case aside, or NULL */
static struct conf_pki *
conf_pki_named(struct conf_parser *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->conf->npkis; i++)
		if (strcasecmp(p->conf->pkis[i]->name, name) == 0)
			return p->conf->pkis[i];
	return NULL;
}

/*
 * conf_listen_finish - TLS listeners given no pki.  In a legacy file
 * they get what 5.4-6.0 used (smtpd-conf.md 11.3): the pki named like
 * the listener's host name, which is the server name unless `hostname`
 * says otherwise.  In a modern one, what 6.x did (TLS-04): the pki
 * named like the listener's host name, else the catch-all pki "*";
 * with neither it is refused as 7.x refuses any (a 6.8 daemon started
 * with it, and failed every handshake).
 */
void
conf_listen_finish(struct conf_parser *p)
{
	struct conf_tls_nopki	*n;
	struct conf_pki		*k;
	const char		*saved = p->stmt_file, *name;
	char			 server[256];
	size_t			 i;

	if (smtpd_server_name(PATH_MAILNAME, server, sizeof(server)) == -1)
		snprintf(server, sizeof(server), "localhost");
	for (i = 0; i < p->ntls_nopki; i++) {
		n = p->tls_nopki[i];
		p->stmt_file = n->file;
		name = n->l->hostname != NULL ? n->l->hostname : server;
		/* then 5.x tried the server name, 6.x the catch-all */
		if ((k = conf_pki_named(p, name)) == NULL)
			k = conf_pki_named(p, p->legacy_line ? server : "*");
		if (k != NULL)
			conf_push(p->a, &n->l->pki, &n->l->npki, k->name);
		else if (!p->legacy_line)
			conf_error(p, n->line, "pki required for tls/smtps: "
			    "no pki named %s, nor \"*\"", name);
		else
			conf_error(p, n->line, "TLS listener without "
			    "certificate: no pki named %s%s%s (5.x used the "
			    "pki named like the listener's host name); add "
			    "\"certificate NAME\" or \"pki NAME\"",
			    n->l->hostname ? n->l->hostname : "",
			    n->l->hostname ? " or " : "", server);
	}
	p->stmt_file = saved;
}

/* conf_add_listener - checks common to both grammars, then keep it */
void
conf_add_listener(struct conf_parser *p, struct conf_listener *l, int line)
{
	struct conf_tls_nopki	*n;
	size_t			 i;

	/* a pki's files are checked with every other pki at the end */
	for (i = 0; i < l->npki && !p->trusted; i++)
		if (conf_pki_get(p, l->pki[i], 0) == NULL)
			conf_error(p, line, "pki name not found: %s",
			    l->pki[i]);
	if (l->ca && conf_ca_get(p, l->ca, 0) == NULL)
		conf_error(p, line, "ca name not found: %s", l->ca);
	if (l->npki && l->tls == CONF_TLS_NONE)
		conf_error(p, line, "pki requires tls/smtps");
	if (!l->npki && l->tls != CONF_TLS_NONE) {
		/* 7.x refuses it, 5.x and 6.x picked a pki by name: which
		 * grammar applies is known once the first rule is read */
		n = conf_alloc(p->a, sizeof(*n));
		n->l = l;
		n->file = p->stmt_file;
		n->line = line;
		conf_push(p->a, &p->tls_nopki, &p->ntls_nopki, n);
	}
	if (l->auth != CONF_AUTH_NONE && l->tls == CONF_TLS_NONE)
		conf_error(p, line, "auth requires tls/smtps");
	conf_push(p->a, &p->conf->listeners, &p->conf->nlisteners, l);
}

/* what one listen on line has read so far */
struct conf_listen_ctx {
	struct conf_listener	*l;
	unsigned		 seen;	/* uniqueness groups, by first row */
	char			*cert;	/* 5.3 certificate NAME */
	int			 dual;	/* 5.x secure/ssl */
};

/* conf_listen_row - the row of keyword S, or NULL */
static const struct conf_listen_option *
conf_listen_row(const char *s)
{
	size_t	i;

	for (i = 0; i < conf_nlisten_options; i++)
		if (strcmp(conf_listen_options[i].kw, s) == 0)
			return &conf_listen_options[i];
	return NULL;
}

/* conf_listen_once - refuse a second option of O's uniqueness group */
static void
conf_listen_once(struct conf_parser *p, struct conf_listen_ctx *c,
    const struct conf_listen_option *o, int line)
{
	size_t	i;

	if (o->once == NULL)
		return;
	for (i = 0; strcmp(conf_listen_options[i].once ?
	    conf_listen_options[i].once : "", o->once) != 0; i++)
		;
	if (c->seen & (1u << i))
		conf_error(p, line, "%s already specified", o->once);
	c->seen |= 1u << i;
}

/* conf_listen_value - the value of option O, stored in its field */
static void
conf_listen_value(struct conf_parser *p, struct conf_listen_ctx *c,
    const struct conf_listen_option *o, void *f, void *f2, int line)
{
	char	*s;

	switch (o->type) {
	case CONF_LOPT_PORT:
		s = conf_expect_value(p, o->what);
		if ((*(int *)f = conf_parse_port(s)) == -1) {
			conf_error(p, line, "invalid port: %s", s);
			*(int *)f = 0;
		}
		break;
	case CONF_LOPT_TAG:
		*(char **)f = conf_expect_value(p, o->what);
		if (strlen(*(char **)f) > CONF_TAG_MAX)
			conf_error(p, line, "%s name too long", o->kw);
		break;
	case CONF_LOPT_PKIS:
		if (*(size_t *)f2 >= CONF_PKI_PER_LISTENER)
			conf_error(p, line, "too many pki");
		conf_push(p->a, (char ***)f, (size_t *)f2,
		    conf_expect_string(p, o->what));
		break;
	case CONF_LOPT_CERT:
		c->cert = conf_expect_value(p, o->what);
		break;
	default:
		*(char **)f = conf_expect_string(p, o->what);
		break;
	}
}

/* conf_listen_opt - option O of the listener being read */
static void
conf_listen_opt(struct conf_parser *p, struct conf_listen_ctx *c,
    const struct conf_listen_option *o, int line)
{
	void	*f = (char *)c->l + o->offset;
	void	*f2 = (char *)c->l + o->offset2;

	if (o->flags & CONF_LOPT_LEGACY)
		conf_mode_mark(p, 1, line, o->kw);
	conf_listen_once(p, c, o, line);
	switch (o->type) {
	case CONF_LOPT_FLAG:
		*(int *)f = 1;
		break;
	case CONF_LOPT_ENUM:
	case CONF_LOPT_TABLE:
		if (o->type == CONF_LOPT_ENUM)
			*(int *)f = o->val;
		else
			*(struct conf_table **)f = conf_parse_tables(p, o->svc);
		if (o->sub != NULL && conf_accept_kw(p, o->sub))
			*(int *)f2 = 1;
		break;
	case CONF_LOPT_AUTH:
		*(int *)f = o->val;
		if (conf_peek_table(p))
			*(struct conf_table **)f2 = conf_parse_tables(p,
			    o->svc);
		break;
	case CONF_LOPT_FILTER:
		conf_parse_filter_ref(p, f, 0, line);
		break;
	case CONF_LOPT_DUAL:
		/* after the uniqueness check, as 5.x reported it */
		conf_mode_mark(p, 1, line, o->kw);
		c->dual = 1;
		*(int *)f = o->val;
		break;
	default:
		conf_listen_value(p, c, o, f, f2, line);
		break;
	}
}

/* conf_parse_listen - listen on ( socket | IF ) [ options ] */
void
conf_parse_listen(struct conf_parser *p, int line)
{
	const struct conf_listen_option	*o;
	struct conf_listen_ctx		 c = { 0 };
	struct conf_listener		*l, *l2;
	struct conf_pki			*k;
	struct conf_tok			*t;
	char				*s, *cert;

	conf_expect_kw(p, "on");
	l = c.l = conf_alloc(p->a, sizeof(*l));
	if (conf_accept_kw(p, "socket")) {
		l->kind = CONF_LISTEN_SOCKET;
		l->on = "socket";
	} else
		l->on = conf_expect_string(p, "an address, interface or "
		    "host name");
	for (;;) {
		t = conf_peek(p);
		if (t->type == T_NL || t->type == T_EOF)
			break;
		line = t->line;
		if (t->type != T_WORD)
			conf_unexpected(p, conf_next(p), "a listen option");
		s = conf_strdup(p->a, conf_next(p)->s);
		o = conf_listen_row(s);
		if (l->kind == CONF_LISTEN_SOCKET &&
		    (o == NULL || !(o->flags & CONF_LOPT_SOCKET)))
			conf_syntax(p, "'%s' is not an option of listen on "
			    "socket", s);
		else if (o == NULL)
			conf_syntax(p, "unknown listen option '%s'", s);
		conf_listen_opt(p, &c, o, line);
	}
	conf_expect_nl(p, "the listen options");
	if (l->kind == CONF_LISTEN_SOCKET) {
		if (p->socket_seen++) {
			conf_error(p, line, "socket listener already "
			    "configured");
			return;
		}
		conf_push(p->a, &p->conf->listeners, &p->conf->nlisteners, l);
		return;
	}
	if (conf_listen_kind(p, l, line) == -1)
		return;
	if ((cert = c.cert) != NULL) {
		/* 5.3: certificate NAME = /etc/mail/certs/NAME.{crt,key} */
		if ((k = conf_pki_get(p, cert, 0)) == NULL) {
			k = conf_pki_get(p, cert, 1);
			k->cert = conf_alloc(p->a, strlen(cert) + 32);
			sprintf(k->cert, "/etc/mail/certs/%s.crt", cert);
			k->key = conf_alloc(p->a, strlen(cert) + 32);
			sprintf(k->key, "/etc/mail/certs/%s.key", cert);
		}
		conf_push(p->a, &l->pki, &l->npki, k->name);
	}
	if (c.dual) {
		if (l->port) {
			conf_error(p, line, "ssl/secure may not be used with "
			    "port");
			return;
		}
		l2 = conf_alloc(p->a, sizeof(*l2));
		*l2 = *l;
		l->port = 25;
		l2->tls = CONF_TLS_SMTPS;
		l2->port = 465;
		conf_add_listener(p, l, line);
		conf_add_listener(p, l2, line);
		return;
	}
	conf_add_listener(p, l, line);
}
