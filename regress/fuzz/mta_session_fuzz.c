/*
 * mta_session_fuzz.c -- libFuzzer target for a whole MTA client session
 * (smtpd/dispatcher/mta_session.c and the reply parser it calls): the
 * fuzzer's bytes are what a next hop answers on 127.0.0.1 (greeting,
 * EHLO capabilities, the replies of a transaction), then it resets
 * the connection.
 *
 * The session runs in-process on its own event loop; when ready it
 * sends one message to three recipients (a body without a final LF and
 * with lines starting with "."), then says QUIT.  Every run must end
 * with the closed hook within a bounded number of loop turns; after
 * tx_done every recipient is final with a printable reply; whatever
 * the client sent must be CRLF lines without control bytes (the body's
 * dots stuffed) until it says STARTTLS.  A first byte 'T' makes TLS
 * opportunistic, 'S' required (then the fuzzer's bytes after a 220 to
 * STARTTLS are what the TLS handshake reads), both with credentials
 * that must never be sent in clear.  Any breach aborts.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <tls.h>

#include "imsg.h"
#include "mta.h"

struct smtpd_env	*env;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_TURNS	20000
#define FUZZ_INPUT_MAX	65536

static struct event_base	*fuzz_base;
static int			 fuzz_listen = -1, fuzz_body = -1;
static struct sockaddr_in	 fuzz_addr;
static int			 fuzz_closed, fuzz_txs;
static struct mta_rcpt		 fuzz_rcpts[3];
static struct mta_tx		 fuzz_tx;
static struct tls_config	*fuzz_tls;
static int			 fuzz_starttls;	/* the client said it */
static char			 fuzz_window[10];	/* its last bytes */

static void
fuzz_printable(const char *s, size_t size)
{
	size_t	i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
	if (i == size)
		abort();
}

static void
fuzz_ready(void *arg, struct mta_session *s)
{
	static const char *const to[] = { "a@example.net", "b@example.net",
	    "c@example.net" };
	size_t	i;

	if (fuzz_txs++ > 0) {
		mta_session_quit(s);
		return;
	}
	for (i = 0; i < 3; i++) {
		fuzz_rcpts[i].addr = to[i];
		fuzz_rcpts[i].params = i == 1 ? " NOTIFY=NEVER" : "";
	}
	fuzz_tx.sender = "s@example.org";
	fuzz_tx.params = " SIZE=20";
	fuzz_tx.rcpts = fuzz_rcpts;
	fuzz_tx.nrcpts = 3;
	fuzz_tx.fd = fuzz_body;
	fuzz_tx.size = 20;
	mta_session_start_tx(s, &fuzz_tx);
}

static void
fuzz_tx_done(void *arg, struct mta_session *s, struct mta_tx *tx)
{
	size_t	i;

	if (tx != &fuzz_tx)
		abort();
	for (i = 0; i < tx->nrcpts; i++) {
		if (!tx->rcpts[i].final || tx->rcpts[i].status < DELIVERY_OK ||
		    tx->rcpts[i].status > DELIVERY_PERMFAIL)
			abort();
		fuzz_printable(tx->rcpts[i].reply, sizeof tx->rcpts[i].reply);
	}
	mta_session_quit(s);
}

static void
fuzz_on_closed(void *arg, struct mta_session *s, int status,
    const char *error)
{
	fuzz_printable(error, MTA_REPLY_TEXT_MAX);
	fuzz_closed++;
}

static const struct mta_hooks fuzz_hooks = {
	fuzz_ready, fuzz_tx_done, fuzz_on_closed
};

