"""mail.mboxfile (MDA-01, MDA-17): the mbox format (From_ line, mboxrd
escaping, one blank line after each message), appending, the locks
(fcntl and dotlock: a concurrent locker is waited for, a held lock
becomes a temporary failure with the mailbox unchanged, a stale dotlock
is broken), the refusals (symbolic link, hard link, not a file) and, as
root on a private tmpfs, a full disk that leaves the mailbox exactly as
it was; the long-lived agent (-A) appends one delivery after the other
and releases the mailbox and its locks after each; -o (the daemon's
deliveries) does not append a copy the mailbox already ends with (a
delivery repeated after the daemon died before recording it)."""
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mdatest  # noqa: E402
from mdatest import (EX_CANTCREAT, EX_DATAERR, EX_TEMPFAIL,  # noqa: E402
                     Agent, TempDir, one_line, program, run)

MBOX = program("mail.mboxfile")
FROM_RE = rb"^From alice@example\.org (Mon|Tue|Wed|Thu|Fri|Sat|Sun) " \
          rb"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n"


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


class TestMboxfile(unittest.TestCase):

    def test_format_and_escaping(self):
        msg = (b"Return-Path: <alice@example.org>\nSubject: x\n\n"
               b"From the start\n>From one\n>>From two\nFrom\nFromage\n"
               b" From indented\n>>>\n.\nlast without newline")
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            r, _, err = run([MBOX, "-f", "alice@example.org", mb], msg)
            self.assertEqual(r, 0, err)
            data = slurp(mb)
            m = re.match(FROM_RE, data)
            self.assertIsNotNone(m, data[:80])
            self.assertEqual(data[m.end():], (
                b"Return-Path: <alice@example.org>\nSubject: x\n\n"
                b">From the start\n>>From one\n>>>From two\nFrom\n"
                b"Fromage\n From indented\n>>>\n.\n"
                b"last without newline\n\n"))
            self.assertEqual(os.stat(mb).st_mode & 0o777, 0o600)
            # a second message is appended after the blank line
            r, _, err = run([MBOX, "-f", "alice@example.org", mb],
                            b"Subject: 2\n\nsecond\n")
            self.assertEqual(r, 0, err)
            data2 = slurp(mb)
            self.assertTrue(data2.startswith(data))
            self.assertRegex(data2[len(data):], FROM_RE)
            self.assertTrue(data2.endswith(b"second\n\n"))
            # the null sender
            r, _, err = run([MBOX, "-f", "", mb], b"x\n")
            self.assertEqual(r, 0, err)
            self.assertIn(b"\nFrom MAILER-DAEMON ", slurp(mb))
            self.assertFalse(os.path.exists(mb + ".lock"))

    def test_truncated_input_undone(self):
        """SMTPD_MESSAGE_SIZE: an input shorter or longer than announced
        (the daemon died mid-message) is a temporary failure and the
        mailbox is left as it was."""
        msg = b"Subject: t\n\nbody\n"
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            r, _, err = run([MBOX, "-f", "a@example.org", mb], msg)
            self.assertEqual(r, 0, err)
            before = slurp(mb)
            for size in (len(msg) + 5, len(msg) - 1):
                r, _, err = run([MBOX, "-f", "a@example.org", mb], msg,
                                env={"SMTPD_MESSAGE_SIZE": str(size)})
                self.assertEqual(r, EX_TEMPFAIL, err)
                self.assertEqual(slurp(mb), before)
            r, _, err = run([MBOX, "-f", "a@example.org", mb], msg,
                            env={"SMTPD_MESSAGE_SIZE": str(len(msg))})
            self.assertEqual(r, 0, err)
            self.assertGreater(len(slurp(mb)), len(before))

    def test_once_repeat_not_appended(self):
        """-o: the same copy again (a delivery repeated after a crash of
        the daemon) leaves the mailbox as it is and succeeds; another
        message, another sender, or another message in between is
        appended; without -o every delivery appends (MDA-01)."""
        msg = (b"Return-Path: <a@example.org>\nDelivered-To: bob@x\n"
               b"Received: from c by mx id 6b3b029f\n\nFrom body\n")
        other = msg.replace(b"6b3b029f", b"6b3b02a0")
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            for _ in range(2):
                r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb],
                                msg)
                self.assertEqual(r, 0, err)
            once = slurp(mb)
            self.assertEqual(len(re.findall(rb"^From a@example", once,
                                            re.M)), 1)
            self.assertTrue(once.endswith(b">From body\n\n"), once)
            # another message: appended
            r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb], other)
            self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"From a@example.org "), 2)
            # the first again, with another message after it: appended
            r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb], msg)
            self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"From a@example.org "), 3)
            # the same bytes from another sender: appended
            r, _, err = run([MBOX, "-f", "z@example.org", "-o", mb], msg)
            self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"\nFrom z@example.org "), 1)
            # without -o: appended again
            r, _, err = run([MBOX, "-f", "z@example.org", mb], msg)
            self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"\nFrom z@example.org "), 2)
            # the tail of the last message looks like the new copy, but
            # what precedes it is a body line, not a From_ line
            r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb],
                            b"Subject: s\n\nab\nx\n")
            self.assertEqual(r, 0, err)
            n = slurp(mb).count(b"From a@example.org ")
            r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb],
                            b"x\n")
            self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"From a@example.org "), n + 1)
            self.assertFalse(os.path.exists(mb + ".lock"))

    def test_once_big_message(self):
        """-o with a message larger than one comparison chunk (64 KiB):
        a repeat is recognised, one changed byte near the end is not."""
        body = b"".join(b"line %06d From here\n" % i for i in range(8000))
        msg = b"Subject: big\n\n" + body
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            for _ in range(2):
                r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb], msg)
                self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"\nFrom a@example.org ") +
                             slurp(mb).startswith(b"From a@"), 1)
            r, _, err = run([MBOX, "-f", "a@example.org", "-o", mb],
                            msg[:-3] + b"X\n")
            self.assertEqual(r, 0, err)
            self.assertEqual(slurp(mb).count(b"\nFrom a@example.org "), 1)

    def test_as_test_account(self):
        user = mdatest.test_account()
        if user is None:
            self.skipTest("needs root: a delivery as another account")
        with TempDir(user) as d:
            mb = os.path.join(d, "mbox")
            r, _, err = run([MBOX, "-f", "alice@example.org", mb], b"hi\n",
                            user=user)
            self.assertEqual(r, 0, err)
            self.assertEqual(os.stat(mb).st_uid, user.pw_uid)

    def hold_fcntl(self, mb, seconds):
        """A concurrent locker: another process holding the fcntl lock."""
        code = ("import fcntl,sys,time\n"
                "f=open(sys.argv[1],'a')\n"
                "fcntl.lockf(f,fcntl.LOCK_EX)\n"
                "print('locked',flush=True)\n"
                "time.sleep(float(sys.argv[2]))\n")
        p = subprocess.Popen([sys.executable, "-c", code, mb, str(seconds)],
                             stdout=subprocess.PIPE)
        self.assertEqual(p.stdout.readline(), b"locked\n")
        return p

    def stop(self, p):
        if p.poll() is None and p.pid > 1:
            p.kill()
        p.wait(timeout=10)
        p.stdout.close()

    def test_fcntl_lock_waited_for(self):
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            p = self.hold_fcntl(mb, 1.0)
            try:
                t = time.time()
                r, _, err = run([MBOX, "-f", "a@b", mb], b"x\n")
                self.assertEqual(r, 0, err)
                self.assertGreater(time.time() - t, 0.5)
            finally:
                self.stop(p)
            self.assertTrue(slurp(mb).endswith(b"x\n\n"))

    def test_fcntl_lock_held_is_temporary(self):
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            with open(mb, "wb") as f:
                f.write(b"From old\nkept\n\n")
            p = self.hold_fcntl(mb, 20)
            try:
                r, _, err = run([MBOX, "-f", "a@b", mb], b"x\n")
            finally:
                self.stop(p)
            self.assertEqual(r, EX_TEMPFAIL, err)
            one_line(self, err)
            self.assertIn("lock", err)
            self.assertEqual(slurp(mb), b"From old\nkept\n\n")
            self.assertFalse(os.path.exists(mb + ".lock"))

    def test_dotlock(self):
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            lock = mb + ".lock"
            open(lock, "w").close()
            r, _, err = run([MBOX, "-f", "a@b", mb], b"x\n")
            self.assertEqual(r, EX_TEMPFAIL, err)
            self.assertIn("locked", err)
            self.assertTrue(os.path.exists(lock))  # not ours to remove
            # a dotlock removed while we wait
            q = subprocess.Popen([MBOX, "-f", "a@b", mb],
                                 stdin=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                time.sleep(0.6)
                os.unlink(lock)
                _, err = q.communicate(b"y\n", timeout=20)
            finally:
                if q.poll() is None and q.pid > 1:
                    q.kill()
                    q.wait(timeout=10)
            self.assertEqual(q.returncode, 0, err)
            self.assertTrue(slurp(mb).endswith(b"y\n\n"))
            # a stale dotlock (older than 5 minutes) is broken
            open(lock, "w").close()
            old = time.time() - 600
            os.utime(lock, (old, old))
            r, _, err = run([MBOX, "-f", "a@b", mb], b"z\n")
            self.assertEqual(r, 0, err)
            self.assertFalse(os.path.exists(lock))

    def test_refusals(self):
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            open(mb, "w").close()
            os.symlink(mb, os.path.join(d, "sym"))
            os.link(mb, os.path.join(d, "hard"))
            os.mkdir(os.path.join(d, "dir"))
            for name in ("sym", "hard", "dir"):
                with self.subTest(name=name):
                    r, _, err = run([MBOX, "-f", "a@b",
                                     os.path.join(d, name)], b"x\n")
                    self.assertIn(r, (EX_CANTCREAT, 77), err)
                    one_line(self, err)
            self.assertEqual(os.path.getsize(mb), 0)
            r, _, err = run([MBOX, "-f", "a" * 600, mb], b"x\n")
            self.assertEqual(r, EX_DATAERR, err)
            self.assertEqual(os.path.getsize(mb), 0)
            fresh = os.path.join(d, "fresh")
            r, _, err = run([MBOX, "-f", '"a b\tc"@x', fresh], b"x\n")
            self.assertEqual(r, 0, err)
            self.assertTrue(slurp(fresh).startswith(b'From "a_b_c"@x '))
            r, _, err = run([MBOX], b"x\n")
            self.assertEqual(r, 64)
            self.assertIn("usage: mail.mboxfile [-o] [-f sender] file", err)

    def test_full_disk_truncates_back(self):
        if not mdatest.is_root() or not shutil.which("unshare"):
            self.skipTest("needs root: a private tmpfs")
        with TempDir() as d:
            script = ("mount -t tmpfs -o size=64k tmpfs {d} && "
                      "printf 'From a x\\nold\\n\\n' > {d}/mb && "
                      "{p} -f a@b {d}/mb; r=$?; "
                      "od -c {d}/mb | head -3; ls {d}; exit $r"
                      ).format(d=d, p=MBOX)
            r, out, err = run(["unshare", "-m", "sh", "-c", script],
                              b"Subject: big\n\n" + b"z" * 300000)
            self.assertEqual(r, EX_TEMPFAIL, err)
            self.assertIn("No space left on device", err)
            one_line(self, err)
            lines = out.decode().split("\n")
            # the mailbox is its 16 old bytes again, no lock left behind
            self.assertIn("F   r   o   m       a       x  \\n   o   l   d"
                          "  \\n  \\n", lines[0])
            self.assertEqual(lines[1].strip(), "0000016")
            self.assertEqual(lines[2:], ["mb", ""])



class TestMboxAgent(unittest.TestCase):

    def test_deliveries_in_one_process(self):
        msg = b"Subject: x\n\nFrom here\n"
        with TempDir() as d:
            mb = os.path.join(d, "bob")
            a = Agent(self, MBOX)
            for _ in range(3):
                self.assertEqual(a.deliver(["-f", "alice@example.org", mb],
                                           msg, len(msg)), (0, "delivered"))
                # nothing held between deliveries: another locker gets
                # the mailbox at once, and no dotlock is left
                with open(mb, "rb+") as f:
                    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.assertFalse(os.path.exists(mb + ".lock"))
            data = slurp(mb)
            self.assertEqual(len(re.findall(FROM_RE, data, re.M)), 3)
            self.assertEqual(data.count(b"\n>From here\n"), 3)
            # a failure is answered, the agent goes on, nothing leaks
            code, line = a.deliver([d], msg)
            self.assertEqual(code, EX_CANTCREAT, line)
            self.assertRegex(line,
                             r"^mail\.mboxfile: open .*: Is a directory$")
            self.assertEqual(a.deliver(["-f"], msg)[0], 64)
            self.assertEqual(a.fds(), ["0", "1", "2", "3"])
            self.assertEqual(a.deliver(["-f", "alice@example.org", mb],
                                       msg), (0, "delivered"))
            self.assertEqual(len(re.findall(FROM_RE, slurp(mb), re.M)), 4)
            self.assertEqual(a.stop(), b"")
            self.assertEqual(a.proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
