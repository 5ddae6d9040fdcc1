"""regress/queue/test_queue_start.py -- the queue's start-up in a real
daemon (issue 8.2): recovery, then the walk that rebuilds the scheduler.

A spool is laid out by hand in the fs backend's format before the daemon
starts: committed messages whose envelopes were retried a moment ago
(so none is due: the dispatcher does not deliver yet), one envelope that
does not parse, a message left uncommitted in incoming/, and an expired
envelope.  The daemon must set the bad envelope aside with a log line,
tell the scheduler every other envelope, discard the uncommitted
message, delete the expired envelope through the scheduler's batch loop,
and keep running.  Each daemon lives in a temporary directory and is
stopped by PID (regress/lib/smtpdtest.py); every wait is bounded.
"""
import os
import pwd
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import QUSER, Smtpd, is_root, wait_for  # noqa: E402

ENVELOPE = (
    "version: 3\ndispatcher: local\ntype: mda\n"
    "smtpname: mx.example.org\nhelo: client.example\n"
    "hostname: localhost\nsockaddr: 127.0.0.1\n"
    "sender: alice@client.example\nrcpt: {rcpt}\ndest: {rcpt}\n"
    "ctime: {ctime}\nlast-try: {lasttry}\nlast-bounce: 0\nttl: {ttl}\n"
    "retry: {retry}\ndsn-notify: 0\nmda-user: vmail\n")


def envelope(rcpt, ctime, ttl=86400, retry=1, lasttry=None):
    return ENVELOPE.format(rcpt=rcpt, ctime=ctime, ttl=ttl, retry=retry,
                           lasttry=ctime if lasttry is None else lasttry)


class Spool:
    """A spool laid out as queue_fs keeps it."""

    def __init__(self, root):
        self.root = root
        for d in ("queue", "incoming", "temporary", "purge", "corrupt"):
            os.makedirs(os.path.join(root, d), mode=0o700, exist_ok=True)

    def message_dir(self, msgid, where="queue"):
        if where == "queue":
            return os.path.join(self.root, "queue", "%02x" % (msgid >> 24),
                                "%08x" % msgid)
        return os.path.join(self.root, where, "%08x" % msgid)

    def message(self, msgid, envelopes, where="queue"):
        d = self.message_dir(msgid, where)
        os.makedirs(d, mode=0o700)
        with open(os.path.join(d, "message"), "w") as f:
            f.write("Subject: t\r\n\r\nhello\r\n")
        for lower, text in envelopes:
            with open(os.path.join(d, "%016x" % (msgid << 32 | lower)),
                      "w") as f:
                f.write(text)
        return d

    def own(self):
        """As root, the queue user owns it all (the queue runs as it)."""
        if not is_root():
            return
        pw = pwd.getpwnam(QUSER)
        for top, dirs, files in os.walk(self.root):
            os.chown(top, pw.pw_uid, pw.pw_gid)
            for name in files:
                os.chown(os.path.join(top, name), pw.pw_uid, pw.pw_gid)


class QueueStart(unittest.TestCase):
    def test_walk_rebuilds_the_scheduler(self):
        now = int(time.time())
        with Smtpd() as d:
            spool = Spool(os.path.join(d.dir, "spool"))
            spool.message(0x2a000001, [
                (1, envelope("a@example.com", now)),
                (2, "version: 3\nno colon here\n"),
                (3, envelope("b@example.com", now))])
            m2 = spool.message(0x7b000002, [(1, envelope("c@example.com",
                                                          now))])
            inc = spool.message(0x11000003, [(1, envelope("d@example.com",
                                                           now))],
                                where="incoming")
            spool.own()
            d.start()
            self.assertTrue(wait_for(
                lambda: "queue reloaded envelopes=" in d.log(), 10), d.log())
            log = d.log()
            self.assertIn("queue reloaded envelopes=3", log)
            self.assertIn("2a00000100000002 corrupt envelope", log)
            self.assertIn("queue recovered incoming=1", log)
            self.assertFalse(os.path.exists(os.path.join(
                spool.message_dir(0x2a000001), "2a00000100000002")))
            self.assertFalse(os.path.exists(inc))
            self.assertTrue(os.path.exists(os.path.join(m2, "message")))
            # nothing is due: retried a moment ago, the scheduler waits
            time.sleep(0.5)
            self.assertIsNone(d.proc.poll(), d.log())
            self.assertNotIn("queue delivery", d.log())
            self.assertEqual(d.stop(), 0)

    def test_expired_envelope_deleted(self):
        now = int(time.time())
        with Smtpd() as d:
            spool = Spool(os.path.join(d.dir, "spool"))
            m = spool.message(0x33000004, [
                (1, envelope("old@example.com", now - 7200, ttl=3600,
                             retry=3, lasttry=now - 60))])
            spool.own()
            d.start()
            self.assertTrue(wait_for(
                lambda: "status=expired" in d.log(), 10), d.log())
            self.assertIn("evpid=3300000400000001 status=expired", d.log())
            self.assertTrue(wait_for(lambda: not os.path.exists(m), 5))
            self.assertIsNone(d.proc.poll(), d.log())
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
