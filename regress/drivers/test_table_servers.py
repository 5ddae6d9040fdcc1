"""regress/drivers/test_table_servers.py -- extras helpers on real servers.

Debian's opensmtpd-extras table-redis, table-postgres and table-mysql
(fetched as test_table_drivers.py does) answer look-ups from a real
server started for the test by regress/lib/servers.py: PostgreSQL,
Redis and MariaDB, each in a temp dir, on loopback, stopped by PID.
For each driver: its config file (keys as the binaries read them), a
fixture for every service the driver supports, then the answers

  - through the 6.8-style daemon client of test_table_drivers.py
    (found, not found, values, FETCH rotation, unsupported service -1,
    UPDATE 1), and
  - through the daemon's own proc backend (smtpd/table/table_proc.c)
    in the probe mode of obj/regress/unit/table_proc_test, as
    regress/tables/test_table_proc.py does;

and what happens when the server goes away mid-run: the helper's
answers (recorded below, per driver), recovery once the server is
back, and our backend turning it into -1 (temporary failure) with no
crash and no child left.

Facts these tests pin (Debian opensmtpd-extras 6.7.1):
  - table-redis never reads its config file (its config loop stops at
    once), so it always talks to 127.0.0.1:6379, database 0, without a
    password, with the default queries "GET <service>:%s".  Its server
    therefore runs in a private network namespace (servers.py
    PrivateNetwork).  A missing key answers -1 to LOOKUP, 0 to CHECK;
    FETCH and mailaddrmap are always -1.
  - table-mysql passes port 0 and no socket to libmariadb, which then
    takes the port from MYSQL_TCP_PORT in the environment it inherits.
  - table-postgres and table-mysql FETCH rotate over the distinct
    values in sorted order, whatever the query's ORDER BY.
  - table-postgres dies of SIGSEGV on FETCH when its server was killed
    (a libpq error without SQLSTATE).
"""
import contextlib
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
sys.path.insert(0, HERE)
import servers  # noqa: E402
import test_table_drivers as drivers  # noqa: E402

BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
PROBE = os.path.join(BUILD, "regress", "unit", "table_proc_test")
HASH = drivers.HASH
CHECK, LOOKUP, FETCH, UPDATE = (drivers.CHECK, drivers.LOOKUP,
                                drivers.FETCH, drivers.UPDATE)
GATE_WAIT = 10          # seconds for a helper's request to reach a server
PROBE_TIMEOUT = 60

# -- fixtures ----------------------------------------------------------

SQL_FIXTURE = """
CREATE TABLE domains (domain VARCHAR(255));
CREATE TABLE virtuals (k VARCHAR(255), v VARCHAR(255), n INT);
CREATE TABLE credentials (email VARCHAR(255), password VARCHAR(255));
CREATE TABLE netaddrs (addr VARCHAR(255));
CREATE TABLE users (name VARCHAR(255), uid INT, gid INT, home VARCHAR(255));
CREATE TABLE senders (u VARCHAR(255), addr VARCHAR(255), n INT);
CREATE TABLE sources (addr VARCHAR(255));
CREATE TABLE mailaddrs (addr VARCHAR(255));
CREATE TABLE addrnames (addr VARCHAR(255), name VARCHAR(255));
INSERT INTO domains VALUES ('example.com'), ('example.net');
INSERT INTO virtuals VALUES
    ('postmaster@example.com', 'bob@example.com', 1),
    ('postmaster@example.com', 'alice@example.net', 2);
INSERT INTO credentials VALUES ('bob@example.com', '{hash}');
INSERT INTO netaddrs VALUES ('192.0.2.0/24');
INSERT INTO users VALUES ('vmail', 2000, 2000, '/var/vmail');
INSERT INTO senders VALUES ('bob', 'bob@example.com', 1),
                           ('bob', '@example.net', 2);
INSERT INTO sources VALUES ('192.0.2.11'), ('192.0.2.10'), ('192.0.2.12');
INSERT INTO mailaddrs VALUES ('bob@example.com');
INSERT INTO addrnames VALUES ('192.0.2.1', 'mx.example.com');
""".format(hash=HASH)

