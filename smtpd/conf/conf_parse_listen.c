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
 * conf_listen_finish - TLS listeners given no pki.  The modern grammar
 * refuses them (7.x).  In a legacy file they get what 5.4-6.0 used
 * (smtpd-conf.md 11.3): the pki named like the listener's host name,
 * which is the server name unless `hostname` says otherwise.
 */
void
conf_listen_finish(struct conf_parser *p)
{
	struct conf_tls_nopki	*n;
	struct conf_pki		*k;
	const char		*saved = p->stmt_file;
	char			 server[256];
	size_t			 i;

	if (smtpd_server_name(PATH_MAILNAME, server, sizeof(server)) == -1)
		snprintf(server, sizeof(server), "localhost");
	for (i = 0; i < p->ntls_nopki; i++) {
		n = p->tls_nopki[i];
		p->stmt_file = n->file;
		if (!p->legacy_line) {
			conf_error(p, n->line, "pki required for tls/smtps");
			continue;
		}
		k = NULL;
		if (n->l->hostname != NULL)
			k = conf_pki_named(p, n->l->hostname);
		if (k == NULL)
			k = conf_pki_named(p, server);
		if (k == NULL) {
			conf_error(p, n->line, "TLS listener without "
			    "certificate: no pki named %s%s%s (5.x used the "
			    "pki named like the listener's host name); add "
			    "\"certificate NAME\" or \"pki NAME\"",
			    n->l->hostname ? n->l->hostname : "",
			    n->l->hostname ? " or " : "", server);
			continue;
		}
		conf_push(p->a, &n->l->pki, &n->l->npki, k->name);
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
		/* 7.x refuses it, 5.x picked a pki by name: which one
		 * applies is known once the first rule has been read */
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

/* conf_listen_once - refuse a second occurrence of an option */
static void
conf_listen_once(struct conf_parser *p, unsigned *seen, int bit,
    const char *what, int line)
{
	if (*seen & (1u << bit))
		conf_error(p, line, "%s already specified", what);
	*seen |= 1u << bit;
}

/* conf_parse_listen - listen on ( socket | IF ) [ options ] */
void
conf_parse_listen(struct conf_parser *p, int line)
{
	struct conf_listener	*l, *l2;
	struct conf_pki		*k;
	struct conf_tok		*t;
	unsigned		 seen = 0;
	char			*s, *cert = NULL;
	int			 dual = 0;

	conf_expect_kw(p, "on");
	l = conf_alloc(p->a, sizeof(*l));
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
		if (strcmp(s, "filter") == 0) {
			conf_parse_filter_ref(p, &l->filter, 0, line);
		} else if (strcmp(s, "mask-src") == 0 ||
		    strcmp(s, "mask-source") == 0) {
			if (strcmp(s, "mask-source") == 0)
				conf_mode_mark(p, 1, line, "mask-source");
			conf_listen_once(p, &seen, 0, "mask-src", line);
			l->mask_src = 1;
		} else if (strcmp(s, "no-dsn") == 0) {
			conf_listen_once(p, &seen, 1, s, line);
			l->no_dsn = 1;
		} else if (strcmp(s, "tag") == 0) {
			conf_listen_once(p, &seen, 2, s, line);
			l->tag = conf_expect_value(p, "a tag");
			if (strlen(l->tag) > CONF_TAG_MAX)
				conf_error(p, line, "tag name too long");
		} else if (l->kind == CONF_LISTEN_SOCKET)
			conf_syntax(p, "'%s' is not an option of listen on "
			    "socket", s);
		else if (strcmp(s, "inet4") == 0 || strcmp(s, "inet6") == 0) {
			conf_listen_once(p, &seen, 3, "address family", line);
			l->family = strcmp(s, "inet4") == 0 ? 4 : 6;
		} else if (strcmp(s, "port") == 0) {
			conf_listen_once(p, &seen, 4, s, line);
			s = conf_expect_value(p, "a port");
			if ((l->port = conf_parse_port(s)) == -1) {
				conf_error(p, line, "invalid port: %s", s);
				l->port = 0;
			}
		} else if (strcmp(s, "tls") == 0 ||
		    strcmp(s, "tls-require") == 0 || strcmp(s, "smtps") == 0 ||
		    strcmp(s, "secure") == 0 || strcmp(s, "ssl") == 0) {
			if (seen & (1u << 5))
				conf_error(p, line, "TLS mode already "
				    "specified");
			seen |= 1u << 5;
			if (strcmp(s, "secure") == 0 ||
			    strcmp(s, "ssl") == 0) {
				conf_mode_mark(p, 1, line, s);
				dual = 1;
				l->tls = CONF_TLS_STARTTLS;
				continue;
			}
			l->tls = strcmp(s, "tls") == 0 ? CONF_TLS_STARTTLS :
			    strcmp(s, "smtps") == 0 ? CONF_TLS_SMTPS :
			    CONF_TLS_REQUIRE;
			if (l->tls != CONF_TLS_STARTTLS &&
			    conf_accept_kw(p, "verify"))
				l->tls_verify = 1;
		} else if (strcmp(s, "pki") == 0) {
			if (l->npki >= CONF_PKI_PER_LISTENER)
				conf_error(p, line, "too many pki");
			conf_push(p->a, &l->pki, &l->npki,
			    conf_expect_string(p, "a pki name"));
		} else if (strcmp(s, "certificate") == 0) {
			conf_mode_mark(p, 1, line, "certificate");
			conf_listen_once(p, &seen, 6, "pki", line);
			cert = conf_expect_value(p, "a certificate name");
		} else if (strcmp(s, "ca") == 0) {
			conf_listen_once(p, &seen, 7, s, line);
			l->ca = conf_expect_string(p, "a ca name");
		} else if (strcmp(s, "ciphers") == 0) {
			conf_listen_once(p, &seen, 8, s, line);
			l->ciphers = conf_expect_string(p, "a cipher list");
		} else if (strcmp(s, "protocols") == 0) {
			conf_listen_once(p, &seen, 9, s, line);
			l->protocols = conf_expect_string(p, "a protocol list");
		} else if (strcmp(s, "auth") == 0 ||
		    strcmp(s, "auth-optional") == 0) {
			conf_listen_once(p, &seen, 10, "auth", line);
			l->auth = strcmp(s, "auth-optional") == 0 ?
			    CONF_AUTH_OPTIONAL : CONF_AUTH_REQUIRE;
			if (conf_peek_table(p))
				l->auth_table = conf_parse_tables(p,
				    SVC_CREDENTIALS);
		} else if (strcmp(s, "senders") == 0) {
			conf_listen_once(p, &seen, 11, s, line);
			l->senders = conf_parse_tables(p, SVC_MAILADDRMAP);
			if (conf_accept_kw(p, "masquerade"))
				l->masquerade = 1;
		} else if (strcmp(s, "hostname") == 0) {
			conf_listen_once(p, &seen, 12, s, line);
			l->hostname = conf_expect_string(p, "a host name");
		} else if (strcmp(s, "hostnames") == 0) {
			conf_listen_once(p, &seen, 13, s, line);
			l->hostnames = conf_parse_tables(p, SVC_ADDRNAME);
		} else if (strcmp(s, "received-auth") == 0) {
			conf_listen_once(p, &seen, 14, s, line);
			l->received_auth = 1;
		} else if (strcmp(s, "proxy-v2") == 0) {
			conf_listen_once(p, &seen, 15, s, line);
			l->proxy_v2 = 1;
		} else
			conf_syntax(p, "unknown listen option '%s'", s);
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
	if (cert != NULL) {
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
	if (dual) {
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
