/*
 * parent_pki.c -- the parent reads every pki's certificate chain and
 * private key at start and hands them out (TLS-01, TLS-11): chains to
 * the dispatcher, which serves TLS with them; chain and key to ca, the
 * only process that may hold a key.  Children are chrooted and cannot
 * open the files themselves.
 *
 * Runs in the parent, once, after the children are wired and before
 * their configuration (each channel keeps its order, so the files are
 * there when a child's configuration arrives).  A file that became
 * unreadable or too open since the parse is fatal: this is start-up.
 * The parent keeps no copy: each buffer is wiped once sent.  It must
 * never send a key to anyone but ca.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_sign.h"
#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "parent.h"
#include "smtpd.h"

/* parent_pki_chunks - BUF in chunks to ca, and to the dispatcher too
 * when TO_DISPATCHER (a certificate chain, never a key) */
static void
parent_pki_chunks(const char *name, int what, const unsigned char *buf,
    size_t len, int to_dispatcher)
{
	size_t	off, n, max = IMSG_MAX_PAYLOAD - strlen(name) - 64;

	for (off = 0; off < len; off += n) {
		n = len - off < max ? len - off : max;
		msg_send_ca_pki_data(env->peers[PROC_CA],
		    &(struct msg_ca_pki_data){ .pki = name, .what = what,
		    .data = buf + off, .data_len = n });
		if (to_dispatcher)
			msg_send_dispatcher_pki_data(
			    env->peers[PROC_DISPATCHER],
			    &(struct msg_dispatcher_pki_data){ .pki = name,
			    .data = buf + off, .data_len = n });
	}
}

/* parent_pki_send_one - the files of pki K */
static void
parent_pki_send_one(const struct conf_pki *k)
{
	unsigned char	*cert, *key;
	size_t		 certlen = 0, keylen = 0;
	char		 why[256];

	if (strlen(k->name) > 255)
		fatalx("pki %s: name too long", k->name);
	if (k->cert == NULL || (cert = conf_pki_read_cert(k->cert, &certlen,
	    why, sizeof why)) == NULL)
		fatalx("pki %s: certificate %s: %s", k->name,
		    k->cert ? k->cert : "none", k->cert ? why : "not set");
	if (k->key == NULL || (key = conf_pki_read_key(k->key, &keylen, why,
	    sizeof why)) == NULL)
		fatalx("pki %s: key %s: %s", k->name, k->key ? k->key : "none",
		    k->key ? why : "not set");
	if (certlen > CA_PKI_MAX || keylen > CA_PKI_MAX)
		fatalx("pki %s: file larger than %d bytes", k->name,
		    CA_PKI_MAX);
	parent_pki_chunks(k->name, CA_PKI_CERT, cert, certlen, 1);
	parent_pki_chunks(k->name, CA_PKI_KEY, key, keylen, 0);
	explicit_bzero(key, keylen);
	free(key);
	free(cert);
}

/* parent_pki_send - every pki of the configuration */
void
parent_pki_send(void)
{
	size_t	i;

	for (i = 0; i < env->conf->npkis; i++)
		parent_pki_send_one(env->conf->pkis[i]);
}
