"""Bounces and delay notices (issue 8 part 6, DSN-01..09): a real daemon
whose `mda` actions exit 67 (permanent failure) or 75 (temporary) sends
RFC 3464 reports to the sender, a local user of the test, whose Maildir
is read back and parsed with Python's email package.

Routing: @example.org is delivered to DIR/mail/USER; @fail.example and
@fail2.example to a program exiting 67; @slow.example to one that waits
a second and exits 75.  Short timers come from the configuration
(`queue ttl`, `bounce warn-interval`).  Every wait is bounded; every
daemon is stopped by PID (smtpdtest.Smtpd).
"""
import email
import email.policy
import os
import pwd
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import Smtpd, wait_for  # noqa: E402
from test_mailflow import (MailFlowBase, free_port,  # noqa: E402
                           recipient_user)

TIMEOUT = 20


class BounceBase(MailFlowBase):
    """MailFlowBase with failing actions; EXTRA goes first in the
    configuration (timers)."""

    extra = ""

    def setUp(self):
        self.user = recipient_user()
        self.port = free_port()
        self.smtpd = Smtpd()
        self.mail = os.path.join(self.smtpd.dir, "mail")
        os.mkdir(self.mail)
        pw = pwd.getpwnam(self.user)
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        conf = ('%s'
                'listen on 127.0.0.1 port %d\n'
                'action "local" maildir "%s/%%{user.username}"\n'
                'action "fail" mda "exit 67"\n'
                'action "slow" mda "sleep 1; exit 75"\n'
                'match from any for domain "example.org" action "local"\n'
                'match from any for domain "fail.example" action "fail"\n'
                'match from any for domain "fail2.example" action "fail"\n'
                'match from any for domain "slow.example" action "slow"\n'
                % (self.extra, self.port, self.mail))
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        self.smtpd.start()
        self.maildir = os.path.join(self.mail, self.user)
        self.sender = "%s@example.org" % self.user

    def tearDown(self):
        # let the last delivery end before the stop: a delivery that ends
        # while the daemon stops is the parent's business (see report)
        last = [None, time.monotonic()]

        def quiet():
            n = len(self.smtpd.log())
            if n != last[0]:
                last[0], last[1] = n, time.monotonic()
            return time.monotonic() - last[1] >= 0.5
        wait_for(quiet, 5)
        super().tearDown()

    def send(self, rcpts, body=b"Subject: original\r\n\r\nthe body\r\n",
             sender=None, mail_opts=(), rcpt_opts=()):
        with self.client() as c:
            code, msg = c.mail(sender if sender is not None else
                               self.sender, list(mail_opts))
            self.assertEqual(code, 250, msg)
            for r in rcpts:
                code, msg = c.rcpt(r, list(rcpt_opts))
                self.assertEqual(code, 250, msg)
            code, msg = c.data(body)
            self.assertEqual(code, 250, msg)

    def mails(self):
        new = os.path.join(self.maildir, "new")
        try:
            names = sorted(os.listdir(new))
        except OSError:
            return []
        out = []
        for name in names:
            with open(os.path.join(new, name), "rb") as f:
                out.append(email.message_from_bytes(
                    f.read(), policy=email.policy.compat32))
        return out

    def reports(self, n=1, timeout=TIMEOUT):
        def enough():
            return len([m for m in self.mails()
                        if m.get_content_type() == "multipart/report"]) >= n
        self.assertTrue(wait_for(enough, timeout),
                        "no report in %ds:\n%s" %
                        (timeout, self.smtpd.log()[-4000:]))
        return [m for m in self.mails()
                if m.get_content_type() == "multipart/report"]

    def log_has(self, pattern, timeout=TIMEOUT):
        ok = wait_for(lambda: re.search(pattern, self.smtpd.log()),
                      timeout)
        self.assertTrue(ok, "no %r in the log:\n%s" %
                        (pattern, self.smtpd.log()[-4000:]))

    def parts(self, m):
        """The three parts: text, the status groups, the original."""
        self.assertEqual(m.get_param("report-type"), "delivery-status")
        self.assertEqual(m["Return-Path"], "<>")
        self.assertIn("MAILER-DAEMON@", m["From"])
        self.assertEqual(m["To"], "<%s>" % self.sender)
        self.assertEqual(m["Auto-Submitted"], "auto-replied")
        text, status, original = m.get_payload()
        self.assertEqual(text.get_content_type(), "text/plain")
        self.assertEqual(status.get_content_type(),
                         "message/delivery-status")
        groups = status.get_payload()    # per-message, then per-recipient
        return text, groups, original


