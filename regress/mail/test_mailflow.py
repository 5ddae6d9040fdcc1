"""Mail flow end to end (issue 8): a real daemon accepts mail over SMTP
from real clients (Python's smtplib, swaks), queues it on disk, and
delivers it to a Maildir as the recipient user.

As root the recipient is a system account made for the tests (the
delivery must run as that user, never as root); as an ordinary user the
daemon runs without privilege separation and delivers as the caller.
Every wait is bounded; every daemon is stopped by PID (smtpdtest.Smtpd).
"""
import email
import email.utils
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import (BUILD, SMTPD, Smtpd, ensure_account,  # noqa: E402
                       free_port,
                       is_root, wait_for)

MAIL_USER = "smtpd-mail"
DELIVERY_TIMEOUT = 20




def recipient_user():
    """The account mail is delivered to: a test account as root (made
    once, without a home directory), the caller otherwise."""
    if not is_root():
        return pwd.getpwuid(os.geteuid()).pw_name
    ensure_account(MAIL_USER)
    return MAIL_USER


class MailFlowBase(unittest.TestCase):
    """One daemon per test, delivering @example.org to DIR/mail/USER."""

    def setUp(self):
        self.user = recipient_user()
        self.port = free_port()
        self.smtpd = Smtpd(args=getattr(self, "_args", ()))
        self.mail = os.path.join(self.smtpd.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        conf = ('listen on 127.0.0.1 port %d\n'
                'action "local" maildir "%s/%%{user.username}"\n'
                'match from any for domain "example.org" action "local"\n'
                % (self.port, self.mail)) + getattr(self, "_extra",
                                                    "").replace("%s",
                                                                self.mail)
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        self.smtpd.start()
        self.maildir = os.path.join(self.mail, self.user)

    def tearDown(self):
        rc = self.smtpd.stop()
        log = self.smtpd.log()
        self.smtpd.__exit__(None, None, None)
        self.assertEqual(rc, 0, log[-4000:])

    def delivered(self, n=1, timeout=DELIVERY_TIMEOUT):
        new = os.path.join(self.maildir, "new")

        def count():
            try:
                return len(os.listdir(new)) >= n
            except OSError:
                return False
        self.assertTrue(wait_for(count, timeout),
                        "not delivered in %ds:\n%s" %
                        (timeout, self.smtpd.log()[-4000:]))
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(email.message_from_bytes(f.read()))
        return out

    def client(self):
        c = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        c.ehlo("client.example.net")
        return c


def spool_files(spool):
    """Files of messages in SPOOL: not its commit journal (at the root),
    nor the empty bodies in incoming/ of the messages the dispatcher
    makes ahead, one for each MAIL to come (QUEUE-05)."""
    out = []
    for t, _, fs in os.walk(spool):
        for f in fs:
            p = os.path.join(t, f)
            if t == spool and f == "journal":
                continue
            if f == "message" and os.path.dirname(t) == os.path.join(
                    spool, "incoming") and os.path.getsize(p) == 0:
                continue
            out.append(p)
    return out


class MailFlow(MailFlowBase):
    """Accept, queue and deliver (SMTP-*, MDA-*)."""

    def test_smtplib_one_message(self):
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            code, _ = c.mail("sender@example.net")
            self.assertEqual(code, 250)
            code, msg = c.rcpt(rcpt)
            self.assertEqual(code, 250, msg)
            code, msg = c.data(b"Subject: hello\r\n\r\nbody line\r\n"
                               b".dot line\r\n")
            self.assertEqual(code, 250, msg)
            self.assertRegex(msg.decode(), r"^2\.0\.0 [0-9a-f]{8} ")
        (m,) = self.delivered()
        self.assertEqual(m["Return-Path"], "<sender@example.net>")
        self.assertEqual(m["Delivered-To"], rcpt)
        self.assertIn("client.example.net", m["Received"])
        self.assertEqual(m["Subject"], "hello")
        self.assertEqual(m.get_payload(), "body line\n.dot line\n")
        # SMTP-22, LSN-26: a loopback client's message gets the Date and
        # Message-ID it lacked, at the end of its header block
        self.assertRegex(m["Message-ID"], r"^<[0-9a-f]{16}@.+>$")
        self.assertTrue(email.utils.parsedate_tz(m["Date"]), m["Date"])
        self.assertEqual(m.keys()[-2:], ["Date", "Message-ID"])
        st = os.stat(os.path.join(self.maildir, "new"))
        self.assertEqual(st.st_uid, pwd.getpwnam(self.user).pw_uid)

    def test_unqualified_addresses_qualified(self):
        # SMTP-22: From/To/Cc addresses without a domain get the
        # listener's name; qualified ones and the rest are kept
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            c.mail("sender@example.net")
            c.rcpt(rcpt)
            code, msg = c.data(b"From: Alice <alice>\r\nTo: bob, c@d\r\n"
                               b"Cc: (none) carol\r\nSubject: q\r\n\r\n"
                               b"To: body\r\n")
            self.assertEqual(code, 250, msg)
            helo = c.ehlo_resp.decode().split()[0]
        (m,) = self.delivered()
        self.assertEqual(m["From"], "Alice <alice@%s>" % helo)
        self.assertEqual(m["To"], "bob@%s, c@d" % helo)
        self.assertEqual(m["Cc"], "(none) carol@%s" % helo)
        self.assertEqual(m.get_payload(), "To: body\n")

    def test_swaks(self):
        rcpt = "%s@example.org" % self.user
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port",
                            str(self.port), "--from", "a@example.net",
                            "--to", rcpt, "--header", "Subject: swaks",
                            "--body", "from swaks", "--timeout", "20"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "swaks")
        # swaks writes its own Date and Message-Id: kept, not doubled
        self.assertEqual(len(m.get_all("Date")), 1)
        self.assertEqual(len(m.get_all("Message-ID")), 1)

    def test_unknown_user_refused_at_rcpt(self):
        with self.client() as c:
            c.mail("sender@example.net")
            code, msg = c.rcpt("no-such-user-xyz@example.org")
            self.assertEqual(code, 550, msg)
            code, msg = c.rcpt("someone@elsewhere.example")
            self.assertEqual(code // 100, 5, msg)

    def test_pipelined_transactions(self):
        """Two messages, each MAIL+RCPT+DATA in one packet (RFC 2920)."""
        rcpt = "%s@example.org" % self.user
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        f = s.makefile("rb")

        def reply():
            lines = []
            while True:
                line = f.readline()
                self.assertTrue(line, "connection closed")
                lines.append(line)
                if line[3:4] == b" ":
                    return int(line[:3]), lines
        self.assertEqual(reply()[0], 220)
        s.sendall(b"EHLO client.example.net\r\n")
        code, lines = reply()
        self.assertIn(b"PIPELINING", b"".join(lines))
        for i in range(2):
            s.sendall(("MAIL FROM:<s@example.net>\r\nRCPT TO:<%s>\r\n"
                       "DATA\r\n" % rcpt).encode())
            self.assertEqual([reply()[0] for _ in range(3)],
                             [250, 250, 354])
            s.sendall(b"Subject: p%d\r\n\r\nx\r\n.\r\n" % i)
            self.assertEqual(reply()[0], 250)
        s.sendall(b"QUIT\r\n")
        self.assertEqual(reply()[0], 221)
        s.close()
        got = sorted(m["Subject"] for m in self.delivered(2))
        self.assertEqual(got, ["p0", "p1"])

    def spool_files(self):
        """Files of messages in the spool (its commit journal, at the
        root, is the spool's own; the empty messages the dispatcher
        holds ahead for MAILs to come are no message's)."""
        return spool_files(os.path.join(self.smtpd.dir, "spool"))

    def test_messages_made_ahead(self):
        """The dispatcher holds a few empty messages made ahead, so that
        a MAIL needs no round trip to the queue, and the queue a few
        more, so that a create needs no directory made on the client's
        time (QUEUE-05): eight at most (four each), empty, never
        delivered, and a clean stop removes them (the next start
        recovers nothing)."""
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            for i in range(6):
                c.sendmail("s@example.net", [rcpt],
                           b"Subject: ahead %d\r\n\r\nx\r\n" % i)
        got = sorted(m["Subject"] for m in self.delivered(6))
        self.assertEqual(got, ["ahead %d" % i for i in range(6)])
        inc = os.path.join(self.smtpd.dir, "spool", "incoming")
        ahead = os.listdir(inc)
        self.assertTrue(1 <= len(ahead) <= 8, ahead)
        for d in ahead:
            self.assertEqual(os.listdir(os.path.join(inc, d)), ["message"])
            self.assertEqual(os.path.getsize(os.path.join(inc, d,
                                                          "message")), 0)
        self.assertFalse(self.spool_files())
        self.assertEqual(self.smtpd.stop(), 0, self.smtpd.log()[-3000:])
        self.assertEqual(os.listdir(inc), [])
        self.smtpd.start()      # its log goes on in the same file
        self.assertTrue(wait_for(lambda: self.smtpd.log().count(
            "queue recovered") == 2, 10), self.smtpd.log())
        last = self.smtpd.log().split("queue recovered")[-1]
        self.assertTrue(last.startswith(" incoming=0 "), last[:200])
        with self.client() as c:
            c.sendmail("s@example.net", [rcpt], b"Subject: after\r\n\r\n")
        self.assertEqual(len(self.delivered(7)), 7)

    def test_client_vanishing_mid_data(self):
        """Nothing of a message whose client left before the final dot
        is kept, and the daemon goes on serving (issue 8 bad input)."""
        rcpt = "%s@example.org" % self.user
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        s.sendall(("EHLO x.example\r\nMAIL FROM:<a@example.net>\r\n"
                   "RCPT TO:<%s>\r\nDATA\r\n" % rcpt).encode())
        f = s.makefile("rb")
        got = b""
        while b"354" not in got:
            line = f.readline()
            self.assertTrue(line)
            got += line
        s.sendall(b"Subject: cut\r\n\r\n" + b"z" * 100000)
        s.close()
        self.assertTrue(wait_for(lambda: not self.spool_files(), 10),
                        self.spool_files())
        with self.client() as c:
            c.sendmail("s@example.net", [rcpt], b"Subject: after\r\n\r\n.\r\n")
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "after")

    def test_bare_lf_refused_and_nothing_kept(self):
        """SMTP smuggling: "\n.\n" inside data never ends the message;
        a message with a bare LF is refused whole (550) at its end."""
        rcpt = "%s@example.org" % self.user
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        f = s.makefile("rb")
        s.sendall(("EHLO x.example\r\nMAIL FROM:<a@example.net>\r\n"
                   "RCPT TO:<%s>\r\nDATA\r\n" % rcpt).encode())
        for _ in range(5):      # greeting, EHLO, MAIL, RCPT, DATA
            while True:
                line = f.readline()
                if line[3:4] == b" ":
                    break
        s.sendall(b"Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@x>\r\n"
                  b"\r\n.\r\n")
        line = f.readline()
        self.assertTrue(line.startswith(b"550"), line)
        s.sendall(b"QUIT\r\n")
        s.close()
        time.sleep(0.5)
        self.assertFalse(self.spool_files())
        self.assertFalse(os.path.isdir(os.path.join(self.maildir, "new")) and
                         os.listdir(os.path.join(self.maildir, "new")))

    def test_many_recipients_one_delivery_each(self):
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            c.mail("sender@example.net")
            for _ in range(3):
                code, msg = c.rcpt(rcpt)
                self.assertEqual(code, 250, msg)
            code, msg = c.data(b"Subject: multi\r\n\r\nx\r\n")
            self.assertEqual(code, 250, msg)
        self.assertEqual(len(self.delivered(3)), 3)


