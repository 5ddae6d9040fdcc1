/*
 * queue_api_dispatch_test.c -- the queue protocol glue (api/queue_api.c)
 * driven over a socketpair, as the 6.8 daemon drives a queue helper.
 *
 * The helper side runs queue_api_dispatch_fd() in a forked child with
 * test callbacks; the parent plays the daemon: it writes every request
 * frame byte for byte (header, payload, SCM_RIGHTS for COMMIT), reads
 * the replies with api/imsgbuf, and compares payloads with memcmp
 * (libexec-protocols.md 5.2).  Violations must end the child with exit
 * status 1, never a signal; EOF with 0.  Every wait is bounded
 * (regress/lib/peer.c).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd-api.h"
#include "peer.h"
#include "test.h"

#define QTEST_MSGID	0x11223344u

static const char	qtest_message[] =
    "Received: from client.example\r\nSubject: t\r\n\r\nHello.\r\n";
static const unsigned char qtest_binary[] = { 'v', 0, 0xff, '\n', 0, 'x' };

/* the child's state: what the callbacks stored */
static struct {
	char		env[4][64];
	size_t		envlen[4];
	int		nenv;
	int		walkpos;
	int		corrupted;
	char		tmpdir[256];
	int		privdrop;	/* create answers geteuid() + 1 */
	int		keepprivs;	/* the child keeps the parent's settings */
	int		extras;		/* the next child's numbering */
	int		pathform;	/* the next child: commit by path */
} qtest;

static int
qtest_create(uint32_t *msgid)
{
	if (qtest.privdrop) {
		if (access("/qsapi-marker", F_OK) == -1)
			return 0;	/* not inside the chroot */
		*msgid = (uint32_t)geteuid() + 1;
		return 1;
	}
	*msgid = QTEST_MSGID;
	return 1;
}

/* qtest_check_content - fd holds qtest_message and stands at offset 0 */
static int
qtest_check_content(int fd)
{
	char	buf[256];
	ssize_t	n;

	if (lseek(fd, 0, SEEK_CUR) != 0)
		return 0;
	n = read(fd, buf, sizeof buf);
	return n == (ssize_t)strlen(qtest_message) &&
	    memcmp(buf, qtest_message, (size_t)n) == 0;
}

static int
qtest_commit_fd(uint32_t msgid, int fd)
{
	return msgid == QTEST_MSGID && qtest_check_content(fd);
}

static int
qtest_commit_path(uint32_t msgid, const char *path)
{
	int	fd, ok;

	if (strncmp(path, qtest.tmpdir, strlen(qtest.tmpdir)) != 0)
		return 0;
	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	ok = qtest_check_content(fd);
	close(fd);
	return ok;
}

static int
qtest_delete(uint32_t msgid)
{
	return msgid == QTEST_MSGID ? 1 : 7;	/* 7: the glue answers 0 */
}

