/*
 * queue_backend_test.c -- unit tests for smtpd/queue/queue_backend.c,
 * the dispatch between the queue process and its storage backend.
 *
 * Backend lookup and start-up failures; calls before start-up or after
 * close tempfail; ids are never 0, an evpid lies inside its msgid, and
 * a msgid or evpid that is taken (being received, committed or set
 * aside) is drawn again; the envelope text goes through the backend and
 * back unchanged; the walk of one message sees only its envelopes; the
 * envelope cache in front of the backend.
 * The ids are scripted through queue_backend_set_id_source.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "queue_backend.h"	/* no -Ismtpd/queue yet */
#include "smtpd.h"
#include "stats.h"
#include "test.h"

struct smtpd_env	*env;

#define TEST_SCRIPT_MAX	8

static char	test_root[256];
static uint32_t	test_script[TEST_SCRIPT_MAX];
static size_t	test_nscript, test_next;
static uint32_t	test_counter;

/* test_ids - the scripted ids, then a counter */
static uint32_t
test_ids(void)
{
	if (test_next < test_nscript)
		return test_script[test_next++];
	return ++test_counter * 0x01010101u;
}

/* test_script_set - the next ids drawn: N values, then the counter */
static void
test_script_set(size_t n, const uint32_t *ids)
{
	memcpy(test_script, ids, n * sizeof ids[0]);
	test_nscript = n;
	test_next = 0;
}

/* test_zero - a broken source */
static uint32_t
test_zero(void)
{
	return 0;
}

/* test_envelope - a valid envelope for RCPT */
static void
test_envelope(struct envelope *evp, const char *rcpt)
{
	char	text[1024], err[256];
	int	n;

	n = snprintf(text, sizeof text,
	    "version: 3\ndispatcher: relay\ntype: mta\n"
	    "smtpname: mx.example.org\nhelo: client.example\n"
	    "hostname: client.example\nsockaddr: [2001:db8::1]\n"
	    "sender: alice@client.example\nrcpt: %s\ndest: %s\n"
	    "ctime: 1795302356\nlast-try: 0\nlast-bounce: 0\nttl: 345600\n"
	    "retry: 2\nflags: authenticated\ndsn-notify: 6\ndsn-ret: HDRS\n"
	    "dsn-envid: QQ314159\nesc-class: 4\nesc-code: 11\n", rcpt, rcpt);
	memset(evp, 0, sizeof *evp);
	if (envelope_load(evp, text, (size_t)n, err, sizeof err) == -1)
		fprintf(stderr, "test envelope: %s\n", err);
}

/* test_commit - a committed message with one envelope; its evpid */
static uint64_t
test_commit(uint32_t msgid, const char *rcpt)
{
	struct envelope	evp;
	int		fd;

	test_envelope(&evp, rcpt);
	if (queue_create_envelope(msgid, &evp) != QUEUE_OK ||
	    queue_open_message_write(msgid, &fd) != QUEUE_OK)
		return 0;
	if (write(fd, "x\n", 2) != 2) {
		close(fd);
		return 0;
	}
	close(fd);
	return queue_commit_message(msgid) == QUEUE_OK ? evp.evpid : 0;
}

