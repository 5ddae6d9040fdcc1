/*
 * dispatcher_mta_tls.c -- the libtls client configurations of the
 * relay actions (issue 9 part 3; MTA-04, MTA-25, TLS-03, TLS-09,
 * TLS-11): two per `relay` action, one that verifies the next hop's
 * chain and name and one that does not, both made once at start.
 *
 * Runs in the dispatcher, from its on_config, before it chroots: the
 * action's `ca` bundle, or the system's (tls_default_ca_cert_file()),
 * is read then.  The client certificate is the action's `pki` (none
 * without it, as in OpenSMTPD, whose relay presents one only for an
 * explicit pki); its key is a stand-in (dispatcher_ca.c) whose
 * operations go to ca.  Protocols: the
 * action's `protocols`, default TLSv1.2 and TLSv1.3; ciphers: the
 * action's, else `smtp ciphers`, else HIGH:!aNULL:!MD5.  libtls wants
 * one struct tls per client connection: mta_session.c makes it from
 * these configurations (shared, never changed after start).  When a
 * session does not verify its peer (opportunistic smtp://, `tls
 * no-verify`), dispatcher_mta_tls_check tells the log whether the peer
 * would have passed: its chain against the same CA bundle (an OpenSSL
 * X509_STORE also loaded at start) and the name.  An action
 * whose TLS cannot be set up is logged and gets no configuration: its
 * TLS sessions then fail temporarily (opportunistic ones go in clear).
 * Never holds a private key, never fatal.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tls.h>

#include "conf.h"
#include "dispatcher.h"
#include "log.h"
#include "smtpd.h"
#include "xmalloc.h"

#define MTA_TLS_PROTOCOLS	"tlsv1.2,tlsv1.3"

struct mta_tls_action {
	char			*name;
	struct tls_config	*cfg[2];	/* [0] no-verify, [1] verify */
	X509_STORE		*store;		/* the CAs, for the check */
	const char		*ca;		/* its file */
};

static struct {
	struct mta_tls_action	*actions;
	size_t			 n;
} mta_tls;

/* mta_tls_ca_path - the bundle of action A's `ca`, or the system's */
static const char *
mta_tls_ca_path(const struct conf_action *a)
{
	const struct smtpd_conf	*c = env->conf;
	size_t			 i;

	if (a->ca == NULL)
		return tls_default_ca_cert_file();
	for (i = 0; i < c->ncas; i++)
		if (strcmp(c->cas[i]->name, a->ca) == 0)
			return c->cas[i]->cert;
	return NULL;
}

/* mta_tls_keypair - the client certificate of A (its pki) into CFG:
 * 0, or -1 */
static int
mta_tls_keypair(struct tls_config *cfg, const struct conf_action *a)
{
	const char		*name = a->pki;
	const unsigned char	*cert;
	unsigned char		*key;
	size_t			 certlen, keylen;
	int			 r;

	if (name == NULL)
		return 0;
	if ((cert = dispatcher_ca_cert(name, &certlen)) == NULL) {
		log_warnx("mta: action %s: pki %s: no certificate", a->name,
		    name);
		return -1;
	}
	if ((key = dispatcher_ca_standin(cert, certlen, &keylen)) == NULL) {
		log_warnx("mta: action %s: pki %s: unusable certificate",
		    a->name, name);
		return -1;
	}
	r = tls_config_set_keypair_mem(cfg, cert, certlen, key, keylen);
	free(key);
	if (r == -1)
		log_warnx("mta: action %s: pki %s: %s", a->name, name,
		    tls_config_error(cfg));
	return r;
}

/* mta_tls_config_new - a client configuration of A; NULL on error */
static struct tls_config *
mta_tls_config_new(const struct conf_action *a, int verify)
{
	struct tls_config	*cfg;
	const char		*ciphers, *ca;
	uint32_t		 protocols;

	if ((cfg = tls_config_new()) == NULL)
		return NULL;
	ciphers = a->ciphers != NULL ? a->ciphers :
	    env->conf->smtp_ciphers != NULL ? env->conf->smtp_ciphers :
	    CONF_DEFAULT_CIPHERS;
	if (tls_config_parse_protocols(&protocols, a->protocols != NULL ?
	    a->protocols : MTA_TLS_PROTOCOLS) == -1 ||
	    tls_config_set_protocols(cfg, protocols) == -1 ||
	    tls_config_set_ciphers(cfg, ciphers) == -1)
		goto fail;
	if (mta_tls_keypair(cfg, a) == -1)
		goto fail;
	if (!verify) {
		tls_config_insecure_noverifycert(cfg);
		tls_config_insecure_noverifyname(cfg);
	} else if ((ca = mta_tls_ca_path(a)) == NULL ||
	    tls_config_set_ca_file(cfg, ca) == -1)
		goto fail;
	return cfg;
fail:
	log_warnx("mta: action %s: TLS client: %s", a->name,
	    tls_config_error(cfg) ? tls_config_error(cfg) : "bad settings");
	tls_config_free(cfg);
	return NULL;
}