# ? is the key; table-postgres wants $1.  fetch_source asks DESC on
# purpose: the helpers sort anyway.
SQL_QUERIES = """\
query_alias SELECT v FROM virtuals WHERE k=? ORDER BY n
query_domain SELECT domain FROM domains WHERE domain=?
query_credentials SELECT email, password FROM credentials WHERE email=?
query_netaddr SELECT addr FROM netaddrs WHERE addr=?
query_userinfo SELECT uid, gid, home FROM users WHERE name=?
query_mailaddr SELECT addr FROM mailaddrs WHERE addr=?
query_addrname SELECT name FROM addrnames WHERE addr=?
query_source SELECT addr FROM sources WHERE addr=?
query_mailaddrmap SELECT addr FROM senders WHERE u=? ORDER BY n
fetch_source SELECT addr FROM sources ORDER BY addr DESC
"""

# what the man page calls the defaults; table-redis uses them anyway
REDIS_FIXTURE = [
    ("domain:example.com", "example.com"),
    ("domain:example.net", "example.net"),
    ("alias:postmaster@example.com", "bob@example.com, alice@example.net"),
    ("credentials:bob@example.com", "bob@example.com:" + HASH),
    ("userinfo:vmail", "2000:2000:/var/vmail"),
    ("netaddr:192.0.2.0/24", "192.0.2.0/24"),
    ("mailaddr:bob@example.com", "bob@example.com"),
    ("addrname:192.0.2.1", "mx.example.com"),
    ("source:192.0.2.10", "192.0.2.10"),
]
REDIS_CONF = """\
# table-redis(5) keys; Debian's binary does not read them (see above)
master 127.0.0.1
master_port 6379
database 0
query_alias GET alias:%s
query_domain GET domain:%s
query_credentials GET credentials:%s
query_netaddr GET netaddr:%s
query_userinfo GET userinfo:%s
query_source GET source:%s
query_mailaddr GET mailaddr:%s
query_addrname GET addrname:%s
"""

# (what, request, service, key, expected) through the 6.8 client
COMMON_CASES = [
    ("check domain", CHECK, "domain", b"example.com", 1),
    ("check domain absent", CHECK, "domain", b"example.org", 0),
    ("lookup domain", LOOKUP, "domain", b"example.net",
     (1, "example.net")),
    ("lookup alias", LOOKUP, "alias", b"postmaster@example.com",
     (1, "bob@example.com, alice@example.net")),
    ("lookup credentials", LOOKUP, "credentials", b"bob@example.com",
     (1, "bob@example.com:" + HASH)),
    ("lookup userinfo", LOOKUP, "userinfo", b"vmail",
     (1, "2000:2000:/var/vmail")),
    ("check netaddr", CHECK, "netaddr", b"192.0.2.0/24", 1),
    ("check netaddr absent", CHECK, "netaddr", b"198.51.100.1", 0),
    ("check mailaddr", CHECK, "mailaddr", b"bob@example.com", 1),
    ("check mailaddr absent", CHECK, "mailaddr", b"eve@example.com", 0),
    ("lookup addrname", LOOKUP, "addrname", b"192.0.2.1",
     (1, "mx.example.com")),
    ("lookup source", LOOKUP, "source", b"192.0.2.10", (1, "192.0.2.10")),
    ("lookup relayhost", LOOKUP, "relayhost", b"example.com", -1),
    ("check relayhost", CHECK, "relayhost", b"example.com", -1),
    ("check with a parameter", CHECK, "domain", b"example.com", 1),
]

SQL_CASES = COMMON_CASES + [
    ("lookup domain absent", LOOKUP, "domain", b"example.org", 0),
    ("lookup alias absent", LOOKUP, "alias", b"nobody", 0),
    ("lookup credentials absent", LOOKUP, "credentials", b"nobody", 0),
    ("lookup userinfo absent", LOOKUP, "userinfo", b"nobody", 0),
    ("lookup addrname absent", LOOKUP, "addrname", b"192.0.2.2", 0),
    ("lookup mailaddrmap", LOOKUP, "mailaddrmap", b"bob",
     (1, "bob@example.com, @example.net")),
    ("lookup mailaddrmap absent", LOOKUP, "mailaddrmap", b"nobody", 0),
]

