"""regress/drivers/test_table_mysql.py -- our table-mysql helper against
a private MariaDB server (regress/lib/servers.py).

Every service (the extras' nine and relayhost, string, regex), keys
with quotes, backslashes and SQL in them, FETCH rotation, UPDATE, bad
values (NULL, NUL bytes, 1 MiB), a query with the wrong column count, a
rejected password, and the outage tests of dbtables.DriverTests.
Debian's opensmtpd-extras table-mysql is given the same config and
data as ours (its server's port in MYSQL_TCP_PORT: it reads no port
key): same answers, the rotation included.  Where ours differs it is on
purpose: see man/table-mysql.5, DIFFERENCES.
"""
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dbtables  # noqa: E402
from dbtables import CHECK, LOOKUP, FETCH, UPDATE, CLOSE  # noqa: E402
import servers  # noqa: E402
import test_table_drivers as drivers  # noqa: E402
import test_table_servers as fixtures  # noqa: E402

OURS_FIXTURE = r"""
CREATE TABLE relays (dom TEXT, url TEXT);
CREATE TABLE strings (s TEXT);
CREATE TABLE regexes (re TEXT);
CREATE TABLE odd (k TEXT, v TEXT);
CREATE TABLE blobs (k TEXT, t LONGTEXT, b BLOB);
INSERT INTO relays VALUES ('example.com', 'smtp+tls://mx.example.com:587');
INSERT INTO strings VALUES ('tag-1');
INSERT INTO regexes VALUES ('^bob@.*\\.com$'), ('^postmaster@');
INSERT INTO odd VALUES ('o''brien', 'quote'), ('back\\slash', 'backslash'),
    ('x'' OR ''1''=''1', 'injection'), ('%s$1?', 'placeholders'),
    ('semi;colon -- dash', 'semicolon'), ('sp ace"dq', 'space');
INSERT INTO blobs VALUES ('null', NULL, NULL), ('big', REPEAT('x', 1048576),
    NULL), ('bin', NULL, UNHEX('00ff410a')), ('hi', NULL, UNHEX('ff41'));
"""

OURS_QUERIES = """\
query_relayhost SELECT url FROM relays WHERE dom=?
query_string SELECT s FROM strings WHERE s=?
query_regex SELECT re FROM regexes WHERE ? REGEXP re
"""

ODD_KEYS = [(b"o'brien", "quote"), (b"back\\slash", "backslash"),
            (b"%s$1?", "placeholders"), (b"semi;colon -- dash", "semicolon"),
            (b'sp ace"dq', "space")]

K_STRING, K_REGEX = 0x400, 0x800

OURS_CASES = [c for c in fixtures.SQL_CASES if c[2] != "relayhost"] + [
    ("lookup relayhost (ours)", LOOKUP, "relayhost", b"example.com",
     (1, "smtp+tls://mx.example.com:587")),
    ("lookup relayhost absent", LOOKUP, "relayhost", b"example.org", 0),
    ("check relayhost (ours)", CHECK, "relayhost", b"example.com", 1),
    ("check string", CHECK, K_STRING, b"tag-1", 1),
    ("check string absent", CHECK, K_STRING, b"tag-2", 0),
    ("check regex", CHECK, K_REGEX, b"bob@example.com", 1),
    ("check regex 2", CHECK, K_REGEX, b"postmaster@example.net", 1),
    ("check regex absent", CHECK, K_REGEX, b"bob@example.net", 0),
    ("check mailaddrmap", CHECK, "mailaddrmap", b"bob", 1),
]


