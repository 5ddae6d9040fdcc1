"""regress/tables/test_table_opensmtpd68.py -- our table helpers under
the real OpenSMTPD 6.8 daemon (issue 10 part 3: every libexec driver
runs under OpenSMTPD 6.8's imsg protocol, and under 7.6+'s text one).

Debian's opensmtpd 6.8.0p2, unpacked without installing
(regress/lib/debfetch.py), runs as root in a private mount namespace
(unshare -m) where its compiled-in paths (/var/spool, /run, /var/lib,
/usr/libexec, /etc/resolv.conf, /etc/hosts) are bind mounts of a
temporary directory, as bench/servers.py runs it; its libexec directory
holds our table-sqlite and table-file under other names.  The rule
`match from any for domain <t>` makes every RCPT a domain check through
our helper: 250 for a domain the table holds (any case), 550 for one it
does not.  A 7.6 text helper declared there is not understood by 6.8
(its protocol is imsg only), which is why the text side is tested
against our own daemon (test_table_text.py) and a 7.6-style client.
Needs root (skipped as an ordinary user); "not run" when the package
cannot be fetched.  The daemon is stopped by its PID; every wait is
bounded.
"""
import os
import shutil
import signal
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
from smtpdtest import (BUILD, NOT_RUN, ensure_account, free_port,  # noqa
                       is_root, wait_for)
import test_table_drivers as drivers  # noqa: E402
from debfetch import unpack_or_skip  # noqa: E402

START = 30              # seconds for OpenSMTPD to answer its port


def opensmtpd_root():
    """DIR/root of the unpacked opensmtpd 6.8 package, or SkipTest."""
    return unpack_or_skip(["opensmtpd"], "usr/sbin/smtpd", NOT_RUN)


@unittest.skipUnless(is_root(), "OpenSMTPD 6.8 runs as root (namespace, "
                     "its own accounts)")
class OpenSMTPD68(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = opensmtpd_root()
        for name in ("opensmtpd", "opensmtpq"):
            ensure_account(name)

    def setUp(self):
        self.dir = d = tempfile.mkdtemp(prefix="table-o68.")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        for sub in ("varspool/smtpd", "run", "varlib/opensmtpd/empty",
                    "libexec/opensmtpd"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "varspool/smtpd"), 0o711)
        for sub in ("libexec", "libexec/opensmtpd"):
            os.chmod(os.path.join(d, sub), 0o755)
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\nlookup file bind\n")
        shutil.copy("/etc/hosts", os.path.join(d, "hosts"))
        db = os.path.join(d, "t.sqlite")
        drivers.make_sqlite_db(db)
        self.write("sqlite.conf", drivers.SQLITE_CONF.format(db=db))
        self.write("domains", "example.com\nexample.net\n")
        os.chmod(db, 0o644)
        for ours, theirs in (("table-sqlite", "table-oursql"),
                             ("table-file", "table-ourfile")):
            dst = os.path.join(d, "libexec/opensmtpd", theirs)
            shutil.copy(os.path.join(BUILD, "libexec", ours), dst)
            os.chmod(dst, 0o755)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def start(self, table):
        d = self.dir
        self.port = free_port()
        self.write("smtpd.conf", "table t %s\n"
                   "listen on 127.0.0.1 port %d\n"
                   "action \"out\" relay host smtp://127.0.0.1:%d\n"
                   "match from any for domain <t> action \"out\"\n" % (
                       table, self.port, free_port()))
        binds = "".join("mount --bind %s/%s %s && " % (d, src, dst)
                        for src, dst in (
                            ("varspool", "/var/spool"), ("run", "/run"),
                            ("varlib", "/var/lib"),
                            ("resolv.conf", "/etc/resolv.conf"),
                            ("hosts", "/etc/hosts"),
                            ("libexec", "/usr/libexec")))
        log = open(os.path.join(d, "log"), "ab")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", "mount --make-rprivate / && " +
             binds + "exec %s/usr/sbin/smtpd -d -f %s/smtpd.conf" % (
                 self.root, d)], stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, start_new_session=True)
        self.addCleanup(self.stop, proc)
        ok = wait_for(lambda: proc.poll() is not None or
                      self.banner(), START, 0.1)
        self.assertTrue(ok and proc.poll() is None, self.log())
        return proc

    def stop(self, proc):
        """SIGTERM by PID (smtpd, which unshare's sh exec'd), SIGKILL
        after a bound."""
        if proc.poll() is None and proc.pid > 1:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)

    def log(self):
        with open(os.path.join(self.dir, "log"), errors="replace") as f:
            return f.read()[-3000:]

    def banner(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port),
                                          2) as s:
                return s.recv(64).startswith(b"220")
        except OSError:
            return False

    def rcpt(self, rcpt):
        with socket.create_connection(("127.0.0.1", self.port), 10) as s:
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

    def helpers_of(self, config):
        """PIDs of processes whose arguments name CONFIG."""
        out = []
        for e in os.listdir("/proc"):
            if not e.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % e, "rb") as f:
                    if config.encode() in f.read().split(b"\0"):
                        out.append(int(e))
            except OSError:
                continue
        return out

    def check(self, table, config):
        proc = self.start(table)
        for rcpt, want in (("bob@example.com", "250"),
                           ("bob@EXAMPLE.net", "250"),
                           ("bob@example.org", "550")):
            with self.subTest(table=table, rcpt=rcpt):
                self.assertEqual(self.rcpt(rcpt), want, self.log())
        self.assertEqual(len(self.helpers_of(config)), 1, self.log())
        self.stop(proc)
        # the helper leaves on EOF when its daemon is gone
        self.assertTrue(wait_for(lambda: not self.helpers_of(config), 10,
                                 0.1), "helper outlived OpenSMTPD 6.8")
        self.assertNotIn("table-api", self.log())

    def test_our_sqlite_under_opensmtpd68(self):
        conf = os.path.join(self.dir, "sqlite.conf")
        self.check("oursql:" + conf, conf)

    def test_our_file_under_opensmtpd68(self):
        conf = os.path.join(self.dir, "domains")
        self.check("ourfile:" + conf, conf)


if __name__ == "__main__":
    unittest.main()
