"""smtpctl's queue verbs and counters against a real daemon (CTL-01,
CTL-03, CTL-04, CTL-05, CTL-12, CTL-13, CTL-16, CTL-17, CTL-27).

The daemon starts with -P mda, so mail stays queued until a test lets
it go; each verb's output is checked and so is its effect on delivery
(a removed mail never arrives, a scheduled one arrives at once, a held
one stays).  Ids are refused with a clear message; an ordinary user is
refused every verb.  The 100,000-envelope listing (time and memory,
measured) needs SMTPD_TEST_BIG=1: it is not run by default.  Every wait
is bounded; every daemon is stopped by PID (smtpdtest.Smtpd).
"""
import os
import pwd
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import (NOT_RUN, Smtpd, is_root,  # noqa: E402
                       proc_children, proc_title, wait_for)
from test_mailflow import (MailFlowBase, free_port,  # noqa: E402
                           recipient_user)

LINE = re.compile(r"^([0-9a-f]{16})\|(local|inet4|inet6|\?)\|(mda|mta|bounce)"
                  r"\|([a-z,]*)\|([^|]*)\|([^|]*)\|([^|]*)\|(\d+)\|(\d+)"
                  r"\|(\d+)\|(\d+)\|(pending|inflight|invalid)\|(-?\d*)"
                  r"\|(.*)$")


class QueueBase(MailFlowBase):
    """A daemon started with mda paused."""

    def setUp(self):
        self._args = ["-P", "mda"]
        super().setUp()
        self.rcpt = "%s@example.org" % self.user

    def send(self, nrcpt=1, subject="q"):
        """One message for NRCPT recipients; its msgid."""
        with self.client() as c:
            self.assertEqual(c.mail("sender@example.net")[0], 250)
            for _ in range(nrcpt):
                self.assertEqual(c.rcpt(self.rcpt)[0], 250)
            code, msg = c.data(("Subject: %s\r\n\r\nbody of %s\r\n" %
                                (subject, subject)).encode())
            self.assertEqual(code, 250, msg)
        return msg.decode().split()[1]

    def ctl(self, *args, ok=True, user=None):
        r = self.smtpd.ctl(*args, user=user)
        if ok:
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (
                args, r.stdout, r.stderr))
        return r

    def queue(self, *msgid):
        """show queue, parsed: {evpid: fields}."""
        out = {}
        for line in self.ctl("show", "queue", *msgid).stdout.splitlines():
            m = LINE.match(line)
            self.assertIsNotNone(m, "bad show queue line: %r" % line)
            out[m.group(1)] = m.groups()
        return out

    def stats(self):
        out = {}
        for line in self.ctl("show", "stats").stdout.splitlines():
            k, v = line.split("=", 1)
            out[k] = v
        return out

    def new_files(self):
        try:
            return os.listdir(os.path.join(self.maildir, "new"))
        except OSError:
            return []

    def assertNotDelivered(self, wait=0.5):
        time.sleep(wait)
        self.assertEqual(self.new_files(), [], "delivered, should not be")