REDIS_CASES = COMMON_CASES + [
    # a missing key is a nil reply: CHECK 0, but LOOKUP -1
    ("lookup domain absent", LOOKUP, "domain", b"example.org", -1),
    ("lookup alias absent", LOOKUP, "alias", b"nobody", -1),
    ("check alias absent", CHECK, "alias", b"nobody", 0),
    ("lookup credentials absent", LOOKUP, "credentials", b"nobody", -1),
    ("lookup userinfo absent", LOOKUP, "userinfo", b"nobody", -1),
    ("lookup addrname absent", LOOKUP, "addrname", b"192.0.2.2", -1),
    ("lookup netaddr", LOOKUP, "netaddr", b"192.0.2.0/24",
     (1, "192.0.2.0/24")),
    ("lookup mailaddrmap", LOOKUP, "mailaddrmap", b"bob", -1),
    ("check mailaddrmap", CHECK, "mailaddrmap", b"bob", -1),
]

# through our proc backend: (op, service, key) and the probe's lines
PROBE_OPS = [
    ("check", "domain", "Example.COM"),
    ("check", "domain", "example.org"),
    ("lookup", "alias", "postmaster@example.com"),
    ("lookup", "credentials", "bob@example.com"),
    ("lookup", "userinfo", "vmail"),
    ("check", "netaddr", "192.0.2.0/24"),
    ("check", "mailaddr", "bob@example.com"),
    ("lookup", "addrname", "192.0.2.1"),
    ("lookup", "relayhost", "example.com"),
]
PROBE_WANT = [
    "check domain Example.COM -> 1",
    "check domain example.org -> 0",
    "lookup alias postmaster@example.com -> 1 "
    "bob@example.com, alice@example.net",
    "lookup credentials bob@example.com -> 1 bob@example.com:" + HASH,
    "lookup userinfo vmail -> 1 2000:2000:/var/vmail",
    "check netaddr 192.0.2.0/24 -> 1",
    "check mailaddr bob@example.com -> 1",
    "lookup addrname 192.0.2.1 -> 1 mx.example.com",
    "lookup relayhost example.com -> -1",
]
SQL_PROBE_OPS = PROBE_OPS + [
    ("lookup", "userinfo", "nobody"),
    ("lookup", "mailaddrmap", "bob"),
    ("fetch", "source"), ("fetch", "source"), ("fetch", "source"),
    ("fetch", "source"),
    ("update",),
]
SQL_PROBE_WANT = PROBE_WANT + [
    "lookup userinfo nobody -> 0",
    "lookup mailaddrmap bob -> 1 bob@example.com, @example.net",
    "fetch source -> 1 192.0.2.10",
    "fetch source -> 1 192.0.2.11",
    "fetch source -> 1 192.0.2.12",
    "fetch source -> 1 192.0.2.10",
    "update -> 1",
    "children none",
]
REDIS_PROBE_OPS = PROBE_OPS + [
    ("lookup", "userinfo", "nobody"),
    ("lookup", "mailaddrmap", "bob"),
    ("fetch", "source"),
    ("update",),
]
REDIS_PROBE_WANT = PROBE_WANT + [
    "lookup userinfo nobody -> -1",
    "lookup mailaddrmap bob -> -1",
    "fetch source -> -1",
    "update -> 1",
    "children none",
]

# after the server went away: every request is a temporary failure
DOWN_OPS = [("check", "domain", "example.com"),
            ("lookup", "userinfo", "vmail"),
            ("fetch", "source")]
DOWN_WANT = ["check domain example.com -> -1",
             "lookup userinfo vmail -> -1",
             "fetch source -> -1",
             "children none"]


