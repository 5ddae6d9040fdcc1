"""Crash test (issue 8 part 9, SMTP-19): clients send mail while the
whole daemon is killed with SIGKILL again and again and restarted; every
message that got 250 is delivered afterwards, and none twice.

Bounded: CRASH_SECONDS of load, KILLS_MAX kills, then one clean run that
must deliver everything within DRAIN_TIMEOUT.  Every process is stopped
by PID (smtpdtest.Smtpd.kill kills the parent and the children it saw).
"""
import email
import os
import random
import smtplib
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_mailflow import MailFlowBase  # noqa: E402
from smtpdtest import proc_children, wait_for  # noqa: E402

CRASH_SECONDS = 12
KILLS_MAX = 6
CLIENTS = 4
DRAIN_TIMEOUT = 60


class Crash(MailFlowBase):

    def sender(self, n, accepted, stop):
        rcpt = "%s@example.org" % self.user
        i = 0
        while not stop.is_set():
            subject = "c%d-%d" % (n, i)
            i += 1
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as c:
                    c.ehlo("crash.example.net")
                    c.mail("s@example.net")
                    c.rcpt(rcpt)
                    code, _ = c.data(b"Subject: " + subject.encode() +
                                     b"\r\n\r\nbody\r\n")
                    if code == 250:
                        accepted.add(subject)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)

    def test_sigkill_under_load(self):
        accepted, stop = set(), threading.Event()
        threads = [threading.Thread(target=self.sender,
                                    args=(n, accepted, stop))
                   for n in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + CRASH_SECONDS
        kills = 0
        try:
            while time.monotonic() < deadline and kills < KILLS_MAX:
                time.sleep(random.uniform(0.8, 2.0))
                # the children of this moment, mda processes included
                self.smtpd.child_pids = proc_children(self.smtpd.pid)
                self.smtpd.kill()
                kills += 1
                self.smtpd.start()
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        self.assertGreater(len(accepted), 0, "no message was accepted")
        new = os.path.join(self.maildir, "new")

        def subjects():
            out = []
            try:
                names = os.listdir(new)
            except OSError:
                return out
            for name in names:
                with open(os.path.join(new, name), "rb") as f:
                    out.append(email.message_from_bytes(f.read())["Subject"])
            return out
        wait_for(lambda: accepted <= set(subjects()), DRAIN_TIMEOUT, 0.2)
        got = subjects()
        missing = accepted - set(got)
        # what is not routine in the log says why
        unusual = [line for line in self.smtpd.log().splitlines()
                   if not any(k in line for k in (
                       "smtp connected", "smtp disconnected", "smtp message",
                       "queue commit", "result=ok", "status=ok"))]
        self.assertFalse(missing, "accepted but never delivered: %s\n%s" %
                         (sorted(missing)[:20], "\n".join(unusual)[-6000:]))
        dups = sorted(s for s in set(got) if got.count(s) > 1)
        self.assertFalse(dups, "delivered twice: %s" % dups[:20])


if __name__ == "__main__":
    unittest.main()