class ShowVerbs(QueueBase):

    def test_show_queue_lines(self):
        msgid = self.send(nrcpt=2, subject="one")
        other = self.send(subject="two")
        q = self.queue()
        self.assertEqual(len(q), 3)
        self.assertEqual(sorted({e[:8] for e in q}), sorted([msgid, other]))
        for evpid, f in q.items():
            self.assertEqual(f[1], "inet4")
            self.assertEqual(f[2], "mda")
            self.assertEqual(f[3], "")
            self.assertEqual(f[4], "sender@example.net")
            self.assertEqual(f[5], self.rcpt)
            self.assertEqual(f[6], self.rcpt)
            ctime, expire = int(f[7]), int(f[8])
            self.assertLess(abs(ctime - time.time()), 60)
            self.assertEqual(expire - ctime, 4 * 24 * 3600)
            self.assertEqual((f[9], f[10]), ("0", "0"))
            self.assertEqual(f[11], "pending")     # mda paused: not handed out
        # one message only
        self.assertEqual(sorted(self.queue(msgid)),
                         sorted(e for e in q if e.startswith(msgid)))
        # the lines come sorted by evpid
        out = self.ctl("show", "queue").stdout.splitlines()
        self.assertEqual(out, sorted(out))

    def test_abbreviations(self):
        """CTL-26: a unique prefix of each word names the command (the
        arguments stay whole); two commands with that prefix: refused,
        naming none."""
        msgid = self.send(subject="abbrev")

        def evpids(*args):
            # the envelope ids (the delay column moves with the clock)
            return [line.split("|")[0] for line in
                    self.ctl(*args).stdout.splitlines()]
        full = evpids("show", "queue")
        self.assertTrue(full and all(e.startswith(msgid) for e in full))
        self.assertEqual(evpids("sh", "q"), full)
        self.assertEqual(evpids("sho", "queue", msgid), full)
        self.assertEqual(self.ctl("sh", "ro").stdout, "")
        self.ctl("res", "mda")
        for args in (("sh", "sta"), ("re", msgid)):
            r = self.ctl(*args, ok=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn("smtpctl: ambiguous command: %s" % " ".join(args),
                          r.stderr)
        r = self.ctl("sh", "nothing", ok=False)
        self.assertIn("smtpctl: unknown command: sh nothing", r.stderr)

    def test_show_envelope_and_message(self):
        msgid = self.send(subject="shown")
        (evpid,) = self.queue()
        r = self.ctl("show", "envelope", evpid)
        self.assertIn("version: 3\n", r.stdout)
        self.assertIn("rcpt: %s\n" % self.rcpt, r.stdout)
        self.assertIn("sender: sender@example.net\n", r.stdout)
        for ident in (msgid, evpid, evpid.upper()):
            r = self.ctl("show", "message", ident)
            self.assertIn("Subject: shown\n", r.stdout)
            self.assertIn("body of shown\n", r.stdout)
            self.assertIn("Received: from client.example.net", r.stdout)

    def test_show_stats(self):
        self.send(nrcpt=2)
        s = self.stats()
        for k in ("uptime", "uptime.human", "control.session",
                  "smtp.session", "smtp.session.total",
                  "queue.message.committed", "scheduler.envelope"):
            self.assertIn(k, s)
        self.assertEqual(s["queue.message.committed"], "1")
        self.assertEqual(s["queue.envelope.committed"], "2")
        self.assertEqual(s["scheduler.envelope"], "2")
        # both envelopes kept in the envelope cache (QUEUE-12)
        self.assertEqual(s["queue.evpcache.size"], "2")
        self.assertGreaterEqual(int(s["smtp.session.total"]), 1)
        self.assertEqual(s["mda.paused"], "1")
        self.assertRegex(s["uptime.human"], r"^\d+d\d+h\d+m\d+s$")
        self.ctl("resume", "mda")
        self.delivered(2)
        self.assertTrue(wait_for(lambda: self.stats().get(
            "scheduler.delivery.ok") == "2", 10))
        s = self.stats()
        self.assertEqual(s["scheduler.envelope"], "0")
        self.assertEqual(s["mda.paused"], "0")
        # the deliveries loaded what the commit wrote from the cache,
        # and their ends dropped it
        self.assertGreaterEqual(int(s.get("queue.evpcache.load.hit", 0)), 2,
                                s)
        self.assertEqual(s.get("queue.evpcache.load.missed", "0"), "0", s)
        self.assertEqual(s["queue.evpcache.size"], "0")
        # lines sorted, key=value
        out = self.ctl("show", "stats").stdout.splitlines()
        # (uptime.human, the one line out of order, may have ticked
        # since s was read)
        self.assertEqual([x for x in out if not
                          x.startswith("uptime.human=")],
                         sorted(x for x in out if not
                                x.startswith("uptime.human=")))


class ChangeVerbs(QueueBase):

    def test_remove_never_arrives(self):
        gone = self.send(subject="gone")
        self.send(subject="kept")
        r = self.ctl("remove", gone)
        self.assertEqual(r.stdout, "command succeeded\n")
        self.assertTrue(wait_for(lambda: all(
            not e.startswith(gone) for e in self.queue()), 10))
        # the scheduler forgets it first, then the queue drops and logs
        self.assertTrue(wait_for(
            lambda: "status=removed" in self.smtpd.log(), 10),
            self.smtpd.log()[-3000:])
        self.assertIn("scheduler change op=remove id=%s" % gone,
                      self.smtpd.log())
        self.ctl("resume", "mda")
        (m,) = self.delivered(1)
        self.assertEqual(m["Subject"], "kept")
        time.sleep(0.5)
        self.assertEqual(len(self.new_files()), 1)
        self.assertEqual(self.stats()["scheduler.envelope.removed"], "1")

    def test_remove_all(self):
        self.send(nrcpt=2)
        self.send()
        r = self.ctl("remove", "all")
        self.assertEqual(r.stdout, "2 message(s) removed\n")
        self.assertIn("scheduler change op=remove id=all messages=2",
                      self.smtpd.log())
        self.assertTrue(wait_for(lambda: self.queue() == {}, 10))
        self.ctl("resume", "mda")
        self.assertNotDelivered()

    def test_pause_resume_mda(self):
        self.send()
        self.assertNotDelivered()
        self.assertEqual(self.ctl("resume", "mda").stdout,
                         "command succeeded\n")
        self.delivered(1)
        self.ctl("pause", "mda")
        self.send(subject="second")
        time.sleep(0.5)
        self.assertEqual(len(self.new_files()), 1)
        (f,) = self.queue().values()
        self.assertEqual(f[11], "pending")
        self.ctl("resume", "mda")
        self.delivered(2)

    def test_pause_resume_smtp(self):
        self.ctl("pause", "smtp")
        self.assertEqual(self.stats()["smtp.paused"], "1")
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.settimeout(1)
        with self.assertRaises(socket.timeout):
            s.recv(100)         # not accepted: no banner
        self.ctl("resume", "smtp")
        s.settimeout(10)
        self.assertTrue(s.recv(100).startswith(b"220 "))
        s.close()
        log = self.smtpd.log()
        for line in ("control pause what=smtp uid=%d" % os.geteuid(),
                     "dispatcher pause what=smtp",
                     "dispatcher resume what=smtp"):
            self.assertIn(line, log)
        self.assertNotIn("scheduler pause what=smtp", log)

    def test_hold_and_release_envelope(self):
        held = self.send(subject="held")
        self.send(subject="free")
        (hevp,) = [e for e in self.queue() if e.startswith(held)]
        self.assertEqual(self.ctl("pause", "envelope", hevp).stdout,
                         "command succeeded\n")
        self.assertEqual(self.queue()[hevp][3], "suspend")
        self.ctl("resume", "mda")
        (m,) = self.delivered(1)
        self.assertEqual(m["Subject"], "free")
        time.sleep(0.5)
        self.assertEqual(len(self.new_files()), 1)
        # pausing again is refused: already paused
        r = self.ctl("pause", "envelope", hevp, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already paused", r.stderr)
        self.assertEqual(self.ctl("resume", "envelope", "all").stdout,
                         "1 message(s) resumed\n")
        got = sorted(m["Subject"] for m in self.delivered(2))
        self.assertEqual(got, ["free", "held"])

    def test_pause_message_all(self):
        msgid = self.send(nrcpt=2)
        self.ctl("pause", "envelope", msgid)
        q = self.queue()
        self.assertEqual([f[3] for f in q.values()], ["suspend"] * 2)
        self.assertEqual(self.ctl("pause", "envelope", "all",
                                  ok=False).returncode, 0)
        self.ctl("resume", "envelope", msgid)
        self.assertEqual([f[3] for f in self.queue().values()], [""] * 2)


class ScheduleAfterTempfail(QueueBase):
    """A delivery that fails for now is retried minutes later; schedule
    makes it go at once.  The delivery is a command that fails
    temporarily (exit 75) while a flag file exists."""

    def setUp(self):
        self.user = recipient_user()
        self.port = free_port()
        self.rcpt = "%s@example.org" % self.user
        self.smtpd = Smtpd(args=["-P", "mda"])
        self.out = os.path.join(self.smtpd.dir, "out")
        self.flag = os.path.join(self.smtpd.dir, "fail")
        os.mkdir(self.out)
        pw = pwd.getpwnam(self.user)
        os.chown(self.out, pw.pw_uid, pw.pw_gid)
        open(self.flag, "w").close()
        conf = ('listen on 127.0.0.1 port %d\n'
                'action "local" mda "test -e %s && exit 75; '
                'cat > %s/msg"\n'
                'match from any for domain "example.org" action "local"\n'
                % (self.port, self.flag, self.out))
        with open(os.path.join(self.smtpd.dir, "smtpd.conf"), "w") as f:
            f.write(conf)
        self.smtpd.start()

    def test_schedule_after_tempfail(self):
        self.ctl("resume", "mda")
        t_send = time.monotonic()
        msgid = self.send(subject="retry")
        self.assertTrue(wait_for(lambda: "status=tempfail" in
                                 self.smtpd.log(), 20), self.smtpd.log())
        self.assertTrue(wait_for(lambda: list(self.queue().values())[0][11]
                                 == "pending", 10))
        (evpid, f), = self.queue().items()
        self.assertEqual(f[10], "1")                    # retries
        self.assertGreater(int(f[9]), 0)                # lasttry
        # SCHED-01: a local delivery retries at creation + 10 s x 1^2
        self.assertTrue(0 < int(f[12]) <= 10, f)        # seconds away
        self.assertIn("75", f[13])                      # the error
        os.unlink(self.flag)
        time.sleep(1)
        # the retry falls 10 s after creation: before it, nothing moves
        if time.monotonic() - t_send < 9:
            self.assertFalse(os.path.exists(os.path.join(self.out, "msg")))
        t0 = time.monotonic()
        self.assertEqual(self.ctl("schedule", msgid).stdout,
                         "command succeeded\n")
        self.assertTrue(wait_for(lambda: os.path.exists(
            os.path.join(self.out, "msg")), 10), self.smtpd.log())
        self.assertLess(time.monotonic() - t0, 10)
        self.assertTrue(wait_for(lambda: self.queue() == {}, 10))
        with open(os.path.join(self.out, "msg")) as f:
            self.assertIn("Subject: retry", f.read())


class Refusals(QueueBase):

    def test_bad_ids(self):
        for args in (["show", "envelope", "xyz"],
                     ["show", "envelope", "0123456789abcdeg"],
                     ["show", "envelope", "01234567"],
                     ["show", "message", "00000000"],
                     ["remove", "123"],
                     ["schedule", ""],
                     ["pause", "envelope", "0123456789abcdef0"],
                     ["show", "queue", "all"],
                     ["show", "queue", "0123456789abcdef"]):
            r = self.ctl(*args, ok=False)
            self.assertEqual(r.returncode, 1, args)
            self.assertRegex(r.stderr, r"^smtpctl: (invalid id|show "
                             r"(envelope|queue) takes)", args)
        r = self.ctl("pause", "everything", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mda, mta, smtp", r.stderr)

    def test_unknown_ids(self):
        for args, why in ((["show", "envelope", "0123456789abcdef"],
                           "no such envelope"),
                          (["show", "message", "01234567"],
                           "no such message"),
                          (["remove", "0123456789abcdef"],
                           "no such envelope"),
                          (["schedule", "01234567"], "no such envelope"),
                          (["resume", "envelope", "01234567"],
                           "no such envelope")):
            r = self.ctl(*args, ok=False)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(why, r.stderr, args)
        self.assertEqual(self.ctl("remove", "all").stdout,
                         "0 message(s) removed\n")

    def test_ordinary_user_refused(self):
        if not is_root():
            self.skipTest("needs root: another account")
        msgid = self.send()
        for args in (["show", "queue"], ["show", "stats"],
                     ["show", "message", msgid], ["remove", msgid],
                     ["schedule", "all"], ["pause", "smtp"],
                     ["resume", "mda"], ["pause", "envelope", "all"]):
            r = self.ctl(*args, ok=False, user="nobody")
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("permission denied", r.stderr, args)
        self.assertEqual(len(self.queue()), 1)
        self.assertNotDelivered(0.2)


TIME = "/usr/bin/time"
BIG = 100000
BIG_PER_MESSAGE = 100


class BigQueue(QueueBase):
    """show queue of 100,000 envelopes: bounded time and memory."""

    def setUp(self):
        if os.environ.get("SMTPD_TEST_BIG") != "1":
            raise unittest.SkipTest(NOT_RUN + "SMTPD_TEST_BIG=1 not set "
                                    "(100,000 envelopes, about a minute)")
        if not os.access(TIME, os.X_OK):
            raise unittest.SkipTest(NOT_RUN + TIME + " absent")
        super().setUp()

    def spool_fill(self, n, per):
        """N envelopes in N/PER messages, cloned from one sent for real,
        written into the stopped daemon's spool as the queue writes
        them."""
        msgid = self.send(subject="template")
        queue = os.path.join(self.smtpd.dir, "spool", "queue")
        d = os.path.join(queue, msgid[:2], msgid)
        self.assertTrue(wait_for(lambda: os.path.isdir(d), 10))
        self.assertEqual(self.smtpd.stop(), 0)
        (evp,) = [x for x in os.listdir(d) if x != "message"]
        with open(os.path.join(d, evp), "rb") as f:
            text = f.read()
        st = os.stat(os.path.join(d, evp))
        body = os.path.join(d, "message")
        rnd = random.Random(1)
        msgids = set()
        while len(msgids) < n // per:
            msgids.add(rnd.randrange(1, 1 << 32))
        for m in msgids:
            md = os.path.join(queue, "%02x" % (m >> 24), "%08x" % m)
            os.makedirs(md, mode=0o700)
            shutil.copyfile(body, os.path.join(md, "message"))
            for e in rnd.sample(range(1, 1 << 32), per):
                p = os.path.join(md, "%08x%08x" % (m, e))
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(fd, text)
                os.close(fd)
                if is_root():
                    os.chown(p, st.st_uid, st.st_gid)
            if is_root():
                os.chown(md, st.st_uid, st.st_gid)
                os.chown(os.path.join(md, "message"), st.st_uid,
                         st.st_gid)
        if is_root():
            for b in os.listdir(queue):
                os.chown(os.path.join(queue, b), st.st_uid, st.st_gid)
        return n + 1

    def hwm(self, name):
        """The peak resident memory (KiB) of process NAME, or None."""
        for pid in self.smtpd.child_pids:
            if proc_title(pid) != "smtpd: " + name:
                continue
            try:
                with open("/proc/%d/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1])
            except OSError:
                pass
        return None

    def ctl_measured(self, *args):
        """smtpctl ARGS: (seconds, output, its peak RSS in KiB, measured
        by time(1): a rusage of our own child would count the memory of
        the Python process it was forked from)."""
        ctl = os.path.join(os.environ.get("SMTPD_BUILD", "obj"), "smtpctl")
        rss = os.path.join(self.smtpd.dir, "rss")
        t0 = time.monotonic()
        r = subprocess.run([TIME, "-o", rss, "-f", "%M", ctl, "-s",
                            self.smtpd.sock] + list(args),
                           stdout=subprocess.PIPE, timeout=300)
        elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 0)
        with open(rss) as f:
            return elapsed, r.stdout, int(f.read().split()[-1])

    def test_show_queue_100000(self):
        total = self.spool_fill(BIG, BIG_PER_MESSAGE)
        t0 = time.monotonic()
        self.smtpd.start()
        self.assertTrue(wait_for(lambda: "queue reloaded envelopes=%d" %
                                 total in self.smtpd.log(), 300),
                        self.smtpd.log()[-3000:])
        reload_s = time.monotonic() - t0
        # the log held "parent ready" of the first run: the pids now
        self.smtpd.child_pids = proc_children(self.smtpd.pid)
        procs = ("control", "queue", "scheduler")
        before = {p: self.hwm(p) for p in procs}
        list_s, out, ctl_kb = self.ctl_measured("show", "queue")
        lines = out.splitlines()
        self.assertEqual(len(lines), total)
        self.assertEqual(len(set(x.split(b"|")[0] for x in lines)), total)
        after = {p: self.hwm(p) for p in procs}
        sys.stderr.write(
            "\n  100k: reload %.1fs, show queue %.2fs (%d lines, %d bytes); "
            "smtpctl maxrss %d KiB; VmHWM before -> after (KiB): %s\n" % (
                reload_s, list_s, len(lines), len(out), ctl_kb,
                ", ".join("%s %s -> %s" % (p, before[p], after[p])
                          for p in procs)))
        self.assertLess(list_s, 60)
        # no process buffers the listing: growth far below its 20+ MB
        self.assertLess(ctl_kb, 16 * 1024)
        for p in ("control", "queue"):
            self.assertIsNotNone(after[p], p)
            self.assertLess(after[p] - before[p], 4 * 1024, p)
        t0 = time.monotonic()
        r = self.ctl("schedule", "all")
        sys.stderr.write("  100k: schedule all %.2fs: %s" % (
            time.monotonic() - t0, r.stdout))


if __name__ == "__main__":
    unittest.main()
