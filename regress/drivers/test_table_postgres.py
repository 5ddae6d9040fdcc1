"""regress/drivers/test_table_postgres.py -- our table-postgres helper
against a private PostgreSQL server (regress/lib/servers.py).

Every service (the extras' nine and relayhost, string, regex), keys
with quotes, backslashes and SQL in them, FETCH rotation, UPDATE, bad
values (NULL, bytea, 1 MiB), a query with the wrong column count, a
rejected password, and the outage tests of dbtables.DriverTests.
Debian's opensmtpd-extras table-postgres is given the same config and
data as ours: same answers (the rotation included).  Where ours
differs it is on purpose: see man/table-postgres.5, DIFFERENCES.
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
CREATE TABLE blobs (k TEXT, t TEXT, b BYTEA);
INSERT INTO relays VALUES ('example.com', 'smtp+tls://mx.example.com:587');
INSERT INTO strings VALUES ('tag-1');
INSERT INTO regexes VALUES ('^bob@.*\.com$'), ('^postmaster@');
INSERT INTO odd VALUES ('o''brien', 'quote'), ('back\slash', 'backslash'),
    ('x'' OR ''1''=''1', 'injection'), ('%s$1?', 'placeholders'),
    ('semi;colon -- dash', 'semicolon'), ('sp ace"dq', 'space');
INSERT INTO blobs VALUES ('null', NULL, NULL), ('big', repeat('x', 1048576),
    NULL), ('bin', NULL, decode('00ff410a', 'hex'));
GRANT SELECT ON ALL TABLES IN SCHEMA public TO smtpd;
"""

