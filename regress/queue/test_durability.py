"""regress/queue/test_durability.py -- no message is acknowledged before
it is on stable storage (issue 11 part 5; the enqueue path of DESIGN.md).

The daemon runs under strace -f, which writes the system calls of all
its processes into one file in the order they happened.  Messages are
sent (one per connection, several on one connection, pipelined
transactions); then, for each "250 2.0.0 <msgid> Message
accepted" the dispatcher began to write, the trace must show, completed
before that write began, either the commit journal's steps (the
default: a write to the spool's "journal" of the record naming the
message, which holds its body and envelopes, then an fsync or fdatasync
of the journal that began after that write returned) or the classic
steps (an fsync of the message's body, an fsync of each of its
envelopes, the rename of its directory into queue/ and an fsync of the
directory it was renamed into).  Deliveries are paused (-P mda) so
nothing else touches the message.  Not timed.

The checker is tried on made-up traces too, so a trace it cannot read or
an early reply fails the test instead of passing unseen.  Without strace
the test is not run (scripts/deps.sh installs it); ptrace works under the
sanitizer build and as an ordinary user on one's own children.
"""
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import (NOT_RUN, SANITIZER_MARKS, build_for,  # noqa: E402
                       daemon_env, ensure_accounts, free_port, is_root,
                       pid_alive, proc_children, wait_for)

TIMEOUT = 90    # strace and the sanitizer build together are slow
SYSCALLS = "fsync,fdatasync,rename,renameat,renameat2,write,writev," \
           "sendto,sendmsg,pwrite64"