class ServerTableBase:
    """What every driver's tests share; subclasses say how to fill the
    server, write the config, and hold a helper's request (gate)."""

    DRIVER = None               # table-redis ...
    BACKEND = None              # the smtpd.conf backend name: redis ...
    SERVER = None               # servers.RedisServer ...
    CASES = ()
    PROBE_OPS = PROBE_OPS
    PROBE_WANT = PROBE_WANT

    @classmethod
    def setUpClass(cls):
        if not os.access(PROBE, os.X_OK):
            raise RuntimeError("%s is not built" % PROBE)
        cls.extras = drivers.fetch_extras()
        cls.stack = contextlib.ExitStack()
        try:
            cls.enter_server()
            cls.fill()
            cls.conf = cls.write("table.conf", cls.config())
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    @classmethod
    def enter_server(cls):
        cls.server = cls.stack.enter_context(cls.SERVER())

    @classmethod
    def write(cls, name, text):
        path = cls.server.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def env(cls):
        """The environment the helper inherits from the daemon."""
        return dict(os.environ)

    # -- the server goes and comes back ------------------------------
    def restore(self):
        """Bring the server back (with its data) for the next test."""
        if not self.server.running():
            self.server.start()
            self.refill()

    def refill(self):
        pass

    # -- drivers -----------------------------------------------------
    def helper(self, config=None):
        h = drivers.Helper(os.path.join(self.extras, self.DRIVER), "spy",
                           config or self.conf, self.server.tmp,
                           env=self.env())
        self.addCleanup(h.close)
        h.open()
        self.assertEqual(h.recv(), (drivers.OK, b""),
                         "OPEN -> empty OK\n" + h.stderr())
        return h

    def probe(self, ops, config=None, wait=None):
        """Run the probe; wait(proc) may act while it runs."""
        args = [PROBE, "probe", self.extras, self.BACKEND,
                config or self.conf]
        for op in ops:
            args += list(op)
        p = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=self.env())
        try:
            if wait is not None:
                wait(p)
            out, err = p.communicate(timeout=PROBE_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=PROBE_TIMEOUT)
        self.assertEqual(p.returncode, 0, out + err)
        return out.splitlines(), err

    # -- tests -------------------------------------------------------
    def test_answers(self):
        """Every supported service through the 6.8 client."""
        h = self.helper()
        for what, mtype, service, key, want in self.CASES:
            params = ((b"foo", b"bar"),) if "parameter" in what else ()
            with self.subTest(case=what):
                self.assertEqual(h.request(mtype, service, key, params),
                                 want, h.stderr())
        h.send(UPDATE)
        self.assertEqual(h.result(), 1, "update\n" + h.stderr())
        h.send(drivers.CLOSE)
        self.assertEqual(h.wait(), 0, "close: exit 0\n" + h.stderr())

    def test_proc_backend(self):
        """The same answers as the daemon's proc backend sees them."""
        got, err = self.probe(self.PROBE_OPS)
        self.assertEqual(got, self.PROBE_WANT, err)

    def test_server_stopped_client(self):
        """Stop the server between two requests; restart it."""
        self.addCleanup(self.restore)
        h = self.helper()
        self.assertEqual(h.request(CHECK, "domain", b"example.com"), 1)
        self.server.stop()
        for i in range(3):
            self.assertEqual(h.request(CHECK, "domain", b"example.com"),
                             -1, "request %d with the server down\n%s" % (
                                 i, h.stderr()))
        self.assertEqual(h.request(LOOKUP, "userinfo", b"vmail"), -1)
        h.send(UPDATE)
        self.assertEqual(h.result(), 0, "update with the server down")
        self.assertIsNone(h.proc.poll(), "the helper is still there")
        self.restore()
        self.assertEqual(h.request(CHECK, "domain", b"example.com"), 1,
                         "reconnected after restart\n" + h.stderr())
        self.assertEqual(h.request(LOOKUP, "userinfo", b"vmail"),
                         (1, "2000:2000:/var/vmail"))

    def test_server_down_at_start(self):
        """No server when the helper starts: it exits ("could not
        connect"); our backend answers -1 and reaps it."""
        self.addCleanup(self.restore)
        self.server.stop()
        got, err = self.probe(DOWN_OPS)
        self.assertEqual(got, DOWN_WANT, err)
        self.assertIn("could not connect", err)
        self.assertIn("table probe: helper", err)

    def test_server_stopped_mid_request(self):
        """The server goes away while a helper's request waits in it:
        -1 for that request and those after, no crash, no child left."""
        self.addCleanup(self.restore)
        config, ops, want = self.gate_setup()

        def act(p):
            for _ in range(int(GATE_WAIT / 0.05)):
                if p.poll() is not None:
                    return
                if self.gate_reached():
                    break
                time.sleep(0.05)
            else:
                self.gate_release()
                self.fail("the helper's request never reached the server")
            self.gate_release()
        got, err = self.probe(ops, config=config, wait=act)
        self.assertEqual(got, want, err)
        self.assertFalse(self.server.running())


