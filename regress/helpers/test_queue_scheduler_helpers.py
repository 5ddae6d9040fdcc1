"""regress/helpers/test_queue_scheduler_helpers.py -- queue-ram and
scheduler-ram as real processes, driven as the 6.8 daemon drives them.

Plays the daemon side of the proc queue and scheduler protocols
(libexec-protocols.md 1, 2, 5, 6): a socketpair, the helper on fd 0
with argv[0] = "queue-proc" / "scheduler-proc" and at most one ARG,
the daemon numbering, every frame built byte for byte here with struct
(never with our C library).  The conversations follow the sequence the
real daemon was observed to send (section 5.3 and 8 item 6), then the
protocol violations that must make a helper exit 1.

Privileges: not root, the helpers run as they are (no chroot).  As
root, the normal runs pass "-nu<user>" (no chroot, drop to an existing
unprivileged user) and one run chroots to a temporary spool; the
helper's /proc entry shows that the drop really happened.
Every helper is stopped by its PID and every wait has a timeout.
"""
import os
import pwd
import socket
import struct
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
from helperproc import BUILD, HASFD, HelperProcess  # noqa: E402

# queue, daemon numbering (section 5.1)
Q_OK, Q_INIT, Q_CLOSE = 0, 2, 3
Q_MSG_CREATE, Q_MSG_DELETE, Q_MSG_COMMIT, Q_MSG_FD_R = 4, 5, 6, 7
Q_ENV_CREATE, Q_ENV_DELETE, Q_ENV_LOAD, Q_ENV_UPDATE, Q_ENV_WALK = \
    8, 9, 10, 11, 12
# the extras numbering of the same and the extras-only operations
QX = dict(corrupt=8, uncorrupt=9, env_create=10, env_delete=11,
          env_load=12, env_update=13, env_walk=14, msg_walk=15)

# scheduler (section 6.1)
S_INIT, S_INSERT, S_COMMIT, S_ROLLBACK, S_UPDATE, S_DELETE = 2, 3, 4, 5, 6, 7
S_HOLD, S_RELEASE, S_BATCH, S_MESSAGES, S_ENVELOPES = 8, 9, 10, 11, 12
S_SCHEDULE, S_REMOVE, S_SUSPEND, S_RESUME = 13, 14, 15, 16
SCHED_REMOVE, SCHED_EXPIRE, SCHED_MDA, SCHED_MTA = 0x01, 0x02, 0x10, 0x20
D_MDA, D_MTA = 0, 1
EF_PENDING, EF_INFLIGHT, EF_SUSPEND, EF_HOLD = 0x10, 0x20, 0x40, 0x80

# struct scheduler_info (56 bytes) and struct evpstate (24 bytes), 3.3
SI = struct.Struct("=QiH2xqqqqq")
EVPSTATE = struct.Struct("=QHH4xq")
assert SI.size == 56 and EVPSTATE.size == 24

ENVELOPE = b"""version: 3
dispatcher: local
type: mda
smtpname: mx.example.org
helo: client.example
hostname: localhost
sockaddr: 127.0.0.1
sender: alice@client.example
rcpt: bob@example.com
dest: bob@example.com
ctime: 1795302356
last-try: 0
last-bounce: 0
ttl: 0
retry: 0
dsn-notify: 0
mda-user: vmail
"""
MESSAGE = (b"Received: from client.example (localhost [127.0.0.1])\r\n"
           b"\tby mx.example.org; Sat, 21 Nov 2026 23:05:56 +0100\r\n"
           b"From: alice@client.example\r\nTo: bob@example.com\r\n"
           b"Subject: test\r\n\r\nHello.\r\n" + b"x" * 150 + b"\r\n")


def drop_arg():
    """The ARG that keeps a root-run helper out of trouble, or None."""
    if os.geteuid() != 0:
        return None
    try:
        return "-nu" + pwd.getpwnam("nobody").pw_name
    except KeyError:
        return "-nu"            # -u '': keep the uid, no chroot


