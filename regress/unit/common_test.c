/*
 * common_test.c -- unit tests for smtpd/common: the message catalogue and
 * its routes, the generated message codec (every message of the
 * catalogue round-trips byte for byte, and its decoder refuses truncated,
 * trailing-garbage and wrong-descriptor payloads; what control accepts
 * fits in what it forwards), the command-line options and the log
 * helpers.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtpd.h"
#include "table.h"
#include "test.h"
#include "wire.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;

/* test_names - the catalogue generates names and routes from one list */
static void
test_names(void)
{
	CHECK_STR(proc_name(PROC_DISPATCHER), "dispatcher", "proc_name");
	CHECK(proc_lookup("queue") == PROC_QUEUE, "proc_lookup queue");
	CHECK(proc_lookup("lka") == PROC__COUNT, "proc_lookup unknown");
	CHECK_STR(imsg_name(IMSG_CTL_HELLO), "IMSG_CTL_HELLO", "imsg_name");
	CHECK_STR(imsg_name(0), "IMSG_UNKNOWN", "imsg_name 0");
	CHECK_STR(imsg_name(IMSG__MAX + 5), "IMSG_UNKNOWN", "imsg_name big");
	CHECK(imsg_route_ok(IMSG_CTL_HELLO, PROC_CLIENT, PROC_CONTROL),
	    "route client->control hello");
	CHECK(!imsg_route_ok(IMSG_CTL_HELLO, PROC_QUEUE, PROC_CONTROL),
	    "route queue->control hello refused");
	CHECK(imsg_route_ok(IMSG_PARENT_PEER_FD, PROC_PARENT, PROC_QUEUE),
	    "route ANY receiver");
	CHECK(!imsg_route_ok(IMSG_PARENT_PEER_FD, PROC_PARENT, PROC_CLIENT),
	    "ANY excludes clients");
	CHECK(imsg_route_ok(IMSG_PARENT_CHILD_READY, PROC_CA, PROC_PARENT),
	    "route ANY sender");
	CHECK(!imsg_route_ok(IMSG__MAX, PROC_PARENT, PROC_QUEUE),
	    "route out of range");
}

static struct imsg	test_got;
static int		test_ngot;
static struct event_base	*test_evb;

static void
test_on_any(struct mproc *p, struct imsg *imsg)
{
	test_got = *imsg;
	test_got.data = malloc(imsg->datalen + 1);
	memcpy(test_got.data, imsg->data, imsg->datalen + 1);
	imsg->fd = -1;			/* test_got owns it now */
	test_ngot++;
	event_base_loopbreak(p->evb);
}

/* test_roundtrip - send through a socketpair, receive with mproc; the
 * channels get their event base and names as arguments, no global */
