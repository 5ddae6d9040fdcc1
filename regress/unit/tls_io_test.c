/*
 * tls_io_test.c -- tls_io.h on a socketpair: a server and a client
 * handshake with each other (a key and certificate made here in
 * memory), clear text both ways including more than TLS_IO_INPUT_MAX
 * at once (the read-ahead stop and resume), the user's read timeout,
 * the last bytes and EOF after tls_io_free, a handshake against a peer
 * speaking no TLS, and the handshake timeout.  Every loop is bounded by
 * a timer that stops the event loop.
 */
#include <sys/socket.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tls.h>

#include "test.h"
#include "tls_io.h"

#define BULK	(600 * 1024)

struct side {
	struct tls_io	*io;
	int		 done, ok;
	char		 error[256];
	struct evbuffer	*got;
	int		 eof, timeout, error_ev;
};

static struct event_base	*base;

static void
on_done(void *arg, struct tls_io *io, int ok, const char *error)
{
	struct side	*s = arg;

	s->done = 1;
	s->ok = ok;
	snprintf(s->error, sizeof s->error, "%s", error ? error : "");
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct side	*s = arg;

	evbuffer_add_buffer(s->got, bufferevent_get_input(bev));
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct side	*s = arg;

	if (what & BEV_EVENT_EOF)
		s->eof = 1;
	if (what & BEV_EVENT_TIMEOUT)
		s->timeout = 1;
	if (what & BEV_EVENT_ERROR)
		s->error_ev = 1;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	int	(*cond)(void) = arg;

	if (cond())
		event_base_loopbreak(base);
}

static struct side	srv, cli;

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

/* run - the loop until COND holds, at most MS milliseconds; COND */
static int
run(int (*cond)(void), int ms)
{
	struct event	*tick, *stop;
	struct timeval	 t1 = { 0, 10000 }, t2 = { ms / 1000,
			    (ms % 1000) * 1000 };

	tick = event_new(base, -1, EV_PERSIST, on_tick, (void *)cond);
	stop = evtimer_new(base, on_stop, NULL);
	event_add(tick, &t1);
	evtimer_add(stop, &t2);
	if (!cond())
		event_base_dispatch(base);
	event_free(tick);
	event_free(stop);
	return cond();
}

static int both_done(void) { return srv.done && cli.done; }
static int cli_done(void) { return cli.done; }
static int bulk_in(void) { return evbuffer_get_length(srv.got) >= BULK; }
static int srv_timeout(void) { return srv.timeout; }
static int cli_eof(void) { return cli.eof; }

