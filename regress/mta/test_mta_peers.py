"""The MTA against real next hops (issue 9 part 2; MTA-04, MTA-14):
Postfix's smtp-sink (unpacked from Debian's postfix package by
regress/lib/debfetch.py, not installed: without it the test is reported
not run) and a second instance of our own smtpd delivering to a
Maildir.  What arrives is compared byte for byte with what was sent
(CRLF on the wire, dot-stuffing undone by the receiving smtpd),
recipients of one message share a transaction, and a burst of
messages shares a connection.  Every wait is bounded, every process is
stopped by PID.
"""
import os
import pwd
import re
import signal
import smtplib
import subprocess
import sys
import tempfile
import shutil
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mail"))
from smtpdtest import (NOT_RUN, Smtpd, free_port,  # noqa: E402
                       sanitizer_build,
                       is_root, wait_for)
from test_mailflow import recipient_user  # noqa: E402
from debfetch import unpack_or_skip  # noqa: E402

TIMEOUT = 20
# complete headers: the loopback listener adds none (SMTP-22)
HDRS = (b"Date: Thu, 03 Dec 2026 08:00:00 +0000\r\n"
        b"Message-ID: <t@example.com>\r\n")
BODY = (HDRS + b"Subject: peers\r\n\r\nline one\r\n.dot line\r\n..two\r\n"
        b"end\r\n")


def postfix_root():
    """DIR/root of the unpacked postfix package, or SkipTest."""
    return unpack_or_skip(["postfix"], "usr/sbin/smtp-sink", NOT_RUN)


def relay_conf(port, target, extra=""):
    return ("mta limit session-keepalive 2\n%s"
            "listen on 127.0.0.1 port %d\n"
            "action \"out\" relay host smtp://127.0.0.1:%d\n"
            "match from any for domain \"example.net\" action \"out\"\n"
            % (extra, port, target))


