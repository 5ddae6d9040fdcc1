"""Tables in the running daemon, through smtpctl: every backend answers
look-ups through the same table layer mail uses, `update table` reloads,
table helpers (ours and Debian's opensmtpd-extras) run under the daemon
and a helper killed mid-life is a temporary failure, then recovers
(TABLE-01..06, TABLE-12..16, CTL-23, issue 4 items 2, 5, 6)."""
import os
import shutil
import signal
import sqlite3
import sys
import time
import unittest

import tempfile

from smtpdtest import (BUILD, ROOT, Smtpd, free_port, is_root,
                       proc_children,
                       run_smtpd, wait_for)

sys.path.insert(0, os.path.join(ROOT, "regress", "drivers"))
from test_table_drivers import fetch_extras  # noqa: E402

FIXTURES = os.path.join(ROOT, "regress", "tables", "fixtures")


def make_sqlite(path):
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE domains (domain TEXT);
        INSERT INTO domains VALUES ('example.com');
        CREATE TABLE virtuals (email TEXT, destination TEXT);
        INSERT INTO virtuals VALUES ('bob@example.com', 'bob@example.net');
        INSERT INTO virtuals VALUES ('bob@example.com', 'alice@example.net');
        CREATE TABLE users (name TEXT, uid INT, gid INT, home TEXT);
        INSERT INTO users VALUES ('vmail', 2000, 2000, '/var/vmail');
    """)
    con.commit()
    con.close()


def sqlite_conf(path, db):
    with open(path, "w") as f:
        f.write("dbpath %s\n" % db)
        f.write("query_domain SELECT domain FROM domains "
                "WHERE domain=?;\n")
        f.write("query_alias SELECT destination FROM virtuals "
                "WHERE email=?;\n")
        f.write("query_userinfo SELECT uid, gid, home FROM users "
                "WHERE name=?;\n")


CONF = """
table domains { "example.com", "*.example.org" }
table aliases { "root" = "alice, bob", "postmaster" = "root" }
table nets { "192.0.2.0/24", "[2001:db8::]/32" }
table relays { "192.0.2.10", "192.0.2.11" }
table users file:%(dir)s/users
table hashed db:%(dir)s/hashed.db
table sql sqlite:%(dir)s/sqlite.conf
listen on 127.0.0.1 port 25997
action "local" mbox alias <aliases>
match from local for domain <domains> action "local"
"""
CONF = CONF.replace("port 25997", "port %d" % free_port())


class TestTables(unittest.TestCase):

    def daemon(self, libexec=None):
        d = Smtpd()
        self.addCleanup(d.cleanup)
        with open(os.path.join(d.dir, "users"), "w") as f:
            f.write("alice 1000:1000:/home/alice\n")
        shutil.copy(os.path.join(FIXTURES, "makemap-hash.db"),
                    os.path.join(d.dir, "hashed.db"))
        make_sqlite(os.path.join(d.dir, "test.sqlite"))
        sqlite_conf(os.path.join(d.dir, "sqlite.conf"),
                    os.path.join(d.dir, "test.sqlite"))
        with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
            f.write(CONF % {"dir": d.dir})
        for p in (d.dir, ):
            os.chmod(p, 0o755)
        for f in os.listdir(d.dir):
            os.chmod(os.path.join(d.dir, f), 0o644)
        d.args = ["-o", "libexec=" + (libexec or
                                      os.path.join(BUILD, "libexec"))]
        return d.start()

    def q(self, d, *args):
        r = d.ctl("table", *args)
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    def test_every_backend(self):
        d = self.daemon()
        cases = [
            (("lookup", "aliases", "alias", "ROOT"), (0, "alice, bob")),
            (("lookup", "aliases", "alias", "nobody"), (1, "not found")),
            (("check", "domains", "domain", "Example.COM"), (0, "found")),
            (("check", "domains", "domain", "a.b.example.org"),
             (0, "found")),
            (("check", "domains", "domain", "example.net"),
             (1, "not found")),
            (("check", "nets", "netaddr", "192.0.2.77"), (0, "found")),
            (("check", "nets", "netaddr", "2001:db8::1"), (0, "found")),
            (("check", "nets", "netaddr", "198.51.100.1"),
             (1, "not found")),
            (("lookup", "users", "userinfo", "alice"),
             (0, "1000:1000:/home/alice")),
            (("lookup", "hashed", "alias", "foo"), (0, "bar")),
            (("lookup", "sql", "domain", "example.com"),
             (0, "example.com")),
            (("lookup", "sql", "alias", "bob@example.com"),
             (0, "bob@example.net, alice@example.net")),
            (("lookup", "sql", "userinfo", "vmail"),
             (0, "2000:2000:/var/vmail")),
            (("lookup", "sql", "userinfo", "nobody"), (1, "not found")),
        ]
        for args, want in cases:
            with self.subTest(args=args):
                rc, out, _ = self.q(d, *args)
                self.assertEqual((rc, out), want)
        # fetch walks round-robin
        got = [self.q(d, "fetch", "relays", "source")[1] for _ in range(3)]
        self.assertEqual(got, ["192.0.2.10", "192.0.2.11", "192.0.2.10"])
        self.assertEqual(d.stop(), 0)

    def test_bad_queries(self):
        d = self.daemon()
        for args, msg in (
                (("lookup", "nosuch", "alias", "x"), "no such table"),
                (("lookup", "aliases", "bogus", "x"),
                 "unknown table service"),
                (("lookup", "aliases", "alias", "a\rb"),
                 "CR or LF"),
                (("lookup", "aliases", "alias", "x" * 2000), "long")):
            with self.subTest(args=args[:3]):
                rc, _, err = self.q(d, *args)
                self.assertEqual(rc, 2)
                self.assertIn(msg, err)
        self.assertEqual(len(d.status()[0]), 7)

    def test_update_table(self):
        d = self.daemon()
        users = os.path.join(d.dir, "users")
        self.assertEqual(self.q(d, "lookup", "users", "userinfo", "bob")[0],
                         1)
        with open(users, "a") as f:
            f.write("bob 1001:1001:/home/bob\n")
        r = d.ctl("update", "table", "users")
        self.assertEqual((r.returncode, r.stdout.strip()),
                         (0, "command succeeded"))
        self.assertEqual(self.q(d, "lookup", "users", "userinfo", "bob"),
                         (0, "1001:1001:/home/bob", ""))
        # a broken file is refused and the old content stays
        with open(users, "a") as f:
            f.write("bad\0line\n")
        r = d.ctl("update", "table", "users")
        self.assertEqual(r.returncode, 1)
        self.assertIn("update failed", r.stderr)
        self.assertEqual(self.q(d, "lookup", "users", "userinfo", "bob")[0],
                         0)
        r = d.ctl("update", "table", "nosuch")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such table", r.stderr)
        self.assertEqual(d.stop(), 0)

    @unittest.skipUnless(is_root(), "needs root to test another user")
    def test_queries_are_privileged(self):
        d = self.daemon()
        r = d.ctl("table", "lookup", "aliases", "alias", "root",
                  user="nobody")
        self.assertEqual(r.returncode, 2)
        self.assertIn("permission denied", r.stderr)
        r = d.ctl("update", "table", "users", user="nobody")
        self.assertEqual(r.returncode, 1)

    def test_helper_killed_is_tempfail_then_recovers(self):
        d = self.daemon()
        self.assertEqual(self.q(d, "lookup", "sql", "userinfo", "vmail")[0],
                         0)
        lookup = d.status()[0]["lookup"]["pid"]
        helpers = proc_children(lookup)
        self.assertEqual(len(helpers), 1)
        os.kill(helpers[0], signal.SIGKILL)
        rc, _, err = self.q(d, "lookup", "sql", "userinfo", "vmail")
        self.assertEqual(rc, 2)
        self.assertIn("temporary failure", err)
        # restarted after its backoff, and answering again
        self.assertTrue(wait_for(lambda: self.q(
            d, "lookup", "sql", "userinfo", "vmail")[0] == 0, 10, 0.5))
        self.assertIn("table sql", d.log())
        self.assertEqual(len(d.status()[0]), 7)
        self.assertEqual(d.stop(), 0)

    def test_debian_extras_helpers_under_our_daemon(self):
        extras = fetch_extras()
        d = self.daemon(libexec=extras)
        self.assertEqual(self.q(d, "lookup", "sql", "alias",
                                "bob@example.com"),
                         (0, "bob@example.net, alice@example.net", ""))
        self.assertEqual(self.q(d, "check", "sql", "domain", "example.com"),
                         (0, "found", ""))
        self.assertEqual(self.q(d, "lookup", "sql", "userinfo", "vmail"),
                         (0, "2000:2000:/var/vmail", ""))
        self.assertEqual(d.ctl("update", "table", "sql").returncode, 0)
        # the helper that answered is Debian's binary
        lookup = d.status()[0]["lookup"]["pid"]
        helper = proc_children(lookup)[0]
        self.assertEqual(os.readlink("/proc/%d/exe" % helper),
                         os.path.join(extras, "table-sqlite"))
        self.assertEqual(d.stop(), 0)


class TestTableFilesAtParse(unittest.TestCase):

    def test_fifo_is_refused_not_waited_on(self):
        d = tempfile.mkdtemp(prefix="smtpd-fifo-")
        self.addCleanup(shutil.rmtree, d, True)
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        conf = os.path.join(d, "smtpd.conf")
        with open(conf, "w") as f:
            f.write("table t file:%s\ntable u db:%s\n"
                    "listen on 127.0.0.1\naction \"l\" mbox\n"
                    "match from local for local action \"l\"\n"
                    % (fifo, fifo))
        r = run_smtpd(["-n", "-f", conf], timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn(':1: table "t": %s: not a regular file' % fifo,
                      r.stderr)
        self.assertIn(':2: table "u": %s: not a regular file' % fifo,
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
