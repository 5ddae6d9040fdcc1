"""Local submission (COMPAT-01..05, QUEUE-15, LSN-07): sendmail, run as
the smtpctl binary under that name, submits through the daemon's local
socket listener (a session control asks the dispatcher for), completes
headers, extracts recipients with -t; -bs speaks SMTP on stdin/stdout;
newaliases rebuilds a db aliases table; with the daemon down the
message waits in SPOOL/offline and is submitted at the next start as the
file's owner.

As root the daemon is privilege-separated and sendmail runs as the test
account (smtpd-mail), which also receives; as an ordinary user both are
the caller (run the module under `runuser -u ACCOUNT` to cover that
case as root).  sendmail is the smtpctl binary started with argv[0]
"sendmail" (or mailq, newaliases), told the daemon's directory by
SMTPD_RUNDIR.  Every wait is bounded; daemons are stopped by PID.
"""
import os
import pwd
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import build_for, is_root, wait_for  # noqa: E402
from test_mailflow import MailFlowBase  # noqa: E402


class SendmailBase(MailFlowBase):
    """A daemon delivering @example.org and local names to DIR/mail."""

    def setUp(self):
        super().setUp()
        self.pw = pwd.getpwnam(self.user)

    def sendmail(self, args, data=b"", user="rcpt", name="sendmail",
                 timeout=30):
        """Run the smtpctl binary as NAME with ARGS, as the recipient
        account (user="rcpt") or the caller (None)."""
        pw = self.pw if user == "rcpt" and is_root() else None

        def pre():
            if pw is not None:
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
        ctl = os.path.join(build_for(self.user if pw else None), "smtpctl")
        env = dict(os.environ, SMTPD_RUNDIR=self.smtpd.dir)
        return subprocess.run([name] + list(args), executable=ctl,
                              input=data, env=env, capture_output=True,
                              timeout=timeout, preexec_fn=pre)

    def rcpt(self):
        return "%s@example.org" % self.user

    def raw_delivered(self, n=1):
        self.delivered(n)
        new = os.path.join(self.maildir, "new")
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(f.read())
        return out


