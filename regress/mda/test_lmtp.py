"""mail.lmtp (MDA-05, MDA-19): an LMTP client, against a scripted peer
in this process (TCP on 127.0.0.1 and a unix socket in a temporary
directory) for the dialogue, per-recipient replies, 4xx/5xx mapping,
timeouts and broken replies; and against a real Dovecot LMTP server
(Debian dovecot-lmtpd) started on a private configuration in a
temporary directory, stopped by PID.  The Dovecot part is "not run" only
when the package is absent or the server cannot start."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mdatest  # noqa: E402
from mdatest import (EX_DATAERR, EX_NOUSER, EX_TEMPFAIL,  # noqa: E402
                     NOT_RUN, TempDir, one_line, program, run)

LMTP = program("mail.lmtp")
MSG = (b"Return-Path: <alice@example.org>\nSubject: hi\n\n"
       b".starts with a dot\n..two dots\nplain\r\nlast")
PEER_TIMEOUT = 20


class Peer:
    """A scripted LMTP server: REPLIES maps a command word (and, for
    RCPT, the address) to the reply; FINAL maps an accepted recipient
    to its reply after the data.  The transcript is kept."""

    def __init__(self, family=socket.AF_INET, path=None, replies=None,
                 final=None, greeting=b"220 peer LMTP\r\n", silent=False):
        self.replies = replies or {}
        self.final = final or {}
        self.greeting = greeting
        self.silent = silent
        self.lines = []
        self.data = b""
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_UNIX:
            self.sock.bind(path)
            self.dest = "unix:" + path
        else:
            self.sock.bind(("127.0.0.1", 0))
            self.dest = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.sock.listen(1)
        self.sock.settimeout(PEER_TIMEOUT)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def reply(self, key, default):
        return self.replies.get(key, default)

    def serve(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        c.settimeout(PEER_TIMEOUT)
        f = c.makefile("rb")
        try:
            self.dialogue(c, f)
        except OSError:
            pass
        finally:
            f.close()
            c.close()
            self.sock.close()

    def dialogue(self, c, f):
        rcpts = []
        if self.silent:
            f.readline()
            return
        c.sendall(self.greeting)
        while True:
            line = f.readline()
            if not line:
                return
            self.lines.append(line)
            word = line[:4].upper()
            if word == b"LHLO":
                c.sendall(self.reply("LHLO",
                                     b"250-peer\r\n250-PIPELINING\r\n"
                                     b"250 8BITMIME\r\n"))
            elif word == b"MAIL":
                c.sendall(self.reply("MAIL", b"250 2.1.0 ok\r\n"))
            elif word == b"RCPT":
                addr = line[line.index(b"<") + 1:line.index(b">")]
                r = self.reply(addr, b"250 2.1.5 ok\r\n")
                if r.startswith(b"2"):
                    rcpts.append(addr)
                c.sendall(r)
            elif word == b"DATA":
                r = self.reply("DATA", b"354 go\r\n")
                c.sendall(r)
                if not r.startswith(b"354"):
                    continue
                while True:
                    d = f.readline()
                    if not d or d == b".\r\n":
                        break
                    self.data += d
                for a in rcpts:
                    c.sendall(self.final.get(a, b"250 2.0.0 <%s> saved\r\n"
                                             % a))
            elif word == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"500 what\r\n")

    def join(self):
        self.thread.join(PEER_TIMEOUT)
        self.sock.close()


class TestLmtpPeer(unittest.TestCase):

    def lmtp(self, peer, *args, message=MSG):
        r = run([LMTP, "-d", peer.dest, "-t", "5"] + list(args), message)
        peer.join()
        return r

    def test_dialogue_tcp(self):
        p = Peer()
        r, _, err = self.lmtp(p, "-f", "alice@example.org", "-l", "mx.test",
                              "bob@example.org", "carol")
        self.assertEqual(r, 0, err)
        self.assertEqual(err, "")
        self.assertEqual(p.lines, [b"LHLO mx.test\r\n",
                                   b"MAIL FROM:<alice@example.org>\r\n",
                                   b"RCPT TO:<bob>\r\n", b"RCPT TO:<carol>\r\n",
                                   b"DATA\r\n", b"QUIT\r\n"])
        self.assertEqual(p.data, (
            b"Return-Path: <alice@example.org>\r\nSubject: hi\r\n\r\n"
            b"..starts with a dot\r\n...two dots\r\nplain\r\nlast\r\n"))

    def test_full_address_unix_socket(self):
        with TempDir() as d:
            p = Peer(socket.AF_UNIX, os.path.join(d, "lmtp.sock"))
            r, _, err = self.lmtp(p, "-r", "bob@example.org")
            self.assertEqual(r, 0, err)
            self.assertIn(b"RCPT TO:<bob@example.org>\r\n", p.lines)
            self.assertIn(b"MAIL FROM:<>\r\n", p.lines)
            # a bare /path is a unix socket too
            p = Peer(socket.AF_UNIX, os.path.join(d, "lmtp2.sock"))
            p.dest = p.dest[len("unix:"):]
            r, _, err = self.lmtp(p, "-u", "bob@example.org")
            self.assertEqual(r, 0, err)
            self.assertIn(b"RCPT TO:<bob>\r\n", p.lines)

    def test_rcpt_permanent(self):
        p = Peer(replies={b"nobody": b"550 5.1.1 <nobody> no such user\r\n"})
        r, _, err = self.lmtp(p, "nobody")
        self.assertEqual(r, EX_NOUSER, err)
        one_line(self, err)
        self.assertIn("550 5.1.1 <nobody> no such user", err)
        self.assertNotIn(b"DATA\r\n", p.lines)

    def test_rcpt_mixed(self):
        p = Peer(replies={b"x": b"550 5.1.1 no\r\n",
                          b"y": b"452 4.2.2 over quota\r\n"})
        r, _, err = self.lmtp(p, "bob", "x", "y")
        self.assertEqual(r, EX_TEMPFAIL, err)
        self.assertIn("452 4.2.2 over quota", err)
        self.assertIn(b"DATA\r\n", p.lines)     # bob still gets it

    def test_per_recipient_after_data(self):
        p = Peer(final={b"carol": b"552 5.2.2 mailbox full\r\n"})
        r, _, err = self.lmtp(p, "bob", "carol")
        self.assertEqual(r, EX_DATAERR, err)
        self.assertIn("delivery to <carol>: 552 5.2.2 mailbox full", err)
        p = Peer(final={b"carol": b"451 4.3.0 try later\r\n"})
        r, _, err = self.lmtp(p, "bob", "carol")
        self.assertEqual(r, EX_TEMPFAIL, err)

    def test_session_failures(self):
        cases = [
            (dict(greeting=b"421 4.3.2 busy\r\n"), EX_TEMPFAIL, "421"),
            (dict(greeting=b"554 go away\r\n"), EX_DATAERR, "554"),
            (dict(replies={"MAIL": b"451 4.3.0 later\r\n"}), EX_TEMPFAIL,
             "MAIL FROM"),
            (dict(replies={"DATA": b"554 5.6.0 no\r\n"}), EX_DATAERR,
             "DATA"),
            (dict(replies={"LHLO": b"hello?\r\n"}), EX_TEMPFAIL,
             "bad LMTP reply"),
            (dict(replies={"LHLO": b"250 \x1b[31mok\r\n",
                           "MAIL": b"550 \x01\x7fno\r\n"}), EX_DATAERR,
             "550 ??no"),
        ]
        for kw, code, text in cases:
            with self.subTest(kw=kw):
                p = Peer(**kw)
                r, _, err = self.lmtp(p, "bob")
                self.assertEqual(r, code, err)
                self.assertIn(text, err)
                one_line(self, err)

    def test_timeout(self):
        p = Peer(silent=True)
        t = time.time()
        r, _, err = run([LMTP, "-d", p.dest, "-t", "1", "bob"], MSG)
        self.assertEqual(r, EX_TEMPFAIL, err)
        self.assertIn("timeout", err)
        self.assertLess(time.time() - t, 10)
        p.sock.close()
        p.join()

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r, _, err = run([LMTP, "-d", "127.0.0.1:%d" % port, "bob"], MSG)
        self.assertEqual(r, EX_TEMPFAIL, err)
        self.assertIn("connect", err)
        one_line(self, err)
        with TempDir() as d:
            r, _, err = run([LMTP, "-d", "unix:%s/none" % d, "bob"], MSG)
            self.assertEqual(r, EX_TEMPFAIL, err)

    def test_usage(self):
        for argv in ([LMTP], [LMTP, "-d", "x:1"], [LMTP, "bob"],
                     [LMTP, "-d", "x:1", "-t", "0", "bob"]):
            r, _, err = run(argv, b"")
            self.assertEqual(r, 64, argv)
            self.assertIn("usage: mail.lmtp -d dest", err)
        r, _, err = run([LMTP, "-d", "127.0.0.1:1", "bad\r\nRSET"], b"")
        self.assertEqual(r, EX_DATAERR, err)


DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = smtpd-mda-test
protocols = lmtp
ssl = no
listen = 127.0.0.1
mail_location = maildir:~/Maildir
default_internal_user = {iuser}
default_internal_group = {igroup}
default_login_user = {iuser}
service lmtp {{
  unix_listener {d}/lmtp.sock {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
  default_fields = uid={uid} gid={gid} home={d}/home/%u
}}
"""


