"""The parser's error paths under LeakSanitizer (issue 7, bad input).

A refused configuration must free everything it allocated: a NUL byte or
an over-long line in the main file leaked the whole file before.  This
module exists only for a sanitizer build (`make SAN=1`, then
`regress/run.py --build obj-san`): it runs `smtpd -n` on every bad file
of regress/config/bad and on hostile files made here (NUL byte, long
line, FIFO, macro bomb, table names), and the conf unit tests, all with
detect_leaks=1 forced, and wants the expected verdict with no sanitizer
report.  These runs are unprivileged in effect (-n never drops
privileges or chroots), so LeakSanitizer works as root too.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from smtpdtest import (BUILD, ROOT, SANITIZER_MARKS, SMTPD,  # noqa: E402
                       sanitizer_build)


def leak_env():
    e = dict(os.environ)
    e["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    return e


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=120, env=leak_env())


class TestConfLeaks(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_conf_leaks.")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assertClean(self, p, what):
        out = p.stdout + p.stderr
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, out, "%s:\n%s" % (what, out[-3000:]))

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_bad_corpus_files(self):
        files = sorted(glob.glob(os.path.join(ROOT, "regress", "config",
                                              "bad", "*.conf")))
        self.assertTrue(files)
        for path in files:
            with self.subTest(name=os.path.basename(path)):
                p = run([SMTPD, "-n", "-f", path], self.dir)
                self.assertEqual(p.returncode, 1, p.stderr[-2000:])
                self.assertClean(p, path)

    def test_hostile_files(self):
        rule = b'action "l" mbox\nmatch for local action "l"\n'
        bomb = b'm0 = "a"\n' + b"".join(
            b'm%d = "$m%d $m%d"\n' % (i, i - 1, i - 1) for i in range(1, 31))
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        nul = self.write("nul.conf", b"listen on lo\0\n" + rule)
        cases = [
            ("nul.conf", b"", "nul.conf:1: NUL byte in configuration"),
            ("long.conf", b"a" * 20000 + b"\n" + rule,
             "long.conf:1: line longer than 16384 bytes"),
            ("incnul.conf", b'include "%s"\n' % nul.encode() + rule,
             "%s:1: NUL byte in configuration" % nul),
            ("incfifo.conf", b'include "%s"\n' % fifo.encode() + rule,
             "incfifo.conf:1: %s: not a regular file" % fifo),
            ("bomb.conf", bomb + b"table t { $m30 }\n" + rule,
             "bomb.conf:32: macros expand to more than 1048576 bytes"),
            ("noname.conf", b'table "" { a }\n' + rule,
             "noname.conf:1: table name is empty"),
            ("longname.conf", b'table "%s" { a }\n' % (b"x" * 8000) + rule,
             "longname.conf:1: table name longer than 255 bytes"),
        ]
        for name, data, want in cases:
            with self.subTest(name=name):
                if data:
                    self.write(name, data)
                p = run([SMTPD, "-n", "-f", name], self.dir)
                self.assertEqual(p.returncode, 1, p.stderr[-2000:])
                self.assertTrue(p.stderr.startswith(want), p.stderr[:500])
                self.assertClean(p, name)
        with self.subTest(name="-f FIFO"):
            p = run([SMTPD, "-n", "-f", fifo], self.dir)
            self.assertEqual(p.returncode, 1, p.stderr[-2000:])
            self.assertTrue(p.stderr.startswith(
                "%s: not a regular file" % fifo), p.stderr[:500])
            self.assertClean(p, "-f FIFO")

    def test_conf_unit_tests(self):
        for name in ("conf_parse_test", "conf_corpus_test"):
            with self.subTest(name=name):
                p = run([os.path.join(BUILD, "regress", "unit", name)], ROOT)
                self.assertEqual(p.returncode, 0, p.stdout[-3000:] +
                                 p.stderr[-3000:])
                self.assertIn(" 0 failed", p.stdout)
                self.assertClean(p, name)


def load_tests(loader, standard_tests, pattern):
    """Only a sanitizer build can see leaks: elsewhere this module holds
    no test (it is neither passed nor skipped)."""
    if sanitizer_build():
        return standard_tests
    sys.stderr.write("test_conf_leaks: %s is not a sanitizer build; the "
                     "leak checks run with make SAN=1 and --build "
                     "obj-san\n" % BUILD)
    return unittest.TestSuite()


if __name__ == "__main__":
    unittest.main()