/* qtest_fd_r - the message in a fresh memory file, left at its end */
static int
qtest_fd_r(uint32_t msgid)
{
	int	fd;

	if (msgid != QTEST_MSGID)
		return -1;
	if ((fd = memfd_create("qtest", 0)) == -1)
		return -1;
	if (write(fd, qtest_message, strlen(qtest_message)) !=
	    (ssize_t)strlen(qtest_message)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
qtest_corrupt(uint32_t msgid)
{
	qtest.corrupted++;
	return 1;
}

/* qtest_env_create - evpid msgid<<32 | index+1; "bad" gets a wrong evpid */
static int
qtest_env_create(uint32_t msgid, const char *buf, size_t len,
    uint64_t *evpid)
{
	if (len >= 3 && memcmp(buf, "bad", 3) == 0) {
		*evpid = (uint64_t)(msgid + 1) << 32 | 1;
		return 1;
	}
	if (len >= 4 && memcmp(buf, "zero", 4) == 0) {
		*evpid = (uint64_t)msgid << 32;
		return 1;
	}
	if (qtest.nenv == 4 || len > sizeof qtest.env[0])
		return 0;
	memcpy(qtest.env[qtest.nenv], buf, len);
	qtest.envlen[qtest.nenv] = len;
	*evpid = (uint64_t)msgid << 32 | (uint32_t)(++qtest.nenv);
	return 1;
}

static int
qtest_env_delete(uint64_t evpid)
{
	return (uint32_t)evpid >= 1 && (uint32_t)evpid <= (uint32_t)qtest.nenv;
}

static int
qtest_env_update(uint64_t evpid, const char *buf, size_t len)
{
	size_t	i = (uint32_t)evpid;

	if (i < 1 || i > (size_t)qtest.nenv || len > sizeof qtest.env[0])
		return 0;
	memcpy(qtest.env[i - 1], buf, len);
	qtest.envlen[i - 1] = len;
	return 1;
}

/* qtest_env_load - stored bytes; evpid low half 99 claims too much */
static int
qtest_env_load(uint64_t evpid, char *buf, size_t len)
{
	size_t	i = (uint32_t)evpid;

	if (i == 99)
		return (int)len + 1;
	if (i < 1 || i > (size_t)qtest.nenv)
		return 0;
	memcpy(buf, qtest.env[i - 1], qtest.envlen[i - 1]);
	return (int)qtest.envlen[i - 1];
}

/* qtest_env_walk - envelope 1, "again", envelope 2, ..., then -1 */
static int
qtest_env_walk(uint64_t *evpid, char *buf, size_t len)
{
	int	step = qtest.walkpos++;
	int	i;

	if (step == 1)
		return 0;
	i = step == 0 ? 0 : step - 1;
	if (i >= qtest.nenv) {
		qtest.walkpos = 0;
		return -1;
	}
	*evpid = (uint64_t)QTEST_MSGID << 32 | (uint32_t)(i + 1);
	memcpy(buf, qtest.env[i], qtest.envlen[i]);
	return (int)qtest.envlen[i];
}

/* qtest_msg_walk - two entries per msgid, cursor in *data, then done */
static int
qtest_msg_walk(uint64_t *evpid, char *buf, size_t len, uint32_t msgid,
    int *done, void **data)
{
	uintptr_t	n = (uintptr_t)*data;

	*data = (void *)(n + 1);
	*evpid = (uint64_t)msgid << 32 | (uint32_t)(n + 1);
	buf[0] = (char)('a' + n);
	if (n == 1)
		*done = 1;
	return 1;
}

static int
qtest_close(void)
{
	return 1;
}

/* qtest_serve - the helper, as qtest.extras and qtest.pathform say */
static int
qtest_serve(int fd)
{
	if (!qtest.keepprivs) {
		queue_api_no_chroot();
		queue_api_set_user(NULL);
	}
	if (qtest.extras)
		queue_api_use_extras_numbering();
	queue_api_set_tmpdir(qtest.tmpdir);
	queue_api_on_close(qtest_close);
	queue_api_on_message_create(qtest_create);
	if (qtest.pathform)
		queue_api_on_message_commit(qtest_commit_path);
	else
		queue_api_on_message_commit_fd(qtest_commit_fd);
	queue_api_on_message_delete(qtest_delete);
	queue_api_on_message_fd_r(qtest_fd_r);
	queue_api_on_message_corrupt(qtest_corrupt);
	queue_api_on_envelope_create(qtest_env_create);
	queue_api_on_envelope_delete(qtest_env_delete);
	queue_api_on_envelope_update(qtest_env_update);
	queue_api_on_envelope_load(qtest_env_load);
	queue_api_on_envelope_walk(qtest_env_walk);
	queue_api_on_message_walk(qtest_msg_walk);
	return queue_api_dispatch_fd(fd);
}

/* qtest_start - fork a helper serving the other socket end */
static void
qtest_start(struct peer *p, int extras, int pathform)
{
	qtest.extras = extras;
	qtest.pathform = pathform;
	peer_start(p, qtest_serve);
}

/* qtest_init - INIT version 2, answered by an empty OK */
static int
qtest_init(struct peer *p)
{
	uint32_t	version = PROC_QUEUE_API_VERSION;

	peer_send(p, PROC_QUEUE_INIT, &version, sizeof version);
	return peer_expect(p, NULL, 0);
}

/* qtest_message_fd - a read-only fd of the message, not at offset 0 */
static int
qtest_message_fd(void)
{
	char	path[] = "/tmp/qtest.XXXXXX";
	int	fd, rfd;

	if ((fd = mkstemp(path)) == -1)
		return -1;
	if (write(fd, qtest_message, strlen(qtest_message)) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	rfd = open(path, O_RDONLY);
	unlink(path);
	close(fd);
	if (rfd != -1)
		lseek(rfd, 7, SEEK_SET);
	return rfd;
}

/* qtest_walk_reply - r, evpid and bytes of a WALK reply */
static int
qtest_walk_reply(struct peer *p, int32_t r, uint64_t evpid,
    const void *env, size_t envlen)
{
	unsigned char	want[4 + 8 + 64];

	memcpy(want, &r, 4);
	if (r <= 0)
		return peer_expect(p, want, 4);
	memcpy(want + 4, &evpid, 8);
	memcpy(want + 12, env, envlen);
	return peer_expect(p, want, 12 + envlen);
}

static void
qtest_session(void)
{
	struct peer	 p;
	struct imsg		 imsg;
	unsigned char		 buf[128];
	uint64_t		 evpid1, evpid2, evpid;
	uint32_t		 msgid = QTEST_MSGID, other = 5;
	char			 content[256];
	ssize_t			 n;
	int			 got, fd;

	qtest_start(&p, 0, 0);
	CHECK(qtest_init(&p), "session: INIT answered by an empty OK");

	peer_send(&p, PROC_QUEUE_MESSAGE_CREATE, NULL, 0);
	CHECK(peer_expect(&p, "\1\0\0\0\x44\x33\x22\x11", 8),
	    "session: MESSAGE_CREATE -> 01 00 00 00 + msgid");

	memcpy(buf, &msgid, 4);
	memcpy(buf + 4, "version: 3\n", 11);
	peer_send(&p, PROC_QUEUE_ENVELOPE_CREATE, buf, 4 + 11);
	evpid1 = (uint64_t)msgid << 32 | 1;
	memcpy(buf + 64, "\1\0\0\0", 4);
	memcpy(buf + 68, &evpid1, 8);
	CHECK(peer_expect(&p, buf + 64, 12),
	    "session: ENVELOPE_CREATE (type 8) -> r=1 + evpid");
	memcpy(buf + 4, qtest_binary, sizeof qtest_binary);
	peer_send(&p, PROC_QUEUE_ENVELOPE_CREATE, buf,
	    4 + sizeof qtest_binary);
	evpid2 = (uint64_t)msgid << 32 | 2;
	memcpy(buf + 68, &evpid2, 8);
	CHECK(peer_expect(&p, buf + 64, 12),
	    "session: binary envelope with NULs accepted");
	memcpy(buf + 4, "bad", 3);
	peer_send(&p, PROC_QUEUE_ENVELOPE_CREATE, buf, 7);
	CHECK(peer_r(&p, 0), "session: evpid outside the msgid -> r=0 only");
	memcpy(buf + 4, "zero", 4);
	peer_send(&p, PROC_QUEUE_ENVELOPE_CREATE, buf, 8);
	CHECK(peer_r(&p, 0), "session: evpid with zero low half -> r=0");
	peer_send(&p, PROC_QUEUE_ENVELOPE_CREATE, buf, 4);
	CHECK(peer_r(&p, 0), "session: empty envelope -> r=0");

	fd = qtest_message_fd();
	CHECK(fd != -1, "session: message file");
	peer_send_fd(&p, PROC_QUEUE_MESSAGE_COMMIT, &msgid, 4, fd);
	close(fd);
	CHECK(peer_r(&p, 1),
	    "session: COMMIT with fd -> driver read it from offset 0");

	peer_send(&p, PROC_QUEUE_MESSAGE_FD_R, &msgid, 4);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.hdr.type == PROC_QUEUE_OK && imsg.datalen == 0 &&
	    (imsg.hdr.flags & IMSGF_HASFD) && imsg.fd != -1,
	    "session: FD_R -> empty OK carrying an fd");
	if (got && imsg.fd != -1) {
		CHECK(lseek(imsg.fd, 0, SEEK_CUR) == 0,
		    "session: FD_R fd rewound to offset 0");
		n = read(imsg.fd, content, sizeof content);
		CHECK(n == (ssize_t)strlen(qtest_message) &&
		    memcmp(content, qtest_message, (size_t)n) == 0,
		    "session: FD_R fd holds the message");
	}
	if (got)
		imsg_free(&imsg);
	peer_send(&p, PROC_QUEUE_MESSAGE_FD_R, &other, 4);
	got = peer_recv(&p, &imsg);
	CHECK(got && imsg.datalen == 0 && imsg.hdr.flags == 0 &&
	    imsg.fd == -1, "session: FD_R failure -> empty OK, no fd");
	if (got)
		imsg_free(&imsg);

	peer_send(&p, PROC_QUEUE_ENVELOPE_LOAD, &evpid2, 8);
	CHECK(peer_expect(&p, qtest_binary, sizeof qtest_binary),
	    "session: LOAD -> the bytes only, NULs kept");
	evpid = (uint64_t)msgid << 32 | 3;
	peer_send(&p, PROC_QUEUE_ENVELOPE_LOAD, &evpid, 8);
	CHECK(peer_expect(&p, NULL, 0), "session: LOAD unknown -> empty");
	evpid = (uint64_t)msgid << 32 | 99;
	peer_send(&p, PROC_QUEUE_ENVELOPE_LOAD, &evpid, 8);
	CHECK(peer_expect(&p, NULL, 0),
	    "session: LOAD callback claiming too much -> empty");

	memcpy(buf, &evpid1, 8);
	memcpy(buf + 8, "version: 3\nretry: 1\n", 20);
	peer_send(&p, PROC_QUEUE_ENVELOPE_UPDATE, buf, 28);
	CHECK(peer_r(&p, 1), "session: UPDATE -> 1");

	peer_send(&p, PROC_QUEUE_ENVELOPE_WALK, NULL, 0);
	CHECK(qtest_walk_reply(&p, 20, evpid1, "version: 3\nretry: 1\n", 20),
	    "session: WALK r>0 -> r, evpid, exactly r bytes (updated)");
	peer_send(&p, PROC_QUEUE_ENVELOPE_WALK, NULL, 0);
	CHECK(qtest_walk_reply(&p, 0, 0, NULL, 0),
	    "session: WALK r=0 -> r alone (call again)");
	peer_send(&p, PROC_QUEUE_ENVELOPE_WALK, NULL, 0);
	CHECK(qtest_walk_reply(&p, sizeof qtest_binary, evpid2, qtest_binary,
	    sizeof qtest_binary), "session: WALK second envelope");
	peer_send(&p, PROC_QUEUE_ENVELOPE_WALK, NULL, 0);
	CHECK(qtest_walk_reply(&p, -1, 0, NULL, 0),
	    "session: WALK end -> ff ff ff ff alone");

	peer_send(&p, PROC_QUEUE_ENVELOPE_DELETE, &evpid1, 8);
	CHECK(peer_r(&p, 1), "session: ENVELOPE_DELETE -> 1");
	peer_send(&p, PROC_QUEUE_MESSAGE_DELETE, &other, 4);
	CHECK(peer_r(&p, 0), "session: callback returning 7 -> 0");
	peer_send(&p, PROC_QUEUE_MESSAGE_DELETE, &msgid, 4);
	CHECK(peer_r(&p, 1), "session: MESSAGE_DELETE -> 1");
	peer_send(&p, PROC_QUEUE_CLOSE, NULL, 0);
	CHECK(peer_r(&p, 1), "session: CLOSE -> r=1, helper still there");
	shutdown(p.fd, SHUT_WR);
	CHECK(peer_exit(&p) == 0, "session: EOF -> exit 0");
}

/* qtest_pathform - the extras form of commit: a temporary file */
static void
qtest_pathform(void)
{
	struct peer	 p;
	struct dirent		*de;
	DIR			*d;
	uint32_t		 msgid = QTEST_MSGID;
	int			 fd, left = 0;

	qtest_start(&p, 0, 1);
	CHECK(qtest_init(&p), "path form: INIT");
	fd = qtest_message_fd();
	peer_send_fd(&p, PROC_QUEUE_MESSAGE_COMMIT, &msgid, 4, fd);
	close(fd);
	CHECK(peer_r(&p, 1), "path form: COMMIT copied into tmpdir, read "
	    "by the driver");
	if ((d = opendir(qtest.tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				left++;
		closedir(d);
	}
	CHECK(d != NULL && left == 0, "path form: temporary file removed");
	CHECK(peer_stop(&p) == 0, "path form: EOF -> exit 0");
}

/* qtest_extras - the extras numbering and its three extra operations */
static void
qtest_extras(void)
{
	struct peer	p;
	unsigned char		buf[64];
	uint64_t		evpid;
	uint32_t		msgid = QTEST_MSGID;

	qtest_start(&p, 1, 0);
	CHECK(qtest_init(&p), "extras: INIT");
	memcpy(buf, &msgid, 4);
	memcpy(buf + 4, "env", 3);
	peer_send(&p, PROC_QUEUE_X_ENVELOPE_CREATE, buf, 7);
	evpid = (uint64_t)msgid << 32 | 1;
	memcpy(buf + 16, "\1\0\0\0", 4);
	memcpy(buf + 20, &evpid, 8);
	CHECK(peer_expect(&p, buf + 16, 12), "extras: type 10 is "
	    "ENVELOPE_CREATE");
	peer_send(&p, PROC_QUEUE_X_ENVELOPE_LOAD, &evpid, 8);
	CHECK(peer_expect(&p, "env", 3), "extras: type 12 is LOAD");
	peer_send(&p, PROC_QUEUE_X_MESSAGE_CORRUPT, &msgid, 4);
	CHECK(peer_r(&p, 1), "extras: type 8 is MESSAGE_CORRUPT");
	peer_send(&p, PROC_QUEUE_X_MESSAGE_UNCORRUPT, &msgid, 4);
	CHECK(peer_r(&p, 0), "extras: UNCORRUPT unregistered -> 0");
	peer_send(&p, PROC_QUEUE_X_MESSAGE_WALK, &msgid, 4);
	CHECK(qtest_walk_reply(&p, 1, (uint64_t)msgid << 32 | 1, "a", 1),
	    "extras: MESSAGE_WALK first");
	peer_send(&p, PROC_QUEUE_X_MESSAGE_WALK, &msgid, 4);
	CHECK(qtest_walk_reply(&p, 1, (uint64_t)msgid << 32 | 2, "b", 1),
	    "extras: MESSAGE_WALK second (cursor kept in *data)");
	peer_send(&p, PROC_QUEUE_X_MESSAGE_WALK, &msgid, 4);
	CHECK(qtest_walk_reply(&p, -1, 0, NULL, 0),
	    "extras: MESSAGE_WALK after *done -> -1");
	peer_send(&p, PROC_QUEUE_X_MESSAGE_WALK, &msgid, 4);
	CHECK(qtest_walk_reply(&p, 1, (uint64_t)msgid << 32 | 1, "a", 1),
	    "extras: MESSAGE_WALK starts over with *data NULL");
	peer_send(&p, PROC_QUEUE_X_ENVELOPE_WALK, NULL, 0);
	CHECK(qtest_walk_reply(&p, 3, evpid, "env", 3),
	    "extras: type 14 is ENVELOPE_WALK");
	peer_send(&p, 16, NULL, 0);
	CHECK(peer_exit(&p) == 1, "extras: type 16 -> exit 1");
}

static const struct peer_bad qtest_bads[] = {
	{ "wrong version", 0, 0, PROC_QUEUE_INIT, -1, 0, 4, 0 },
	{ "short INIT", 0, 0, PROC_QUEUE_INIT, -1, 0, 3, 0 },
	{ "long INIT", 0, 0, PROC_QUEUE_INIT, -1, 0, 5, 0 },
	{ "CREATE before INIT", 0, 0, PROC_QUEUE_MESSAGE_CREATE, -1, 0, 0, 0 },
	{ "second INIT", 1, 0, PROC_QUEUE_INIT, -1, 0, 4, 0 },
	{ "unknown type 13", 1, 0, 13, -1, 0, 0, 0 },
	{ "reply type 0 as request", 1, 0, 0, -1, 0, 0, 0 },
	{ "extras MESSAGE_WALK in daemon mode", 1, 0, 15, -1, 0, 4, 0 },
	{ "extras type 16", 1, 1, 16, -1, 0, 0, 0 },
	{ "long MESSAGE_CREATE", 1, 0, PROC_QUEUE_MESSAGE_CREATE, -1, 0, 1, 0 },
	{ "short MESSAGE_DELETE", 1, 0, PROC_QUEUE_MESSAGE_DELETE, -1, 0, 3,
	    0 },
	{ "long MESSAGE_FD_R", 1, 0, PROC_QUEUE_MESSAGE_FD_R, -1, 0, 5, 0 },
	{ "short ENVELOPE_CREATE", 1, 0, PROC_QUEUE_ENVELOPE_CREATE, -1, 0, 3,
	    0 },
	{ "short ENVELOPE_UPDATE", 1, 0, PROC_QUEUE_ENVELOPE_UPDATE, -1, 0, 7,
	    0 },
	{ "long ENVELOPE_DELETE", 1, 0, PROC_QUEUE_ENVELOPE_DELETE, -1, 0, 9,
	    0 },
	{ "short ENVELOPE_LOAD", 1, 0, PROC_QUEUE_ENVELOPE_LOAD, -1, 0, 7, 0 },
	{ "long ENVELOPE_WALK", 1, 0, PROC_QUEUE_ENVELOPE_WALK, -1, 0, 1, 0 },
	{ "long CLOSE", 1, 0, PROC_QUEUE_CLOSE, -1, 0, 4, 0 },
	{ "COMMIT without fd", 1, 0, PROC_QUEUE_MESSAGE_COMMIT, -1, 0, 4, 0 },
	{ "COMMIT flag, fd missing", 1, 0, PROC_QUEUE_MESSAGE_COMMIT, -1,
	    IMSGF_HASFD, 4, 0 },
	{ "COMMIT with fd, short", 1, 0, PROC_QUEUE_MESSAGE_COMMIT, -1,
	    IMSGF_HASFD, 3, 1 },
	{ "fd with ENVELOPE_WALK", 1, 0, PROC_QUEUE_ENVELOPE_WALK, -1,
	    IMSGF_HASFD, 0, 1 },
	{ "header len 8", 1, 0, PROC_QUEUE_ENVELOPE_WALK, 8, 0, 0, 0 },
	{ "unknown flag bit", 1, 0, PROC_QUEUE_ENVELOPE_WALK, -1, 2, 0, 0 },
};

/* qtest_begin - a helper in the row's numbering (mode 1: extras), INIT
 * first when the row says so; an INIT row carries version 2 after a
 * good INIT (second INIT), 1 before */
static void
qtest_begin(struct peer *p, const struct peer_bad *b, unsigned char *data)
{
	if (b->type == PROC_QUEUE_INIT)
		memcpy(data, b->init ? "\2\0\0\0" : "\1\0\0\0", 4);
	qtest_start(p, b->mode, 0);
	if (b->init)
		qtest_init(p);
}

/* qtest_privdrop - as root: chroot to a directory and drop to nobody */
static void
qtest_privdrop(void)
{
	struct peer	 p;
	struct passwd		*pw;
	char			 dir[] = "/tmp/qtest-root.XXXXXX", marker[300];
	uint32_t		 want;
	unsigned char		 reply[8];
	int			 fd;

	if (geteuid() != 0) {
		/* the defaults name the spool and _smtpq: not root, unused */
		qtest_start(&p, 0, 0);
		CHECK(qtest_init(&p), "privileges: not root, defaults kept, "
		    "no chroot attempted");
		CHECK(peer_stop(&p) == 0, "privileges: exit 0");
		return;
	}
	if ((pw = getpwnam("nobody")) == NULL || mkdtemp(dir) == NULL) {
		CHECK(0, "privileges: nobody and a temporary directory");
		return;
	}
	want = (uint32_t)pw->pw_uid + 1;
	snprintf(marker, sizeof marker, "%s/qsapi-marker", dir);
	fd = open(marker, O_CREAT | O_WRONLY, 0644);
	if (fd != -1)
		close(fd);
	chmod(dir, 0755);
	qtest.privdrop = qtest.keepprivs = 1;
	queue_api_set_chroot(dir);
	queue_api_set_user("nobody");
	qtest_start(&p, 0, 0);
	CHECK(qtest_init(&p), "privileges: INIT after chroot + setuid");
	peer_send(&p, PROC_QUEUE_MESSAGE_CREATE, NULL, 0);
	memcpy(reply, "\1\0\0\0", 4);
	memcpy(reply + 4, &want, 4);
	CHECK(peer_expect(&p, reply, 8),
	    "privileges: callback runs chrooted, as nobody");
	CHECK(peer_stop(&p) == 0, "privileges: exit 0");

	queue_api_set_user("no-such-user-qsapi");
	qtest_start(&p, 0, 0);
	CHECK(peer_exit(&p) == 1, "privileges: unknown user -> exit 1 at "
	    "once");
	queue_api_set_user(NULL);
	queue_api_set_chroot("/nonexistent/qsapi");
	qtest_start(&p, 0, 0);
	CHECK(peer_exit(&p) == 1, "privileges: bad chroot -> exit 1");
	qtest.privdrop = qtest.keepprivs = 0;
	unlink(marker);
	rmdir(dir);
}

int
main(void)
{
	char	dir[] = "/tmp/qtest-tmp.XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	strlcpy(qtest.tmpdir, dir, sizeof qtest.tmpdir);
	qtest_session();
	qtest_pathform();
	qtest_extras();
	peer_violations(qtest_bads, sizeof qtest_bads / sizeof qtest_bads[0],
	    qtest_begin);
	qtest_privdrop();
	rmdir(dir);
	return test_done();
}
