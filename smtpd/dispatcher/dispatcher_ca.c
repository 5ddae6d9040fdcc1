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
 * The one blocking wait of the process is here: OpenSSL needs the
 * answer before the handshake call returns and libtls has no way to
 * suspend it, so dispatcher_ca_call writes the request and polls the ca
 * channel for the answer, at most DISPATCHER_CA_TIMEOUT_MS; after that
 * the operation fails and so does that handshake (its late answer is
 * dropped when it arrives).  The cost is one round trip to ca plus the
 * key operation itself, once per full handshake (see README, tls).
 * Everything else here runs at start-up.  It must never hold a private
 * key, and never wait anywhere else.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* this module's private state (one per process: the methods it
 * installs are the process's defaults anyway) */
static struct {
	struct dispatcher_ca_pki	 pki[DISPATCHER_CA_PKI_MAX];
	size_t				 npki;
	uint64_t			 reqid;
	RSA_METHOD			*rsa;
	EC_KEY_METHOD			*ec;
	unsigned long long		 calls, failures, usec;
} dispatcher_ca;

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

/* dispatcher_on_ca_sign_late - an answer whose handshake gave up waiting */
void
dispatcher_on_ca_sign_late(struct mproc *p, struct imsg *imsg)
{
	log_warnx("dispatcher: late answer from ca dropped (%s)",
	    imsg_name(imsg->hdr.type));
}

/* dispatcher_ca_wait - poll the ca channel for EVENTS until DEADLINE
 * (ms, CLOCK_MONOTONIC); 1 ready, 0 timeout, -1 error */
static int
dispatcher_ca_wait(int fd, short events, long long deadline)
{
	struct pollfd	 pfd = { .fd = fd, .events = events };
	struct timespec	 ts;
	long long	 now;
	int		 r;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		if (now >= deadline)
			return 0;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		return r > 0 ? 1 : r;
	}
}

/* dispatcher_ca_answer - our answer in IMSG: its length (0 when it is
 * a stale one to skip), -1 when ca refused */
static int
dispatcher_ca_answer(struct mproc *p, struct imsg *imsg, uint64_t reqid,
    unsigned char *out, size_t outmax)
{
	struct msg_ca_sign_result	r;
	struct msg_ca_sign_fail		f;

	if (imsg->hdr.type == IMSG_CA_SIGN_FAIL) {
		if (msg_unpack_ca_sign_fail(imsg, &f) == -1)
			mproc_bad_payload(p, imsg);
		if (f.reqid != reqid) {
			dispatcher_on_ca_sign_late(p, imsg);
			return 0;
		}
		log_warnx("dispatcher: ca refused: %s", f.error);
		return -1;
	}
	if (imsg->hdr.type != IMSG_CA_SIGN_RESULT ||
	    msg_unpack_ca_sign_result(imsg, &r) == -1)
		fatalx("dispatcher: unexpected %s from ca",
		    imsg_name(imsg->hdr.type));
	if (r.reqid != reqid) {
		dispatcher_on_ca_sign_late(p, imsg);
		return 0;
	}
	if (r.data_len > outmax) {
		log_warnx("dispatcher: ca answered %zu bytes, room for %zu",
		    r.data_len, outmax);
		return -1;
	}
	memcpy(out, r.data, r.data_len);
	return (int)r.data_len;
}

/* dispatcher_ca_roundtrip - send the request queued on P and wait for
 * answer REQID until DEADLINE; the answer's length or -1 */
static int
dispatcher_ca_roundtrip(struct mproc *p, uint64_t reqid, long long deadline,
    unsigned char *out, size_t outmax)
{
	struct imsg	imsg;
	ssize_t		n;
	int		r;

	while ((r = imsgbuf_write(&p->ib)) == 0)
		if (dispatcher_ca_wait(p->ib.fd, POLLOUT, deadline) != 1)
			return -1;
	if (r == -1)
		return -1;
	for (;;) {
		while ((r = imsg_get(&p->ib, &imsg)) == 1) {
			r = dispatcher_ca_answer(p, &imsg, reqid, out, outmax);
			imsg_free(&imsg);
			if (r != 0)
				return r;
		}
		if (r == -1)
			fatalx("dispatcher: malformed frame from ca");
		if (dispatcher_ca_wait(p->ib.fd, POLLIN, deadline) != 1)
			return -1;
		n = imsgbuf_read(&p->ib);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return -1;
	}
}

/* dispatcher_ca_call - ca runs OP on key ID; the output's length in
 * OUT, or -1 (ca refused, gone, or not in time) */
static int
dispatcher_ca_call(int op, const char *id, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t outmax)
{
	struct mproc	*p = env->peers[PROC_CA];
	struct timespec	 t0, t1;
	uint64_t	 reqid = ++dispatcher_ca.reqid;
	long long	 start;
	int		 n;

	if (p == NULL || p->closed || inlen == 0 || inlen > CA_SIGN_MAX)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	start = t0.tv_sec * 1000LL + t0.tv_nsec / 1000000;
	msg_send_ca_sign(p, &(struct msg_ca_sign){ .reqid = reqid,
	    .keyid = id, .op = op, .padding = padding, .data = in,
	    .data_len = inlen });
	n = dispatcher_ca_roundtrip(p, reqid, start +
	    DISPATCHER_CA_TIMEOUT_MS, out, outmax);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dispatcher_ca.calls++;
	dispatcher_ca.usec += (t1.tv_sec - t0.tv_sec) * 1000000LL +
	    (t1.tv_nsec - t0.tv_nsec) / 1000;
	if (n <= 0) {
		dispatcher_ca.failures++;
		log_warnx("dispatcher: private-key operation by ca failed "
		    "(key %.16s)", id);
		return -1;
	}
	log_trace(TRACE_SMTP, "dispatcher: ca op=%d took %lldus", op,
	    (long long)((t1.tv_sec - t0.tv_sec) * 1000000LL +
	    (t1.tv_nsec - t0.tv_nsec) / 1000));
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
