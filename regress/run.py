#!/usr/bin/env python3
"""regress/run.py -- run every test of the project and count them.

Unit tests are the C programs built from regress/unit/*_test.c: each
prints "ok N - ..." / "not ok N - ..." lines (regress/lib/test.h).
Integration tests are Python unittest modules regress/integ/test_*.py
(and regress/*/test_*.py), which start real daemons through
regress/lib/smtpdtest.py.  The last line printed is "N passed, N failed",
followed by ", N skipped" and ", N not run" when there are any; the exit
status is non-zero when anything failed.

Two kinds of tests may not run, and neither counts as passed or failed:
  - skipped: a test that needs root (another account, a namespace, a
    privilege drop), run by an ordinary user.  As root a skip is a
    failure, so CI never skips silently.
  - not run: a test whose input is optional and absent from this clone
    (the shared corpus beside the project, ../shared): a unit test prints
    "# not run: why", an integration test raises
    unittest.SkipTest("not run: why") (smtpdtest.NOT_RUN).  One line per
    reason says what did not run.

Sanitizer reports (a sanitizer build: make SAN=1) of every process the
run starts -- unit tests, daemons and their children, smtpctl, helpers,
whether or not a test reads their output -- are written to one
directory (ASAN_OPTIONS / UBSAN_OPTIONS log_path) that every account may
write; each report is printed with the test during which it appeared
and counts as a failure.  LeakSanitizer cannot inspect a process that
chrooted and dropped privileges, so daemons started by root run without
leak checks (smtpdtest.daemon_env); run the suite as an ordinary user as
well (.ci/run does) for leak checks of every process.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_TIMEOUT = 300
NOT_RUN = "not run: "
SANITIZER_ERRORS = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|"
                              r"runtime error:")


class SanitizerReports:
    """The sanitizers' log directory of this run, and what appeared in it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="smtpd-sanitizer-")
        # processes dropped to _smtpd, _smtpq or nobody write here too
        os.chmod(self.dir, 0o1777)
        self.seen = set()
        self.errors = 0
        # report.PROGRAM.PID
        log = "log_path=%s:log_exe_name=1" % os.path.join(self.dir, "report")
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            os.environ[var] = ":".join(filter(None, [os.environ.get(var),
                                                     log]))

    def collect(self, where):
        """Print the reports that appeared since the last call, naming
        WHERE; return how many of them are errors."""
        found = 0
        for name in sorted(os.listdir(self.dir)):
            if name in self.seen:
                continue
            self.seen.add(name)
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            error = bool(SANITIZER_ERRORS.search(text))
            found += error
            lines = text.strip().splitlines()
            print("%s  sanitizer %s (%s) during %s" % (
                "FAIL" if error else "note", "report" if error else "output",
                name, where))
            for line in lines[:60]:
                print("      | " + line)
            if len(lines) > 60:
                print("      | ... %d more lines" % (len(lines) - 60))
            sys.stdout.flush()
        self.errors += found
        return found

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run_unit(build, pattern, notrun, san):
    passed = failed = 0
    udir = os.path.join(build, "regress", "unit")
    if not os.path.isdir(udir):
        return 0, 0
    for name in sorted(os.listdir(udir)):
        path = os.path.join(udir, name)
        if not name.endswith("_test") or not os.access(path, os.X_OK):
            continue
        if pattern and not re.search(pattern, name):
            continue
        t0 = time.monotonic()
        try:
            p = subprocess.run([path], cwd=ROOT, capture_output=True,
                               text=True, errors="replace",
                               timeout=UNIT_TIMEOUT)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(
                e.stdout, bytes) else (e.stdout or "")
            out += "\nTIMEOUT after %ds" % UNIT_TIMEOUT
            rc = -1
        ok = len(re.findall(r"^ok \d+", out, re.M))
        bad = re.findall(r"^not ok \d+.*$", out, re.M)
        if rc != 0 and not bad:
            bad = ["%s exited with status %d" % (name, rc)]
        passed += ok
        failed += len(bad)
        for why in re.findall(r"^# not run: (.*)$", out, re.M):
            notrun.setdefault(why.strip(), []).append(name)
        san.collect(name)
        status = "FAIL" if bad else "ok"
        print("unit  %-32s %4d passed %3d failed  %5.1fs  %s" % (
            name, ok, len(bad), time.monotonic() - t0, status))
        if bad:
            for line in bad:
                print("      " + line)
            tail = out.strip().splitlines()[-15:]
            for line in tail:
                print("      | " + line)
        sys.stdout.flush()
    return passed, failed


class CountingResult(unittest.TextTestResult):
    san = None

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.npassed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.npassed += 1

    def stopTest(self, test):
        super().stopTest(test)
        if self.san is not None:
            self.san.collect(test.id())


def run_integ(build, pattern, notrun, san):
    os.environ["SMTPD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(ROOT, "regress", "lib"))
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for sub in sorted(os.listdir(os.path.join(ROOT, "regress"))):
        d = os.path.join(ROOT, "regress", sub)
        if not os.path.isdir(d) or sub in ("lib", "unit", "fuzz"):
            continue
        if not any(f.startswith("test_") and f.endswith(".py")
                   for f in os.listdir(d)):
            continue
        found = loader.discover(d, pattern="test_*.py", top_level_dir=d)
        suite.addTests(found)

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t
    tests = [t for t in flatten(suite)
             if not pattern or re.search(pattern, t.id())]
    CountingResult.san = san
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=CountingResult)
    result = runner.run(unittest.TestSuite(tests))
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    # a skipped test is not a pass.  Only tests that need root may skip,
    # and only when not run as root; as root (CI) a skip is a failure.
    # A test whose optional input is absent is "not run", never a failure
    skipped = 0
    for test, reason in result.skipped:
        if reason.startswith(NOT_RUN):
            notrun.setdefault(reason[len(NOT_RUN):].strip(), []).append(
                test.id())
        else:
            skipped += 1
    if os.geteuid() == 0:
        failed += skipped
        skipped = 0
    return result.npassed, failed, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="obj")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integ-only", action="store_true")
    ap.add_argument("-k", dest="pattern", default=None)
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(
        args.build) else args.build
    notrun = {}
    san = SanitizerReports()
    try:
        p1 = f1 = 0
        if not args.integ_only:
            p1, f1 = run_unit(build, args.pattern, notrun, san)
        p2 = f2 = s2 = 0
        if not args.unit_only:
            p2, f2, s2 = run_integ(build, args.pattern, notrun, san)
        # a daemon stopped at the very end may still be writing
        time.sleep(0.5)
        san.collect("the end of the run")
    finally:
        san.remove()
    passed, failed = p1 + p2, f1 + f2 + san.errors
    if san.errors:
        print("(%d sanitizer reports, each counted as a failure)"
              % san.errors)
    for why, where in sorted(notrun.items()):
        print("not run: %s (%s)" % (why, ", ".join(sorted(set(where)))))
    if s2:
        print("(skipped tests need root)")
    summary = "%d passed, %d failed" % (passed, failed)
    if s2:
        summary += ", %d skipped" % s2
    if notrun:
        summary += ", %d not run" % sum(len(w) for w in notrun.values())
    print(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
