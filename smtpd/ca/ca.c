/*
 * ca.c -- the ca process: private-key operations for TLS, so no
 * network-facing process holds a key (TLS-11, SEC-11).
 *
 * Runs as smtpd -x ca, chrooted and unprivileged when started as root
 * (see proc.c).  The parent hands it every pki's chain and key before
 * its configuration (IMSG_CA_PKI_DATA); once the configuration is in,
 * each key is parsed (fatal there: start-up) and indexed by its key id
 * (ca_sign.h), and the PEM text is wiped.  It then answers the
 * dispatcher's IMSG_CA_SIGN at once: RSA private encrypt or decrypt
 * with the padding asked (PKCS#1 for TLS 1.2, none for RSA-PSS, whose
 * padding the dispatcher's OpenSSL already applied), or ECDSA.  A
 * request for an unknown key or an operation that fails gets
 * IMSG_CA_SIGN_FAIL, never a fatal.  It must never send a key, or
 * anything derived from one but a result, and never trust a message
 * that the catalogue (imsg.h) does not route to it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "ca_sign.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "smtpd.h"
#include "xmalloc.h"

#define CA_KEYS_MAX	256

struct ca_key {
	char		 name[256];	/* the pki */
	unsigned char	*pem;		/* until parsed, then wiped */
	size_t		 pemlen;
	EVP_PKEY	*pkey;
	char		 id[CA_KEYID_SIZE];
};

struct ca_state {
	struct ca_key	 keys[CA_KEYS_MAX];
	size_t		 nkeys;
};

static struct ca_state	ca_state_storage;

static struct ca_state *
ca_state(void)
{
	return env->state;
}

/* ca_key_find - by pki name or by key id */
static struct ca_key *
ca_key_find(const char *name, const char *id)
{
	struct ca_state	*cs = ca_state();
	size_t		 i;

	for (i = 0; i < cs->nkeys; i++)
		if ((name && strcmp(cs->keys[i].name, name) == 0) ||
		    (id && strcmp(cs->keys[i].id, id) == 0))
			return &cs->keys[i];
	return NULL;
}

/* ca_on_pki_data - a chunk of a pki's file; only keys are kept here */
static void
ca_on_pki_data(struct mproc *p, struct imsg *imsg)
{
	struct ca_state		*cs = ca_state();
	struct msg_ca_pki_data	 m;
	struct ca_key		*k;

	if (msg_unpack_ca_pki_data(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (m.what != CA_PKI_KEY)
		return;		/* the chain: the public key is in the key */
	if ((k = ca_key_find(m.pki, NULL)) == NULL) {
		if (cs->nkeys == CA_KEYS_MAX || strlen(m.pki) >= sizeof k->name)
			fatalx("ca: too many pki or name too long: %s", m.pki);
		k = &cs->keys[cs->nkeys++];
		strlcpy(k->name, m.pki, sizeof k->name);
	}
	if (k->pkey != NULL || m.data_len > CA_PKI_MAX - k->pemlen)
		fatalx("ca: pki %s: key data out of bounds", m.pki);
	k->pem = xreallocarray(k->pem, k->pemlen + m.data_len + 1, 1);
	memcpy(k->pem + k->pemlen, m.data, m.data_len);
	k->pemlen += m.data_len;
}

/* ca_key_load - parse K's key, index it, forget the text (start-up) */
static void
ca_key_load(struct ca_key *k)
{
	BIO	*bio;

	if ((bio = BIO_new_mem_buf(k->pem, (int)k->pemlen)) == NULL)
		fatalx("ca: out of memory");
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	explicit_bzero(k->pem, k->pemlen);
	free(k->pem);
	k->pem = NULL;
	k->pemlen = 0;
	if (k->pkey == NULL)
		fatalx("ca: pki %s: the key does not parse", k->name);
	if (EVP_PKEY_base_id(k->pkey) != EVP_PKEY_RSA &&
	    EVP_PKEY_base_id(k->pkey) != EVP_PKEY_EC)
		fatalx("ca: pki %s: neither an RSA nor an EC key", k->name);
	if (ca_keyid_pkey(k->pkey, k->id) == -1)
		fatalx("ca: pki %s: no public key", k->name);
	log_debug("ca: pki %s key loaded id=%.16s", k->name, k->id);
}

static void
ca_on_config(void)
{
	struct ca_state	*cs = ca_state();
	size_t		 i;

	for (i = 0; i < cs->nkeys; i++)
		ca_key_load(&cs->keys[i]);
}

/* ca_sign_run - the operation of M with key K into OUT; its length, or
 * -1 with the reason in *WHY */
static int
ca_sign_run(struct ca_key *k, const struct msg_ca_sign *m,
    unsigned char *out, const char **why)
{
	RSA		*rsa;
	EC_KEY		*ec;
	unsigned int	 siglen;
	int		 n = -1;

	*why = "the key is not of that kind";
	if (m->op == CA_OP_ECDSA_SIGN) {
		if ((ec = EVP_PKEY_get1_EC_KEY(k->pkey)) == NULL)
			return -1;
		*why = "ECDSA signature failed";
		if ((size_t)ECDSA_size(ec) <= CA_SIGN_MAX && ECDSA_sign(0,
		    m->data, (int)m->data_len, out, &siglen, ec) == 1)
			n = (int)siglen;
		EC_KEY_free(ec);
		return n;
	}
	if ((rsa = EVP_PKEY_get1_RSA(k->pkey)) == NULL)
		return -1;
	*why = "RSA operation failed";
	if ((size_t)RSA_size(rsa) <= CA_SIGN_MAX)
		n = m->op == CA_OP_RSA_PRIV_ENC ?
		    RSA_private_encrypt((int)m->data_len, m->data, out, rsa,
		    m->padding) :
		    RSA_private_decrypt((int)m->data_len, m->data, out, rsa,
		    m->padding);
	RSA_free(rsa);
	return n;
}

/* ca_on_sign - the dispatcher's TLS needs a private-key operation */
static void
ca_on_sign(struct mproc *p, struct imsg *imsg)
{
	struct msg_ca_sign	 m;
	struct ca_key		*k;
	unsigned char		 out[CA_SIGN_MAX];
	const char		*why = "no such key";
	int			 n = -1;

	if (msg_unpack_ca_sign(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (m.data_len <= CA_SIGN_MAX &&
	    (k = ca_key_find(NULL, m.keyid)) != NULL)
		n = ca_sign_run(k, &m, out, &why);
	if (n <= 0) {
		log_warnx("ca: operation %d for key %.16s refused: %s", m.op,
		    m.keyid, why);
		msg_send_ca_sign_fail(p, &(struct msg_ca_sign_fail){
		    .reqid = m.reqid, .error = why });
		return;
	}
	msg_send_ca_sign_result(p, &(struct msg_ca_sign_result){
	    .reqid = m.reqid, .data = out, .data_len = (size_t)n });
	explicit_bzero(out, sizeof out);
}

static const struct imsg_handler ca_handlers[] = {
	PROC_CHILD_HANDLERS,
	{ IMSG_CA_PKI_DATA, PROC_PARENT, ca_on_pki_data },
	{ IMSG_CA_SIGN, PROC_DISPATCHER, ca_on_sign },
};

int
ca_main(void)
{
	env->state = &ca_state_storage;
	proc_child_init(PROC_CA, ca_handlers,
	    sizeof ca_handlers / sizeof ca_handlers[0], ca_on_config,
	    NULL);
	proc_child_loop();
}
