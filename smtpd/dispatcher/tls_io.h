/*
 * tls_io.h -- TLS for libevent bufferevents, on libtls: a server or a
 * client session over a connected socket, presented to its user as an
 * ordinary bufferevent carrying the clear text.
 *
 * Library code: the event base and the libtls context (tls_server() or
 * tls_client(), configured by the caller) come as arguments; it reads
 * no global, so the SMTP server, the relaying client and a later smtpfd
 * share it.  The user starts a handshake on a socket it hands over
 * (an accepted smtps client, or a session after STARTTLS whose own
 * bufferevent it has released), is called back once with the outcome,
 * then reads and writes the clear text through tls_io_bufferevent() as
 * it would a socket's: same callbacks, EOF when the peer closes (after
 * the data it sent), BEV_EVENT_ERROR on a TLS or socket error, and the
 * timeouts it sets.  tls_io_free() ends it: what the user wrote is
 * still sent, then close_notify, for at most TLS_IO_LINGER_MS.
 * A private-key operation may answer later than it is asked (a key held
 * by another process): the handshake runs in an OpenSSL ASYNC job whose
 * wait context has a callback (ASYNC_WAIT_CTX_get_callback); such an
 * operation keeps that callback, calls ASYNC_pause_job() until its
 * answer is in (or its own timer gives up), then calls the callback,
 * from the event loop, and the handshake goes on.  It must end every
 * wait it starts: a tls_io freed meanwhile lingers until then.
 * The host ignores SIGPIPE (a peer gone mid-write is an error, not a
 * signal), as every smtpd process does.
 */
#ifndef SMTPD_TLS_IO_H
#define SMTPD_TLS_IO_H

#include <stddef.h>

struct bufferevent;
struct event_base;
struct tls;
struct tls_io;

#define TLS_IO_LINGER_MS	5000	/* flushing after tls_io_free */
#define TLS_IO_INPUT_MAX	(256 * 1024)	/* clear text read ahead */

/* the outcome of a handshake: OK 1, or 0 with a reason in ERROR */
typedef void	(*tls_io_done_fn)(void *arg, struct tls_io *, int ok,
		    const char *error);

/*
 * tls_io_server / tls_io_client - start a handshake on FD (connected,
 * nonblocking; owned by the tls_io from then on, even on NULL) with CTX,
 * a configured tls_server() / tls_client() context that must outlive
 * it; SERVERNAME is the name the client asks for (SNI, and checked in
 * the peer's certificate when CTX verifies names), NULL for none.
 * DONE is called exactly once, from the event loop, unless the tls_io
 * is freed first; a handshake not over after TIMEOUT_MS fails.  NULL
 * when no memory.
 */
struct tls_io	*tls_io_server(struct event_base *, struct tls *ctx, int fd,
		    unsigned int timeout_ms, tls_io_done_fn done, void *arg);
struct tls_io	*tls_io_client(struct event_base *, struct tls *ctx, int fd,
		    const char *servername, unsigned int timeout_ms,
		    tls_io_done_fn done, void *arg);

/* tls_io_bufferevent - the clear-text side, once the handshake is done
 * (NULL before); it belongs to the tls_io: never free it */
struct bufferevent *tls_io_bufferevent(struct tls_io *);

/* tls_io_conn - the libtls connection, for tls_conn_version(),
 * tls_conn_cipher(), tls_peer_cert_*() and tls_conn_servername() */
struct tls	*tls_io_conn(struct tls_io *);
/* tls_io_error - after the handshake, why IO failed (libtls's text), or
 * NULL while it has not */
const char	*tls_io_error(const struct tls_io *);

/* tls_io_free - end the session (see above); *IOP becomes NULL */
void		 tls_io_free(struct tls_io **iop);

#endif
