"""regress/integ/test_spool.py -- who makes the spool (issue 7.5).

The parent makes only the spool root, owned by the queue user; the
queue process opens its backend at start and the backend (queue_fs)
makes its own layout below the root, 0700, as the queue user.  A stray
mode is set right, and a layout entry that is not a directory stops the
daemon at start-up with a line naming it.  Each daemon lives in a
temporary directory and is stopped by PID (regress/lib/smtpdtest.py).
"""
import os
import pwd
import stat
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from smtpdtest import QUSER, Smtpd, is_root, wait_for  # noqa: E402

LAYOUT = ("queue", "incoming", "temporary", "purge", "corrupt")


class SpoolLayout(unittest.TestCase):
    def owner(self):
        """The uid every spool directory must have."""
        return pwd.getpwnam(QUSER).pw_uid if is_root() else os.geteuid()

    def test_backend_makes_its_layout(self):
        with Smtpd() as d:
            spool = os.path.join(d.dir, "spool")
            d.start()
            st = os.stat(spool)
            self.assertEqual(st.st_uid, self.owner())
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o711)
            for name in LAYOUT:
                st = os.stat(os.path.join(spool, name))
                self.assertTrue(stat.S_ISDIR(st.st_mode), name)
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, name)
                self.assertEqual(st.st_uid, self.owner(), name)

    def test_mode_set_right(self):
        with Smtpd() as d:
            spool = os.path.join(d.dir, "spool")
            os.makedirs(os.path.join(spool, "queue"))
            os.chmod(os.path.join(spool, "queue"), 0o755)
            if is_root():
                uid = self.owner()
                os.chown(spool, uid, -1)
                os.chown(os.path.join(spool, "queue"), uid, -1)
            d.start()
            st = os.stat(os.path.join(spool, "queue"))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)

    def test_not_a_directory(self):
        with Smtpd() as d:
            spool = os.path.join(d.dir, "spool")
            os.makedirs(spool)
            with open(os.path.join(spool, "incoming"), "w") as f:
                f.write("not a directory\n")
            d.start(wait=False)
            self.assertTrue(wait_for(lambda: d.proc.poll() is not None, 15),
                            d.log())
            self.assertNotEqual(d.proc.returncode, 0)
            self.assertIn("incoming", d.log())
            self.assertIn("unusable", d.log())


if __name__ == "__main__":
    unittest.main()
