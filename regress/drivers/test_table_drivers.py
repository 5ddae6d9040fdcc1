"""regress/drivers/test_table_drivers.py -- table helpers, ours vs extras.

Plays the daemon side of the proc table protocol exactly as OpenSMTPD
6.8's lookup process does (libexec-protocols.md 1.2 and 4): a
socketpair, the helper on fd 0 with argv[0] = the table name and
argv[1] = the config path, OPEN with the 2052-byte table_open_params
(version 2), then CHECK/LOOKUP/FETCH/UPDATE/CLOSE.  The same fixtures
(an sqlite db, a passwd file) are served by our obj/libexec/table-sqlite
and table-passwd and by Debian's opensmtpd-extras binaries of the same
names; both must give the answers of the spec's section 8, items 2-4.

The extras package is fetched with `apt-get download` into
$SMTPD_BUILD/cache/ and unpacked with `dpkg -x`; if that is impossible
the tests fail with a message saying so (never a silent skip).
Every helper is stopped by its PID and every wait has a timeout.
"""
import os
import sqlite3
import struct
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
from helperproc import BUILD, HelperProcess  # noqa: E402
from debfetch import fetch_unpacked  # noqa: E402

OK, OPEN, CLOSE, UPDATE, CHECK, LOOKUP, FETCH = 0, 2, 3, 4, 5, 6, 7
K = dict(alias=0x001, domain=0x002, credentials=0x004, netaddr=0x008,
         userinfo=0x010, source=0x020, mailaddr=0x040, addrname=0x080,
         mailaddrmap=0x100, relayhost=0x200)

HASH = "$2b$08$ANGFKBL.BnDLL0bUdU3s6.OsBw.0HB7pxlbEb8sAUMp7UQmHTL9XS"


def make_sqlite_db(path):
    """The sqlite fixture every table-sqlite test queries (SQLITE_CONF)."""
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE domains (domain TEXT);
        CREATE TABLE virtuals (key TEXT, value TEXT);
        CREATE TABLE credentials (email TEXT, password TEXT);
        CREATE TABLE netaddrs (addr TEXT);
        CREATE TABLE users (name TEXT, uid INTEGER, gid INTEGER,
                            home TEXT);
        CREATE TABLE senders (user TEXT, addr TEXT);
        CREATE TABLE sources (addr TEXT);
        INSERT INTO domains VALUES ('example.com'), ('example.net');
        INSERT INTO virtuals VALUES
            ('postmaster@example.com', 'bob@example.com'),
            ('postmaster@example.com', 'alice@example.net'),
            ('vmail', 'vmail');
        INSERT INTO netaddrs VALUES ('192.0.2.0/24');
        INSERT INTO users VALUES ('vmail', 2000, 2000, '/var/vmail');
        INSERT INTO senders VALUES ('bob', 'bob@example.com'),
                                   ('bob', '@example.net');
        INSERT INTO sources VALUES ('192.0.2.10'), ('192.0.2.11');
    """)
    con.execute("INSERT INTO credentials VALUES (?, ?)",
                ("bob@example.com", HASH))
    con.commit()
    con.close()


def fetch_extras():
    """Directory holding Debian's opensmtpd-extras helpers, or raise."""
    return os.path.dirname(fetch_unpacked(
        "opensmtpd-extras", "usr/libexec/opensmtpd/table-sqlite"))


