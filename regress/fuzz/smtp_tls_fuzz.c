/*
 * smtp_tls_fuzz.c -- libFuzzer target for STARTTLS in the SMTP server
 * (smtp_tls.c, tls_io.c): a session on a `tls-require` listener with a
 * real libtls server context (an EC key made in memory at start).
 *
 * Input: one flag byte (bit 0: the client does a TLS handshake when the
 * server says "220 2.0.0"), then what the client sends in clear, then,
 * after the first NUL byte, what it sends inside TLS (then close_notify).
 * Commands pipelined after STARTTLS land in the discarded input, the
 * rest in whatever state the fuzzer reaches.  Every run must end with
 * the session freed within a bounded number of loop turns, and no reply
 * line may hold a control byte or a bare CR / LF; any breach aborts.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tls.h>

#include "smtp.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_TURNS	20000
#define FUZZ_INPUT_MAX	16384
#define FUZZ_IDLE_TURNS	20	/* a quiet server has answered all */

static struct event_base	*fuzz_base;
static struct smtp_server	*fuzz_srv;
static struct smtp_listener	 fuzz_l = { .hostname = "fuzz.example" };
static struct tls_config	*fuzz_ccfg;

static void
fuzz_tx_begin(void *a, struct smtp_session *s, const struct smtp_tx *tx)
{
	smtp_tx_begin_done(s, 250, 1, NULL);
}

static void
fuzz_rcpt(void *a, struct smtp_session *s, const struct smtp_tx *tx,
    const struct smtp_rcpt *r)
{
	smtp_rcpt_done(s, r->addr.user[0] == 'u' ? 550 : 250, NULL);
}

static void
fuzz_data_begin(void *a, struct smtp_session *s, const struct smtp_tx *tx)
{
	int	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	smtp_data_begin_done(s, fd == -1 ? 451 : 354, fd, NULL);
}

static void
fuzz_data_end(void *a, struct smtp_session *s, const struct smtp_tx *tx)
{
	smtp_data_end_done(s, 250, NULL);
}

/* fuzz_server_tls - a server context with an EC key made here */
static struct tls *
fuzz_server_tls(void)
{
	EVP_PKEY		*pk = EVP_EC_gen("P-256");
	X509			*x = X509_new();
	BIO			*bc = BIO_new(BIO_s_mem());
	BIO			*bk = BIO_new(BIO_s_mem());
	struct tls_config	*cfg = tls_config_new();
	struct tls		*t = tls_server();
	char			*c, *k;
	long			 cl, kl;

	if (pk == NULL || x == NULL || bc == NULL || bk == NULL ||
	    cfg == NULL || t == NULL)
		abort();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"fuzz.example", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, pk, EVP_sha256()) == 0 ||
	    !PEM_write_bio_X509(bc, x) ||
	    !PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL))
		abort();
	cl = BIO_get_mem_data(bc, &c);
	kl = BIO_get_mem_data(bk, &k);
	if (tls_config_set_keypair_mem(cfg, (unsigned char *)c, cl,
	    (unsigned char *)k, kl) == -1 || tls_configure(t, cfg) == -1)
		abort();
	tls_config_free(cfg);
	BIO_free(bc);
	BIO_free(bk);
	X509_free(x);
	EVP_PKEY_free(pk);
	return t;
}

static void
fuzz_init(void)
{
	static const struct smtp_hooks hooks = {
		.tx_begin = fuzz_tx_begin, .rcpt = fuzz_rcpt,
		.data_begin = fuzz_data_begin, .data_end = fuzz_data_end,
	};

	signal(SIGPIPE, SIG_IGN);
	if (tls_init() == -1 || (fuzz_ccfg = tls_config_new()) == NULL)
		abort();
	tls_config_insecure_noverifycert(fuzz_ccfg);
	tls_config_insecure_noverifyname(fuzz_ccfg);
	fuzz_l.limits.line_max = 1024;
	fuzz_l.limits.message_max = 4096;
	fuzz_l.limits.errors_max = 20;
	fuzz_l.limits.timeout_ms = 5000;
	fuzz_l.tls_mode = SMTP_TLS_REQUIRE;
	fuzz_l.tls = fuzz_server_tls();
	if ((fuzz_base = event_base_new()) == NULL ||
	    (fuzz_srv = smtp_server_new(fuzz_base, &hooks, NULL)) == NULL)
		abort();
}

/* fuzz_check_replies - no control byte but CRLF line ends; notes a
 * "220 2.0.0" line in *READY, after which the server speaks TLS */