/* mta_tls_store_new - the CAs of A for dispatcher_mta_tls_check, or
 * NULL (then every check says no) */
static X509_STORE *
mta_tls_store_new(const struct conf_action *a)
{
	X509_STORE	*store;
	const char	*ca = mta_tls_ca_path(a);

	size_t		 i;

	for (i = 0; ca != NULL && i < mta_tls.n; i++)	/* the same file */
		if (mta_tls.actions[i].store != NULL &&
		    strcmp(mta_tls.actions[i].ca, ca) == 0 &&
		    X509_STORE_up_ref(mta_tls.actions[i].store) == 1)
			return mta_tls.actions[i].store;
	if (ca == NULL || (store = X509_STORE_new()) == NULL)
		return NULL;
	if (X509_STORE_load_file(store, ca) != 1) {
		log_warnx("mta: action %s: cannot load %s for the TLS "
		    "checks of the log", a->name, ca);
		X509_STORE_free(store);
		ERR_clear_error();
		return NULL;
	}
	return store;
}

/* mta_tls_chain - the peer's chain: its first certificate in *LEAF,
 * the others in the stack returned; NULL when none parses */
static STACK_OF(X509) *
mta_tls_chain(struct tls *conn, X509 **leaf)
{
	const uint8_t	*pem;
	size_t		 len;
	BIO		*bio;
	STACK_OF(X509)	*chain;
	X509		*x;

	*leaf = NULL;
	if ((pem = tls_peer_cert_chain_pem(conn, &len)) == NULL ||
	    len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	if ((chain = sk_X509_new_null()) == NULL) {
		BIO_free(bio);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (*leaf == NULL)
			*leaf = x;
		else if (sk_X509_push(chain, x) == 0)
			X509_free(x);
	}
	ERR_clear_error();	/* the end of the PEM text */
	BIO_free(bio);
	if (*leaf == NULL) {
		sk_X509_free(chain);
		return NULL;
	}
	return chain;
}

int
dispatcher_mta_tls_check(void *arg, struct tls *conn, const char *name)
{
	const char		*action = arg;
	X509_STORE		*store = NULL;
	X509_STORE_CTX		*ctx;
	X509_VERIFY_PARAM	*param;
	STACK_OF(X509)		*chain;
	X509			*leaf;
	unsigned char		 ip[16];
	size_t			 i;
	int			 ok = 0, isip;

	for (i = 0; i < mta_tls.n; i++)
		if (strcmp(mta_tls.actions[i].name, action) == 0)
			store = mta_tls.actions[i].store;
	if (store == NULL || name == NULL || *name == '\0' ||
	    (chain = mta_tls_chain(conn, &leaf)) == NULL)
		return 0;
	isip = inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1;
	if ((ctx = X509_STORE_CTX_new()) != NULL &&
	    X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
		param = X509_STORE_CTX_get0_param(ctx);
		if ((isip ? X509_VERIFY_PARAM_set1_ip_asc(param, name) :
		    X509_VERIFY_PARAM_set1_host(param, name, 0)) == 1)
			ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return ok;
}

void
dispatcher_mta_tls_init(void)
{
	const struct smtpd_conf	*c = env->conf;
	struct mta_tls_action	*t;
	size_t			 i;

	mta_tls.actions = xcalloc(c->nactions + 1, sizeof *mta_tls.actions);
	for (i = 0; i < c->nactions; i++) {
		if (c->actions[i]->method != CONF_METHOD_RELAY)
			continue;
		t = &mta_tls.actions[mta_tls.n++];
		t->name = xstrdup(c->actions[i]->name);
		t->cfg[0] = mta_tls_config_new(c->actions[i], 0);
		t->cfg[1] = mta_tls_config_new(c->actions[i], 1);
		t->store = mta_tls_store_new(c->actions[i]);
		t->ca = mta_tls_ca_path(c->actions[i]);
	}
}

struct tls_config *
dispatcher_mta_tls_config(const char *action, int verify)
{
	size_t	i;

	for (i = 0; i < mta_tls.n; i++)
		if (strcmp(mta_tls.actions[i].name, action) == 0)
			return mta_tls.actions[i].cfg[verify != 0];
	return NULL;
}
