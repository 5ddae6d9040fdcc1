"""The MTA's failure shapes (issue 9 part 2; MTA-17, MTA-19, MTA-24):
a real daemon relays to the scripted fake next hop of fakesmtp.py,
which answers 4xx or 5xx at each stage, malformed replies, stalls, or
refuses the connection; what must retry stays queued (a forced retry
delivers it), what must bounce comes back to the sender as an RFC 3464
report read with the email package.  The daemon and its configuration
are test_mta_relay.RelayBase's.  Every wait is bounded.
"""
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from fakesmtp import FakeSMTP  # noqa: E402
from smtpdtest import wait_for  # noqa: E402
from test_mta_relay import BODY, TIMEOUT, RelayBase  # noqa: E402


class Failures(RelayBase):
    """Every reply class at every stage; what must retry stays queued,
    what must bounce comes back to the sender."""

    def result(self, rcpt, result, stat=None, timeout=TIMEOUT):
        pat = r"mta delivery evpid=[0-9a-f]{16} to=<%s> relay=\S+ " \
              r"result=%s" % (re.escape(rcpt), result)
        if stat is not None:
            pat += r" stat=\"?%s" % stat
        return self.log_has(pat, timeout)

    def retry_all(self, n):
        """smtpctl schedule all until N transactions arrived: the queue
        must have taken the failures back before a schedule finds them"""
        def retried():
            self.assertEqual(self.smtpd.ctl("schedule", "all").returncode,
                             0)
            return wait_for(lambda: len(self.fake.transactions) >= n, 1)
        self.assertTrue(wait_for(retried, TIMEOUT),
                        self.smtpd.log()[-3000:])

    def test_ehlo_refused_helo_fallback(self):
        self.fake.ehlo_reply = b"502 5.5.1 EHLO not here\r\n"
        self.send(["a@example.net"])
        (tx,) = self.transactions(1)
        self.assertEqual(self.fake.helos, [b"EHLO relay.test.example",
                                           b"HELO relay.test.example"])
        self.result("a@example.net", "ok")

    def test_mail_5xx_bounces(self):
        self.fake.replies["mail"] = b"550 5.7.1 Sender refused here\r\n"
        self.send(["a@example.net"])
        self.result("a@example.net", "permfail",
                    "550 5.7.1 Sender refused here")
        (m,) = self.reports()
        st = self.status_of(m)
        self.assertEqual(st["a@example.net"][:2], ("failed", "5.7.1"))
        self.assertIn("550 5.7.1 Sender refused here",
                      st["a@example.net"][2])
        self.assertEqual(self.fake.transactions, [])

    def test_some_rcpts_5xx_bounce_others_delivered(self):
        self.fake.rcpt_reply = lambda a: (
            b"550 5.1.1 <" + a.encode() + b">: no such user\r\n"
            if a.startswith("bad") else b"250 2.1.5 Ok\r\n")
        self.send(["good1@example.net", "bad1@example.net",
                   "good2@example.net", "bad2@example.net"])
        (tx,) = self.transactions(1)
        self.assertEqual(sorted(tx["ok"]), ["good1@example.net",
                                            "good2@example.net"])
        for r in ("good1", "good2"):
            self.result(r + "@example.net", "ok")
        for r in ("bad1", "bad2"):
            self.result(r + "@example.net", "permfail", "550 5.1.1")
        (m,) = self.reports()
        st = self.status_of(m)
        self.assertEqual(sorted(st), ["bad1@example.net",
                                      "bad2@example.net"])
        self.assertEqual(st["bad1@example.net"][:2], ("failed", "5.1.1"))

    def test_all_rcpts_4xx_retry_later(self):
        self.fake.rcpt_reply = lambda a: b"450 4.2.1 Try later\r\n"
        self.send(["a@example.net", "b@example.net"])
        self.result("a@example.net", "tempfail", "450 4.2.1 Try later")
        self.result("b@example.net", "tempfail", "450 4.2.1 Try later")
        self.assertEqual(self.fake.transactions, [])
        # the queue keeps them: a forced retry delivers both, together
        self.fake.rcpt_reply = lambda a: b"250 2.1.5 Ok\r\n"
        self.retry_all(1)
        (tx,) = self.transactions(1)
        self.assertEqual(sorted(tx["ok"]), ["a@example.net",
                                            "b@example.net"])

    def test_data_and_end_of_data_replies(self):
        cases = [("data", b"451 4.3.0 Busy\r\n", "d4", "tempfail"),
                 ("data", b"554 5.3.0 No data\r\n", "d5", "permfail"),
                 ("eod", b"452 4.3.1 Disk full\r\n", "e4", "tempfail"),
                 ("eod", b"554 5.7.1 Spam\r\n", "e5", "permfail")]
        for stage, reply, who, result in cases:
            with self.subTest(stage=stage, reply=reply):
                self.fake.replies[stage] = reply
                self.send([who + "@example.net"])
                self.result(who + "@example.net", result,
                            re.escape(reply[:3].decode()))
                self.fake.replies["data"] = b"354 go\r\n"
                self.fake.replies["eod"] = b"250 2.0.0 Ok\r\n"
        self.assertEqual(len(self.reports(2)), 2)

    def test_bad_replies_classified_never_lost(self):
        shapes = [
            (b"250-" + b"x" * 5000 + b"\r\n250 ok\r\n", "longer than"),
            (b"250-line\r\n" * 2999 + b"250 end\r\n", "longer than 1000 "
             "lines"),
            (b"abc hello\r\n", "bad reply code"),
            (b"650 nonsense\r\n", "bad reply code"),
            (b"2500 x\r\n", "bad separator"),
            (b"25\r\n", "bad reply code"),
            (b"250 o\rk\r\n", "bare CR"),
            (b"250 o\x00k\r\n", "NUL byte"),
            (b"250-a\r\n550 b\r\n", "reply code changes"),
        ]
        for i, (reply, why) in enumerate(shapes):
            with self.subTest(reply=reply[:40]):
                self.fake.replies["mail"] = reply
                rcpt = "bad%d@example.net" % i
                self.send([rcpt])
                self.result(rcpt, "tempfail", re.escape(
                    "\"bad reply from the peer: ") + ".*" + why)
        log = self.smtpd.log()
        self.assertNotIn("\x00", log)
        # nothing was lost: a good peer gets every one of them
        self.fake.replies["mail"] = b"250 2.1.0 Ok\r\n"
        self.retry_all(len(shapes))
        txs = self.transactions(len(shapes))
        self.assertEqual(sorted(r for t in txs for r in t["ok"]),
                         sorted("bad%d@example.net" % i
                                for i in range(len(shapes))))

    def test_peer_stalls_mid_reply_then_at_end_of_data(self):
        self.fake.replies["mail"] = b"250-first line of two\r\n"
        self.fake.stall_after = "mail"
        self.send(["s1@example.net"])
        self.result("s1@example.net", "tempfail",
                    "\"timeout waiting for the peer after 2 s", timeout=10)
        self.fake.replies["mail"] = b"250 2.1.0 Ok\r\n"
        self.fake.stall_after = None
        self.fake.replies["eod"] = None
        self.send(["s2@example.net"])
        self.result("s2@example.net", "tempfail",
                    "\"timeout waiting for the peer", timeout=10)

    def test_421_closes_then_peer_closes_idle_session(self):
        self.fake.replies["mail"] = b"421 4.3.2 Shutting down\r\n"
        self.send(["x@example.net"])
        self.result("x@example.net", "tempfail",
                    "\"421 4.3.2 Shutting down")
        self.log_has(r"mta disconnected relay=\S+ address=\S+ host=\S+ "
                     r"messages=1 "
                     r"reason=\"421 4.3.2 Shutting down\"")
        # a next hop that closes after each message: the kept session
        # is gone, the next message opens another, nothing fails
        self.fake.replies["mail"] = b"250 2.1.0 Ok\r\n"
        self.fake.close_after_tx = True
        self.send(["y@example.net"])
        self.result("y@example.net", "ok")
        self.log_has(r"mta disconnected relay=\S+ address=\S+ host=\S+ "
                     r"messages=1 "
                     r"reason=\"connection closed by the peer\"")
        # the domain took mail: x, deferred, goes now (MTA-16)
        self.log_has(r"mta rescheduled domain=example\.net envelopes=1")
        self.result("x@example.net", "ok")
        self.send(["z@example.net"])
        self.result("z@example.net", "ok")
        self.assertEqual(self.fake.connections, 4)

    def test_mail_while_the_kept_session_quits(self):
        # the next hop never answers QUIT: the session waits for it
        # (mta-timeout) while new mail arrives, which another takes
        self.fake.replies["quit"] = None
        self.send(["q1@example.net"])
        self.result("q1@example.net", "ok")
        self.assertTrue(wait_for(lambda: b"QUIT" in self.fake.commands,
                                 10))
        self.send(["q2@example.net"])
        self.result("q2@example.net", "ok")
        self.assertEqual(self.fake.connections, 2)

    def test_size_of_the_peer(self):
        self.fake.ehlo_ext = [b"PIPELINING", b"SIZE 2000"]
        self.send(["small@example.net"])
        (tx,) = self.transactions(1)
        self.assertTrue(any(re.match(rb"MAIL FROM:<[^>]*> SIZE=\d+$", c)
                            for c in self.fake.commands), self.fake.commands)
        big = BODY + b"x" * 3000 + b"\r\n"
        self.send(["big@example.net"], body=big)
        self.result("big@example.net", "permfail", "\"552 5.3.4")
        (m,) = self.reports()
        self.assertEqual(self.status_of(m)["big@example.net"][1], "5.3.4")
        self.assertEqual(len(self.fake.transactions), 1)


class Refused(RelayBase):
    """Nobody listens at first: temporary failure, the host is set
    aside after two failures in a row, and the retry delivers once it
    is back."""

    def setUp(self):
        super().setUp()
        self.fake.stop()

    def test_connection_refused_then_retry(self):
        port = self.fake.port
        self.send(["a@example.net"])
        self.log_has(r"mta delivery evpid=[0-9a-f]{16} to=<a@example.net> "
                     r"relay=\S+ result=tempfail stat=\"127.0.0.1: cannot "
                     r"connect: Connection refused\"")
        self.fake = FakeSMTP(port=port)
        self.addCleanup(self.fake.stop)

        def retried():
            self.smtpd.ctl("schedule", "all")
            return wait_for(lambda: self.fake.transactions, 1)
        self.assertTrue(wait_for(retried, TIMEOUT),
                        self.smtpd.log()[-3000:])
        self.log_has(r"to=<a@example.net> relay=\S+ result=ok")



if __name__ == "__main__":
    unittest.main()
