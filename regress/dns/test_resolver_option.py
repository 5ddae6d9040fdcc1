"""test_resolver_option.py -- smtpd's -o resolver= and -o resolv-conf=
(smtpd.8): what is refused at once, and a resolv.conf that cannot be read
stopping the daemon at start with the reason, never a silent fallback to
another server.  Every run is bounded in time.
"""
import os
import shutil
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
from smtpdtest import free_port, run_smtpd  # noqa: E402


class ResolverOption(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="smtpd-resolver-")
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "smtpd.conf"), "w") as f:
            f.write('listen on 127.0.0.1 port %d\naction "l" mbox\n'
                    'match from any for local action "l"\n' % free_port())

    def tearDown(self):
        shutil.rmtree(self.dir, True)

    def test_values_checked(self):
        for good in ("127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:53",
                     "127.0.0.1:53,[::1]:5353,192.0.2.1"):
            r = run_smtpd(["-n", "-r", self.dir, "-o", "resolver=" + good])
            self.assertEqual(r.returncode, 0, (good, r.stderr))
        for bad in ("bogus", "127.0.0.1:0", "127.0.0.1:99999",
                    "127.0.0.1:x", "[::1]", "[::1", "127.0.0.1,,",
                    "ns.example.org"):
            r = run_smtpd(["-n", "-r", self.dir, "-o", "resolver=" + bad])
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("expected IP[:port]", r.stderr, bad)
        r = run_smtpd(["-n", "-r", self.dir, "-o", "resolv-conf=rel/path"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("path must be absolute", r.stderr)

    def test_unreadable_resolv_conf_stops_start(self):
        missing = os.path.join(self.dir, "no-such-resolv.conf")
        r = run_smtpd(["-d", "-r", self.dir, "-o", "resolv-conf=" + missing])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("lookup: dns: %s: No such file or directory" % missing,
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
