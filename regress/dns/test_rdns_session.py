"""test_rdns_session.py -- the client's reverse name in a real daemon
(SMTP-30): lookup asks DNS at connect, the greeting waits for it at most
2 s, the Received header, the log and `match from rdns` use it.

smtpd runs with -o resolver= pointing at dnsmasq (regress/lib/
dnsserver.py) on a loopback port; clients connect to 127.0.0.1 from
other loopback addresses (127.0.0.5 has a confirmed name, 127.0.0.6 an
unconfirmed one, 127.0.0.7 none).  A MiniDns that never answers for
127.0.0.8 shows the bound on the greeting.  Every wait is bounded; the
daemon and the DNS servers are stopped by PID.
"""
import email
import os
import pwd
import smtplib
import socket
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
import dnsserver  # noqa: E402
from smtpdtest import Smtpd, free_port, is_root, wait_for  # noqa: E402

DELIVERY_TIMEOUT = 20
MAIL_USER = "smtpd-mail"

ZONE = [("127.0.0.5", "PTR", "client.rdns.test"),
        ("client.rdns.test", "A", "127.0.0.5"),
        ("127.0.0.6", "PTR", "liar.rdns.test")]


def recipient_user():
    """As test_mailflow.py: the caller, or a test account as root."""
    if not is_root():
        return pwd.getpwuid(os.geteuid()).pw_name
    import subprocess
    try:
        pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", MAIL_USER], check=True,
                       timeout=60)
    return MAIL_USER


class RdnsBase(unittest.TestCase):
    """A daemon delivering @example.org to DIR/mail/USER for clients
    with a reverse name only, resolving through SERVER."""

    def start(self, servers):
        self.user = recipient_user()
        self.port = free_port()
        self.smtpd = Smtpd(args=("-o", "resolver=" + servers))
        self.mail = os.path.join(self.smtpd.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "local" maildir "%s/%%{user.username}"\n'
                    'match from rdns for domain "example.org" '
                    'action "local"\n' % (self.port, self.mail))
        self.smtpd.start()
        self.maildir = os.path.join(self.mail, self.user, "new")

    def tearDown(self):
        if getattr(self, "smtpd", None) is None:
            return
        rc = self.smtpd.stop()
        log = self.smtpd.log()
        self.smtpd.__exit__(None, None, None)
        self.assertEqual(rc, 0, log[-4000:])

    def send(self, source):
        """One message from SOURCE: (greeting seconds, RCPT code)."""
        t0 = time.monotonic()
        c = smtplib.SMTP(timeout=20, source_address=(source, 0))
        c.connect("127.0.0.1", self.port)
        waited = time.monotonic() - t0
        try:
            c.ehlo("helo.example.net")
            c.mail("sender@example.net")
            code, _ = c.rcpt("%s@example.org" % self.user)
            if code == 250:
                code2, msg = c.data(b"Subject: rdns\r\n\r\nbody\r\n")
                self.assertEqual(code2, 250, msg)
        finally:
            c.quit()
        return waited, code

    def delivered(self):
        def one():
            try:
                return len(os.listdir(self.maildir)) >= 1
            except OSError:
                return False
        self.assertTrue(wait_for(one, DELIVERY_TIMEOUT),
                        self.smtpd.log()[-4000:])
        name, = os.listdir(self.maildir)
        with open(os.path.join(self.maildir, name), "rb") as f:
            return email.message_from_bytes(f.read())


class TestRdns(RdnsBase):
    @classmethod
    def setUpClass(cls):
        cls.dns = dnsserver.DnsServer(ZONE)
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def test_confirmed_name_in_received_and_log(self):
        self.start(self.dns.servers)
        waited, code = self.send("127.0.0.5")
        self.assertEqual(code, 250)
        m = self.delivered()
        self.assertIn("from helo.example.net (client.rdns.test "
                      "[127.0.0.5])", " ".join(m["Received"].split()))
        self.assertTrue(wait_for(lambda: "address=127.0.0.5 "
                                 "host=client.rdns.test" in
                                 self.smtpd.log(), 5), self.smtpd.log())

    def test_unconfirmed_name_still_shown(self):
        self.start(self.dns.servers)
        waited, code = self.send("127.0.0.6")
        self.assertEqual(code, 250)
        m = self.delivered()
        self.assertIn("(liar.rdns.test [127.0.0.6])",
                      " ".join(m["Received"].split()))

    def test_no_name_unknown_and_rule_refuses(self):
        self.start(self.dns.servers)
        waited, code = self.send("127.0.0.7")
        # `match from rdns` does not hold: no rule, the recipient refused
        self.assertEqual(code // 100, 5)
        self.assertLess(waited, 1.5)
        self.assertTrue(wait_for(lambda: "address=127.0.0.7 "
                                 "host=<unknown>" in self.smtpd.log(), 5),
                        self.smtpd.log())


class TestRdnsBound(RdnsBase):
    def test_silent_dns_greeting_within_bound(self):
        with dnsserver.MiniDns(faults={"8.0.0.127.in-addr.arpa": "drop"}) \
                as dns:
            self.start(dns.servers)
            waited, code = self.send("127.0.0.8")
            self.assertGreaterEqual(waited, 1.5)
            self.assertLess(waited, 4.0)
            self.assertEqual(code // 100, 5)
            self.assertTrue(wait_for(lambda: "address=127.0.0.8 "
                                     "host=<unknown>" in self.smtpd.log(),
                                     5), self.smtpd.log())


if __name__ == "__main__":
    unittest.main()