class Failure(BounceBase):

    def test_permfail_report_field_by_field(self):
        rcpt = "%s@fail.example" % self.user
        self.send([rcpt], body=b"Subject: original\r\nX-Test: 1\r\n\r\n"
                  b"the body\r\n")
        (m,) = self.reports()
        self.assertTrue(m["Subject"].startswith(
            "Delivery status notification: Error"), m["Subject"])
        text, groups, original = self.parts(m)
        self.assertIn(rcpt, text.get_payload())
        self.assertIn("exited with status 67", text.get_payload())
        self.assertEqual(len(groups), 2)
        per_msg, per_rcpt = groups
        self.assertTrue(per_msg["Reporting-MTA"].startswith("dns; "))
        self.assertIsNotNone(per_msg["Arrival-Date"])
        self.assertIsNone(per_msg["Original-Envelope-Id"])
        self.assertEqual(per_rcpt["Final-Recipient"], "rfc822; " + rcpt)
        self.assertIsNone(per_rcpt["Original-Recipient"])
        self.assertEqual(per_rcpt["Action"], "failed")
        self.assertRegex(per_rcpt["Status"], r"^5\.\d+\.\d+$")
        self.assertEqual(per_rcpt["Diagnostic-Code"],
                         "X-Unix; exited with status 67")
        self.assertIsNotNone(per_rcpt["Last-Attempt-Date"])
        # the whole original (RET not given, small message)
        self.assertEqual(original.get_content_type(), "message/rfc822")
        (inner,) = original.get_payload()
        self.assertEqual(inner["Subject"], "original")
        self.assertEqual(inner["X-Test"], "1")
        self.assertEqual(inner.get_payload(), "the body\n")
        self.log_has(r"bounce report msgid=[0-9a-f]{8} original=[0-9a-f]{8}"
                     r" type=failed rcpts=1 .*result=ok")
        # in order: the envelope becomes a bounce envelope, the report
        # is queued, and only then does the envelope go
        self.log_has(r"status=ok retry=0 error=\"report queued\"")
        log = self.smtpd.log()
        evpid = re.search(r"queue bounce evpid=([0-9a-f]{16}) type=failed "
                          r"report=queued", log).group(1)
        made = log.index("queue bounce evpid=%s" % evpid)
        queued = log.index("bounce report msgid=")
        gone = log.index("queue delivery evpid=%s status=ok" % evpid)
        self.assertLess(made, queued)
        self.assertLess(queued, gone)
        # the failed envelope was kept until the report was queued, then
        # removed: nothing is left to retry
        time.sleep(0.5)
        self.assertEqual(len(self.reports()), 1)

    def test_two_failed_recipients_one_report(self):
        r1 = "%s@fail.example" % self.user
        r2 = "%s@fail2.example" % self.user
        self.send([r1, r2])
        (m,) = self.reports()
        _, groups, _ = self.parts(m)
        self.assertEqual(len(groups), 3)
        finals = sorted(g["Final-Recipient"] for g in groups[1:])
        self.assertEqual(finals, ["rfc822; " + r1, "rfc822; " + r2])
        self.assertEqual([g["Action"] for g in groups[1:]],
                         ["failed", "failed"])
        time.sleep(1.5)
        self.assertEqual(len(self.reports()), 1)

    def test_ret_hdrs_envid_orcpt(self):
        rcpt = "%s@fail.example" % self.user
        self.send([rcpt], mail_opts=["RET=HDRS", "ENVID=env-42"],
                  rcpt_opts=["NOTIFY=FAILURE",
                             "ORCPT=rfc822;orig+2Bx@example.net"])
        (m,) = self.reports()
        _, (per_msg, per_rcpt), original = self.parts(m)
        self.assertEqual(per_msg["Original-Envelope-Id"], "env-42")
        self.assertEqual(per_rcpt["Original-Recipient"],
                         "rfc822; orig+x@example.net")
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        body = original.get_payload()
        self.assertIn("Subject: original", body)
        self.assertNotIn("the body", body)

    def test_large_message_headers_only(self):
        rcpt = "%s@fail.example" % self.user
        big = b"Subject: big\r\n\r\n" + (b"x" * 99 + b"\r\n") * 1000
        self.send([rcpt], body=big)
        (m,) = self.reports()
        _, _, original = self.parts(m)
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: big", original.get_payload())
        self.assertNotIn("xxxx", original.get_payload())

    def test_notify_never_no_report(self):
        self.send(["%s@fail.example" % self.user],
                  rcpt_opts=["NOTIFY=NEVER"])
        self.log_has(r"queue bounce evpid=[0-9a-f]{16} type=failed "
                     r"report=none reason=\"NOTIFY=NEVER\"")
        time.sleep(1.5)
        self.assertEqual(self.mails(), [])

    def test_null_sender_no_report(self):
        self.send(["%s@fail.example" % self.user], sender="")
        self.log_has(r"queue bounce evpid=[0-9a-f]{16} type=failed "
                     r"report=none reason=\"null sender\"")
        time.sleep(1.5)
        self.assertEqual(self.mails(), [])

    def test_report_that_fails_is_not_reported(self):
        # the sender's own domain fails too: the report fails, and
        # nothing reports that
        self.sender = "%s@fail.example" % self.user
        self.send(["%s@fail2.example" % self.user])
        self.log_has(r"bounce report .*type=failed rcpts=1 .*result=ok")
        self.log_has(r"queue bounce evpid=[0-9a-f]{16} type=failed "
                     r"report=none reason=\"the message is a report\"")
        time.sleep(1.5)
        self.assertEqual(len(re.findall(r"bounce report ",
                                        self.smtpd.log())), 1)
        self.assertEqual(self.mails(), [])

    def test_report_refused_by_the_rules(self):
        # no rule routes the sender's domain: the report is refused,
        # logged, and the failed envelope goes without a second try
        self.sender = "someone@unrouted.example"
        self.send(["%s@fail.example" % self.user])
        self.log_has(r"bounce report .*type=failed rcpts=1 "
                     r"to=someone@unrouted.example result=refused")
        self.log_has(r"queue bounce evpid=[0-9a-f]{16} type=failed "
                     r"report=none reason=\"a bounce envelope\"")
        time.sleep(1.5)
        self.assertEqual(len(re.findall(r"bounce report ",
                                        self.smtpd.log())), 1)

    def test_notify_success_delivered_report(self):
        self.send([self.sender], rcpt_opts=["NOTIFY=SUCCESS"])
        (m,) = self.reports()
        self.assertTrue(m["Subject"].endswith("Success"), m["Subject"])
        text, (per_msg, per_rcpt), original = self.parts(m)
        self.assertEqual(per_rcpt["Action"], "delivered")
        self.assertEqual(per_rcpt["Status"], "2.0.0")
        self.assertIsNone(per_rcpt["Diagnostic-Code"])
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        subjects = sorted(str(x["Subject"]) for x in self.mails())
        self.assertIn("original", subjects)

    def test_success_without_notify_no_report(self):
        self.send([self.sender])
        self.assertTrue(wait_for(lambda: len(self.mails()) >= 1, TIMEOUT))
        time.sleep(1.5)
        self.assertEqual(len(self.mails()), 1)
        self.assertNotIn("bounce report", self.smtpd.log())


