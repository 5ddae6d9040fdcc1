/*
 * dispatcher_ca.c -- the dispatcher's side of the ca process (TLS-11):
 * the certificate chains the parent hands over, the stand-in keys given
 * to libtls, and the RSA / EC_KEY methods that send every private-key
 * operation to ca over imsg.
 *
 * How the dispatcher signs without a key, on libretls 3.7 over OpenSSL
 * 3.0 (which has no tls_signer and whose keys are provider keys, so the
 * ex_data tags libtls sets land on a cached copy and OpenSMTPD 6.8's
 * RSA_METHOD trick never runs): the default RSA_METHOD and
 * EC_KEY_METHOD of the process are replaced (deprecated in OpenSSL 3,
 * still honoured by its default provider, which creates every RSA and
 * EC_KEY object with the default method and signs through
 * RSA_private_encrypt / ECDSA_sign_ex).  libtls is given a stand-in key
 * PEM made from the certificate: the real public half and a private
 * half of ones.  When a handshake signs (TLS 1.2 PKCS#1, TLS 1.3
 * RSA-PSS padded by OpenSSL then sent raw, ECDSA) or decrypts (RSA key
 * exchange), our method hashes the public half into a key id
 * (ca_sign.h) and asks ca for the operation.
 *
 * Nothing waits: a handshake runs in an ASYNC job (tls_io.c), so our
 * method sends the request to ca, keeps the job's wake-up callback with
 * the request id, and pauses the job; the answer's handler (or the
 * request's timer, DISPATCHER_CA_TIMEOUT_MS) records the outcome and
 * calls the callback, and the handshake resumes from the event loop,
 * while every other session goes on.  An operation asked outside such
 * a job (none in practice: OpenSSL 3 refuses client renegotiation)
 * fails, and so does that handshake.  The cost is one round trip to
 * ca plus the key operation itself, once per full handshake.
 * Everything else here runs at start-up.  It must never hold a private
 * key, and never wait anywhere else.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event.h>
#include <openssl/async.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_sign.h"
#include "dispatcher.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtpd.h"
#include "xmalloc.h"

#define DISPATCHER_CA_PKI_MAX	256

struct dispatcher_ca_pki {
	char		 name[256];
	unsigned char	*cert;
	size_t		 certlen;
};

/* one operation waiting for ca, on the paused handshake's behalf */
struct dispatcher_ca_wait {
	TAILQ_ENTRY(dispatcher_ca_wait)	 entry;
	uint64_t			 reqid;
	int				 done;
	int				 len;	/* the answer's, -1 failed */
	unsigned char			*out;
	size_t				 outmax;
	ASYNC_callback_fn		 wake;
	void				*wakearg;
	struct event			 timer;
};
TAILQ_HEAD(dispatcher_ca_waits, dispatcher_ca_wait);

/* this module's private state (one per process: the methods it
 * installs are the process's defaults anyway) */
static struct {
	struct dispatcher_ca_pki	 pki[DISPATCHER_CA_PKI_MAX];
	size_t				 npki;
	uint64_t			 reqid;
	RSA_METHOD			*rsa;
	EC_KEY_METHOD			*ec;
	unsigned long long		 calls, failures, usec;
	struct dispatcher_ca_waits	 waits;
} dispatcher_ca = { .waits = TAILQ_HEAD_INITIALIZER(dispatcher_ca.waits) };

