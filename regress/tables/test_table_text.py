"""regress/tables/test_table_text.py -- the OpenSMTPD 7.6+ text table
protocol, both ways (issue 10 part 3, TABLE-07, TABLE-08).

  - Our daemon speaking it: a 20-line Python table
    (regress/tables/text_table.py) declared the 7.6 way,
    `table NAME proc:/path`, answers aliases, domains and credentials
    through `smtpctl table` and an SMTP session; our table-sqlite forced
    to the text protocol with `text-sqlite:`; a helper that misbehaves
    (regress/tables/text_bad_helper.py: wrong id, wrong result name,
    empty found|, garbage, a line too long, a NUL byte, two answers,
    death mid-request, no answer, no
    register|ready, an unknown service, nothing registered, an exit at
    start) is a temporary failure, a log line naming the table and a
    restart with backoff, never a dead daemon.
  - Our glue speaking it: every libexec driver that needs no server
    (sqlite, passwd, file, db, getpwnam) under a 7.6-style daemon
    (regress/lib/texthelper.py: socket on fd 0 and fd 1, config| lines),
    and through our table layer (the probe of table_proc_test) in text
    and in imsg with the very same answers.
Every daemon and helper is stopped by PID; every wait is bounded.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
sys.path.insert(0, os.path.join(ROOT, "regress", "drivers"))
from smtpdtest import (BUILD, Smtpd, free_port,  # noqa: E402
                       proc_children, wait_for)
from texthelper import TextHelper  # noqa: E402
import test_table_drivers as drivers  # noqa: E402

PROBE = os.path.join(BUILD, "regress", "unit", "table_proc_test")
FIXTURES = os.path.join(HERE, "fixtures")
TIMEOUT_MS = 5000       # TABLE_PROC_TIMEOUT_MS

RULES = """listen on 127.0.0.1 port %(port)d
action "out" relay host smtp://127.0.0.1:%(dead)d
match from any for domain <%(domains)s> action "out"
"""


def copy_exec(src, dst):
    shutil.copy(src, dst)
    os.chmod(dst, 0o755)
    return dst


def wrapper(d, name, mode, state=None):
    """An executable running text_bad_helper.py in MODE (proc: passes no
    argument)."""
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec python3 %s %s %s\n" % (
            os.path.join(d, "text_bad_helper.py"), mode, state or ""))
    os.chmod(path, 0o755)
    return path


class Fixtures:
    """A world-readable temporary directory with the fixtures."""

    @classmethod
    def make(cls):
        cls.tmp = tempfile.mkdtemp(prefix="table-text.")
        os.chmod(cls.tmp, 0o755)
        d = cls.tmp
        cls.db = os.path.join(d, "t.sqlite")
        drivers.make_sqlite_db(cls.db)
        cls.sqlite_conf = os.path.join(d, "sqlite.conf")
        with open(cls.sqlite_conf, "w") as f:
            f.write(drivers.SQLITE_CONF.format(db=cls.db))
        cls.passwd = os.path.join(d, "passwd")
        with open(cls.passwd, "w") as f:
            f.write(drivers.PASSWD)
        cls.mapfile = os.path.join(d, "map")
        with open(cls.mapfile, "w") as f:
            f.write("postmaster bob@example.com\nexample.com example.com\n"
                    "a|b piped\n")
        cls.hashdb = os.path.join(d, "hashed.db")
        shutil.copy(os.path.join(FIXTURES, "makemap-hash.db"), cls.hashdb)
        for f in os.listdir(d):
            os.chmod(os.path.join(d, f), 0o644)
        cls.libexec = os.path.join(d, "libexec")
        os.mkdir(cls.libexec)
        os.chmod(cls.libexec, 0o755)
        for name in ("table-sqlite", "table-passwd", "table-file",
                     "table-db", "table-getpwnam"):
            copy_exec(os.path.join(BUILD, "libexec", name),
                      os.path.join(cls.libexec, name))
        cls.pytable = copy_exec(os.path.join(HERE, "text_table.py"),
                                os.path.join(d, "text_table.py"))
        copy_exec(os.path.join(HERE, "text_bad_helper.py"),
                  os.path.join(d, "text_bad_helper.py"))


class TextGlue(Fixtures, unittest.TestCase):
    """Our libexec drivers under a 7.6-style daemon."""

    @classmethod
    def setUpClass(cls):
        cls.make()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def helper(self, driver, config):
        args = ["spy"] if config is None else ["spy", config]
        h = TextHelper(os.path.join(BUILD, "libexec", driver), args,
                       self.tmp)
        self.addCleanup(h.close)
        return h

    def converse(self, driver, config, cases):
        h = self.helper(driver, config)
        services = h.handshake()
        self.assertIn("alias", services, h.stderr())
        for op, service, key, want in cases:
            with self.subTest(driver=driver, op=op, service=service,
                              key=key):
                self.assertEqual(h.request(op, service, key), want,
                                 h.stderr())
        self.assertEqual(h.request("update"), "ok", h.stderr())
        self.assertEqual(h.stop(), 0, "EOF: exit 0\n" + h.stderr())
        return h

    def test_sqlite(self):
        self.converse("table-sqlite", self.sqlite_conf, [
            ("check", "domain", "example.com", "found"),
            ("check", "domain", "example.org", "not-found"),
            ("lookup", "alias", "postmaster@example.com",
             "found|bob@example.com, alice@example.net"),
            ("lookup", "credentials", "bob@example.com",
             "found|bob@example.com:" + drivers.HASH),
            ("lookup", "userinfo", "vmail", "found|2000:2000:/var/vmail"),
            ("lookup", "userinfo", "a|b", "not-found"),
            ("lookup", "relayhost", "example.com", "error"),
            ("fetch", "source", None, "found|192.0.2.10"),
            ("fetch", "source", None, "found|192.0.2.11"),
        ])

    def test_passwd(self):
        self.converse("table-passwd", self.passwd, [
            ("lookup", "credentials", "gilles",
             "found|gilles:" + drivers.HASH),
            ("lookup", "userinfo", "eric", "found|1001:1001:/home/eric"),
            ("lookup", "userinfo", "nobody", "not-found"),
            ("check", "credentials", "gilles", "error"),
        ])

    def test_file_db_getpwnam(self):
        self.converse("table-file", self.mapfile, [
            ("lookup", "alias", "postmaster", "found|bob@example.com"),
            ("check", "domain", "example.com", "found"),
            ("lookup", "string", "a|b", "found|piped"),
            ("lookup", "alias", "nobody", "not-found"),
        ])
        self.converse("table-db", self.hashdb, [
            ("lookup", "alias", "foo", "found|bar"),
            ("lookup", "alias", "nosuch", "not-found"),
        ])
        h = self.helper("table-getpwnam", None)
        self.assertEqual(h.handshake(), ["userinfo"], h.stderr())
        self.assertEqual(h.request("lookup", "userinfo", "root")[:8],
                         "found|0:", h.stderr())

    def test_requests_back_to_back(self):
        """Several requests written at once (the protocol allows it, the
        7.8 daemon does not do it): each answered, in order, by id."""
        h = self.helper("table-file", self.mapfile)
        h.handshake()
        h.sock.sendall(b"".join(
            b"table|0.1|1.000000|spy|lookup|alias|%08x|%s\n" % (i, k)
            for i, k in enumerate([b"postmaster", b"nobody", b"a|b"])))
        self.assertEqual([h.line() for _ in range(3)], [
            "lookup-result|00000000|found|bob@example.com",
            "lookup-result|00000001|not-found",
            "lookup-result|00000002|found|piped"], h.stderr())
        self.assertEqual(h.stop(), 0, h.stderr())

    def test_bad_daemon_lines(self):
        """A line that is no request, a wrong protocol version, garbage
        before the handshake: the helper says why and exits 1."""
        for first, second, why in (
                ("config|ready", "table|0.2|1.0|spy|update|1",
                 "unknown protocol version"),
                ("config|ready", "lookup|alias|1|x", "not a table"),
                ("config|ready", "table|0.1|1.0|spy|lookup|alias|1|a\0b",
                 "a NUL byte inside a line"),
                ("config|ready", "table|0.1|1.0|spy|lookup|alias|1|" +
                 "k" * 20000, "a line over"),
                ("config|protocol|0.9", None, "protocol 0.9"),
                ("config", None, "config line without a key")):
            with self.subTest(line=second or first):
                h = self.helper("table-file", self.mapfile)
                h.send(first)
                if second is not None:
                    while h.line() != "register|ready":
                        pass
                    h.send(second)
                self.assertEqual(h.proc.wait(timeout=10), 1, h.stderr())
                self.assertIn(why, h.stderr())

    def test_probe_same_answers_both_protocols(self):
        """The daemon's table layer: imsg and text give the same lines."""
        for backend, config, ops in (
                ("sqlite", self.sqlite_conf, [
                    "check", "domain", "Example.COM",
                    "lookup", "alias", "postmaster@example.com",
                    "lookup", "userinfo", "nobody",
                    "lookup", "relayhost", "example.com",
                    "fetch", "source", "fetch", "source", "update"]),
                ("passwd", self.passwd, [
                    "lookup", "credentials", "Gilles",
                    "lookup", "userinfo", "eric"]),
                ("file", self.mapfile, [
                    "lookup", "alias", "postmaster",
                    "lookup", "string", "a|b"])):
            out = {}
            for proto in ("proc-", "text-"):
                p = subprocess.run([PROBE, "probe", self.libexec,
                                    proto + backend, config] + ops,
                                   cwd=ROOT, capture_output=True,
                                   text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                out[proto] = p.stdout.splitlines()
            with self.subTest(backend=backend):
                self.assertEqual(out["proc-"], out["text-"])
                self.assertEqual(out["text-"][-1], "children none")
                self.assertTrue(any(" -> 1 " in line
                                    for line in out["text-"]), out)


class TextDaemon(Fixtures, unittest.TestCase):
    """Our smtpd speaking the text protocol to its helpers."""

    def setUp(self):
        self.make()
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def daemon(self, tables, domains="pt"):
        port = free_port()
        conf = tables + RULES % {"port": port, "dead": free_port(),
                                 "domains": domains}
        d = Smtpd(conf=conf, args=["-o", "libexec=" + self.libexec])
        self.addCleanup(d.cleanup)
        d.start()
        d.smtp_port = port
        return d

    def q(self, d, *args):
        r = d.ctl("table", *args)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    def rcpt(self, port, rcpt):
        """The reply code to RCPT TO:<rcpt> in a fresh session."""
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            f = s.makefile("rwb")

            def reply():
                while True:
                    line = f.readline()
                    if not line or line[3:4] != b"-":
                        return line[:3].decode()

            def cmd(c):
                f.write(c.encode() + b"\r\n")
                f.flush()
                return reply()
            self.assertEqual(reply(), "220")
            self.assertEqual(cmd("EHLO client.test"), "250")
            self.assertEqual(cmd("MAIL FROM:<a@client.test>"), "250")
            code = cmd("RCPT TO:<%s>" % rcpt)
            cmd("QUIT")
            return code

    def test_python_table_and_text_sqlite(self):
        """A 20-line Python table declared proc:/path, and our sqlite,
        file, passwd, db and getpwnam helpers declared text-NAME:, through
        smtpctl and SMTP."""
        d = self.daemon("table pt proc:%s\ntable sq text-sqlite:%s\n"
                        "table tf text-file:%s\ntable tp text-passwd:%s\n"
                        "table td text-db:%s\ntable tg text-getpwnam\n" % (
                            self.pytable, self.sqlite_conf, self.mapfile,
                            self.passwd, self.hashdb))
        cases = [
            (("lookup", "pt", "alias", "POSTMASTER"), (0, "bob")),
            (("lookup", "pt", "alias", "abuse"),
             (0, "bob, alice@example.net")),
            (("lookup", "pt", "alias", "nobody"), (1, "not found")),
            (("check", "pt", "domain", "example.com"), (0, "found")),
            (("check", "pt", "domain", "example.org"), (1, "not found")),
            (("lookup", "pt", "credentials", "bob"),
             (0, "bob:" + drivers.HASH)),
            (("check", "sq", "domain", "example.net"), (0, "found")),
            (("lookup", "sq", "alias", "postmaster@example.com"),
             (0, "bob@example.com, alice@example.net")),
            (("lookup", "sq", "userinfo", "vmail"),
             (0, "2000:2000:/var/vmail")),
            (("fetch", "sq", "source"), (0, "192.0.2.10")),
            (("lookup", "tf", "alias", "postmaster"),
             (0, "bob@example.com")),
            (("lookup", "tp", "userinfo", "gilles"),
             (0, "1000:1000:/home/gilles")),
            (("lookup", "td", "alias", "foo"), (0, "bar")),
            (("lookup", "tg", "userinfo", "nosuchuser-x"),
             (1, "not found")),
        ]
        self.assertTrue(wait_for(lambda: self.q(d, *cases[0][0])[:2] ==
                                 cases[0][1], 10, 0.1), d.log()[-3000:])
        for args, want in cases:
            with self.subTest(args=args):
                self.assertEqual(self.q(d, *args)[:2], want)
        # a service the helper did not register: refused here, logged
        rc, _, err = self.q(d, "lookup", "pt", "userinfo", "bob")
        self.assertEqual(rc, 2, err)
        self.assertIn("table pt: helper did not register userinfo",
                      d.log())
        r = d.ctl("update", "table", "pt")
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, "command succeeded"), r.stderr)
        # the rule's domain check goes through the Python helper
        self.assertEqual(self.rcpt(d.smtp_port, "x@example.com"), "250")
        self.assertEqual(self.rcpt(d.smtp_port, "x@example.org")[0], "5")
        self.assertNotIn("restart in", d.log())
        self.assertEqual(d.stop(), 0)

    def test_bad_helpers(self):
        """Every misbehaviour: temporary failure, a log line naming the
        table, a restart with backoff; the daemon and its other tables
        unharmed."""
        t = self.tmp
        tables = "".join("table %s proc:%s\n" % (n, wrapper(t, n, m))
                         for n, m in (("b", "ok"), ("nr", "noready"),
                                      ("bs", "badservice"),
                                      ("ex", "exit"), ("ga", "garbage"),
                                      ("no", "none")))
        # a 7.6 helper declared the 6.x way: the log says what to do
        copy_exec(self.pytable, os.path.join(self.libexec, "table-pyt"))
        tables += "table wp pyt:/unused\n"
        d = self.daemon(tables + "table pt proc:%s\n" % self.pytable)
        pid = d.pid

        def healthy():
            return self.q(d, "check", "b", "string", "yes")[:2] == \
                (0, "found")
        self.assertTrue(wait_for(healthy, 10, 0.1), d.log()[-3000:])
        for key, logged in (
                ("wrongid", r"table b: lookup-result for id [0-9a-f]{8} "
                 r"answers the lookup request of id [0-9a-f]{8}"),
                ("wrongop", r"table b: check-result for id [0-9a-f]{8} "
                 r"answers the lookup request"),
                ("empty", r"table b: bad lookup reply: found with an "
                 r"empty value"),
                ("garbage", r"table b: bad lookup reply: unknown result "
                 r"name"),
                ("long", r"table b: helper \S+ pid \d+: sent a line too "
                 r"long"),
                ("nul", r"table b: helper \S+ pid \d+: sent a NUL byte"),
                ("die", r"table b: helper \S+ pid \d+: closed its socket"),
                # the second answer comes with the first or after it
                ("vtwo", r"table b: helper \S+ pid \d+: (sent data nobody "
                 r"asked for|sent a reply to a request never sent)")):
            with self.subTest(key=key):
                rc, out, err = self.q(d, "lookup", "b", "string", key)
                if key == "vtwo":   # the first answer is good
                    self.assertEqual((rc, out), (0, "value-of-vtwo"))
                else:
                    self.assertEqual(rc, 2, out)
                    self.assertIn("temporary failure", err)
                self.assertTrue(wait_for(lambda: "restart in" in d.log()
                                         and re.search(
                                             logged, d.log()), 5, 0.05),
                                d.log()[-3000:])
                # restarted after its delay: answers again
                self.assertTrue(wait_for(healthy, 10, 0.1),
                                d.log()[-3000:])
        # error is a fair answer: a temporary failure, no restart (of
        # table b: the broken tables above keep restarting meanwhile)
        def b_restarts():
            return len(re.findall(r"table b: [^\n]*restart in", d.log()))
        before = b_restarts()
        rc, _, err = self.q(d, "lookup", "b", "string", "error")
        self.assertEqual(rc, 2, err)
        self.assertIn("table b: helper answered error to lookup: db down",
                      d.log())
        self.assertEqual(b_restarts(), before)
        # no answer: the request times out, the helper is replaced
        t0 = time.monotonic()
        rc, _, err = self.q(d, "lookup", "b", "string", "hang")
        waited = time.monotonic() - t0
        self.assertEqual(rc, 2, err)
        self.assertGreater(waited, TIMEOUT_MS / 1000 - 0.5)
        self.assertLess(waited, TIMEOUT_MS / 1000 + 3)
        # broken handshakes, each named
        for name, logged in (
                ("nr", "table nr: helper .* config\\|ready not answered "
                 "within %d ms" % TIMEOUT_MS),
                ("bs", "table bs: bad handshake line: unknown service "
                 "registered"),
                ("ex", "table ex: helper .* closed its socket"),
                ("ga", "table ga: bad handshake line: not a register "
                 "line"),
                ("no", "table no: helper registered no service we use"),
                ("wp", "table wp: if this helper was written for OpenSMTPD "
                 "7.6 or later, it speaks the text protocol: declare its "
                 "table text-NAME:CONFIG or proc:/path")):
            with self.subTest(table=name):
                self.assertTrue(wait_for(lambda: re.search(
                    logged, d.log()), TIMEOUT_MS / 1000 + 5, 0.1),
                    d.log()[-3000:])
                rc, _, err = self.q(d, "check", name, "string", "yes")
                self.assertEqual(rc, 2, err)
        # the daemon and its healthy tables never noticed
        self.assertTrue(wait_for(healthy, 10, 0.1))
        self.assertEqual(self.q(d, "check", "pt", "domain",
                                "example.com")[:2], (0, "found"))
        self.assertEqual(d.pid, pid)
        self.assertEqual(len(d.status()[0]), 7)
        lookup = d.status()[0]["lookup"]["pid"]
        self.assertGreater(len(proc_children(lookup)), 0)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