class Helper(HelperProcess):
    """One helper of libexec/ on the far end of a socketpair."""

    def __init__(self, name, argv0, args, logdir, env=None):
        super().__init__(os.path.join(BUILD, "libexec", name),
                         [argv0] + list(args), logdir, env)

    def recv(self):
        """(type, payload, fd or None) of one reply, or None at EOF."""
        reply = self.recv_frame()
        if reply is None:
            return None
        mtype, _, payload, fd = reply
        if mtype != 0:
            raise AssertionError("reply of type %d" % mtype)
        return mtype, payload, fd

    def call(self, mtype, payload=b"", fd=None):
        self.send(mtype, payload, fd)
        reply = self.recv()
        if reply is None:
            raise AssertionError("helper closed the socket:\n" +
                                 self.stderr())
        return reply


def r_of(payload):
    return struct.unpack("=i", payload[:4])[0]


class QueueHelper(Helper):
    def __init__(self, logdir, args=None, env=None):
        if args is None:
            a = drop_arg()
            args = [a] if a else []
        super().__init__("queue-ram", "queue-proc", args, logdir, env)

    def init(self):
        _, p, fd = self.call(Q_INIT, struct.pack("=I", 2))
        assert p == b"" and fd is None, p
        return p

    def create(self):
        _, p, _ = self.call(Q_MSG_CREATE)
        assert len(p) == 8 and r_of(p) == 1, p
        return struct.unpack("=I", p[4:])[0]

    def env_create(self, msgid, text, mtype=Q_ENV_CREATE):
        _, p, _ = self.call(mtype, struct.pack("=I", msgid) + text)
        if r_of(p) != 1:
            assert len(p) == 4, p
            return None
        assert len(p) == 12, p
        return struct.unpack("=Q", p[4:])[0]

    def r(self, mtype, payload=b"", fd=None):
        _, p, _ = self.call(mtype, payload, fd)
        assert len(p) == 4, p
        return r_of(p)

    def load(self, evpid, mtype=Q_ENV_LOAD):
        return self.call(mtype, struct.pack("=Q", evpid))[1]

    def walk(self, mtype=Q_ENV_WALK, payload=b""):
        """[(evpid, bytes)] until -1, counting r == 0 answers."""
        out = []
        for _ in range(1000):
            _, p, _ = self.call(mtype, payload)
            r = r_of(p)
            if r == -1:
                assert len(p) == 4, p
                return out
            if r == 0:
                assert len(p) == 4, p
                continue
            evpid, = struct.unpack("=Q", p[4:12])
            assert len(p) == 12 + r, (r, len(p))
            out.append((evpid, p[12:]))
        raise AssertionError("walk never ended")

    def fd_r(self, msgid):
        _, p, fd = self.call(Q_MSG_FD_R, struct.pack("=I", msgid))
        assert p == b"", p
        return fd


