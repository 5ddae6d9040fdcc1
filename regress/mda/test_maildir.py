"""mail.maildir (MDA-02, MDA-03, MDA-04): delivery into a maildir as the
current user and, as root, as a test account; tmp/new/cur created 0700;
unique names; -j sends "X-Spam: yes" to .Junk; a killed delivery never
leaves a file in new/; a full file system (a private tmpfs, as root) is
a temporary failure and leaves nothing in new/ nor tmp/; the long-lived
agent (-A) serves one delivery after the other with the same outcomes."""
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mdatest  # noqa: E402
from mdatest import (EX_TEMPFAIL, EX_NOPERM, EX_CANTCREAT,  # noqa: E402
                     Agent, TempDir, one_line, program, run)

MAILDIR = program("mail.maildir")
MSG = b"Return-Path: <a@example.org>\nDelivered-To: bob@example.org\n" \
      b"Subject: hello\n\nbody line\n"
SPAM = b"Return-Path: <a@example.org>\nX-Spam: Yes \nSubject: buy\n\nx\n"


def files(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


class TestMaildir(unittest.TestCase):

    def check_maildir(self, md, uid):
        for sub in ("tmp", "new", "cur"):
            st = os.stat(os.path.join(md, sub))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, sub)
            self.assertEqual(st.st_uid, uid)

    def deliver_as(self, user):
        uid = os.getuid() if user is None else user.pw_uid
        with TempDir(user) as d:
            # default: $HOME/Maildir
            r, _, err = run([MAILDIR], MSG, user=user, env={"HOME": d})
            self.assertEqual(r, 0, err)
            md = os.path.join(d, "Maildir")
            self.check_maildir(md, uid)
            new = files(os.path.join(md, "new"))
            self.assertEqual(len(new), 1)
            self.assertEqual(files(os.path.join(md, "tmp")), [])
            path = os.path.join(md, "new", new[0])
            with open(path, "rb") as f:
                self.assertEqual(f.read(), MSG)
            st = os.stat(path)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)),
                             (uid, 0o600))
            # a path given, with missing parents
            md2 = os.path.join(d, "vmail", "example.org", "bob")
            for _ in range(5):
                r, _, err = run([MAILDIR, md2], MSG, user=user)
                self.assertEqual(r, 0, err)
            names = files(os.path.join(md2, "new"))
            self.assertEqual(len(names), 5)
            for n in names:
                # time.M<usec>P<pid>_<seq>.host, no ':' nor '/'
                self.assertRegex(n, r"^\d+\.M\d{6}P\d+_\d+\.[^/:]+$")

    def test_deliver_current_user(self):
        self.deliver_as(None)

    def test_deliver_as_test_account(self):
        user = mdatest.test_account()
        if user is None:
            self.skipTest("needs root: a delivery as another account")
        self.deliver_as(user)

    def test_unique_name_delivers_once(self):
        """-u NAME: a delivery repeated after a crash finds its first
        copy (in new/, or in cur/ before flags) and writes no second."""
        with TempDir() as d:
            md = os.path.join(d, "Maildir")
            u = "1700000000.E0123456789abcdef"
            for _ in range(3):
                r, _, err = run([MAILDIR, "-u", u, md], MSG)
                self.assertEqual(r, 0, err)
            names = files(os.path.join(md, "new"))
            self.assertEqual(len(names), 1)
            self.assertTrue(names[0].startswith(u + "."), names)
            self.assertEqual(files(os.path.join(md, "tmp")), [])
            # a reader moved it to cur/ without flags: still there
            os.rename(os.path.join(md, "new", names[0]),
                      os.path.join(md, "cur", names[0] + ":2,"))
            self.assertEqual(run([MAILDIR, "-u", u, md], MSG)[0], 0)
            self.assertEqual(files(os.path.join(md, "new")), [])
            # a half-written tmp/ file of a killed attempt is rewritten
            u2 = "1700000001.E00000000000000aa"
            host = names[0][len(u) + 1:]
            with open(os.path.join(md, "tmp", u2 + "." + host), "wb") as f:
                f.write(b"partial")
            self.assertEqual(run([MAILDIR, "-u", u2, md], MSG)[0], 0)
            with open(os.path.join(md, "new", u2 + "." + host), "rb") as f:
                self.assertEqual(f.read(), MSG)
            self.assertEqual(files(os.path.join(md, "tmp")), [])
            # names that could leave the directory are refused
            for bad in ("../x", "a/b", ".hidden", "", "x" * 129, "a b"):
                self.assertEqual(run([MAILDIR, "-u", bad, md], MSG)[0], 64,
                                 bad)

    def test_truncated_input_is_not_delivered(self):
        """SMTPD_MESSAGE_SIZE: the daemon says how many bytes come; an
        input that ends early (the daemon's writer died) or runs over is
        a temporary failure that leaves nothing, not a truncated copy a
        retry would then find under its -u name."""
        with TempDir() as d:
            md = os.path.join(d, "Maildir")
            u = "1700000002.E00000000000000bb"
            for size in (len(MSG) + 1, len(MSG) - 1):
                r, _, err = run([MAILDIR, "-u", u, md], MSG,
                                env={"SMTPD_MESSAGE_SIZE": str(size)})
                self.assertEqual(r, EX_TEMPFAIL, err)
                self.assertEqual(files(os.path.join(md, "new")), [])
                self.assertEqual(files(os.path.join(md, "tmp")), [])
            r, _, err = run([MAILDIR, "-u", u, md], MSG,
                            env={"SMTPD_MESSAGE_SIZE": str(len(MSG))})
            self.assertEqual(r, 0, err)
            self.assertEqual(len(files(os.path.join(md, "new"))), 1)

    def test_junk(self):
        with TempDir() as d:
            md = os.path.join(d, "Maildir")
            self.assertEqual(run([MAILDIR, "-j", md], SPAM)[0], 0)
            self.assertEqual(len(files(os.path.join(md, ".Junk", "new"))), 1)
            self.assertEqual(files(os.path.join(md, "new")), [])
            self.check_maildir(os.path.join(md, ".Junk"), os.getuid())
            # without -j, or without the header, the inbox
            self.assertEqual(run([MAILDIR, md], SPAM)[0], 0)
            self.assertEqual(run([MAILDIR, "-j", md], MSG)[0], 0)
            no = MSG.replace(b"Subject", b"X-Spam: no\nSubject")
            self.assertEqual(run([MAILDIR, "-j", md], no)[0], 0)
            # in the body it is no header
            body = MSG + b"X-Spam: yes\n"
            self.assertEqual(run([MAILDIR, "-j", md], body)[0], 0)
            self.assertEqual(len(files(os.path.join(md, "new"))), 4)
            self.assertEqual(len(files(os.path.join(md, ".Junk", "new"))), 1)

    def test_killed_delivery_leaves_nothing_in_new(self):
        with TempDir() as d:
            md = os.path.join(d, "md")
            p = subprocess.Popen([MAILDIR, md], stdin=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                p.stdin.write(MSG + b"x" * 200000)
                p.stdin.flush()
                deadline = time.time() + 10
                # wait until the partial file is in tmp/
                while time.time() < deadline and not files(
                        os.path.join(md, "tmp")):
                    time.sleep(0.05)
                self.assertEqual(len(files(os.path.join(md, "tmp"))), 1)
            finally:
                if p.pid > 1:
                    os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
                p.stdin.close()
                p.stderr.close()
            self.assertEqual(files(os.path.join(md, "new")), [])

    def test_refusals(self):
        with TempDir() as d:
            f = os.path.join(d, "file")
            open(f, "w").close()
            r, _, err = run([MAILDIR, os.path.join(f, "md")], MSG)
            self.assertEqual(r, EX_CANTCREAT, err)
            one_line(self, err)
            r, _, err = run([MAILDIR, "-x"], MSG)
            self.assertEqual(r, 64)
            self.assertIn("usage: mail.maildir [-j] [-u name] [path]", err)
            user = mdatest.test_account()
            if user is not None:
                # root's directory the test account may not write
                os.chmod(d, 0o755)
                r, _, err = run([MAILDIR, os.path.join(d, "md")], MSG,
                                user=user)
                self.assertEqual(r, EX_NOPERM, err)
                one_line(self, err)

    def test_full_disk_is_temporary(self):
        if not mdatest.is_root() or not shutil.which("unshare"):
            self.skipTest("needs root: a private tmpfs")
        with TempDir() as d:
            script = ("mount -t tmpfs -o size=64k tmpfs %s && "
                      "%s %s/md; r=$?; "
                      "find %s/md/new %s/md/tmp -type f | wc -l; "
                      "exit $r" % (d, MAILDIR, d, d, d))
            r, out, err = run(["unshare", "-m", "sh", "-c", script],
                              MSG + b"y" * 300000)
            self.assertEqual(r, EX_TEMPFAIL, err)
            self.assertIn("No space left on device", err)
            one_line(self, err)
            self.assertEqual(out.strip(), b"0")


if __name__ == "__main__":
    unittest.main()

class TestAgent(unittest.TestCase):
    """The long-lived agent: one process, one delivery after the other,
    each answered with the exit code and the line a process of its own
    would have given, and nothing left open between them."""

    def test_deliveries_in_one_process(self):
        user = mdatest.test_account()
        uid = os.getuid() if user is None else user.pw_uid
        with TempDir(user) as d:
            a = Agent(self, MAILDIR, user)
            md = os.path.join(d, "md")
            for i in range(5):
                self.assertEqual(a.deliver(["--", md], MSG, len(MSG)),
                                 (0, "delivered"))
            self.check_names(md, 5, a.proc.pid)
            # -u: the same name delivers once; -j: spam to .Junk
            u = "1700000000.E00000000000000cc"
            for _ in range(2):
                self.assertEqual(a.deliver(["-u", u, "--", md], MSG)[0], 0)
            self.assertEqual(a.deliver(["-j", "--", md], SPAM)[0], 0)
            self.assertEqual(len(files(os.path.join(md, "new"))), 6)
            self.assertEqual(len(files(os.path.join(md, ".Junk", "new"))),
                             1)
            st = os.stat(os.path.join(md, "new"))
            self.assertEqual(st.st_uid, uid)
            self.assertEqual(a.stop(), b"")
            self.assertEqual(a.proc.returncode, 0)

    def check_names(self, md, n, pid):
        names = files(os.path.join(md, "new"))
        self.assertEqual(len(names), n)
        for name in names:
            self.assertRegex(name, r"^\d+\.M\d{6}P%d_\d+\.[^/:]+$" % pid)

    def test_failures_answered_and_the_agent_goes_on(self):
        with TempDir() as d:
            a = Agent(self, MAILDIR)
            md = os.path.join(d, "md")
            f = os.path.join(d, "file")
            open(f, "w").close()
            code, line = a.deliver(["--", os.path.join(f, "md")], MSG)
            self.assertEqual(code, EX_CANTCREAT)
            self.assertRegex(line, r"^mail\.maildir: mkdir .*: Not a "
                                   r"directory$")
            # what it holds once serving: its socket on 3, stdin,
            # stdout and stderr; failures must not add to it
            before = a.fds()
            self.assertEqual(before, ["0", "1", "2", "3"])
            self.assertEqual(a.deliver(["-u", "../x", "--", md], MSG),
                             (64, "mail.maildir: bad -u name"))
            self.assertEqual(a.deliver(["-x"], MSG),
                             (64, "mail.maildir: usage: mail.maildir [-j] "
                                  "[-u name] [path]"))
            # an input shorter or longer than announced: temporary,
            # nothing left in new/ or tmp/
            u = "1700000002.E00000000000000dd"
            for size in (len(MSG) + 1, len(MSG) - 1):
                code, line = a.deliver(["-u", u, "--", md], MSG, size)
                self.assertEqual(code, EX_TEMPFAIL, line)
                self.assertEqual(files(os.path.join(md, "new")), [])
                self.assertEqual(files(os.path.join(md, "tmp")), [])
            # malformed requests: refused, the agent still serves
            for raw, fd in ((b"MDA9\0-\0", True), (b"MDA1\0x1\0", True),
                            (b"MDA1\0-", True), (b"MDA1\0-\0", False)):
                code, line = a.deliver([], MSG, raw=raw, fd=fd)
                self.assertEqual((code, line),
                                 (70, "bad request to the delivery agent"),
                                 raw)
            self.assertEqual(a.deliver(["-u", u, "--", md], MSG,
                                       len(MSG)), (0, "delivered"))
            self.assertEqual(a.fds(), before)
            self.assertEqual(a.stop(), b"")
            self.assertEqual(a.proc.returncode, 0)
