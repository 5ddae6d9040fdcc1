/*
 * dispatcher_tls.c -- the libtls server context of each listener with
 * TLS (tls, tls-require, smtps), made once at start from the
 * configuration and the chains the parent sent (TLS-04, TLS-05,
 * TLS-09, TLS-10).
 *
 * Runs in the dispatcher, from its on_config, before it chroots: a
 * `ca` bundle or the system's CA file is read then.  Per listener:
 * every pki it names, the first as the default and all of them chosen
 * by SNI against the names in their certificates (libtls); without a
 * pki, the one named as the listener's hostname; the first pki's
 * `dhe` (TLS-02) is the listener's.  Each key is a
 * stand-in (dispatcher_ca.c): signing goes to ca.  Protocols: the
 * listener's `protocols`, default TLSv1.2 and TLSv1.3; ciphers: the
 * listener's, else `smtp ciphers`, default HIGH:!aNULL:!MD5.  `verify`
 * requires a client certificate trusted by the listener's `ca` (else
 * the system's CA file).  A listener that cannot be set up is fatal:
 * this is start-up.  Never holds a private key.
 */
#include <stdlib.h>
#include <string.h>

#include <tls.h>

#include "conf.h"
#include "dispatcher.h"
#include "log.h"
#include "smtpd.h"
#include "xmalloc.h"

#define DISPATCHER_TLS_PROTOCOLS	"tlsv1.2,tlsv1.3"

static struct {
	const struct conf_listener	**listeners;
	struct tls			**ctx;
	size_t				  n;
} dispatcher_tls;

/* dispatcher_tls_keypair - pki NAME (a stand-in key) into CFG */
static void
dispatcher_tls_keypair(struct tls_config *cfg, const char *name, int first)
{
	const unsigned char	*cert;
	unsigned char		*key;
	size_t			 certlen, keylen, i;
	int			 r;

	if ((cert = dispatcher_ca_cert(name, &certlen)) == NULL)
		fatalx("dispatcher: pki %s: no certificate", name);
	if ((key = dispatcher_ca_standin(cert, certlen, &keylen)) == NULL)
		fatalx("dispatcher: pki %s: the certificate does not parse or "
		    "its key is neither RSA nor EC", name);
	r = first ? tls_config_set_keypair_mem(cfg, cert, certlen, key,
	    keylen) : tls_config_add_keypair_mem(cfg, cert, certlen, key,
	    keylen);
	free(key);
	if (r == -1)
		fatalx("dispatcher: pki %s: %s", name, tls_config_error(cfg));
	for (i = 0; first && i < env->conf->npkis; i++)
		if (strcmp(env->conf->pkis[i]->name, name) == 0 &&
		    env->conf->pkis[i]->dhe != NULL &&
		    tls_config_set_dheparams(cfg, env->conf->pkis[i]->dhe) ==
		    -1)
			fatalx("dispatcher: pki %s: dhe %s: %s", name,
			    env->conf->pkis[i]->dhe, tls_config_error(cfg));
}

/* dispatcher_tls_ca - the CA bundle a `verify` listener trusts */
static void
dispatcher_tls_ca(struct tls_config *cfg, const struct conf_listener *cl)
{
	const struct smtpd_conf	*c = env->conf;
	const char		*path = tls_default_ca_cert_file();
	size_t			 i;

	if (cl->ca != NULL) {
		path = NULL;
		for (i = 0; i < c->ncas; i++)
			if (strcmp(c->cas[i]->name, cl->ca) == 0)
				path = c->cas[i]->cert;
		if (path == NULL)
			fatalx("dispatcher: listener on %s: no ca %s", cl->on,
			    cl->ca);
	}
	if (tls_config_set_ca_file(cfg, path) == -1)
		fatalx("dispatcher: listener on %s: ca %s: %s", cl->on, path,
		    tls_config_error(cfg));
	tls_config_verify_client(cfg);
}

/* dispatcher_tls_new - the server context of CL */
static struct tls *
dispatcher_tls_new(const struct conf_listener *cl)
{
	struct tls_config	*cfg;
	struct tls		*ctx;
	const char		*ciphers, *host;
	uint32_t		 protocols;
	size_t			 i;

	if ((cfg = tls_config_new()) == NULL)
		fatalx("dispatcher: cannot set up libtls");
	host = cl->hostname != NULL ? cl->hostname : env->servername;
	if (cl->npki == 0)
		dispatcher_tls_keypair(cfg, host, 1);
	for (i = 0; i < cl->npki; i++)
		dispatcher_tls_keypair(cfg, cl->pki[i], i == 0);
	if (tls_config_parse_protocols(&protocols, cl->protocols != NULL ?
	    cl->protocols : DISPATCHER_TLS_PROTOCOLS) == -1 ||
	    tls_config_set_protocols(cfg, protocols) == -1)
		fatalx("dispatcher: listener on %s: invalid protocols %s",
		    cl->on, cl->protocols);
	ciphers = cl->ciphers != NULL ? cl->ciphers :
	    env->conf->smtp_ciphers != NULL ? env->conf->smtp_ciphers :
	    CONF_DEFAULT_CIPHERS;
	if (tls_config_set_ciphers(cfg, ciphers) == -1)
		fatalx("dispatcher: listener on %s: ciphers %s: %s", cl->on,
		    ciphers, tls_config_error(cfg));
	if (cl->tls_verify)
		dispatcher_tls_ca(cfg, cl);
	if ((ctx = tls_server()) == NULL || tls_configure(ctx, cfg) == -1)
		fatalx("dispatcher: listener on %s: %s", cl->on,
		    ctx ? tls_error(ctx) : "cannot set up libtls");
	tls_config_free(cfg);
	return ctx;
}

void
dispatcher_tls_init(void)
{
	const struct smtpd_conf	*c = env->conf;
	size_t			 i;

	if (tls_init() == -1)
		fatalx("dispatcher: tls_init");
	dispatcher_tls.listeners = xcalloc(c->nlisteners + 1,
	    sizeof *dispatcher_tls.listeners);
	dispatcher_tls.ctx = xcalloc(c->nlisteners + 1,
	    sizeof *dispatcher_tls.ctx);
	for (i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i]->tls == CONF_TLS_NONE)
			continue;
		dispatcher_tls.listeners[dispatcher_tls.n] = c->listeners[i];
		dispatcher_tls.ctx[dispatcher_tls.n++] =
		    dispatcher_tls_new(c->listeners[i]);
	}
}

struct tls *
dispatcher_tls_server(const struct conf_listener *cl)
{
	size_t	i;

	for (i = 0; i < dispatcher_tls.n; i++)
		if (dispatcher_tls.listeners[i] == cl)
			return dispatcher_tls.ctx[i];
	return NULL;
}
