"""TLS on MX relaying (issue 9 part 3; MTA-25, TLS-03): a real daemon
resolves MX records with dnsmasq (dnsserver.py, `-o resolver`) and
relays to the MX host's port (`-o mta-port`), where a second daemon
offers STARTTLS with a certificate for mx.tls.test signed by the test
CA.  `relay tls ca NAME` verifies the MX name: mx.tls.test passes, an
MX named otherwise (same address) fails temporarily; plain MX relaying
uses STARTTLS unverified and logs whether the name would pass.
"""
import os
import pwd
import re
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mail"))
import dnsserver  # noqa: E402
from smtpdtest import Smtpd, free_port, wait_for  # noqa: E402
from test_mailflow import recipient_user  # noqa: E402
from test_mta_tls import make_certs  # noqa: E402

TIMEOUT = 20

ZONE = [
    ("good.test", "MX", 10, "mx.tls.test"),
    ("opp.test", "MX", 10, "mx.tls.test"),
    ("wrong.test", "MX", 10, "other.tls.test"),
    ("mx.tls.test", "A", "127.0.0.1"),
    ("other.tls.test", "A", "127.0.0.1"),
]

RECEIVER = """\
pki mx.tls.test cert "{d}/mx.crt"
pki mx.tls.test key "{d}/mx.key"
listen on 127.0.0.1 port {mx} tls pki mx.tls.test
action "local" maildir "{d}/mail/%{{user.username}}"
match from any for any action "local"
"""

SENDER = """\
ca corpca cert "{d}/ca.crt"
listen on 127.0.0.1 port {port}
action "tls" relay tls ca corpca
action "opp" relay ca corpca
match from any for domain {{ "good.test", "wrong.test" }} action "tls"
match from any for domain "opp.test" action "opp"
"""


class TestMxTLS(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dns = dnsserver.DnsServer(ZONE)
        cls.dns.start()
        cls.user = recipient_user()
        cls.mx = free_port()
        cls.port = free_port()
        cls.b = Smtpd()
        cls.a = Smtpd(args=("-o", "mta-timeout=3", "-o", "resolver=" +
                            cls.dns.servers, "-o", "mta-port=%d" % cls.mx))
        try:
            d = cls.b.dir
            make_certs(d)
            mail = os.path.join(d, "mail")
            os.mkdir(mail)
            pw = pwd.getpwnam(cls.user)
            os.chown(mail, pw.pw_uid, pw.pw_gid)
            cls.maildir = os.path.join(mail, cls.user, "new")
            with open(os.path.join(d, "smtpd.conf"), "w") as f:
                f.write(RECEIVER.format(d=d, mx=cls.mx))
            with open(os.path.join(cls.a.dir, "smtpd.conf"), "w") as f:
                f.write(SENDER.format(d=d, port=cls.port))
            cls.b.start()
            cls.a.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        logs = []
        for d in (cls.a, cls.b):
            logs.append((d.stop(), d.log()))
            d.__exit__(None, None, None)
        cls.dns.stop()
        for rc, log in logs:
            assert rc in (0, None), log[-4000:]

    def send(self, rcpt):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            c.sendmail("s@example.com", [rcpt],
                       b"Subject: mx tls\r\n\r\nmarker %s\r\n" %
                       rcpt.encode())

    def outcome(self, rcpt, result):
        pat = r"(\w{16}) mta delivery evpid=\S+ to=<%s> relay=\S+ " \
              r"result=%s stat=(.*)" % (re.escape(rcpt), result)
        m = wait_for(lambda: re.search(pat, self.a.log()), TIMEOUT)
        self.assertTrue(m, "no %s for %s:\n%s" % (result, rcpt,
                                                 self.a.log()[-4000:]))
        return m

    def test_mx_name_verified(self):
        rcpt = "%s@good.test" % self.user
        self.send(rcpt)
        m = self.outcome(rcpt, "ok")
        self.assertRegex(self.a.log(), r"%s mta tls address=127\.0\.0\.1:"
                         r"%d host=mx\.tls\.test \S+ verified=yes "
                         r"servername=mx\.tls\.test " % (m.group(1),
                                                         self.mx))

    def test_mx_name_mismatch(self):
        rcpt = "%s@wrong.test" % self.user
        self.send(rcpt)
        stat = self.outcome(rcpt, "tempfail").group(2)
        self.assertIn("TLS handshake", stat)
        self.assertIn("other.tls.test", stat)

    def test_opportunistic_mx(self):
        rcpt = "%s@opp.test" % self.user
        self.send(rcpt)
        m = self.outcome(rcpt, "ok")
        self.assertRegex(self.a.log(), r"%s mta tls \S+ host=mx\.tls\.test "
                         r"\S+ verified=yes servername=mx\.tls\.test "
                         % m.group(1))


if __name__ == "__main__":
    unittest.main()
