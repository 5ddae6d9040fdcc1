"""A first run as a new user tries it (issue 7.6): `smtpd -h` and
`smtpctl -h` print the version, which is written in one place
(SMTPD_VERSION in smtpd/common/smtpd.h) and is the one the daemon logs
(OPS-01)."""
import os
import re
import subprocess
import unittest

from smtpdtest import BUILD, ROOT, Smtpd


def source_version():
    """SMTPD_VERSION as smtpd.h defines it: the one place it is written."""
    with open(os.path.join(ROOT, "smtpd", "common", "smtpd.h")) as f:
        m = re.search(r'^#define\s+SMTPD_VERSION\s+"([^"]+)"', f.read(),
                      re.M)
    if m is None:
        raise AssertionError("no SMTPD_VERSION in smtpd.h")
    return m.group(1)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          **kw)


class TestVersion(unittest.TestCase):

    def test_smtpd_h(self):
        r = run([os.path.join(BUILD, "smtpd"), "-h"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "smtpd %s\n" % source_version())
        self.assertTrue(r.stderr.startswith("usage: smtpd [-dFhnv]"),
                        r.stderr)

    def test_smtpctl_h(self):
        r = run([os.path.join(BUILD, "smtpctl"), "-h"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "smtpctl %s\n" % source_version())
        self.assertTrue(r.stderr.startswith("usage: smtpctl [-hv]"),
                        r.stderr)
        # a bad option is still an error, with the same synopsis
        r = run([os.path.join(BUILD, "smtpctl"), "-Z"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn("usage: smtpctl [-hv]", r.stderr)

    def test_daemon_logs_the_same_version(self):
        with Smtpd() as d:
            d.start()
            self.assertIn("version=%s" % source_version(), d.log())
            self.assertEqual(d.stop(), 0)