OURS_QUERIES = """\
query_relayhost SELECT url FROM relays WHERE dom=$1
query_string SELECT s FROM strings WHERE s=$1
query_regex SELECT re FROM regexes WHERE $1 ~ re
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


class PostgresDriverTests(dbtables.DriverTests, unittest.TestCase):
    DRIVER = "table-postgres"
    BACKEND = "postgres"
    PROBE = ("userinfo", "vmail", "2000:2000:/var/vmail")

    @classmethod
    def start_server(cls):
        return servers.PostgresServer().__enter__()

    @classmethod
    def fill(cls):
        cls.server.sql(fixtures.SQL_FIXTURE + OURS_FIXTURE)

    @classmethod
    def config(cls, port=None, password=None, **over):
        ci = cls.server.conninfo()
        if port is not None:
            ci = ci.replace("port=%d" % cls.server.port, "port=%d" % port)
        if password is not None:
            ci = ci.replace("password=" + servers.DB_PASSWORD,
                            "password=" + password)
        text = "# table-postgres test configuration\nconninfo %s\n%s%s" % (
            ci, fixtures.SQL_QUERIES.replace("?", "$1"), OURS_QUERIES)
        over.setdefault("query_timeout", dbtables.TIMEOUT)
        for k, v in over.items():
            text += "%s %s\n" % (k, v)
        return text

    def refill(self):
        pass                    # the data directory survives a restart

    # the postmaster's children (one per connection) each lead a
    # process group of their own: stop them one by one, by PID
    def server_pids(self):
        pids = [self.server.proc.pid]
        for e in os.listdir("/proc"):
            if not e.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % e) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.server.proc.pid:
                pids.append(int(e))
        return [p for p in pids if p > 1]

    def freeze(self):
        self.frozen = self.server_pids()
        for p in self.frozen:
            os.kill(p, signal.SIGSTOP)
        for p in self.frozen:
            dbtables.wait_stopped(p)                    # asynchronous

    def thaw(self):
        for p in getattr(self, "frozen", []):
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen = []

    # a request that waits in the server: netaddr sleeps there
    def slow_config(self):
        return self.config(query_timeout=10).replace(
            "query_netaddr SELECT addr FROM netaddrs WHERE addr=$1",
            "query_netaddr SELECT $1::text FROM pg_sleep(30)")

    def send_slow(self, h):
        h.request_nowait(CHECK, "netaddr", b"192.0.2.1")

    def gate_reached(self):
        return self.server.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
            " AND query LIKE '%pg_sleep(30)%' AND usename = 'smtpd';",
            db="postgres").strip() == "1"

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
        a key: bound as $1, never spliced into the SQL."""
        conf = self.write("odd.conf", self.config().replace(
            "query_addrname SELECT name FROM addrnames WHERE addr=$1",
            "query_addrname SELECT v FROM odd WHERE k=$1"))
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
            "query_domain SELECT domain FROM domains WHERE domain=$1",
            "query_domain SELECT upper(domain) FROM domains "
            "WHERE domain=$1"))
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
        """NULL, a 1 MiB value: -1 and a line naming the table; bytea
        comes as its text form; the helper goes on."""
        conf = self.write("values.conf", self.config().replace(
            "query_addrname SELECT name FROM addrnames WHERE addr=$1",
            "query_addrname SELECT t FROM blobs WHERE k=$1").replace(
            "query_mailaddr SELECT addr FROM mailaddrs WHERE addr=$1",
            "query_mailaddr SELECT b FROM blobs WHERE k=$1"))
        h = self.helper(conf)
        self.assertEqual(h.request(LOOKUP, "addrname", b"null"), -1)
        self.assertIn("table spy: postgres: addrname: field 1 is NULL",
                      h.stderr())
        self.assertEqual(h.request(LOOKUP, "addrname", b"big"), -1)
        self.assertIn("over the limit", h.stderr())
        self.assertEqual(h.request(LOOKUP, "mailaddr", b"bin"),
                         (1, "\\x00ff410a"))
        self.assertEqual(self.probe(h), self.want())

    def test_wrong_column_count(self):
        """A query with the wrong column count: refused at start-up."""
        conf = self.write("cols.conf", self.config().replace(
            "SELECT uid, gid, home", "SELECT uid, gid"))
        err = self.start_fails(conf, "returns 2 columns, want 3")
        self.assertIn("query_userinfo", err)
        conf = self.write("sqlerr.conf", self.config().replace(
            "FROM users", "FROM no_such_table"))
        self.start_fails(conf, "no_such_table")

    def test_bad_conninfo(self):
        conf = self.write("ci.conf", self.config().replace(
            "conninfo host=", "conninfo bogus_option=1 host="))
        self.start_fails(conf, "conninfo")
        conf = self.write("noci.conf", "\n".join(
            line for line in self.config().splitlines()
            if not line.startswith("conninfo")) + "\n")
        self.start_fails(conf, "no conninfo")

    def test_conninfo_honoured(self):
        """The unix socket as host, and sslmode=require against a
        server without TLS (a refused connection, logged)."""
        conf = self.write("unix.conf", self.config().replace(
            "host=127.0.0.1", "host=" + self.server.tmp))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), self.want())
        conf = self.write("tls.conf", self.config().replace(
            "host=127.0.0.1", "host=127.0.0.1 sslmode=require"))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("table spy: postgres: connect:", h.stderr())
        self.assertIn("SSL", h.stderr())

    def test_password_rejected(self):
        conf = self.write("pw.conf", self.config(password="wrong"))
        h = self.helper(conf)
        self.assertEqual(self.probe(h), -1)
        self.assertIn("password authentication failed", h.stderr())
        self.assertNotIn("password=wrong", h.stderr())
        self.assert_alive(h)

    def test_slow_query(self):
        """A query that runs longer than query_timeout: -1 within the
        deadline (the server's statement_timeout, set to query_timeout,
        or ours, whichever comes first), and the next request works."""
        conf = self.write("slow.conf", self.config().replace(
            "query_netaddr SELECT addr FROM netaddrs WHERE addr=$1",
            "query_netaddr SELECT $1::text FROM pg_sleep(30)"))
        h = self.helper(conf)
        t0 = time.monotonic()
        self.assertEqual(h.request(CHECK, "netaddr", b"192.0.2.1"), -1)
        self.assertLess(time.monotonic() - t0, dbtables.TIMEOUT + 1.5)
        self.assertRegex(h.stderr(), "table spy: postgres: query: .*("
                         "no answer within 1000 ms|statement timeout)")
        self.assertEqual(self.probe(h), self.want())

    # -- the extras' binary --------------------------------------------
    def test_extras_same_answers(self):
        """Debian's table-postgres and ours, one config, one database:
        the same answers to every request the extras driver serves."""
        extras = drivers.fetch_extras()
        conf = self.write("both.conf", "conninfo %s\n%s" % (
            self.server.conninfo(), fixtures.SQL_QUERIES.replace("?", "$1")))
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
                               conf, self.tmp)
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