class Restart(MailFlowBase):
    """SMTP-19, QUEUE-*: what got 250 survives SIGKILL of every process
    and is delivered once after a restart."""

    def setUp(self):
        self._args = ["-P", "mda"]
        super().setUp()

    def test_kill_after_250_then_restart(self):
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            for i in range(3):
                code, _ = c.mail("sender@example.net")
                self.assertEqual(code, 250)
                self.assertEqual(c.rcpt(rcpt)[0], 250)
                code, msg = c.data(b"Subject: k%d\r\n\r\nx\r\n" % i)
                self.assertEqual(code, 250, msg)
        time.sleep(0.2)
        self.assertFalse(os.path.exists(os.path.join(self.maildir, "new"))
                         and os.listdir(os.path.join(self.maildir, "new")),
                         "delivered while mda was paused")
        self.smtpd.kill()
        self.smtpd.args = []
        self.smtpd.start()
        got = sorted(m["Subject"] for m in self.delivered(3))
        self.assertEqual(got, ["k0", "k1", "k2"])
        time.sleep(1)
        self.assertEqual(len(os.listdir(os.path.join(self.maildir, "new"))),
                         3, "delivered twice")


class Big(MailFlowBase):
    """1,000 recipients and a 50 MiB message through the queue on disk;
    the size limit (SMTP-06, SMTP-13, issue 8 part 9)."""

    def setUp(self):
        self._args = ["-P", "mda"]
        self._extra = "smtp max-message-size 60M\n"
        super().setUp()

    def envelopes(self):
        spool = os.path.join(self.smtpd.dir, "spool", "queue")
        return sum(1 for _, _, files in os.walk(spool) for f in files
                   if f != "message")

    def test_thousand_recipients(self):
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            c.mail("s@example.net")
            for _ in range(1000):
                code, msg = c.rcpt(rcpt)
                self.assertEqual(code, 250, msg)
            code, msg = c.rcpt(rcpt)
            self.assertEqual(code, 451, msg)    # max-rcpt 1000
            code, msg = c.data(b"Subject: many\r\n\r\nx\r\n")
            self.assertEqual(code, 250, msg)
        self.assertEqual(self.envelopes(), 1000)

    def test_fifty_mib_and_over_the_limit(self):
        rcpt = "%s@example.org" % self.user
        line = b"x" * 998 + b"\r\n"
        body = b"Subject: big\r\n\r\n" + line * (50 * 1024 * 1024 // 1000)
        with self.client() as c:
            code, msg = c.sendmail("s@example.net", [rcpt], body) or (250, b"")
        self.assertEqual(self.envelopes(), 1)
        too_big = line * (61 * 1024 * 1024 // 1000)
        with self.client() as c:
            c.mail("s@example.net")
            c.rcpt(rcpt)
            code, msg = c.data(b"Subject: too big\r\n\r\n" + too_big)
            self.assertEqual(code, 554, msg)
            self.assertIn(b"5.3.4", msg)
        self.assertEqual(self.envelopes(), 1, "nothing of the refused one")
        # delivered whole once mda resumes: restart without -P
        self.smtpd.stop()
        self.smtpd.args = []
        self.smtpd.start()
        new = os.path.join(self.maildir, "new")
        self.assertTrue(wait_for(lambda: os.path.isdir(new) and
                                 os.listdir(new), 60), self.smtpd.log())
        path = os.path.join(new, os.listdir(new)[0])
        # LF line ends on disk: one byte less per line than on the wire
        self.assertGreaterEqual(os.path.getsize(path),
                                len(body) - body.count(b"\r\n"))


class VirtualUsers(MailFlowBase):
    """userbase <table> (EXP-05): users that are not system accounts,
    delivered as the uid:gid of their userbase entry."""

    def setUp(self):
        pw = pwd.getpwnam(recipient_user())
        self._extra = ('table vusers { "vbob" = "%d:%d:/nonexistent" }\n'
                       'action "v" maildir "%%s/v-%%{dest.user}" '
                       'userbase <vusers>\n'
                       'match from any for domain "virtual.example" '
                       'action "v"\n' % (pw.pw_uid, pw.pw_gid))
        super().setUp()

    def test_virtual_user_delivered_as_its_uid(self):
        with self.client() as c:
            c.mail("s@example.net")
            code, msg = c.rcpt("vnobody@virtual.example")
            self.assertEqual(code, 550, msg)
            code, msg = c.rcpt("vbob@virtual.example")
            self.assertEqual(code, 250, msg)
            code, msg = c.data(b"Subject: virtual\r\n\r\nx\r\n")
            self.assertEqual(code, 250, msg)
        new = os.path.join(self.mail, "v-vbob", "new")
        self.assertTrue(wait_for(lambda: os.path.isdir(new) and
                                 os.listdir(new), DELIVERY_TIMEOUT),
                        self.smtpd.log()[-3000:])
        path = os.path.join(new, os.listdir(new)[0])
        self.assertEqual(os.stat(path).st_uid,
                         pwd.getpwnam(self.user).pw_uid)


class RamQueue(MailFlowBase):
    """-B queue=ram (QUEUE-16): the same mail flow on the volatile queue."""

    def setUp(self):
        self._args = ["-B", "queue=ram"]
        super().setUp()

    def test_delivered(self):
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            c.sendmail("s@example.net", [rcpt], b"Subject: ram\r\n\r\nx\r\n")
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "ram")
        # nothing on disk: the fs backend's layout was never made
        self.assertFalse(os.path.exists(os.path.join(self.smtpd.dir,
                                                     "spool", "queue")))


class NullQueue(MailFlowBase):
    """-B queue=null: every message accepted, none kept or delivered."""

    def setUp(self):
        self._args = ["-B", "queue=null"]
        super().setUp()

    def test_accepted_and_dropped(self):
        rcpt = "%s@example.org" % self.user
        with self.client() as c:
            for i in range(3):
                c.sendmail("s@example.net", [rcpt],
                           b"Subject: null\r\n\r\nx\r\n")
        time.sleep(1)
        self.assertFalse(os.path.isdir(os.path.join(self.maildir, "new")) and
                         os.listdir(os.path.join(self.maildir, "new")))


class BadBackend(unittest.TestCase):

    def test_unknown_backends_refused(self):
        for arg in ("queue=nosuch", "scheduler=null", "queue", "x=fs"):
            r = subprocess.run([SMTPD, "-n", "-B", arg],
                capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, arg)
            self.assertIn("-B " + arg, r.stderr)


class EmbeddedDefaults(unittest.TestCase):
    """make run (issue 8 part 8): without smtpd.conf, smtpd -r DIR takes
    mail for any local part at localhost on 127.0.0.1 (port 2525, here
    the test's own through -D smtpd_port) and delivers
    it to DIR/Maildir, as the caller or, when that is root, as the
    daemon's account; also when DIR sits in a tree that account cannot
    enter (a clone in root's home)."""

    def run_default(self, rundir, build=None):
        d = Smtpd()
        d.build = build
        try:
            # the run directory the test chose, not Smtpd's own
            d.dir = rundir
            d.sock = os.path.join(rundir, "smtpd.sock")
            d.logpath = os.path.join(rundir, "smtpd.log")
            d.start()
            with smtplib.SMTP("127.0.0.1", d.port, timeout=20) as c:
                c.sendmail("me@localhost", ["anyone@localhost",
                                            "Someone.Else@localhost"],
                           b"Subject: first\r\n\r\nhello\r\n")
                code, _ = c.mail("me@localhost")
                self.assertEqual(code, 250)
                code, _ = c.rcpt("x@elsewhere.example")
                self.assertEqual(code, 250, "relay from local is allowed")
                c.rset()
            new = os.path.join(rundir, "Maildir", "new")
            self.assertTrue(wait_for(lambda: os.path.isdir(new) and
                                     len(os.listdir(new)) == 2,
                                     DELIVERY_TIMEOUT), d.log()[-3000:])
            owner = pwd.getpwuid(os.stat(os.path.join(
                new, os.listdir(new)[0])).st_uid).pw_name
            want = "_smtpd" if is_root() else \
                pwd.getpwuid(os.geteuid()).pw_name
            self.assertEqual(owner, want)
            self.assertEqual(d.stop(), 0, d.log()[-3000:])
        finally:
            d.cleanup()

    def test_default_port_is_2525(self):
        d = tempfile.mkdtemp(prefix="smtpd-run-")
        try:
            r = subprocess.run([SMTPD, "-n", "-v", "-r", d],
                               capture_output=True,
                text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("listen on 127.0.0.1 port 2525", r.stdout)
            self.assertIn('maildir "%s/Maildir"' % d, r.stdout)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_run_dir(self):
        parent = tempfile.mkdtemp(prefix="smtpd-run-")
        try:
            os.chmod(parent, 0o755)
            self.run_default(parent)
        finally:
            shutil.rmtree(parent, ignore_errors=True)

    def test_run_dir_in_a_closed_tree(self):
        if not is_root():
            self.skipTest("needs root: deliveries as another account")
        top = tempfile.mkdtemp(prefix="smtpd-closed-")
        try:
            os.chmod(top, 0o700)
            rundir = os.path.join(top, "clone", "run")
            os.makedirs(rundir)
            self.run_default(rundir)
        finally:
            shutil.rmtree(top, ignore_errors=True)

    def test_build_in_a_closed_tree(self):
        """make run from a clone in root's home: the daemon's binary and
        the delivery programs too are where the delivery account cannot
        go; the parent opens the program and the delivery runs it."""
        if not is_root():
            self.skipTest("needs root: deliveries as another account")
        top = tempfile.mkdtemp(prefix="smtpd-closed-")
        try:
            os.chmod(top, 0o700)
            build = os.path.join(top, "clone", "obj")
            os.makedirs(build)
            shutil.copy2(SMTPD, build)
            shutil.copytree(os.path.join(BUILD, "libexec"),
                            os.path.join(build, "libexec"))
            rundir = os.path.join(top, "clone", "run")
            os.makedirs(rundir)
            self.run_default(rundir, build=build)
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