class Helper(HelperProcess):
    """One table helper on the far end of a socketpair, daemon style."""

    def __init__(self, path, tname, config, logdir, env=None):
        args = [tname] if config is None else [tname, config]
        super().__init__(path, args, logdir, env)

    def recv(self):
        """(type, payload) of one reply, or None at EOF."""
        reply = self.recv_frame()
        if reply is None:
            return None
        mtype, flags, payload, _ = reply
        if flags:
            raise AssertionError("bad reply header: flags %#x" % flags)
        return mtype, payload

    def open(self, name=b"spy", version=2, size=2052):
        params = struct.pack("=I", version) + name.ljust(2048, b"\0")
        self.send(OPEN, params[:size])

    def request(self, mtype, service, key=None, params=()):
        p = struct.pack("=iQ", K.get(service, service) if isinstance(
            service, str) else service, len(params))
        for k, v in params:
            p += k + b"\0" + v + b"\0"
        if key is not None:
            p += key + b"\0"
        self.send(mtype, p)
        return self.result()

    def request_nowait(self, mtype, service, key):
        self.send(mtype, struct.pack("=iQ", K[service], 0) + key + b"\0")

    def result(self):
        """r, or (1, value) when a value follows."""
        reply = self.recv()
        if reply is None:
            raise AssertionError("helper closed the socket")
        mtype, payload = reply
        if mtype != OK or len(payload) < 4:
            raise AssertionError("bad reply %r %r" % (mtype, payload))
        r, = struct.unpack("=i", payload[:4])
        rest = payload[4:]
        if r != 1 or not rest:
            if rest:
                raise AssertionError("value after r=%d: %r" % (r, rest))
            return r
        if not rest.endswith(b"\0") or b"\0" in rest[:-1]:
            raise AssertionError("bad value %r" % rest)
        return (1, rest[:-1].decode())


SQLITE_CONF = """\
# table-sqlite test configuration
dbpath {db}
query_alias SELECT value FROM virtuals WHERE key=? ORDER BY rowid
query_domain: SELECT domain FROM domains WHERE domain=?
query_credentials SELECT email, password FROM credentials WHERE email=?
query_netaddr SELECT addr FROM netaddrs WHERE addr=?
query_userinfo SELECT uid, gid, home FROM users WHERE name=?
query_mailaddrmap SELECT addr FROM senders WHERE user=? ORDER BY rowid
fetch_source SELECT addr FROM sources ORDER BY rowid
"""

PASSWD = """\
gilles:{hash}:1000:1000:Gilles:/home/gilles:/bin/sh
eric:{hash}:1001:1001::/home/eric:/bin/sh:userdb_quota_rule=*:storage=1G
""".format(hash=HASH)

SQLITE_CASES = [
    ("check domain present", CHECK, "domain", b"example.com", (), 1),
    ("check domain absent", CHECK, "domain", b"example.org", (), 0),
    ("lookup domain", LOOKUP, "domain", b"example.net", (),
     (1, "example.net")),
    ("lookup alias joined", LOOKUP, "alias", b"postmaster@example.com", (),
     (1, "bob@example.com, alice@example.net")),
    ("lookup alias single", LOOKUP, "alias", b"vmail", (), (1, "vmail")),
    ("lookup alias missing", LOOKUP, "alias", b"nobody", (), 0),
    ("lookup credentials", LOOKUP, "credentials", b"bob@example.com", (),
     (1, "bob@example.com:" + HASH)),
    ("lookup userinfo", LOOKUP, "userinfo", b"vmail", (),
     (1, "2000:2000:/var/vmail")),
    ("check netaddr", CHECK, "netaddr", b"192.0.2.0/24", (), 1),
    ("check netaddr absent", CHECK, "netaddr", b"198.51.100.1", (), 0),
    ("lookup mailaddrmap", LOOKUP, "mailaddrmap", b"bob", (),
     (1, "bob@example.com, @example.net")),
    ("lookup with a parameter", LOOKUP, "userinfo", b"vmail",
     ((b"foo", b"bar"),), (1, "2000:2000:/var/vmail")),
    ("lookup relayhost", LOOKUP, "relayhost", b"example.com", (), -1),
    ("check mailaddr unconfigured", CHECK, "mailaddr", b"a@b", (), -1),
    ("lookup addrname unconfigured", LOOKUP, "addrname", b"192.0.2.1", (),
     -1),
]