class SmtpSink(unittest.TestCase):

    def setUp(self):
        root = postfix_root()
        self.dump = tempfile.mkdtemp(prefix="smtp-sink-")
        self.addCleanup(shutil.rmtree, self.dump, True)
        os.chmod(self.dump, 0o777)
        self.sink_port = free_port()
        cmd = [os.path.join(root, "usr", "sbin", "smtp-sink"), "-c",
               "-d", os.path.join(self.dump, "%M.")]
        if is_root():
            cmd += ["-u", "nobody"]
        cmd += ["127.0.0.1:%d" % self.sink_port, "100"]
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(
            root, "usr", "lib", "postfix"))
        self.out = open(os.path.join(self.dump, "counters"), "w+b")
        self.sink = subprocess.Popen(cmd, stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        self.addCleanup(self.stop_sink)
        self.port = free_port()
        self.smtpd = Smtpd(conf=relay_conf(self.port, self.sink_port))
        self.smtpd.start()

    def stop_sink(self):
        if self.sink.pid > 1 and self.sink.poll() is None:
            self.sink.send_signal(signal.SIGTERM)
        try:
            self.sink.wait(10)
        except subprocess.TimeoutExpired:
            self.sink.kill()
            self.sink.wait(10)
        self.out.close()

    def tearDown(self):
        rc = self.smtpd.stop()
        log = self.smtpd.log()
        self.smtpd.__exit__(None, None, None)
        self.assertEqual(rc, 0, log[-4000:])

    def dump_text(self, name):
        with open(os.path.join(self.dump, name), "rb") as f:
            return f.read()

    def dumps(self):
        return sorted(f for f in os.listdir(self.dump) if f != "counters")

    def counters(self):
        with open(os.path.join(self.dump, "counters"), "rb") as f:
            last = f.read().split(b"\r")
        m = [re.match(rb"sess=(\d+) quit=(\d+) mesg=(\d+)", x) for x in last]
        m = [x for x in m if x]
        return tuple(int(v) for v in m[-1].groups()) if m else (0, 0, 0)

    def test_burst_to_smtp_sink(self):
        n = 5
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example.com")
            for i in range(n):
                c.sendmail("s@example.com", ["a%d@example.net" % i,
                                              "b%d@example.net" % i], BODY)
        # smtp-sink writes each dump as the message comes: wait until
        # every one is whole
        def whole():
            names = self.dumps()
            return len(names) >= n and all(
                self.dump_text(f).endswith(b"\nend\n\n") for f in names)
        # the MTA gathers a message's envelopes for 20 ms into one
        # transaction; under the sanitizers (ten times slower) the second
        # may come later and go in a transaction of its own
        together = not sanitizer_build()
        self.assertTrue(wait_for(lambda: whole() and (together or sum(
            len(re.findall(rb"X-Rcpt-Args: ", self.dump_text(f)))
            for f in self.dumps()) >= 2 * n), TIMEOUT),
            self.smtpd.log()[-4000:])
        got = []
        for name in self.dumps():
            with open(os.path.join(self.dump, name), "rb") as f:
                d = f.read()
            rcpts = re.findall(rb"X-Rcpt-Args: <([^>]+)>", d)
            got += rcpts
            if together:
                self.assertEqual(len(rcpts), 2, d)
            # never two messages' recipients in one transaction
            self.assertEqual(len({r[1:] for r in rcpts}), 1, d)
            self.assertRegex(d, rb"X-Helo-Args: \S+\n")
            # smtp-sink undoes the dot-stuffing and writes LF ends
            self.assertIn(b"\nSubject: peers\n\nline one\n.dot line\n"
                          b"..two\nend\n", d)
        self.assertEqual(sorted(got), sorted(
            b"%s%d@example.net" % (p, i) for i in range(n)
            for p in (b"a", b"b")))
        # the session said QUIT after session-keepalive: counters final
        self.assertTrue(wait_for(lambda: self.counters()[2] >= n and
                                 self.counters()[0] >= 1, TIMEOUT),
                        self.counters())
        sess, quit, mesg = self.counters()
        self.assertEqual(mesg, n)
        self.assertLessEqual(sess, 2)
        self.assertEqual(quit, sess)


class OwnSmtpd(unittest.TestCase):
    """Relay to a second instance of ours that delivers to a Maildir."""

    def setUp(self):
        self.user = recipient_user()
        self.hop_port = free_port()
        self.hop = Smtpd()
        self.mail = os.path.join(self.hop.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.hop.dir, "smtpd.conf"), "w") as f:
            f.write("listen on 127.0.0.1 port %d\n"
                    "action \"local\" maildir \"%s/%%{user.username}\"\n"
                    "match from any for domain \"example.net\" "
                    "action \"local\"\n" % (self.hop_port, self.mail))
        self.hop.start()
        self.port = free_port()
        self.smtpd = Smtpd(conf=relay_conf(self.port, self.hop_port))
        self.smtpd.start()

    def tearDown(self):
        for d in (self.smtpd, self.hop):
            rc = d.stop()
            log = d.log()
            d.__exit__(None, None, None)
            self.assertEqual(rc, 0, log[-4000:])

    def test_byte_exact_through_two_daemons(self):
        rcpt = "%s@example.net" % self.user
        body = (HDRS + b"Subject: two hops\r\nX-Test: yes\r\n\r\n.\r\n..\r\n"
                b".x\r\n" + b"y" * 900 + b"\r\n\r\nlast\r\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.sendmail("s@example.com", [rcpt], body)
        new = os.path.join(self.mail, self.user, "new")
        self.assertTrue(wait_for(lambda: os.path.isdir(new) and
                                 os.listdir(new), TIMEOUT),
                        self.smtpd.log()[-3000:] + self.hop.log()[-3000:])
        (name,) = os.listdir(new)
        with open(os.path.join(new, name), "rb") as f:
            got = f.read()
        # two Received: lines (one per daemon), then the message as sent
        self.assertEqual(len(re.findall(rb"^Received: ", got, re.M)), 2)
        self.assertTrue(got.endswith(body.replace(b"\r\n", b"\n")), got)
        self.assertIn(b"Return-Path: <s@example.com>", got)

    def test_large_message_byte_exact(self):
        rcpt = "%s@example.net" % self.user
        lines = [b".%d %s" % (i, b"z" * (i % 300)) if i % 3 == 0 else
                 b"line %d" % i for i in range(30000)]
        body = HDRS + b"Subject: big\r\n\r\n" + b"\r\n".join(lines) + b"\r\n"
        self.assertGreater(len(body), 1500000)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as c:
            c.sendmail("s@example.com", [rcpt], body)
        new = os.path.join(self.mail, self.user, "new")
        self.assertTrue(wait_for(lambda: os.path.isdir(new) and
                                 os.listdir(new), TIMEOUT),
                        self.smtpd.log()[-3000:] + self.hop.log()[-3000:])
        (name,) = os.listdir(new)
        with open(os.path.join(new, name), "rb") as f:
            got = f.read()
        self.assertTrue(got.endswith(body.replace(b"\r\n", b"\n")))


if __name__ == "__main__":
    unittest.main()
