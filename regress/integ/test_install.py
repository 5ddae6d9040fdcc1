"""`make install` puts the programs and manual pages under PREFIX in
DESTDIR, and the installed smtpd runs (OPS-06)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from smtpdtest import BUILD, ROOT


class TestInstall(unittest.TestCase):

    def test_install_destdir(self):
        dest = tempfile.mkdtemp(prefix="smtpd-install-")
        try:
            san = ["SAN=1"] if "san" in os.path.basename(BUILD) else []
            r = subprocess.run(["make", "-s", "install", "DESTDIR=" + dest,
                                "PREFIX=/usr", "O=" + BUILD] + san, cwd=ROOT,
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
            for f in ("usr/sbin/smtpd", "usr/sbin/smtpctl",
                      "usr/share/man/man8/smtpd.8",
                      "usr/share/man/man8/smtpctl.8",
                      "usr/share/man/man8/makemap.8",
                      "usr/share/man/man5/smtpd.conf.5",
                      "usr/share/man/man5/table-sqlite.5",
                      "usr/libexec/smtpd/table-sqlite",
                      "usr/libexec/smtpd/table-passwd"):
                self.assertTrue(os.path.isfile(os.path.join(dest, f)), f)
            self.assertTrue(os.access(os.path.join(dest, "usr/sbin/smtpd"),
                                      os.X_OK))
            self.assertEqual(os.readlink(os.path.join(
                dest, "usr/sbin/makemap")), "smtpctl")
            r = subprocess.run([os.path.join(dest, "usr/sbin/makemap")],
                               capture_output=True, text=True, timeout=30)
            self.assertIn("usage: makemap", r.stderr)
            r = subprocess.run([os.path.join(dest, "usr/sbin/smtpd"), "-h"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0)
            self.assertRegex(r.stdout, r"^smtpd \S+\n$")
            self.assertIn("usage: smtpd", r.stderr)
        finally:
            shutil.rmtree(dest, ignore_errors=True)
