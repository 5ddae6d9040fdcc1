"""regress/drivers/test_table_redis.py -- our table-redis helper against
a private Redis server (regress/lib/servers.py: own port, unix socket,
password, database 1).

Every key of the config honoured (master, master_port, a unix socket,
slave and slave_port when the master is gone, database, password),
every service the default "GET <service>:%s" queries and the
table-redis(5) examples serve (strings, hashes, lists, sets), reply
shapes (nil, partial records, integers, wrong types, NUL bytes, 1 MiB),
keys with odd characters, FETCH rotation, UPDATE, and the outage tests
of dbtables.DriverTests.  Debian's opensmtpd-extras table-redis reads no
config (always 127.0.0.1:6379, database 0): as root, both run in a
private network namespace against one server there, and answer alike
except where ours is documented to differ (man/table-redis.5).
"""
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dbtables  # noqa: E402
from dbtables import CHECK, LOOKUP, FETCH, UPDATE, CLOSE  # noqa: E402
import servers  # noqa: E402
import test_table_drivers as drivers  # noqa: E402
import test_table_servers as fixtures  # noqa: E402

K_STRING = 0x400
BIG = "x" * (1 << 20)

OURS_FIXTURE = [
    ("SADD", "sources", "192.0.2.11", "192.0.2.10", "192.0.2.12"),
    ("RPUSH", "senders:bob", "bob@example.com", "@example.net"),
    ("SET", "relayhost:example.com", "smtp+tls://mx.example.com:587"),
    ("SADD", "strings", "tag-1"),
    ("HSET", "user:foo", "uid", "1001", "gid", "1002", "maildir",
     "/mail/foo"),
    ("HSET", "user:half", "uid", "1003"),
    ("HSET", "user:bad", "uid", "x", "gid", "1", "maildir", "/m"),
    ("HSET", "user:foo", "login", "foo", "passwd", "$2b$08$hash"),
    ("RPUSH", "aliases:foo@example.net", "foo", "bar"),
    ("SADD", "mailaddrs", "foo@example.net"),
    ("SET", "domain:o'brien", "quote"),
    ("SET", "domain:back\\slash", "backslash"),
    ("SET", "domain:sp ace\"dq", "space"),
    ("SET", "domain:%s%%d", "percent"),
    ("LPUSH", "domain:list", "x"),
    ("SET", "domain:nul", "a\0b"),
    ("SET", "domain:big", BIG),
    ("SET", "domain:count", "7"),
]

OURS_QUERIES = """\
query_mailaddrmap LRANGE senders:%s 0 -1
query_relayhost GET relayhost:%s
query_string SISMEMBER strings %s
fetch_source SMEMBERS sources
"""

OURS_CASES = [c for c in fixtures.REDIS_CASES
              if "absent" not in c[0] and "mailaddrmap" not in c[0]
              and "relayhost" not in c[0]] + [
    # a missing key is "not found", not an error (extras: -1)
    ("lookup domain absent", LOOKUP, "domain", b"example.org", 0),
    ("lookup alias absent", LOOKUP, "alias", b"nobody", 0),
    ("check alias absent", CHECK, "alias", b"nobody", 0),
    ("lookup credentials absent", LOOKUP, "credentials", b"nobody", 0),
    ("lookup userinfo absent", LOOKUP, "userinfo", b"nobody", 0),
    ("lookup mailaddrmap", LOOKUP, "mailaddrmap", b"bob",
     (1, "bob@example.com, @example.net")),
    ("lookup mailaddrmap absent", LOOKUP, "mailaddrmap", b"nobody", 0),
    ("lookup relayhost", LOOKUP, "relayhost", b"example.com",
     (1, "smtp+tls://mx.example.com:587")),
    ("check string", CHECK, K_STRING, b"tag-1", 1),
    ("check string absent", CHECK, K_STRING, b"tag-2", 0),
    ("lookup regex: no query", LOOKUP, 0x800, b"x", -1),
]