/* test_start - the fs backend on a new spool */
static int
test_start(void)
{
	snprintf(test_root, sizeof test_root, "%s/queuebe.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(test_root) == NULL)
		return -1;
	return queue_backend_init("fs", test_root);
}

/* test_lookup - names, versions, start-up */
static void
test_lookup(void)
{
	struct queue_recovery	 rec;
	struct envelope		 evp;
	uint32_t		 msgid;
	int			 fd;

	CHECK(queue_backend_lookup("fs") == &queue_backend_fs,
	    "lookup fs");
	CHECK(queue_backend_lookup("nosuch") == NULL, "lookup unknown");
	CHECK(queue_backend_fs.version == QUEUE_BACKEND_V1, "fs version 1");
	CHECK(queue_create_message(&msgid) == QUEUE_TEMPFAIL,
	    "create before init tempfails");
	CHECK(queue_recover(&rec) == QUEUE_TEMPFAIL,
	    "recover before init tempfails");
	CHECK(queue_load_envelope(1ull << 32 | 1, &evp) == QUEUE_TEMPFAIL,
	    "load before init tempfails");
	CHECK(queue_open_message_read(1, &fd) == QUEUE_TEMPFAIL,
	    "fd_r before init tempfails");
	CHECK(queue_walk_new(0) == NULL, "walk before init refused");
	CHECK(queue_backend_init("nosuch", "/tmp") == -1,
	    "init of an unknown backend fails");
	CHECK(queue_backend_init("fs", "/nonexistent/spool") == -1,
	    "init on a missing spool fails");
	CHECK(queue_create_message(&msgid) == QUEUE_TEMPFAIL,
	    "a failed init leaves no backend");
}

/* test_msgid_buckets - msgids drawn in one second share their top byte
 * (the fs bucket), which is that second's; the rest differs; a test's
 * id source is used as it is */
static void
test_msgid_buckets(void)
{
	uint32_t	m[8];
	time_t		t0, t1;
	int		i, tries, same = 0, distinct = 1;

	for (tries = 0; tries < 3 && !same; tries++) {
		t0 = time(NULL);
		for (i = 0; i < 8; i++)
			m[i] = queue_backend_draw_msgid();
		t1 = time(NULL);
		if (t0 != t1)
			continue;	/* a second turned meanwhile */
		same = 1;
		for (i = 0; i < 8; i++) {
			same &= m[i] >> 24 == ((uint32_t)t0 & 0xff);
			distinct &= i == 0 || m[i] != m[i - 1];
		}
	}
	CHECK(same && distinct, "ids: msgids of one second share this "
	    "second's bucket, the rest random");
	queue_backend_set_id_source(test_ids);
	test_script_set(1, (const uint32_t[]){ 0x7f000001 });
	CHECK(queue_backend_draw_msgid() == 0x7f000001,
	    "ids: a test's source gives msgids as they are");
	queue_backend_set_id_source(NULL);
}

/* test_ids_rules - never 0, inside the msgid, collisions drawn again */
static void
test_ids_rules(void)
{
	static const uint32_t	zero_then[] = { 0, 0, 0x42424242 };
	static const uint32_t	same[] = { 0x11111111, 0x11111111,
					   0x22222222 };
	static const uint32_t	taken[] = { 0x11111111, 0x22222222 };
	static const uint32_t	corrupt_then[] = { 0x33333333, 0x44444444 };
	/* a message being received: its envelopes are written in place,
	 * so no temporary name is drawn */
	static const uint32_t	evp_first[] = { 0x00000005 };
	static const uint32_t	evp_again[] = { 0x00000005, 0x00000006 };
	struct envelope		 evp;
	char			 path[PATH_MAX];
	uint32_t		 a = 0, b = 0, c = 0;
	uint64_t		 e;
	int			 fd;

	CHECK(test_start() == 0, "ids: init");
	queue_backend_set_id_source(test_zero);
	CHECK(queue_backend_draw_id() == 0, "ids: a zero source gives 0");
	CHECK(queue_create_message(&a) == QUEUE_TEMPFAIL,
	    "ids: ... and create tempfails rather than use msgid 0");
	queue_backend_set_id_source(test_ids);
	test_script_set(3, zero_then);
	CHECK(queue_backend_draw_id() == 0x42424242, "ids: 0 drawn again");

	/* a msgid being received is not handed out twice */
	test_script_set(3, same);
	CHECK(queue_create_message(&a) == QUEUE_OK && a == 0x11111111,
	    "ids: first msgid");
	CHECK(queue_create_message(&b) == QUEUE_OK && b == 0x22222222,
	    "ids: a collision with incoming/ is drawn again");

	/* nor a committed one */
	CHECK(test_commit(a, "x@example.com") != 0, "ids: commit the first");
	CHECK(queue_delete_message(b) == QUEUE_OK, "ids: drop the second");
	test_script_set(2, taken);
	CHECK(queue_create_message(&c) == QUEUE_OK && c == 0x22222222,
	    "ids: a collision with queue/ is drawn again");

	/* nor one set aside in corrupt/ */
	snprintf(path, sizeof path, "%s/corrupt/33333333", test_root);
	CHECK(mkdir(path, 0700) == 0, "ids: a corrupt/ entry");
	test_script_set(2, corrupt_then);
	CHECK(queue_create_message(&b) == QUEUE_OK && b == 0x44444444,
	    "ids: a collision with corrupt/ is drawn again");

	/* evpids: inside the msgid, never 0, taken ones drawn again */
	test_envelope(&evp, "y@example.com");
	test_script_set(1, evp_first);	/* the evpid half */
	CHECK(queue_create_envelope(c, &evp) == QUEUE_OK &&
	    evp.evpid == ((uint64_t)c << 32 | 5),
	    "ids: evpid is msgid << 32 | random");
	e = evp.evpid;
	test_script_set(2, evp_again);
	CHECK(queue_create_envelope(c, &evp) == QUEUE_OK &&
	    evp.evpid == ((uint64_t)c << 32 | 6),
	    "ids: an evpid collision is drawn again");
	CHECK(evp.evpid != e, "ids: two envelopes, two evpids");
	CHECK(queue_open_message_write(c, &fd) == QUEUE_OK, "ids: body fd");
	close(fd);
	CHECK(queue_commit_message(c) == QUEUE_OK, "ids: commit");
	queue_backend_set_id_source(NULL);
	CHECK(queue_backend_draw_id() != 0, "ids: arc4random again");
	test_msgid_buckets();
}

/* test_round_trip - the text through the backend, and the message walk */
static void
test_round_trip(void)
{
	static char		 ta[ENVELOPE_TEXT_MAX], tb[ENVELOPE_TEXT_MAX];
	struct queue_walk	*w;
	struct envelope		 evp, got;
	uint32_t		 m1 = 0, m2 = 0;
	uint64_t		 e1, e2, e3;
	int			 n = 0, mine = 1, r;

	CHECK(queue_create_message(&m1) == QUEUE_OK &&
	    queue_create_message(&m2) == QUEUE_OK, "trip: two messages");
	test_envelope(&evp, "first@example.com");
	CHECK(queue_create_envelope(m1, &evp) == QUEUE_OK, "trip: create");
	e1 = evp.evpid;
	CHECK(queue_load_envelope(e1, &got) == QUEUE_OK && got.evpid == e1,
	    "trip: load before commit");
	CHECK(envelope_dump(&evp, ta, sizeof ta) > 0 &&
	    envelope_dump(&got, tb, sizeof tb) > 0 && strcmp(ta, tb) == 0,
	    "trip: same text back");
	e2 = test_commit(m1, "second@example.com");
	e3 = test_commit(m2, "third@example.com");
	CHECK(e2 != 0 && e3 != 0, "trip: committed");

	w = queue_walk_new(m1);
	while (w != NULL && n < 5 && (r = queue_walk_next(w, &got)) ==
	    QUEUE_OK) {
		n++;
		if (evpid_to_msgid(got.evpid) != m1)
			mine = 0;
	}
	queue_walk_free(&w);
	CHECK(n == 2 && mine, "trip: the walk of one message");
	queue_walk_free(&w);
	CHECK(w == NULL, "trip: free of NULL is harmless");

	/* e2's text written over e3: the whole text is replaced */
	CHECK(queue_load_envelope(e2, &got) == QUEUE_OK, "trip: load e2");
	got.retry = 9;
	got.evpid = e3;
	CHECK(queue_update_envelope(&got) == QUEUE_OK, "trip: update");
	CHECK(queue_load_envelope(e3, &evp) == QUEUE_OK && evp.retry == 9 &&
	    strcmp(evp.rcpt.user, "second") == 0,
	    "trip: update replaces the whole text");

	queue_backend_close();
	CHECK(queue_load_envelope(e3, &evp) == QUEUE_TEMPFAIL,
	    "trip: after close, tempfail");
	CHECK(queue_backend_init("fs", test_root) == 0 &&
	    queue_load_envelope(e3, &evp) == QUEUE_OK,
	    "trip: a restart finds it again");
}

/* test_spoil - EVPID's stored file in incoming/ made unreadable text */
static int
test_spoil(uint32_t msgid, uint64_t evpid)
{
	char	path[PATH_MAX];
	int	fd, ok;

	snprintf(path, sizeof path, "%s/incoming/%08" PRIx32 "/%016" PRIx64,
	    test_root, msgid, evpid);
	if ((fd = open(path, O_WRONLY | O_TRUNC)) == -1)
		return 0;
	ok = write(fd, "garbage\n", 8) == 8;
	close(fd);
	return ok;
}

/* test_evpcache - the envelope cache in front of the backend (QUEUE-12):
 * what was stored is loaded without reading it back, every change made
 * through the queue updates or drops its entry, the oldest goes first */
static void
test_evpcache(void)
{
	struct envelope	evp, got;
	uint32_t	m = 0, m2 = 0;
	uint64_t	e1, e2, e3;
	long long	hits, missed;

	queue_evpcache_init(2);
	CHECK(queue_create_message(&m) == QUEUE_OK, "cache: a message");
	test_envelope(&evp, "one@example.com");
	CHECK(queue_create_envelope(m, &evp) == QUEUE_OK &&
	    queue_evpcache_count() == 1, "cache: a created envelope is kept");
	e1 = evp.evpid;
	hits = stats_get("queue.evpcache.load.hit");
	/* the stored file spoilt behind our back: the cache answers */
	CHECK(test_spoil(m, e1) && queue_load_envelope(e1, &got) ==
	    QUEUE_OK && strcmp(got.rcpt.user, "one") == 0 &&
	    stats_get("queue.evpcache.load.hit") == hits + 1,
	    "cache: loaded without reading the store");
	got.retry = 7;
	CHECK(queue_update_envelope(&got) == QUEUE_OK &&
	    stats_get("queue.evpcache.update.hit") == 1,
	    "cache: an update of a cached envelope counted as a hit");
	queue_evpcache_init(2);		/* emptied: the store answers */
	CHECK(queue_evpcache_count() == 0 &&
	    queue_load_envelope(e1, &got) == QUEUE_OK && got.retry == 7,
	    "cache: the update reached the store too");
	test_envelope(&evp, "two@example.com");
	CHECK(queue_create_envelope(m, &evp) == QUEUE_OK, "cache: e2");
	e2 = evp.evpid;
	test_envelope(&evp, "three@example.com");
	CHECK(queue_create_envelope(m, &evp) == QUEUE_OK, "cache: e3");
	e3 = evp.evpid;
	missed = stats_get("queue.evpcache.load.missed");
	CHECK(queue_evpcache_count() == 2 &&
	    queue_load_envelope(e1, &got) == QUEUE_OK &&
	    stats_get("queue.evpcache.load.missed") == missed + 1,
	    "cache: two at most, the least recently used went");
	CHECK(queue_delete_envelope(e2) == QUEUE_OK &&
	    queue_load_envelope(e2, &got) == QUEUE_NOTFOUND,
	    "cache: a deleted envelope is not loaded from it");
	CHECK(queue_create_message(&m2) == QUEUE_OK, "cache: message 2");
	test_envelope(&evp, "four@example.com");
	CHECK(queue_create_envelope(m2, &evp) == QUEUE_OK &&
	    queue_evpcache_count() == 2, "cache: one of each message");
	CHECK(queue_delete_message(m) == QUEUE_OK &&
	    queue_evpcache_count() == 1 &&
	    queue_load_envelope(e3, &got) == QUEUE_NOTFOUND &&
	    queue_load_envelope(e1, &got) == QUEUE_NOTFOUND,
	    "cache: a deleted message takes its envelopes with it");
	CHECK(stats_get("queue.evpcache.size") == 1,
	    "cache: its size is a stat");
	queue_evpcache_init(0);
	CHECK(queue_evpcache_count() == 0 &&
	    queue_delete_message(m2) == QUEUE_OK, "cache: off again");
}

int
main(void)
{
	char	cmd[PATH_MAX + 16];

	test_lookup();
	test_ids_rules();
	test_round_trip();
	test_evpcache();
	queue_backend_close();
	if (test_root[0] != '\0' &&
	    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_root) <
	    (int)sizeof cmd && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", test_root);
	return test_done();
}