class MySQLDriverTests(dbtables.DriverTests, unittest.TestCase):
    DRIVER = "table-mysql"
    BACKEND = "mysql"
    PROBE = ("userinfo", "vmail", "2000:2000:/var/vmail")

    @classmethod
    def start_server(cls):
        return servers.MariaDBServer().__enter__()

    @classmethod
    def fill(cls):
        cls.server.sql(fixtures.SQL_FIXTURE + OURS_FIXTURE)

    @classmethod
    def config(cls, port=None, password=None, **over):
        text = ("# table-mysql test configuration\nhost 127.0.0.1\n"
                "port %d\nusername %s\npassword %s\ndatabase %s\n%s%s" % (
                    port or cls.server.port, servers.DB_USER,
                    password or servers.DB_PASSWORD, servers.DB_NAME,
                    fixtures.SQL_QUERIES, OURS_QUERIES))
        over.setdefault("query_timeout", dbtables.TIMEOUT)
        for k, v in over.items():
            text += "%s %s\n" % (k, v)
        return text

    def refill(self):
        pass                    # the data directory survives a restart

    # a request that waits in the server: netaddr sleeps there
    def slow_config(self):
        return self.config(query_timeout=10).replace(
            "query_netaddr SELECT addr FROM netaddrs WHERE addr=?",
            "query_netaddr SELECT ? FROM DUAL WHERE SLEEP(30) = 0")

    def send_slow(self, h):
        h.request_nowait(CHECK, "netaddr", b"192.0.2.1")

    def gate_reached(self):
        return self.server.sql(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
            "USER = 'smtpd' AND INFO LIKE '%SLEEP(30)%' "
            "AND INFO NOT LIKE '%PROCESSLIST%';", db="").strip() == "1"

    # -- answers -------------------------------------------------------
    def test_every_service(self):
        """The nine services of extras' config and relayhost, string,
        regex; CHECK with a parameter; UPDATE; CLOSE exits 0."""
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
        """Quotes, backslashes, SQL and placeholders in a key are just
        a key: bound as the parameter, never spliced into the SQL."""
        conf = self.write("odd.conf", self.config().replace(
            "query_addrname SELECT name FROM addrnames WHERE addr=?",
            "query_addrname SELECT v FROM odd WHERE k=?"))
        h = self.helper(conf)
        for key, want in ODD_KEYS:
            with self.subTest(key=key):
                self.assertEqual(h.request(LOOKUP, "addrname", key),
                                 (1, want))
        self.assertEqual(h.request(LOOKUP, "addrname", b"x' OR '1'='1"),
                         (1, "injection"))
        self.assertEqual(h.request(LOOKUP, "addrname", b"' OR ''='"), 0)

    def test_fetch_rotation(self):
        """FETCH source: distinct values in sorted order, wrapping;
        with fetch_source_refresh 1 the list is re-read each time and a
        new row shows up at once."""
        h = self.helper()
        got = [h.request(FETCH, "source") for _ in range(4)]
        self.assertEqual(got, [(1, "192.0.2.10"), (1, "192.0.2.11"),
                               (1, "192.0.2.12"), (1, "192.0.2.10")])
        self.assertEqual(h.request(FETCH, "alias"), -1)
        conf = self.write("refresh.conf", self.config(
            fetch_source_refresh=1))
        h = self.helper(conf)
        self.assertEqual(h.request(FETCH, "source"), (1, "192.0.2.10"))
        self.server.sql("INSERT INTO sources VALUES ('192.0.2.1');")
        self.addCleanup(self.server.sql,
                        "DELETE FROM sources WHERE addr='192.0.2.1';")
        self.assertEqual(h.request(FETCH, "source"), (1, "192.0.2.1"))

    def test_update(self):
        """UPDATE re-reads the config: a new query serves at once; a
        broken config answers 0 and the previous one stays."""
        path = self.write("update.conf", self.config())
        h = self.helper(path)
        self.assertEqual(h.request(LOOKUP, "domain", b"example.com"),
                         (1, "example.com"))
        self.write("update.conf", self.config().replace(
            "query_domain SELECT domain FROM domains WHERE domain=?",
            "query_domain SELECT UPPER(domain) FROM domains "
            "WHERE domain=?"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, h.stderr())
        self.assertEqual(h.request(LOOKUP, "domain", b"example.com"),
                         (1, "EXAMPLE.COM"))
        self.write("update.conf", self.config() + "bogus 1\n")
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.write("update.conf", self.config().replace(
            "SELECT uid, gid, home", "SELECT uid, gid"))
        h.send(UPDATE)
        self.assertEqual(h.result(), 0)
        self.assertIn("returns 2 columns, want 3", h.stderr())
        self.assertEqual(h.request(LOOKUP, "domain", b"example.com"),
                         (1, "EXAMPLE.COM"), "the previous config stays")

    # -- bad input -----------------------------------------------------
    def test_bad_values(self):
        """NULL, NUL bytes, a 1 MiB value: -1 and a line naming the
        table; other bytes are passed on; the helper goes on."""
        conf = self.write("values.conf", self.config().replace(
            "query_addrname SELECT name FROM addrnames WHERE addr=?",
            "query_addrname SELECT t FROM blobs WHERE k=?").replace(
            "query_mailaddr SELECT addr FROM mailaddrs WHERE addr=?",
            "query_mailaddr SELECT b FROM blobs WHERE k=?"))
        h = self.helper(conf)
        self.assertEqual(h.request(LOOKUP, "addrname", b"null"), -1)
        self.assertIn("table spy: mysql: addrname: field 1 is NULL",
                      h.stderr())
        self.assertEqual(h.request(LOOKUP, "addrname", b"big"), -1)
        self.assertIn("over the limit", h.stderr())
        self.assertEqual(h.request(LOOKUP, "mailaddr", b"bin"), -1)
        self.assertIn("holds a NUL byte", h.stderr())
        h.send(LOOKUP, drivers.struct.pack("=iQ", drivers.K["mailaddr"],
                                           0) + b"hi\0")
        self.assertEqual(h.recv(), (drivers.OK, b"\1\0\0\0\xffA\0"))
        self.assertEqual(self.probe(h), self.want())

    def test_wrong_column_count(self):
        """A query with the wrong column count or parameter count, or
        that the server refuses: the helper does not start."""
        conf = self.write("cols.conf", self.config().replace(
            "SELECT uid, gid, home", "SELECT uid, gid"))
        err = self.start_fails(conf, "returns 2 columns, want 3")
        self.assertIn("query_userinfo", err)
        conf = self.write("params.conf", self.config().replace(
            "FROM users WHERE name=?", "FROM users WHERE name=? OR ?"))
        self.start_fails(conf, "takes 2 parameters, want 1")
        conf = self.write("sqlerr.conf", self.config().replace(
            "FROM users", "FROM no_such_table"))
        self.start_fails(conf, "no_such_table")

    def test_socket_and_tls_keys(self):
        """socket (host localhost) reaches the server; ssl_ca makes TLS
        mandatory: a CA file that is not there is a refused connection,
        logged."""
        conf = self.write("unix.conf", self.config().replace(
            "host 127.0.0.1\nport %d" % self.server.port,
            "host localhost\nsocket %s" % self.server.socket))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), self.want())
        conf = self.write("tls.conf", self.config(
            ssl_ca=os.path.join(self.tmp, "no-such-ca.pem")))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("table spy: mysql: connect:", h.stderr())

    def test_password_rejected(self):
        conf = self.write("pw.conf", self.config(password="wrong-pw"))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("Access denied", h.stderr())
        self.assertNotIn("wrong-pw", h.stderr())
        self.assert_alive(h)

    def test_slow_query(self):
        """A query that runs longer than query_timeout: -1 within the
        deadline, and the next request works (a new connection)."""
        conf = self.write("slow.conf", self.config().replace(
            "query_netaddr SELECT addr FROM netaddrs WHERE addr=?",
            "query_netaddr SELECT ? FROM DUAL WHERE SLEEP(30) = 0"))
        h = self.helper(conf)
        t0 = time.monotonic()
        self.assertEqual(h.request(CHECK, "netaddr", b"192.0.2.1"), -1)
        self.assertLess(time.monotonic() - t0, dbtables.TIMEOUT + 1.5)
        self.assertIn("table spy: mysql: query:", h.stderr())
        self.assertEqual(self.probe(h), self.want())

    # -- the extras' binary --------------------------------------------
    def test_extras_same_answers(self):
        """Debian's table-mysql and ours, one config, one database: the
        same answers to every request the extras driver serves."""
        extras = drivers.fetch_extras()
        conf = self.write("both.conf", "host 127.0.0.1\nusername %s\n"
                          "password %s\ndatabase %s\n%s" % (
                              servers.DB_USER, servers.DB_PASSWORD,
                              servers.DB_NAME, fixtures.SQL_QUERIES))
        env = dict(os.environ, **self.server.client_env())
        cases = fixtures.SQL_CASES + [
            ("fetch 1", FETCH, "source", None, (1, "192.0.2.10")),
            ("fetch 2", FETCH, "source", None, (1, "192.0.2.11")),
            ("fetch 3", FETCH, "source", None, (1, "192.0.2.12")),
            ("fetch 4", FETCH, "source", None, (1, "192.0.2.10")),
            ("fetch alias", FETCH, "alias", None, -1),
        ]
        answers = {}
        for impl, bindir in (("ours", dbtables.OURS), ("extras", extras)):
            h = drivers.Helper(os.path.join(bindir, self.DRIVER), "spy",
                               conf, self.tmp, env=env)
            self.addCleanup(h.close)
            h.open()
            self.assertEqual(h.recv(), (drivers.OK, b""), h.stderr())
            answers[impl] = [h.request(m, s, k) for _, m, s, k, _ in cases]
            h.send(UPDATE)
            answers[impl].append(h.result())
        self.assertEqual(answers["ours"], answers["extras"])
        self.assertEqual(answers["ours"], [c[4] for c in cases] + [1])


if __name__ == "__main__":
    unittest.main()