/* fuzz_init - the listening socket, the body, once */
static void
fuzz_init(void)
{
	static const char body[] = "Subject: x\n\n.dot\nline\n..\nlast";
	socklen_t	len = sizeof fuzz_addr;

	signal(SIGPIPE, SIG_IGN);
	fuzz_addr.sin_family = AF_INET;
	fuzz_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fuzz_listen = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fuzz_listen, (struct sockaddr *)&fuzz_addr,
	    sizeof fuzz_addr) == -1 || listen(fuzz_listen, 16) == -1 ||
	    getsockname(fuzz_listen, (struct sockaddr *)&fuzz_addr, &len) ==
	    -1)
		abort();
	if ((fuzz_body = memfd_create("body", 0)) == -1 ||
	    write(fuzz_body, body, sizeof body - 1) != sizeof body - 1 ||
	    (fuzz_base = event_base_new()) == NULL)
		abort();
	if (tls_init() == -1 || (fuzz_tls = tls_config_new()) == NULL)
		abort();
	tls_config_insecure_noverifycert(fuzz_tls);
	tls_config_insecure_noverifyname(fuzz_tls);
}

/* fuzz_check_sent - the client sends CRLF lines, no control byte */
static void
fuzz_check_sent(const char *p, size_t len, int *cr)
{
	size_t	i;

	for (i = 0; i < len && !fuzz_starttls; i++) {
		unsigned char c = (unsigned char)p[i];

		memmove(fuzz_window, fuzz_window + 1, sizeof fuzz_window - 1);
		fuzz_window[sizeof fuzz_window - 1] = (char)c;
		if (memcmp(fuzz_window, "STARTTLS\r\n", 10) == 0)
			fuzz_starttls = 1;	/* TLS records follow */
		/* the credentials ("u", "p": dSBw, AHUAcA==) never in clear */
		if (memcmp(fuzz_window + 2, "AUTH", 4) == 0)
			abort();
		if (*cr && c != '\n')
			abort();
		if (c == '\n' && !*cr)
			abort();
		*cr = c == '\r';
		if (c < 32 && c != '\r' && c != '\n')
			abort();
	}
}

static const struct linger	fuzz_linger = { 1, 0 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mta_session_params	 p = { 0 };
	struct mta_session		*s;
	char				 buf[65536], err[256];
	size_t				 off = 0;
	ssize_t				 n;
	int				 c = -1, turns, cr = 0, drained = 0;
	int				 outq;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	if (fuzz_base == NULL)
		fuzz_init();
	fuzz_closed = fuzz_txs = fuzz_starttls = 0;
	memset(fuzz_window, 0, sizeof fuzz_window);
	p.base = fuzz_base;
	p.id = 1;
	p.helo = "fuzz.example";
	p.timeout = 5;
	p.lmtp = size > 0 && data[0] == 'L';
	p.peer = "peer.example";
	if (size > 0 && (data[0] == 'T' || data[0] == 'S')) {
		p.tls = data[0] == 'T' ? MTA_TLS_TRY : MTA_TLS_STARTTLS;
		p.tls_config = fuzz_tls;
		p.servername = "peer.example";
		p.auth_user = "u";
		p.auth_pass = "p";
	}
	s = mta_session_connect(&p, (struct sockaddr *)&fuzz_addr,
	    sizeof fuzz_addr, NULL, 0, &fuzz_hooks, NULL, err, sizeof err);
	if (s == NULL)
		return 0;	/* no port left for a moment: the machine's */
	for (turns = 0; turns < FUZZ_TURNS && !fuzz_closed; turns++) {
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		if (c == -1) {
			if ((c = accept4(fuzz_listen, NULL, NULL,
			    SOCK_NONBLOCK)) == -1)
				continue;
			(void)setsockopt(c, SOL_SOCKET, SO_LINGER,
			    &fuzz_linger, sizeof fuzz_linger);
		}
		if (off < size) {
			n = write(c, data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno != EAGAIN)
				off = size;
		}
		while ((n = read(c, buf, sizeof buf)) > 0)
			fuzz_check_sent(buf, (size_t)n, &cr);
		/* all of it taken by the client's kernel and a few turns to
		 * read it: then the next hop resets the connection */
		if (off == size && ioctl(c, SIOCOUTQ, &outq) == 0 &&
		    outq == 0 && ++drained > 5 && c != -1) {
			close(c);
			c = -2;
		}
		if (c == -2)
			continue;
		(void)poll(&(struct pollfd){ .fd = c, .events = POLLIN }, 1, 1);
	}
	if (c >= 0)
		close(c);
	if (!fuzz_closed)
		abort();	/* the session did not end */
	return 0;
}