class SQLTableBase(ServerTableBase):
    CASES = SQL_CASES
    PROBE_OPS = SQL_PROBE_OPS
    PROBE_WANT = SQL_PROBE_WANT
    PLACEHOLDER = "?"
    SLEEP = None                # a query for netaddr that waits 30 s

    @classmethod
    def queries(cls):
        return SQL_QUERIES.replace("?", cls.PLACEHOLDER)

    def test_fetch_rotation(self):
        """FETCH source: distinct values, sorted, wrapping around."""
        h = self.helper()
        got = [h.request(FETCH, "source") for _ in range(4)]
        self.assertEqual(got, [(1, "192.0.2.10"), (1, "192.0.2.11"),
                               (1, "192.0.2.12"), (1, "192.0.2.10")])
        self.assertEqual(h.request(FETCH, "alias"), -1)

    def gate_setup(self):
        """netaddr sleeps in the server; the server is stopped then."""
        config = self.write("gate.conf", self.config().replace(
            self.queries().splitlines()[3], "query_netaddr " + self.SLEEP))
        ops = [("lookup", "userinfo", "vmail"),
               ("check", "netaddr", "192.0.2.1")] + DOWN_OPS
        want = ["lookup userinfo vmail -> 1 2000:2000:/var/vmail",
                "check netaddr 192.0.2.1 -> -1"] + DOWN_WANT
        return config, ops, want

    def gate_release(self):
        self.server.stop()


class PostgresTableTests(SQLTableBase, unittest.TestCase):
    DRIVER = "table-postgres"
    BACKEND = "postgres"
    SERVER = servers.PostgresServer
    PLACEHOLDER = "$1"
    SLEEP = "SELECT $1::text FROM pg_sleep(30)"

    @classmethod
    def fill(cls):
        cls.server.sql(SQL_FIXTURE + "GRANT SELECT ON ALL TABLES IN SCHEMA "
                       "public TO %s;\n" % servers.DB_USER)

    @classmethod
    def config(cls):
        return "conninfo %s\n%s" % (cls.server.conninfo(), cls.queries())

    def gate_reached(self):
        return self.server.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
            " AND query LIKE '%pg_sleep(30)%' AND usename = 'smtpd';",
            db="postgres").strip() == "1"

    def test_fetch_after_server_killed(self):
        """Debian's table-postgres dies (SIGSEGV) on FETCH after its
        server was killed; our backend answers -1 and reaps it."""
        self.addCleanup(self.restore)
        config = self.write("refresh.conf", self.config() +
                            "fetch_source_refresh 1\n")
        h = self.helper(config)
        self.assertEqual(h.request(FETCH, "source"), (1, "192.0.2.10"))
        self.server.kill()
        # within fetch_source_refresh (1 s) of the first FETCH the driver
        # answers from its cache without asking the server: wait it out
        time.sleep(1.2)
        with self.assertRaises(AssertionError):
            h.request(FETCH, "source")
        self.assertEqual(h.wait(), -11, "extras: SIGSEGV\n" + h.stderr())
        # through our backend: the FETCH itself waits in the server,
        # which is killed then
        self.restore()

        def act(p):
            for _ in range(int(GATE_WAIT / 0.05)):
                if p.poll() is not None or self.gate_reached():
                    break
                time.sleep(0.05)
            self.server.kill()
        gate = self.write("gate-fetch.conf", self.config().replace(
            "fetch_source SELECT addr FROM sources ORDER BY addr DESC",
            "fetch_source SELECT addr FROM sources, pg_sleep(30)"))
        got, err = self.probe([("lookup", "userinfo", "vmail"),
                               ("fetch", "source"),
                               ("check", "domain", "example.com")],
                              config=gate, wait=act)
        self.assertEqual(got, ["lookup userinfo vmail -> 1 "
                               "2000:2000:/var/vmail",
                               "fetch source -> -1",
                               "check domain example.com -> -1",
                               "children none"], err)
        self.assertIn("signal 11", err)