class Sendmail(SendmailBase):

    def test_recipients_on_command_line(self):
        r = self.sendmail([self.rcpt()],
                          b"Subject: one\n\nline 1\nline 2\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "one")
        self.assertEqual(m.get_payload(), "line 1\nline 2\n")
        # sender: the login name at the server name; the session is local
        self.assertRegex(m["Return-Path"], "^<%s@" % self.user)
        self.assertIn("from localhost (", m["Received"])
        self.assertRegex(self.smtpd.log(), r"[0-9a-f]{16} smtp enqueue "
                         r"uid=%d pid=\d+" % self.pw.pw_uid)

    def test_headers_completed(self):
        """A message without headers gets From, Date, Message-ID."""
        r = self.sendmail(["-F", "Jane Doe", self.rcpt()], b"just a body\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (m,) = self.delivered()
        self.assertRegex(m["Message-ID"], r"^<[0-9a-f]{16}@.+>$")
        self.assertTrue(m["Date"])
        self.assertRegex(m["From"], r"^Jane Doe <%s@.+>$" % self.user)
        self.assertEqual(m.get_payload(), "just a body\n")

    def test_headers_kept(self):
        r = self.sendmail([self.rcpt()], b"From: x@example.net\nDate: Mon,"
                          b" 1 Jan 2024 00:00:00 +0000\nMessage-ID: <a@b>\n"
                          b"\nbody\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (raw,) = self.raw_delivered()
        self.assertEqual(raw.count(b"\nMessage-ID:"), 1)
        self.assertIn(b"\nMessage-ID: <a@b>\n", raw)
        self.assertIn(b"\nFrom: x@example.net\n", raw)

    def test_sender_f(self):
        r = self.sendmail(["-f", "boss@example.net", self.rcpt()],
                          b"Subject: f\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (m,) = self.delivered()
        self.assertEqual(m["Return-Path"], "<boss@example.net>")

    def test_t_extracts_and_removes_bcc(self):
        msg = ("To: Someone <%s>\nCc: nobody-here@elsewhere.invalid (x)\n"
               % self.rcpt()).encode()
        # Cc to a domain nobody accepts: refused, so only To and Bcc
        msg = ("To: Someone <%s>\nBcc: %s,\n %s\nSubject: t\n\nbody\n"
               % (self.rcpt(), self.rcpt(), self.rcpt())).encode()
        r = self.sendmail(["-t"], msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        raws = self.raw_delivered(3)
        for raw in raws:
            self.assertNotIn(b"Bcc", raw)
            self.assertIn(b"\nSubject: t\n", raw)

    def test_t_refused_recipient(self):
        r = self.sendmail(["-t"], b"To: a@elsewhere.invalid\n\nx\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"a@elsewhere.invalid", r.stderr)

    def test_dot_lines(self):
        """Without -i a lone dot ends the message; with -i (or -oi) it
        is a line; dots at line starts are stuffed and come back."""
        r = self.sendmail([self.rcpt()], b"Subject: a\n\n.x\n..y\n.\nlost\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.sendmail(["-i", self.rcpt()],
                          b"Subject: b\n\n.\n..\nkept\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.sendmail(["-oi", self.rcpt()], b"Subject: c\n\n.\nc\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {m["Subject"]: m.get_payload() for m in self.delivered(3)}
        self.assertEqual(got["a"], ".x\n..y\n")
        self.assertEqual(got["b"], ".\n..\nkept\n")
        self.assertEqual(got["c"], ".\nc\n")

    def test_crlf_input(self):
        r = self.sendmail([self.rcpt()], b"Subject: crlf\r\n\r\nx\r\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (m,) = self.delivered()
        self.assertEqual(m.get_payload(), "x\n")

    def test_ignored_flags_and_errors(self):
        r = self.sendmail(["-oem", "-odi", "-Am", "-em", "-x", "-m",
                           self.rcpt()], b"Subject: ign\n\nx\n",
                          name="send-mail")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.delivered()
        r = self.sendmail([], b"x\n")
        self.assertEqual(r.returncode, 64)      # EX_USAGE: no recipient
        r = self.sendmail(["-q"])
        self.assertEqual(r.returncode, 64)

    def test_bs(self):
        dialogue = ("EHLO me\r\nMAIL FROM:<bs@example.net>\r\nRCPT TO:<%s>"
                    "\r\nDATA\r\nSubject: bs\r\n\r\nx\r\n.\r\nQUIT\r\n"
                    % self.rcpt()).encode()
        r = self.sendmail(["-bs"], dialogue)
        self.assertEqual(r.returncode, 0, r.stderr)
        codes = [line[:3] for line in r.stdout.split(b"\r\n")
                 if line[3:4] == b" "]
        self.assertEqual(codes, [b"220", b"250", b"250", b"250", b"354",
                                 b"250", b"221"])
        (m,) = self.delivered()
        self.assertEqual(m["Return-Path"], "<bs@example.net>")

    def test_mailq(self):
        """mailq and sendmail -bp are `smtpctl show queue` (CTL-02): the
        caller of this test (root, or the daemon's own user) sees the
        queue; as root, another user is refused as by smtpctl."""
        for name, args in (("mailq", []), ("sendmail", ["-bp"])):
            r = self.sendmail(args, name=name, user=None)
            self.assertEqual(r.returncode, 0, r.stderr)
            if is_root():
                r = self.sendmail(args, name=name)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(b"permission denied", r.stderr)

    def test_control_refuses_other_verbs(self):
        """The enqueue verb is public; the others stay root's."""
        if not is_root():
            self.skipTest("NOT RUN: needs a second account (root)")
        r = self.smtpd.ctl("show", "status", user=self.user)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)


class SocketListener(SendmailBase):
    """LSN-08, RULE-06: sendmail's session is the socket listener's:
    its tag routes the mail, and `from socket` holds for it; a loopback
    TCP client gets neither, so the same recipient is refused there."""

    RULES = 'match tag LOCALSUB for any action "local"\n'

    def setUp(self):
        super().setUp()
        conf = ('listen on socket tag LOCALSUB\n'
                'listen on 127.0.0.1 port %d\n'
                'action "local" maildir "%s/%%{user.username}"\n'
                % (self.port, self.mail)) + self.RULES
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        self.assertEqual(self.smtpd.stop(), 0)
        self.smtpd.start()

    def test_socket_only(self):
        r = self.sendmail([self.rcpt()], b"Subject: socket\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "socket")
        with self.client() as c:
            c.mail("s@example.net")
            code, msg = c.rcpt(self.rcpt())
            self.assertEqual(code // 100, 5, msg)


class FromSocket(SocketListener):
    RULES = 'match from socket for any action "local"\n'


class Offline(SendmailBase):
    """QUEUE-15: the daemon down, sendmail stores; at start, submitted
    as the file's owner and removed."""

    def offline_dir(self):
        return os.path.join(self.smtpd.dir, "spool", "offline")

    def test_offline_then_start(self):
        st = os.stat(self.offline_dir())
        self.assertEqual(st.st_mode & 0o7777, 0o1777)
        self.assertEqual(self.smtpd.stop(), 0)
        r = self.sendmail(["-f", "off@example.net", self.rcpt()],
                          b"Subject: offline\n\nwaited\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        files = os.listdir(self.offline_dir())
        self.assertEqual(len(files), 1, files)
        st = os.stat(os.path.join(self.offline_dir(), files[0]))
        self.assertEqual(st.st_uid, self.pw.pw_uid)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.smtpd.start()
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "offline")
        self.assertEqual(m["Return-Path"], "<off@example.net>")
        self.assertTrue(wait_for(lambda: os.listdir(self.offline_dir())
                                 == [], 10), os.listdir(self.offline_dir()))
        # logged when the submitting child is reaped, which may come
        # after the delivery and the file's removal
        self.assertTrue(wait_for(lambda: "offline file %s enqueued" %
                                 files[0] in self.smtpd.log(), 10),
                        self.smtpd.log()[-3000:])
        self.assertIn("smtp enqueue uid=%d " % self.pw.pw_uid,
                      self.smtpd.log())

    def test_offline_bad_files_set_aside(self):
        """Not regular, or (as root) owned by no account, or (not root)
        someone else's: renamed .bad.*, logged, never submitted."""
        self.assertEqual(self.smtpd.stop(), 0)
        r = self.sendmail([self.rcpt()], b"Subject: stray\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (name,) = os.listdir(self.offline_dir())
        path = os.path.join(self.offline_dir(), name)
        os.symlink(path, os.path.join(self.offline_dir(), "link"))
        if is_root():
            os.chown(path, 54321, 54321)        # no such account
        else:
            os.link(path, os.path.join(self.offline_dir(), "hard"))
        self.smtpd.start()
        self.assertTrue(wait_for(lambda: self.smtpd.log().count(
            "set aside") >= 2, 10), self.smtpd.log())
        left = sorted(os.listdir(self.offline_dir()))
        self.assertIn(".bad.link", left)
        self.assertTrue(all(n.startswith(".bad.") for n in left), left)
        self.assertFalse(os.path.exists(os.path.join(self.maildir, "new"))
                         and os.listdir(os.path.join(self.maildir, "new")))

    def test_offline_file_runs_as_its_owner(self):
        """The arguments in a file do not choose who submits: the uid on
        the control socket is the file's owner's."""
        if not is_root():
            self.skipTest("NOT RUN: needs root to own files as two users")
        self.assertEqual(self.smtpd.stop(), 0)
        # root writes the file (as sendmail would) and gives it away
        r = self.sendmail(["-f", "root@example.net", self.rcpt()],
                          b"Subject: owner\n\nx\n", user=None)
        self.assertEqual(r.returncode, 0, r.stderr)
        (name,) = os.listdir(self.offline_dir())
        os.chown(os.path.join(self.offline_dir(), name), self.pw.pw_uid,
                 self.pw.pw_gid)
        self.smtpd.start()
        self.delivered()
        log = self.smtpd.log()
        self.assertIn("submitted as user=%s" % self.user, log)
        self.assertIn("smtp enqueue uid=%d" % self.pw.pw_uid, log)
        self.assertNotIn("smtp enqueue uid=0 ", log)


class Newaliases(SendmailBase):

    def test_db_aliases_rebuilt(self):
        src = os.path.join(self.smtpd.dir, "aliases")
        with open(src, "w") as f:
            f.write("team: %s\n" % self.user)
        conf = ('table aliases db:%s.db\n'
                'action "local" maildir "%s/%%{user.username}" '
                'alias <aliases>\n'
                'match from any for domain "example.org" action "local"\n'
                % (src, self.mail))
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        r = self.sendmail([], name="newaliases", user=None)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"rebuilt from %s" % src.encode(), r.stdout)
        self.assertTrue(os.path.exists(src + ".db"))
        r = self.sendmail(["-bi"], user=None)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.smtpd.stop(), 0)
        self.smtpd.start()
        r = self.sendmail(["team@example.org"], b"Subject: alias\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        (m,) = self.delivered()
        self.assertEqual(m["Subject"], "alias")

    def test_file_table_nothing_to_do(self):
        conf = ('table aliases file:%s/aliases\n'
                'action "local" maildir alias <aliases>\n'
                'match from local action "local"\n' % self.smtpd.dir)
        path = os.path.join(self.smtpd.dir, "other.conf")
        with open(path, "w") as f:
            f.write(conf)
        r = self.sendmail(["-f", path], name="newaliases", user=None)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"nothing to do", r.stdout)


if __name__ == "__main__":
    unittest.main()