LINE = re.compile(r"^(\d+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
FDPATH = re.compile(r"^\d+<([^>]*)>")
ACCEPTED = re.compile(r"250 2\.0\.0 ([0-9a-f]{8}) Message accepted")
JRECORD = re.compile(r'^\d+<([^>]*/journal)>, "QJR1([0-9a-f]{8})')
RENAME_TO = re.compile(r'"incoming/([0-9a-f]{8})", \d+<[^>]*>, '
                       r'"(queue/[0-9a-f]{2})/[0-9a-f]{8}"')


def trace_events(text):
    """The trace as events in order: (kind, detail) with kind "fsync"
    (a completed fsync: the path), "rename" (a completed rename of a
    message directory into queue/: (msgid, bucket)), "journal" (a
    completed write of a message's record to the journal: msgid) and
    "accept" (the start of a write of a 250 after DATA: msgid)."""
    pending = {}
    events = []
    for raw in text.splitlines():
        m = LINE.match(raw)
        if not m:
            continue
        pid, rest = m.groups()
        r = RESUMED.match(rest)
        if r:
            name, tail = r.groups()
            call = pending.pop(pid, None)
            if call is None or call[0] != name:
                continue
            done_line = (name, call[1] + tail)
        else:
            c = CALL.match(rest)
            if not c:
                continue
            name, args = c.groups()
            for msgid in ACCEPTED.findall(args):
                if name in ("write", "writev", "sendto", "sendmsg"):
                    events.append(("accept", msgid))
            if args.endswith("<unfinished ...>"):
                pending[pid] = (name, args[:-len("<unfinished ...>")])
                continue
            done_line = (name, args)
        name, args = done_line
        if name == "pwrite64":
            j = JRECORD.match(args)
            if j and re.search(r"\)\s+= [1-9]\d*$", args):
                events.append(("journal", j.group(2)))
            continue
        if not re.search(r"\)\s+= 0$", args):
            continue
        if name in ("fsync", "fdatasync"):
            p = FDPATH.match(args)
            if p:
                events.append(("fsync", p.group(1).rstrip("/")))
        elif name.startswith("rename"):
            rn = RENAME_TO.search(args)
            if rn:
                events.append(("rename", rn.groups()))
    return events


def check_durable(text):
    """(accepted msgids, problems): a problem for each acknowledgement
    that began before what makes its message durable had returned."""
    synced = []         # completed fsyncs, in order
    renamed = {}        # msgid -> (index in synced at rename, bucket)
    journaled = {}      # msgid -> index in synced at its record's write
    accepted, problems = [], []
    for kind, detail in trace_events(text):
        if kind == "fsync":
            synced.append(detail)
        elif kind == "rename":
            renamed[detail[0]] = (len(synced), detail[1])
        elif kind == "journal":
            journaled[detail] = len(synced)
        else:
            msgid = detail
            accepted.append(msgid)
            if msgid in journaled:
                if not any(p.endswith("/journal")
                           for p in synced[journaled[msgid]:]):
                    problems.append("%s: 250 before the journal's fsync "
                                    "after its record" % msgid)
                continue
            body = [p for p in synced if p.endswith("/%s/message" % msgid)]
            envs = [p for p in synced
                    if re.search(r"/%s/%s[0-9a-f]{8}$" % (msgid, msgid), p)]
            if not body:
                problems.append("%s: 250 before its body's fsync" % msgid)
            if not envs:
                problems.append("%s: 250 before an envelope's fsync" % msgid)
            if msgid not in renamed:
                problems.append("%s: 250 before its rename into queue/" %
                                msgid)
                continue
            at, bucket = renamed[msgid]
            if not any(p.endswith("/" + bucket) for p in synced[at:]):
                problems.append("%s: 250 before the fsync of %s after the "
                                "rename" % (msgid, bucket))
    return accepted, problems


GOOD = """\
10  fsync(5</s/incoming/0a0b0c0d/message>) = 0
10  fsync(6</s/incoming/0a0b0c0d/0a0b0c0d11223344>) = 0
10  renameat(3</s>, "incoming/0a0b0c0d", 3</s>, "queue/0a/0a0b0c0d") = 0
10  fsync(7</s/queue/0a> <unfinished ...>
11  writev(9<socket:[1]>, [{iov_base="250 2.0.0 Ok\\r\\n", iov_len=14}], 1) = 14
10  <... fsync resumed>) = 0
11  writev(9<socket:[1]>, [{iov_base="250 2.0.0 0a0b0c0d Message accepted \
for delivery\\r\\n", iov_len=50}], 1) = 50
"""


GOOD_JOURNAL = """\
10  renameat(3</s>, "incoming/0a0b0c0d", 3</s>, "queue/0a/0a0b0c0d") = 0
10  pwrite64(8</s/journal>, "QJR10a0b0c0d\\2\\0\\0\\0", 400, 512) = 400
10  fdatasync(8</s/journal> <unfinished ...>
11  writev(9<socket:[1]>, [{iov_base="250 2.0.0 Ok\\r\\n", iov_len=14}], 1) = 14
10  <... fdatasync resumed>) = 0
11  writev(9<socket:[1]>, [{iov_base="250 2.0.0 0a0b0c0d Message accepted \
for delivery\\r\\n", iov_len=50}], 1) = 50
"""


class Checker(unittest.TestCase):
    """The trace reader itself, on made-up traces."""

    def test_journal_trace_passes(self):
        self.assertEqual(check_durable(GOOD_JOURNAL), (["0a0b0c0d"], []))

    def test_reply_before_journal_sync_returned(self):
        lines = GOOD_JOURNAL.splitlines()
        bad = "\n".join(lines[:3] + lines[5:] + [lines[4]])
        acc, problems = check_durable(bad)
        self.assertEqual(acc, ["0a0b0c0d"])
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("journal", problems[0])

    def test_journal_sync_before_record_does_not_count(self):
        lines = GOOD_JOURNAL.splitlines()
        # the flush completes, then the record is written, then the 250
        bad = "\n".join([lines[0], lines[2].replace(" <unfinished ...>",
                                                     ") = 0"),
                         lines[1], lines[5]])
        acc, problems = check_durable(bad)
        self.assertEqual(len(problems), 1, (bad, problems))

    def test_journal_record_of_another_message(self):
        bad = GOOD_JOURNAL.replace("QJR10a0b0c0d", "QJR10a0b0c0e")
        acc, problems = check_durable(bad)
        self.assertTrue(problems, problems)

    def test_ordered_trace_passes(self):
        self.assertEqual(check_durable(GOOD), (["0a0b0c0d"], []))

    def test_reply_before_bucket_fsync_returned(self):
        # the fsync of queue/0a resumes only after the reply began
        lines = GOOD.splitlines()
        bad = "\n".join(lines[:4] + lines[6:] + [lines[5]])
        acc, problems = check_durable(bad)
        self.assertEqual(acc, ["0a0b0c0d"])
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("queue/0a", problems[0])

    def test_each_missing_step_is_seen(self):
        lines = GOOD.splitlines()
        for drop, what in ((0, "body"), (1, "envelope"), (2, "rename")):
            acc, problems = check_durable(
                "\n".join(lines[:drop] + lines[drop + 1:]))
            self.assertTrue(any(what in p for p in problems),
                            (what, problems))

    def test_failed_fsync_does_not_count(self):
        bad = GOOD.replace("message>) = 0",
                           "message>) = -1 EIO (Input/output error)")
        self.assertIn("body", check_durable(bad)[1][0])


class Durability(unittest.TestCase):
    """The daemon under strace."""

    def setUp(self):
        self.strace = shutil.which("strace")
        if self.strace is None:
            raise unittest.SkipTest(NOT_RUN + "strace absent (scripts/"
                                    "deps.sh installs it)")
        ensure_accounts()
        self.dir = tempfile.mkdtemp(prefix="smtpd-durable-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.rcpt = pwd.getpwuid(os.geteuid()).pw_name
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\n'
                    'action "local" maildir "%s/mail/%%{user.username}"\n'
                    'match from any for domain "example.org" '
                    'action "local"\n' % (self.port, self.dir))
        self.trace = os.path.join(self.dir, "trace")
        self.logpath = os.path.join(self.dir, "smtpd.log")
        self.proc = None
        self.daemon = None

    def tearDown(self):
        for pid in ([self.daemon] if self.daemon else []) + \
                ([self.proc.pid] if self.proc else []):
            if pid > 1 and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
            self.log_fd.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def strace_args(self):
        return ["-y", "-s", "256", "-e", "trace=" + SYSCALLS]

    def start(self):
        smtpd = os.path.join(build_for(None), "smtpd")
        self.log_fd = open(self.logpath, "ab")
        self.proc = subprocess.Popen(
            [self.strace, "-f", "-qq"] + self.strace_args() +
            ["-o", self.trace, smtpd, "-d", "-v", "-r", self.dir, "-f",
             os.path.join(self.dir, "smtpd.conf"), "-P", "mda"],
            stdin=subprocess.DEVNULL, stdout=self.log_fd,
            stderr=self.log_fd, env=daemon_env(is_root()),
            start_new_session=True)
        ok = wait_for(lambda: "parent ready" in self.log() or
                      self.proc.poll() is not None, TIMEOUT)
        if not ok or self.proc.poll() is not None:
            if "ptrace" in self.log() or "PTRACE" in self.log():
                raise unittest.SkipTest(NOT_RUN + "strace cannot trace "
                                        "here: " + self.log()[-300:])
            self.fail("smtpd did not start under strace:\n" + self.log())
        kids = proc_children(self.proc.pid)
        self.assertEqual(len(kids), 1, kids)
        self.daemon = kids[0]

    def stop(self):
        os.kill(self.daemon, signal.SIGTERM)
        # strace exits once every traced process has
        self.proc.wait(timeout=TIMEOUT)
        self.daemon = None
        log = self.log()
        self.assertIn("parent stopped status=0", log, log[-3000:])
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, log)

    def pipelined(self, n):
        """N transactions written at once after EHLO; the replies."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO client.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        msg = b""
        for i in range(n):
            msg += (b"MAIL FROM:<a@client.example>\r\nRCPT TO:<%s@example"
                    b".org>\r\nDATA\r\n" % self.rcpt.encode())
            msg += b"Subject: p%d\r\n\r\nbody\r\n.\r\n" % i
        s.sendall(msg + b"QUIT\r\n")
        replies = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = f.readline()
            if not line:
                break
            replies.append(line.decode(errors="replace").strip())
        s.close()
        return replies

    def test_no_250_before_fsync(self):
        self.start()
        rcpt = "%s@example.org" % self.rcpt
        sent = 0
        for i in range(2):      # one message per connection
            with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
                c.sendmail("a@client.example", [rcpt],
                           "Subject: one %d\r\n\r\nhello\r\n" % i)
                sent += 1
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            for i in range(3):  # several on one connection
                c.sendmail("a@client.example", [rcpt],
                           "Subject: many %d\r\n\r\nhello\r\n" % i)
                sent += 1
        replies = self.pipelined(3)
        sent += 3
        self.assertEqual(sum(1 for r in replies if ACCEPTED.search(r)), 3,
                         replies)
        self.stop()
        with open(self.trace, errors="replace") as f:
            text = f.read()
        accepted, problems = check_durable(text)
        self.assertEqual(len(accepted), sent, "acknowledgements seen in "
                         "the trace: %s" % accepted)
        self.assertEqual(problems, [])


JSYNC = re.compile(r"^(\d+)\s+f(?:data)?sync\(\d+<[^>]*/journal>")
EVPWRITE = re.compile(r"^(\d+)\s+write\(\d+<[^>]*/incoming/[0-9a-f]{8}/"
                      r"[0-9a-f]{16}>")


class CommitThread(Durability):
    """With every fsync slowed by strace (0.4 s each): a commit in
    flight holds no SMTP session but its own (a second client's MAIL is
    answered before the first client's 250, from a message made ahead);
    a lone commit (no other transaction open) is flushed by the queue's
    loop itself, unless the last lone one was slow, one while another
    transaction is open by the commit thread, the loop storing that
    transaction's recipients meanwhile; a
    message whose client goes away while its commit runs is still
    queued, once."""

    DELAY_US = 400000

    def strace_args(self):
        return ["-y", "-e", "trace=fsync,fdatasync", "-e",
                "inject=fsync,fdatasync:delay_exit=%d" % self.DELAY_US]

    def session(self):
        """A connection past EHLO: (socket, reader)."""
        s = socket.create_connection(("127.0.0.1", self.port),
                                     timeout=TIMEOUT)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO client.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        return s, f

    def to_end_of_data(self, s, f, subject):
        for cmd in (b"MAIL FROM:<a@client.example>",
                    b"RCPT TO:<%s@example.org>" % self.rcpt.encode(),
                    b"DATA"):
            s.sendall(cmd + b"\r\n")
            self.assertIn(f.readline()[:3], (b"250", b"354"), cmd)
        s.sendall(b"Subject: %s\r\n\r\nbody\r\n.\r\n" % subject)

    def traced(self, what):
        with open(self.trace, errors="replace") as f:
            return what in f.read()

    def committing(self):
        return self.traced("/journal>") or self.traced("/message>")

    def journal_syncs(self):
        """The flushes of the journal begun so far: (line, tid)."""
        with open(self.trace, errors="replace") as f:
            return [(i, int(m.group(1))) for i, line in enumerate(f)
                    for m in [JSYNC.match(line)] if m]

    def flush_after(self, before):
        """The first journal flush begun after the BEFORE first ones,
        waited for: (line, tid)."""
        self.assertTrue(wait_for(lambda: len(self.journal_syncs()) >
                                 before, 10))
        return self.journal_syncs()[before]

    def queue_pid(self):
        m = re.search(r"queue\[(\d+)\]", self.log())
        self.assertIsNotNone(m, self.log()[-2000:])
        return int(m.group(1))

    def queued(self):
        return sorted(m for b in os.listdir(os.path.join(self.dir, "spool",
                                                         "queue"))
                      for m in os.listdir(os.path.join(self.dir, "spool",
                                                       "queue", b)))

    def test_loop_serves_while_a_commit_runs(self):
        self.start()
        a, fa = self.session()
        b, fb = self.session()
        before = len(self.journal_syncs())
        self.to_end_of_data(a, fa, b"first")
        # the commit is in its slowed flush of the journal; alone (b
        # has no transaction): flushed by the queue's loop
        self.assertEqual(self.flush_after(before)[1], self.queue_pid())
        b.sendall(b"MAIL FROM:<b@client.example>\r\n")
        first = []

        def reader():
            first.append((fa.readline(), time.monotonic()))
        t = threading.Thread(target=reader)
        t.start()
        reply_b = fb.readline()
        at_b = time.monotonic()
        t.join(TIMEOUT)
        self.assertTrue(reply_b.startswith(b"250"), reply_b)
        self.assertTrue(first and first[0][0].startswith(b"250"), first)
        # the commit has at least one more slowed round to go when MAIL
        # is answered: a loop held by it answers both at once
        self.assertLess(at_b, first[0][1] - self.DELAY_US / 2e6,
                        "MAIL was answered only with the commit in flight")
        for s in (a, b):
            s.close()
        self.stop()

    def test_slow_lone_commit_sends_the_next_to_the_thread(self):
        # a lone commit that held the loop past QUEUE_LOOP_COMMIT_MAX_MS
        # (20 ms; each flush here takes 0.4 s): the next lone commit is
        # flushed by the commit thread, the loop left free
        self.start()
        a, fa = self.session()
        before = len(self.journal_syncs())
        self.to_end_of_data(a, fa, b"first")
        self.assertTrue(fa.readline().startswith(b"250"))
        self.assertEqual(self.flush_after(before)[1], self.queue_pid())
        self.assertTrue(wait_for(lambda: "lone commits on the commit "
                                 "thread: the last took" in self.log(), 10),
                        self.log()[-2000:])
        before = len(self.journal_syncs())
        self.to_end_of_data(a, fa, b"second")
        self.assertTrue(fa.readline().startswith(b"250"))
        self.assertNotEqual(self.flush_after(before)[1], self.queue_pid())
        a.close()
        self.assertEqual(len(self.queued()), 2, self.queued())
        self.stop()

    def test_thread_commits_while_a_transaction_is_open(self):
        self.strace_args = lambda: [
            "-y", "-e", "trace=fsync,fdatasync,write", "-e",
            "inject=fsync,fdatasync:delay_exit=%d" % self.DELAY_US]
        self.start()
        a, fa = self.session()
        b, fb = self.session()
        rcpt = b"RCPT TO:<%s@example.org>" % self.rcpt.encode()
        for cmd in (b"MAIL FROM:<b@client.example>", rcpt):
            b.sendall(cmd + b"\r\n")
            self.assertTrue(fb.readline().startswith(b"250"), cmd)
        before = len(self.journal_syncs())
        self.to_end_of_data(a, fa, b"first")
        # strace writes the flush's line, then holds the thread 0.4 s
        line, tid = self.flush_after(before)
        # b's transaction is open: a's commit is on the thread
        self.assertNotEqual(tid, self.queue_pid())
        # meanwhile the loop stores b's next recipient
        b.sendall(rcpt + b"\r\n")
        self.assertTrue(fb.readline().startswith(b"250"))
        self.assertTrue(fa.readline().startswith(b"250"))
        with open(self.trace, errors="replace") as f:
            text = f.read().splitlines()
        rest = text[line + 1:]
        # the thread's next call: its word to the loop that it is done
        mine = re.compile(r"^%d\s+write\(" % tid)     # pids are padded
        end = next((i for i, t in enumerate(rest) if mine.match(t)), None)
        self.assertIsNotNone(end, "\n".join(text[line:])[-3000:])
        self.assertTrue(any((m := EVPWRITE.match(t)) and
                            int(m.group(1)) == self.queue_pid()
                            for t in rest[:end]),
                        "no envelope stored during the thread's flush:\n" +
                        "\n".join(text[line:line + end + 2])[-3000:])
        for s in (a, b):
            s.close()
        self.stop()

    def test_client_gone_during_commit(self):
        # the end of data was read: the message is the server's, queued
        # once even though its client left before the 250 (as any MTA)
        self.start()
        a, fa = self.session()
        self.to_end_of_data(a, fa, b"gone")
        self.assertTrue(wait_for(self.committing, 10))
        a.close()
        self.assertTrue(wait_for(lambda: "queue commit msgid" in
                                 self.log(), TIMEOUT), self.log()[-3000:])
        self.assertEqual(len(self.queued()), 1, self.queued())
        # the daemon goes on: the next message is queued too
        with smtplib.SMTP("127.0.0.1", self.port, timeout=TIMEOUT) as c:
            c.sendmail("a@client.example", ["%s@example.org" % self.rcpt],
                       "Subject: after\r\n\r\nhello\r\n")
        self.assertEqual(len(self.queued()), 2, self.queued())
        self.stop()

    def test_no_250_before_fsync(self):
        pass    # the parent class's check, not repeated slowed


if __name__ == "__main__":
    unittest.main()