class MySQLTableTests(SQLTableBase, unittest.TestCase):
    DRIVER = "table-mysql"
    BACKEND = "mysql"
    SERVER = servers.MariaDBServer
    SLEEP = "SELECT ? FROM DUAL WHERE SLEEP(30) = 0"

    @classmethod
    def fill(cls):
        cls.server.sql(SQL_FIXTURE)

    @classmethod
    def config(cls):
        return ("host 127.0.0.1\nusername %s\npassword %s\ndatabase %s\n%s"
                % (servers.DB_USER, servers.DB_PASSWORD, servers.DB_NAME,
                   cls.queries()))

    @classmethod
    def env(cls):
        return dict(os.environ, **cls.server.client_env())

    def gate_reached(self):
        return self.server.sql(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
            "USER = 'smtpd' AND INFO LIKE '%SLEEP(30)%' "
            "AND INFO NOT LIKE '%PROCESSLIST%';", db="").strip() == "1"


@unittest.skipUnless(os.geteuid() == 0, "table-redis's fixed address "
                     "needs a private network namespace, which needs root")
class RedisTableTests(ServerTableBase, unittest.TestCase):
    DRIVER = "table-redis"
    BACKEND = "redis"
    CASES = REDIS_CASES
    PROBE_OPS = REDIS_PROBE_OPS
    PROBE_WANT = REDIS_PROBE_WANT

    @classmethod
    def enter_server(cls):
        # the helper ignores its config: 127.0.0.1:6379, db 0, no password
        cls.stack.enter_context(servers.PrivateNetwork())
        cls.server = cls.stack.enter_context(servers.RedisServer(
            port=6379, password=None, db=0))

    @classmethod
    def fill(cls):
        for k, v in REDIS_FIXTURE:
            cls.server.cmd("SET", k, v)

    def refill(self):
        self.fill()

    @classmethod
    def config(cls):
        return REDIS_CONF

    def test_config_ignored(self):
        """Debian's table-redis does not read its config: a wrong port,
        a bad value and foreign queries change nothing."""
        config = self.write("ignored.conf", "master_port 1\nbogus\n"
                            "database 3\nquery_domain SISMEMBER x %s\n")
        h = self.helper(config)
        self.assertEqual(h.request(CHECK, "domain", b"example.com"), 1)
        self.assertEqual(h.request(LOOKUP, "domain", b"example.net"),
                         (1, "example.net"))
        self.assertIn("127.0.0.1:6379", h.stderr())

    def test_fetch(self):
        h = self.helper()
        self.assertEqual(h.request(FETCH, "source"), -1)
        self.assertEqual(h.request(FETCH, "alias"), -1)

    def gate_setup(self):
        """Redis queries cannot be chosen: freeze the server before the
        helper starts (the kernel still accepts its connection), see its
        first request wait unread, then kill the server (a crash)."""
        self.server.freeze()
        ops = [("lookup", "userinfo", "vmail")] + DOWN_OPS
        want = ["lookup userinfo vmail -> -1"] + DOWN_WANT
        return self.conf, ops, want

    def gate_reached(self):
        return self.server.pending_requests() > 0

    def gate_release(self):
        self.server.kill()


if __name__ == "__main__":
    unittest.main()
