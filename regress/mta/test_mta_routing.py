"""Next hop and HELO name from tables (issue 9; MTA-07, MTA-10): a real
daemon relays with `relay domain <t>` (each recipient domain's URL from
a mapping) to two scripted fake servers (fakesmtp.py), and with
`helo-src <t>` (the HELO name of the `src` address from an addrname
mapping).  A domain without an entry fails temporarily with a clear
reason; a source address without an entry says the action's `helo`.
Every wait is bounded, the daemon is stopped by PID (smtpdtest.Smtpd).
"""
import os
import re
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from fakesmtp import FakeSMTP  # noqa: E402
from smtpdtest import Smtpd, free_port, wait_for  # noqa: E402

TIMEOUT = 20

CONF = """\
table doms {{ "one.test" = "smtp://127.0.0.1:{one}", \
"two.test" = "smtp+notls://127.0.0.1:{two}" }}
table helos {{ "127.0.0.1" = "helo-by-src.example" }}
table nohelos {{ "192.0.2.1" = "elsewhere.example" }}
listen on 127.0.0.1 port {port}
action "bydomain" relay domain <doms> helo fallback.example
action "helosrc" relay host "smtp://127.0.0.1:{three}" src 127.0.0.1 \
helo-src <helos> helo fallback.example
action "nohelo" relay host "smtp://127.0.0.1:{four}" src 127.0.0.1 \
helo-src <nohelos> helo fallback.example
match from any for domain {{ "one.test", "two.test", "none.test" }} \
action "bydomain"
match from any for domain "helo.test" action "helosrc"
match from any for domain "nohelo.test" action "nohelo"
"""


class TestMtaRouting(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fakes = {n: FakeSMTP() for n in ("one", "two", "three", "four")}
        cls.smtpd = Smtpd(args=("-o", "mta-timeout=3"))
        cls.port = free_port()
        ports = {n: f.port for n, f in cls.fakes.items()}
        with open(os.path.join(cls.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(CONF.format(port=cls.port, **ports))
        try:
            cls.smtpd.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.smtpd.stop()
        log = cls.smtpd.log()
        cls.smtpd.__exit__(None, None, None)
        for f in cls.fakes.values():
            f.stop()
        assert rc in (0, None), log[-4000:]

    def send(self, *rcpts):
        body = (b"Subject: routing\r\nMessage-ID: <r@example.com>\r\n"
                b"Date: Thu, 03 Dec 2026 08:00:00 +0000\r\n\r\nhi\r\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            c.sendmail("s@example.com", list(rcpts), body)

    def outcome(self, rcpt, result):
        pat = r"mta delivery evpid=\S+ to=<%s> relay=(\S+) result=%s " \
              r"stat=(.*)" % (re.escape(rcpt), result)
        m = wait_for(lambda: re.search(pat, self.smtpd.log()), TIMEOUT)
        self.assertTrue(m, "no %s for %s:\n%s" % (
            result, rcpt, self.smtpd.log()[-4000:]))
        return m.group(1), m.group(2)

    def test_relay_domain(self):
        self.send("a@one.test", "b@two.test")
        relay, _ = self.outcome("a@one.test", "ok")
        self.assertEqual(relay, "smtp://127.0.0.1:%d"
                         % self.fakes["one"].port)
        relay, _ = self.outcome("b@two.test", "ok")
        self.assertTrue(relay.startswith("smtp+notls://"), relay)
        self.assertEqual([t["rcpts"] for t in
                          self.fakes["one"].transactions], [["a@one.test"]])
        self.assertEqual([t["rcpts"] for t in
                          self.fakes["two"].transactions], [["b@two.test"]])
        self.assertEqual(self.fakes["one"].helos, [b"EHLO fallback.example"])

    def test_relay_domain_missing(self):
        self.send("c@none.test")
        _, stat = self.outcome("c@none.test", "tempfail")
        self.assertIn("No relay host for the domain none.test", stat)

    def test_helo_src(self):
        self.send("d@helo.test")
        self.outcome("d@helo.test", "ok")
        self.assertEqual(self.fakes["three"].helos,
                         [b"EHLO helo-by-src.example"])
        self.assertEqual(self.fakes["three"].peers, ["127.0.0.1"])

    def test_helo_src_without_entry(self):
        self.send("e@nohelo.test")
        self.outcome("e@nohelo.test", "ok")
        self.assertEqual(self.fakes["four"].helos,
                         [b"EHLO fallback.example"])


if __name__ == "__main__":
    unittest.main()
