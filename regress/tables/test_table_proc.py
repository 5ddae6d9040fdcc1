"""regress/tables/test_table_proc.py -- helpers through our proc backend.

Runs table-sqlite and table-passwd, ours (obj/libexec) and Debian's
opensmtpd-extras binaries (fetched as regress/drivers does), through the
daemon's own proc table backend (smtpd/table/table_proc.c), using the
probe mode of obj/regress/unit/table_proc_test.  Both implementations
must give the same answers, as seen by the daemon: keys lower-cased,
values validated, unsupported services a temporary failure (-1), and no
child process left after close.
"""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))
sys.path.insert(0, os.path.join(ROOT, "regress", "drivers"))
import test_table_drivers as drivers  # noqa: E402  (fetch_extras, fixtures)

PROBE = os.path.join(BUILD, "regress", "unit", "table_proc_test")

SQLITE_OPS = [
    ("check", "domain", "Example.COM"),
    ("check", "domain", "example.org"),
    ("lookup", "alias", "postmaster@example.com"),
    ("lookup", "credentials", "bob@example.com"),
    ("lookup", "userinfo", "vmail"),
    ("lookup", "mailaddrmap", "bob"),
    ("lookup", "relayhost", "example.com"),
    ("fetch", "source"),
    ("fetch", "source"),
    ("fetch", "source"),
    ("update",),
]

SQLITE_WANT = [
    "check domain Example.COM -> 1",
    "check domain example.org -> 0",
    "lookup alias postmaster@example.com -> 1 "
    "bob@example.com, alice@example.net",
    "lookup credentials bob@example.com -> 1 bob@example.com:"
    + drivers.HASH,
    "lookup userinfo vmail -> 1 2000:2000:/var/vmail",
    "lookup mailaddrmap bob -> 1 bob@example.com, @example.net",
    "lookup relayhost example.com -> -1",
    "fetch source -> 1 192.0.2.10",
    "fetch source -> 1 192.0.2.11",
    "fetch source -> 1 192.0.2.10",
    "update -> 1",
    "children none",
]

PASSWD_OPS = [
    ("lookup", "credentials", "Gilles"),
    ("lookup", "userinfo", "gilles"),
    ("lookup", "userinfo", "eric"),
    ("lookup", "userinfo", "nobody"),
    ("check", "credentials", "gilles"),
    ("lookup", "domain", "gilles"),
    ("update",),
]

PASSWD_WANT = [
    "lookup credentials Gilles -> 1 gilles:" + drivers.HASH,
    "lookup userinfo gilles -> 1 1000:1000:/home/gilles",
    "lookup userinfo eric -> 1 1001:1001:/home/eric",
    "lookup userinfo nobody -> 0",
    "check credentials gilles -> -1",
    "lookup domain gilles -> -1",
    "update -> 1",
    "children none",
]


class TableProcBackendTests(unittest.TestCase):
    """The daemon's proc backend with ours and the extras helpers."""

    @classmethod
    def setUpClass(cls):
        if not os.access(PROBE, os.X_OK):
            raise RuntimeError("%s is not built" % PROBE)
        cls.ours = os.path.join(BUILD, "libexec")
        cls.extras = drivers.fetch_extras()
        cls.tmp = tempfile.TemporaryDirectory(prefix="table-proc.")
        d = cls.tmp.name
        db = os.path.join(d, "table.db")
        drivers.make_sqlite_db(db)
        cls.sqlite_conf = os.path.join(d, "sqlite.conf")
        with open(cls.sqlite_conf, "w") as f:
            f.write(drivers.SQLITE_CONF.format(db=db))
        cls.passwd = os.path.join(d, "passwd")
        with open(cls.passwd, "w") as f:
            f.write(drivers.PASSWD)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def probe(self, libexec, backend, config, ops):
        args = [PROBE, "probe", libexec, backend, config]
        for op in ops:
            args += list(op)
        p = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout.splitlines(), p.stderr

    def check(self, backend, config, ops, want):
        for impl, libexec in (("ours", self.ours),
                              ("extras", self.extras)):
            with self.subTest(impl=impl):
                got, err = self.probe(libexec, backend, config, ops)
                self.assertEqual(got, want, err)

    def test_sqlite(self):
        self.check("sqlite", self.sqlite_conf, SQLITE_OPS, SQLITE_WANT)

    def test_passwd(self):
        self.check("passwd", self.passwd, PASSWD_OPS, PASSWD_WANT)

    def test_bad_config_is_a_tempfail(self):
        """A helper that exits at start: -1, never a crash, reaped."""
        bad = os.path.join(self.tmp.name, "missing.conf")
        for impl, libexec in (("ours", self.ours),
                              ("extras", self.extras)):
            with self.subTest(impl=impl):
                got, err = self.probe(libexec, "sqlite", bad,
                                      [("check", "domain", "example.com")])
                self.assertEqual(got, ["check domain example.com -> -1",
                                       "children none"], err)
                self.assertIn("table probe: helper", err)


if __name__ == "__main__":
    unittest.main()