class Expiry(BounceBase):
    extra = "queue ttl 3s\nbounce warn-interval 1h\n"

    def test_expired_report(self):
        rcpt = "%s@slow.example" % self.user
        self.send([rcpt])
        (m,) = self.reports(timeout=30)
        text, (per_msg, per_rcpt), _ = self.parts(m)
        self.assertEqual(per_rcpt["Action"], "failed")
        self.assertEqual(per_rcpt["Status"], "4.4.7")
        self.assertEqual(per_rcpt["Final-Recipient"], "rfc822; " + rcpt)
        self.assertEqual(per_rcpt["Diagnostic-Code"],
                         "X-Unix; exited with status 75")
        self.assertIn("status=expired", self.smtpd.log())
        time.sleep(1.5)
        self.assertEqual(len(self.reports()), 1)
        self.assertNotIn("type=delayed", self.smtpd.log())


class Delay(BounceBase):
    extra = "queue ttl 1h\nbounce warn-interval 1s, 1h\n"

    def test_delay_notice_once(self):
        rcpt = "%s@slow.example" % self.user
        self.send([rcpt])
        (m,) = self.reports()
        self.assertTrue(m["Subject"].endswith("Delay"), m["Subject"])
        text, (per_msg, per_rcpt), original = self.parts(m)
        self.assertEqual(per_rcpt["Action"], "delayed")
        self.assertRegex(per_rcpt["Status"], r"^4\.\d+\.\d+$")
        self.assertIsNotNone(per_rcpt["Will-Retry-Until"])
        self.assertEqual(original.get_content_type(), "text/rfc822-headers")
        self.log_has(r"type=delayed rcpts=1 .*result=ok")

    def test_notify_failure_only_no_delay_notice(self):
        self.send(["%s@slow.example" % self.user],
                  rcpt_opts=["NOTIFY=FAILURE"])
        self.log_has(r"status=tempfail")
        time.sleep(2)
        self.assertEqual(self.mails(), [])


if __name__ == "__main__":
    unittest.main()
