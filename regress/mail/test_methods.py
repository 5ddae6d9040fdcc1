"""Each local delivery method through the whole daemon (issue 8 part 5,
MDA-01..07): SMTP in, the queue, the parent starting the delivery as the
recipient user, and the result where the method puts it: an `mda`
command (its environment and the user it runs as), an mbox in /var/mail
(as root: the mailbox is made for the test account and removed after),
and LMTP to a real Dovecot LMTP server (regress/mda/test_lmtp.py starts
it on a private configuration).  Bounded waits; every daemon and server
is stopped by PID.
"""
import email
import os
import pwd
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mda"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from test_mailflow import (DELIVERY_TIMEOUT, free_port,  # noqa: E402
                           recipient_user)
from smtpdtest import Smtpd, is_root, wait_for  # noqa: E402
import test_lmtp  # noqa: E402


class Methods(unittest.TestCase):

    def start(self, action):
        self.user = recipient_user()
        self.port = free_port()
        self.smtpd = Smtpd()
        self.addCleanup(self.smtpd.cleanup)
        self.out = os.path.join(self.smtpd.dir, "out")
        os.mkdir(self.out)
        pw = pwd.getpwnam(self.user)
        os.chown(self.out, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "m" %s\n'
                    'match from any for domain "example.org" action "m"\n'
                    % (self.port, action % {"out": self.out}))
        self.smtpd.start()

    def send(self, subject="method"):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.sendmail("alice@example.net", ["%s@example.org" % self.user],
                       ("Subject: %s\r\n\r\nline one\r\nFrom here\r\n"
                        % subject).encode())

    def wait_file(self, path):
        self.assertTrue(wait_for(lambda: os.path.exists(path) and
                                 os.path.getsize(path) > 0,
                                 DELIVERY_TIMEOUT),
                        "%s never written:\n%s" % (path,
                                                   self.smtpd.log()[-3000:]))

    def test_mda_command(self):
        self.start('mda "env > %(out)s/env; cat > %(out)s/msg"')
        self.send()
        self.wait_file(os.path.join(self.out, "msg"))
        self.assertTrue(wait_for(lambda: "delivery" in self.smtpd.log() and
                                 "result=ok" in self.smtpd.log(), 10))
        with open(os.path.join(self.out, "msg"), "rb") as f:
            m = email.message_from_bytes(f.read())
        self.assertEqual(m["Return-Path"], "<alice@example.net>")
        self.assertEqual(m["Subject"], "method")
        with open(os.path.join(self.out, "env")) as f:
            env = dict(line.rstrip("\n").split("=", 1) for line in f
                       if "=" in line)
        self.assertEqual(env["SENDER"], "alice@example.net")
        self.assertEqual(env["RECIPIENT"], "%s@example.org" % self.user)
        self.assertEqual(env["USER"], self.user)
        self.assertEqual(os.stat(os.path.join(self.out, "msg")).st_uid,
                         pwd.getpwnam(self.user).pw_uid)

    def test_mda_exit_status_temporary(self):
        """exit 75 is a temporary failure: the envelope stays queued."""
        self.start('mda "cat > /dev/null; exit 75"')
        self.send()
        self.assertTrue(wait_for(lambda: "result=tempfail" in
                                 self.smtpd.log(), DELIVERY_TIMEOUT),
                        self.smtpd.log()[-3000:])
        spool = os.path.join(self.smtpd.dir, "spool", "queue")
        found = [f for _, _, files in os.walk(spool) for f in files
                 if f != "message"]
        self.assertEqual(len(found), 1, "the envelope is kept for a retry")

    def test_mbox(self):
        if not is_root():
            self.skipTest("needs root: /var/mail is root's")
        path = "/var/mail/" + recipient_user()
        if os.path.exists(path):
            os.unlink(path)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        self.start('mbox')
        self.send("to mbox")
        self.wait_file(path)
        with open(path, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"From alice@example.net "), data)
        self.assertIn(b"\n>From here\n", data)
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_mode & 0o777),
                         (pwd.getpwnam(self.user).pw_uid, 0o600))


class Lmtp(test_lmtp.TestLmtpDovecot):
    """The lmtp action to a real Dovecot (its start and stop are
    test_lmtp's); the recipient is a user Dovecot knows."""
    test_deliver_unix_and_tcp = None
    test_unknown_user_permanent = None

    def test_daemon_delivers_over_lmtp(self):
        user = recipient_user()
        with open(os.path.join(self.dir, "users"), "a") as f:
            f.write("%s:{PLAIN}x::::\n" % user)
        port = free_port()
        d = Smtpd()
        self.addCleanup(d.cleanup)
        with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "l" lmtp "unix:%s/lmtp.sock"\n'
                    'match from any for domain "example.org" action "l"\n'
                    % (port, self.dir))
        d.start()
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as c:
            c.sendmail("alice@example.net", ["%s@example.org" % user],
                       b"Subject: over lmtp\r\n\r\nhello\r\n")
        self.assertTrue(wait_for(lambda: self.inbox(user), DELIVERY_TIMEOUT),
                        d.log()[-3000:])
        (msg,) = self.inbox(user)
        self.assertIn(b"Subject: over lmtp", msg)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