PASSWD_CASES = [
    ("credentials", LOOKUP, "credentials", b"gilles", (),
     (1, "gilles:" + HASH)),
    ("userinfo", LOOKUP, "userinfo", b"gilles", (),
     (1, "1000:1000:/home/gilles")),
    ("userinfo extra fields", LOOKUP, "userinfo", b"eric", (),
     (1, "1001:1001:/home/eric")),
    ("unknown user", LOOKUP, "userinfo", b"nobody", (), 0),
    ("unknown user credentials", LOOKUP, "credentials", b"nobody", (), 0),
    ("check", CHECK, "credentials", b"gilles", (), -1),
    ("lookup domain", LOOKUP, "domain", b"gilles", (), -1),
    ("lookup alias", LOOKUP, "alias", b"gilles", (), -1),
]


class TableDriverTests(unittest.TestCase):
    """Our helpers and the extras helpers, one fixture, same answers."""

    @classmethod
    def setUpClass(cls):
        cls.ours = os.path.join(BUILD, "libexec")
        for name in ("table-sqlite", "table-passwd"):
            if not os.access(os.path.join(cls.ours, name), os.X_OK):
                raise RuntimeError("%s/%s is not built" % (cls.ours, name))
        cls.extras = fetch_extras()
        cls.tmp = tempfile.TemporaryDirectory(prefix="table-drivers.")
        d = cls.tmp.name
        cls.db = os.path.join(d, "table.db")
        make_sqlite_db(cls.db)
        cls.sqlite_conf = cls.write("sqlite.conf", SQLITE_CONF.format(
            db=cls.db))
        cls.badcols_conf = cls.write("badcols.conf", SQLITE_CONF.format(
            db=cls.db).replace("SELECT uid, gid, home", "SELECT uid, gid"))
        cls.passwd = cls.write("passwd", PASSWD)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def impls(self):
        return (("ours", self.ours), ("extras", self.extras))

    def start(self, bindir, name, config, tname="spy"):
        h = Helper(os.path.join(bindir, name), tname, config, self.tmp.name)
        self.addCleanup(h.close)
        return h

    def opened(self, bindir, name, config):
        h = self.start(bindir, name, config)
        h.open()
        reply = h.recv()
        self.assertEqual(reply, (OK, b""), "OPEN -> empty OK\n" +
                         h.stderr())
        return h

    def run_cases(self, name, config, cases):
        for impl, bindir in self.impls():
            h = self.opened(bindir, name, config)
            for what, mtype, service, key, params, want in cases:
                with self.subTest(impl=impl, case=what):
                    self.assertEqual(h.request(mtype, service, key, params),
                                     want, h.stderr())
            with self.subTest(impl=impl, case="update"):
                h.send(UPDATE)
                self.assertEqual(h.result(), 1)
            with self.subTest(impl=impl, case="close"):
                h.send(CLOSE)
                self.assertEqual(h.wait(), 0)

    def test_sqlite_answers(self):
        self.run_cases("table-sqlite", self.sqlite_conf, SQLITE_CASES)

    def test_sqlite_fetch_rotation(self):
        for impl, bindir in self.impls():
            h = self.opened(bindir, "table-sqlite", self.sqlite_conf)
            got = [h.request(FETCH, "source") for _ in range(3)]
            self.assertEqual(got, [(1, "192.0.2.10"), (1, "192.0.2.11"),
                                   (1, "192.0.2.10")], impl)
            self.assertEqual(h.request(FETCH, "alias"), -1, impl)

    def test_sqlite_fetch_sorted_distinct(self):
        """Rows out of order and repeated: both serve the distinct
        values in sorted order (extras keep them in a dict)."""
        db = os.path.join(self.tmp.name, "unsorted.db")
        con = sqlite3.connect(db)
        con.executescript("CREATE TABLE sources (addr TEXT);"
                          "INSERT INTO sources VALUES ('192.0.2.11'),"
                          "('192.0.2.10'), ('192.0.2.11'), ('192.0.2.12');")
        con.commit()
        con.close()
        conf = self.write("unsorted.conf", "dbpath %s\nfetch_source "
                          "SELECT addr FROM sources ORDER BY rowid\n" % db)
        for impl, bindir in self.impls():
            h = self.opened(bindir, "table-sqlite", conf)
            got = [h.request(FETCH, "source") for _ in range(4)]
            self.assertEqual(got, [(1, "192.0.2.10"), (1, "192.0.2.11"),
                                   (1, "192.0.2.12"), (1, "192.0.2.10")],
                             impl)

    def test_sqlite_eof_exits_zero(self):
        for impl, bindir in self.impls():
            h = self.opened(bindir, "table-sqlite", self.sqlite_conf)
            self.assertEqual(h.request(CHECK, "domain", b"example.com"), 1)
            self.assertEqual(h.stop(), 0, impl)

    def test_sqlite_wrong_column_count(self):
        for impl, bindir in self.impls():
            h = self.start(bindir, "table-sqlite", self.badcols_conf)
            try:
                h.open()
                self.assertIsNone(h.recv(), impl + ": no reply expected")
            except OSError:
                pass            # it may be gone before OPEN is written
            self.assertNotEqual(h.wait(), 0, impl + ": load must fail")
            self.assertGreater(h.status, 0, impl + ": no crash")

    def test_passwd_answers(self):
        self.run_cases("table-passwd", self.passwd, PASSWD_CASES)

    def test_passwd_fetch(self):
        for impl, bindir in self.impls():
            h = self.opened(bindir, "table-passwd", self.passwd)
            self.assertEqual(h.request(FETCH, "credentials"), -1, impl)
            self.assertEqual(h.request(FETCH, "source"), -1, impl)

    def negative(self, send):
        """Each implementation sees a protocol violation: exit 1."""
        for name, config in (("table-sqlite", self.sqlite_conf),
                             ("table-passwd", self.passwd)):
            for impl, bindir in self.impls():
                with self.subTest(impl=impl, driver=name):
                    h = self.start(bindir, name, config)
                    send(h)
                    status = h.wait()
                    self.assertGreater(status, 0,
                                       "exit status %d\n%s" % (
                                           status, h.stderr()))

    def test_negative_version_1(self):
        self.negative(lambda h: h.open(version=1))

    def test_negative_short_open(self):
        self.negative(lambda h: h.open(size=2048))

    def test_negative_unknown_type(self):
        def send(h):
            h.open()
            h.recv()
            h.send(42)
        self.negative(send)

    def test_negative_key_without_nul(self):
        def send(h):
            h.open()
            h.recv()
            h.send(CHECK, struct.pack("=iQ", K["domain"], 0) +
                   b"example.com")
        self.negative(send)

    def test_ours_bad_frames(self):
        """Malformed input the extras would not survive: ours exits 1."""
        cases = [
            ("frame len 8", lambda h: h.send(CHECK, b"", length=8)),
            ("request before OPEN",
             lambda h: h.request_nowait(CHECK, "domain", b"x")),
            ("nparams huge", lambda h: (h.open(), h.recv(), h.send(
                CHECK, struct.pack("=iQ", 2, 2**64 - 1) + b"k\0"))),
            ("trailing garbage", lambda h: (h.open(), h.recv(), h.send(
                LOOKUP, struct.pack("=iQ", 2, 0) + b"k\0zz\0"))),
            ("truncated service", lambda h: (h.open(), h.recv(), h.send(
                LOOKUP, b"\x02\x00"))),
        ]
        for what, send in cases:
            for name, config in (("table-sqlite", self.sqlite_conf),
                                 ("table-passwd", self.passwd)):
                with self.subTest(case=what, driver=name):
                    h = self.start(self.ours, name, config)
                    send(h)
                    self.assertEqual(h.wait(), 1, h.stderr())

    def test_ours_usage(self):
        """Our helpers refuse a missing argument or a bad file at start."""
        for name in ("table-sqlite", "table-passwd"):
            for config in (None, os.path.join(self.tmp.name, "missing")):
                with self.subTest(driver=name, config=config):
                    h = self.start(self.ours, name, config)
                    self.assertEqual(h.wait(), 1, h.stderr())


if __name__ == "__main__":
    unittest.main()
