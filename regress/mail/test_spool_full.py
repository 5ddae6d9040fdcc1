"""A full spool (QUEUE-11, issue 8 "bad input": a disk that fills
mid-message): the daemon runs on a small private tmpfs (a mount
namespace of the test's own, as root), and
  - a message bigger than the free space gets 452 at the end of DATA,
    with nothing committed nor left in incoming/;
  - while less than 5 % of the spool is free, MAIL gets 452 4.3.1;
  - once space is back, the log says so within seconds, with no mail
    needed to find out, and mail is accepted again.
The scenario runs in a child (`unshare -m`) so the mount never leaks.
"""
import os
import shutil
import smtplib
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from smtpdtest import Smtpd, free_port, is_root, wait_for  # noqa: E402
from test_mailflow import recipient_user, spool_files  # noqa: E402

TMPFS_SIZE = 4 * 1024 * 1024


def files_under(d):
    return [os.path.join(t, f) for t, _, fs in os.walk(d) for f in fs]


def scenario():
    """In the namespace: prints the run directory, then OK or raises."""
    port = free_port()
    d = Smtpd(args=["-P", "mda"])
    print(d.dir, flush=True)
    spool = os.path.join(d.dir, "spool")
    os.mkdir(spool)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % TMPFS_SIZE,
                    "smtpd-test-spool", spool], check=True, timeout=30)
    with open(os.path.join(d.dir, "smtpd.conf"), "w") as f:
        f.write("listen on 127.0.0.1 port %d\n"
                "action \"l\" maildir \"%s/mail\"\n"
                "match from any for domain \"example.org\" action \"l\"\n"
                % (port, d.dir))
    try:
        d.start()
        rcpt = recipient_user() + "@example.org"
        line = b"y" * 998 + b"\r\n"
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.ehlo("test.example.net")
            c.mail("s@example.net")
            code, msg = c.rcpt(rcpt)
            assert code == 250, (code, msg, d.log())
            code, msg = c.data(b"Subject: big\r\n\r\n" +
                               line * (2 * TMPFS_SIZE // 1000))
            assert code == 452 and b"4.3.1" in msg, (code, msg)
        # nothing committed, nothing left behind once the abort is done
        assert wait_for(lambda: not spool_files(spool), 10), \
            files_under(spool)
        assert not files_under(os.path.join(spool, "queue")), \
            files_under(spool)
        # less than 5 % free: refused at MAIL.  The refused body's blocks
        # come back only once every process has closed it: wait for them
        # before measuring what to fill (else the fill leaves too much)
        assert wait_for(lambda: os.statvfs(spool).f_bavail * 10 >=
                        os.statvfs(spool).f_blocks * 9, 10), \
            os.statvfs(spool)
        st = os.statvfs(spool)
        fill = os.path.join(spool, "fill")
        with open(fill, "wb") as f:
            f.write(b"\0" * ((st.f_bavail - st.f_blocks // 40) *
                             st.f_frsize))
        time.sleep(1.1)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.ehlo("test.example.net")
            code, msg = c.mail("s@example.net")
            assert code == 452 and b"4.3.1" in msg, (code, msg)
        assert "spool-full" in d.log(), d.log()
        os.unlink(fill)
        # the queue notices by itself (it asks again each second while
        # full), before any new mail asks it to make a message
        assert wait_for(lambda: "spool-ok" in d.log(), 10), d.log()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.sendmail("s@example.net", [rcpt], b"Subject: ok\r\n\r\nx\r\n")
        assert d.stop() == 0, d.log()
    finally:
        d.cleanup()
        subprocess.run(["umount", spool], timeout=30)
    print("OK", flush=True)


class SpoolFull(unittest.TestCase):

    def test_full_spool(self):
        if not is_root():
            self.skipTest("needs root: a private tmpfs")
        r = subprocess.run(["unshare", "-m", "--propagation", "private",
                            sys.executable, os.path.abspath(__file__),
                            "--scenario"], capture_output=True, text=True,
                           timeout=180)
        out = r.stdout.splitlines()
        if out:
            shutil.rmtree(out[0], ignore_errors=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(out[-1:], ["OK"], r.stdout + r.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["--scenario"]:
        scenario()
    else:
        unittest.main()