class RedisDriverTests(dbtables.DriverTests, unittest.TestCase):
    DRIVER = "table-redis"
    BACKEND = "redis"
    PROBE = ("userinfo", "vmail", "2000:2000:/var/vmail")

    @classmethod
    def start_server(cls):
        return servers.RedisServer().__enter__()

    @classmethod
    def fill(cls):
        for k, v in fixtures.REDIS_FIXTURE:
            cls.server.cmd("SET", k, v)
        # redis-cli takes arguments as given: NUL bytes and 1 MiB go
        # through a pipe of RESP instead
        cls.resp([c for c in OURS_FIXTURE])

    @classmethod
    def resp(cls, commands):
        """Send commands as raw RESP over TCP (binary-safe)."""
        import socket
        out = b""
        for c in [("AUTH", servers.DB_PASSWORD), ("SELECT", "1")] + list(
                commands):
            out += b"*%d\r\n" % len(c)
            for a in c:
                a = a.encode("latin-1")
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        with socket.create_connection(("127.0.0.1", cls.server.port),
                                      timeout=10) as s:
            s.sendall(out + b"*1\r\n$4\r\nQUIT\r\n")
            while s.recv(65536):
                pass

    def refill(self):
        self.fill()             # the server keeps nothing on disk

    @classmethod
    def config(cls, port=None, password=None, **over):
        text = ("# table-redis test configuration\n"
                "master 127.0.0.1\nmaster_port %d\ndatabase 1\n"
                "password %s\n%s" % (
                    port or cls.server.port,
                    password or servers.DB_PASSWORD, OURS_QUERIES))
        over.setdefault("query_timeout", dbtables.TIMEOUT)
        for k, v in over.items():
            text += "%s %s\n" % (k, v)
        return text

    # -- answers -------------------------------------------------------
    def test_every_service(self):
        h = self.helper()
        for what, mtype, service, key, want in OURS_CASES:
            params = ((b"foo", b"bar"),) if "parameter" in what else ()
            with self.subTest(case=what):
                self.assertEqual(h.request(mtype, service, key, params),
                                 want, h.stderr())
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        h.send(CLOSE)
        self.assertEqual(h.wait(), 0, h.stderr())

    def test_odd_keys(self):
        """A key is one argument of the command, whatever it holds."""
        h = self.helper()
        for key, want in ((b"o'brien", "quote"), (b"back\\slash",
                          "backslash"), (b'sp ace"dq', "space"),
                          (b"%s%%d", "percent")):
            with self.subTest(key=key):
                self.assertEqual(h.request(LOOKUP, "domain", key),
                                 (1, want))
        self.assertEqual(h.request(LOOKUP, "domain", b"o'brien x"), 0)

    def test_reply_shapes(self):
        """table-redis(5)'s examples: hashes, lists, sets; a partial
        record, a non-numeric uid, a record with too many fields, an
        integer to a LOOKUP, a key of the wrong type, NUL bytes and 1 MiB
        are -1 with a line naming the table; the helper goes on."""
        conf = self.write("shapes.conf", self.config(
            query_userinfo="HMGET user:%s uid gid maildir",
            query_credentials="HMGET user:%s login passwd",
            query_alias="LRANGE aliases:%s 0 -1",
            query_mailaddr="SISMEMBER mailaddrs %s",
            query_addrname="HMGET user:%s uid gid").replace(
                "fetch_source SMEMBERS sources", "fetch_source GET nothing"))
        h = self.helper(conf)
        cases = [
            (LOOKUP, "userinfo", b"foo", (1, "1001:1002:/mail/foo")),
            (LOOKUP, "userinfo", b"nobody", 0),
            (LOOKUP, "userinfo", b"half", -1),
            (LOOKUP, "userinfo", b"bad", -1),
            (LOOKUP, "credentials", b"foo", (1, "foo:$2b$08$hash")),
            (LOOKUP, "alias", b"foo@example.net", (1, "foo, bar")),
            (LOOKUP, "alias", b"bar@example.net", 0),
            (CHECK, "mailaddr", b"foo@example.net", 1),
            (CHECK, "mailaddr", b"bar@example.net", 0),
            (LOOKUP, "mailaddr", b"foo@example.net", -1),
            (LOOKUP, "domain", b"list", -1),
            (CHECK, "domain", b"list", -1),
            (LOOKUP, "domain", b"nul", -1),
            (LOOKUP, "domain", b"big", -1),
            (LOOKUP, "domain", b"count", (1, "7")),
            (LOOKUP, "addrname", b"foo", -1),
            (FETCH, "source", None, 0),
        ]
        for mtype, service, key, want in cases:
            with self.subTest(service=service, key=key):
                self.assertEqual(h.request(mtype, service, key), want,
                                 h.stderr())
        err = h.stderr()
        for line in ("table spy: redis: userinfo: some fields of the "
                     "record are missing",
                     "table spy: redis: userinfo: userinfo wants a numeric",
                     "an integer reply answers CHECK only",
                     "WRONGTYPE", "holds a NUL byte", "over the limit",
                     "addrname: 2 fields for addrname, want 1"):
            self.assertIn(line, err)
        self.assertEqual(h.request(LOOKUP, "userinfo", b"foo"),
                         (1, "1001:1002:/mail/foo"), "still serving")

    def test_fetch_rotation(self):
        h = self.helper()
        got = [h.request(FETCH, "source") for _ in range(4)]
        self.assertEqual(got, [(1, "192.0.2.10"), (1, "192.0.2.11"),
                               (1, "192.0.2.12"), (1, "192.0.2.10")])
        self.assertEqual(h.request(FETCH, "alias"), -1)

    def test_unix_socket_and_database(self):
        """master unix:/path; database 2 holds other data."""
        conf = self.write("unix.conf", self.config().replace(
            "master 127.0.0.1", "master unix:" + self.server.socket))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), self.want())
        self.server.cmd("-n", "2", "SET", "userinfo:vmail", "1:1:/db2")
        self.addCleanup(self.server.cmd, "-n", "2", "FLUSHDB")
        conf = self.write("db2.conf", self.config().replace(
            "database 1", "database 2"))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), (1, "1:1:/db2"))

    def test_slave(self):
        """The master does not answer: the slave serves."""
        conf = self.write("slave.conf", self.config(
            port=dbtables.closed_port()) + "slave 127.0.0.1\n"
            "slave_port %d\n" % self.server.port)
        h = self.helper(conf)
        self.assertEqual(self.probe(h), self.want())
        self.assertIn("connect to master", h.stderr())

    def test_update(self):
        path = self.write("update.conf", self.config())
        h = self.helper(path)
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.com"),
                         (1, "smtp+tls://mx.example.com:587"))
        self.write("update.conf", self.config().replace(
            "GET relayhost:%s", "GET domain:%s"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.com"),
                         (1, "example.com"))
        self.write("update.conf", self.config(query_domain="GET %d"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.write("update.conf", self.config(password="wrong"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.assertEqual(h.request(LOOKUP, "relayhost", b"example.com"),
                         (1, "example.com"), "the previous config stays")

    # -- bad input -----------------------------------------------------
    def test_bad_queries(self):
        self.start_fails(self.write("pct.conf", self.config(
            query_domain="GET domain:%d")), "query_domain")
        self.start_fails(self.write("port.conf", self.config().replace(
            "master_port %d" % self.server.port, "master_port 70000")),
            "master_port")
        self.start_fails(self.write("db.conf", self.config().replace(
            "database 1", "database -1")), "database")
        self.start_fails(self.write("sp.conf", self.config() +
                                    "slave_port 1\n"), "slave_port")

    def test_password_rejected(self):
        conf = self.write("pw.conf", self.config(password="wrong-pw"))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("table spy: redis: AUTH refused", h.stderr())
        self.assertNotIn("wrong-pw", h.stderr())
        self.assert_alive(h)

    # -- the extras' binary --------------------------------------------
    @unittest.skipUnless(os.geteuid() == 0, "extras' table-redis only "
                         "reaches 127.0.0.1:6379: a private network "
                         "namespace, which needs root")
    def test_extras_same_answers(self):
        """Debian's table-redis and ours, one config, one server: the
        same answers, except a missing key (extras -1, ours 0)."""
        extras = drivers.fetch_extras()
        differ = {"lookup domain absent", "lookup alias absent",
                  "lookup credentials absent", "lookup userinfo absent",
                  "lookup addrname absent"}
        with servers.PrivateNetwork(), servers.RedisServer(
                port=6379, password=None, db=0) as rd:
            for k, v in fixtures.REDIS_FIXTURE:
                rd.cmd("SET", k, v)
            conf = self.write("both.conf", fixtures.REDIS_CONF)
            answers = {}
            for impl, bindir in (("ours", dbtables.OURS),
                                 ("extras", extras)):
                h = drivers.Helper(os.path.join(bindir, self.DRIVER),
                                   "spy", conf, self.tmp)
                self.addCleanup(h.close)
                h.open()
                self.assertEqual(h.recv(), (drivers.OK, b""), h.stderr())
                answers[impl] = {c[0]: h.request(c[1], c[2], c[3])
                                 for c in fixtures.REDIS_CASES}
                h.close()
        for what, _, _, _, want in fixtures.REDIS_CASES:
            with self.subTest(case=what):
                self.assertEqual(answers["extras"][what], want)
                self.assertEqual(answers["ours"][what],
                                 0 if what in differ else want)


if __name__ == "__main__":
    unittest.main()