/* make_pair - an EC key and a self-signed certificate, as PEM */
static void
make_pair(char **cert, size_t *certlen, char **key, size_t *keylen)
{
	EVP_PKEY	*pk = EVP_EC_gen("P-256");
	X509		*x = X509_new();
	X509_NAME	*n;
	BIO		*b;
	char		*p;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"test.example", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_sign(x, pk, EVP_sha256());
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	*certlen = BIO_get_mem_data(b, &p);
	*cert = malloc(*certlen);
	memcpy(*cert, p, *certlen);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	*keylen = BIO_get_mem_data(b, &p);
	*key = malloc(*keylen);
	memcpy(*key, p, *keylen);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static struct tls *
client_ctx(void)
{
	struct tls_config	*cfg = tls_config_new();
	struct tls		*c = tls_client();

	tls_config_insecure_noverifycert(cfg);
	tls_config_insecure_noverifyname(cfg);
	tls_configure(c, cfg);
	tls_config_free(cfg);
	return c;
}

static void
user_side(struct side *s)
{
	struct bufferevent	*bev = tls_io_bufferevent(s->io);

	bufferevent_setcb(bev, on_read, NULL, on_event, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
main(void)
{
	struct tls_config	*scfg;
	struct tls		*sctx;
	struct timeval		 tv = { 0, 200000 };
	char			*cert, *key, *bulk;
	size_t			 certlen, keylen;
	int			 sv[2];

	signal(SIGPIPE, SIG_IGN);	/* as every smtpd process (tls_io.h) */
	base = event_base_new();
	tls_init();
	make_pair(&cert, &certlen, &key, &keylen);
	scfg = tls_config_new();
	CHECK(tls_config_set_keypair_mem(scfg, (unsigned char *)cert,
	    certlen, (unsigned char *)key, keylen) == 0, "server keypair");
	sctx = tls_server();
	CHECK(tls_configure(sctx, scfg) == 0, "server configured");
	srv.got = evbuffer_new();
	cli.got = evbuffer_new();

	/* handshake, both ways */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	srv.io = tls_io_server(base, sctx, sv[0], 5000, on_done, &srv);
	cli.io = tls_io_client(base, client_ctx(), sv[1], "test.example",
	    5000, on_done, &cli);
	CHECK(tls_io_bufferevent(srv.io) == NULL, "no clear side before");
	CHECK(run(both_done, 5000), "both handshakes end");
	CHECK(srv.ok && cli.ok, "both handshakes succeed");
	CHECK(tls_conn_version(tls_io_conn(srv.io)) != NULL, "version known");
	CHECK_STR(tls_conn_servername(tls_io_conn(srv.io)), "test.example",
	    "SNI seen by the server");
	user_side(&srv);
	user_side(&cli);

	/* more than the read-ahead limit in one go */
	bulk = malloc(BULK);
	memset(bulk, 'x', BULK);
	memcpy(bulk + BULK - 4, "END\n", 4);
	bufferevent_write(tls_io_bufferevent(cli.io), bulk, BULK);
	CHECK(run(bulk_in, 10000), "bulk data arrives");
	CHECK(evbuffer_get_length(srv.got) == BULK &&
	    memcmp(evbuffer_pullup(srv.got, -1) + BULK - 4, "END\n", 4) == 0,
	    "bulk data intact");

	/* the user's read timeout */
	bufferevent_set_timeouts(tls_io_bufferevent(srv.io), &tv, NULL);
	CHECK(run(srv_timeout, 3000), "read timeout on the clear side");

	/* last words, then free: the peer gets them, then EOF */
	bufferevent_write(tls_io_bufferevent(srv.io), "bye\r\n", 5);
	tls_io_free(&srv.io);
	CHECK(srv.io == NULL, "freed pointer cleared");
	CHECK(run(cli_eof, 5000), "EOF after the server's free");
	CHECK(evbuffer_get_length(cli.got) == 5 &&
	    memcmp(evbuffer_pullup(cli.got, -1), "bye\r\n", 5) == 0,
	    "last bytes written before close");
	tls_io_free(&cli.io);
	evbuffer_free(cli.got);

	/* a peer speaking no TLS */
	memset(&cli, 0, sizeof cli);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	CHECK(write(sv[0], "220 hello\r\n\r\n\r\n", 15) == 15, "garbage");
	cli.io = tls_io_client(base, client_ctx(), sv[1], NULL, 5000,
	    on_done, &cli);
	close(sv[0]);
	CHECK(run(cli_done, 5000) && !cli.ok && cli.error[0] != '\0',
	    "handshake with a non-TLS peer fails with a reason");
	tls_io_free(&cli.io);

	/* a silent peer: the handshake times out */
	memset(&cli, 0, sizeof cli);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	cli.io = tls_io_client(base, client_ctx(), sv[1], NULL, 200,
	    on_done, &cli);
	CHECK(run(cli_done, 3000) && !cli.ok &&
	    strcmp(cli.error, "handshake timeout") == 0,
	    "handshake timeout");
	tls_io_free(&cli.io);
	close(sv[0]);

	evbuffer_free(srv.got);
	free(bulk);
	free(cert);
	free(key);
	tls_free(sctx);
	tls_config_free(scfg);
	event_base_free(base);
	return test_done();
}
