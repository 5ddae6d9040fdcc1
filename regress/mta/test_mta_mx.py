"""MX relaying end to end (issue 9 parts 1, 2; MTA-01, MTA-02): a real
daemon whose lookup process asks a real DNS server (dnsmasq, through
regress/lib/dnsserver.py, `-o resolver`) and whose MTA connects to the
MX hosts it names on the test's port (`-o mta-port`), where the scripted
peer of fakesmtp.py listens on 127.0.0.1.  An MX preferred but dead
(127.0.0.2 refuses) is passed over for the next; a domain without MX is
relayed to its own address; a null MX and a domain that does not exist
bounce at once with their reasons, without a connection.
"""
import os
import pwd
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mail"))
import dnsserver  # noqa: E402
from fakesmtp import FakeSMTP  # noqa: E402
from smtpdtest import Smtpd, free_port  # noqa: E402
from test_mailflow import recipient_user  # noqa: E402
from test_mta_relay import BODY, RelayBase  # noqa: E402

ZONE = [
    ("mx.test", "MX", 10, "dead.mx.test"),
    ("mx.test", "MX", 20, "good.mx.test"),
    ("dead.mx.test", "A", "127.0.0.2"),
    ("good.mx.test", "A", "127.0.0.1"),
    ("implicit.test", "A", "127.0.0.1"),
    ("nullmx.test", "MX", 0, "."),
]


class MxRelay(RelayBase):
    """RelayBase's helpers, with a configuration of MX relaying."""

    @classmethod
    def setUpClass(cls):
        cls.dns = dnsserver.DnsServer(ZONE)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def setUp(self):
        self.fake = FakeSMTP()
        self.addCleanup(self.fake.stop)
        self.user = recipient_user()
        self.port = free_port()
        self.smtpd = Smtpd(args=("-o", "mta-timeout=2",
                                 "-o", "resolver=" + self.dns.servers,
                                 "-o", "mta-port=%d" % self.fake.port))
        self.mail = os.path.join(self.smtpd.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "local" maildir "%s/%%{user.username}"\n'
                    'action "out" relay helo relay.test.example\n'
                    'match from any for domain "example.org" '
                    'action "local"\n'
                    'match from any for any action "out"\n'
                    % (self.port, self.mail))
        self.smtpd.start()
        self.maildir = os.path.join(self.mail, self.user)
        self.sender = "%s@example.org" % self.user

    def test_preferred_mx_dead_next_one_used(self):
        self.send(["a@mx.test", "b@mx.test"])
        (tx,) = self.transactions(1)
        self.assertEqual(sorted(tx["rcpts"]), ["a@mx.test", "b@mx.test"])
        self.assertTrue(tx["data"].endswith(
            BODY.replace(b"\r\n.", b"\r\n..")), tx["data"][-300:])
        # the preferred host was tried first and refused
        self.log_has(r"mta disconnected relay=mx\.test address=127\.0\.0\.2"
                     r":\d+ host=dead\.mx\.test messages=0 "
                     r"reason=\"cannot connect")
        self.log_has(r"mta delivery .*to=<a@mx\.test>.*result=ok")

    def test_implicit_mx(self):
        self.send(["c@implicit.test"])
        (tx,) = self.transactions(1)
        self.assertEqual(tx["rcpts"], ["c@implicit.test"])

    def test_null_mx_and_nxdomain_bounce_without_connecting(self):
        self.send(["d@nullmx.test", "e@nosuch.test"])
        (report,) = self.reports(1)
        got = self.status_of(report)
        self.assertEqual(set(got), {"d@nullmx.test", "e@nosuch.test"})
        action, status, diag = got["d@nullmx.test"]
        self.assertEqual(action, "failed")
        self.assertTrue(status.startswith("5."), status)
        self.assertIn("does not accept mail", diag)
        action, status, diag = got["e@nosuch.test"]
        self.assertEqual(action, "failed")
        self.assertTrue(status.startswith("5."), status)
        self.assertIn("does not exist", diag)
        self.assertEqual(self.fake.transactions, [])
        self.assertEqual(self.fake.connections, 0)


if __name__ == "__main__":
    unittest.main()