static int
test_roundtrip(uint32_t type, const void *m)
{
	static const struct imsg_handler h[] = {
		{ IMSG_CTL_PROC_STATUS, PROC_CONTROL, test_on_any },
		{ IMSG_CTL_FAIL, PROC_CONTROL, test_on_any },
		{ IMSG_CTL_OK, PROC_CONTROL, test_on_any },
		{ IMSG_PARENT_CONTROL_FD, PROC_PARENT, test_on_any },
	};
	struct mproc	*a, *b;
	enum proc_id	 from = PROC_CONTROL, to = PROC_CLIENT;
	int		 sv[2];

	if (type == IMSG_PARENT_CONTROL_FD) {
		from = PROC_PARENT;
		to = PROC_CONTROL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return 0;
	a = mproc_new(test_evb, from, sv[0], to, 0, NULL, 0, NULL);
	msg_send(a, type, m);
	b = mproc_new(test_evb, to, sv[1], from, 0, h, sizeof h / sizeof h[0],
	    NULL);
	free(test_got.data);
	memset(&test_got, 0, sizeof test_got);
	test_got.fd = -1;
	event_base_dispatch(test_evb);
	mproc_free(&a);
	mproc_free(&b);
	return test_got.hdr.type == type;
}

/* one well-formed example of every message of the catalogue */
static struct test_sample {
	uint32_t	type;
	union msg_any	m;
} test_samples[] = {
	{ IMSG_PARENT_PEER_FD, { .parent_peer_fd = { PROC_QUEUE, 0 } } },
	{ IMSG_PARENT_CONTROL_FD, { .parent_control_fd = { 0 } } },
	{ IMSG_PARENT_CONF_DATA, { .parent_conf_data = { "conf", 4 } } },
	{ IMSG_PARENT_CONF_END, { .parent_conf_end = { 4 } } },
	{ IMSG_PARENT_START, { .parent_start = { 0 } } },
	{ IMSG_PARENT_CHILD_READY, { .parent_child_ready = { 7, 8, "/",
	    "running" } } },
	{ IMSG_PARENT_GET_STATUS, { .parent_get_status = { 9 } } },
	{ IMSG_PARENT_GET_STATUS_RESULT, { .parent_get_status_result = { 9, 1,
	    PROC_CA, 42, 7, 8, "/var/empty", "running" } } },
	{ IMSG_LOOKUP_TABLE_QUERY, { .lookup_table_query = { 10,
	    TABLE_OP_LOOKUP, "aliases", 1, "root" } } },
	{ IMSG_LOOKUP_TABLE_QUERY_RESULT, { .lookup_table_query_result = { 10,
	    1, "admin", NULL } } },
	{ IMSG_LOOKUP_UPDATE_TABLE, { .lookup_update_table = { 11,
	    "aliases" } } },
	{ IMSG_LOOKUP_UPDATE_TABLE_RESULT, { .lookup_update_table_result = {
	    11, -1, "no such table" } } },
	/* ~/.forward (EXP-06) */
	{ IMSG_PARENT_OPEN_FORWARD, { .parent_open_forward = { 21, 1000, 100,
	    "alice", "/home/alice" } } },
	{ IMSG_LOOKUP_OPEN_FORWARD_RESULT, { .lookup_open_forward_result = {
	    21, 2 } } },
	{ IMSG_LOOKUP_OPEN_FORWARD_FD, { .lookup_open_forward_fd = { 21,
	    0 } } },
	/* SMTP AUTH (auth slice) */
	{ IMSG_LOOKUP_CHECK_CREDENTIALS, { .lookup_check_credentials = { 25,
	    "creds", "alice@example.org", "secret" } } },
	{ IMSG_LOOKUP_CHECK_CREDENTIALS_RESULT, {
	    .lookup_check_credentials_result = { 25, 1 } } },
	{ IMSG_PARENT_CHECK_PASSWORD, { .parent_check_password = { 26,
	    "alice", "secret" } } },
	{ IMSG_PARENT_CHECK_PASSWORD_RESULT, {
	    .parent_check_password_result = { 26, -1 } } },
	{ IMSG_LOOKUP_CHECK_SENDER, { .lookup_check_sender = { 27, "senders",
	    "alice", "alice@example.org" } } },
	{ IMSG_LOOKUP_CHECK_SENDER_RESULT, { .lookup_check_sender_result = {
	    27, 0 } } },
	/* tls: pki files handed out, ca's private-key operations */
	{ IMSG_CA_PKI_DATA, { .ca_pki_data = { "mx", 2, "-----BEGIN", 10 } } },
	{ IMSG_DISPATCHER_PKI_DATA, { .dispatcher_pki_data = { "mx",
	    "-----BEGIN", 10 } } },
	{ IMSG_CA_SIGN, { .ca_sign = { 30, "00ff", 3, 0, "digest", 6 } } },
	{ IMSG_CA_SIGN_RESULT, { .ca_sign_result = { 30, "sig", 3 } } },
	{ IMSG_CA_SIGN_FAIL, { .ca_sign_fail = { 30, "no such key" } } },
	/* mtatls: the relay's table lookups */
	{ IMSG_LOOKUP_RELAY_TABLE, { .lookup_relay_table = { 31, "relaycreds",
	    4, "smarthost" } } },
	{ IMSG_LOOKUP_RELAY_TABLE_RESULT, { .lookup_relay_table_result = { 31,
	    1, "bob:secret" } } },
	{ IMSG_LOOKUP_RELAY_LIST, { .lookup_relay_list = { 32, "srcs",
	    0x20 } } },
	{ IMSG_LOOKUP_RELAY_LIST_RESULT, { .lookup_relay_list_result = { 32,
	    1, "192.0.2.10\n192.0.2.11" } } },
	{ IMSG_DISPATCHER_TABLE_UPDATED, { .dispatcher_table_updated = {
	    "srcs" } } },
	{ IMSG_CTL_MTA_ADMIN, { .ctl_mta_admin = { 3, 12, "", "" } } },
	{ IMSG_DISPATCHER_MTA_ADMIN, { .dispatcher_mta_admin = { 33, 4,
	    0, "192.0.2.1", "example.net" } } },
	{ IMSG_DISPATCHER_MTA_ADMIN_RESULT, { .dispatcher_mta_admin_result = {
	    33, 1, "example.net|1764720000|250 2.0.0 Ok\n" } } },
	{ IMSG_CTL_HELLO, { .ctl_hello = { IMSG_VERSION } } },
	{ IMSG_CTL_SHOW_STATUS, { .ctl_show_status = { 0 } } },
	{ IMSG_CTL_TABLE_QUERY, { .ctl_table_query = { TABLE_OP_FETCH,
	    "aliases", "alias", NULL } } },
	{ IMSG_CTL_UPDATE_TABLE, { .ctl_update_table = { "aliases" } } },
	{ IMSG_CTL_TABLE_RESULT, { .ctl_table_result = { 0, NULL } } },
	{ IMSG_CTL_PROC_STATUS, { .ctl_proc_status = { PROC_QUEUE, 42, 7, 8,
	    "/spool", "running" } } },
	{ IMSG_CTL_OK, { .ctl_ok = { 0 } } },
	{ IMSG_CTL_FAIL, { .ctl_fail = { "permission denied" } } },
	/* local enqueue (sendmail) */
	{ IMSG_CTL_ENQUEUE_SESSION, { .ctl_enqueue_session = { 0 } } },
	{ IMSG_CTL_SESSION_FD, { .ctl_session_fd = { 0 } } },
	{ IMSG_DISPATCHER_ENQUEUE_SESSION, { .dispatcher_enqueue_session = {
	    20, 1000, 4242 } } },
	{ IMSG_DISPATCHER_ENQUEUE_SESSION_RESULT, {
	    .dispatcher_enqueue_session_result = { 20, 0 } } },
	{ IMSG_DISPATCHER_ENQUEUE_SESSION_FAIL, {
	    .dispatcher_enqueue_session_fail = { 20, "no socket listener" } } },
	{ IMSG_DISPATCHER_ADD_LISTENER, { .dispatcher_add_listener = { 2,
	    0 } } },
	{ IMSG_PARENT_FORK_MDA, { .parent_fork_mda = { 12, 1000, 1000,
	    "/home/bob", 4242, "evp", 3 } } },
	{ IMSG_LOOKUP_USERINFO, { .lookup_userinfo = { 16, "local",
	    "bob" } } },
	{ IMSG_LOOKUP_USERINFO_RESULT, { .lookup_userinfo_result = { 16, 1,
	    1000, 1000, "/home/bob" } } },
	{ IMSG_PARENT_FORK_MDA_RESULT, { .parent_fork_mda_result = { 12,
	    0 } } },
	{ IMSG_DISPATCHER_MDA_DONE, { .dispatcher_mda_done = { 12,
	    DELIVERY_TEMPFAIL, "mailbox busy" } } },
	{ IMSG_LOOKUP_EXPAND_RCPT, { .lookup_expand_rcpt = { 13, "e", 1 } } },
	{ IMSG_LOOKUP_EXPAND_RCPT_ENVELOPE, { .lookup_expand_rcpt_envelope = {
	    13, "ev", 2 } } },
	{ IMSG_LOOKUP_EXPAND_RCPT_RESULT, { .lookup_expand_rcpt_result = { 13,
	    550, "5.1.1 Invalid recipient" } } },
	{ IMSG_LOOKUP_DNS_MX, { .lookup_dns_mx = { 22, "example.org" } } },
	{ IMSG_LOOKUP_DNS_HOST, { .lookup_dns_host = { 23, "mx.example.org" } } },
	{ IMSG_LOOKUP_DNS_ADDR, { .lookup_dns_addr = { 22, 10,
	    "mx.example.org", "192.0.2.7" } } },
	{ IMSG_LOOKUP_DNS_END, { .lookup_dns_end = { 22, DNS_TEMPFAIL,
	    "SERVFAIL" } } },
	{ IMSG_LOOKUP_DNS_PTR, { .lookup_dns_ptr = { 24, "192.0.2.7" } } },
	{ IMSG_LOOKUP_DNS_PTR_RESULT, { .lookup_dns_ptr_result = { 24, DNS_OK,
	    "mx.example.org", 1 } } },
	{ IMSG_QUEUE_CREATE_MESSAGE, { .queue_create_message = { 14 } } },
	{ IMSG_QUEUE_CREATE_MESSAGE_RESULT, { .queue_create_message_result = {
	    14, 0x1234, 0 } } },
	{ IMSG_QUEUE_CREATE_MESSAGE_FAIL, { .queue_create_message_fail = { 14,
	    -2 } } },
	{ IMSG_QUEUE_SUBMIT_ENVELOPE, { .queue_submit_envelope = { 0x1234,
	    "envelope", 8 } } },
	{ IMSG_QUEUE_COMMIT_MESSAGE, { .queue_commit_message = { 15,
	    0x1234 } } },
	{ IMSG_QUEUE_COMMIT_MESSAGE_RESULT, { .queue_commit_message_result = {
	    15, 1 } } },
	{ IMSG_QUEUE_DELETE_MESSAGE, { .queue_delete_message = { 0x1234 } } },
	{ IMSG_QUEUE_RESCHEDULE, { .queue_reschedule = {
	    0x1234abcd00000001ULL } } },
	{ IMSG_SCHEDULER_RESCHEDULE, { .scheduler_reschedule = {
	    0x1234abcd00000001ULL } } },
	{ IMSG_SCHEDULER_INSERT_ENVELOPE, { .scheduler_insert_envelope = {
	    0x123400000001ULL, 0, 2, 1700000000, 345600, 1700000100, 0 } } },
	{ IMSG_SCHEDULER_COMMIT_MESSAGE, { .scheduler_commit_message = {
	    0x1234 } } },
	{ IMSG_SCHEDULER_DELIVERY_RESULT, { .scheduler_delivery_result = {
	    0x123400000001ULL, DELIVERY_PERMFAIL, 3, 1700000200 } } },
	{ IMSG_QUEUE_DELIVER_ENVELOPE, { .queue_deliver_envelope = {
	    0x123400000001ULL, 0x10 } } },
	{ IMSG_DISPATCHER_DELIVER_ENVELOPE, { .dispatcher_deliver_envelope = {
	    0x123400000001ULL, 0, "envelope", 8 } } },
	{ IMSG_QUEUE_DELIVERY_RESULT, { .queue_delivery_result = {
	    0x123400000001ULL, DELIVERY_OK, "", -1 } } },
	/* smtpctl queue verbs and counters */
	{ IMSG_PROC_GET_STATS, { .proc_get_stats = { 16 } } },
	{ IMSG_PROC_GET_STATS_RESULT, { .proc_get_stats_result = { 16,
	    "smtp.session=1\n" } } },
	{ IMSG_PROC_PAUSE, { .proc_pause = { 17, PAUSE_MDA, 1 } } },
	{ IMSG_PROC_PAUSE_RESULT, { .proc_pause_result = { 17 } } },
	{ IMSG_PROC_ADMIN_FAIL, { .proc_admin_fail = { 17,
	    "no such envelope" } } },
	{ IMSG_SCHEDULER_CHANGE_ENVELOPES, { .scheduler_change_envelopes = {
	    18, CHANGE_REMOVE, 0x123400000001ULL, 0 } } },
	{ IMSG_SCHEDULER_CHANGE_ENVELOPES_RESULT,
	    { .scheduler_change_envelopes_result = { 18, 3 } } },
	{ IMSG_SCHEDULER_LIST_ENVELOPES, { .scheduler_list_envelopes = { 19,
	    0x123400000002ULL, 0x1234 } } },
	{ IMSG_QUEUE_LIST_ENVELOPES, { .queue_list_envelopes = { 19, 0,
	    "012345678901234567890123", IMSG_EVPSTATE_SIZE } } },
	{ IMSG_QUEUE_LIST_ENVELOPES_RESULT, { .queue_list_envelopes_result = {
	    19, 0x123400000003ULL, "a|b\n" } } },
	{ IMSG_QUEUE_SHOW_ENVELOPE, { .queue_show_envelope = { 20,
	    0x123400000001ULL } } },
	{ IMSG_QUEUE_SHOW_ENVELOPE_RESULT, { .queue_show_envelope_result = {
	    20, "version: 3\n" } } },
	{ IMSG_QUEUE_SHOW_MESSAGE, { .queue_show_message = { 21, 0x1234 } } },
	{ IMSG_QUEUE_SHOW_MESSAGE_RESULT, { .queue_show_message_result = { 21,
	    0 } } },
	{ IMSG_CTL_SHOW_QUEUE, { .ctl_show_queue = { 0, 0 } } },
	{ IMSG_CTL_QUEUE_LINES, { .ctl_queue_lines = { 0, "" } } },
	{ IMSG_CTL_SHOW_ENVELOPE, { .ctl_show_envelope = {
	    0x123400000001ULL } } },
	{ IMSG_CTL_SHOW_MESSAGE, { .ctl_show_message = { 0x1234 } } },
	{ IMSG_CTL_MESSAGE_FD, { .ctl_message_fd = { 0 } } },
	{ IMSG_CTL_SHOW_STATS, { .ctl_show_stats = { 0 } } },
	{ IMSG_CTL_TEXT, { .ctl_text = { "uptime=1\n" } } },
	{ IMSG_CTL_CHANGE_ENVELOPES, { .ctl_change_envelopes = {
	    CHANGE_SCHEDULE, 0, 1 } } },
	{ IMSG_CTL_COUNT, { .ctl_count = { 7 } } },
	{ IMSG_CTL_PAUSE, { .ctl_pause = { PAUSE_SMTP, 0 } } },
};

/* does a message end with a DATA field (the rest, of any length) */
static const int test_ends_with_data[IMSG__MAX] = {
#define TEST_DATA_NONE 0
#define TEST_DATA_U32 0
#define TEST_DATA_I32 0
#define TEST_DATA_U64 0
#define TEST_DATA_SZ 0
#define TEST_DATA_BOOL 0
#define TEST_DATA_TRI 0
#define TEST_DATA_PROC 0
#define TEST_DATA_CHILD 0
#define TEST_DATA_TABLE_OP 0
#define TEST_DATA_DELIVERY 0
#define TEST_DATA_STR 0
#define TEST_DATA_STR_OR_NULL 0
#define TEST_DATA_FD 0
#define TEST_DATA_DATA 1
#define F(n, type) | TEST_DATA_##type
#define X(id, stem, from, to, fields, check) [id] = 0 fields,
	IMSG_LIST(X)
#undef X
#undef F
};

/* test_encode - a sample's payload; its length, or -1 */
static ssize_t
test_encode(const struct msg_codec *mc, const void *m, unsigned char *buf,
    size_t size)
{
	struct wire_writer	w;

	wire_writer_init(&w, buf, size);
	if (mc->encode(&w, m) == -1)
		return -1;
	return (ssize_t)w.len;
}

/* test_decode - decode len bytes of buf as type (with or without an fd);
 * the strings of out live until the next call */
static int
test_decode(const struct msg_codec *mc, const unsigned char *buf, size_t len,
    int fd, union msg_any *out)
{
	static void	*data;
	struct imsg	 imsg;

	memset(&imsg, 0, sizeof imsg);
	/* an exact-size copy, so ASan sees any read past the payload */
	free(data);
	data = imsg.data = malloc(len ? len : 1);
	memcpy(imsg.data, buf, len);
	imsg.datalen = len;
	imsg.fd = fd;
	return mc->unpack(&imsg, out);
}

/* test_catalogue - every message: a sample that survives encode, decode
 * and encode again byte for byte; every truncation, a trailing byte and
 * a wrong descriptor refused */
static void
test_catalogue(void)
{
	const struct msg_codec	*mc;
	union msg_any		 out;
	unsigned char		 a[IMSG_MAX_PAYLOAD], b[IMSG_MAX_PAYLOAD];
	ssize_t			 alen, blen;
	size_t			 i, cut, nsamples;
	uint32_t		 type;
	int			 seen[IMSG__MAX] = { 0 }, bad, fd;

	nsamples = sizeof test_samples / sizeof test_samples[0];
	for (i = 0; i < nsamples; i++) {
		type = test_samples[i].type;
		seen[type] = 1;
		mc = msg_codec(type);
		CHECK(mc != NULL && mc->size <= sizeof out, imsg_name(type));
		alen = test_encode(mc, &test_samples[i].m, a, sizeof a);
		CHECK(alen >= 0, imsg_name(type));
		fd = mc->has_fd ? 0 : -1;
		CHECK(test_decode(mc, a, (size_t)alen, fd, &out) == 0,
		    imsg_name(type));
		blen = test_encode(mc, &out, b, sizeof b);
		CHECK(blen == alen && memcmp(a, b, (size_t)alen) == 0,
		    imsg_name(type));
		CHECK(test_decode(mc, a, (size_t)alen, mc->has_fd ? -1 : 0,
		    &out) == -1, "a descriptor where none belongs, or none");
		if (test_ends_with_data[type]) {
			/* DATA is the rest, of any length, but never
			 * empty: an empty payload is refused */
			CHECK(test_decode(mc, a, 0, fd, &out) == -1,
			    "an empty payload refused");
			continue;
		}
		bad = 0;
		for (cut = 0; cut < (size_t)alen; cut++)
			bad += test_decode(mc, a, cut, fd, &out) == 0;
		CHECK(bad == 0, "every truncation refused");
		a[alen] = 0;
		CHECK(test_decode(mc, a, (size_t)alen + 1, fd, &out) == -1,
		    "a trailing byte refused");
	}
	for (type = IMSG_NONE + 1; type < IMSG__MAX; type++)
		CHECK(seen[type], imsg_name(type));
	CHECK(msg_codec(IMSG_NONE) == NULL && msg_codec(IMSG__MAX) == NULL,
	    "no codec outside the catalogue");
}

/* test_limits - what control accepts from a client always fits in what
 * it forwards: the longest table name and key in a lookup query, the
 * longest name in an update; one byte more does not reach the wire */
static void
test_limits(void)
{
	static char		 name[TABLE_NAME_MAX + 1], key[TABLE_KEY_MAX + 1];
	static char		 big[IMSG_MAX_PAYLOAD + 1];
	struct msg_lookup_table_query	q;
	unsigned char		 buf[IMSG_MAX_PAYLOAD];
	ssize_t			 len;

	memset(name, 'n', TABLE_NAME_MAX - 1);
	memset(key, 'k', TABLE_KEY_MAX - 1);
	q = (struct msg_lookup_table_query){ .reqid = UINT64_MAX,
	    .op = TABLE_OP_LOOKUP, .table = name, .service_bit = 1,
	    .key = key };
	len = test_encode(msg_codec(IMSG_LOOKUP_TABLE_QUERY), &q, buf,
	    sizeof buf);
	CHECK(len > 0 && (size_t)len < sizeof buf,
	    "the longest name and key fit in a lookup query");
	/* the longest value the table layer lets through fits in lookup's
	 * answer with no error string, and so in what control relays */
	{
		static char	value[TABLE_VALUE_MAX + 1];

		memset(value, 'v', TABLE_VALUE_MAX - 1);
		CHECK(test_encode(msg_codec(IMSG_LOOKUP_TABLE_QUERY_RESULT),
		    &(struct msg_lookup_table_query_result){ .reqid = 1,
		    .r = 1, .value = value }, buf, sizeof buf) ==
		    IMSG_MAX_PAYLOAD, "TABLE_VALUE_MAX fills a result exactly");
		CHECK(test_encode(msg_codec(IMSG_CTL_TABLE_RESULT),
		    &(struct msg_ctl_table_result){ .r = 1, .value = value },
		    buf, sizeof buf) > 0, "and fits in the client's result");
		value[TABLE_VALUE_MAX - 1] = 'v';
		CHECK(test_encode(msg_codec(IMSG_LOOKUP_TABLE_QUERY_RESULT),
		    &(struct msg_lookup_table_query_result){ .reqid = 1,
		    .r = 1, .value = value }, buf, sizeof buf) == -1,
		    "one byte more does not");
	}
	/* a string as long as a whole payload cannot be encoded */
	memset(big, 'x', IMSG_MAX_PAYLOAD);
	q.key = big;
	CHECK(test_encode(msg_codec(IMSG_LOOKUP_TABLE_QUERY), &q, buf,
	    sizeof buf) == -1, "an oversized key is an encoding error");
	/* ranges and NULLs are checked when encoding, too */
	CHECK(test_encode(msg_codec(IMSG_CTL_TABLE_RESULT),
	    &(struct msg_ctl_table_result){ .r = 2 }, buf, sizeof buf) == -1,
	    "r out of range not encoded");
	CHECK(test_encode(msg_codec(IMSG_CTL_FAIL),
	    &(struct msg_ctl_fail){ .reason = NULL }, buf, sizeof buf) == -1,
	    "a NULL where a string must be not encoded");
	CHECK(test_encode(msg_codec(IMSG_CTL_TABLE_QUERY),
	    &(struct msg_ctl_table_query){ .op = 9, .table = "t",
	    .service = "alias", .key = "k" }, buf, sizeof buf) == -1,
	    "an unknown table operation not encoded");
}

/* test_codec - encode, decode, then damage the payload every way; no
 * program global is read on the way (env is NULL here) */
static void
test_codec(void)
{
	struct msg_ctl_proc_status	s;
	struct msg_ctl_fail		f;
	struct msg_ctl_ok		ok;
	struct msg_ctl_table_query	q;
	struct msg_parent_control_fd	cfd;
	unsigned char			buf[256];
	size_t				len, cut;
	int				bad, sv[2];
	struct mproc			*p;
	char				big[IMSG_MAX_PAYLOAD + 1];

	env = NULL;
	CHECK(test_roundtrip(IMSG_CTL_PROC_STATUS,
	    &(struct msg_ctl_proc_status){ .proc = PROC_QUEUE, .pid = 42,
	    .uid = 7, .gid = 8, .root = "/spool", .state = "running" }),
	    "proc status crosses a socket");
	CHECK(msg_unpack_ctl_proc_status(&test_got, &s) == 0,
	    "proc status decodes");
	CHECK(s.proc == PROC_QUEUE && s.pid == 42 && s.uid == 7 && s.gid == 8,
	    "proc status numbers");
	CHECK_STR(s.root, "/spool", "proc status root");
	CHECK_STR(s.state, "running", "proc status state");

	/* every truncation of the payload is refused */
	len = test_got.datalen;
	memcpy(buf, test_got.data, len);
	bad = 0;
	for (cut = 0; cut < len; cut++) {
		test_got.datalen = cut;
		bad += msg_unpack_ctl_proc_status(&test_got, &s) == 0;
	}
	CHECK(bad == 0, "every truncated proc status refused");
	/* trailing garbage is refused */
	memcpy(test_got.data, buf, len);
	test_got.datalen = len;
	test_got.data = realloc(test_got.data, len + 2);
	memcpy((char *)test_got.data + len, "x", 2);
	test_got.datalen = len + 1;
	CHECK(msg_unpack_ctl_proc_status(&test_got, &s) == -1,
	    "trailing byte refused");
	/* a process id out of range is refused */
	test_got.datalen = len;
	memcpy(test_got.data, buf, len);
	((int32_t *)test_got.data)[0] = 77;
	CHECK(msg_unpack_ctl_proc_status(&test_got, &s) == -1,
	    "unknown process id refused");
	/* wrong decoder on the right bytes: refused */
	memcpy(test_got.data, buf, len);
	CHECK(msg_unpack_ctl_table_query(&test_got, &q) == -1,
	    "table query decoder refuses proc status");

	CHECK(test_roundtrip(IMSG_CTL_FAIL,
	    &(struct msg_ctl_fail){ .reason = "permission denied" }),
	    "fail crosses");
	CHECK(msg_unpack_ctl_fail(&test_got, &f) == 0 &&
	    strcmp(f.reason, "permission denied") == 0, "fail reason");
	test_got.datalen = 1;		/* the tag of a NULL string */
	((char *)test_got.data)[0] = 0;
	CHECK(msg_unpack_ctl_fail(&test_got, &f) == -1,
	    "fail without reason refused");
	((char *)test_got.data)[0] = 'x';
	CHECK(msg_unpack_ctl_fail(&test_got, &f) == -1,
	    "fail with a bad string tag refused");
	CHECK(msg_unpack_ctl_ok(&test_got, &ok) == -1,
	    "ok with payload refused");
	test_got.datalen = 0;
	CHECK(msg_unpack_ctl_ok(&test_got, &ok) == 0, "empty ok");

	/* a descriptor crosses, and unpacking hands it over */
	CHECK(test_roundtrip(IMSG_PARENT_CONTROL_FD,
	    &(struct msg_parent_control_fd){ .fd = dup(0) }),
	    "a descriptor crosses");
	CHECK(test_got.fd >= 0 && msg_unpack_parent_control_fd(&test_got,
	    &cfd) == 0 && cfd.fd >= 0 && test_got.fd == -1,
	    "the descriptor moves to the struct");
	close(cfd.fd);

	/* a message too big for a client is refused, not fatal */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	    "socketpair");
	p = mproc_new(test_evb, PROC_CONTROL, sv[0], PROC_CLIENT, 0, NULL, 0,
	    NULL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(msg_send_ctl_fail(p, &(struct msg_ctl_fail){ .reason = big }) ==
	    -1 && imsgbuf_queued(&p->ib) == 0,
	    "an unencodable reply to a client is refused");
	mproc_free(&p);
	close(sv[1]);

	free(test_got.data);
	test_got.data = NULL;
	env = &test_env;
}

/* test_parse - smtpd_opts_parse on an argv given as a string list */
static int
test_parse(struct smtpd_opts *o, char *err, size_t errsz, ...)
{
	char	*argv[32];
	int	 argc = 0;
	va_list	 ap;

	va_start(ap, errsz);
	argv[argc++] = "smtpd";
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return smtpd_opts_parse(o, argc, argv, err, errsz);
}

static void
test_options(void)
{
	struct smtpd_opts	o;
	char			err[256], **av;
	int			i, found;

	CHECK(test_parse(&o, err, sizeof err, "-d", NULL) == 0 &&
	    o.foreground == 2, "-d");
	CHECK(test_parse(&o, err, sizeof err, NULL) == 0 &&
	    strcmp(o.sock, PATH_SMTPD_RUN "/smtpd.sock") == 0 &&
	    strcmp(o.conffile, PATH_SMTPD_CONF) == 0, "defaults");
	CHECK(test_parse(&o, err, sizeof err, "-o", "socket=/x/s.sock", "-r",
	    "/tmp", NULL) == 0 && strcmp(o.sock, "/x/s.sock") == 0 &&
	    strcmp(o.spool, "/tmp/spool") == 0 &&
	    strcmp(o.conffile, "/tmp/smtpd.conf") == 0,
	    "-o wins over -r whatever the order");
	CHECK(test_parse(&o, err, sizeof err, "-f", "/etc/x.conf", "-r",
	    "/tmp", NULL) == 0 && strcmp(o.conffile, "/etc/x.conf") == 0,
	    "-f wins over -r");
	CHECK(test_parse(&o, err, sizeof err, "-T", "imsg", "-T", "smtp",
	    "-P", "mta", "-v", "-v", "-D", "a=b", NULL) == 0 &&
	    o.trace == (TRACE_IMSG | TRACE_SMTP) && o.paused == PAUSE_MTA &&
	    o.verbose == 2 && o.nmacros == 1, "-T -P -v -D");
	CHECK(test_parse(&o, err, sizeof err, "-T", "nope", NULL) == -1 &&
	    strstr(err, "unknown trace") != NULL, "-T unknown");
	CHECK(test_parse(&o, err, sizeof err, "-r", "regress", NULL) == 0 &&
	    o.rundir[0] == '/' && strstr(o.spool, "/regress/spool") != NULL,
	    "-r relative made absolute");
	CHECK(test_parse(&o, err, sizeof err, "-r", "/nonexistent-dir", NULL) ==
	    -1 && strstr(err, "No such file") != NULL, "-r missing dir");
	CHECK(test_parse(&o, err, sizeof err, "-f", NULL) == -1 &&
	    strstr(err, "needs an argument") != NULL, "-f without argument");
	CHECK(test_parse(&o, err, sizeof err, "-h", NULL) == 1, "-h");

	/* a child's argv carries the options that matter, absolute */
	test_parse(&o, err, sizeof err, "-d", "-T", "imsg", "-P", "smtp", "-r",
	    "/tmp", NULL);
	strcpy(o.self, "/usr/sbin/smtpd");
	av = smtpd_opts_child_argv(&o, "queue");
	CHECK_STR(av[0], "/usr/sbin/smtpd", "child argv[0]");
	CHECK_STR(av[2], "queue", "child name");
	found = 0;
	for (i = 0; av[i]; i++)
		found += strcmp(av[i], "-Timsg") == 0 ||
		    strcmp(av[i], "-Psmtp") == 0 ||
		    strcmp(av[i], "-ospool=/tmp/spool") == 0 ||
		    strcmp(av[i], "-d") == 0;
	CHECK(found == 4, "child argv carries -d -T -P and paths");
	for (i = 0; av[i]; i++)
		free(av[i]);
	free(av);
}

static void
test_log(void)
{
	char	buf[64];

	CHECK_STR(log_quote(buf, sizeof buf, "plain"), "plain", "no quotes");
	CHECK_STR(log_quote(buf, sizeof buf, "two words"), "\"two words\"",
	    "quoted");
	CHECK_STR(log_quote(buf, sizeof buf, "a\"b"), "\"a\\\"b\"",
	    "inner quote escaped");
	CHECK_STR(log_quote(buf, sizeof buf, ""), "\"\"", "empty quoted");
	CHECK(log_trace_parse("all") == TRACE_ALL, "trace all");
	CHECK(log_trace_parse("rules") == TRACE_RULES, "trace rules");
	CHECK(log_trace_parse("bogus") == 0, "trace bogus");
}

/* test_server_name - mailname first, else the canonical host name */
static void
test_server_name(void)
{
	char	dir[] = "/tmp/common_test.XXXXXX", path[64], name[256];
	char	host[256];
	FILE	*fp;

	CHECK(mkdtemp(dir) != NULL, "temporary directory");
	snprintf(path, sizeof path, "%s/mailname", dir);
	fp = fopen(path, "w");
	fputs("mx.test  \nsecond.line\n", fp);
	fclose(fp);
	CHECK(smtpd_server_name(path, name, sizeof name) == 0 &&
	    strcmp(name, "mx.test") == 0, "mailname's first line");
	fp = fopen(path, "w");
	fputs("not a/name\n", fp);
	fclose(fp);
	CHECK(smtpd_server_name(path, name, sizeof name) == 0 &&
	    strcmp(name, "not") != 0 && name[0] != '\0',
	    "an invalid mailname is ignored");
	unlink(path);
	CHECK(smtpd_server_name(path, host, sizeof host) == 0 &&
	    strcmp(host, name) == 0, "no mailname: the host name");
	CHECK(smtpd_server_name(NULL, name, 4) == -1 ||
	    strlen(name) < 4, "short buffer refused, never overrun");
	rmdir(dir);
}

int
main(void)
{
	env = &test_env;
	test_evb = event_base_new();
	log_init(1, 0);
	test_names();
	test_catalogue();
	test_limits();
	test_codec();
	test_options();
	test_log();
	test_server_name();
	return test_done();
}
