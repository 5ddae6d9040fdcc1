"""OpenSMTPD-extras' own table drivers, unmodified, built against our
api/ by extras_build.sh and run as helpers under our daemon (issue 7.2).

Their sources are not ours and never live in this tree: set EXTRAS_SRC
to a directory holding table_passwd.c, table_sqlite.c, table_redis.c and
table_postgres.c (an extras checkout will do).  Without it these tests
are reported as skipped, never as passed.  The build of all four must
succeed; table-passwd and table-sqlite then answer `smtpctl table`
through the daemon (redis and postgres need a server: built only).
"""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from smtpdtest import NOT_RUN, ROOT, SANITIZER_MARKS, Smtpd, free_port

SRC = os.environ.get("EXTRAS_SRC", "")
SCRIPT = os.path.join(ROOT, "regress", "drivers", "extras_build.sh")

PASSWD = """\
# user:password:uid:gid:gecos:home:shell
alice:$6$salt$hash:1001:1002::/home/alice:/bin/sh
bob:secret:2000:2000:Bob:/var/vmail/bob:
"""


@unittest.skipUnless(SRC and os.path.isdir(SRC),
                     NOT_RUN + "EXTRAS_SRC unset (extras' own driver "
                     "sources, kept out of the tree)")
class ExtrasDrivers(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="smtpd-extras-")
        os.chmod(cls.tmp, 0o755)
        cls.out = os.path.join(cls.tmp, "build")
        cls.build = subprocess.run(["sh", SCRIPT, SRC, cls.out],
                                   capture_output=True, text=True,
                                   timeout=300)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_all_four_build_and_link(self):
        self.assertEqual(self.build.returncode, 0,
                         self.build.stdout + self.build.stderr)
        for name in ("passwd", "sqlite", "redis", "postgres"):
            self.assertIn("table-%s: built" % name, self.build.stdout)
            self.assertTrue(os.access(os.path.join(self.out,
                                                   "table-" + name),
                                      os.X_OK))

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def daemon(self, table):
        libexec = os.path.join(self.tmp, "libexec")
        os.makedirs(libexec, exist_ok=True)
        os.chmod(libexec, 0o755)
        for name in ("passwd", "sqlite"):
            shutil.copy(os.path.join(self.out, "table-" + name), libexec)
        d = Smtpd(conf=table + "listen on 127.0.0.1 port %d\n"
                  'action "local" mbox\n'
                  'match from local for local action "local"\n'
                  % free_port())
        self.addCleanup(d.cleanup)
        d.args = ["-o", "libexec=" + libexec]
        return d.start()

    def q(self, d, *args):
        r = d.ctl("table", *args)
        return r.returncode, r.stdout.strip()

    def test_passwd_answers(self):
        self.assertEqual(self.build.returncode, 0, self.build.stdout)
        path = self.write("passwd", PASSWD)
        d = self.daemon("table p passwd:%s\n" % path)
        cases = [
            (("lookup", "p", "credentials", "alice"),
             (0, "alice:$6$salt$hash")),
            (("lookup", "p", "userinfo", "bob"), (0, "2000:2000:/var/vmail/bob")),
            (("lookup", "p", "userinfo", "carol"), (1, "not found")),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                self.assertEqual(self.q(d, *args), want)
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())

    def test_sqlite_answers(self):
        self.assertEqual(self.build.returncode, 0, self.build.stdout)
        db = os.path.join(self.tmp, "t.db")
        with sqlite3.connect(db) as c:
            c.execute("CREATE TABLE aliases (k TEXT, v TEXT)")
            c.executemany("INSERT INTO aliases VALUES (?, ?)",
                          [("root", "alice@example.com"),
                           ("root", "bob@example.com"),
                           ("postmaster", "root")])
            c.execute("CREATE TABLE domains (d TEXT)")
            c.execute("INSERT INTO domains VALUES ('example.com')")
            c.execute("CREATE TABLE creds (u TEXT, p TEXT)")
            c.execute("INSERT INTO creds VALUES ('carol', '$2b$hash')")
            c.execute("CREATE TABLE sources (ip TEXT)")
            c.executemany("INSERT INTO sources VALUES (?)",
                          [("192.0.2.2",), ("192.0.2.1",)])
        c.close()
        os.chmod(db, 0o644)
        conf = self.write("sqlite.conf",
                          "dbpath %s\n"
                          "query_alias SELECT v FROM aliases WHERE k=?\n"
                          "query_domain SELECT d FROM domains WHERE d=?\n"
                          "query_credentials SELECT u, p FROM creds "
                          "WHERE u=?\n"
                          "fetch_source SELECT ip FROM sources\n" % db)
        d = self.daemon("table s sqlite:%s\n" % conf)
        cases = [
            (("lookup", "s", "alias", "root"),
             (0, "alice@example.com, bob@example.com")),
            (("lookup", "s", "alias", "postmaster"), (0, "root")),
            (("lookup", "s", "alias", "nobody"), (1, "not found")),
            (("lookup", "s", "domain", "example.com"), (0, "example.com")),
            (("lookup", "s", "credentials", "carol"),
             (0, "carol:$2b$hash")),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                self.assertEqual(self.q(d, *args), want)
        # fetch walks the sources in key order (extras' dict is sorted)
        got = [self.q(d, "fetch", "s", "source") for _ in range(3)]
        self.assertEqual(got, [(0, "192.0.2.1"), (0, "192.0.2.2"),
                               (0, "192.0.2.1")])
        self.assertEqual(d.stop(), 0)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, d.log())


if __name__ == "__main__":
    unittest.main()