static void
fuzz_check_replies(const char *p, size_t len, int *cr, int *bol,
    char *line, size_t *ll, int *ready)
{
	size_t	i;

	for (i = 0; i < len && !(*ready && *bol); i++) {
		unsigned char c = (unsigned char)p[i];

		if ((*cr && c != '\n') || (c == '\n' && !*cr) ||
		    (c < 32 && c != '\r' && c != '\n'))
			abort();
		*cr = c == '\r';
		if (*bol)
			*ll = 0;
		*bol = c == '\n';
		if (*ll < 9)
			line[(*ll)++] = c;
		if (*ll == 9 && memcmp(line, "220 2.0.0", 9) == 0)
			*ready = 1;
	}
}

struct fuzz_client {
	int		 fd;
	struct tls	*tls;
	const uint8_t	*clear, *secret;
	size_t		 nclear, nsecret, off, soff;
	int		 starttls, shut, eof, cr, bol, ready, closed;
	int		 idle;		/* turns without a reply byte */
	int		 hs;		/* TLS handshake done */
	size_t		 ll;
	char		 line[9];
};

/* fuzz_client_turn - one turn of the client: write, read, switch to TLS */
static void
fuzz_client_turn(struct fuzz_client *c)
{
	char	buf[16384];
	ssize_t	n;

	if (c->tls == NULL && c->off < c->nclear) {
		n = write(c->fd, c->clear + c->off, c->nclear - c->off);
		if (n > 0)
			c->off += n;
		else if (n == -1 && errno != EAGAIN)
			c->off = c->nclear;
	}
	if (c->tls == NULL && c->ready && c->starttls) {
		if ((c->tls = tls_client()) == NULL ||
		    tls_configure(c->tls, fuzz_ccfg) == -1 ||
		    tls_connect_socket(c->tls, c->fd, "fuzz.example") == -1)
			abort();
	}
	if (c->tls != NULL && !c->hs && !c->closed) {
		n = tls_handshake(c->tls);
		if (n == 0)
			c->hs = 1;
		else if (n == -1)
			c->closed = c->eof = 1;		/* refused */
	}
	if (c->hs && !c->closed) {
		if (c->soff < c->nsecret) {
			n = tls_write(c->tls, c->secret + c->soff,
			    c->nsecret - c->soff);
			if (n > 0)
				c->soff += n;
			else if (n == -1)
				c->soff = c->nsecret;
		} else if (tls_close(c->tls) != TLS_WANT_POLLIN)
			c->closed = 1;	/* close_notify sent (or failed) */
	}
	/* in clear, the end of input; in TLS mode only once the server
	 * has been quiet a while without saying "220 2.0.0" */
	if (c->tls == NULL && c->off == c->nclear && !c->shut &&
	    (!c->starttls || (!c->ready && c->idle > FUZZ_IDLE_TURNS))) {
		shutdown(c->fd, SHUT_WR);
		c->shut = 1;
	}
	c->idle++;
	while (!c->eof) {
		n = c->tls != NULL ? tls_read(c->tls, buf, sizeof buf) :
		    read(c->fd, buf, sizeof buf);
		if (n == 0 || (n == -1 && (c->tls != NULL || errno != EAGAIN)))
			c->eof = 1;
		if (n <= 0)
			break;
		c->idle = 0;
		/* after "220 2.0.0" the server speaks TLS: no reply lines
		 * to check for a client that does not */
		if (c->tls != NULL || !c->ready)
			fuzz_check_replies(buf, n, &c->cr, &c->bol, c->line,
			    &c->ll, &c->ready);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client	 c;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct pollfd		 pfd;
	const uint8_t		*nul;
	int			 sv[2], turns;

	if (size < 1 || size > FUZZ_INPUT_MAX)
		return 0;
	if (fuzz_base == NULL)
		fuzz_init();
	memset(&c, 0, sizeof c);
	c.bol = 1;
	c.starttls = data[0] & 1;
	c.clear = data + 1;
	c.nclear = size - 1;
	if ((nul = memchr(c.clear, '\0', c.nclear)) != NULL) {
		c.secret = nul + 1;
		c.nsecret = c.nclear - (size_t)(c.secret - c.clear);
		c.nclear = (size_t)(nul - c.clear);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	memset(&ss, 0, sizeof ss);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (smtp_server_session(fuzz_srv, sv[0], &fuzz_l, &ss) == 0)
		abort();
	c.fd = sv[1];
	for (turns = 0; turns < FUZZ_TURNS; turns++) {
		fuzz_client_turn(&c);
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		if (c.eof && smtp_server_sessions(fuzz_srv) == 0)
			break;
		if (c.eof && c.tls == NULL && c.shut == 0) {
			shutdown(c.fd, SHUT_WR);
			c.shut = 1;
		}
		pfd.fd = c.fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 0);	/* both ends are in this thread */
	}
	tls_free(c.tls);
	close(c.fd);
	/* a lingering server close_notify may still be queued: let it go */
	event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	if (turns == FUZZ_TURNS)
		abort();	/* the session did not end */
	return 0;
}