class TestLmtpDovecot(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists("/usr/lib/dovecot/lmtp"):
            raise unittest.SkipTest(NOT_RUN + "dovecot-lmtpd is not "
                                    "installed (scripts/deps.sh)")
        cls.tmp = TempDir()
        cls.dir = d = cls.tmp.path
        os.chmod(d, 0o755)
        user = mdatest.test_account()
        if user is not None:
            uid, gid = user.pw_uid, user.pw_gid
            iuser = "dovecot"
        else:
            uid, gid = os.getuid(), os.getgid()
            iuser = pwd.getpwuid(uid).pw_name
        igroup = iuser if user is not None else \
            __import__("grp").getgrgid(gid).gr_name
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        cls.port = s.getsockname()[1]
        s.close()
        os.mkdir(os.path.join(d, "home"))
        os.chown(os.path.join(d, "home"), uid, gid)
        with open(os.path.join(d, "users"), "w") as f:
            f.write("bob:{PLAIN}x::::\ncarol:{PLAIN}x::::\n")
        with open(os.path.join(d, "dovecot.conf"), "w") as f:
            f.write(DOVECOT_CONF.format(d=d, port=cls.port, uid=uid,
                                        gid=gid, iuser=iuser,
                                        igroup=igroup))
        cls.proc = subprocess.Popen([cls.binary, "-F", "-c",
                                     os.path.join(d, "dovecot.conf")],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
        deadline = time.time() + 15
        sock = os.path.join(d, "lmtp.sock")
        while time.time() < deadline and cls.proc.poll() is None:
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        if not os.path.exists(sock):
            why = cls.why()
            cls.stop()
            raise unittest.SkipTest(NOT_RUN + "dovecot did not start: "
                                    + why)

    @classmethod
    def why(cls):
        try:
            with open(os.path.join(cls.dir, "dovecot.log")) as f:
                return f.read().strip().splitlines()[-1]
        except (OSError, IndexError):
            return "no log"

    @classmethod
    def stop(cls):
        p = cls.proc
        if p.poll() is None and p.pid > 1:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        p.stderr.close()
        cls.tmp.__exit__()

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    def inbox(self, user):
        new = os.path.join(self.dir, "home", user, "Maildir", "new")
        out = []
        for n in sorted(os.listdir(new)) if os.path.isdir(new) else []:
            with open(os.path.join(new, n), "rb") as f:
                out.append(f.read())
        return out

    def test_deliver_unix_and_tcp(self):
        r, _, err = run([LMTP, "-d", "unix:" + self.dir + "/lmtp.sock",
                         "-f", "alice@example.org", "bob@example.org"],
                        MSG, timeout=60)
        self.assertEqual(r, 0, err)
        r, _, err = run([LMTP, "-d", "127.0.0.1:%d" % self.port,
                         "-f", "alice@example.org", "carol"],
                        b"Subject: tcp\n\nhello\n", timeout=60)
        self.assertEqual(r, 0, err)
        bob = self.inbox("bob")
        self.assertEqual(len(bob), 1)
        self.assertIn(b"\n.starts with a dot\n..two dots\nplain\n", bob[0])
        self.assertIn(b"Subject: hi\n", bob[0])
        self.assertEqual(len(self.inbox("carol")), 1)

    def test_unknown_user_permanent(self):
        r, _, err = run([LMTP, "-d", "unix:" + self.dir + "/lmtp.sock",
                         "-f", "alice@example.org", "nosuchuser"],
                        MSG, timeout=60)
        self.assertEqual(r, EX_NOUSER, err)
        self.assertIn("RCPT TO:<nosuchuser>: 550", err)
        one_line(self, err)


if __name__ == "__main__":
    unittest.main()