class SchedulerHelper(Helper):
    def __init__(self, logdir, args=None):
        if args is None:
            a = drop_arg()
            args = [a] if a else []
        super().__init__("scheduler-ram", "scheduler-proc", args, logdir)

    def r(self, mtype, payload=b""):
        _, p, _ = self.call(mtype, payload)
        assert len(p) == 4, p
        return r_of(p)

    def n(self, mtype, msgid):
        _, p, _ = self.call(mtype, struct.pack("=I", msgid))
        assert len(p) == 8, p
        return struct.unpack("=Q", p)[0]

    def insert(self, evpid, dtype, creation=None, ttl=345600, retry=0):
        creation = int(time.time()) if creation is None else creation
        return self.r(S_INSERT, SI.pack(evpid, dtype, retry, creation, ttl,
                                        0, 0, 0))

    def batch(self, mask=0x3f, count=10):
        _, p, _ = self.call(S_BATCH, struct.pack("=iQ", mask, count))
        r, delay, n = struct.unpack("=iiQ", p[:16])
        if r <= 0:
            assert len(p) == 16, p
            return r, delay, []
        assert len(p) == 16 + 12 * n, (n, len(p))
        evpids = struct.unpack("=%dQ" % n, p[16:16 + 8 * n])
        types = struct.unpack("=%di" % n, p[16 + 8 * n:])
        return r, delay, sorted(zip(evpids, types))

    def update(self, evpid, dtype, retry, lasttry, creation, ttl=345600):
        _, p, _ = self.call(S_UPDATE, SI.pack(evpid, dtype, retry, creation,
                                              ttl, lasttry, 0, 0))
        if r_of(p) != 1:
            assert len(p) == 4, p
            return None
        assert len(p) == 4 + SI.size, p
        assert p[4 + 14:4 + 16] == b"\0\0", "padding not zero"
        return SI.unpack(p[4:])

    def messages(self, start, size=1024):
        _, p, _ = self.call(S_MESSAGES, struct.pack("=IQ", start, size))
        assert len(p) % 4 == 0, p
        return list(struct.unpack("=%dI" % (len(p) // 4), p))

    def envelopes(self, start, size=256):
        _, p, _ = self.call(S_ENVELOPES, struct.pack("=QQ", start, size))
        assert len(p) % EVPSTATE.size == 0, p
        return [EVPSTATE.unpack(p[i:i + 24]) for i in range(0, len(p), 24)]

    def show_queue(self):
        """What `smtpctl show queue` asks, as the daemon pages it."""
        out, msgid = [], 0
        while True:
            msgids = self.messages(msgid)
            if not msgids:
                return out
            for m in msgids:
                evp = m << 32
                while True:
                    states = self.envelopes(evp)
                    if not states:
                        break
                    # the daemon stops at the end of the message
                    states = [s for s in states if s[0] >> 32 == m]
                    out.extend(states)
                    if not states:
                        break
                    evp = states[-1][0] + 1
            msgid = msgids[-1] + 1


class HelperTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for name in ("queue-ram", "scheduler-ram"):
            if not os.access(os.path.join(BUILD, "libexec", name), os.X_OK):
                raise RuntimeError("%s/libexec/%s is not built" %
                                   (BUILD, name))
        cls.tmp = tempfile.TemporaryDirectory(prefix="qs-helpers.")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def start(self, cls, args=None, **kw):
        h = cls(self.tmp.name, args, **kw)
        self.addCleanup(h.close)
        return h

    def violation(self, h, *frames):
        """Send frames, expect exit 1 and a log line, never a signal."""
        for f in frames:
            try:
                h.send(*f[0], **f[1])
            except (BrokenPipeError, ConnectionResetError):
                break
        status = h.wait()
        self.assertEqual(status, 1, h.stderr())
        self.assertIn("-api: ", h.stderr())
        return h.stderr()


def F(*a, **kw):
    return (a, kw)


class QueueRamTests(HelperTestBase):
    def message_fd(self, content, seek_to=None):
        f = tempfile.TemporaryFile(dir=self.tmp.name)
        self.addCleanup(f.close)
        f.write(content)
        f.flush()
        # the daemon opens the spooled file read-only
        fd = os.open("/proc/self/fd/%d" % f.fileno(), os.O_RDONLY)
        self.addCleanup(lambda: os.close(fd))
        os.lseek(fd, len(content) // 2 if seek_to is None else seek_to, 0)
        return fd

    def test_observed_sequence(self):
        q = self.start(QueueHelper)
        q.init()
        self.assertEqual(q.walk(), [])            # empty queue: -1 at once
        msgid = q.create()
        self.assertNotEqual(msgid, 0)
        rcpt2 = ENVELOPE.replace(b"bob@", b"carol@").replace(
            b"type: mda", b"type: mta")
        e1 = q.env_create(msgid, ENVELOPE)
        e2 = q.env_create(msgid, rcpt2)
        for e in (e1, e2):
            self.assertEqual(e >> 32, msgid)
            self.assertNotEqual(e & 0xffffffff, 0)
        self.assertNotEqual(e1, e2)
        # COMMIT: the fd is not at offset 0; the helper reads it all
        self.assertEqual(q.r(Q_MSG_COMMIT, struct.pack("=I", msgid),
                             fd=self.message_fd(MESSAGE)), 1)
        fd = q.fd_r(msgid)
        self.assertIsNotNone(fd)
        try:
            self.assertEqual(os.lseek(fd, 0, os.SEEK_CUR), 0)
            got = b""
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                got += chunk
            self.assertEqual(got, MESSAGE)
        finally:
            os.close(fd)
        # a second reader gets its own fd, again from offset 0
        fd = q.fd_r(msgid)
        self.assertEqual(os.read(fd, 8), MESSAGE[:8])
        os.close(fd)
        self.assertEqual(q.load(e1), ENVELOPE)
        self.assertEqual(sorted(q.walk()), sorted([(e1, ENVELOPE),
                                                   (e2, rcpt2)]))
        # local delivery done, relay failed temporarily
        self.assertEqual(q.r(Q_ENV_DELETE, struct.pack("=Q", e1)), 1)
        self.assertEqual(q.load(e1), b"")
        updated = rcpt2.replace(b"retry: 0", b"retry: 1") + \
            b"errorline: Network error on destination MXs\n" \
            b"esc-class: 4\nesc-code: 0\n"
        self.assertEqual(q.r(Q_ENV_UPDATE, struct.pack("=Q", e2) + updated),
                         1)
        self.assertEqual(q.load(e2), updated)
        self.assertEqual(q.walk(), [(e2, updated)])
        # the last envelope takes the message with it
        self.assertEqual(q.r(Q_ENV_DELETE, struct.pack("=Q", e2)), 1)
        self.assertIsNone(q.fd_r(msgid))
        self.assertEqual(q.r(Q_ENV_DELETE, struct.pack("=Q", e2)), 0)
        self.assertEqual(q.r(Q_CLOSE), 1)
        q.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(q.wait(), 0, q.stderr())

    def test_rollback_and_binary_envelopes(self):
        q = self.start(QueueHelper)
        q.init()
        msgid = q.create()
        blob = bytes(range(256)) * 8 + b"\0\0\xff"
        e = q.env_create(msgid, blob)
        self.assertEqual(q.load(e), blob)
        self.assertEqual(q.walk(), [])            # not committed yet
        self.assertEqual(q.r(Q_MSG_DELETE, struct.pack("=I", msgid)), 1)
        self.assertEqual(q.load(e), b"")
        self.assertEqual(q.r(Q_MSG_DELETE, struct.pack("=I", msgid)), 0)
        self.assertIsNone(q.env_create(msgid, ENVELOPE))  # unknown msgid
        self.assertIsNone(q.env_create(q.create(), b""))  # empty envelope
        big = q.create()
        self.assertIsNone(q.env_create(big, b"x" * (16384 - 16 - 4)))
        self.assertIsNotNone(q.env_create(big, b"x" * (16384 - 28)))
        self.assertEqual(q.r(Q_MSG_COMMIT, struct.pack("=I", 12345),
                             fd=self.message_fd(b"x")), 0)
        q.sock.close()
        self.assertEqual(q.wait(), 0, q.stderr())

    def test_extras_numbering(self):
        a = drop_arg()
        q = self.start(QueueHelper, ["-X" + a[1:]] if a else ["-X"])
        q.init()
        msgid = q.create()
        e1 = q.env_create(msgid, ENVELOPE, QX["env_create"])
        e2 = q.env_create(msgid, b"two", QX["env_create"])
        self.assertEqual(q.r(Q_MSG_COMMIT, struct.pack("=I", msgid),
                             fd=self.message_fd(MESSAGE, 0)), 1)
        self.assertEqual(q.load(e1, QX["env_load"]), ENVELOPE)
        self.assertEqual(sorted(q.walk(QX["msg_walk"],
                                       struct.pack("=I", msgid))),
                         sorted([(e1, ENVELOPE), (e2, b"two")]))
        self.assertEqual(q.r(QX["corrupt"], struct.pack("=I", msgid)), 1)
        self.assertEqual(q.walk(QX["env_walk"]), [])
        self.assertEqual(q.r(QX["uncorrupt"], struct.pack("=I", msgid)), 1)
        self.assertEqual(len(q.walk(QX["env_walk"])), 2)
        self.assertEqual(q.r(QX["env_delete"], struct.pack("=Q", e1)), 1)
        # 16 does not exist in either numbering
        self.violation(q, F(16))

    def test_violations(self):
        cases = [
            ("wrong version", [F(Q_INIT, struct.pack("=I", 1))]),
            ("short INIT", [F(Q_INIT, b"\2\0\0")]),
            ("request before INIT", [F(Q_MSG_CREATE)]),
            ("unknown type", "init", [F(13)]),
            ("extras-only type", "init", [F(QX["msg_walk"] + 0,
                                            struct.pack("=I", 1))]),
            ("long MESSAGE_CREATE", "init", [F(Q_MSG_CREATE, b"\0")]),
            ("short ENVELOPE_DELETE", "init",
             [F(Q_ENV_DELETE, b"\0" * 7)]),
            ("long ENVELOPE_LOAD", "init", [F(Q_ENV_LOAD, b"\0" * 9)]),
            ("short ENVELOPE_CREATE", "init", [F(Q_ENV_CREATE, b"\0\0")]),
            ("COMMIT without fd", "init",
             [F(Q_MSG_COMMIT, struct.pack("=I", 1))]),
            ("COMMIT flag without fd", "init",
             [F(Q_MSG_COMMIT, struct.pack("=I", 1), flags=HASFD)]),
            ("frame too short", "init", [F(Q_ENV_WALK, length=8)]),
            ("second INIT", "init", [F(Q_INIT, struct.pack("=I", 2))]),
        ]
        for case in cases:
            name, frames = case[0], case[-1]
            with self.subTest(name):
                q = QueueHelper(self.tmp.name)
                try:
                    if case[1] == "init":
                        q.init()
                    err = self.violation(q, *frames)
                    self.assertNotIn("Segmentation", err)
                finally:
                    q.close()

    def test_root_chroot_and_user(self):
        if os.geteuid() != 0:
            # not root: no chroot is attempted and the helper says so
            q = self.start(QueueHelper, ["-v"])
            q.init()
            self.assertIn("not root", q.stderr())
            return
        spool = tempfile.mkdtemp(prefix="spool.", dir=self.tmp.name)
        os.chmod(spool, 0o755)
        user = pwd.getpwnam("nobody")
        # a sanitizer build's leak check needs /proc, absent in a chroot
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + \
            ":detect_leaks=0"
        q = self.start(QueueHelper, ["-c" + spool, "-unobody"], env=env)
        q.init()
        msgid = q.create()
        self.assertIsNotNone(q.env_create(msgid, ENVELOPE))
        self.assertEqual(q.r(Q_MSG_COMMIT, struct.pack("=I", msgid),
                             fd=self.message_fd(MESSAGE)), 1)
        fd = q.fd_r(msgid)                        # memfd: works chrooted
        self.assertEqual(os.read(fd, len(MESSAGE) + 1), MESSAGE)
        os.close(fd)
        pid = q.proc.pid
        self.assertEqual(os.readlink("/proc/%d/root" % pid), spool)
        with open("/proc/%d/status" % pid) as f:
            uids = [ln.split()[1:] for ln in f if ln.startswith("Uid:")][0]
        self.assertEqual(set(uids), {str(user.pw_uid)})
        q.sock.close()
        self.assertEqual(q.wait(), 0, q.stderr())

    def test_root_bad_user(self):
        if os.geteuid() != 0:
            self.skipTest("privilege drop needs root")
        q = self.start(QueueHelper, ["-nuno-such-user-qsapi"])
        self.assertEqual(q.wait(), 1)
        self.assertIn("unknown user", q.stderr())


class SchedulerRamTests(HelperTestBase):
    def test_observed_sequence(self):
        s = self.start(SchedulerHelper)
        _, p, _ = s.call(S_INIT, struct.pack("=I", 2))
        self.assertEqual(p, struct.pack("=i", 1))  # INIT carries r
        msgid = 0x1a2b3c4d
        e1, e2 = msgid << 32 | 0x11, msgid << 32 | 0x22
        now = int(time.time())
        self.assertEqual(s.insert(e1, D_MDA, now), 1)
        self.assertEqual(s.insert(e2, D_MTA, now), 1)
        self.assertEqual(s.insert(e2, D_MTA, now), 0)      # twice
        self.assertEqual(s.messages(0), [])                # still incoming
        self.assertEqual(s.n(S_COMMIT, msgid), 2)
        r, _, got = s.batch()
        self.assertEqual(r, 1)
        self.assertEqual(got, [(e1, SCHED_MDA), (e2, SCHED_MTA)])
        self.assertEqual(s.batch(), (0, -1, []))           # all in flight
        # the relay failed temporarily
        si = s.update(e2, D_MTA, 1, now, now)
        self.assertIsNotNone(si)
        self.assertEqual(si[0], e2)
        self.assertEqual(si[2], 1)
        # SCHED-01: relaying retries at creation + 400 s x 1^2 (the
        # helper's time(3) is the kernel's coarse clock, which may still
        # show the second before ours: it then counts from its now)
        self.assertIn(si[7], (now + 399, now + 400))
        self.assertEqual(s.r(S_DELETE, struct.pack("=Q", e1)), 1)
        self.assertEqual(s.r(S_DELETE, struct.pack("=Q", e1)), 0)
        r, delay, _ = s.batch()
        self.assertEqual(r, 0)
        self.assertTrue(395 <= delay <= 400, delay)
        # smtpctl show queue
        self.assertEqual(s.messages(0), [msgid])
        self.assertEqual(s.messages(msgid + 1), [])
        self.assertEqual(s.show_queue(), [(e2, EF_PENDING, 1, si[7])])
        self.assertEqual(s.envelopes(e2 + 1), [])
        # smtpctl schedule: due now
        self.assertEqual(s.r(S_SCHEDULE, struct.pack("=Q", msgid)), 1)
        self.assertEqual(s.batch()[2], [(e2, SCHED_MTA)])
        self.assertEqual(s.show_queue()[0][1], EF_INFLIGHT)
        s.update(e2, D_MTA, 2, now, now)
        # smtpctl pause envelope / resume envelope
        self.assertEqual(s.r(S_SUSPEND, struct.pack("=Q", e2)), 1)
        self.assertEqual(s.r(S_SUSPEND, struct.pack("=Q", e2)), 0)
        self.assertEqual(s.r(S_SCHEDULE, struct.pack("=Q", e2)), 1)
        self.assertEqual(s.batch(), (0, -1, []))
        self.assertEqual(s.show_queue()[0][1], EF_PENDING | EF_SUSPEND)
        self.assertEqual(s.r(S_RESUME, struct.pack("=Q", e2)), 1)
        self.assertEqual(s.batch()[2], [(e2, SCHED_MTA)])
        s.update(e2, D_MTA, 3, now, now)
        # smtpctl remove: reported once through BATCH as SCHED_REMOVE
        self.assertEqual(s.r(S_REMOVE, struct.pack("=Q", msgid)), 1)
        self.assertEqual(s.show_queue(), [])
        self.assertEqual(s.batch(0x04), (0, -1, []))     # REMOVE masked
        self.assertEqual(s.batch()[2], [(e2, SCHED_REMOVE)])
        self.assertEqual(s.batch(), (0, -1, []))
        self.assertEqual(s.r(S_REMOVE, struct.pack("=Q", msgid)), 0)
        s.sock.close()
        self.assertEqual(s.wait(), 0, s.stderr())

    def test_expire_hold_release_rollback(self):
        s = self.start(SchedulerHelper)
        s.call(S_INIT, struct.pack("=I", 2))
        now = int(time.time())
        # ttl already over: the first batch says EXPIRE
        old = 0x0000beef << 32 | 1
        self.assertEqual(s.insert(old, D_MTA, now - 100, ttl=10), 1)
        self.assertEqual(s.n(S_COMMIT, 0xbeef), 1)
        self.assertEqual(s.batch(SCHED_MTA), (0, -1, []))  # EXPIRE masked
        self.assertEqual(s.batch()[2], [(old, SCHED_EXPIRE)])
        self.assertEqual(s.show_queue(), [])
        # a retry is never scheduled past the expiry
        soon = 0x0000cafe << 32 | 7
        s.insert(soon, D_MTA, now, ttl=60)
        s.n(S_COMMIT, 0xcafe)
        s.batch()
        si = s.update(soon, D_MTA, 1, now, now, ttl=60)
        self.assertEqual(si[7], now + 60)
        self.assertTrue(55 <= s.batch()[1] <= 60)
        self.assertEqual(s.r(S_DELETE, struct.pack("=Q", soon)), 1)
        # HOLD / RELEASE
        mta = 0x00abcdef << 32 | 5
        s.insert(mta, D_MTA, now)
        s.n(S_COMMIT, 0xabcdef)
        self.assertEqual(s.batch()[2], [(mta, SCHED_MTA)])
        self.assertEqual(s.r(S_HOLD, struct.pack("=QQ", mta, 77)), 1)
        self.assertEqual(s.r(S_HOLD, struct.pack("=QQ", mta, 77)), 0)
        self.assertEqual(s.show_queue()[0][1], EF_HOLD)
        self.assertEqual(s.batch(), (0, -1, []))
        self.assertEqual(s.r(S_RELEASE, struct.pack("=iQi", D_MTA, 78, -1)),
                         0)
        self.assertEqual(s.r(S_RELEASE, struct.pack("=iQi", D_MTA, 77, -1)),
                         1)
        self.assertEqual(s.batch(SCHED_MDA), (0, -1, []))  # MTA paused
        self.assertEqual(s.batch(count=1)[2], [(mta, SCHED_MTA)])
        # ROLLBACK drops the incoming envelopes only
        rb = 0x00001234
        s.insert(rb << 32 | 1, D_MDA, now)
        s.insert(rb << 32 | 2, D_MDA, now)
        self.assertEqual(s.n(S_ROLLBACK, rb), 2)
        self.assertEqual(s.n(S_COMMIT, rb), 0)
        # batch count: at most what was asked
        for i in range(1, 6):
            s.insert(0x4444 << 32 | i, D_MDA, now)
        s.n(S_COMMIT, 0x4444)
        self.assertEqual(len(s.batch(count=3)[2]), 3)
        self.assertEqual(len(s.batch(count=3)[2]), 2)
        s.sock.close()
        self.assertEqual(s.wait(), 0, s.stderr())

    def test_violations(self):
        si = SI.pack(1 << 32 | 1, 0, 0, 0, 0, 0, 0, 0)
        cases = [
            ("wrong version", [F(S_INIT, struct.pack("=I", 3))]),
            ("request before INIT", [F(S_BATCH, struct.pack("=iQ", 63, 10))]),
            ("unknown type", "init", [F(17)]),
            ("type 0", "init", [F(0)]),
            ("short INSERT", "init", [F(S_INSERT, si[:55])]),
            ("long UPDATE", "init", [F(S_UPDATE, si + b"\0")]),
            ("short BATCH", "init", [F(S_BATCH, struct.pack("=i", 63))]),
            ("long COMMIT", "init", [F(S_COMMIT, b"\0" * 5)]),
            ("short RELEASE", "init", [F(S_RELEASE, b"\0" * 15)]),
            ("fd with HOLD", "init",
             [F(S_HOLD, b"\0" * 16, fd=os.open("/dev/null", os.O_RDONLY))]),
        ]
        for case in cases:
            name, frames = case[0], case[-1]
            with self.subTest(name):
                s = SchedulerHelper(self.tmp.name)
                try:
                    if case[1] == "init":
                        s.call(S_INIT, struct.pack("=I", 2))
                    self.violation(s, *frames)
                finally:
                    s.close()
                    for f in frames:
                        if "fd" in f[1]:
                            os.close(f[1]["fd"])


if __name__ == "__main__":
    unittest.main()
