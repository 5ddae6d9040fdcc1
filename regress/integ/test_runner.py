"""regress/run.py itself (issue 7.6): on a build directory made here, a
unit program that says a part did not run is reported "not run" (neither
passed nor failed), and a sanitizer report from any process of the run
is printed and counted as a failure, even when the program's own output
is never looked at."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from smtpdtest import ROOT

NOT_RUN_PROG = r"""
#include <stdio.h>
int
main(void)
{
	printf("ok 1 - a part that runs\n");
	printf("# not run: the optional corpus is absent\n");
	return 0;
}
"""

# exits 0, but loses a block: only LeakSanitizer sees it, and its report
# goes to the run's sanitizer directory, not to this program's output
LEAK_PROG = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void	*volatile keep;
int
main(void)
{
	keep = malloc(77);
	memset(keep, 1, 77);
	keep = NULL;
	printf("ok 1 - looks fine\n");
	return 0;
}
"""


class TestRunner(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smtpd-runner-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.unit = os.path.join(self.tmp, "regress", "unit")
        os.makedirs(self.unit)

    def cc(self, name, source, flags=()):
        src = os.path.join(self.tmp, name + ".c")
        with open(src, "w") as f:
            f.write(source)
        r = subprocess.run(["cc", "-o", os.path.join(self.unit, name), src]
                           + list(flags), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

    def run_py(self, env_extra=()):
        env = dict(os.environ, **dict(env_extra))
        return subprocess.run([sys.executable,
                               os.path.join(ROOT, "regress", "run.py"),
                               "--build", self.tmp, "--unit-only"],
                              capture_output=True, text=True, timeout=300,
                              env=env)

    def test_not_run_is_neither_passed_nor_failed(self):
        self.cc("part_test", NOT_RUN_PROG)
        r = self.run_py()
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("not run: the optional corpus is absent (part_test)\n",
                      r.stdout)
        self.assertTrue(r.stdout.endswith("1 passed, 0 failed, 1 not run\n"),
                        r.stdout)

    def test_sanitizer_report_is_a_failure(self):
        self.cc("leak_test", LEAK_PROG, ["-fsanitize=address", "-g"])
        # exitcode=0: the report alone must make the run fail
        r = self.run_py({"ASAN_OPTIONS": "detect_leaks=1:exitcode=0"})
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("FAIL  sanitizer report (report.leak_test.", r.stdout)
        self.assertIn("during leak_test", r.stdout)
        self.assertIn("ERROR: LeakSanitizer: detected memory leaks",
                      r.stdout)
        self.assertIn("77 byte(s)", r.stdout)
        self.assertTrue(r.stdout.endswith("1 passed, 1 failed\n"), r.stdout)
