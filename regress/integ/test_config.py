"""test_config.py -- `smtpd -n -f FILE` on the project corpus.

regress/config/ok/*.conf must print "configuration OK" and exit 0, and
with -v print exactly NAME.dump; regress/config/bad/*.conf must exit
non-zero with NAME.err as the first line of stderr.  Files are checked
from their own directory so messages carry the bare file name.
"""
import glob
import os
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("SMTPD_BUILD", os.path.join(ROOT, "obj"))


def checker():
    return [os.path.join(BUILD, "smtpd")]


def run(args, cwd):
    return subprocess.run(checker() + args, cwd=cwd, capture_output=True,
                          text=True, errors="replace", timeout=30)


class ConfigCorpus(unittest.TestCase):
    def test_ok_files(self):
        d = os.path.join(ROOT, "regress", "config", "ok")
        files = sorted(glob.glob(os.path.join(d, "*.conf")))
        self.assertTrue(files)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(name=name):
                p = run(["-n", "-f", name], d)
                self.assertEqual(p.returncode, 0, p.stderr)
                # as OpenSMTPD 6.8 does: the verdict on stderr
                self.assertIn("configuration OK", p.stderr)
                dump = path[:-5] + ".dump"
                if os.path.exists(dump):
                    p = run(["-n", "-v", "-f", name], d)
                    got = p.stdout
                    with open(dump) as f:
                        self.assertEqual(got, f.read())

    def test_bad_files(self):
        d = os.path.join(ROOT, "regress", "config", "bad")
        files = sorted(glob.glob(os.path.join(d, "*.conf")))
        self.assertTrue(files)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(name=name):
                p = run(["-n", "-f", name], d)
                self.assertNotEqual(p.returncode, 0)
                with open(path[:-5] + ".err") as f:
                    want = f.readline().rstrip("\n")
                first = (p.stderr.splitlines() or [""])[0]
                self.assertEqual(first, want)

    def test_unused_macro_warning(self):
        """-v reports a macro that is never expanded (CONF-03), as a
        warning: the verdict stays OK; without -v nothing is said."""
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.conf")
            with open(path, "w") as f:
                f.write('spare = "x"\naction "l" mbox\n'
                        'match for local action "l"\n')
            p = run(["-n", "-v", "-f", "m.conf"], d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("m.conf:1: warning: macro 'spare' not used",
                          p.stderr)
            self.assertIn("configuration OK", p.stderr)
            p = run(["-n", "-f", "m.conf"], d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("not used", p.stderr)


if __name__ == "__main__":
    unittest.main()