/* dispatcher_on_pki_data - a chunk of a pki's certificate chain */
void
dispatcher_on_pki_data(struct mproc *p, struct imsg *imsg)
{
	struct msg_dispatcher_pki_data	 m;
	struct dispatcher_ca_pki	*k = NULL;
	size_t				 i;

	if (msg_unpack_dispatcher_pki_data(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	for (i = 0; i < dispatcher_ca.npki; i++)
		if (strcmp(dispatcher_ca.pki[i].name, m.pki) == 0)
			k = &dispatcher_ca.pki[i];
	if (k == NULL) {
		if (dispatcher_ca.npki == DISPATCHER_CA_PKI_MAX ||
		    strlen(m.pki) >= sizeof k->name)
			fatalx("dispatcher: too many pki or name too long");
		k = &dispatcher_ca.pki[dispatcher_ca.npki++];
		strlcpy(k->name, m.pki, sizeof k->name);
	}
	if (m.data_len > CA_PKI_MAX - k->certlen)
		fatalx("dispatcher: pki %s: certificate out of bounds", m.pki);
	k->cert = xreallocarray(k->cert, k->certlen + m.data_len + 1, 1);
	memcpy(k->cert + k->certlen, m.data, m.data_len);
	k->certlen += m.data_len;
	k->cert[k->certlen] = '\0';
}

/* dispatcher_ca_cert - the chain of pki NAME, or NULL */
const unsigned char *
dispatcher_ca_cert(const char *name, size_t *len)
{
	size_t	i;

	for (i = 0; i < dispatcher_ca.npki; i++)
		if (strcmp(dispatcher_ca.pki[i].name, name) == 0) {
			*len = dispatcher_ca.pki[i].certlen;
			return dispatcher_ca.pki[i].cert;
		}
	return NULL;
}

/* dispatcher_ca_wake - W is over: let its handshake go on */
static void
dispatcher_ca_wake(struct dispatcher_ca_wait *w, int len)
{
	w->done = 1;
	w->len = len;
	evtimer_del(&w->timer);
	TAILQ_REMOVE(&dispatcher_ca.waits, w, entry);
	w->wake(w->wakearg);
}

/* dispatcher_ca_find - the operation waiting for answer REQID */
static struct dispatcher_ca_wait *
dispatcher_ca_find(uint64_t reqid)
{
	struct dispatcher_ca_wait	*w;

	TAILQ_FOREACH(w, &dispatcher_ca.waits, entry)
		if (w->reqid == reqid)
			return w;
	return NULL;
}

/* dispatcher_on_ca_sign_result - ca's answer: to its waiting handshake */
void
dispatcher_on_ca_sign_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_ca_sign_result	 r;
	struct dispatcher_ca_wait	*w;

	if (msg_unpack_ca_sign_result(imsg, &r) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((w = dispatcher_ca_find(r.reqid)) == NULL) {
		log_warnx("dispatcher: late answer from ca dropped");
		return;
	}
	if (r.data_len > w->outmax) {
		log_warnx("dispatcher: ca answered %zu bytes, room for %zu",
		    r.data_len, w->outmax);
		dispatcher_ca_wake(w, -1);
		return;
	}
	memcpy(w->out, r.data, r.data_len);
	dispatcher_ca_wake(w, r.data_len > 0 ? (int)r.data_len : -1);
}

/* dispatcher_on_ca_sign_fail - ca refused an operation */
void
dispatcher_on_ca_sign_fail(struct mproc *p, struct imsg *imsg)
{
	struct msg_ca_sign_fail		 f;
	struct dispatcher_ca_wait	*w;

	if (msg_unpack_ca_sign_fail(imsg, &f) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if ((w = dispatcher_ca_find(f.reqid)) == NULL) {
		log_warnx("dispatcher: late answer from ca dropped");
		return;
	}
	log_warnx("dispatcher: ca refused: %s", f.error);
	dispatcher_ca_wake(w, -1);
}

/* dispatcher_ca_on_timeout - ca did not answer in time */
static void
dispatcher_ca_on_timeout(int fd, short what, void *arg)
{
	log_warnx("dispatcher: no answer from ca in %d ms",
	    DISPATCHER_CA_TIMEOUT_MS);
	dispatcher_ca_wake(arg, -1);
}

/*
 * dispatcher_ca_roundtrip - send the operation to ca and pause the
 * handshake's job until its answer; the answer's length or -1.  Runs
 * inside the job (tls_io.h); refuses anywhere else.
 */
static int
dispatcher_ca_roundtrip(struct mproc *p, const struct msg_ca_sign *m,
    unsigned char *out, size_t outmax)
{
	struct dispatcher_ca_wait	*w;
	struct timeval			 tv = { DISPATCHER_CA_TIMEOUT_MS / 1000,
					    (DISPATCHER_CA_TIMEOUT_MS % 1000) *
					    1000 };
	ASYNC_JOB			*job;
	ASYNC_callback_fn		 wake = NULL;
	void				*wakearg = NULL;
	int				 len;

	if ((job = ASYNC_get_current_job()) == NULL ||
	    ASYNC_WAIT_CTX_get_callback(ASYNC_get_wait_ctx(job), &wake,
	    &wakearg) != 1 || wake == NULL) {
		log_warnx("dispatcher: private-key operation outside a "
		    "pausable handshake refused");
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->reqid = m->reqid;
	w->out = out;
	w->outmax = outmax;
	w->wake = wake;
	w->wakearg = wakearg;
	evtimer_assign(&w->timer, env->evb, dispatcher_ca_on_timeout, w);
	evtimer_add(&w->timer, &tv);
	TAILQ_INSERT_TAIL(&dispatcher_ca.waits, w, entry);
	msg_send_ca_sign(p, m);
	while (!w->done)
		if (ASYNC_pause_job() != 1) {
			/* cannot pause: give the request up */
			TAILQ_REMOVE(&dispatcher_ca.waits, w, entry);
			evtimer_del(&w->timer);
			w->len = -1;
			break;
		}
	len = w->len;
	free(w);
	return len;
}

/* dispatcher_ca_call - ca runs OP on key ID; the output's length in
 * OUT, or -1 (ca refused, gone, or not in time) */
static int
dispatcher_ca_call(int op, const char *id, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t outmax)
{
	struct mproc	*p = env->peers[PROC_CA];
	struct timespec	 t0, t1;
	long long	 usec;
	int		 n;

	if (p == NULL || p->closed || inlen == 0 || inlen > CA_SIGN_MAX)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = dispatcher_ca_roundtrip(p, &(struct msg_ca_sign){
	    .reqid = ++dispatcher_ca.reqid, .keyid = id, .op = op,
	    .padding = padding, .data = in, .data_len = inlen }, out, outmax);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usec = (t1.tv_sec - t0.tv_sec) * 1000000LL +
	    (t1.tv_nsec - t0.tv_nsec) / 1000;
	dispatcher_ca.calls++;
	dispatcher_ca.usec += usec;
	if (n <= 0) {
		dispatcher_ca.failures++;
		log_warnx("dispatcher: private-key operation by ca failed "
		    "(key %.16s)", id);
		return -1;
	}
	log_trace(TRACE_SMTP, "dispatcher: ca op=%d took %lldus", op, usec);
	return n;
}

/* dispatcher_ca_rsa - an RSA private operation, done by ca */
static int
dispatcher_ca_rsa(int op, int flen, const unsigned char *from,
    unsigned char *to, RSA *rsa, int padding)
{
	char	id[CA_KEYID_SIZE];

	if (flen <= 0 || ca_keyid_rsa(rsa, id) == -1)
		return -1;
	return dispatcher_ca_call(op, id, padding, from, (size_t)flen, to,
	    (size_t)RSA_size(rsa));
}

static int
dispatcher_ca_rsa_enc(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	return dispatcher_ca_rsa(CA_OP_RSA_PRIV_ENC, flen, from, to, rsa,
	    padding);
}

static int
dispatcher_ca_rsa_dec(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	return dispatcher_ca_rsa(CA_OP_RSA_PRIV_DEC, flen, from, to, rsa,
	    padding);
}

/* dispatcher_ca_ec_sign - ECDSA over DGST by ca: 1 with the DER
 * signature in SIG, or 0 */
static int
dispatcher_ca_ec_sign(int type, const unsigned char *dgst, int dlen,
    unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	char	id[CA_KEYID_SIZE];
	int	n;

	if (dlen <= 0 || ca_keyid_ec(ec, id) == -1)
		return 0;
	n = dispatcher_ca_call(CA_OP_ECDSA_SIGN, id, 0, dgst, (size_t)dlen,
	    sig, (size_t)ECDSA_size(ec));
	if (n <= 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

/* dispatcher_ca_ec_sign_sig - the same as an ECDSA_SIG */
static ECDSA_SIG *
dispatcher_ca_ec_sign_sig(const unsigned char *dgst, int dlen,
    const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	unsigned char		 buf[CA_SIGN_MAX];
	const unsigned char	*p = buf;
	unsigned int		 len;

	if ((size_t)ECDSA_size(ec) > sizeof buf ||
	    !dispatcher_ca_ec_sign(0, dgst, dlen, buf, &len, NULL, NULL, ec))
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, len);
}

/* dispatcher_ca_init - private-key operations of this process go to ca
 * from now on (start-up) */
void
dispatcher_ca_init(void)
{
	int	(*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;

	if ((dispatcher_ca.rsa = RSA_meth_dup(RSA_PKCS1_OpenSSL())) == NULL ||
	    RSA_meth_set1_name(dispatcher_ca.rsa, "smtpd ca") != 1 ||
	    RSA_meth_set_priv_enc(dispatcher_ca.rsa, dispatcher_ca_rsa_enc)
	    != 1 || RSA_meth_set_priv_dec(dispatcher_ca.rsa,
	    dispatcher_ca_rsa_dec) != 1)
		fatalx("dispatcher: cannot install the RSA method");
	RSA_set_default_method(dispatcher_ca.rsa);
	if ((dispatcher_ca.ec = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL)
		fatalx("dispatcher: cannot install the EC method");
	EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), NULL, &setup, NULL);
	EC_KEY_METHOD_set_sign(dispatcher_ca.ec, dispatcher_ca_ec_sign, setup,
	    dispatcher_ca_ec_sign_sig);
	EC_KEY_set_default_method(dispatcher_ca.ec);
}

/* dispatcher_ca_stats - operations done, failed, and their mean time */
void
dispatcher_ca_stats(unsigned long long *calls, unsigned long long *failures,
    unsigned long long *mean_usec)
{
	*calls = dispatcher_ca.calls;
	*failures = dispatcher_ca.failures;
	*mean_usec = dispatcher_ca.calls ? dispatcher_ca.usec /
	    dispatcher_ca.calls : 0;
}

/* dispatcher_ca_standin_rsa - PEM of an RSA key: PUB's public half,
 * ones for every private part */
static int
dispatcher_ca_standin_rsa(EVP_PKEY *pub, BIO *out)
{
	const BIGNUM	*n = NULL, *e = NULL;
	RSA		*src, *rsa;
	int		 ok = 0;

	if ((src = EVP_PKEY_get1_RSA(pub)) == NULL)
		return 0;
	RSA_get0_key(src, &n, &e, NULL);
	if ((rsa = RSA_new()) != NULL &&
	    RSA_set0_key(rsa, BN_dup(n), BN_dup(e), BN_dup(BN_value_one())) &&
	    RSA_set0_factors(rsa, BN_dup(BN_value_one()),
	    BN_dup(BN_value_one())) &&
	    RSA_set0_crt_params(rsa, BN_dup(BN_value_one()),
	    BN_dup(BN_value_one()), BN_dup(BN_value_one())))
		ok = PEM_write_bio_RSAPrivateKey(out, rsa, NULL, NULL, 0,
		    NULL, NULL);
	RSA_free(rsa);
	RSA_free(src);
	return ok;
}

/* dispatcher_ca_standin_ec - PEM of an EC key: PUB's point, scalar 1 */
static int
dispatcher_ca_standin_ec(EVP_PKEY *pub, BIO *out)
{
	EC_KEY	*src, *ec;
	int	 ok = 0;

	if ((src = EVP_PKEY_get1_EC_KEY(pub)) == NULL)
		return 0;
	if ((ec = EC_KEY_new()) != NULL &&
	    EC_KEY_set_group(ec, EC_KEY_get0_group(src)) &&
	    EC_KEY_set_private_key(ec, BN_value_one()) &&
	    EC_KEY_set_public_key(ec, EC_KEY_get0_public_key(src)))
		ok = PEM_write_bio_ECPrivateKey(out, ec, NULL, NULL, 0, NULL,
		    NULL);
	EC_KEY_free(ec);
	EC_KEY_free(src);
	return ok;
}

/*
 * dispatcher_ca_standin - the stand-in key PEM for the first certificate
 * of CERT (malloc'd, *LEN bytes), or NULL when the chain does not parse
 * or its key is neither RSA nor EC
 */
unsigned char *
dispatcher_ca_standin(const unsigned char *cert, size_t certlen, size_t *len)
{
	BIO		*in, *out;
	X509		*x = NULL;
	EVP_PKEY	*pub;
	BUF_MEM		*mem;
	unsigned char	*pem = NULL;
	int		 ok = 0;

	if ((in = BIO_new_mem_buf(cert, (int)certlen)) == NULL ||
	    (out = BIO_new(BIO_s_mem())) == NULL) {
		BIO_free(in);
		return NULL;
	}
	if ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL &&
	    (pub = X509_get0_pubkey(x)) != NULL)
		ok = EVP_PKEY_base_id(pub) == EVP_PKEY_RSA ?
		    dispatcher_ca_standin_rsa(pub, out) :
		    EVP_PKEY_base_id(pub) == EVP_PKEY_EC ?
		    dispatcher_ca_standin_ec(pub, out) : 0;
	if (ok && BIO_get_mem_ptr(out, &mem) == 1 && mem->length > 0) {
		pem = xmalloc(mem->length);
		memcpy(pem, mem->data, mem->length);
		*len = mem->length;
	}
	X509_free(x);
	BIO_free(in);
	BIO_free(out);
	return pem;
}
